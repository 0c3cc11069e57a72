//! The keyring helper against the emulator: every form pip and uv use, silence for URLs that
//! are not CodeArtifact, the shared cache, running as `keyring`, and the shim installer.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The emulator's index URL for the demo PyPI repository.
fn index(env: &Env) -> String {
    format!("{}simple/", env.endpoint())
}

/// The real-world host name of the demo domain (the SDK still talks to the emulator).
const HOST: &str = "demo-111122223333.d.codeartifact.eu-west-1.amazonaws.com";

fn keyring(env: &Env, args: &[&str]) -> Output {
    let mut full = vec!["keyring"];
    full.extend_from_slice(args);
    env.run(&full)
}

/// Runs and expects success, one issued token in the reply; returns stdout.
fn keyring_ok(env: &Env, args: &[&str]) -> String {
    let out = keyring(env, args);
    assert!(
        out.status.success(),
        "keyring {args:?} failed ({}):\n{}{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stderr(&out), "", "stderr stays quiet on success");
    stdout(&out)
}

fn issued(env: &Env, token: &str) -> bool {
    env.emu.issued_tokens().iter().any(|t| t == token)
}

fn assert_silent_no(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(out));
    assert_eq!(stdout(out), "", "{what}");
    assert_eq!(stderr(out), "", "{what}");
}

#[test]
fn pip_json_form_replies_username_and_password() {
    let env = setup();
    let url = index(&env);
    for args in [
        vec!["--mode=creds", "--output=json", "get", url.as_str()],
        vec!["--mode=creds", "--output=json", "get", url.as_str(), "aws"],
    ] {
        let out = keyring_ok(&env, &args);
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["username"], "aws");
        assert!(issued(&env, v["password"].as_str().unwrap()), "{v}");
        assert_eq!(v.as_object().unwrap().len(), 2);
    }
    assert_eq!(env.tokens_issued(), 1);
}

#[test]
fn old_pip_and_uv_form_replies_the_bare_token() {
    let env = setup();
    let out = keyring_ok(&env, &["get", &index(&env), "aws"]);
    assert!(out.ends_with('\n') && out.lines().count() == 1, "{out:?}");
    assert!(issued(&env, out.trim_end()));
}

#[test]
fn uv_creds_form_replies_two_lines() {
    let env = setup();
    let out = keyring_ok(&env, &["get", &index(&env), "--mode", "creds"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], "aws");
    assert!(issued(&env, lines[1]));
}

#[test]
fn options_in_any_order_and_spelling() {
    let env = setup();
    let url = index(&env);
    let u = url.as_str();
    for args in [
        vec!["get", u, "aws", "--output=json", "--mode=creds"],
        vec!["--output", "json", "get", u, "--mode", "creds"],
        vec![
            "-b",
            "keyring.backends.chainer.ChainerBackend",
            "--mode=creds",
            "--output",
            "json",
            "get",
            u,
        ],
        vec![
            "--keyring-backend=x",
            "get",
            "--mode=creds",
            u,
            "aws",
            "--output=json",
        ],
    ] {
        let v: serde_json::Value = serde_json::from_str(&keyring_ok(&env, &args)).unwrap();
        assert!(issued(&env, v["password"].as_str().unwrap()), "{args:?}");
    }
    assert_eq!(
        env.tokens_issued(),
        1,
        "every call after the first came from the cache"
    );
}

#[test]
fn every_service_shape_is_recognised() {
    let env = setup();
    let endpoint = env.endpoint();
    for service in [
        format!("{endpoint}simple/"),
        format!("{endpoint}simple/artoken-demo/"),
        endpoint.trim_end_matches('/').to_string(),
        endpoint.replacen("http://", "http://aws@", 1),
        // the real host name (pip's host fallback and a real index URL); the SDK still asks the emulator
        HOST.to_string(),
        format!("{HOST}:443"),
        format!("https://{HOST}/pypi/pypi-store/simple/"),
    ] {
        let out = keyring_ok(&env, &["get", &service, "aws"]);
        assert!(issued(&env, out.trim_end()), "{service}");
    }
    assert_eq!(env.tokens_issued(), 1);
}

