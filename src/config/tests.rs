use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schema")).unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    Config::parse(dir.path(), text)
}

fn invalid_message(text: &str) -> (String, String) {
    match parse(text).unwrap_err() {
        ConfigError::Invalid {
            message, src, span, ..
        } => {
            let snippet = src.inner()[span.offset()..span.offset() + span.len()].to_string();
            (message, snippet)
        }
        other => panic!("expected a spanned error, got {other:?}"),
    }
}

#[test]
fn empty_manifest_is_all_defaults() {
    let config = parse("").unwrap();
    assert_eq!(config.schema.files, vec!["schema/**/*.sql"]);
    assert_eq!(config.migrations.dir, PathBuf::from("migrations"));
    assert_eq!(config.shadow, UrlSource::Embedded);
    assert_eq!(config.default_target, LOCAL_TARGET);
    assert_eq!(config.targets[LOCAL_TARGET].url, UrlSource::Embedded);
    let names: Vec<_> = config.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["expand", "data", "deploy", "contract"]);
}

#[test]
fn unknown_key_points_at_the_key() {
    let (message, snippet) = invalid_message("[schema]\nfilez = [\"x\"]\n");
    assert!(message.contains("unknown field `filez`"), "{message}");
    assert_eq!(snippet, "filez");
}

#[test]
fn wrong_type_points_at_the_value() {
    let (message, snippet) = invalid_message("[targets.prod]\nretries = \"three\"\n");
    assert!(message.contains("invalid type"), "{message}");
    assert_eq!(snippet, "\"three\"");
}

#[test]
fn unknown_stage_kind_is_an_error() {
    let (message, snippet) = invalid_message("[[stages]]\nname = \"x\"\nkind = \"magic\"\n");
    assert!(message.contains("unknown variant `magic`"), "{message}");
    assert_eq!(snippet, "\"magic\"");
}

#[test]
fn duplicate_stage_name_points_at_the_second() {
    let text = "[[stages]]\nname = \"a\"\nkind = \"schema\"\n[[stages]]\nname = \"a\"\nkind = \"migrations\"\n";
    let (message, snippet) = invalid_message(text);
    assert!(message.contains("duplicate stage name `a`"));
    assert_eq!(snippet, "\"a\"");
    let offset = text.rfind("\"a\"").unwrap();
    match parse(text).unwrap_err() {
        ConfigError::Invalid { span, .. } => assert_eq!(span.offset(), offset),
        _ => unreachable!(),
    }
}

#[test]
fn missing_directory_is_an_error() {
    let (message, snippet) = invalid_message("[migrations]\ndir = \"nope\"\n");
    assert!(message.contains("`nope` does not exist"));
    assert_eq!(snippet, "\"nope\"");
    let (message, _) = invalid_message("[schema]\nfiles = [\"sdl/*.sql\"]\n");
    assert!(message.contains("`sdl` does not exist"), "{message}");
}

#[test]
fn targets_policies_and_env_urls() {
    let config = parse(
        r#"
default_target = "prod"
[targets.prod]
url = "env:STRATA_TEST_UNSET_VAR"
allow_destructive = true
lock_timeout = "2s"
retries = 9
on_drift = "warn"
"#,
    )
    .unwrap();
    let prod = config.target(None).unwrap();
    assert_eq!(prod.url, UrlSource::Env("STRATA_TEST_UNSET_VAR".into()));
    assert_eq!(prod.lock_timeout, LockTimeout(Duration::from_secs(2)));
    assert_eq!(prod.retries, 9);
    assert_eq!(prod.on_drift, OnDrift::Warn);
    assert!(matches!(
        prod.resolve_url(),
        Err(ConfigError::EnvUnset { .. })
    ));
    assert!(config.target(Some("staging")).is_err());
}

#[test]
fn bad_duration_and_phase_on_wrong_kind() {
    let (message, snippet) = invalid_message("[targets.x]\nlock_timeout = \"5 weeks\"\n");
    assert!(message.contains("unknown duration unit"), "{message}");
    assert_eq!(snippet, "\"5 weeks\"");
    let (message, _) =
        invalid_message("[[stages]]\nname = \"m\"\nkind = \"migrations\"\nphase = \"expand\"\n");
    assert!(message.contains("only to stages of kind \"schema\""));
}

