//! Issue #12, finding 1: the keyring helper and the cargo credential provider give the token
//! only to a configured repository's own https host, or to the emulator's path form at the
//! endpoint override; look-alike hosts, plain http, other ports, userinfo, query and fragment
//! tricks and unconfigured domains get nothing, and AWS is never asked for them.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::Value;

/// The demo domain's real host name (region: the sandbox's).
const HOST: &str = "demo-111122223333.d.codeartifact.eu-west-1.amazonaws.com";
const PATH: &str = "/pypi/pypi-store/simple/";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The emulator's port.
fn port(env: &Env) -> u16 {
    env.emu
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the emulator's URL ends with its port")
}

fn aws_token_calls(env: &Env) -> u64 {
    env.emu
        .stats()
        .requests
        .get("GetAuthorizationToken")
        .copied()
        .unwrap_or(0)
}

fn assert_aws_never_asked(env: &Env) {
    assert_eq!(env.tokens_issued(), 0, "a token was issued");
    assert_eq!(aws_token_calls(env), 0, "AWS was asked for a token");
}

/// Every keyring form pip and uv use, for one service.
fn keyring_forms(service: &str) -> [Vec<&str>; 3] {
    [
        vec!["keyring", "get", service, "aws"],
        vec!["keyring", "--mode=creds", "--output=json", "get", service],
        vec!["keyring", "get", service, "--mode", "creds"],
    ]
}

/// Exit 1, nothing on stdout and nothing on stderr, in every form.
fn assert_keyring_refuses(env: &Env, cmd: impl Fn() -> Command, service: &str) {
    for args in keyring_forms(service) {
        let out = testkit::run(cmd().args(&args));
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert_eq!(stdout(&out), "", "{args:?}: a reply on stdout");
        assert_eq!(stderr(&out), "", "{args:?}: not silent");
        env.assert_no_leak_on_stderr(&out);
    }
}

