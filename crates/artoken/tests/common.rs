//! Shared set-up for the CLI tests: an emulator, a sandbox and an artoken.yml pointing at it.
#![allow(dead_code)]

use std::io::BufRead;
use std::process::{Command, Output};

use codeartifact_emulator::config::RepositoryConfig;
use codeartifact_emulator::config::{AccessKey, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY};
use codeartifact_emulator::{BackgroundEmulator, EmulatorConfig, Format};
use testkit::Sandbox;

pub const OWNER: &str = "111122223333";

pub const CONFIG: &str = r#"# project config
default: demo
repositories:
  demo:
    domain: demo
    owner: "111122223333"
    repository: pypi-store
    format: pypi
  js:
    domain: demo
    owner: "111122223333"
    repository: npm-store
    format: npm
env:
  CODEARTIFACT_AUTH_TOKEN: { token: demo }
  PIP_INDEX_URL: { url: demo }
"#;

pub struct Env {
    pub emu: BackgroundEmulator,
    pub sb: Sandbox,
}

/// Extra keys: `work` (allowed) and `blocked` (denied GetAuthorizationToken) and `nobearer`
/// (denied sts:GetServiceBearerToken).
pub fn emulator_config() -> EmulatorConfig {
    let key = |id: &str, secret: &str, deny: &[&str]| AccessKey {
        id: id.into(),
        secret: secret.into(),
        account: None,
        user: Some(id.to_lowercase()),
        deny: deny.iter().map(|s| s.to_string()).collect(),
    };
    EmulatorConfig {
        access_keys: vec![
            key(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, &[]),
            key("AKIAWORKWORKWORKWORK", "work-secret", &[]),
            key(
                "AKIABLOCKEDBLOCKED00",
                "blocked-secret",
                &["codeartifact:GetAuthorizationToken"],
            ),
            key(
                "AKIANOBEARERNOBEARER",
                "nobearer-secret",
                &["sts:GetServiceBearerToken"],
            ),
        ],
        ..EmulatorConfig::demo()
    }
}

pub fn setup() -> Env {
    setup_with(emulator_config())
}

/// An artoken.yml naming a repository of every format the writers handle.
pub const ALL_FORMATS_CONFIG: &str = r#"default: demo
repositories:
  demo: { domain: demo, owner: "111122223333", repository: pypi-store, format: pypi }
  other: { domain: demo, owner: "111122223333", repository: pypi-two, format: pypi }
  js: { domain: demo, owner: "111122223333", repository: npm-store, format: npm }
  mvn: { domain: demo, owner: "111122223333", repository: maven-store, format: maven }
  nu: { domain: demo, owner: "111122223333", repository: nuget-store, format: nuget }
  crates: { domain: demo, owner: "111122223333", repository: cargo-store, format: cargo }
  sw: { domain: demo, owner: "111122223333", repository: swift-store, format: swift }
"#;

/// The emulator with a repository of every format the writers need.
pub fn setup_all_formats() -> Env {
    let mut cfg = emulator_config();
    for (name, format) in [
        ("pypi-two", Format::Pypi),
        ("maven-store", Format::Maven),
        ("nuget-store", Format::Nuget),
        ("cargo-store", Format::Cargo),
        ("swift-store", Format::Swift),
    ] {
        // (the demo config has maven-store already)
        let repos = &mut cfg.domains[0].repositories;
        if !repos.iter().any(|r| r.name == name) {
            repos.push(RepositoryConfig {
                name: name.into(),
                format,
                description: None,
                packages_dir: None,
                packages: Vec::new(),
            });
        }
    }
    let env = setup_with(cfg);
    std::fs::write(env.sb.work().join("artoken.yml"), ALL_FORMATS_CONFIG).unwrap();
    env
}

pub fn setup_with(config: EmulatorConfig) -> Env {
    let emu = BackgroundEmulator::start(config).expect("start emulator");
    let mut sb = Sandbox::new();
    sb.use_endpoint(&emu.url());
    std::fs::write(sb.work().join("artoken.yml"), CONFIG).unwrap();
    std::fs::write(
        sb.home().join(".aws/credentials"),
        "[work]\naws_access_key_id = AKIAWORKWORKWORKWORK\naws_secret_access_key = work-secret\n\
         [blocked]\naws_access_key_id = AKIABLOCKEDBLOCKED00\naws_secret_access_key = blocked-secret\n\
         [nobearer]\naws_access_key_id = AKIANOBEARERNOBEARER\naws_secret_access_key = nobearer-secret\n",
    )
    .unwrap();
    Env { emu, sb }
}

/// The binary under test: cargo's build, or the one `ARTOKEN_TEST_BIN` names (scripts/test-dist
/// points it at the release archive's, to run tests against what users install).
pub fn artoken_bin() -> std::path::PathBuf {
    std::env::var_os("ARTOKEN_TEST_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_artoken").into())
}

impl Env {
    pub fn artoken(&self) -> Command {
        self.sb.command(artoken_bin())
    }

    pub fn run(&self, args: &[&str]) -> Output {
        testkit::run(self.artoken().args(args))
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = testkit::run_ok(self.artoken().args(args));
        self.assert_no_leak_on_stderr(&out);
        String::from_utf8(out.stdout).unwrap()
    }

    /// stderr never carries a token.
    pub fn assert_no_leak_on_stderr(&self, out: &Output) {
        let err = String::from_utf8_lossy(&out.stderr);
        for t in self.emu.issued_tokens() {
            assert!(!err.contains(&t), "a token leaked on stderr: {err}");
        }
    }

    pub fn tokens_issued(&self) -> u64 {
        self.emu.stats().tokens_issued
    }

