//! A token handed in, not fetched (issue #14): with no AWS credentials at all, pip (through
//! `artoken exec`), uv (through the keyring helper) and npm (after `login npm`) install from the
//! emulator with a token from a file or `ARTOKEN_TOKEN`, and the emulator counts no
//! control-plane call; an expired token, a token file others may write or another user owns
//! are one-line errors naming their source; the stated precedence holds.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use testkit::{on_path, text, tool};

/// The variables that could give the AWS SDK credentials, all gone; the shared files point
/// nowhere and IMDS stays off (the sandbox sets `AWS_EC2_METADATA_DISABLED`).
fn no_aws(mut cmd: Command, env: &Env) -> Command {
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        cmd.env_remove(k);
    }
    let nowhere = env.sb.root().join("no-aws");
    cmd.env("AWS_CONFIG_FILE", nowhere.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

fn artoken(env: &Env) -> Command {
    no_aws(env.artoken(), env)
}

/// The emulator's calls other than the data plane's (`pypi:`, `npm:` ...): AWS API calls.
fn control_plane_calls(env: &Env) -> Vec<String> {
    env.emu
        .stats()
        .requests
        .keys()
        .filter(|k| !k.contains(':') && *k != "received")
        .cloned()
        .collect()
}

fn data_plane_calls(env: &Env) -> u64 {
    env.emu
        .stats()
        .requests
        .iter()
        .filter(|(k, _)| k.contains(':'))
        .map(|(_, n)| n)
        .sum()
}

/// A token the emulator accepts, minted without any HTTP call, in a 0400 file as BuildKit
/// mounts a secret.
fn secret_file(env: &Env, name: &str) -> (String, PathBuf) {
    let token = env.emu.issue_token("demo", OWNER, 3600);
    let dir = env.sb.root().join("run-secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    (token, path)
}

/// A token shaped like CodeArtifact's (a JWE whose header states `isu` and `exp`).
fn jwe(isu: i64, exp: i64) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let header = format!(
        r#"{{"ver":1,"isu":{isu},"enc":"A128GCM","tag":"t","exp":{exp},"alg":"A128GCMKW","iv":"i"}}"#
    );
    let mut out = String::new();
    for chunk in header.as_bytes().chunks(3) {
        let n = chunk.iter().fold(0u32, |a, &c| (a << 8) | c as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out + ".c2VjcmV0.aGFuZGVkLWlu.cGF5bG9hZA"
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn assert_no_token_in(out: &Output, token: &str, what: &str) {
    assert!(!text(out).contains(token), "{what} printed the token");
}

fn assert_fails_one_line(out: &Output, want: &[&str]) -> String {
    assert!(!out.status.success(), "should fail:\n{}", text(out));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line:\n{err}");
    for w in want {
        assert!(lines[0].contains(w), "{w:?} not in: {}", lines[0]);
    }
    lines[0].to_string()
}

fn assert_installed(out: &Output, target: &Path, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
    assert!(
        target.join("artoken_demo/__init__.py").is_file(),
        "{what}: nothing installed:\n{}",
        text(out)
    );
}

/// No AWS credentials reach artoken at all: without a handed-in token it cannot work.
#[test]
fn without_a_handed_in_token_there_are_no_credentials() {
    let env = setup();
    let out = testkit::run(artoken(&env).args(["token", "demo"]));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("credentials"), "{}", text(&out));
    assert_eq!(env.emu.stats().tokens_issued, 0);
}

#[test]
fn pip_installs_through_exec_with_a_token_file_and_no_aws_call() {
    let env = setup();
    let (token, file) = secret_file(&env, "codeartifact");
    let target = env.sb.root().join("site-pip");
    // artoken.yml's env: PIP_INDEX_URL { url: demo } and CODEARTIFACT_AUTH_TOKEN { token: demo }.
    let mut cmd = artoken(&env);
    cmd.arg("--token-file")
        .arg(&file)
        .args(["exec", "--"])
        .arg(tool("pip"))
        .args([
            "install",
            "--no-cache-dir",
            "--retries",
            "0",
            "--timeout",
            "20",
            "--target",
        ])
        .arg(&target)
        .arg("artoken-demo");
    let out = testkit::run(&mut cmd);
    assert_installed(&out, &target, "pip under artoken exec");
    assert_no_token_in(&out, &token, "pip under exec");
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
    assert!(data_plane_calls(&env) > 0);
    // The same through the environment; -vv's logs never show it (the suite's leak check
    // reads them too).
    let out = testkit::run(artoken(&env).env("ARTOKEN_TOKEN_FILE", &file).arg("env"));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&token), "env hands the token over");
    let out = testkit::run(artoken(&env).env("ARTOKEN_TOKEN_FILE", &file).args([
        "-vv",
        "exec",
        "--",
        "sh",
        "-c",
        "test -n \"$CODEARTIFACT_AUTH_TOKEN\"",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("handed in by token file"),
        "-vv says where: {err}"
    );
    assert!(!err.contains(&token));
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
}

#[test]
fn uv_installs_through_the_keyring_helper_with_artoken_token_file() {
    let mut env = setup();
    let (token, file) = secret_file(&env, "codeartifact");
    let bin = env.sb.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(artoken_bin(), bin.join("keyring")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.sb.set_env("PATH", path);
    let index = format!("{}simple/", env.endpoint()).replacen("http://", "http://aws@", 1);
    let target = env.sb.root().join("site-uv");
    let mut cmd = no_aws(env.sb.command(tool("uv")), &env);
    cmd.env("UV_CACHE_DIR", env.sb.cache_home().join("uv"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_CONFIG", "1")
        .env("ARTOKEN_TOKEN_FILE", &file)
        .args([
            "pip",
            "install",
            "--no-cache",
            "--keyring-provider",
            "subprocess",
            "--python",
        ])
        .arg(tool("python"))
        .arg("--target")
        .arg(&target)
        .args(["--index-url", &index, "artoken-demo"]);
    let out = testkit::run(&mut cmd);
    assert_installed(&out, &target, "uv through the keyring helper");
    assert_no_token_in(&out, &token, "uv");
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
    assert!(data_plane_calls(&env) > 0);
}

#[test]
fn npm_installs_after_login_npm_with_artoken_token() {
    let env = setup();
    let token = env.emu.issue_token("demo", OWNER, 3600);
    let consumer = env.sb.work().join("consumer");
    std::fs::create_dir_all(&consumer).unwrap();
    std::fs::write(
        consumer.join("package.json"),
        r#"{"name": "consumer", "version": "1.0.0", "private": true}"#,
    )
    .unwrap();
    let out = testkit::run(artoken(&env).env("ARTOKEN_TOKEN", &token).args([
        "login",
        "npm",
        "js",
        "--file",
        "consumer/.npmrc",
    ]));
    assert!(out.status.success(), "login npm:\n{}", text(&out));
    assert_no_token_in(&out, &token, "login npm");
    let mut npm = no_aws(env.sb.command(on_path("npm")), &env);
    npm.current_dir(&consumer)
        .env("npm_config_cache", consumer.join(".npm-cache"))
        .env("npm_config_fetch_retries", "0")
        .env("npm_config_loglevel", "warn")
        .env("npm_config_progress", "false")
        .env("npm_config_logs_max", "0")
        .args(["install", "artoken-demo"]);
    let out = testkit::run(&mut npm);
    assert!(out.status.success(), "npm install:\n{}", text(&out));
    assert_no_token_in(&out, &token, "npm");
    assert!(
        consumer
            .join("node_modules/artoken-demo/package.json")
            .is_file()
    );
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
    assert!(data_plane_calls(&env) > 0);
}

#[test]
fn an_expired_token_is_one_line_naming_its_source_and_fails() {
    let env = setup();
    let dir = env.sb.root().join("run-secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("old");
    let expired = jwe(now() - 43_200 - 600, now() - 600);
    std::fs::write(&file, &expired).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let shown = file.display().to_string();
    for args in [
        vec!["url", "demo"],
        vec!["exec", "--", "true"],
        vec!["login", "npm", "js", "--file", "x.npmrc"],
    ] {
        let out = testkit::run(artoken(&env).arg("--token-file").arg(&file).args(&args));
        let line = assert_fails_one_line(&out, &["expired", &shown, "--token-file"]);
        assert!(!line.contains(&expired), "{line}");
    }
    let out = testkit::run(artoken(&env).env("ARTOKEN_TOKEN", &expired).args(["token"]));
    assert_fails_one_line(&out, &["expired", "ARTOKEN_TOKEN"]);
    // The keyring helper: non-zero, and no fetch behind its back.
    let out = testkit::run(artoken(&env).env("ARTOKEN_TOKEN", &expired).args([
        "keyring",
        "get",
        &format!("{}simple/", env.endpoint()),
        "aws",
    ]));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("expired"), "{}", text(&out));
    assert!(env.emu.stats().requests.is_empty(), "{:?}", env.emu.stats());
}

#[test]
fn a_token_file_others_may_write_or_another_user_owns_is_refused_with_a_reason() {
    let env = setup();
    let (token, file) = secret_file(&env, "codeartifact");
    let shown = file.display().to_string();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = testkit::run(
        artoken(&env)
            .arg("--token-file")
            .arg(&file)
            .args(["url", "demo"]),
    );
    let line = assert_fails_one_line(&out, &[&shown, "refused", "others write"]);
    assert!(!line.contains(&token));
    // A symlink is followed: to a good file it works, to a bad one it is refused.
    let link = env.sb.root().join("link");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let out = testkit::run(
        artoken(&env)
            .arg("--token-file")
            .arg(&link)
            .args(["url", "demo"]),
    );
    assert_fails_one_line(&out, &["refused", "others write"]);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = testkit::run(
        artoken(&env)
            .arg("--token-file")
            .arg(&link)
            .args(["url", "demo"]),
    );
    assert!(out.status.success(), "{}", text(&out));
    // Readable by every user: works, with a warning naming the file.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = testkit::run(
        artoken(&env)
            .arg("--token-file")
            .arg(&file)
            .args(["url", "demo"]),
    );
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&shown) && err.contains("every user can read"),
        "{err}"
    );
    // Another user's file (root alone can make one): refused, naming the owner.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    if std::os::unix::fs::lchown(&file, Some(4321), None).is_ok() {
        let out = testkit::run(
            artoken(&env)
                .arg("--token-file")
                .arg(&file)
                .args(["url", "demo"]),
        );
        assert_fails_one_line(&out, &[&shown, "uid 4321"]);
    } else {
        // Not root: the rule itself is proven in artoken-core's handed::tests.
        assert_ne!(testkit_euid(), 0);
    }
    // Not a token: a NAME=VALUE line, two lines.
    for (name, text_) in [("dotenv", "TOKEN=abc\n"), ("two", "abc\ndef\n")] {
        let p = env.sb.root().join(name);
        std::fs::write(&p, text_).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = testkit::run(
            artoken(&env)
                .arg("--token-file")
                .arg(&p)
                .args(["url", "demo"]),
        );
        let line = assert_fails_one_line(&out, &[&p.display().to_string(), "not a token"]);
        assert!(!line.contains("abc"), "{line}");
    }
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
}

fn testkit_euid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    let p = std::env::temp_dir().join(format!("handed-in-euid-{}", std::process::id()));
    std::fs::write(&p, "").unwrap();
    let uid = std::fs::metadata(&p).unwrap().uid();
    let _ = std::fs::remove_file(&p);
    uid
}

#[test]
fn precedence_flag_then_token_file_variable_then_token_variable_then_config() {
    let env = setup();
    let dir = env.sb.root().join("run-secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let put = |name: &str| {
        let p = dir.join(name);
        std::fs::write(&p, format!("tok-{name}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let (flag, var_file, cfg) = (put("flag"), put("var-file"), put("config"));
    std::fs::write(
        env.sb.work().join("artoken.user.yml"),
        format!(
            "repositories:\n  handed:\n    domain: demo\n    owner: \"{OWNER}\"\n    repository: pypi-store\n    format: pypi\n    token_file: {}\n",
            cfg.display()
        ),
    )
    .unwrap();
    let token = |cmd: &mut Command| {
        let out = testkit::run(cmd);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mut all = artoken(&env);
    all.arg("--token-file")
        .arg(&flag)
        .env("ARTOKEN_TOKEN_FILE", &var_file)
        .env("ARTOKEN_TOKEN", "tok-var")
        .args(["token", "handed"]);
    assert_eq!(token(&mut all), "tok-flag");
    let mut vars = artoken(&env);
    vars.env("ARTOKEN_TOKEN_FILE", &var_file)
        .env("ARTOKEN_TOKEN", "tok-var")
        .args(["token", "handed"]);
    assert_eq!(token(&mut vars), "tok-var-file");
    let mut var = artoken(&env);
    var.env("ARTOKEN_TOKEN", "tok-var")
        .args(["token", "handed"]);
    assert_eq!(token(&mut var), "tok-var");
    // An empty variable is unset: the repository's own token_file.
    let mut cfg_only = artoken(&env);
    cfg_only.env("ARTOKEN_TOKEN", "").args(["token", "handed"]);
    assert_eq!(token(&mut cfg_only), "tok-config");
    // CODEARTIFACT_AUTH_TOKEN (which artoken sets for its children) is never read.
    let mut inherited = artoken(&env);
    inherited
        .env("CODEARTIFACT_AUTH_TOKEN", "tok-inherited")
        .args(["token", "handed"]);
    assert_eq!(token(&mut inherited), "tok-config");
    let out = testkit::run(
        artoken(&env)
            .env("CODEARTIFACT_AUTH_TOKEN", "tok-inherited")
            .args(["token", "demo"]),
    );
    assert!(
        !out.status.success(),
        "fetched, not inherited: {}",
        text(&out)
    );
    // The endpoint comes from config (owner, region, repository) under the endpoint override.
    let url = token(artoken(&env).args(["url", "handed", "--tool", "endpoint"]));
    assert_eq!(url, env.endpoint());
    // A repository without token_file: still fetched, and with no credentials that fails.
    let out = testkit::run(artoken(&env).args(["token", "demo"]));
    assert!(!out.status.success());
    assert_eq!(env.emu.stats().tokens_issued, 0);
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
}

/// `artoken serve` with a handed-in token file: no AWS call; the file is read again when the
/// repository refuses the token, so a rotated secret is picked up with no restart.
#[test]
fn serve_uses_the_token_file_and_picks_up_a_rotated_one() {
    let env = setup();
    let (_, file) = secret_file(&env, "codeartifact");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = artoken(&env);
    cmd.env("ARTOKEN_TOKEN_FILE", &file);
    let serve = Serve::start_cmd(&env, cmd, &[], 1);
    let get = |path: &str| serve.get(path).0;
    assert_eq!(get("/demo/simple/artoken-demo/"), 200);
    // The secret is rotated (written aside, renamed over) and the old token dies.
    env.emu.expire_all_tokens();
    let fresh = env.emu.issue_token("demo", OWNER, 3600);
    let aside = file.with_extension("new");
    std::fs::write(&aside, format!("{fresh}\n")).unwrap();
    std::fs::set_permissions(&aside, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::rename(&aside, &file).unwrap();
    assert_eq!(get("/demo/simple/artoken-demo/"), 200);
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
    drop(serve);
}

/// The cargo credential provider answers with the handed-in token, and no AWS call.
#[test]
fn the_cargo_credential_provider_answers_with_the_handed_in_token() {
    use std::io::Write;
    let env = setup();
    let (token, file) = secret_file(&env, "codeartifact");
    let index = format!(
        "sparse+{}/demo-{OWNER}.d.codeartifact.{}.amazonaws.com/cargo/crates/",
        env.emu.url(),
        testkit::REGION
    );
    let req = format!(
        r#"{{"v":1,"registry":{{"index-url":"{index}","name":"corp"}},"kind":"get","operation":"read","args":[]}}"#
    );
    let mut cmd = artoken(&env);
    cmd.arg("--token-file")
        .arg(&file)
        .args(["cargo-credential", "--cargo-plugin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{req}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    testkit::record_output(&cmd, &out);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reply: serde_json::Value = serde_json::from_str(stdout.lines().nth(1).unwrap()).unwrap();
    assert_eq!(reply["Ok"]["token"], token.as_str(), "{reply}");
    // The emulator's tokens state no expiry: the file's time + 12 h bounds it.
    let left = reply["Ok"]["expiration"].as_i64().unwrap() - now();
    assert!((43_000..=43_200).contains(&left), "{reply}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
}

/// `status` says a handed-in token is handed in, and from where (not as if it were cached),
/// with its stated expiry; the token itself is never shown.
#[test]
fn status_names_where_a_handed_in_token_comes_from() {
    let env = setup();
    let (token, file) = secret_file(&env, "codeartifact-token");
    let out = testkit::run(artoken(&env).arg("--token-file").arg(&file).arg("status"));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = format!("handed in: token file {} (--token-file)", file.display());
    assert!(stdout.contains(&want), "{stdout}");
    assert!(!stdout.contains("no cached token"), "{stdout}");
    assert_no_token_in(&out, &token, "status");
    let out = testkit::run(
        artoken(&env)
            .env("ARTOKEN_TOKEN", &token)
            .args(["status", "--json"]),
    );
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let demo = &v["repositories"][0];
    assert_eq!(demo["name"], "demo");
    assert_eq!(demo["token_source"], "handed in: ARTOKEN_TOKEN");
    assert!(
        demo["token"]["expires_in_seconds"].as_i64().is_some(),
        "{v}"
    );
    assert_no_token_in(&out, &token, "status --json");
    // Fetched tokens say so.
    let out = testkit::run(env.artoken().args(["status", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["repositories"][0]["token_source"], "cache");
    assert_eq!(control_plane_calls(&env), Vec::<String>::new());
}