/// Success in every form, with an issued token in the reply.
fn assert_keyring_answers(env: &Env, cmd: impl Fn() -> Command, service: &str) {
    for args in keyring_forms(service) {
        let out = testkit::run(cmd().args(&args));
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let text = stdout(&out);
        let token = match text.lines().collect::<Vec<_>>().as_slice() {
            [json] if json.starts_with('{') => {
                serde_json::from_str::<Value>(json).unwrap()["password"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
            [token] => token.to_string(),
            ["aws", token] => token.to_string(),
            other => panic!("{args:?}: {other:?}"),
        };
        assert!(
            env.emu.issued_tokens().contains(&token),
            "{args:?}: not an issued token"
        );
    }
}

#[test]
fn look_alike_loopback_hosts_get_no_token() {
    let env = setup();
    let p = port(&env);
    for host in [
        "127.evil.example.com",
        "127.evil.example",
        "127.0.0.1.nip.io",
        "localhost.evil",
        "10.0.0.1",
    ] {
        let service = format!("http://{host}:{p}/{HOST}{PATH}");
        assert_keyring_refuses(&env, || env.artoken(), &service);
    }
    assert_aws_never_asked(&env);
}

#[test]
fn plain_http_other_ports_suffixes_userinfo_query_and_fragment_get_no_token() {
    let env = setup();
    for service in [
        format!("http://{HOST}{PATH}"),
        format!("http://aws@{HOST}{PATH}"),
        format!("http://{HOST}:443{PATH}"),
        format!("https://{HOST}:8443{PATH}"),
        format!("{HOST}:8443"),
        format!("https://{HOST}.evil.example{PATH}"),
        format!("{HOST}.evil.example"),
        format!("https://{HOST}.{PATH}"),
        format!("https://{HOST}@evil.example{PATH}"),
        format!("https://aws@{HOST}@evil.example{PATH}"),
        format!("https://{HOST}\\@evil.example{PATH}"),
        format!("https://{}{PATH}", HOST.replace("demo", "%64emo")),
        format!("https://{HOST}{PATH}?x=1"),
        format!("https://{HOST}{PATH}#f"),
        format!("sparse+https://{HOST}/cargo/crates/"),
    ] {
        assert_keyring_refuses(&env, || env.artoken(), &service);
    }
    assert_aws_never_asked(&env);
}

#[test]
fn unconfigured_domains_get_no_token_and_no_aws_call() {
    let env = setup();
    for service in [
        format!("https://{}{PATH}", HOST.replace("demo-", "other-")),
        format!(
            "https://{}{PATH}",
            HOST.replace("111122223333", "999999999999")
        ),
        HOST.replace("demo-", "other-"),
    ] {
        assert_keyring_refuses(&env, || env.artoken(), &service);
    }
    // With no config at all, not even the configured-looking emulator URL gets one.
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    let index = format!("{}simple/", env.endpoint());
    for service in [index.as_str(), HOST, &format!("https://{HOST}{PATH}")] {
        assert_keyring_refuses(&env, || env.artoken(), service);
    }
    assert_aws_never_asked(&env);
}

#[test]
fn the_emulator_form_only_at_the_endpoint_override() {
    let mut env = setup();
    let p = port(&env);
    let index = format!("{}simple/", env.endpoint());
    // another port, another spelling of loopback, another scheme than the override's
    for service in [
        index.replace(&format!(":{p}/"), &format!(":{}/", p.wrapping_add(1))),
        index.replace("127.0.0.1", "localhost"),
        index.replace("127.0.0.1", "[::1]"),
        index.replace("http://", "https://"),
    ] {
        assert_keyring_refuses(&env, || env.artoken(), &service);
    }
    // no override at all: no path form
    let no_override = || {
        let mut c = env.artoken();
        c.env_remove("AWS_ENDPOINT_URL");
        c
    };
    assert_keyring_refuses(&env, no_override, &index);
    assert_aws_never_asked(&env);

    // The override by --endpoint-url or AWS_ENDPOINT_URL_CODEARTIFACT counts as well.
    let flag = || {
        let mut c = no_override();
        c.args(["--endpoint-url", &env.emu.url()]);
        c
    };
    assert_keyring_answers(&env, flag, &index);
    let service_var = || {
        let mut c = no_override();
        c.env("AWS_ENDPOINT_URL_CODEARTIFACT", env.emu.url());
        c
    };
    assert_keyring_answers(&env, service_var, &index);
    // ... and AWS_ENDPOINT_URL_CODEARTIFACT wins over AWS_ENDPOINT_URL, as for the SDK.
    env.sb
        .set_env("AWS_ENDPOINT_URL_CODEARTIFACT", env.emu.url())
        .set_env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    let before = env.tokens_issued();
    assert_keyring_refuses(
        &env,
        || env.artoken(),
        &index.replace(&format!(":{p}/"), ":9/"),
    );
    assert_eq!(env.tokens_issued(), before);
}

#[test]
fn the_forms_clients_send_still_get_the_token() {
    let mut env = setup();
    let index = format!("{}simple/", env.endpoint());
    for service in [
        index.clone(),
        index.replacen("http://", "http://aws@", 1),
        format!("{}simple/artoken-demo/", env.endpoint()),
        format!("https://{HOST}{PATH}"),
        format!("https://aws@{HOST}{PATH}"),
        format!("https://{HOST}:443{PATH}"),
        format!("https://{}{PATH}", HOST.to_uppercase()),
        HOST.to_string(),
        format!("{HOST}:443"),
    ] {
        assert_keyring_answers(&env, || env.artoken(), &service);
    }
    assert_eq!(env.tokens_issued(), 1, "one token, then the cache");

    // A repository defined by ARTOKEN_* variables alone is configured too.
    std::fs::remove_file(env.sb.work().join("artoken.yml")).unwrap();
    env.sb
        .set_env("ARTOKEN_DOMAIN", "demo")
        .set_env("ARTOKEN_DOMAIN_OWNER", OWNER)
        .set_env("ARTOKEN_REPOSITORY", "pypi-store");
    assert_keyring_answers(&env, || env.artoken(), &index);
    assert_keyring_answers(&env, || env.artoken(), HOST);
}

// --- cargo -------------------------------------------------------------------------------------

/// Runs the provider with one `get` per index URL; returns the replies after the hello.
fn cargo_gets(env: &Env, extra: &[&str], index_urls: &[String]) -> Vec<Value> {
    let input: String = index_urls
        .iter()
        .map(|u| {
            format!(
                "{}\n",
                serde_json::json!({
                    "v": 1,
                    "registry": {"index-url": u, "name": "corp"},
                    "kind": "get",
                    "operation": "read",
                    "args": ["cargo-credential"],
                })
            )
        })
        .collect();
    let mut child = env
        .artoken()
        .args(["cargo-credential", "--cargo-plugin"])
        .args(extra)
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
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let mut lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.remove(0), serde_json::json!({"v": [1]}));
    assert_eq!(lines.len(), index_urls.len(), "{lines:?}");
    lines
}

#[test]
fn cargo_credential_declines_other_registries_even_with_repo() {
    let env = setup();
    let p = port(&env);
    let emulated = format!("sparse+{}/{HOST}/cargo/crates/", env.emu.url());
    let urls = [
        "sparse+https://crates.example.com/index/".to_string(),
        "sparse+https://index.crates.io/".to_string(),
        format!(
            "sparse+https://{}/cargo/crates/",
            HOST.replace("demo-", "other-")
        ),
        format!("sparse+http://{HOST}/cargo/crates/"),
        format!("sparse+https://{HOST}:8443/cargo/crates/"),
        format!("sparse+https://{HOST}.evil.example/cargo/crates/"),
        format!("sparse+https://{HOST}@evil.example/cargo/crates/"),
        format!("sparse+https://{HOST}/cargo/crates/?x"),
        format!("sparse+http://127.evil.example.com:{p}/{HOST}/cargo/crates/"),
        emulated.replace(&format!(":{p}/"), &format!(":{}/", p.wrapping_add(1))),
        emulated.replace("127.0.0.1", "localhost"),
    ];
    for extra in [&[][..], &["--repo", "demo"], &["--repo", "js", "--bearer"]] {
        for (url, reply) in urls.iter().zip(cargo_gets(&env, extra, &urls)) {
            assert_eq!(
                reply,
                serde_json::json!({"Err": {"kind": "url-not-supported"}}),
                "{extra:?} {url}"
            );
        }
    }
    // A name that is not configured is an error cargo shows, not a token.
    let replies = cargo_gets(&env, &["--repo", "nope"], &[emulated]);
    assert_eq!(replies[0]["Err"]["kind"], "other", "{}", replies[0]);
    let msg = replies[0]["Err"]["message"].as_str().unwrap();
    assert!(
        msg.contains("\"nope\" is not a configured repository"),
        "{msg}"
    );
    assert_aws_never_asked(&env);
}

#[test]
fn cargo_credential_answers_the_repositorys_own_index() {
    let env = setup();
    let urls = [
        format!("sparse+{}/{HOST}/cargo/crates/", env.emu.url()),
        format!("sparse+https://{HOST}/cargo/crates/"),
        format!("sparse+https://{HOST}:443/cargo/crates/"),
    ];
    for extra in [&[][..], &["--repo", "demo"], &["--repo", "js"]] {
        for (url, reply) in urls.iter().zip(cargo_gets(&env, extra, &urls)) {
            let token = reply["Ok"]["token"]
                .as_str()
                .unwrap_or_else(|| panic!("{extra:?} {url}: {reply}"));
            assert!(env.emu.issued_tokens().iter().any(|t| t == token));
        }
    }
}
