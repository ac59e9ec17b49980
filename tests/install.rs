//! `strata completions` and `strata man`: generated from the CLI definitions, outside any
//! project (no pipeline.toml needed).

use assert_cmd::Command;

fn strata(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("strata")
        .unwrap()
        .current_dir(dir.path())
        .args(args)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn completions_name_the_subcommands() {
    let bash = strata(&["completions", "bash"]);
    assert!(bash.contains("complete -F"), "{bash}");
    for sub in ["plan", "run", "migrate", "completions", "man"] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    assert!(bash.contains("--format"));
    let zsh = strata(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef strata"), "{zsh}");
    assert!(zsh.contains("plan"));
    let fish = strata(&["completions", "fish"]);
    assert!(fish.contains("complete -c strata"), "{fish}");
    assert!(fish.contains("plan"));
}

#[test]
fn unknown_shell_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("strata")
        .unwrap()
        .current_dir(dir.path())
        .args(["completions", "tcsh"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "possible values: bash, zsh, fish",
        ));
}

#[test]
fn man_page_is_roff() {
    let man = strata(&["man"]);
    assert!(man.contains(".TH strata 1"), "{man}");
    assert!(man.contains(".SH NAME"));
    assert!(man.contains("plan"));
}