    /// No issued token in any file anywhere in the sandbox (HOME, XDG dirs, work dir, temp,
    /// the clients' caches and sites), but artoken's own 0600 cache and the `allowed` files (a
    /// target that holds the token by design). Returns how many files were read, and asserts
    /// that some were (a scan of nothing proves nothing).
    pub fn assert_no_token_on_disk(&self, allowed: &[&std::path::Path]) -> usize {
        let tokens = self.emu.issued_tokens();
        let cache = self.sb.cache_home().join("artoken");
        let mut stack = vec![self.sb.root().to_path_buf()];
        let mut scanned = 0;
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if p.starts_with(&cache) || allowed.iter().any(|a| p == *a) {
                    continue;
                }
                if ft.is_dir() {
                    stack.push(p);
                } else if ft.is_file()
                    && let Ok(bytes) = std::fs::read(&p)
                {
                    scanned += 1;
                    for t in &tokens {
                        let hit = bytes.windows(t.len()).any(|w| w == t.as_bytes());
                        assert!(!hit, "a token is on disk in {}", p.display());
                    }
                }
            }
        }
        assert!(scanned > 0, "no file in the sandbox was scanned");
        scanned
    }

    pub fn endpoint(&self) -> String {
        // The emulator names the region the request was signed for.
        codeartifact_emulator::endpoint_url(
            &self.emu.url(),
            "demo",
            OWNER,
            testkit::REGION,
            codeartifact_emulator::Format::Pypi,
            "pypi-store",
        )
    }
}

/// First line of stderr.
pub fn first_err_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Sends `head` (request line and header lines, no final blank line) and `body` to `addr`
/// (`host:port`) on a fresh HTTP/1.1 connection: the status and the response body's bytes.
/// The one raw HTTP client of these tests (the read timeout only keeps a hung server from
/// hanging the test; a loopback answer comes in milliseconds).
pub fn http_exchange(addr: &str, head: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    s.set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .unwrap();
    let mut req = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)
        .unwrap_or_else(|e| panic!("reading the answer of {addr}: {e}"));
    let status = std::str::from_utf8(resp.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no HTTP status from {addr}: {:?}",
                String::from_utf8_lossy(&resp)
            )
        });
    let at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |i| i + 4);
    (status, resp[at..].to_vec())
}

/// [`http_exchange`] with the body as text.
pub fn http_send(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    let (status, body) = http_exchange(addr, head, body);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A GET of an `http://` URL with `headers` (`Name: value` lines) on a fresh connection: the
/// status and the body's bytes.
pub fn http_get_with(url: &str, headers: &[String]) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut head = format!("GET /{path} HTTP/1.1\r\nHost: {host}");
    for h in headers {
        head.push_str("\r\n");
        head.push_str(h);
    }
    http_exchange(host, &head, b"")
}

/// A plain GET of an `http://` URL on a fresh connection: the status and the body.
pub fn http_get(url: &str) -> (u16, String) {
    let (status, body) = http_get_with(url, &[]);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A running `artoken serve` on a free port of 127.0.0.1; dropped, it is killed and its
/// stderr (warnings, the access log) joins the suite-wide leak check.
pub struct Serve {
    child: std::process::Child,
    cmd: Command,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The repository lines it printed at start-up.
    pub lines: Vec<String>,
    /// The first repository's URL, as printed (`http://127.0.0.1:PORT/NAME/`).
    pub url: String,
    stderr: std::path::PathBuf,
}

impl Serve {
    /// Starts it and checks the one repository line it prints for `name` (`format`).
    pub fn start(env: &Env, name: &str, format: &str) -> Serve {
        let s = Serve::start_with(env, &[], 1);
        assert_eq!(
            s.lines[0],
            format!("  {name} ({format}): {}/{name}/", s.base)
        );
        s
    }

    /// Starts it with `extra` flags and reads its address and `repositories` repository lines.
    pub fn start_with(env: &Env, extra: &[&str], repositories: usize) -> Serve {
        Serve::start_cmd(env, env.artoken(), extra, repositories)
    }

    /// [`Serve::start_with`] from `cmd`: an artoken command with the test's own environment.
    pub fn start_cmd(env: &Env, mut cmd: Command, extra: &[&str], repositories: usize) -> Serve {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stderr = env.sb.root().join(format!("serve-{n}.err"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = cmd.spawn().expect("spawn artoken serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        let mut next = || match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "artoken serve printed too little:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            }
        };
        let first = next();
        let lines: Vec<String> = (0..repositories).map(|_| next()).collect();
        let base = first
            .strip_prefix("artoken serve listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        let url = lines
            .first()
            .and_then(|l| l.split_once("): "))
            .map(|(_, u)| u.to_string())
            .unwrap_or_else(|| format!("{base}/"));
        Serve {
            child,
            cmd,
            base,
            lines,
            url,
            stderr,
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// `host:port` of the listener.
    pub fn addr(&self) -> &str {
        self.base.strip_prefix("http://").unwrap()
    }

    /// Sends a raw request (see [`http_send`]) straight to it.
    pub fn send(&self, head: &str, body: &[u8]) -> (u16, String) {
        http_send(self.addr(), head, body)
    }

    /// GET `path` straight from it: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&format!("{}{path}", self.base))
    }

    /// Polls stderr until `pred` holds for it (an access line is written when the response
    /// is done, which may be just after the client read it).
    pub fn wait_stderr(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let err = self.stderr();
            if pred(&err) {
                return err;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {what} on stderr:\n{err}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// SIGTERM, then its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        testkit::run(Command::new("kill").args(["-TERM", &pid]));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "artoken serve did not stop on SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        testkit::kill_and_record(&mut self.child, &self.cmd, &self.stderr);
    }
}
