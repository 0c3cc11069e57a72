//! `artoken login pip|uv --helper`, one command each, with the real pip 26.3, pip 25.3 and uv:
//! the client installs from the emulator with no token on disk, also after its first token
//! expired and where no artoken.yml is found; `logout` gives back the config's bytes and removes
//! the shim, after which the client no longer reaches the repository; a user's own
//! `artoken keyring install` shim is never removed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use codeartifact_emulator::Faults;
use common::*;
use testkit::{ArgvLog, text, tool, venv_tool};

/// Every token's life, capped by the emulator: long enough that a token handed out (with at
/// least half its life left) outlives one install on a machine four times slower than this one.
const LIFETIME_SECS: u64 = 10;

#[derive(Clone, Copy, PartialEq)]
enum Client {
    /// pip 26.3 (`venv/bin/pip`).
    PipNew,
    /// pip 25.3 (`pip-old/bin/pip`): asks a keyring only with a user name in the URL.
    PipOld,
    /// uv (`venv/bin/uv`): the same.
    Uv,
}

impl Client {
    fn tool(self) -> &'static str {
        if self == Client::Uv { "uv" } else { "pip" }
    }

    /// The config file `login TOOL` edits.
    fn config(self, env: &Env) -> PathBuf {
        match self {
            Client::Uv => env.sb.config_home().join("uv/uv.toml"),
            _ => env.sb.config_home().join("pip/pip.conf"),
        }
    }

    /// An install of `artoken-demo` into `target` with nothing but the config files to say
    /// where from and how to authenticate.
    fn install(self, env: &Env, target: &Path) -> Command {
        let pip = |p: PathBuf| {
            let mut cmd = env.sb.command(p);
            cmd.args([
                "install",
                "--no-cache-dir",
                "--retries",
                "0",
                "--timeout",
                "20",
                "--target",
            ])
            .arg(target)
            .arg("artoken-demo");
            cmd
        };
        match self {
            Client::PipNew => pip(tool("pip")),
            Client::PipOld => pip(venv_tool("pip-old", "pip")),
            Client::Uv => {
                let mut cmd = env.sb.command(tool("uv"));
                cmd.env("UV_CACHE_DIR", env.sb.cache_home().join("uv"))
                    .env("UV_PYTHON_DOWNLOADS", "never")
                    .env("UV_HTTP_RETRIES", "0")
                    .args(["pip", "install", "--no-cache", "--python"])
                    .arg(tool("python"))
                    .arg("--target")
                    .arg(target)
                    .arg("artoken-demo");
                cmd
            }
        }
    }
}

/// A sandbox whose PATH starts with ~/.local/bin (where login puts the shim), behind the
/// argv-recording `keyring` shim; tokens live [`LIFETIME_SECS`].
fn helper_env() -> (Env, ArgvLog) {
    let mut env = setup();
    let bin = env.sb.home().join(".local/bin");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.sb.set_env("PATH", path);
    let log = env.sb.record_argv(&["keyring"]);
    env.emu.set_faults(Faults {
        token_lifetime_secs: Some(LIFETIME_SECS),
        ..env.emu.faults()
    });
    (env, log)
}

fn shim(env: &Env) -> PathBuf {
    env.sb.home().join(".local/bin/keyring")
}

/// The file's bytes, `None` when absent.
fn bytes(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}

