//! `strata config`: the resolved configuration written back as a manifest. Its TOML loads
//! again and resolves to the same configuration (a literal URL's password excepted: it is
//! printed masked). Where `Config` is not shaped like pipeline.toml, the helpers here put it
//! back in shape.

use super::{default_stages, Config, Stage, UrlSource};
use serde::{Serialize, Serializer};

/// `[shadow] url = ...`
pub(super) fn shadow_table<S: Serializer>(url: &UrlSource, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Shadow<'a> {
        url: &'a UrlSource,
    }
    Shadow { url }.serialize(s)
}

/// `[deploy] command = ...`
pub(super) fn deploy_table<S: Serializer>(
    command: &Option<String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Deploy<'a> {
        command: &'a Option<String>,
    }
    Deploy { command }.serialize(s)
}

/// The default stage list is left out of the manifest: written out, its `deploy` hook stage
/// without a command would not load again (a declared hook stage needs a command).
pub(super) fn are_default_stages(stages: &[Stage]) -> bool {
    stages == default_stages().as_slice()
}

impl Config {
    /// The manifest as TOML, every default filled in; the default stages as a comment.
    pub fn to_toml(&self) -> String {
        let mut text = toml::to_string_pretty(self).expect("the resolved manifest serialises");
        if are_default_stages(&self.stages) {
            text.push_str(
                "\n# stages: the default list (no [[stages]] declared): expand (schema, phase \
                 expand), data (migrations), deploy (hook: [deploy] command), contract (schema, \
                 phase contract)\n",
            );
        }
        text
    }

    /// The manifest as JSON: the same keys as [`Config::to_toml`], with the stages always
    /// listed.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("the resolved manifest serialises");
        if let Some(map) = value.as_object_mut() {
            map.entry("stages")
                .or_insert_with(|| serde_json::to_value(&self.stages).expect("stages serialise"));
        }
        value
    }
}
