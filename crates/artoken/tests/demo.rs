//! `artoken demo` end to end: every step's line, with the test tools on PATH.

#[test]
fn the_demo_walks_the_whole_flow() {
    let mut sb = testkit::Sandbox::new();
    // the venv with pip and uv first on PATH, npm from the machine
    let venv_bin = testkit::tool("pip").parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(venv_bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    sb.set_env("PATH", path);
    // every tool the demo starts by name, recorded for the suite's leak check (its own
    // `artoken` children run by absolute path: the process sampler of scripts/test sees those)
    let argv = sb.record_argv(&["pip", "pip3", "uv", "npm", "node", "sh"]);
    let out = testkit::run_ok(sb.command(env!("CARGO_BIN_EXE_artoken")).arg("demo"));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("artoken demo: emulator at http://127.0.0.1:"),
        "{text}"
    );
    for step in ["token", "cache", "exec", "keyring", "serve", "npm"] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("✓ {step}: "))),
            "step {step} missing or failed:\n{text}"
        );
    }
    let token_line = lines.iter().find(|l| l.starts_with("✓ token: ")).unwrap();
    assert!(token_line.contains("expires in 12h"), "{token_line}");
    let cache_line = lines.iter().find(|l| l.starts_with("✓ cache: ")).unwrap();
    assert!(cache_line.contains("no AWS request"), "{cache_line}");
    assert!(
        text.contains("0 step(s) failed; the emulator issued 1 token(s)"),
        "{text}"
    );
    let all = testkit::text(&out);
    assert!(
        !all.contains("eyJ2ZXIiOjEsImlzdSI6ImVtdWxhdG9yIn0"),
        "a token was printed:\n{all}"
    );
    // pip three times (exec, keyring, serve), npm once and the node it runs
    argv.assert_saw(&["pip", "npm", "node"]);
    let pip: Vec<Vec<String>> = argv.of("pip").iter().map(|r| r.args().to_vec()).collect();
    assert_eq!(pip.len(), 3, "{pip:?}");
    assert!(pip.iter().all(|a| a[0] == "install"), "{pip:?}");
    assert!(
        pip.iter()
            .any(|a| a.iter().any(|x| x == "--keyring-provider")),
        "{pip:?}"
    );
    let npm = argv.of("npm");
    assert_eq!(npm.len(), 1, "{npm:?}");
    assert_eq!(
        npm[0].args(),
        ["install", "--no-audit", "--no-fund", "artoken-demo"]
    );
}

#[test]
fn a_missing_tool_is_skipped_with_a_reason() {
    let mut sb = testkit::Sandbox::new();
    let bin = sb.root().join("emptybin");
    std::fs::create_dir_all(&bin).unwrap();
    sb.set_env("PATH", &bin);
    let out = testkit::run_ok(sb.command(env!("CARGO_BIN_EXE_artoken")).arg("demo"));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("- exec: skipped (neither pip nor uv is on PATH)"),
        "{text}"
    );
    assert!(
        text.contains("- npm: skipped (npm is not on PATH)"),
        "{text}"
    );
    assert!(text.contains("✓ token: "), "{text}");
}

/// `demo --keep` in the background until `signal`: its folder (an .npmrc, cache entries with
/// tokens) is gone after it stops, and it exits with 128 + the signal's number.
fn keep_then(signal: &str, number: i32) {
    use std::io::{BufRead, BufReader};
    let mut sb = testkit::Sandbox::new();
    let bin = sb.root().join("emptybin");
    std::fs::create_dir_all(&bin).unwrap();
    sb.set_env("PATH", &bin);
    let mut child = sb
        .command(env!("CARGO_BIN_EXE_artoken"))
        .args(["demo", "--keep"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut dir = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("# files in ") {
            dir = Some(std::path::PathBuf::from(
                rest.split(" (").next().unwrap().to_string(),
            ));
            break;
        }
    }
    let dir = dir.expect("demo --keep names its folder");
    assert!(dir.join("project/artoken.yml").is_file());
    assert!(
        std::fs::read_dir(dir.join("cache")).unwrap().count() > 0,
        "the cache holds the token while the demo runs"
    );
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + number), "{status}");
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[test]
fn demo_keep_removes_its_folder_on_sigterm() {
    keep_then("TERM", 15);
}

#[test]
fn demo_keep_removes_its_folder_on_sigint() {
    keep_then("INT", 2);
}