#[test]
fn a_warm_cache_makes_no_aws_call() {
    let env = setup();
    let token = env.ok(&["token"]);
    let before = env.emu.stats();
    let out = keyring_ok(&env, &["get", &index(&env), "aws"]);
    assert_eq!(out, token, "the keyring answer is the cached token");
    let after = env.emu.stats();
    assert_eq!(after.tokens_issued, before.tokens_issued);
    assert_eq!(
        after.requests.get("GetAuthorizationToken"),
        before.requests.get("GetAuthorizationToken"),
        "{:?}",
        after.requests
    );
}

#[test]
fn urls_that_are_not_codeartifact_get_a_silent_exit_1() {
    let env = setup();
    let port_only = env.emu.url().trim_start_matches("http://").to_string();
    for service in [
        "https://pypi.org/simple/".to_string(),
        "pypi.org".to_string(),
        port_only.clone(),
        format!("{}/simple/", env.emu.url()),
        "https://corp-11112222333.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/simple/"
            .to_string(),
        format!("https://evil.example/{HOST}/pypi/pypi-store/simple/"),
    ] {
        assert_silent_no(&keyring(&env, &["get", &service, "aws"]), &service);
        assert_silent_no(
            &keyring(&env, &["--mode=creds", "--output=json", "get", &service]),
            &service,
        );
    }
    // another username is not ours either
    assert_silent_no(
        &keyring(&env, &["get", &index(&env), "__token__"]),
        "__token__",
    );
    assert_eq!(
        env.tokens_issued(),
        0,
        "no AWS call for URLs that are not ours"
    );
}

#[test]
fn hyphenated_and_numbered_domains_are_recognised() {
    // Configured, but no such domain in the emulator: recognised means artoken asks AWS (and
    // says why it failed).
    let env = setup();
    let config = env.sb.work().join("artoken.yml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "repositories:\n",
        "repositories:\n  team:\n    domain: my-team-2\n",
    );
    std::fs::write(&config, text).unwrap();
    let out = keyring(
        &env,
        &[
            "get",
            "https://my-team-2-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/r9/simple/",
            "aws",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("domain my-team-2"), "{err}");
}

#[test]
fn works_with_a_repository_from_artoken_variables_alone() {
    let mut env = setup();
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    // Nothing configured: no token for any URL (trust_urls.rs); ARTOKEN_* configure one.
    env.sb
        .set_env("ARTOKEN_DOMAIN", "demo")
        .set_env("ARTOKEN_DOMAIN_OWNER", OWNER);
    let out = keyring_ok(
        &env,
        &["--mode=creds", "--output=json", "get", &index(&env)],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(issued(&env, v["password"].as_str().unwrap()));
}

#[test]
fn aws_refusing_is_one_line_on_stderr() {
    let mut env = setup();
    env.sb
        .set_env("AWS_ACCESS_KEY_ID", "AKIABLOCKEDBLOCKED00")
        .set_env("AWS_SECRET_ACCESS_KEY", "blocked-secret");
    for args in [
        vec!["get", HOST, "aws"],
        vec!["--mode=creds", "--output=json", "get", HOST],
    ] {
        let out = keyring(&env, &args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out), "");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("artoken keyring: error: "), "{err}");
        assert!(err.contains("codeartifact:GetAuthorizationToken"), "{err}");
    }
}

