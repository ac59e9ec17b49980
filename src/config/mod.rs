//! `pipeline.toml`: the raw serde layer (`raw`) and the resolved configuration every command uses.

pub mod banned_type;
pub mod duration;
pub mod groups;
mod print;
pub mod raw;
mod secrets;

pub use duration::{LockTimeout, StatementTimeout};
pub use groups::{Group, GroupDrift, HookPolicy};
pub use raw::{DdlInMigrations, LintLevel, Naming, OnDrift, Phase, RenameMode, StageKind};
pub use secrets::mask_secrets;

use miette::{Diagnostic, NamedSource, SourceSpan};
use raw::{RawManifest, RawStage, RawTarget};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

pub const MANIFEST_FILE: &str = "pipeline.toml";
/// The target name used when the manifest declares none: the embedded cluster.
pub const LOCAL_TARGET: &str = "local";
pub const EMBEDDED: &str = "embedded";

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(strata::config::io))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{message}")]
    #[diagnostic(code(strata::config::invalid))]
    Invalid {
        message: String,
        #[source_code]
        src: NamedSource<String>,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: Option<String>,
    },
    #[error("{} already exists; strata init never overwrites a project", path.display())]
    #[diagnostic(code(strata::config::exists))]
    AlreadyExists { path: PathBuf },
    #[error("unknown target `{name}`; the manifest declares: {known}")]
    #[diagnostic(code(strata::config::unknown_target))]
    UnknownTarget { name: String, known: String },
    #[error("environment variable {var} (named by target `{target}`) is not set")]
    #[diagnostic(
        code(strata::config::env_unset),
        help("export {var}, or pass --database-url URL")
    )]
    EnvUnset { var: String, target: String },
}

/// Where a database URL comes from. Serialised as written (`embedded`, `env:VAR`, or the
/// URL with any password masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    Embedded,
    Literal(String),
    Env(String),
}

impl std::fmt::Display for UrlSource {
    /// As the manifest writes it, a literal URL's password masked.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlSource::Embedded => f.write_str(EMBEDDED),
            UrlSource::Env(var) => write!(f, "env:{var}"),
            UrlSource::Literal(url) => f.write_str(&mask_secrets(url)),
        }
    }
}

impl Serialize for UrlSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl UrlSource {
    pub(crate) fn parse(text: &str) -> Self {
        if text == EMBEDDED {
            UrlSource::Embedded
        } else if let Some(var) = text.strip_prefix("env:") {
            UrlSource::Env(var.to_string())
        } else {
            UrlSource::Literal(text.to_string())
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The key of `[targets.NAME]`, not a key of its own.
    #[serde(skip)]
    pub name: String,
    pub url: UrlSource,
    pub allow_destructive: bool,
    pub lock_timeout: LockTimeout,
    pub statement_timeout: StatementTimeout,
    pub retries: u32,
    pub on_drift: OnDrift,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub name: String,
    pub kind: StageKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaConfig {
    pub files: Vec<String>,
    /// Empty means every non-system schema.
    pub include_schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    pub owners: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationsConfig {
    pub dir: PathBuf,
    pub ddl: DdlInMigrations,
    pub allow_out_of_order: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GitConfig {
    pub remote: String,
    pub branch_prefix: String,
}

/// The resolved manifest: every default filled in, every reference checked. It serialises
/// as a manifest (`strata config`): the keys of pipeline.toml, loadable again (print.rs).
#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    pub default_target: String,
    pub schema: SchemaConfig,
    pub migrations: MigrationsConfig,
    pub shadow: UrlSource,
    /// `[shadow] jobs`: connections a shadow database is loaded over; `None`: one per core
    /// ([`Config::shadow_jobs`]).
    pub shadow_jobs: Option<usize>,
    pub deploy_command: Option<String>,
    pub targets: BTreeMap<String, Target>,
    /// Whether pipeline.toml declares `[targets.*]`; without, `targets` holds the implicit
    /// `local` target (and the `PG*` variables may name the server: app/target.rs).
    pub declares_targets: bool,
    pub stages: Vec<Stage>,
    pub git: GitConfig,
    pub lint: LintConfig,
    pub plan: PlanConfig,
    /// `[rollout] targets`: the targets one pending.sql runs on, in order; the last one's run
    /// removes it. Default: the default target alone.
    pub rollout: Vec<String>,
    pub history: HistoryConfig,
    /// `[groups.NAME]`: fleets (docs/fleet.md).
    pub groups: BTreeMap<String, Group>,
}

/// `[history]`, resolved: the schema of strata's own tables (migration history, runs,
/// snapshots), `strata` unless configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryConfig {
    pub schema: String,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            schema: DEFAULT_HISTORY_SCHEMA.to_string(),
        }
    }
}

/// The history schema unless `[history] schema` names another.
pub const DEFAULT_HISTORY_SCHEMA: &str = "strata";

static HISTORY_SCHEMA: std::sync::RwLock<String> = std::sync::RwLock::new(String::new());

/// Sets the history schema for this process (from `[history] schema`, once the manifest is
/// loaded). The config accepts only plain lower-case identifiers, so the name needs no
/// quoting in SQL text or in a regclass literal. The run's history tables, the catalog's
/// exclusion and the clone's all follow it.
pub fn set_history_schema(name: &str) {
    *HISTORY_SCHEMA.write().unwrap() = name.to_string();
}

/// The history schema in effect.
pub fn history_schema() -> String {
    let name = HISTORY_SCHEMA.read().unwrap();
    if name.is_empty() {
        DEFAULT_HISTORY_SCHEMA.to_string()
    } else {
        name.clone()
    }
}

/// `[plan]`, resolved.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanConfig {
    pub renames: RenameMode,
    /// Written `backfill_batch` and `backfill_pause` in `[plan]`.
    #[serde(flatten)]
    pub backfill: Backfill,
}

