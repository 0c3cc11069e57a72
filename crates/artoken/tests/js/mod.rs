//! What the JavaScript e2e tests share: the emulator with an npm repository, the clients as the
//! tests run them, `artoken serve` in the background, and the checks after an install.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use codeartifact_emulator::config::SyntheticPackage;
use codeartifact_emulator::{EmulatorConfig, Faults};
use testkit::{on_path, run, text, tool};

use crate::common::*;

/// The packages every install takes: a plain and a scoped one.
pub const PACKAGES: [(&str, &str); 2] =
    [("artoken-demo", "1.0.0"), ("@artoken/scoped-demo", "2.0.0")];

/// Only the npm repository; `artoken exec` sets the token variable bunfig.toml names.
pub const JS_CONFIG: &str = r#"default: js
repositories:
  js:
    domain: demo
    owner: "111122223333"
    repository: npm-store
    format: npm
env:
  CODEARTIFACT_AUTH_TOKEN: { token: js }
"#;

/// The emulator with the scoped package in `npm-store` too; tokens live `lifetime` seconds.
pub fn setup_js(lifetime: Option<u64>) -> Env {
    let mut cfg = emulator_config();
    let npm = cfg.domains[0]
        .repositories
        .iter_mut()
        .find(|r| r.name == "npm-store")
        .expect("the demo npm repository");
    npm.packages.push(SyntheticPackage {
        name: "@artoken/scoped-demo".into(),
        version: "2.0.0".into(),
    });
    let env = setup_with(EmulatorConfig {
        faults: Faults {
            token_lifetime_secs: lifetime,
            ..Faults::default()
        },
        ..cfg
    });
    std::fs::write(env.sb.work().join("artoken.yml"), JS_CONFIG).unwrap();
    env
}

/// The emulator's URL of `npm-store`.
pub fn npm_endpoint(env: &Env) -> String {
    codeartifact_emulator::endpoint_url(
        &env.emu.url(),
        "demo",
        OWNER,
        testkit::REGION,
        codeartifact_emulator::Format::Npm,
        "npm-store",
    )
}

/// The JavaScript package managers, as the tests run them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Js {
    Npm,
    Pnpm,
    Yarn,
    YarnBerry,
    Bun,
}

impl Js {
    pub const ALL: [Js; 5] = [Js::Npm, Js::Pnpm, Js::Yarn, Js::YarnBerry, Js::Bun];

    pub fn program(self) -> PathBuf {
        match self {
            Js::Npm => on_path("npm"),
            Js::Pnpm => tool("pnpm"),
            Js::Yarn => tool("yarn"),
            Js::YarnBerry => tool("yarn-berry"),
            Js::Bun => tool("bun"),
        }
    }

    /// A new project in `dir` with caches of its own (so every install asks the registry);
    /// with `registry`, the project's own config names it (and no token).
    pub fn project(self, dir: &Path, registry: Option<&str>) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("package.json"),
            "{\"name\": \"js-e2e\", \"version\": \"1.0.0\", \"private\": true, \"license\": \"MIT\"}\n",
        )
        .unwrap();
        let (file, text) = match (self, registry) {
            (Js::YarnBerry, r) => (
                ".yarnrc.yml",
                format!(
                    "{}unsafeHttpWhitelist:\n  - \"127.0.0.1\"\nnodeLinker: node-modules\nenableTelemetry: false\nenableGlobalCache: false\nenableMirror: false\nnpmMinimalAgeGate: 0\n",
                    r.map(|r| format!("npmRegistryServer: \"{r}\"\n"))
                        .unwrap_or_default()
                ),
            ),
            (_, None) => return,
            (Js::Npm | Js::Pnpm, Some(r)) => (".npmrc", format!("registry={r}\n")),
            (Js::Yarn, Some(r)) => (".yarnrc", format!("registry \"{r}\"\n")),
            (Js::Bun, Some(r)) => ("bunfig.toml", format!("[install]\nregistry = \"{r}\"\n")),
        };
        std::fs::write(dir.join(file), text).unwrap();
    }

    /// `add PACKAGES` in `dir`, as `cmd` (the client, or `artoken exec -- client`) runs it.
    pub fn add_with(self, mut cmd: Command, dir: &Path) -> Output {
        let cache = dir.join(".cache");
        cmd.current_dir(dir);
        match self {
            Js::Npm => cmd
                .args(["install", "--no-audit", "--no-fund", "--loglevel", "warn"])
                .env("npm_config_cache", &cache)
                .env("npm_config_fetch_retries", "0"),
            Js::Pnpm => cmd
                .arg("add")
                .arg("--store-dir")
                .arg(dir.join(".store"))
                .env("pnpm_config_cache_dir", &cache),
            Js::Yarn => cmd
                .args([
                    "add",
                    "--non-interactive",
                    "--no-progress",
                    "--cache-folder",
                ])
                .arg(&cache)
                .env("YARN_DISABLE_SELF_UPDATE_CHECK", "true"),
            Js::YarnBerry => cmd.arg("add").env("YARN_ENABLE_TELEMETRY", "0"),
            Js::Bun => cmd
                .args(["add", "--no-progress"])
                .env("BUN_INSTALL_CACHE_DIR", &cache),
        };
        cmd.args(PACKAGES.map(|(p, _)| p));
        run(&mut cmd)
    }

    pub fn add(self, env: &Env, dir: &Path) -> Output {
        self.add_with(env.sb.command(self.program()), dir)
    }
}

/// Both packages are in `dir/node_modules`, at their versions.
pub fn assert_installed(dir: &Path, what: &str) {
    for (name, version) in PACKAGES {
        let manifest = dir.join("node_modules").join(name).join("package.json");
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{what}: no {}: {e}", manifest.display()));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], version, "{what}: {text}");
    }
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
}

pub fn assert_no_token(env: &Env, s: &str) {
    for t in env.emu.issued_tokens() {
        assert!(!s.contains(&t), "a token leaked: {s}");
    }
}

/// A plain HTTP/1.1 request on a fresh connection: status, head and body.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// The first token the emulator issued, once it has expired: the emulator refuses it (so the
/// installs after it got a fresh one).
pub fn assert_first_token_refused(env: &Env) {
    let first = &env.emu.issued()[0];
    assert!(SystemTime::now() > first.expires_at, "not expired yet");
    let (status, head, _) = http(
        "GET",
        &format!("{}artoken-demo", npm_endpoint(env)),
        &[("Authorization", &format!("Bearer {}", first.token))],
    );
    assert_eq!(status, 401, "{head}");
    assert!(head.contains("x-emulator-auth: expired"), "{head}");
}

/// True once the first issued token has expired.
pub fn first_token_expired(env: &Env) -> bool {
    env.emu
        .issued()
        .first()
        .is_some_and(|t| SystemTime::now() > t.expires_at)
}