#[test]
fn invoked_through_a_keyring_symlink() {
    let env = setup();
    let bin = env.sb.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(artoken_bin(), bin.join("keyring")).unwrap();
    let run = |args: &[&str]| testkit::run(env.sb.command(bin.join("keyring")).args(args));

    let out = run(&["--mode=creds", "--output=json", "get", &index(&env)]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(issued(&env, v["password"].as_str().unwrap()));
    let out = run(&["get", &index(&env), "aws"]);
    assert_eq!(stdout(&out).trim_end(), v["password"].as_str().unwrap());
    assert_silent_no(
        &run(&["get", "https://pypi.org/simple/", "aws"]),
        "pypi.org",
    );

    let out = run(&["--help"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).starts_with("usage: keyring"),
        "{}",
        stdout(&out)
    );
    let out = run(&["--list-backends"]);
    assert!(out.status.success() && stdout(&out).contains("artoken"));
    let out = run(&["set", &index(&env), "aws"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(
        stderr(&out).contains("does not store passwords"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn set_del_help_and_usage_errors() {
    let env = setup();
    for op in ["set", "del"] {
        let out = keyring(&env, &[op, &index(&env), "aws"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out), "");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
    let out = keyring(&env, &["--list-backends"]);
    assert!(out.status.success());
    let out = keyring(&env, &["--frobnicate", "get", &index(&env)]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "usage errors exit 2 as argparse does"
    );
    assert!(stderr(&out).contains("unrecognized arguments: --frobnicate"));
    assert!(
        !stderr(&out).contains("--mode=creds"),
        "pip would call us outdated"
    );
    let out = keyring(&env, &["diagnose"]);
    assert!(out.status.success());
}

fn install(env: &Env, args: &[&str]) -> Output {
    let mut full = vec!["keyring", "install"];
    full.extend_from_slice(args);
    env.run(&full)
}

fn canonical_exe() -> PathBuf {
    std::fs::canonicalize(artoken_bin()).unwrap()
}

#[test]
fn install_puts_a_shim_on_path_and_uninstall_removes_it() {
    let env = setup();
    let dir = env.sb.root().join("shims");
    let dir_s = dir.to_str().unwrap();
    let out = install(&env, &["--dir", dir_s]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    let shim = dir.join("keyring");
    assert_eq!(std::fs::read_link(&shim).unwrap(), canonical_exe());
    let text = stdout(&out);
    assert!(
        text.contains(&format!("installed {}", shim.display())),
        "{text}"
    );
    assert!(
        text.contains("pip config set global.keyring-provider subprocess"),
        "{text}"
    );
    assert!(text.contains("UV_KEYRING_PROVIDER=subprocess"), "{text}");
    assert!(stderr(&out).contains("is not on PATH"), "{}", stderr(&out));

    // the shim answers
    let out = testkit::run_ok(env.sb.command(&shim).args(["get", &index(&env), "aws"]));
    assert!(issued(&env, stdout(&out).trim_end()));

    // again: nothing to do; on PATH: no warning
    let mut cmd = env.artoken();
    cmd.env(
        "PATH",
        format!("{dir_s}:{}", std::env::var("PATH").unwrap()),
    )
    .args(["keyring", "install", "--dir", dir_s]);
    let out = testkit::run_ok(&mut cmd);
    assert!(
        stdout(&out).contains("already installed"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("not on PATH"), "{}", stderr(&out));

    // the script form
    let out = install(&env, &["--dir", dir_s, "--script"]);
    assert!(out.status.success());
    let script = std::fs::read_to_string(&shim).unwrap();
    assert!(
        script.contains(&format!(
            "exec '{}' keyring \"$@\"",
            canonical_exe().display()
        )),
        "{script}"
    );
    let out = testkit::run_ok(env.sb.command(&shim).args([
        "--mode=creds",
        "--output=json",
        "get",
        &index(&env),
    ]));
    assert!(
        stdout(&out).contains("\"username\":\"aws\""),
        "{}",
        stdout(&out)
    );

    let out = env.run(&["keyring", "uninstall", "--dir", dir_s]);
    assert!(out.status.success());
    assert!(!shim.exists() && std::fs::symlink_metadata(&shim).is_err());
}

#[test]
fn install_never_overwrites_someone_elses_keyring() {
    let env = setup();
    let dir = env.sb.root().join("shims");
    std::fs::create_dir_all(&dir).unwrap();
    let theirs = "#!/usr/bin/python3\nfrom keyring.cli import main\nmain()\n";
    std::fs::write(dir.join("keyring"), theirs).unwrap();
    let out = install(&env, &["--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not artoken's keyring shim"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["keyring", "uninstall", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("keyring")).unwrap(),
        theirs
    );
}

#[test]
fn install_defaults_to_the_users_local_bin() {
    let env = setup();
    let out = install(&env, &[]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    let shim: &Path = &env.sb.home().join(".local/bin/keyring");
    assert_eq!(std::fs::read_link(shim).unwrap(), canonical_exe());
}
