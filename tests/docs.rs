//! The docs say what strata does: every shell block of docs/*.md marked runnable (an HTML
//! comment `<!-- runnable -->` on the line before its ```sh fence, invisible when rendered)
//! is run as written, the blocks of one page in order in one empty directory, with strata on
//! PATH, `DATABASE_URL` at a fresh database and `STRATA_SHADOW_URL` at the test cluster.
//! A block that fails (exit status, `set -eo pipefail`) fails the test with its page.

mod common;

use common::{reachable_tempdir, TestDb};
use std::path::{Path, PathBuf};

const MARKER: &str = "<!-- runnable -->";

/// The runnable blocks of one Markdown page, in order.
fn runnable_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim() != MARKER {
            continue;
        }
        let fence = lines.next().unwrap_or_default();
        assert_eq!(
            fence.trim(),
            "```sh",
            "{MARKER} must stand right above a ```sh fence"
        );
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        blocks.push(block.join("\n"));
    }
    blocks
}

fn pages() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// Runs a page's blocks in order in a fresh directory; panics with the output on failure.
fn run_page(page: &Path, blocks: &[String]) {
    let dir = reachable_tempdir("strata-docs-");
    let db = TestDb::new();
    let strata = assert_cmd::cargo::cargo_bin("strata");
    let path = format!(
        "{}:{}",
        strata.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut log = String::new();
    for (i, block) in blocks.iter().enumerate() {
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", block])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("CI", "true")
            .env("DATABASE_URL", &db.url)
            .env("STRATA_SHADOW_URL", common::admin_url())
            .env("GIT_AUTHOR_NAME", "docs")
            .env("GIT_AUTHOR_EMAIL", "docs@example.com")
            .env("GIT_COMMITTER_NAME", "docs")
            .env("GIT_COMMITTER_EMAIL", "docs@example.com")
            .env_remove("STRATA_TEST_TARGET_URL");
        for var in ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"] {
            cmd.env_remove(var);
        }
        let out = cmd.output().expect("bash");
        log += &format!(
            "--- block {i}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{} block {i} failed ({}):\n{block}\n--- output so far\n{log}",
            page.display(),
            out.status
        );
    }
    assert!(
        !dir.path().join(".strata").exists(),
        "{}: the blocks started an embedded cluster; they should use DATABASE_URL",
        page.display()
    );
}

#[test]
fn the_marker_finds_blocks() {
    let page = "text\n<!-- runnable -->\n```sh\necho a\necho b\n```\n```sh\nnot marked\n```\n";
    assert_eq!(runnable_blocks(page), ["echo a\necho b"]);
}

#[test]
fn every_runnable_block_of_the_docs_runs() {
    let mut ran = Vec::new();
    for page in pages() {
        let blocks = runnable_blocks(&std::fs::read_to_string(&page).unwrap());
        if blocks.is_empty() {
            continue;
        }
        run_page(&page, &blocks);
        ran.push((
            page.file_name().unwrap().to_string_lossy().to_string(),
            blocks.len(),
        ));
    }
    // The first session and the migrate examples of commands.md at least.
    let commands = ran.iter().find(|(name, _)| name == "commands.md");
    assert!(commands.is_some_and(|(_, n)| *n >= 3), "{ran:?}");
}
