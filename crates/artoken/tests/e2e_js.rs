//! JavaScript clients end to end against the emulator: npm 11, pnpm 12.4.2, yarn 1.22, yarn
//! berry 4 and bun 1.4 through `artoken serve` (token-free URLs); pnpm with artoken as its
//! `tokenHelper`; bun with a bunfig.toml that names `$CODEARTIFACT_AUTH_TOKEN` under `artoken
//! exec`; yarn 1 and yarn berry after `login yarn`. Short-lived tokens show each path keeps
//! working across an expiry.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use codeartifact_emulator::config::SyntheticPackage;
use codeartifact_emulator::{EmulatorConfig, Faults};
use common::*;
use testkit::{on_path, run, text, tool};

/// The packages every install takes: a plain and a scoped one.
const PACKAGES: [(&str, &str); 2] = [("artoken-demo", "1.0.0"), ("@artoken/scoped-demo", "2.0.0")];

/// Only the npm repository; `artoken exec` sets the token variable bunfig.toml names.
const JS_CONFIG: &str = r#"default: js
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
fn setup_js(lifetime: Option<u64>) -> Env {
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
fn npm_endpoint(env: &Env) -> String {
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
enum Js {
    Npm,
    Pnpm,
    Yarn,
    YarnBerry,
    Bun,
}

impl Js {
    const ALL: [Js; 5] = [Js::Npm, Js::Pnpm, Js::Yarn, Js::YarnBerry, Js::Bun];

    fn program(self) -> PathBuf {
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
    fn project(self, dir: &Path, registry: Option<&str>) {
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
    fn add_with(self, mut cmd: Command, dir: &Path) -> Output {
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

    fn add(self, env: &Env, dir: &Path) -> Output {
        self.add_with(env.sb.command(self.program()), dir)
    }
}

/// Both packages are in `dir/node_modules`, at their versions.
fn assert_installed(dir: &Path, what: &str) {
    for (name, version) in PACKAGES {
        let manifest = dir.join("node_modules").join(name).join("package.json");
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{what}: no {}: {e}", manifest.display()));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], version, "{what}: {text}");
    }
}

fn assert_ok(out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
}

fn assert_no_token(env: &Env, s: &str) {
    for t in env.emu.issued_tokens() {
        assert!(!s.contains(&t), "a token leaked: {s}");
    }
}

/// A plain HTTP/1.1 request on a fresh connection: status, head and body.
fn http(method: &str, url: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
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
fn assert_first_token_refused(env: &Env) {
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
fn first_token_expired(env: &Env) -> bool {
    env.emu
        .issued()
        .first()
        .is_some_and(|t| SystemTime::now() > t.expires_at)
}

/// A running `artoken serve` for the `js` repository.
struct Serve {
    child: Child,
    cmd: Command,
    /// `http://127.0.0.1:PORT/js/`
    registry: String,
    stderr: PathBuf,
}

impl Serve {
    fn start(env: &Env) -> Serve {
        let stderr = env.sb.root().join("serve.err");
        let mut cmd = env.artoken();
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = cmd.spawn().expect("spawn artoken serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        let next = || {
            rx.recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!(
                        "artoken serve printed too little:\n{}",
                        std::fs::read_to_string(&stderr).unwrap_or_default()
                    )
                })
        };
        let first = next();
        let base = first
            .strip_prefix("artoken serve listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        let line = next();
        let registry = format!("{base}/js/");
        assert_eq!(line, format!("  js (npm): {registry}"));
        Serve {
            child,
            cmd,
            registry,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        if let Ok(status) = self.child.wait() {
            let out = Output {
                status,
                stdout: Vec::new(),
                stderr: self.stderr().into_bytes(),
            };
            testkit::record_output(&self.cmd, &out);
        }
    }
}

#[test]
fn npm_pnpm_yarn_yarn_berry_and_bun_install_through_serve_across_a_token_expiry() {
    // 5-second tokens: the proxy puts one with about 2 s left or more on each request (one
    // request takes milliseconds).
    let env = setup_js(Some(5));
    let serve = Serve::start(&env);
    let start = Instant::now();
    // Round after round of every client, each from a new project with new caches, until the
    // first token has expired and every client has installed since (no sleeping: the clients'
    // own work spreads the installs over the token's life).
    let mut after_expiry = [false; 5];
    let mut runs = 0;
    while !after_expiry.iter().all(|d| *d) {
        for (i, js) in Js::ALL.into_iter().enumerate() {
            let began_after_expiry = first_token_expired(&env);
            let dir = env.sb.work().join(format!("{js:?}-{runs}"));
            js.project(&dir, Some(&serve.registry));
            let what = format!("{js:?} install #{runs} at {:?}", start.elapsed());
            assert_ok(&js.add(&env, &dir), &what);
            assert_installed(&dir, &what);
            after_expiry[i] |= began_after_expiry;
            runs += 1;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no expiry seen in 10 minutes"
        );
    }
    // No request reached the registry with an expired token (counted before this test's own
    // request with one).
    let stats = env.emu.stats();
    assert_eq!(
        stats.requests.get("npm:refused").copied(),
        None,
        "{stats:?}"
    );
    assert!(stats.requests.get("npm:tarball").copied().unwrap_or(0) >= 2 * runs as u64);
    assert_first_token_refused(&env);
    assert!(env.tokens_issued() >= 2, "{}", env.tokens_issued());
    // The lock files that keep URLs name the proxy (npm ci and yarn install use them as is).
    let npm_lock = std::fs::read_to_string(env.sb.work().join("Npm-0/package-lock.json")).unwrap();
    assert!(
        npm_lock.contains(&format!(
            "\"resolved\": \"{}@artoken/scoped-demo/-/scoped-demo-2.0.0.tgz\"",
            serve.registry
        )),
        "{npm_lock}"
    );
    let yarn_lock = std::fs::read_to_string(env.sb.work().join("Yarn-2/yarn.lock")).unwrap();
    assert!(
        yarn_lock.contains(&format!(
            "resolved \"{}artoken-demo/-/artoken-demo-1.0.0.tgz#",
            serve.registry
        )),
        "{yarn_lock}"
    );
    assert_no_token(&env, &serve.stderr());
    env.assert_no_token_on_disk(&[]);
    eprintln!(
        "{runs} installs in {:?}, {} tokens",
        start.elapsed(),
        env.tokens_issued()
    );
}

#[test]
fn npm_publishes_a_scoped_package_through_serve_and_npm_ci_installs_from_the_lock_file() {
    let env = setup_js(None);
    let serve = Serve::start(&env);
    let port = serve
        .registry
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // The package to publish. npm publish insists on a token for the registry: any placeholder
    // does, the proxy puts the real one in its place.
    let pkg = env.sb.work().join("published");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("package.json"),
        "{\"name\": \"@artoken/published\", \"version\": \"0.1.0\", \"main\": \"index.js\", \"license\": \"MIT\"}\n",
    )
    .unwrap();
    std::fs::write(pkg.join("index.js"), "module.exports = 'published';\n").unwrap();
    std::fs::write(
        pkg.join(".npmrc"),
        format!(
            "registry={}\n//{port}/js/:_authToken=placeholder-not-a-token\n",
            serve.registry
        ),
    )
    .unwrap();
    let out = run(env
        .sb
        .command(on_path("npm"))
        .current_dir(&pkg)
        .env("npm_config_cache", pkg.join(".cache"))
        .args(["publish", "--loglevel", "warn"]));
    assert_ok(&out, "npm publish");
    assert_eq!(
        env.emu.stats().requests.get("npm:publish").copied(),
        Some(1)
    );
    // The packument names the proxy for the new version's tarball.
    let (status, _, body) = http(
        "GET",
        &format!("{}@artoken%2fpublished", serve.registry),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(
            "{}@artoken/published/-/published-0.1.0.tgz",
            serve.registry
        )),
        "{body}"
    );
    // npm install writes a lock file whose `resolved` URLs are the proxy's...
    let first = env.sb.work().join("first");
    Js::Npm.project(&first, Some(&serve.registry));
    let out = run(env
        .sb
        .command(on_path("npm"))
        .current_dir(&first)
        .env("npm_config_cache", first.join(".cache"))
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "@artoken/published@0.1.0",
            "artoken-demo",
        ]));
    assert_ok(&out, "npm install");
    let lock = std::fs::read_to_string(first.join("package-lock.json")).unwrap();
    assert!(
        lock.contains(&format!(
            "\"resolved\": \"{}@artoken/published/-/published-0.1.0.tgz\"",
            serve.registry
        )),
        "{lock}"
    );
    // ...and npm ci installs exactly that in a new place with an empty cache: every tarball
    // comes from the lock file's URLs, through the proxy.
    let second = env.sb.work().join("second");
    std::fs::create_dir_all(&second).unwrap();
    for f in ["package.json", "package-lock.json", ".npmrc"] {
        std::fs::copy(first.join(f), second.join(f)).unwrap();
    }
    let tarballs = |env: &Env| {
        env.emu
            .stats()
            .requests
            .get("npm:tarball")
            .copied()
            .unwrap_or(0)
    };
    let before = tarballs(&env);
    let out = run(env
        .sb
        .command(on_path("npm"))
        .current_dir(&second)
        .env("npm_config_cache", second.join(".cache"))
        .args(["ci", "--no-audit", "--no-fund"]));
    assert_ok(&out, "npm ci");
    assert_eq!(tarballs(&env) - before, 2);
    let installed =
        std::fs::read_to_string(second.join("node_modules/@artoken/published/index.js")).unwrap();
    assert!(installed.contains("published"));
    assert_no_token(&env, &serve.stderr());
    env.assert_no_token_on_disk(&[]);
}

/// `~/.npmrc`'s tokenHelper line for the registry, split as pnpm splits it.
fn helper_line(env: &Env) -> Vec<String> {
    let npmrc = std::fs::read_to_string(env.sb.home().join(".npmrc")).unwrap();
    let key = format!(
        "{}:tokenHelper=",
        npm_endpoint(env).trim_start_matches("http:")
    );
    let line = npmrc
        .lines()
        .find_map(|l| l.strip_prefix(key.as_str()))
        .unwrap_or_else(|| panic!("no {key} line in ~/.npmrc:\n{npmrc}"));
    line.split_whitespace().map(str::to_string).collect()
}

#[test]
fn login_pnpm_helper_writes_no_token_and_the_helper_answers_from_the_cache_for_trusted_urls_only() {
    let env = setup_js(None);
    let out = env.ok(&["login", "pnpm", "--helper", "js"]);
    assert!(out.is_empty(), "{out}");
    assert_eq!(env.tokens_issued(), 0, "login --helper fetches no token");
    let line = helper_line(&env);
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_artoken")).unwrap();
    let config = env.sb.work().join("artoken.yml");
    assert_eq!(
        line,
        [
            exe.to_str().unwrap(),
            "pnpm-token-helper",
            "--config",
            config.to_str().unwrap(),
            &npm_endpoint(&env),
        ]
    );
    // Run as pnpm runs it: from anywhere (the config travels in the line), stdin closed.
    let elsewhere = env.sb.root().join("tmp");
    let ask = |args: &[String]| {
        run(env
            .sb
            .command(&args[0])
            .args(&args[1..])
            .current_dir(&elsewhere)
            .stdin(Stdio::null()))
    };
    let mut printed = Vec::new();
    for _ in 0..5 {
        let out = ask(&line);
        assert_ok(&out, "the token helper");
        env.assert_no_leak_on_stderr(&out);
        printed.push(String::from_utf8(out.stdout).unwrap());
    }
    let token = env.emu.issued_tokens()[0].clone();
    assert!(printed.iter().all(|p| *p == format!("{token}\n")));
    // Five answers, one GetAuthorizationToken: the rest came from the shared cache.
    assert_eq!(env.tokens_issued(), 1);
    // URLs that get nothing: another host, another origin for the emulator's form, a domain
    // not in the config, a bare host, userinfo and query tricks.
    let emu_port: u16 = env.emu.url().rsplit(':').next().unwrap().parse().unwrap();
    let host = "demo-111122223333.d.codeartifact.eu-west-1.amazonaws.com";
    for url in [
        "https://evil.example/npm/npm-store/".to_string(),
        format!("http://127.0.0.1:{}/{host}/npm/npm-store/", emu_port + 1),
        format!("http://localhost:{emu_port}/{host}/npm/npm-store/"),
        format!(
            "{}/other-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/x/",
            env.emu.url()
        ),
        format!("http://{host}/npm/npm-store/"),
        format!("https://{host}.evil.example/npm/npm-store/"),
        format!("https://evil.example@{host}/npm/npm-store/?x=1"),
        host.to_string(),
    ] {
        let mut args = line.clone();
        *args.last_mut().unwrap() = url.clone();
        let out = ask(&args);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("artoken pnpm-token-helper: error: ") && err.lines().count() == 1,
            "{url}: {err}"
        );
    }
    assert_eq!(env.tokens_issued(), 1);
    // pnpm itself refuses a tokenHelper in a project's .npmrc (a cloned repository's).
    let dir = env.sb.work().join("cloned");
    Js::Pnpm.project(&dir, Some(&npm_endpoint(&env)));
    let npmrc = std::fs::read_to_string(env.sb.home().join(".npmrc")).unwrap();
    std::fs::remove_file(env.sb.home().join(".npmrc")).unwrap();
    std::fs::write(dir.join(".npmrc"), &npmrc).unwrap();
    let out = Js::Pnpm.add(&env, &dir);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("was found in project")
            || text(&out).contains("TOKEN_HELPER_IN_PROJECT"),
        "{}",
        text(&out)
    );
    assert_eq!(env.tokens_issued(), 1);
    env.assert_no_token_on_disk(&[]);
}

#[test]
fn pnpm_installs_with_the_token_helper_across_a_token_expiry() {
    // 10-second tokens: artoken replaces its cached one with 5 s left (half its life), and
    // pnpm keeps what the helper printed for its whole run, so a run may take 4 s (one takes
    // under a second here).
    let env = setup_js(Some(10));
    env.ok(&["login", "pnpm", "--helper", "js"]);
    let start = Instant::now();
    let mut runs = 0;
    let mut after_expiry = 0;
    // pnpm asks the helper once per run: runs until two began after the first token expired.
    while after_expiry < 2 {
        let began_after_expiry = first_token_expired(&env);
        let dir = env.sb.work().join(format!("run-{runs}"));
        // The registry comes from ~/.npmrc, next to the tokenHelper line.
        Js::Pnpm.project(&dir, None);
        let what = format!("pnpm install #{runs} at {:?}", start.elapsed());
        assert_ok(&Js::Pnpm.add(&env, &dir), &what);
        assert_installed(&dir, &what);
        after_expiry += usize::from(began_after_expiry);
        runs += 1;
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no expiry in 10 minutes"
        );
    }
    let stats = env.emu.stats();
    assert_eq!(
        stats.requests.get("npm:refused").copied(),
        None,
        "{stats:?}"
    );
    assert_first_token_refused(&env);
    assert!(env.tokens_issued() >= 2, "{}", env.tokens_issued());
    // The helper's line names the same registry at another origin (`localhost`, not the
    // endpoint override's 127.0.0.1): the helper gives no token, pnpm's requests go without one
    // and fail.
    let npmrc = env.sb.home().join(".npmrc");
    let text_now = std::fs::read_to_string(&npmrc).unwrap();
    let endpoint = npm_endpoint(&env);
    let elsewhere = text_now.replace(
        &format!(" {endpoint}"),
        &format!(" {}", endpoint.replace("127.0.0.1", "localhost")),
    );
    assert_ne!(elsewhere, text_now);
    std::fs::write(&npmrc, elsewhere).unwrap();
    let issued = env.tokens_issued();
    let dir = env.sb.work().join("untrusted");
    Js::Pnpm.project(&dir, None);
    let out = Js::Pnpm.add(&env, &dir);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("401"), "{}", text(&out));
    assert_eq!(env.tokens_issued(), issued, "the refusing helper asked AWS");
    env.assert_no_token_on_disk(&[]);
    eprintln!(
        "{runs} pnpm runs in {:?}, {} tokens",
        start.elapsed(),
        env.tokens_issued()
    );
}