/// How a backfill (a rename's or a type change's) paces itself: rows per transaction, and a
/// pause after each commit. Each batch holds the row locks of its rows until it commits, so
/// an application updating one of them waits up to one batch's duration: the batch size
/// bounds that wait, the pause leaves the application (and replicas, and autovacuum) room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Backfill {
    #[serde(rename = "backfill_batch")]
    pub batch: u32,
    #[serde(rename = "backfill_pause", serialize_with = "duration::as_text")]
    pub pause: Duration,
}

impl Default for Backfill {
    /// 1,000 rows (a few milliseconds to tens of milliseconds per batch on a busy server),
    /// then 10 ms of pause.
    fn default() -> Self {
        Backfill {
            batch: 1_000,
            pause: Duration::from_millis(10),
        }
    }
}

/// `[lint]`, resolved: which configured rules run, and level overrides by rule id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LintConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub naming: Option<Naming>,
    pub require_primary_key: bool,
    pub require_fk_index: bool,
    pub banned_types: Vec<String>,
    pub levels: BTreeMap<String, LintLevel>,
}

impl Config {
    /// Connections a shadow database is loaded over: `[shadow] jobs`, else one per core.
    pub fn shadow_jobs(&self) -> usize {
        self.shadow_jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
    }

    /// Reads `pipeline.toml` in `root`; a missing file is the all-defaults manifest.
    /// `lint_rule` names the lint rules `[lint.levels]` may set (`lint::rule_id`).
    pub fn load(root: &Path, lint_rule: LintRuleId) -> Result<Config, ConfigError> {
        let path = root.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        Self::parse_with(root, &text, lint_rule)
    }

    /// The manifest `text`, for a caller that does not lint: `[lint.levels]` keeps any rule
    /// id as written. Commands go through [`Config::load`], which checks the ids.
    pub fn parse(root: &Path, text: &str) -> Result<Config, ConfigError> {
        Config::parse_with(root, text, |id| Some(id.to_string()))
    }

