//! The fuzz targets' committed corpus (fuzz/corpus), replayed on stable in `cargo test`: every
//! seed and every input a fuzzer once crashed on (`regression-*`) goes through the same checks
//! the fuzz targets run (fuzz/src/checks.rs), so a fixed bug stays fixed without cargo fuzz.

#[path = "../../../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

#[test]
fn every_corpus_input_passes_its_target_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut total = 0;
    for target in checks::TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for {target}");
        for f in &files {
            let data = std::fs::read(f).unwrap();
            let outcome = std::panic::catch_unwind(|| checks::run(target, &data));
            match outcome {
                Ok(known) => assert!(known, "unknown target {target}"),
                Err(_) => panic!("{target}: {} fails its checks", f.display()),
            }
        }
        total += files.len();
    }
    // Every directory under fuzz/corpus is a target the checks know.
    for e in std::fs::read_dir(&root).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            checks::TARGETS.contains(&name.as_str()),
            "fuzz/corpus/{name} is no target"
        );
    }
    eprintln!(
        "replayed {total} corpus inputs over {} targets",
        checks::TARGETS.len()
    );
}
