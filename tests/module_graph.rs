//! The top-level modules of src/ form no dependency cycle (issue 19). An edge `a -> b` is any
//! `crate::b` path (a `use` or an inline path, `crate::{b, ..}` groups included) in a file
//! under `src/a`; `crate::Error` / `crate::Result` count as `app`, whose `app::error` they are
//! re-exported from (only the commands return it; each layer below has its own error). A cycle fails the test, named with one file for each of its edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeMap<String, PathBuf>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules (`src/x.rs`, `src/x/`) but the crate roots and `src/bin`.
fn modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let module = match name.strip_suffix(".rs") {
                Some(stem) => stem.to_string(),
                None if p.is_dir() => name,
                None => return None,
            };
            (!matches!(module.as_str(), "lib" | "main" | "bin")).then_some(module)
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without `//` comments (doc comments may name paths that are no dependency).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segment of every `crate::` path in `text`, groups included.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::` or `my_crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => {
                        found.insert(ident(&group[i..]));
                        start = false;
                    }
                    c if c.is_whitespace() => {}
                    _ => start = false,
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found
}

fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn graph() -> Graph {
    let modules = modules();
    let mut graph = Graph::new();
    for module in &modules {
        let dir = src().join(module);
        let mut files = Vec::new();
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src().join(format!("{module}.rs")));
        }
        files.sort();
        let edges = graph.entry(module.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for target in crate_paths(&code(&text)) {
                let target = match target.as_str() {
                    "Error" | "Result" => "app".to_string(),
                    _ => target,
                };
                if modules.contains(&target) && &target != module {
                    let shown = file.strip_prefix(src().parent().unwrap()).unwrap();
                    edges.entry(target).or_insert_with(|| shown.to_path_buf());
                }
            }
        }
    }
    graph
}

/// A cycle through `from`, if any: the modules in order, back to `from`.
fn cycle_from(graph: &Graph, from: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &Graph,
        at: &str,
        goal: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(at).into_iter().flat_map(|e| e.keys()) {
            if next == goal {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, next, goal, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![from.to_string()];
    walk(graph, from, from, &mut path, &mut BTreeSet::new()).then_some(path)
}

fn describe(graph: &Graph, cycle: &[String]) -> String {
    cycle
        .windows(2)
        .map(|pair| {
            let file = &graph[&pair[0]][&pair[1]];
            format!("  {} -> {} ({})", pair[0], pair[1], file.display())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = graph();
    assert!(
        graph.len() > 10,
        "found the modules of src/: {:?}",
        graph.keys()
    );
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_from(&graph, m))
        .map(|c| describe(&graph, &c))
        .collect();
    assert!(
        cycles.is_empty(),
        "module cycles (each edge with one file that makes it):\n{}",
        cycles.join("\n\n")
    );
}

#[test]
fn the_reader_finds_paths_and_groups() {
    let text = "use crate::model::Schema;\nuse crate::{config::{Config, Phase}, pg};\n\
                let x = crate::Error::Interrupted; $crate::no; // crate::comment";
    let found = crate_paths(&code(text));
    // `$crate::no` is a macro's own crate, and the comment no code: neither is an edge
    let expected: BTreeSet<String> = ["model", "config", "pg", "Error"].map(String::from).into();
    assert_eq!(found, expected);
}

#[test]
fn a_cycle_is_found_and_named() {
    let mut graph = Graph::new();
    for (a, b) in [
        ("plan", "run"),
        ("run", "report"),
        ("report", "plan"),
        ("model", "ddl"),
    ] {
        graph
            .entry(a.into())
            .or_default()
            .insert(b.into(), PathBuf::from(format!("src/{a}/x.rs")));
    }
    let cycle = cycle_from(&graph, "plan").unwrap();
    assert_eq!(cycle, ["plan", "run", "report", "plan"]);
    assert!(describe(&graph, &cycle).contains("report -> plan (src/report/x.rs)"));
    assert_eq!(cycle_from(&graph, "model"), None);
}
