//! The cargo credential provider driven through stdin/stdout with cargo's documented messages
//! against the emulator, and real cargo resolving a crate from a small authenticated sparse
//! registry (in this test) with the token artoken provides.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::Value;

/// The emulator's cargo-style index URL for the demo domain.
fn index_url(env: &Env) -> String {
    format!(
        "sparse+{}/demo-{OWNER}.d.codeartifact.{}.amazonaws.com/cargo/crates/",
        env.emu.url(),
        testkit::REGION
    )
}

fn read_request(env: &Env, operation: &str) -> String {
    serde_json::json!({
        "v": 1,
        "registry": {"index-url": index_url(env), "name": "corp"},
        "kind": "get",
        "operation": operation,
        "args": [],
    })
    .to_string()
}

/// Runs the provider with `lines` on stdin; returns the output and the parsed stdout lines.
fn converse(mut cmd: Command, lines: &[String]) -> (Output, Vec<Value>) {
    let input = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    // stderr joins the suite's leak check (stdout carries the token by design).
    testkit::record_output(&cmd, &out);
    let values = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (out, values)
}

fn plugin(env: &Env, extra: &[&str]) -> Command {
    let mut cmd = env.artoken();
    cmd.args(["cargo-credential", "--cargo-plugin"]).args(extra);
    cmd
}

fn assert_token_reply(env: &Env, v: &Value) -> String {
    let ok = &v["Ok"];
    assert_eq!(ok["kind"], "get", "{v}");
    assert_eq!(ok["cache"], "expires", "{v}");
    assert_eq!(ok["operation_independent"], true, "{v}");
    let left = ok["expiration"].as_i64().unwrap() - artoken_core::source::now();
    assert!((43_000..=43_200).contains(&left), "{v}");
    let token = ok["token"].as_str().unwrap().to_string();
    assert!(env.emu.issued_tokens().contains(&token), "{v}");
    token
}

