//! docs/SECURITY.md names a test for every defence: each named test, test file, fuzz target or
//! script exists, so a renamed or deleted test cannot leave a defence unproven on paper.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, skipping build output and installed tools.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if !matches!(name.as_ref(), "target" | ".test-tools" | ".git" | "corpus") {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

/// The test-column names of every table row in the threat model.
fn named_tests(doc: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_threats = false;
    for line in doc.lines() {
        if line.starts_with("## ") {
            in_threats = line.starts_with("## Attackers");
        }
        if !in_threats || !line.starts_with('|') || line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let last = cells.last().copied().unwrap_or("");
        if cells.len() != 4 || last.trim() == "test" {
            continue;
        }
        names.extend(last.split('`').skip(1).step_by(2).map(str::to_string));
    }
    names
}

/// Every function of the workspace's Rust files, by the stem of the file it is in (files with
/// the same stem share one set), and all of them.
fn functions() -> (HashMap<String, HashSet<String>>, HashSet<String>) {
    let root = testkit::workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("fuzz"), &mut files);
    let mut by_stem: HashMap<String, HashSet<String>> = HashMap::new();
    let mut all = HashSet::new();
    for f in &files {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        let set = by_stem.entry(stem).or_default();
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines() {
            let l = line.trim_start();
            let l = l.strip_prefix("async ").unwrap_or(l);
            if let Some(rest) = l.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                set.insert(name.clone());
                all.insert(name);
            }
        }
    }
    (by_stem, all)
}

/// `file::name`, `module::tests::name`: `name` is in a file of that stem; a bare name anywhere;
/// a bare file stem (a test file or fuzz target) exists.
fn exists(name: &str, by_stem: &HashMap<String, HashSet<String>>, all: &HashSet<String>) -> bool {
    let segments: Vec<&str> = name.split("::").collect();
    let last = segments.last().copied().unwrap_or("");
    match segments.as_slice() {
        [one] => all.contains(*one) || by_stem.contains_key(*one),
        [file, ..] => by_stem.get(*file).is_some_and(|fns| fns.contains(last)),
        [] => false,
    }
}

#[test]
fn every_defence_in_the_threat_model_names_a_test_that_exists() {
    let root = testkit::workspace_root();
    let doc = std::fs::read_to_string(root.join("docs/SECURITY.md")).unwrap();
    let (by_stem, all) = functions();
    let names = named_tests(&doc);
    assert!(names.len() > 60, "only {} test names found", names.len());
    let mut missing = Vec::new();
    for name in &names {
        let found = if let Some(script) = name.strip_prefix("scripts/") {
            let file = script.split_whitespace().next().unwrap_or("");
            root.join("scripts").join(file).is_file()
        } else {
            exists(name, &by_stem, &all)
        };
        if !found {
            missing.push(name.as_str());
        }
    }
    assert!(
        missing.is_empty(),
        "docs/SECURITY.md names tests that do not exist: {missing:?}"
    );
}

/// The README's `file::test` names (the package-manager table, Containers and CI) exist in
/// that file.
#[test]
fn the_readme_names_tests_that_exist() {
    let readme = std::fs::read_to_string(testkit::workspace_root().join("README.md")).unwrap();
    let (by_stem, all) = functions();
    let names: Vec<&str> = readme
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            w.contains("::")
                && w.matches('_').count() >= 3
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_:".contains(&b))
        })
        .collect();
    assert!(
        names.len() > 20,
        "only {} test names in README",
        names.len()
    );
    let missing: Vec<&&str> = names
        .iter()
        .filter(|n| !exists(n, &by_stem, &all))
        .collect();
    assert!(
        missing.is_empty(),
        "README names tests that do not exist: {missing:?}"
    );
}

#[test]
fn a_missing_test_name_is_caught() {
    let doc = "## Attackers\n| a | b | c | test |\n|---|---|---|---|\n| x | y | z | `nope::no_such_test`, `scripts/leak-check --self-test` |\n## What is not defended\n| a | b | c | `ignored` |\n";
    assert_eq!(
        named_tests(doc),
        ["nope::no_such_test", "scripts/leak-check --self-test"]
    );
    // A test named under the wrong file is caught too.
    let (by_stem, all) = functions();
    assert!(exists(
        "security_doc::a_missing_test_name_is_caught",
        &by_stem,
        &all
    ));
    assert!(!exists(
        "cli::a_missing_test_name_is_caught",
        &by_stem,
        &all
    ));
    assert!(!exists("nope::no_such_test", &by_stem, &all));
}
