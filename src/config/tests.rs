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
        mask_password("postgres://app:s3cret@db:5432/x?sslmode=require"),
        "postgres://app:***@db:5432/x?sslmode=require"
    );
    assert_eq!(
        mask_password("postgres://db/x?user=a&password=s3cret"),
        "postgres://db/x?user=a&password=***"
    );
    assert_eq!(
        mask_password("host=db password=s3cret"),
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