#[test]
fn hello_then_a_token_for_read_and_publish() {
    let env = setup();
    let publish = serde_json::json!({
        "v": 1,
        "registry": {"index-url": index_url(&env), "name": "corp"},
        "kind": "get",
        "operation": "publish",
        "name": "sample",
        "vers": "0.1.0",
        "cksum": "0123abcd",
        "args": [],
    })
    .to_string();
    let (out, replies) = converse(plugin(&env, &[]), &[read_request(&env, "read"), publish]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(replies.len(), 3, "{replies:?}");
    assert_eq!(replies[0], serde_json::json!({"v": [1]}));
    let t1 = assert_token_reply(&env, &replies[1]);
    let t2 = assert_token_reply(&env, &replies[2]);
    assert_eq!(t1, t2);
    assert_eq!(env.tokens_issued(), 1);
}

#[test]
fn cargo_runs_artoken_itself_with_the_arguments_in_the_request() {
    // `credential-provider = "artoken cargo-credential"`: cargo runs `artoken --cargo-plugin`.
    let env = setup();
    let token = env.ok(&["token"]);
    let req = serde_json::json!({
        "v": 1,
        "registry": {"index-url": index_url(&env)},
        "kind": "get",
        "operation": "read",
        "args": ["cargo-credential"],
    })
    .to_string();
    let mut cmd = env.artoken();
    cmd.arg("--cargo-plugin");
    let (out, replies) = converse(cmd, &[req]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(replies[0], serde_json::json!({"v": [1]}));
    assert_eq!(assert_token_reply(&env, &replies[1]), token.trim_end());
    assert_eq!(env.tokens_issued(), 1, "the shared cache answered");
}

#[test]
fn bearer_and_repo_arguments() {
    let env = setup();
    let with_args = |url: &str| {
        serde_json::json!({
            "v": 1,
            "registry": {"index-url": url},
            "kind": "get",
            "operation": "read",
            "args": ["cargo-credential", "--repo", "js", "--bearer"],
        })
        .to_string()
    };
    let (_, replies) = converse(
        plugin(&env, &["--bearer"]),
        &[
            read_request(&env, "read"),
            with_args(&index_url(&env)),
            // --repo names the settings, not any registry: another one gets no token
            with_args("sparse+https://crates.example.com/index/"),
        ],
    );
    for r in &replies[1..3] {
        let t = r["Ok"]["token"].as_str().unwrap();
        let bare = t.strip_prefix("Bearer ").unwrap_or_else(|| panic!("{r}"));
        assert!(env.emu.issued_tokens().contains(&bare.to_string()));
    }
    assert_eq!(
        replies[3],
        serde_json::json!({"Err": {"kind": "url-not-supported"}})
    );
}

#[test]
fn other_registries_login_and_logout_are_declined() {
    let env = setup();
    let reg = |url: &str| serde_json::json!({"index-url": url, "name": "x"});
    let lines = [
        serde_json::json!({"v": 1, "registry": reg("https://github.com/rust-lang/crates.io-index"), "kind": "get", "operation": "read", "args": []}),
        serde_json::json!({"v": 1, "registry": reg("sparse+https://index.crates.io/"), "kind": "get", "operation": "read"}),
        serde_json::json!({"v": 1, "registry": {"index-url": index_url(&env)}, "kind": "login", "token": "x", "login-url": "http://r/login", "args": []}),
        serde_json::json!({"v": 1, "registry": {"index-url": index_url(&env)}, "kind": "logout", "args": []}),
    ]
    .map(|v| v.to_string());
    let (out, replies) = converse(plugin(&env, &[]), &lines);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        replies[1],
        serde_json::json!({"Err": {"kind": "url-not-supported"}})
    );
    assert_eq!(
        replies[2],
        serde_json::json!({"Err": {"kind": "url-not-supported"}})
    );
    for r in &replies[3..] {
        assert_eq!(r["Err"]["kind"], "operation-not-supported", "{r}");
    }
    assert_eq!(env.tokens_issued(), 0);
}

#[test]
fn an_aws_refusal_is_an_error_reply_for_cargo_to_show() {
    let mut env = setup();
    env.sb
        .set_env("AWS_ACCESS_KEY_ID", "AKIABLOCKEDBLOCKED00")
        .set_env("AWS_SECRET_ACCESS_KEY", "blocked-secret");
    let (out, replies) = converse(plugin(&env, &[]), &[read_request(&env, "read")]);
    assert!(
        out.status.success(),
        "cargo shows the message only after a clean exit"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let err = &replies[1]["Err"];
    assert_eq!(err["kind"], "other", "{}", replies[1]);
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("codeartifact:GetAuthorizationToken"), "{msg}");
    assert!(msg.contains("domain demo"), "{msg}");
}

#[test]
fn bad_messages_get_error_replies() {
    let env = setup();
    let lines = [
        "{not json".to_string(),
        serde_json::json!({"v": 2, "registry": {"index-url": index_url(&env)}, "kind": "get", "operation": "read"}).to_string(),
    ];
    let (out, replies) = converse(plugin(&env, &[]), &lines);
    assert!(out.status.success());
    assert_eq!(replies.len(), 3);
    for r in &replies[1..] {
        assert_eq!(r["Err"]["kind"], "other", "{r}");
    }
}

#[test]
fn without_cargo_plugin_it_explains_the_setup() {
    let env = setup();
    let out = env.ok(&["cargo-credential"]);
    assert!(
        out.contains("credential-provider = \"artoken cargo-credential\""),
        "{out}"
    );
}

// --- real cargo against a small authenticated sparse registry ---------------------------------

/// Serves a sparse index under `/{codeartifact host}/cargo/crates/` that wants a token on
/// every request; records the `Authorization` headers it got. Any other connection is passed
/// through to the emulator, so the registry's address is the endpoint override, as the
/// emulator's own path form needs.
struct Registry {
    url: String,
    /// `http://127.0.0.1:PORT`: for AWS_ENDPOINT_URL.
    origin: String,
    seen: Arc<Mutex<Vec<String>>>,
}

/// Copies the bytes `first` already read, then both ways, between `client` and `upstream`.
fn pass_through(client: TcpStream, first: Vec<u8>, upstream: &str) {
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    if up.write_all(&first).is_err() {
        return;
    }
    let (mut up_read, mut client_write) = (up.try_clone().unwrap(), client.try_clone().unwrap());
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(std::net::Shutdown::Write);
    });
    let mut client_read = client;
    let _ = std::io::copy(&mut client_read, &mut up);
    let _ = up.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
}

