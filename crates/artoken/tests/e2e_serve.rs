//! `artoken serve` end to end: the binary in a sandbox in front of the emulator, with real
//! pip, uv, npm and twine configured with token-free URLs only.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use codeartifact_emulator::{EmulatorConfig, Faults};
use common::*;
use testkit::clients::{pip_install, uv_install};
use testkit::{Sandbox, on_path, run, text, tool};

/// `serve`'s health report.
fn health(serve: &Serve) -> serde_json::Value {
    let (status, body) = serve.get("/_artoken/health");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// `npm install PACKAGE` in a new project whose .npmrc names the registry and no token.
fn npm_install(sb: &Sandbox, registry: &str, dir: &Path, package: &str) -> Output {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(".npmrc"), format!("registry={registry}\n")).unwrap();
    run(sb
        .command(on_path("npm"))
        .current_dir(dir)
        .env("npm_config_cache", dir.join(".npm-cache"))
        .env("npm_config_fetch_retries", "0")
        .env("npm_config_loglevel", "warn")
        .env("npm_config_progress", "false")
        .args(["install", package]))
}

fn assert_ok(out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
}

fn assert_no_token(env: &Env, s: &str) {
    for t in env.emu.issued_tokens() {
        assert!(!s.contains(&t), "a token leaked: {s}");
    }
}

fn with_faults(env: &Env, f: impl FnOnce(&mut Faults)) {
    let mut faults = env.emu.faults();
    f(&mut faults);
    env.emu.set_faults(faults);
}

#[test]
fn pip_uv_and_npm_install_through_the_proxy_without_a_token() {
    let env = setup();
    let serve = Serve::start_with(&env, &[], 2);
    assert_eq!(
        serve.lines,
        vec![
            format!("  demo (pypi): {}/demo/simple/", serve.base),
            format!("  js (npm): {}/js/", serve.base),
        ]
    );
    let index = format!("{}/demo/simple/", serve.base);
    let target = env.sb.root().join("site-pip");
    assert_ok(
        &pip_install(&env.sb, &index, &target, "artoken-demo"),
        "pip install",
    );
    assert!(target.join("artoken_demo/__init__.py").is_file());
    let target = env.sb.root().join("site-uv");
    assert_ok(
        &uv_install(&env.sb, &index, &target, "artoken-demo"),
        "uv pip install",
    );
    assert!(target.join("artoken_demo/__init__.py").is_file());
    let project = env.sb.work().join("npm-project");
    let out = npm_install(
        &env.sb,
        &format!("{}/js/", serve.base),
        &project,
        "artoken-demo",
    );
    assert_ok(&out, "npm install");
    assert!(
        project
            .join("node_modules/artoken-demo/package.json")
            .is_file()
    );
    let lock = std::fs::read_to_string(project.join("package-lock.json")).unwrap();
    assert!(
        lock.contains(&format!(
            "{}/js/artoken-demo/-/artoken-demo-1.0.0.tgz",
            serve.base
        )),
        "the lock file names the proxy: {lock}"
    );
    let health = health(&serve);
    assert_eq!(health["status"], "ok", "{health}");
    // One token, fetched once for both repositories of the domain.
    assert_eq!(env.tokens_issued(), 1);
    let stats = env.emu.stats();
    assert!(stats.requests.get("pypi:download").copied().unwrap_or(0) >= 2);
    assert!(stats.requests.get("npm:tarball").copied().unwrap_or(0) >= 1);
    let status = serve.terminate();
    assert!(status.success(), "{status}");
    // pip's, uv's and npm's caches, sites and lock files: no token anywhere.
    env.assert_no_token_on_disk(&[]);
}

#[test]
fn the_access_log_is_structured_and_never_shows_a_token() {
    let env = setup();
    let serve = Serve::start_with(&env, &["--access-log", "json"], 2);
    assert_eq!(serve.get("/demo/simple/artoken-demo/").0, 200);
    assert_eq!(serve.get("/demo/simple/no-such-project/").0, 404);
    // A record is written when its response body ends: poll for both.
    let json_lines = |err: &str| -> Vec<serde_json::Value> {
        err.lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let err = serve.wait_stderr("two access records", |e| json_lines(e).len() >= 2);
    assert_no_token(&env, &err);
    let lines = json_lines(&err);
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(lines[0]["method"], "GET");
    assert_eq!(lines[0]["path"], "/demo/simple/artoken-demo/");
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["repository"], "demo");
    assert!(lines[0]["bytes"].as_u64().unwrap() > 100);
    assert!(lines[0]["ms"].as_f64().is_some());
    assert_eq!(lines[1]["status"], 404);
}