#[test]
fn bun_installs_under_artoken_exec_with_the_token_from_the_environment_across_an_expiry() {
    // 10-second tokens: `artoken exec` hands bun one with more than 4 s left.
    let env = setup_js(Some(10));
    env.ok(&["login", "bun", "js"]);
    let bunfig = env.sb.config_home().join(".bunfig.toml");
    let written = std::fs::read_to_string(&bunfig).unwrap();
    assert!(
        written.contains(&format!(
            "[install.registry]\nurl = \"{}\"\ntoken = \"$CODEARTIFACT_AUTH_TOKEN\"\n",
            npm_endpoint(&env)
        )),
        "{written}"
    );
    assert_eq!(env.tokens_issued(), 0, "login bun fetches no token");
    // Without artoken exec there is no token: the registry refuses bun.
    let dir = env.sb.work().join("plain");
    Js::Bun.project(&dir, None);
    let out = Js::Bun.add(&env, &dir);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("401"), "{}", text(&out));
    let start = Instant::now();
    let mut runs = 0;
    let mut after_expiry = 0;
    while after_expiry < 2 {
        let began_after_expiry = first_token_expired(&env);
        let dir = env.sb.work().join(format!("run-{runs}"));
        Js::Bun.project(&dir, None);
        let mut exec = env.artoken();
        exec.args(["exec", "--"]).arg(tool("bun"));
        let what = format!("artoken exec -- bun add #{runs} at {:?}", start.elapsed());
        let out = Js::Bun.add_with(exec, &dir);
        assert_ok(&out, &what);
        env.assert_no_leak_on_stderr(&out);
        assert_installed(&dir, &what);
        after_expiry += usize::from(began_after_expiry);
        runs += 1;
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "no expiry in 10 minutes"
        );
    }
    assert_first_token_refused(&env);
    assert!(env.tokens_issued() >= 2);
    env.assert_no_token_on_disk(&[]);
    env.ok(&["logout", "bun", "js"]);
    assert!(!bunfig.exists(), "logout takes the file login created");
}

