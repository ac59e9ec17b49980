//! `strata config`: the resolved configuration written back as a manifest. Its TOML loads
//! again and resolves to the same configuration (a literal URL's password excepted: it is
//! printed masked). What the manifest did not declare and would change meaning if written
//! out (the implicit `local` target, the default stages) is left out of the TOML and named
//! in a comment; the JSON lists it.

use super::{default_stages, Config, Stage, UrlSource};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shadow<'a> {
            url: &'a UrlSource,
            #[serde(skip_serializing_if = "Option::is_none")]
            jobs: Option<usize>,
        }
        #[derive(Serialize)]
        struct Deploy<'a> {
            command: &'a str,
        }
        #[derive(Serialize)]
        struct Rollout<'a> {
            targets: &'a [String],
        }
        let mut m = s.serialize_struct("Config", 12)?;
        if self.declares_targets {
            m.serialize_field("default_target", &self.default_target)?;
        }
        m.serialize_field("schema", &self.schema)?;
        m.serialize_field("migrations", &self.migrations)?;
        m.serialize_field(
            "shadow",
            &Shadow {
                url: &self.shadow,
                jobs: self.shadow_jobs,
            },
        )?;
        if let Some(command) = &self.deploy_command {
            m.serialize_field("deploy", &Deploy { command })?;
        }
        if self.declares_targets {
            m.serialize_field("targets", &self.targets)?;
        }
        if !are_default_stages(&self.stages) {
            m.serialize_field("stages", &self.stages)?;
        }
        m.serialize_field("git", &self.git)?;
        m.serialize_field("lint", &self.lint)?;
        m.serialize_field("plan", &self.plan)?;
        // Without declared targets the rollout is the implicit target's alone, like the
        // target itself left out.
        if self.declares_targets {
            m.serialize_field(
                "rollout",
                &Rollout {
                    targets: &self.rollout,
                },
            )?;
        }
        m.serialize_field("history", &self.history)?;
        m.end()
    }
}

/// Written out, the default list's `deploy` hook stage without a command would not load
/// again (a declared hook stage needs a command).
fn are_default_stages(stages: &[Stage]) -> bool {
    stages == default_stages().as_slice()
}

impl Config {
    /// The manifest as TOML, every default filled in.
    pub fn to_toml(&self) -> String {
        let mut text = toml::to_string_pretty(self).expect("the resolved manifest serialises");
        if !self.declares_targets {
            text.push_str(
                "\n# targets: none declared. The target is `local`: the server the PG* \
                 variables name when one of PGHOST, PGPORT, PGDATABASE, PGUSER is set, else \
                 the embedded cluster's `dev` database.\n",
            );
        }
        if are_default_stages(&self.stages) {
            text.push_str(
                "\n# stages: none declared, the default list: expand (schema, phase expand), \
                 data (migrations), deploy (hook: [deploy] command), contract (schema, phase \
                 contract).\n",
            );
        }
        text
    }

    /// The manifest as JSON: the keys of [`Config::to_toml`], plus what it leaves out
    /// (the implicit target, the default stages).
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("the resolved manifest serialises");
        if let Some(map) = value.as_object_mut() {
            let mut add = |key: &str, v: serde_json::Value| {
                map.entry(key).or_insert(v);
            };
            add("default_target", self.default_target.clone().into());
            add(
                "targets",
                serde_json::to_value(&self.targets).expect("targets"),
            );
            add(
                "stages",
                serde_json::to_value(&self.stages).expect("stages"),
            );
            add("rollout", serde_json::json!({ "targets": self.rollout }));
        }
        value
    }
}