fn start_registry(emulator: &str) -> Registry {
    let upstream = emulator.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let base = format!(
        "http://{}/demo-{OWNER}.d.codeartifact.{}.amazonaws.com/cargo/crates",
        listener.local_addr().unwrap(),
        testkit::REGION
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (seen2, base2) = (seen.clone(), base.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            if !path.contains("/cargo/crates/") {
                // an AWS call: to the emulator
                let mut first = line.into_bytes();
                first.extend_from_slice(reader.buffer());
                let upstream = upstream.clone();
                std::thread::spawn(move || pass_through(stream, first, &upstream));
                continue;
            }
            let mut auth = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("authorization")
                {
                    auth = Some(v.trim().to_string());
                }
            }
            let (status, body) = match &auth {
                None => ("401 Unauthorized", String::new()),
                Some(a) => {
                    seen2.lock().unwrap().push(a.clone());
                    let rel = path
                        .split_once("/cargo/crates/")
                        .map(|(_, r)| r)
                        .unwrap_or("");
                    match rel {
                        "config.json" => (
                            "200 OK",
                            format!(r#"{{"dl":"{base2}/dl","api":"{base2}/","auth-required":true}}"#),
                        ),
                        "ar/to/artoken-demo" => (
                            "200 OK",
                            r#"{"name":"artoken-demo","vers":"1.0.0","deps":[],"cksum":"0000000000000000000000000000000000000000000000000000000000000000","features":{},"yanked":false}"#.to_string() + "\n",
                        ),
                        _ => ("404 Not Found", String::new()),
                    }
                }
            };
            let mut s = stream;
            let challenge = if status.starts_with("401") {
                "WWW-Authenticate: Cargo login_url=\"https://example.com/login\"\r\n"
            } else {
                ""
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\n{challenge}Content-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.flush();
            let _ = reader.read(&mut [0u8; 0]);
        }
    });
    Registry {
        url: format!("{base}/"),
        origin,
        seen,
    }
}

#[test]
fn real_cargo_resolves_a_crate_with_the_token_artoken_provides() {
    let mut env = setup();
    let registry = start_registry(&env.emu.url());
    // The registry is the emulator's path form at the endpoint override (AWS calls go through).
    env.sb.use_endpoint(&registry.origin);
    let cargo_home = env.sb.root().join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    let artoken = artoken_bin().display().to_string();
    std::fs::write(
        cargo_home.join("config.toml"),
        format!(
            "[registries.corp]\nindex = \"sparse+{}\"\ncredential-provider = [\"{artoken}\", \"cargo-credential\"]\n\n[net]\nretry = 0\n",
            registry.url
        ),
    )
    .unwrap();
    let project = env.sb.work().join("app");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nartoken-demo = { version = \"1\", registry = \"corp\" }\n",
    )
    .unwrap();
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n").unwrap();

    let cargo = env!("CARGO");
    let rustc = std::path::Path::new(cargo).with_file_name("rustc");
    let out = testkit::run(
        env.sb
            .command(cargo)
            .current_dir(&project)
            .env("CARGO_HOME", &cargo_home)
            .env("RUSTC", rustc)
            .args(["generate-lockfile"]),
    );
    let all = testkit::text(&out);
    assert!(
        out.status.success(),
        "cargo generate-lockfile failed:\n{all}"
    );
    let lock = std::fs::read_to_string(project.join("Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"artoken-demo\""), "{lock}");
    let seen = registry.seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "cargo never sent a token");
    let issued = env.emu.issued_tokens();
    for a in &seen {
        assert!(
            issued.contains(a),
            "cargo sent something else than the bare token: {a:.20}..."
        );
    }
    for t in &issued {
        assert!(!all.contains(t.as_str()), "cargo printed the token");
        for f in ["config.toml", "credentials.toml"] {
            let text = std::fs::read_to_string(cargo_home.join(f)).unwrap_or_default();
            assert!(!text.contains(t.as_str()), "the token ended up in {f}");
        }
    }
}
