//! pip (newest and pre-26.2) and uv install from the emulator through artoken answering as
//! `keyring`, with no token on disk or in any URL; a token that expires between two installs
//! is replaced with no user action.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use codeartifact_emulator::Faults;
use common::*;
use testkit::{ArgvLog, text, tool, venv_tool};

/// A sandbox `bin` first on PATH (and in no virtualenv) holding `keyring -> artoken`, a
/// symlink, as an installed shim would; before it, the argv-recording shim of `keyring`
/// (`Sandbox::record_argv`), whose records also go to the suite's leak check.
fn keyring_on_path(env: &mut Env) -> ArgvLog {
    let bin = env.sb.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(artoken_bin(), bin.join("keyring")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.sb.set_env("PATH", path);
    env.sb.record_argv(&["keyring"])
}

/// The keyring command lines the clients ran (arguments joined by spaces), with the URL shown
/// as `URL`.
fn calls(env: &Env, log: &ArgvLog) -> Vec<String> {
    let url = index(env);
    let with_user = index_with_user(env);
    log.of("keyring")
        .iter()
        .map(|r| {
            r.args()
                .join(" ")
                .replace(&with_user, "URL")
                .replace(&url, "URL")
        })
        .collect()
}

fn index(env: &Env) -> String {
    format!("{}simple/", env.endpoint())
}

/// `http://aws@127.0.0.1:PORT/...`: a user name and no password.
fn index_with_user(env: &Env) -> String {
    index(env).replacen("http://", "http://aws@", 1)
}

fn pip(env: &Env, pip: &Path, index: &str, target: &Path) -> Output {
    testkit::run(
        env.sb
            .command(pip)
            .args([
                "install",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--no-input",
                "--keyring-provider",
                "subprocess",
                "--retries",
                "0",
                "--timeout",
                "20",
                "--target",
            ])
            .arg(target)
            .args(["--index-url", index, "artoken-demo"]),
    )
}

fn uv(env: &Env, index: &str, target: &Path) -> Command {
    let mut cmd = env.sb.command(tool("uv"));
    cmd.env("UV_CACHE_DIR", env.sb.cache_home().join("uv"))
        .env("UV_PYTHON_DOWNLOADS", "never")
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
        .arg(target)
        .args(["--index-url", index, "artoken-demo"]);
    cmd
}

fn assert_installed(out: &Output, target: &Path, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
    assert!(
        target.join("artoken_demo/__init__.py").is_file(),
        "{what}: nothing installed in {}:\n{}",
        target.display(),
        text(out)
    );
}

/// Every file under `dir` (symlinks not followed).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            files(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

/// No issued token in any file of the sandbox except artoken's own cache, nor in any output.
fn assert_no_token_on_disk(env: &Env, outputs: &[&Output]) {
    let tokens = env.emu.issued_tokens();
    assert!(!tokens.is_empty(), "the helper was never asked for a token");
    let cache = env.sb.cache_home().join("artoken");
    let mut all = Vec::new();
    files(env.sb.root(), &mut all);
    assert!(all.len() > 3, "{all:?}");
    for f in all.iter().filter(|f| !f.starts_with(&cache)) {
        let bytes = std::fs::read(f).unwrap();
        for t in &tokens {
            let hit = bytes.windows(t.len()).any(|w| w == t.as_bytes());
            assert!(!hit, "a token is on disk in {}", f.display());
        }
    }
    for out in outputs {
        let t = text(out);
        for token in &tokens {
            assert!(
                !t.contains(token.as_str()),
                "a client printed the token:\n{t}"
            );
        }
    }
}

#[test]
fn newest_pip_installs_through_the_keyring_helper() {
    let mut env = setup();
    let log = keyring_on_path(&mut env);
    let pip_new = tool("pip");
    let target = env.sb.root().join("site-pip");
    // pip >= 26.2 asks with `--mode=creds --output=json` and no user name in the URL.
    let out = pip(&env, &pip_new, &index(&env), &target);
    assert_installed(&out, &target, "pip (newest)");
    assert_eq!(env.tokens_issued(), 1);
    assert_eq!(
        calls(&env, &log),
        vec!["--mode=creds --output=json get URL"],
        "the form this client uses"
    );
    assert_no_token_on_disk(&env, &[&out]);
}

#[test]
fn pip_before_26_2_installs_through_the_keyring_helper() {
    let mut env = setup();
    let log = keyring_on_path(&mut env);
    let pip_old = venv_tool("pip-old", "pip");
    let version = testkit::run_ok(env.sb.command(&pip_old).arg("--version"));
    assert!(text(&version).starts_with("pip 25."), "{}", text(&version));
    let target = env.sb.root().join("site-pip-old");
    let out = pip(&env, &pip_old, &index_with_user(&env), &target);
    assert_installed(&out, &target, "pip 25");
    assert_eq!(
        calls(&env, &log),
        vec!["get URL aws"],
        "the form this client uses"
    );
    assert_no_token_on_disk(&env, &[&out]);
}

#[test]
fn uv_installs_through_the_keyring_helper_with_no_config_file() {
    let mut env = setup();
    let log = keyring_on_path(&mut env);
    // no config file: the domain comes from ARTOKEN_* (a URL alone gets no token)
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    env.sb
        .set_env("ARTOKEN_DOMAIN", "demo")
        .set_env("ARTOKEN_DOMAIN_OWNER", OWNER);
    let target = env.sb.root().join("site-uv");
    let out = testkit::run(uv(&env, &index_with_user(&env), &target).env("UV_NO_CONFIG", "1"));
    assert_installed(&out, &target, "uv");
    assert_eq!(
        calls(&env, &log),
        vec!["get URL aws"],
        "the form this client uses"
    );
    assert_no_token_on_disk(&env, &[&out]);
}

#[test]
fn uv_with_authenticate_always_asks_for_creds() {
    let mut env = setup();
    let log = keyring_on_path(&mut env);
    // An index with `authenticate = "always"` and no user name: uv asks `keyring get URL --mode creds`.
    let config = env.sb.root().join("uv.toml");
    std::fs::write(
        &config,
        format!(
            "[[index]]\nname = \"demo\"\nurl = \"{}\"\nauthenticate = \"always\"\ndefault = true\n",
            index(&env)
        ),
    )
    .unwrap();
    let target = env.sb.root().join("site-uv-always");
    let mut cmd = env.sb.command(tool("uv"));
    cmd.env("UV_CACHE_DIR", env.sb.cache_home().join("uv"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .args([
            "pip",
            "install",
            "--no-cache",
            "--keyring-provider",
            "subprocess",
            "--config-file",
        ])
        .arg(&config)
        .arg("--python")
        .arg(tool("python"))
        .arg("--target")
        .arg(&target)
        .arg("artoken-demo");
    let out = testkit::run(&mut cmd);
    assert_installed(&out, &target, "uv (authenticate = always)");
    assert_eq!(
        calls(&env, &log),
        vec!["get URL --mode creds"],
        "the form this client uses"
    );
    assert_no_token_on_disk(&env, &[&out]);
}

#[test]
fn a_token_that_expires_between_installs_is_replaced_without_the_user() {
    let mut env = setup();
    let log = keyring_on_path(&mut env);
    env.emu.set_faults(Faults {
        // Long enough that a token handed out (with at least half its life left) outlives one
        // install on a machine four times slower than this one.
        token_lifetime_secs: Some(10),
        ..env.emu.faults()
    });
    let pip_new = tool("pip");
    let first = env.sb.root().join("site-1");
    let out1 = pip(&env, &pip_new, &index(&env), &first);
    assert_installed(&out1, &first, "first pip install");
    let uv_first = env.sb.root().join("site-uv-1");
    let out_uv1 =
        testkit::run(uv(&env, &index_with_user(&env), &uv_first).env("UV_NO_CONFIG", "1"));
    assert_installed(&out_uv1, &uv_first, "first uv install");
    let issued_before = env.tokens_issued();

    // Waiting for time to pass, not for a server: every token issued so far is dead after this.
    std::thread::sleep(Duration::from_secs(10));
    // The cached token is dead now; the helper fetches another one on its own.
    let second = env.sb.root().join("site-2");
    let out2 = pip(&env, &pip_new, &index(&env), &second);
    assert_installed(&out2, &second, "pip install after the token expired");
    let uv_second = env.sb.root().join("site-uv-2");
    let out_uv2 =
        testkit::run(uv(&env, &index_with_user(&env), &uv_second).env("UV_NO_CONFIG", "1"));
    assert_installed(&out_uv2, &uv_second, "uv install after the token expired");
    assert!(
        env.tokens_issued() > issued_before,
        "a new token was fetched ({} before, {} after)",
        issued_before,
        env.tokens_issued()
    );
    assert_eq!(
        calls(&env, &log),
        vec![
            "--mode=creds --output=json get URL",
            "get URL aws",
            "--mode=creds --output=json get URL",
            "get URL aws"
        ],
        "the form this client uses"
    );
    assert_no_token_on_disk(&env, &[&out1, &out_uv1, &out2, &out_uv2]);
}