#[test]
fn hook_stage_needs_a_command() {
    let (message, _) = invalid_message("[[stages]]\nname = \"deploy\"\nkind = \"hook\"\n");
    assert!(message.contains("has no command"));
    let config =
        parse("[deploy]\ncommand = \"true\"\n[[stages]]\nname = \"deploy\"\nkind = \"hook\"\n")
            .unwrap();
    assert_eq!(config.stages[0].kind, StageKind::Hook);
}

#[test]
fn durations() {
    assert_eq!(duration::parse("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(duration::parse("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(duration::parse("2min"), Ok(Duration::from_secs(120)));
    assert_eq!(duration::parse("100"), Ok(Duration::from_millis(100)));
    assert!(duration::parse("s").is_err());
}

#[test]
fn passwords_are_masked_when_shown() {
    assert_eq!(
        mask_secrets("postgres://app:s3cret@db:5432/x?sslmode=require"),
        "postgres://app:***@db:5432/x?sslmode=require"
    );
    assert_eq!(
        mask_secrets("postgres://db/x?user=a&password=s3cret"),
        "postgres://db/x?user=a&password=***"
    );
    assert_eq!(
        mask_secrets("host=db password=s3cret"),
        "host=db password=***"
    );
    let config = parse("[targets.prod]\nurl = \"postgres://app:s3cret@db/x\"\n").unwrap();
    let shown = toml::to_string(&config).unwrap();
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn plan_backfill_pace_defaults_and_overrides() {
    let default = parse("").unwrap().plan.backfill;
    assert_eq!(default, Backfill::default());
    assert_eq!(default.batch, 1_000);
    let set = parse("[plan]\nbackfill_batch = 200\nbackfill_pause = \"0ms\"\n")
        .unwrap()
        .plan
        .backfill;
    assert_eq!(
        set,
        Backfill {
            batch: 200,
            pause: Duration::ZERO
        }
    );
    let (message, snippet) = invalid_message("[plan]\nbackfill_batch = 0\n");
    assert!(message.contains("at least 1"), "{message}");
    assert_eq!(snippet, "0");
    let (_, snippet) = invalid_message("[plan]\nbackfill_pause = \"soon\"\n");
    assert_eq!(snippet, "\"soon\"");
}

#[test]
fn shadow_jobs_default_to_the_cores_and_must_be_at_least_one() {
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(parse("").unwrap().shadow_jobs(), cores);
    assert_eq!(parse("[shadow]\njobs = 1\n").unwrap().shadow_jobs(), 1);
    let (message, snippet) = invalid_message("[shadow]\njobs = 0\n");
    assert!(message.contains("at least 1"), "{message}");
    assert_eq!(snippet, "0");
}

#[test]
fn rollout_defaults_to_the_default_target_and_names_declared_targets() {
    let two = "default_target = \"test\"\n[targets.test]\n[targets.prod]\n";
    assert_eq!(parse(two).unwrap().rollout, ["test"]);
    assert_eq!(parse("").unwrap().rollout, ["local"]);
    let set = format!("{two}[rollout]\ntargets = [\"test\", \"prod\"]\n");
    assert_eq!(parse(&set).unwrap().rollout, ["test", "prod"]);
    let (message, snippet) = invalid_message(&format!(
        "{two}[rollout]\ntargets = [\"test\", \"staging\"]\n"
    ));
    assert!(
        message.contains("`staging` is not a declared target"),
        "{message}"
    );
    assert_eq!(snippet, "\"staging\"");
    let (message, _) =
        invalid_message(&format!("{two}[rollout]\ntargets = [\"test\", \"test\"]\n"));
    assert!(message.contains("named twice"), "{message}");
    let (message, _) = invalid_message(&format!("{two}[rollout]\ntargets = []\n"));
    assert!(message.contains("empty"), "{message}");
}

/// Every key pipeline.toml knows, each set to a value other than its default.
const EVERY_KEY: &str = r#"
default_target = "prod"

[schema]
files = ["schema/*.sql", "schema/views/**/*.sql"]
include_schemas = ["public", "app"]
exclude_schemas = ["scratch"]
owners = true

[migrations]
dir = "migrations"
ddl = "error"
allow_out_of_order = true

[shadow]
url = "env:SHADOW_URL"
jobs = 3

[deploy]
command = "./deploy.sh --fast"

[git]
remote = "upstream"
branch_prefix = "schema/"

[targets.prod]
url = "env:PROD_URL"
allow_destructive = true
lock_timeout = "2s"
statement_timeout = "10min"
retries = 9
on_drift = "reconcile"

[targets.test]
url = "postgres://app@test-db:5432/app?sslmode=require"
on_drift = "warn"

[targets.dev]
url = "embedded"

[[stages]]
name = "ddl"
kind = "schema"
phase = "all"

[[stages]]
name = "dml"
kind = "migrations"

[[stages]]
name = "ship"
kind = "hook"
command = "make ship"

[[stages]]
name = "ship-again"
kind = "hook"

[lint]
naming = "snake_case"
require_primary_key = true
require_fk_index = true
banned_types = ["json", "varchar(n)"]

[lint.levels]
prefer-timestamp-tz = "error"
adding-field-with-default = "off"

[plan]
renames = "rename"
backfill_batch = 250
backfill_pause = "1s"

[rollout]
targets = ["test", "prod"]

[history]
schema = "deploy_history"
"#;

/// Every key path (`a.b.c`) of a TOML document; array-of-tables entries share one path.
fn key_paths(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                key_paths(value, &path, out);
            }
        }
        toml::Value::Array(items) => {
            for item in items.iter().filter(|i| i.is_table()) {
                key_paths(item, prefix, out);
            }
        }
        _ => {}
    }
}

