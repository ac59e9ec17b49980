//! The manifest exactly as written: serde types that reject unknown keys and keep spans
//! for every value a later check may need to point at.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    #[serde(default)]
    pub schema: RawSchema,
    #[serde(default)]
    pub migrations: RawMigrations,
    #[serde(default)]
    pub shadow: RawShadow,
    #[serde(default)]
    pub deploy: RawDeploy,
    #[serde(default)]
    pub git: RawGit,
    #[serde(default)]
    pub targets: BTreeMap<String, Spanned<RawTarget>>,
    pub default_target: Option<Spanned<String>>,
    pub stages: Option<Vec<Spanned<RawStage>>>,
    #[serde(default)]
    pub lint: RawLint,
    #[serde(default)]
    pub plan: RawPlan,
    #[serde(default)]
    pub rollout: RawRollout,
    #[serde(default)]
    pub history: RawHistory,
}

/// `[rollout]`: the targets one pending.sql runs on, in order (docs/manifest.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollout {
    pub targets: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[history]`: where strata keeps its history tables (docs/privileges.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHistory {
    pub schema: Option<Spanned<String>>,
}

/// `[plan]`: how the planner carries out what the SDL annotates (docs/manifest.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub renames: Option<RenameMode>,
    pub backfill_batch: Option<Spanned<u32>>,
    pub backfill_pause: Option<Spanned<String>>,
}

/// How a column annotated `-- strata:renamed-from` is renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RenameMode {
    /// New column, trigger keeping both in step, backfill; the old column dropped after the
    /// deploy. No downtime.
    #[default]
    ExpandContract,
    /// `ALTER TABLE ... RENAME COLUMN`: instant, but code still deployed breaks until the
    /// new code is deployed.
    Rename,
}

/// `[lint]`: the configured rules of `strata lint` and per-rule levels (docs/lint.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLint {
    pub naming: Option<Naming>,
    #[serde(default)]
    pub require_primary_key: bool,
    #[serde(default)]
    pub require_fk_index: bool,
    #[serde(default)]
    pub banned_types: Vec<Spanned<String>>,
    #[serde(default)]
    pub levels: BTreeMap<Spanned<String>, LintLevel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    SnakeCase,
}

/// How a lint finding counts: an error makes `strata lint` exit 1; `off` silences the rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LintLevel {
    Off,
    Warning,
    Error,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchema {
    pub files: Option<Vec<Spanned<String>>>,
    pub include_schemas: Option<Vec<String>>,
    #[serde(default)]
    pub exclude_schemas: Vec<String>,
    #[serde(default)]
    pub owners: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMigrations {
    pub dir: Option<Spanned<String>>,
    pub ddl: Option<DdlInMigrations>,
    #[serde(default)]
    pub allow_out_of_order: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DdlInMigrations {
    #[default]
    Warn,
    Error,
    Allow,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShadow {
    pub url: Option<Spanned<String>>,
    pub jobs: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeploy {
    pub command: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGit {
    pub remote: Option<String>,
    pub branch_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub url: Option<Spanned<String>>,
    #[serde(default)]
    pub allow_destructive: bool,
    pub lock_timeout: Option<Spanned<String>>,
    pub statement_timeout: Option<Spanned<String>>,
    pub retries: Option<u32>,
    pub on_drift: Option<OnDrift>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnDrift {
    #[default]
    Fail,
    Warn,
    Reconcile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: Spanned<String>,
    pub kind: StageKind,
    pub phase: Option<Spanned<Phase>>,
    pub command: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Schema,
    Migrations,
    Hook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Expand,
    Contract,
    All,
}
