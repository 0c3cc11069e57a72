//! The cache never mixes callers: two accounts behind profiles, static keys and a container
//! credentials endpoint each get their own token and endpoint, and switching back reuses the
//! first caller's entry.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use codeartifact_emulator::config::{AccessKey, DomainConfig, RepositoryConfig};
use codeartifact_emulator::{EmulatorConfig, Format};
use common::*;

const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";
const KEY_A: (&str, &str) = ("AKIAALICEALICEALICE0", "alice-secret");
const KEY_B: (&str, &str) = ("AKIABOBBOBBOBBOBBOB0", "bob-secret");

/// A repository with no owner: the domain is the caller's account's.
const NO_OWNER: &str = "default: demo
repositories:
  demo: { domain: demo, repository: pypi-store, format: pypi }
";

/// Alice (account A) and Bob (account B) each own a `demo` domain with a `pypi-store`.
fn two_accounts() -> Env {
    let key = |(id, secret): (&str, &str), account: &str, user: &str| AccessKey {
        id: id.into(),
        secret: secret.into(),
        account: Some(account.into()),
        user: Some(user.into()),
        deny: Vec::new(),
    };
    let domain = |owner: &str| DomainConfig {
        name: "demo".into(),
        owner: owner.into(),
        repositories: vec![RepositoryConfig {
            name: "pypi-store".into(),
            format: Format::Pypi,
            description: None,
            packages_dir: None,
            packages: Vec::new(),
        }],
    };
    let mut cfg = emulator_config();
    cfg.access_keys.push(key(KEY_A, ACCOUNT_A, "alice"));
    cfg.access_keys.push(key(KEY_B, ACCOUNT_B, "bob"));
    let env = setup_with(EmulatorConfig {
        domains: vec![domain(ACCOUNT_A), domain(ACCOUNT_B)],
        ..cfg
    });
    std::fs::write(env.sb.work().join("artoken.yml"), NO_OWNER).unwrap();
    std::fs::write(
        env.sb.home().join(".aws/credentials"),
        format!(
            "[a]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
             [b]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            KEY_A.0, KEY_A.1, KEY_B.0, KEY_B.1
        ),
    )
    .unwrap();
    env
}

/// artoken with no static keys in the environment (the sandbox has some).
fn without_keys(env: &Env) -> Command {
    let mut cmd = env.artoken();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    cmd
}

fn stdout_ok(env: &Env, cmd: &mut Command) -> String {
    let out = testkit::run_ok(cmd);
    env.assert_no_leak_on_stderr(&out);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn with_profile(env: &Env, profile: &str, args: &[&str]) -> String {
    stdout_ok(
        env,
        without_keys(env).env("AWS_PROFILE", profile).args(args),
    )
}

fn with_keys(env: &Env, (id, secret): (&str, &str), args: &[&str]) -> String {
    stdout_ok(
        env,
        env.artoken()
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .args(args),
    )
}

/// The endpoint GetRepositoryEndpoint gives `owner`'s caller (in the region it signed for).
fn endpoint_of(env: &Env, owner: &str) -> String {
    codeartifact_emulator::endpoint_url(
        &env.emu.url(),
        "demo",
        owner,
        testkit::REGION,
        Format::Pypi,
        "pypi-store",
    )
}

fn url_endpoint(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["endpoint"].as_str().unwrap().to_string()
}

/// The data plane's answer to `token` on the repository of `owner`'s domain (the emulator
/// accepts a token only for the domain and owner it was issued for).
fn status_with(env: &Env, owner: &str, token: &str) -> u16 {
    let url = format!("{}simple/", endpoint_of(env, owner));
    http_get_with(&url, &[format!("Authorization: Bearer {token}")]).0
}

/// `token` was issued to `owner`'s caller: it works on that account's repository only.
fn assert_issued_to(env: &Env, token: &str, owner: &str, other: &str) {
    assert!(env.emu.issued_tokens().contains(&token.to_string()));
    assert_eq!(status_with(env, owner, token), 200, "issued for {owner}");
    assert_ne!(status_with(env, other, token), 200, "not for {other}");
}

fn requests(env: &Env, route: &str) -> u64 {
    env.emu.stats().requests.get(route).copied().unwrap_or(0)
}

#[test]
fn switching_aws_profile_switches_the_caller_and_its_cache_entries() {
    let env = two_accounts();
    let a = with_profile(&env, "a", &["token"]);
    let b = with_profile(&env, "b", &["token"]);
    assert_ne!(
        a, b,
        "profile b must not get the token minted for profile a"
    );
    assert_eq!(env.tokens_issued(), 2);
    assert_issued_to(&env, &a, ACCOUNT_A, ACCOUNT_B);
    assert_issued_to(&env, &b, ACCOUNT_B, ACCOUNT_A);
    // each profile gets its own account's endpoint
    let url_a = with_profile(&env, "a", &["url", "--json"]);
    let url_b = with_profile(&env, "b", &["url", "--json"]);
    assert_eq!(url_endpoint(&url_a), endpoint_of(&env, ACCOUNT_A));
    assert_eq!(url_endpoint(&url_b), endpoint_of(&env, ACCOUNT_B));
    // back to a: its cached token, no new one
    let issued = env.tokens_issued();
    assert_eq!(with_profile(&env, "a", &["token"]), a);
    assert_eq!(with_profile(&env, "b", &["token"]), b);
    assert_eq!(env.tokens_issued(), issued, "both reused from the cache");
    assert_eq!(
        requests(&env, "GetCallerIdentity"),
        0,
        "profiles are named locally"
    );
}

#[test]
fn static_keys_in_the_environment_each_get_their_own_token_and_endpoint() {
    let env = two_accounts();
    let url_a = with_keys(&env, KEY_A, &["url", "--json"]);
    let url_b = with_keys(&env, KEY_B, &["url", "--json"]);
    assert_eq!(url_endpoint(&url_a), endpoint_of(&env, ACCOUNT_A));
    assert_eq!(
        url_endpoint(&url_b),
        endpoint_of(&env, ACCOUNT_B),
        "the endpoint cached for key A must not be served to key B"
    );
    let a = with_keys(&env, KEY_A, &["token"]);
    let b = with_keys(&env, KEY_B, &["token"]);
    assert_ne!(a, b);
    assert_issued_to(&env, &a, ACCOUNT_A, ACCOUNT_B);
    assert_issued_to(&env, &b, ACCOUNT_B, ACCOUNT_A);
    let issued = env.tokens_issued();
    assert_eq!(issued, 2, "url fetched both tokens, token reused them");
    assert_eq!(with_keys(&env, KEY_A, &["token"]), a);
    assert_eq!(env.tokens_issued(), issued);
}

#[test]
fn a_key_in_the_environment_wins_over_aws_profile_and_is_keyed_so() {
    let env = two_accounts();
    // With static keys in the environment the SDK uses them, whatever AWS_PROFILE says.
    let b_by_keys = stdout_ok(
        &env,
        env.artoken()
            .env("AWS_ACCESS_KEY_ID", KEY_B.0)
            .env("AWS_SECRET_ACCESS_KEY", KEY_B.1)
            .env("AWS_PROFILE", "a")
            .arg("token"),
    );
    assert_issued_to(&env, &b_by_keys, ACCOUNT_B, ACCOUNT_A);
    let a = with_profile(&env, "a", &["token"]);
    assert_ne!(a, b_by_keys);
    assert_issued_to(&env, &a, ACCOUNT_A, ACCOUNT_B);
}

/// A container credentials endpoint (as EKS Pod Identity's agent: one address for every pod)
/// that hands out key A or key B by the pod's authorization token.
struct CredentialsAgent {
    url: String,
    served: Arc<AtomicU64>,
}

impl CredentialsAgent {
    fn start() -> CredentialsAgent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/credentials", listener.local_addr().unwrap());
        let served = Arc::new(AtomicU64::new(0));
        let count = served.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_lowercase();
                let (id, secret) = if head.contains("authorization: pod-b") {
                    KEY_B
                } else if head.contains("authorization: pod-a") {
                    KEY_A
                } else {
                    let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                };
                let body = format!(
                    r#"{{"AccessKeyId":"{id}","SecretAccessKey":"{secret}","Token":"session","Expiration":"2099-01-01T00:00:00Z"}}"#
                );
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        CredentialsAgent { url, served }
    }
}