/// The key paths of a manifest, targets' names replaced by `*`.
fn paths_of(text: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    key_paths(&toml::from_str(text).unwrap(), "", &mut paths);
    paths
        .into_iter()
        .map(|p| match p.strip_prefix("targets.") {
            Some(rest) => match rest.split_once('.') {
                Some((_, key)) => format!("targets.*.{key}"),
                None => "targets.*".into(),
            },
            None => p,
        })
        .collect()
}

/// `strata config` prints a manifest that loads again into the same configuration.
#[test]
fn printed_manifest_loads_back_to_the_same_configuration() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["schema/views", "migrations"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let config = Config::parse(dir.path(), EVERY_KEY).unwrap();
    let printed = config.to_toml();
    let again = Config::parse(dir.path(), &printed)
        .unwrap_or_else(|e| panic!("{e:?}\n--- printed:\n{printed}"));
    assert_eq!(format!("{again:?}"), format!("{config:?}"), "{printed}");
    assert_eq!(again.to_toml(), printed);
    assert_eq!(again.to_json(), config.to_json());
    // Every key of the manifest is printed, and nothing that is not a manifest key.
    let written: BTreeSet<String> = paths_of(EVERY_KEY);
    let shown = paths_of(&printed);
    assert_eq!(shown, written, "{printed}");

    // The defaults round-trip too (the default stages are left out, being the default).
    let empty = Config::parse(dir.path(), "").unwrap();
    let printed = empty.to_toml();
    let again = Config::parse(dir.path(), &printed).unwrap();
    assert_eq!(format!("{again:?}"), format!("{empty:?}"), "{printed}");
    assert!(!printed.lines().any(|l| l == "[[stages]]"), "{printed}");
    assert_eq!(again.to_json()["stages"][0]["name"], "expand");
}

/// A manifest with a password in a literal URL and an error elsewhere in the same table:
/// the diagnostic shows the URL's line, never the password.
#[test]
fn config_errors_never_show_a_password() {
    let text = "[targets.prod]\nurl = \"postgres://app:hunter2@db/app\"\n\
                retries = \"three\"\n\
                [shadow]\nurl = \"host=shadow password=swordfish user=x\"\n";
    let err = parse(text).unwrap_err();
    let ConfigError::Invalid { src, span, .. } = &err else {
        panic!("{err:?}")
    };
    let source = src.inner();
    // The span, moved onto the masked text, still points at the wrong value.
    assert_eq!(
        &source[span.offset()..span.offset() + span.len()],
        "\"three\""
    );
    assert!(source.contains("postgres://app:***@db/app"), "{source}");
    let rendered = format!("{:?}", miette::Report::new(err));
    for secret in ["hunter2", "swordfish"] {
        assert!(!rendered.contains(secret), "{rendered}");
    }
    assert!(rendered.contains("retries"), "{rendered}");
}

