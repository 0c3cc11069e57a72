//! `artoken serve`'s request guard end to end: the binary in a sandbox in front of the
//! emulator. What a web page can make a browser send (a cross-site form POST upload, a
//! DNS-rebound GET) is refused and logged; pip through the proxy still works.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use testkit::clients::pip_install;
use testkit::text;

/// A running `artoken serve` (as in e2e_serve.rs).
struct Serve {
    child: Child,
    cmd: Command,
    /// `http://127.0.0.1:PORT`
    base: String,
    stderr: PathBuf,
}

impl Serve {
    fn start(env: &Env, extra: &[&str]) -> Serve {
        let stderr = env
            .sb
            .root()
            .join(format!("serve-guard-{}.err", std::process::id()));
        let mut cmd = env.artoken();
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
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
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "artoken serve printed nothing:\n{}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            });
        let base = first
            .strip_prefix("artoken serve listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        Serve {
            child,
            cmd,
            base,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// `host:port` of the listener.
    fn addr(&self) -> &str {
        self.base.strip_prefix("http://").unwrap()
    }

    /// Sends `head` (request line and header lines, no final blank line) and `body` on a fresh
    /// HTTP/1.1 connection: the status and the response body.
    fn send(&self, head: &str, body: &[u8]) -> (u16, String) {
        let mut s = std::net::TcpStream::connect(self.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!(
            "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        s.write_all(&req).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        let resp = String::from_utf8_lossy(&resp).into_owned();
        let status = resp[9..12].parse().unwrap();
        let body = resp
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Polls stderr until `pred` holds for it (the access line is written when the response
    /// is done, which may be just after the client read it).
    fn wait_stderr(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let err = self.stderr();
            if pred(&err) {
                return err;
            }
            assert!(Instant::now() < deadline, "no {what} on stderr:\n{err}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        if let Ok(status) = self.child.wait() {
            // Its stderr (the access log) joins the suite-wide leak check.
            let out = Output {
                status,
                stdout: Vec::new(),
                stderr: self.stderr().into_bytes(),
            };
            testkit::record_output(&self.cmd, &out);
        }
    }
}

/// A wheel upload as twine sends it: multipart/form-data, which a plain HTML form can send
/// across sites without a CORS preflight.
fn twine_like_upload(project: &str) -> (String, Vec<u8>) {
    let boundary = "----artokenFormBoundary7MA4YWxk";
    let file = format!("{}-6.6.6-py3-none-any.whl", project.replace('-', "_"));
    let mut body = String::new();
    for (name, value) in [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", "2.1"),
        ("name", project),
        ("version", "6.6.6"),
        ("filetype", "bdist_wheel"),
        ("pyversion", "py3"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\nPK\u{3}\u{4}planted\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

fn uploads(env: &Env) -> u64 {
    env.emu
        .stats()
        .requests
        .get("pypi:upload")
        .copied()
        .unwrap_or(0)
}

#[test]
fn a_cross_site_form_upload_is_refused_and_pip_still_works() {
    let env = setup();
    let serve = Serve::start(&env, &[]);
    let addr = serve.addr().to_string();
    let port = addr.rsplit(':').next().unwrap().to_string();
    let (ctype, body) = twine_like_upload("planted-pkg");

    // What a browser sends for a form on https://evil.example posting to the proxy.
    let (status, resp) = serve.send(
        &format!(
            "POST /demo/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ctype}\r\nOrigin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document"
        ),
        &body,
    );
    assert_eq!(status, 403, "{resp}");
    assert!(
        resp.contains("refused a cross-site browser request"),
        "{resp}"
    );
    // A browser without Fetch Metadata still sends Origin on a POST.
    let (status, resp) = serve.send(
        &format!(
            "POST /demo/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ctype}\r\nOrigin: https://evil.example"
        ),
        &body,
    );
    assert_eq!(status, 403, "{resp}");
    assert!(resp.contains("evil.example"), "{resp}");
    // DNS rebinding: the attacker's name resolved to 127.0.0.1.
    let (status, resp) = serve.send(
        &format!("GET /demo/simple/ HTTP/1.1\r\nHost: evil.example:{port}"),
        b"",
    );
    assert_eq!(status, 421, "{resp}");
    assert!(!resp.contains("artoken-demo"), "{resp}");
    assert_eq!(uploads(&env), 0, "a refused upload reached the repository");
    let (status, index) = serve.send(&format!("GET /demo/simple/ HTTP/1.1\r\nHost: {addr}"), b"");
    assert_eq!(status, 200);
    assert!(!index.contains("planted-pkg"), "{index}");

    // The refusals are in the access log, with why.
    let err = serve.wait_stderr("three refusals", |e| {
        e.matches(" status=403 ").count() == 2 && e.contains(" status=421 ")
    });
    let refused: Vec<&str> = err.lines().filter(|l| l.contains(" refused=")).collect();
    assert_eq!(refused.len(), 3, "{err}");
    assert!(
        refused[0].contains("method=POST path=/demo/ status=403"),
        "{err}"
    );
    assert!(refused[2].contains("status=421"), "{err}");
    assert!(refused[2].contains("evil.example"), "{err}");

    // pip (no Origin, no Sec-Fetch-Site, the proxy's own Host) is unaffected.
    let target = env.sb.root().join("site-pip");
    let out = pip_install(
        &env.sb,
        &format!("{}/demo/simple/", serve.base),
        &target,
        "artoken-demo",
    );
    assert!(out.status.success(), "pip install failed:\n{}", text(&out));
    assert!(target.join("artoken_demo/__init__.py").is_file());
    // And the upload itself was valid: sent as twine sends it, it is published.
    let (status, resp) = serve.send(
        &format!("POST /demo/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ctype}"),
        &body,
    );
    assert_eq!(status, 200, "{resp}");
    assert_eq!(uploads(&env), 1);
}

#[test]
fn a_bad_public_url_is_refused_before_any_aws_call() {
    let env = setup();
    for url in [
        "ftp://proxy.example/",
        "https://user:pw@proxy.example/",
        "https:///x",
    ] {
        let out = env.run(&["serve", "--public-url", url]);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", text(&out));
        let l = first_err_line(&out);
        assert!(l.contains("--public-url"), "{url}: {l}");
    }
    assert_eq!(env.tokens_issued(), 0);
}
