//! The real clients (pip, uv, twine, npm) against the emulator's data plane, in sandboxes.

#[allow(dead_code)]
#[path = "../src/synth.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codeartifact_emulator::{BackgroundEmulator, EmulatorConfig, Format};
use testkit::clients::{pip_install, uv_install};
use testkit::{Sandbox, on_path, run, run_ok, text, tool};

const DOMAIN: &str = "demo";
const OWNER: &str = "111122223333";

fn start() -> (BackgroundEmulator, String) {
    let emu = BackgroundEmulator::start(EmulatorConfig::demo()).expect("emulator starts");
    let token = emu.issue_token(DOMAIN, OWNER, 3600);
    (emu, token)
}

/// `http://aws:TOKEN@host/...` from `http://host/...`.
fn with_credentials(url: &str, token: &str) -> String {
    url.replacen("http://", &format!("http://aws:{token}@"), 1)
}

/// Imports `module` from `target` and returns what `hello()` says.
fn python_hello(sb: &Sandbox, target: &Path, module: &str) -> String {
    let out = run_ok(
        sb.command(tool("python"))
            .env("PYTHONPATH", target)
            .args(["-c", &format!("import {module}; print({module}.hello())")]),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn assert_failed(out: &Output, what: &str, token: &str) {
    assert!(
        !out.status.success(),
        "{what} should have failed:\n{}",
        text(out)
    );
    assert!(!text(out).contains(token), "{what} printed the token");
}

#[test]
fn pip_installs_with_a_token_and_not_without() {
    let (emu, token) = start();
    let sb = Sandbox::new();
    let endpoint = emu.endpoint(DOMAIN, OWNER, Format::Pypi, "pypi-store");
    let index = format!("{endpoint}simple/");

    let target = sb.root().join("site-ok");
    let out = pip_install(
        &sb,
        &with_credentials(&index, &token),
        &target,
        "artoken-demo",
    );
    assert!(out.status.success(), "pip install failed:\n{}", text(&out));
    assert!(target.join("artoken_demo/__init__.py").is_file());
    assert!(target.join("artoken_demo-1.0.0.dist-info/RECORD").is_file());
    assert_eq!(
        python_hello(&sb, &target, "artoken_demo"),
        "hello from artoken-demo 1.0.0"
    );

    let out = pip_install(&sb, &index, &sb.root().join("site-anon"), "artoken-demo");
    assert_failed(&out, "pip without a token", &token);

    emu.expire_all_tokens();
    let out = pip_install(
        &sb,
        &with_credentials(&index, &token),
        &sb.root().join("site-expired"),
        "artoken-demo",
    );
    assert_failed(&out, "pip with an expired token", &token);
    let stats = emu.stats();
    assert!(stats.requests.get("pypi:download").copied().unwrap_or(0) >= 1);
    assert!(stats.requests.get("pypi:refused").copied().unwrap_or(0) >= 2);
}

#[test]
fn uv_installs_with_a_token_and_not_without() {
    let (emu, token) = start();
    let sb = Sandbox::new();
    let index = format!(
        "{}simple/",
        emu.endpoint(DOMAIN, OWNER, Format::Pypi, "pypi-store")
    );

    let target = sb.root().join("site-ok");
    let out = uv_install(
        &sb,
        &with_credentials(&index, &token),
        &target,
        "artoken-demo",
    );
    assert!(
        out.status.success(),
        "uv pip install failed:\n{}",
        text(&out)
    );
    assert!(target.join("artoken_demo/__init__.py").is_file());
    assert_eq!(
        python_hello(&sb, &target, "artoken_demo"),
        "hello from artoken-demo 1.0.0"
    );

    let out = uv_install(&sb, &index, &sb.root().join("site-anon"), "artoken-demo");
    assert_failed(&out, "uv without a token", &token);

    emu.expire_all_tokens();
    let out = uv_install(
        &sb,
        &with_credentials(&index, &token),
        &sb.root().join("site-expired"),
        "artoken-demo",
    );
    assert_failed(&out, "uv with an expired token", &token);
}

#[test]
fn twine_uploads_and_pip_installs_the_upload() {
    let (emu, token) = start();
    let mut sb = Sandbox::new();
    let endpoint = emu.endpoint(DOMAIN, OWNER, Format::Pypi, "pypi-store");
    let wheel = synth::wheel("twine-probe", "0.3.1").expect("wheel");
    let dist = sb.work().join("dist");
    std::fs::create_dir_all(&dist).expect("dist dir");
    let file = dist.join(&wheel.filename);
    std::fs::write(&file, &wheel.bytes).expect("write wheel");

    sb.set_env("TWINE_PASSWORD", &token);
    let upload = |sb: &Sandbox| {
        run(sb
            .command(tool("twine"))
            .args(["upload", "--non-interactive", "--disable-progress-bar"])
            .args(["--repository-url", &endpoint, "-u", "aws"])
            .arg(&file))
    };
    let out = upload(&sb);
    assert!(out.status.success(), "twine upload failed:\n{}", text(&out));
    assert!(!text(&out).contains(&token), "twine printed the token");

    // The same file again: 409, which twine reports as a failure.
    let out = upload(&sb);
    assert_failed(&out, "a second upload of the same file", &token);

    let target = sb.root().join("site");
    let index = with_credentials(&format!("{endpoint}simple/"), &token);
    let out = pip_install(&sb, &index, &target, "twine-probe==0.3.1");
    assert!(out.status.success(), "pip install failed:\n{}", text(&out));
    assert_eq!(
        python_hello(&sb, &target, "twine_probe"),
        "hello from twine-probe 0.3.1"
    );
    assert_eq!(emu.stats().requests.get("pypi:upload").copied(), Some(2));
}

/// A directory with an `.npmrc` for the emulator's npm endpoint (with the token line if given).
fn npm_project(sb: &Sandbox, name: &str, registry: &str, token: Option<&str>) -> PathBuf {
    let dir = sb.work().join(name);
    std::fs::create_dir_all(&dir).expect("project dir");
    let mut npmrc = format!("registry={registry}\n");
    if let Some(token) = token {
        let nerf = registry.trim_start_matches("http:");
        npmrc.push_str(&format!("{nerf}:_authToken={token}\n"));
    }
    std::fs::write(dir.join(".npmrc"), npmrc).expect("write .npmrc");
    dir
}

fn npm(sb: &Sandbox, dir: &Path) -> Command {
    let mut cmd = sb.command(on_path("npm"));
    // A cache per project, so no run answers from another's cache.
    cmd.current_dir(dir)
        .env("npm_config_cache", dir.join(".npm-cache"))
        .env("npm_config_fetch_retries", "0")
        .env("npm_config_loglevel", "warn")
        .env("npm_config_progress", "false");
    cmd
}

#[test]
fn npm_installs_and_publishes() {
    let (emu, token) = start();
    let sb = Sandbox::new();
    let registry = emu.endpoint(DOMAIN, OWNER, Format::Npm, "npm-store");

    let consumer = npm_project(&sb, "consumer", &registry, Some(&token));
    run_ok(npm(&sb, &consumer).args(["install", "artoken-demo"]));
    assert!(
        consumer
            .join("node_modules/artoken-demo/package.json")
            .is_file()
    );
    let lock = std::fs::read_to_string(consumer.join("package-lock.json")).expect("lockfile");
    assert!(lock.contains("sha512-"), "{lock}");

    let anon = npm_project(&sb, "anon", &registry, None);
    let out = run(npm(&sb, &anon).args(["install", "artoken-demo"]));
    assert_failed(&out, "npm install without a token", &token);
    assert!(!anon.join("node_modules/artoken-demo").exists());

    // Publish a small package, then install it.
    let publisher = npm_project(&sb, "publisher", &registry, Some(&token));
    std::fs::write(
        publisher.join("package.json"),
        r#"{"name": "e2e-published", "version": "0.1.0", "description": "published by the e2e test", "main": "index.js", "license": "MIT"}"#,
    )
    .expect("package.json");
    std::fs::write(publisher.join("index.js"), "module.exports = 42;\n").expect("index.js");
    let out = run_ok(npm(&sb, &publisher).arg("publish"));
    assert!(
        !text(&out).contains(&token),
        "npm publish printed the token"
    );
    let out = run(npm(&sb, &publisher).arg("publish"));
    assert_failed(&out, "republishing 0.1.0", &token);
    assert!(
        text(&out).contains("previously published"),
        "{}",
        text(&out)
    );

    run_ok(npm(&sb, &consumer).args(["install", "e2e-published"]));
    assert!(
        consumer
            .join("node_modules/e2e-published/index.js")
            .is_file()
    );
    let out = run_ok(sb.command(on_path("node")).current_dir(&consumer).args([
        "-e",
        "console.log(require('e2e-published'), require('artoken-demo').hello())",
    ]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "42 hello from artoken-demo 1.0.0"
    );

    // Expired token: refused.
    emu.expire_all_tokens();
    let late = npm_project(&sb, "late", &registry, Some(&token));
    let out = run(npm(&sb, &late).args(["install", "artoken-demo"]));
    assert_failed(&out, "npm install with an expired token", &token);
    let stats = emu.stats();
    // npm 11 checks the packument itself before a republish, so the second may not reach us.
    assert!(stats.requests.get("npm:publish").copied().unwrap_or(0) >= 1);
    assert!(stats.requests.get("npm:tarball").copied().unwrap_or(0) >= 2);
}