    /// The manifest `text`; a `[lint.levels]` id `lint_rule` does not know is an error.
    pub fn parse_with(
        root: &Path,
        text: &str,
        lint_rule: LintRuleId,
    ) -> Result<Config, ConfigError> {
        let ctx = Ctx {
            root,
            text,
            file: MANIFEST_FILE,
            lint_rule,
        };
        let raw: RawManifest = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            ctx.invalid(
                e.message().to_string(),
                span,
                "here",
                Some("see docs/manifest.md for every key".into()),
            )
        })?;
        resolve(&ctx, raw)
    }

    pub fn target(&self, name: Option<&str>) -> Result<&Target, ConfigError> {
        let name = name.unwrap_or(&self.default_target);
        self.targets
            .get(name)
            .ok_or_else(|| ConfigError::UnknownTarget {
                name: name.to_string(),
                known: self.targets.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    /// Whether a schema (namespace) is managed by strata under this manifest.
    pub fn manages_schema(&self, name: &str) -> bool {
        let included = self.schema.include_schemas.is_empty()
            || self.schema.include_schemas.iter().any(|s| s == name);
        included && !self.schema.exclude_schemas.iter().any(|s| s == name)
    }
}

impl Target {
    /// The database URL, resolved from the environment when written `env:VAR`.
    pub fn resolve_url(&self) -> Result<Option<String>, ConfigError> {
        self.resolve_url_with(|var| std::env::var(var).ok())
    }

    /// [`Target::resolve_url`] with the environment passed in.
    pub fn resolve_url_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        match &self.url {
            UrlSource::Embedded => Ok(None),
            UrlSource::Literal(url) => Ok(Some(url.clone())),
            UrlSource::Env(var) => match env(var) {
                Some(url) if !url.is_empty() => Ok(Some(url)),
                _ => Err(ConfigError::EnvUnset {
                    var: var.clone(),
                    target: self.name.clone(),
                }),
            },
        }
    }
}

struct Ctx<'a> {
    root: &'a Path,
    text: &'a str,
    file: &'a str,
    lint_rule: LintRuleId,
}

/// The canonical id of a lint rule (aliases resolved), `None` for an id that names none.
/// The commands pass `lint::rule_id`: `lint` reads this configuration, so `config` cannot
/// ask it directly.
pub type LintRuleId = fn(&str) -> Option<String>;

impl Ctx<'_> {
    fn invalid(
        &self,
        message: String,
        span: std::ops::Range<usize>,
        label: &str,
        help: Option<String>,
    ) -> ConfigError {
        // The snippet may show a line with a URL: never its password.
        let masked = secrets::mask(self.text);
        let (start, end) = (masked.offset(span.start), masked.offset(span.end));
        ConfigError::Invalid {
            message: mask_secrets(&message),
            src: NamedSource::new(self.file, masked.text),
            span: (start, end.saturating_sub(start)).into(),
            label: mask_secrets(label),
            help: help.map(|h| mask_secrets(&h)),
        }
    }
}

fn resolve(ctx: &Ctx, raw: RawManifest) -> Result<Config, ConfigError> {
    let schema = SchemaConfig {
        files: resolve_schema_files(ctx, raw.schema.files)?,
        include_schemas: raw.schema.include_schemas.unwrap_or_default(),
        exclude_schemas: raw.schema.exclude_schemas,
        owners: raw.schema.owners,
    };
    let migrations = MigrationsConfig {
        dir: resolve_dir(ctx, raw.migrations.dir.as_ref(), "migrations")?,
        ddl: raw.migrations.ddl.unwrap_or_default(),
        allow_out_of_order: raw.migrations.allow_out_of_order,
    };
    let shadow_jobs = resolve_jobs(ctx, raw.shadow.jobs)?;
    let shadow = raw
        .shadow
        .url
        .map(|u| UrlSource::parse(u.get_ref()))
        .unwrap_or(UrlSource::Embedded);
    let declares_targets = !raw.targets.is_empty();
    let targets = resolve_targets(ctx, raw.targets)?;
    let default_target = resolve_default_target(ctx, raw.default_target, &targets)?;
    let rollout = resolve_rollout(ctx, raw.rollout, &targets, &default_target)?;
    let groups = groups::resolve_groups(ctx, raw.groups, &targets)?;
    let stages = match raw.stages {
        Some(stages) => resolve_stages(ctx, stages, raw.deploy.command.is_some())?,
        None => default_stages(),
    };
    Ok(Config {
        root: ctx.root.to_path_buf(),
        schema,
        migrations,
        shadow,
        shadow_jobs,
        deploy_command: raw.deploy.command,
        default_target,
        targets,
        declares_targets,
        stages,
        git: GitConfig {
            remote: raw.git.remote.unwrap_or_else(|| "origin".into()),
            branch_prefix: raw
                .git
                .branch_prefix
                .unwrap_or_else(|| "change-schema-".into()),
        },
        lint: resolve_lint(ctx, raw.lint)?,
        plan: resolve_plan(ctx, raw.plan)?,
        rollout,
        history: resolve_history(ctx, raw.history)?,
        groups,
    })
}