#[test]
fn yarn_classic_needs_always_auth_and_yarn_berry_works_after_login_yarn() {
    let env = setup_js(None);
    let npmrc = env.sb.home().join(".npmrc");
    // What `login npm` writes (the token, no always-auth): yarn 1 sends it for scoped
    // packages only, and the registry refuses the plain one.
    env.ok(&["login", "npm", "js"]);
    let dir = env.sb.work().join("yarn1-npm-login");
    Js::Yarn.project(&dir, None);
    let out = Js::Yarn.add(&env, &dir);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("artoken-demo: authorization token missing"),
        "{}",
        text(&out)
    );
    env.ok(&["logout", "npm", "js"]);
    assert!(!npmrc.exists());
    // `login yarn --classic`: the same lines and `always-auth=true` for that registry.
    env.ok(&["login", "yarn", "--classic", "js"]);
    let written = std::fs::read_to_string(&npmrc).unwrap();
    let nerf = npm_endpoint(&env).trim_start_matches("http:").to_string();
    assert!(
        written.contains(&format!("{nerf}:always-auth=true\n")),
        "{written}"
    );
    let dir = env.sb.work().join("yarn1");
    Js::Yarn.project(&dir, None);
    let out = Js::Yarn.add(&env, &dir);
    assert_ok(&out, "yarn 1 add after login yarn --classic");
    assert_installed(&dir, "yarn 1");
    // npm 11 still installs with that file (it warns that always-auth is unknown to it).
    let dir = env.sb.work().join("npm");
    Js::Npm.project(&dir, None);
    let out = Js::Npm.add(&env, &dir);
    assert_ok(&out, "npm install with always-auth in ~/.npmrc");
    assert_installed(&dir, "npm");
    env.ok(&["logout", "yarn", "--classic", "js"]);
    assert!(!npmrc.exists());
    // yarn berry after `login yarn` (~/.yarnrc.yml: the registry and its token).
    env.ok(&["login", "yarn", "js"]);
    let dir = env.sb.work().join("berry");
    Js::YarnBerry.project(&dir, None);
    let out = Js::YarnBerry.add(&env, &dir);
    assert_ok(&out, "yarn berry add after login yarn");
    assert_installed(&dir, "yarn berry");
    let yarnrc = env.sb.home().join(".yarnrc.yml");
    env.assert_no_token_on_disk(&[yarnrc.as_path()]);
    env.ok(&["logout", "yarn", "js"]);
    assert!(!yarnrc.exists());
}