#[test]
fn callers_only_sts_can_name_are_asked_once_and_kept_apart() {
    let env = two_accounts();
    let agent = CredentialsAgent::start();
    let token_file = env.sb.root().join("pod-token");
    let in_pod = |pod: &str| {
        std::fs::write(&token_file, pod).unwrap();
        stdout_ok(
            &env,
            without_keys(&env)
                .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &agent.url)
                .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_file)
                .arg("token"),
        )
    };
    let a = in_pod("pod-a");
    assert_issued_to(&env, &a, ACCOUNT_A, ACCOUNT_B);
    assert_eq!(
        requests(&env, "GetCallerIdentity"),
        1,
        "STS named the caller"
    );
    // the warm path: no STS call, no credentials fetched, the cached token
    let served = agent.served.load(Ordering::SeqCst);
    assert_eq!(in_pod("pod-a"), a);
    assert_eq!(requests(&env, "GetCallerIdentity"), 1);
    assert_eq!(agent.served.load(Ordering::SeqCst), served);
    assert_eq!(env.tokens_issued(), 1);
    // another pod on the same node: same address, same token file path, another caller
    let b = in_pod("pod-b");
    assert_ne!(a, b);
    assert_issued_to(&env, &b, ACCOUNT_B, ACCOUNT_A);
    assert_eq!(requests(&env, "GetCallerIdentity"), 2);
    // back to the first pod: everything from the cache
    assert_eq!(in_pod("pod-a"), a);
    assert_eq!(requests(&env, "GetCallerIdentity"), 2);
    assert_eq!(env.tokens_issued(), 2);
}

#[test]
fn when_sts_cannot_name_the_caller_the_token_is_fetched_uncached() {
    let env = two_accounts();
    let agent = CredentialsAgent::start();
    let token_file = env.sb.root().join("pod-token");
    std::fs::write(&token_file, "pod-a").unwrap();
    let mut faults = env.emu.faults();
    faults.script.insert("sts".into(), "EEEEEE".into());
    env.emu.set_faults(faults);
    let run = || {
        testkit::run_ok(
            without_keys(&env)
                .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &agent.url)
                .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_file)
                .env("AWS_MAX_ATTEMPTS", "1")
                .arg("token"),
        )
    };
    let out = run();
    env.assert_no_leak_on_stderr(&out);
    let t = String::from_utf8(out.stdout).unwrap();
    assert_issued_to(&env, t.trim(), ACCOUNT_A, ACCOUNT_B);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot tell who the AWS caller is") && err.contains("without the cache"),
        "{err}"
    );
    // nothing was cached under a guessed identity
    let second = run();
    assert_ne!(String::from_utf8(second.stdout).unwrap(), t);
    assert_eq!(env.tokens_issued(), 2);
}