/// The keyring command lines the client ran, the index URL shown as `URL`.
fn calls(env: &Env, log: &ArgvLog) -> Vec<String> {
    let url = format!("{}simple/", env.endpoint());
    let with_user = url.replacen("http://", "http://aws@", 1);
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

/// Requests the emulator's PyPI data plane answered.
fn pypi_requests(env: &Env) -> u64 {
    env.emu
        .stats()
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("pypi:"))
        .map(|(_, n)| n)
        .sum()
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

fn assert_no_token_in(env: &Env, outputs: &[&Output]) {
    for out in outputs {
        let t = text(out);
        for token in env.emu.issued_tokens() {
            assert!(!t.contains(&token), "a client printed the token:\n{t}");
        }
    }
}

/// Waits (for time, not for a server) until every token issued so far has expired.
fn outlive_issued_tokens(env: &Env) {
    let last = env
        .emu
        .issued()
        .iter()
        .map(|i| i.expires_at)
        .max()
        .expect("a token was issued");
    while SystemTime::now() <= last + Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// login --helper, an install, another after the first token expired, logout, and an install
/// that no longer reaches the repository. `user` is the config file's content before login
/// (`None`: no file).
fn round_trip(client: Client, user: Option<&str>, expected_calls: &[&str]) {
    let (env, log) = helper_env();
    let config = client.config(&env);
    if let Some(u) = user {
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, u).unwrap();
    }
    let before = bytes(&config);

    let out = testkit::run_ok(env.artoken().args(["login", client.tool(), "--helper"]));
    env.assert_no_leak_on_stderr(&out);
    // (the argv-recording shim before it on PATH gets a note; a missing dir would get another)
    assert!(
        !text(&out).contains("is not on PATH"),
        "~/.local/bin is on PATH\n{}",
        text(&out)
    );
    assert_eq!(env.tokens_issued(), 0, "login --helper fetches no token");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("http://aws@127.0.0.1:"), "{written}");
    assert!(written.contains("keyring-provider"), "{written}");
    let script = std::fs::read_to_string(shim(&env)).unwrap();
    assert!(
        script.contains(&format!(
            "# artoken-login: {} demo {}",
            client.tool(),
            config.display()
        )),
        "{script}"
    );

    // The installs run where no artoken.yml is found: the shim names the one login read.
    let elsewhere = env.sb.root().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    assert!(
        script.contains(&format!(
            "--config '{}' keyring",
            env.sb.work().join("artoken.yml").display()
        )),
        "{script}"
    );

    // First install: the shim fetches a token.
    let first = env.sb.root().join("site-1");
    let out1 = testkit::run(client.install(&env, &first).current_dir(&elsewhere));
    assert_installed(&out1, &first, "install after login --helper");
    let issued = env.tokens_issued();
    assert!(issued >= 1, "the helper fetched a token");

    // Second install, after every token so far expired: the helper fetches a new one.
    outlive_issued_tokens(&env);
    let second = env.sb.root().join("site-2");
    let out2 = testkit::run(client.install(&env, &second).current_dir(&elsewhere));
    assert_installed(&out2, &second, "install after the first token expired");
    assert!(
        env.tokens_issued() > issued,
        "a new token was fetched ({issued} before, {} after)",
        env.tokens_issued()
    );
    let expected: Vec<String> = expected_calls
        .iter()
        .chain(expected_calls)
        .map(|s| s.to_string())
        .collect();
    assert_eq!(calls(&env, &log), expected, "the form this client uses");
    env.assert_no_token_on_disk(&[]);
    assert_no_token_in(&env, &[&out1, &out2]);

    // Logout gives back the bytes and takes the shim away.
    env.ok(&["logout", client.tool()]);
    assert_eq!(bytes(&config), before, "{}", config.display());
    assert!(
        std::fs::symlink_metadata(shim(&env)).is_err(),
        "the shim login installed is gone"
    );

    // The client no longer reaches the repository (and, through a proxy that refuses, nothing
    // else either: the install fails at once).
    let seen = pypi_requests(&env);
    let third = env.sb.root().join("site-3");
    let mut cmd = client.install(&env, &third);
    cmd.current_dir(&elsewhere);
    for k in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        cmd.env(k, "http://127.0.0.1:9")
            .env(k.to_lowercase(), "http://127.0.0.1:9");
    }
    cmd.env("NO_PROXY", "").env("no_proxy", "");
    let out3 = testkit::run(&mut cmd);
    assert!(
        !out3.status.success(),
        "install after logout:\n{}",
        text(&out3)
    );
    assert!(!third.join("artoken_demo").exists());
    assert_eq!(
        pypi_requests(&env),
        seen,
        "the repository was asked after logout"
    );
    assert_eq!(
        calls(&env, &log).len(),
        expected.len(),
        "keyring ran after logout"
    );

    // A second logout changes nothing.
    env.ok(&["logout", client.tool()]);
    assert_eq!(bytes(&config), before);
    assert!(std::fs::symlink_metadata(shim(&env)).is_err());
}

#[test]
fn pip_26_3_installs_after_login_pip_helper_and_logout_gives_everything_back() {
    let version = testkit::run_ok(Command::new(tool("pip")).arg("--version"));
    assert!(text(&version).starts_with("pip 26.3"), "{}", text(&version));
    round_trip(
        Client::PipNew,
        Some(
            "# my pip settings\n[global]\ntimeout = 30\n\n[install]\nno-warn-script-location = true\n",
        ),
        &["--mode=creds --output=json get URL aws"],
    );
}

#[test]
fn pip_25_3_installs_after_login_pip_helper_and_logout_gives_everything_back() {
    let version = testkit::run_ok(Command::new(venv_tool("pip-old", "pip")).arg("--version"));
    assert!(text(&version).starts_with("pip 25.3"), "{}", text(&version));
    round_trip(Client::PipOld, None, &["get URL aws"]);
}