/// A tiny wheel made with Python's zipfile.
fn make_wheel(sb: &Sandbox, dir: &Path, name: &str, version: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let module = name.replace('-', "_");
    let file = dir.join(format!("{module}-{version}-py3-none-any.whl"));
    let script = format!(
        r#"
import zipfile, sys
m, v, n = "{module}", "{version}", "{name}"
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr(f"{{m}}/__init__.py", f"def hello():\n    return 'hello from {{n}} {{v}}'\n")
    z.writestr(f"{{m}}-{{v}}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {{n}}\nVersion: {{v}}\n")
    z.writestr(f"{{m}}-{{v}}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr(f"{{m}}-{{v}}.dist-info/RECORD", "")
"#
    );
    let out = run(sb.command(tool("python")).args(["-c", &script]).arg(&file));
    assert_ok(&out, "making a wheel");
    file
}

#[test]
fn twine_uploads_through_the_proxy_and_pip_installs_the_upload() {
    let env = setup();
    let serve = Serve::start_with(&env, &[], 2);
    let wheel = make_wheel(
        &env.sb,
        &env.sb.work().join("dist"),
        "proxied-upload",
        "0.2.0",
    );
    let out = run(env
        .sb
        .command(tool("twine"))
        .args(["upload", "--non-interactive", "--disable-progress-bar"])
        .args(["--repository-url", &format!("{}/demo/", serve.base)])
        .args(["-u", "aws", "-p", "not-a-token"])
        .arg(&wheel));
    assert_ok(&out, "twine upload");
    assert_eq!(
        env.emu.stats().requests.get("pypi:upload").copied(),
        Some(1)
    );
    let target = env.sb.root().join("site");
    let out = pip_install(
        &env.sb,
        &format!("{}/demo/simple/", serve.base),
        &target,
        "proxied-upload==0.2.0",
    );
    assert_ok(&out, "pip install of the upload");
    assert!(target.join("proxied_upload/__init__.py").is_file());
    assert_no_token(&env, &serve.stderr());
    env.assert_no_token_on_disk(&[]);
}

#[test]
fn installs_keep_working_across_many_token_lifetimes() {
    // Every token the emulator issues lives 3 seconds.
    let env = setup_with(EmulatorConfig {
        faults: Faults {
            token_lifetime_secs: Some(3),
            ..Faults::default()
        },
        ..emulator_config()
    });
    let serve = Serve::start_with(&env, &[], 2);
    let index = format!("{}/demo/simple/", serve.base);
    let registry = format!("{}/js/", serve.base);
    let start = Instant::now();
    let mut runs = 0;
    // At least 12 s (four token lifetimes) and at least one install of each client, however
    // long each install takes on a loaded machine.
    while start.elapsed() < Duration::from_secs(12) || runs < 3 {
        let dir = env.sb.root().join(format!("run-{runs}"));
        let (what, out) = match runs % 3 {
            0 => (
                "pip install",
                pip_install(&env.sb, &index, &dir, "artoken-demo"),
            ),
            1 => (
                "uv pip install",
                uv_install(&env.sb, &index, &dir, "artoken-demo"),
            ),
            _ => (
                "npm install",
                npm_install(&env.sb, &registry, &dir, "artoken-demo"),
            ),
        };
        assert_ok(&out, &format!("{what} #{runs} at {:?}", start.elapsed()));
        runs += 1;
    }
    let issued = env.tokens_issued();
    assert!(
        issued >= 4,
        "only {issued} tokens in {:?} of 3-second tokens",
        start.elapsed()
    );
    let health = health(&serve);
    assert_eq!(health["status"], "ok", "{health}");
    assert_no_token(&env, &serve.stderr());
    env.assert_no_token_on_disk(&[]);
    eprintln!("{runs} installs, {issued} tokens");
}

#[test]
fn a_token_endpoint_outage_is_ridden_out_and_recovered_from() {
    // 20-second tokens: refreshed with 10 s left.
    let env = setup_with(EmulatorConfig {
        faults: Faults {
            token_lifetime_secs: Some(20),
            ..Faults::default()
        },
        ..emulator_config()
    });
    let mut env = env;
    env.sb.set_env("AWS_MAX_ATTEMPTS", "1");
    let serve = Serve::start_with(&env, &[], 2);
    assert_eq!(health(&serve)["status"], "ok");
    with_faults(&env, |f| f.token_endpoint_down = true);
    let index = format!("{}/demo/simple/", serve.base);
    // Wait for a failed refresh to show.
    let deadline = Instant::now() + Duration::from_secs(30);
    let degraded = loop {
        let h = health(&serve);
        if h["status"] == "degraded" {
            break h;
        }
        assert!(Instant::now() < deadline, "health never said degraded: {h}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let repo = &degraded["repositories"][0];
    assert!(
        repo["last_error"]
            .as_str()
            .unwrap()
            .contains("InternalServer"),
        "{degraded}"
    );
    assert!(repo["token_expires_in"].as_i64().unwrap() > 0, "{degraded}");
    // Still serving with the current token.
    let out = pip_install(
        &env.sb,
        &index,
        &env.sb.root().join("during"),
        "artoken-demo",
    );
    assert_ok(&out, "pip install during the outage");
    // The endpoint comes back: the proxy recovers by itself.
    with_faults(&env, |f| f.token_endpoint_down = false);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = health(&serve);
        if h["status"] == "ok" {
            assert!(
                h["repositories"][0]["token_expires_in"].as_i64().unwrap() > 10,
                "{h}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "health never recovered: {h}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = pip_install(
        &env.sb,
        &index,
        &env.sb.root().join("after"),
        "artoken-demo",
    );
    assert_ok(&out, "pip install after the outage");
    assert!(
        serve.stderr().contains("cannot refresh the token"),
        "{}",
        serve.stderr()
    );
    assert_no_token(&env, &serve.stderr());
    env.assert_no_token_on_disk(&[]);
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let env = setup();
    let serve = Serve::start_with(&env, &[], 2);
    with_faults(&env, |f| f.latency_ms = 1500);
    let url = format!("{}/demo/simple/artoken-demo/", serve.base);
    let received = |env: &Env| env.emu.stats().requests.get("received").copied();
    let before = received(&env);
    let inflight = std::thread::spawn(move || http_get(&url));
    // The request is in flight once the emulator has it (it then waits 1.5 s to answer).
    let deadline = Instant::now() + Duration::from_secs(60);
    while received(&env) == before {
        assert!(
            Instant::now() < deadline,
            "the request never reached the emulator"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = serve.terminate();
    assert!(status.success(), "{status}");
    let (code, body) = inflight.join().unwrap();
    assert_eq!(code, 200);
    assert!(
        body.contains("artoken-demo-1.0.0") || body.contains("artoken_demo-1.0.0"),
        "{body}"
    );
}

#[test]
fn listening_off_loopback_needs_a_flag_and_a_client_secret() {
    let env = setup();
    let out = env.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(1));
    let l = first_err_line(&out);
    assert!(
        l.contains("is not a loopback address") && l.contains("--allow-remote"),
        "{l}"
    );
    let out = env.run(&["serve", "--listen", "0.0.0.0:0", "--allow-remote"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        first_err_line(&out).contains("needs --client-secret-file"),
        "{}",
        first_err_line(&out)
    );
    let out = env.run(&["serve", "--listen", "nowhere"]);
    assert!(
        first_err_line(&out).contains("expected IP:PORT"),
        "{}",
        first_err_line(&out)
    );
    let out = env.run(&["serve", "--client-secret-file", "/nonexistent/secret"]);
    assert!(first_err_line(&out).contains("client secret file /nonexistent/secret"));
    assert_eq!(env.tokens_issued(), 0, "refused before any AWS call");

    // With a secret (here on loopback), pip passes it as the index password.
    let secret = env.sb.root().join("client-secret");
    std::fs::write(&secret, "a-long-random-client-secret-0123456789\n").unwrap();
    let serve = Serve::start_with(&env, &["--client-secret-file", secret.to_str().unwrap()], 2);
    let (status, _) = serve.get("/demo/simple/");
    assert_eq!(status, 401);
    let index = format!("{}/demo/simple/", serve.base).replacen(
        "http://",
        "http://aws:a-long-random-client-secret-0123456789@",
        1,
    );
    let out = pip_install(&env.sb, &index, &env.sb.root().join("site"), "artoken-demo");
    assert_ok(&out, "pip install with the client secret");
}