#[test]
fn groups_resolve_with_their_policy() {
    let config = parse(
        "[targets.eu]\nurl = \"postgres://eu/app\"\nlock_timeout = \"9s\"\n\
         [groups.tenants]\ntargets = [\"eu\"]\n\
         discover = { url = \"env:CONTROL\", query = \"SELECT 'postgres://x/y'\" }\n\
         parallel = 8\ncanary = 2\nfailure_budget = 3\nlock_timeout = \"1s\"\non_drift = \"reconcile\"\nhook = \"member\"\n",
    )
    .unwrap();
    let group = &config.groups["tenants"];
    assert_eq!(group.targets, ["eu"]);
    assert_eq!(
        (group.parallel, group.canary, group.failure_budget),
        (8, 2, 3)
    );
    assert_eq!(group.on_drift, GroupDrift::Reconcile);
    assert_eq!(group.hook, HookPolicy::Member);
    let policy = group.member_policy(config.targets["eu"].clone(), "eu");
    assert_eq!(policy.lock_timeout, LockTimeout(Duration::from_secs(1)));
    // Defaults.
    let config =
        parse("[groups.g]\ndiscover = { url = \"embedded\", query = \"SELECT 1\" }\n").unwrap();
    let g = &config.groups["g"];
    assert_eq!((g.parallel, g.canary, g.failure_budget), (4, 1, 0));
    assert_eq!(g.on_drift, GroupDrift::Skip);
    assert_eq!(g.hook, HookPolicy::Fleet);
    // `strata config` writes it back loadable.
    let again = parse(&config.to_toml()).unwrap();
    assert_eq!(again.groups["g"].discover, g.discover);
}

#[test]
fn group_errors_point_at_the_key() {
    let (message, snippet) = invalid_message("[groups.g]\ntargets = [\"nope\"]\n");
    assert!(
        message.contains("`nope` is not a declared target"),
        "{message}"
    );
    assert_eq!(snippet, "\"nope\"");
    let (message, _) = invalid_message("[groups.g]\nparallel = 2\n");
    assert!(message.contains("group `g` has no members"), "{message}");
    let (message, snippet) = invalid_message("[groups.g]\nurls_file = \"tenants.txt\"\n");
    assert!(
        message.contains("`tenants.txt` does not exist"),
        "{message}"
    );
    assert_eq!(snippet, "\"tenants.txt\"");
    let (message, snippet) = invalid_message(
        "[groups.g]\ndiscover = { url = \"embedded\", query = \"SELECT 1\" }\nparallel = 0\n",
    );
    assert!(message.contains("parallel must be at least 1"), "{message}");
    assert_eq!(snippet, "0");
    let (_, snippet) = invalid_message(
        "[groups.g]\ndiscover = { url = \"embedded\", query = \"SELECT 1\" }\nlock_timeout = \"soon\"\n",
    );
    assert_eq!(snippet, "\"soon\"");
    let (message, snippet) = invalid_message(
        "[groups.g]\ndiscover = { url = \"embedded\", query = \"SELECT 1\" }\ncanary = -1\n",
    );
    assert!(message.contains("canary must be at least 0"), "{message}");
    assert_eq!(snippet, "-1");
    let (message, _) = invalid_message("[groups.g]\nurls = \"x\"\n");
    assert!(message.contains("unknown field `urls`"), "{message}");
}

/// `[lint.levels]` ids are checked against the lint registry the caller passes (the commands
/// pass `lint::rule_id`), and stored under the canonical id.
#[test]
fn lint_levels_are_checked_by_the_given_registry() {
    let dir = tempfile::tempdir().unwrap();
    let known = |id: &str| (id == "alias" || id == "rule").then(|| "rule".to_string());
    let text = "[lint.levels]\nalias = \"off\"\n";
    let config = Config::parse_with(dir.path(), text, known).unwrap();
    assert_eq!(config.lint.levels.get("rule"), Some(&LintLevel::Off));
    let text = "[lint.levels]\nno-such-rule = \"off\"\n";
    match Config::parse_with(dir.path(), text, known).unwrap_err() {
        ConfigError::Invalid { message, span, .. } => {
            assert_eq!(message, "unknown lint rule `no-such-rule`");
            assert_eq!(
                &text[span.offset()..span.offset() + span.len()],
                "no-such-rule"
            );
        }
        e => panic!("{e:?}"),
    }
}