#[test]
fn uv_installs_after_login_uv_helper_and_logout_gives_everything_back() {
    round_trip(
        Client::Uv,
        Some("# my uv settings\nconcurrent-downloads = 4\n"),
        &["get URL aws"],
    );
}

/// What is at `p`: a link's target or a file's bytes.
fn entry(p: &Path) -> Option<(Option<PathBuf>, Option<Vec<u8>>)> {
    std::fs::symlink_metadata(p).ok()?;
    Some((std::fs::read_link(p).ok(), bytes(p)))
}

#[test]
fn a_users_own_keyring_shim_stays_and_a_logout_without_login_changes_nothing() {
    let (env, log) = helper_env();
    let pip_conf = Client::PipOld.config(&env);
    let uv_toml = Client::Uv.config(&env);
    for (f, t) in [
        // The user's own keyring-provider lines: login adds none, logout keeps them.
        (
            &pip_conf,
            "[global]\nkeyring-provider = subprocess\ntimeout = 30\n",
        ),
        (
            &uv_toml,
            "keyring-provider = \"subprocess\"\nconcurrent-downloads = 4\n",
        ),
    ] {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, t).unwrap();
    }
    env.ok(&["keyring", "install"]);
    let snapshot = || (entry(&shim(&env)), bytes(&pip_conf), bytes(&uv_toml));
    let users = snapshot();
    assert!(
        users.0.is_some(),
        "`artoken keyring install` put a shim there"
    );

    // A logout that never logged in changes nothing.
    for t in ["pip", "uv"] {
        env.ok(&["logout", t]);
        assert_eq!(snapshot(), users, "logout {t} without a login");
    }

    // A helper login beside the user's shim leaves it alone, and works through it.
    for t in ["pip", "uv"] {
        env.ok(&["login", t, "--helper"]);
    }
    assert_eq!(entry(&shim(&env)), users.0, "the user's shim is untouched");
    let target = env.sb.root().join("site");
    let out = testkit::run(&mut Client::PipOld.install(&env, &target));
    assert_installed(&out, &target, "pip 25.3 through the user's own shim");
    assert_eq!(calls(&env, &log), ["get URL aws"]);
    let target = env.sb.root().join("site-uv");
    let out = testkit::run(&mut Client::Uv.install(&env, &target));
    assert_installed(&out, &target, "uv through the user's own shim");
    assert_eq!(calls(&env, &log), ["get URL aws", "get URL aws"]);

    // Logout takes only what login wrote: the user's shim and keyring-provider lines stay.
    for t in ["pip", "uv"] {
        env.ok(&["logout", t]);
    }
    assert_eq!(snapshot(), users, "after login --helper and logout");
    env.assert_no_token_on_disk(&[]);
}

/// pip and uv share one keyring shim, which runs artoken with one set of config files: a
/// `--helper` login that reads other files than the logins already in it is refused with one
/// line, and writes nothing (neither uv.toml nor the shim); with the same files it joins them.
#[test]
fn a_helper_login_from_another_config_than_the_shims_is_refused_and_writes_nothing() {
    let (env, _log) = helper_env();
    env.ok(&["login", "pip", "--helper"]);
    let uv_toml = Client::Uv.config(&env);
    let before = (bytes(&shim(&env)), bytes(&uv_toml));
    let other = env.sb.root().join("other-project");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(env.sb.work().join("artoken.yml"), other.join("artoken.yml")).unwrap();
    let out = testkit::run(
        env.artoken()
            .current_dir(&other)
            .args(["login", "uv", "--helper"]),
    );
    assert!(!out.status.success(), "{}", text(&out));
    let err = first_err_line(&out);
    assert!(
        err.contains(&shim(&env).display().to_string())
            && err.contains(&format!(
                "this login with --config '{}'",
                other.join("artoken.yml").display()
            )),
        "{}",
        text(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1,
        "{}",
        text(&out)
    );
    assert_eq!(
        (bytes(&shim(&env)), bytes(&uv_toml)),
        before,
        "nothing written"
    );
    // From the same project it joins the shim.
    env.ok(&["login", "uv", "--helper"]);
    let script = std::fs::read_to_string(shim(&env)).unwrap();
    assert!(script.contains("# artoken-login: uv demo"), "{script}");
    env.ok(&["logout", "uv"]);
    env.ok(&["logout", "pip"]);
    assert!(bytes(&shim(&env)).is_none());
}