fn resolve_history(ctx: &Ctx, raw: raw::RawHistory) -> Result<HistoryConfig, ConfigError> {
    let Some(schema) = raw.schema else {
        return Ok(HistoryConfig::default());
    };
    let name = schema.get_ref();
    let reserved = name.starts_with("pg_") || name == "information_schema";
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain || name.len() > 63 || reserved {
        return Err(ctx.invalid(
            format!("`{name}` cannot be the history schema"),
            schema.span(),
            "not a usable schema name",
            Some("name a schema in lower case letters, digits and _, at most 63 bytes, not pg_*, e.g. \"strata\"".into()),
        ));
    }
    Ok(HistoryConfig {
        schema: schema.into_inner(),
    })
}

/// `[rollout] targets`: declared targets, each once, at least one.
fn resolve_rollout(
    ctx: &Ctx,
    raw: raw::RawRollout,
    targets: &BTreeMap<String, Target>,
    default_target: &str,
) -> Result<Vec<String>, ConfigError> {
    let Some(list) = raw.targets else {
        return Ok(vec![default_target.to_string()]);
    };
    if list.get_ref().is_empty() {
        return Err(ctx.invalid(
            "[rollout] targets is empty".into(),
            list.span(),
            "no target",
            Some(
                "name the targets pending.sql runs on, in order, e.g. [\"test\", \"prod\"]".into(),
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for name in list.into_inner() {
        if !targets.contains_key(name.get_ref()) {
            return Err(ctx.invalid(
                format!(
                    "rollout target `{}` is not a declared target",
                    name.get_ref()
                ),
                name.span(),
                "unknown target",
                Some(format!(
                    "declared targets: {}",
                    targets.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            ));
        }
        if !seen.insert(name.get_ref().clone()) {
            return Err(ctx.invalid(
                format!("rollout target `{}` is named twice", name.get_ref()),
                name.span(),
                "named again here",
                None,
            ));
        }
        names.push(name.into_inner());
    }
    Ok(names)
}

fn resolve_jobs(ctx: &Ctx, jobs: Option<Spanned<u32>>) -> Result<Option<usize>, ConfigError> {
    match jobs {
        Some(jobs) if *jobs.get_ref() == 0 => Err(ctx.invalid(
            "jobs must be at least 1".into(),
            jobs.span(),
            "zero connections",
            Some("write 1 to load shadow databases as one stream".into()),
        )),
        Some(jobs) => Ok(Some(jobs.into_inner() as usize)),
        None => Ok(None),
    }
}

fn resolve_plan(ctx: &Ctx, raw: raw::RawPlan) -> Result<PlanConfig, ConfigError> {
    let mut backfill = Backfill::default();
    if let Some(batch) = raw.backfill_batch {
        if *batch.get_ref() == 0 {
            return Err(ctx.invalid(
                "backfill_batch must be at least 1".into(),
                batch.span(),
                "zero rows per transaction",
                Some("write the rows per transaction, e.g. 1000".into()),
            ));
        }
        backfill.batch = batch.into_inner();
    }
    if let Some(pause) = raw.backfill_pause {
        backfill.pause = duration::parse(pause.get_ref()).map_err(|message| {
            ctx.invalid(
                message,
                pause.span(),
                "not a duration",
                Some("write e.g. \"10ms\", \"0ms\" or \"1s\"".into()),
            )
        })?;
    }
    Ok(PlanConfig {
        renames: raw.renames.unwrap_or_default(),
        backfill,
    })
}

fn resolve_lint(ctx: &Ctx, raw: raw::RawLint) -> Result<LintConfig, ConfigError> {
    for ty in &raw.banned_types {
        if let Err(message) = banned_type::BannedType::parse(ty.get_ref()) {
            return Err(ctx.invalid(
                message,
                ty.span(),
                "not a type",
                Some("write a type as in SQL, e.g. \"timestamp\", \"varchar(n)\", \"json\"".into()),
            ));
        }
    }
    let mut levels = BTreeMap::new();
    for (id, level) in raw.levels {
        let Some(rule) = (ctx.lint_rule)(id.get_ref()) else {
            return Err(ctx.invalid(
                format!("unknown lint rule `{}`", id.get_ref()),
                id.span(),
                "no such rule",
                Some("docs/lint.md lists the rule ids".into()),
            ));
        };
        levels.insert(rule, level);
    }
    Ok(LintConfig {
        naming: raw.naming,
        require_primary_key: raw.require_primary_key,
        require_fk_index: raw.require_fk_index,
        banned_types: raw
            .banned_types
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        levels,
    })
}

fn resolve_schema_files(
    ctx: &Ctx,
    files: Option<Vec<Spanned<String>>>,
) -> Result<Vec<String>, ConfigError> {
    let Some(files) = files else {
        return Ok(vec!["schema/**/*.sql".into()]);
    };
    for pattern in &files {
        if let Err(e) = glob::Pattern::new(pattern.get_ref()) {
            return Err(ctx.invalid(
                format!("invalid glob pattern: {e}"),
                pattern.span(),
                "this pattern",
                None,
            ));
        }
        let base = static_prefix(pattern.get_ref());
        if !ctx.root.join(&base).exists() {
            return Err(ctx.invalid(
                format!("directory `{}` does not exist", base.display()),
                pattern.span(),
                "no such directory",
                Some("create it, or correct the pattern".into()),
            ));
        }
    }
    Ok(files.into_iter().map(Spanned::into_inner).collect())
}

/// The directory part of a glob before its first wildcard.
fn static_prefix(pattern: &str) -> PathBuf {
    let mut prefix = PathBuf::new();
    let parts: Vec<&str> = pattern.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last || part.contains(['*', '?', '[']) {
            break;
        }
        prefix.push(part);
    }
    prefix
}

fn resolve_dir(
    ctx: &Ctx,
    dir: Option<&Spanned<String>>,
    default: &str,
) -> Result<PathBuf, ConfigError> {
    match dir {
        None => Ok(PathBuf::from(default)),
        Some(dir) => {
            if ctx.root.join(dir.get_ref()).is_dir() {
                Ok(PathBuf::from(dir.get_ref()))
            } else {
                Err(ctx.invalid(
                    format!("directory `{}` does not exist", dir.get_ref()),
                    dir.span(),
                    "no such directory",
                    Some("create it, or correct the path (relative to pipeline.toml)".into()),
                ))
            }
        }
    }
}

fn resolve_targets(
    ctx: &Ctx,
    raw: BTreeMap<String, Spanned<RawTarget>>,
) -> Result<BTreeMap<String, Target>, ConfigError> {
    if raw.is_empty() {
        let local = Target {
            name: LOCAL_TARGET.into(),
            url: UrlSource::Embedded,
            allow_destructive: false,
            lock_timeout: LockTimeout::default(),
            statement_timeout: StatementTimeout::default(),
            retries: DEFAULT_RETRIES,
            on_drift: OnDrift::default(),
        };
        return Ok(BTreeMap::from([(LOCAL_TARGET.into(), local)]));
    }
    raw.into_iter()
        .map(|(name, spanned)| {
            let target = resolve_target(ctx, &name, spanned.into_inner())?;
            Ok((name, target))
        })
        .collect()
}

const DEFAULT_RETRIES: u32 = 5;

fn resolve_target(ctx: &Ctx, name: &str, raw: RawTarget) -> Result<Target, ConfigError> {
    let duration = |value: &Option<Spanned<String>>| -> Result<Option<Duration>, ConfigError> {
        value
            .as_ref()
            .map(|v| {
                duration::parse(v.get_ref()).map_err(|message| {
                    ctx.invalid(
                        message,
                        v.span(),
                        "not a duration",
                        Some("write e.g. \"500ms\", \"5s\" or \"2min\"".into()),
                    )
                })
            })
            .transpose()
    };
    Ok(Target {
        name: name.to_string(),
        url: raw
            .url
            .map(|u| UrlSource::parse(u.get_ref()))
            .unwrap_or(UrlSource::Embedded),
        allow_destructive: raw.allow_destructive,
        lock_timeout: duration(&raw.lock_timeout)?
            .map(LockTimeout)
            .unwrap_or_default(),
        statement_timeout: duration(&raw.statement_timeout)?
            .map(StatementTimeout)
            .unwrap_or_default(),
        retries: raw.retries.unwrap_or(DEFAULT_RETRIES),
        on_drift: raw.on_drift.unwrap_or_default(),
    })
}

fn resolve_default_target(
    ctx: &Ctx,
    raw: Option<Spanned<String>>,
    targets: &BTreeMap<String, Target>,
) -> Result<String, ConfigError> {
    match raw {
        Some(name) if targets.contains_key(name.get_ref()) => Ok(name.into_inner()),
        Some(name) => Err(ctx.invalid(
            format!(
                "default_target `{}` is not a declared target",
                name.get_ref()
            ),
            name.span(),
            "unknown target",
            Some(format!(
                "declared targets: {}",
                targets.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        )),
        // With several targets and no default, the alphabetically first one is not a safe
        // guess for production: prefer `local`, else the only one, else demand a choice later.
        None if targets.contains_key(LOCAL_TARGET) => Ok(LOCAL_TARGET.into()),
        None => Ok(targets.keys().next().cloned().unwrap_or_default()),
    }
}

fn resolve_stages(
    ctx: &Ctx,
    raw: Vec<Spanned<RawStage>>,
    has_deploy_command: bool,
) -> Result<Vec<Stage>, ConfigError> {
    let mut seen = BTreeSet::new();
    let mut stages = Vec::with_capacity(raw.len());
    for spanned in raw {
        let stage_span = spanned.span();
        let stage = spanned.into_inner();
        let name = stage.name.get_ref().clone();
        if !seen.insert(name.clone()) {
            return Err(ctx.invalid(
                format!("duplicate stage name `{name}`"),
                stage.name.span(),
                "declared twice",
                Some("stage names must be unique".into()),
            ));
        }
        let phase = match (stage.kind, stage.phase) {
            (StageKind::Schema, None) => Some(Phase::All),
            (StageKind::Schema, Some(p)) => Some(p.into_inner()),
            (_, Some(p)) => {
                return Err(ctx.invalid(
                    "`phase` applies only to stages of kind \"schema\"".into(),
                    p.span(),
                    "not allowed here",
                    None,
                ))
            }
            (_, None) => None,
        };
        if stage.kind == StageKind::Hook && stage.command.is_none() && !has_deploy_command {
            return Err(ctx.invalid(
                format!("hook stage `{name}` has no command"),
                stage_span,
                "this stage",
                Some("set `command` on the stage or `[deploy] command`".into()),
            ));
        }
        if stage.kind != StageKind::Hook && stage.command.is_some() {
            return Err(ctx.invalid(
                "`command` applies only to stages of kind \"hook\"".into(),
                stage_span,
                "this stage",
                None,
            ));
        }
        stages.push(Stage {
            name,
            kind: stage.kind,
            phase,
            command: stage.command,
        });
    }
    Ok(stages)
}

/// DESIGN.md §2: expand, data, deploy, contract.
pub fn default_stages() -> Vec<Stage> {
    let stage = |name: &str, kind, phase| Stage {
        name: name.into(),
        kind,
        phase,
        command: None,
    };
    vec![
        stage("expand", StageKind::Schema, Some(Phase::Expand)),
        stage("data", StageKind::Migrations, None),
        stage("deploy", StageKind::Hook, None),
        stage("contract", StageKind::Schema, Some(Phase::Contract)),
    ]
}

#[cfg(test)]
mod tests;
