//! Networks: the AWS SDK calls and `serve`'s upstream client go through the proxy that
//! `HTTPS_PROXY`/`HTTP_PROXY` (and lower-case) name, `NO_PROXY` bypassing it, counted by a
//! local proxy (testkit::connect_proxy); a repository's explicit (VPC) endpoints are used and
//! recognised only when configured.

mod common;

use common::*;
use testkit::connect_proxy::ConnectProxy;

/// `artoken token` in a fresh sandbox with `vars` set; its output.
fn token_with(vars: &[(&str, &str)]) -> (Env, std::process::Output) {
    let mut env = setup();
    for (k, v) in vars {
        env.sb.set_env(k, v);
    }
    let out = env.run(&["token"]);
    (env, out)
}

/// The control-plane calls the proxy saw (GetAuthorizationToken and the like).
fn control_calls(p: &ConnectProxy, emu: &str) -> usize {
    p.seen()
        .iter()
        .filter(|s| s.starts_with(&format!("POST {emu}/v1/")))
        .count()
}

#[test]
fn token_goes_through_http_proxy_and_its_lower_case_form() {
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        let p = ConnectProxy::start();
        let (env, out) = token_with(&[(var, &p.url())]);
        assert!(out.status.success(), "{var}: {}", testkit::text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).trim().len() > 20);
        assert!(
            control_calls(&p, &env.emu.url()) >= 1,
            "{var}: the proxy saw {:?}",
            p.seen()
        );
        assert_eq!(env.tokens_issued(), 1);
    }
}

#[test]
fn no_proxy_covering_the_endpoint_bypasses_the_proxy() {
    for no in ["127.0.0.1", "127.0.0.0/8", "*", "example.org, 127.0.0.1"] {
        for (proxy_var, no_var) in [("HTTP_PROXY", "NO_PROXY"), ("http_proxy", "no_proxy")] {
            let p = ConnectProxy::start();
            let (env, out) = token_with(&[(proxy_var, &p.url()), (no_var, no)]);
            assert!(out.status.success(), "{no}: {}", testkit::text(&out));
            assert_eq!(p.count(), 0, "{no_var}={no}: the proxy saw {:?}", p.seen());
            assert_eq!(env.tokens_issued(), 1);
        }
    }
    // a NO_PROXY that does not cover the endpoint leaves it proxied (localhost is not 127.0.0.1)
    let p = ConnectProxy::start();
    let (env, out) = token_with(&[("HTTP_PROXY", &p.url()), ("NO_PROXY", "localhost,.example")]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert!(control_calls(&p, &env.emu.url()) >= 1, "{:?}", p.seen());
}

#[test]
fn https_proxy_alone_leaves_the_plain_http_emulator_direct() {
    let p = ConnectProxy::start();
    let (env, out) = token_with(&[("HTTPS_PROXY", &p.url())]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert_eq!(p.count(), 0, "{:?}", p.seen());
    assert_eq!(env.tokens_issued(), 1);
}

/// A VPC interface endpoint without private DNS, as `describe-vpc-endpoints` names them.
const VPCE_API: &str =
    "vpce-0abc123def4567890-xyz12345.api.codeartifact.us-east-1.vpce.amazonaws.com";

#[test]
fn an_https_endpoint_is_reached_by_a_connect_tunnel_unless_no_proxy_covers_it() {
    // The explicit endpoint is https: the SDK asks the proxy for a CONNECT tunnel to it (the
    // test proxy then has nowhere to send it, so the call fails: what counts is the CONNECT).
    let connects = |vars: &[(&str, &str)]| {
        let p = ConnectProxy::start();
        p.route(VPCE_API, "127.0.0.1:1".parse().unwrap());
        let mut env = setup();
        env.sb
            .set_env("AWS_ENDPOINT_URL", format!("https://{VPCE_API}"));
        env.sb.set_env("ARTOKEN_TIMEOUT", "5");
        env.sb.set_env("HTTPS_PROXY", p.url());
        for (k, v) in vars {
            env.sb.set_env(k, v);
        }
        let out = env.run(&["token"]);
        assert!(!out.status.success());
        assert_eq!(env.tokens_issued(), 0);
        p.seen()
    };
    let seen = connects(&[]);
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|s| *s == format!("CONNECT {VPCE_API}:443")),
        "{seen:?}"
    );
    for no in [".vpce.amazonaws.com", "amazonaws.com", VPCE_API, "*"] {
        assert_eq!(connects(&[("NO_PROXY", no)]), Vec::<String>::new(), "{no}");
    }
}

#[test]
fn serve_upstream_goes_through_the_proxy_unless_no_proxy_covers_it() {
    let upstream_gets = |p: &ConnectProxy, emu: &str| {
        p.seen()
            .iter()
            .filter(|s| {
                s.starts_with(&format!("GET {emu}/")) && s.ends_with("/pypi/pypi-store/simple/")
            })
            .count()
    };
    for var in ["HTTP_PROXY", "http_proxy"] {
        let p = ConnectProxy::start();
        let mut env = setup();
        env.sb.set_env(var, p.url());
        let serve = Serve::start_with(&env, &[], 0);
        assert_eq!(serve.get("/demo/simple/").0, 200);
        assert_eq!(
            upstream_gets(&p, &env.emu.url()),
            1,
            "{var}: {:?}",
            p.seen()
        );
        assert!(control_calls(&p, &env.emu.url()) >= 1, "{:?}", p.seen());
    }
    for no in ["127.0.0.1", "*"] {
        let p = ConnectProxy::start();
        let mut env = setup();
        env.sb.set_env("HTTP_PROXY", p.url());
        env.sb.set_env("NO_PROXY", no);
        let serve = Serve::start_with(&env, &[], 0);
        assert_eq!(serve.get("/demo/simple/").0, 200);
        assert_eq!(serve.get("/demo/simple/").0, 200);
        assert_eq!(p.count(), 0, "NO_PROXY={no}: {:?}", p.seen());
    }
}

#[test]
fn a_proxy_that_wants_a_login_gets_the_one_in_its_url_from_the_sdk_and_from_serve() {
    let p = ConnectProxy::start_with_login("corp", "pr0xy-pass");
    // The AWS SDK's calls (plain http to the emulator: forwarded, the login on each request).
    let (env, out) = token_with(&[("HTTP_PROXY", &p.url())]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert!(control_calls(&p, &env.emu.url()) >= 1, "{:?}", p.seen());
    assert_eq!(env.tokens_issued(), 1);
    // serve's upstream client, forwarded too.
    let mut env = setup();
    env.sb.set_env("HTTP_PROXY", p.url());
    let serve = Serve::start_with(&env, &[], 0);
    let before = p.count();
    assert_eq!(serve.get("/demo/simple/").0, 200);
    assert!(p.count() > before, "{:?}", p.seen());
    assert!(!serve.stderr().contains("pr0xy-pass"), "{}", serve.stderr());
    drop(serve);
    // The same proxy named without the login refuses (407): what got through above was the
    // login each client sent.
    let before = p.count();
    let (env, out) = token_with(&[("HTTP_PROXY", &p.url_without_login())]);
    assert!(
        !out.status.success(),
        "no login, no token: {}",
        testkit::text(&out)
    );
    assert!(p.count() > before, "{:?}", p.seen());
    assert_eq!(env.tokens_issued(), 0);
}

/// The `codeartifact.repositories` VPC endpoint the config names for `demo`.
const VPCE_REPOS: &str =
    "vpce-0abc123def4567890-xyz12345.d.codeartifact.eu-west-1.vpce.amazonaws.com";

#[test]
fn the_keyring_helper_answers_for_the_configured_vpc_endpoint_only() {
    let env = setup();
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        format!(
            "default: demo\nrepositories:\n  demo:\n    domain: demo\n    owner: \"111122223333\"\n    repository: pypi-store\n    format: pypi\n    repository_endpoint: https://{VPCE_REPOS}\n"
        ),
    )
    .unwrap();
    let index = |host: &str| format!("https://{host}/pypi/d/demo-111122223333/pypi-store/simple/");
    let out = env.run(&["keyring", "get", &index(VPCE_REPOS), "aws"]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        env.emu.issued_tokens().contains(&token),
        "the reply is an issued token"
    );
    // `url` names the repository on the VPC endpoint (no GetRepositoryEndpoint call)
    let endpoint = env.ok(&["url", "--tool", "endpoint"]);
    assert_eq!(
        endpoint.trim(),
        format!("https://{VPCE_REPOS}/pypi/d/demo-111122223333/pypi-store/")
    );
    let before = env.tokens_issued();
    for url in [
        index(&VPCE_REPOS.replace("xyz12345", "xyz12346")),
        index(&VPCE_REPOS.replace("0abc123def4567890", "0abc123def4567891")),
        index(&format!("{VPCE_REPOS}.evil.example")),
        index(VPCE_REPOS).replace("https://", "http://"),
        index(VPCE_REPOS).replace("demo-111122223333", "demo-999999999999"),
    ] {
        let out = env.run(&["keyring", "get", &url, "aws"]);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", testkit::text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{url}");
    }
    assert_eq!(
        env.tokens_issued(),
        before,
        "no AWS call for hosts not configured"
    );
    // a config without `repository_endpoint`: the configured host itself gets nothing
    std::fs::write(env.sb.work().join("artoken.yml"), CONFIG).unwrap();
    let out = env.run(&["keyring", "get", &index(VPCE_REPOS), "aws"]);
    assert_eq!(out.status.code(), Some(1), "{}", testkit::text(&out));
}

#[test]
fn a_repositorys_endpoint_takes_its_api_calls_through_the_proxy_by_connect() {
    // `endpoint:` (the control plane's VPC endpoint) wins over AWS_ENDPOINT_URL for
    // CodeArtifact: the call is a CONNECT to that host through HTTPS_PROXY.
    let p = ConnectProxy::start();
    p.route(VPCE_API, "127.0.0.1:1".parse().unwrap());
    let mut env = setup();
    env.sb.set_env("HTTPS_PROXY", p.url());
    env.sb.set_env("ARTOKEN_TIMEOUT", "5");
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        format!(
            "default: demo\nrepositories:\n  demo:\n    domain: demo\n    owner: \"111122223333\"\n    repository: pypi-store\n    endpoint: https://{VPCE_API}\n"
        ),
    )
    .unwrap();
    let out = env.run(&["token"]);
    assert!(!out.status.success());
    let seen = p.seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|s| *s == format!("CONNECT {VPCE_API}:443")),
        "{seen:?}"
    );
    assert_eq!(env.tokens_issued(), 0);
    // a bad endpoint is one line naming the key
    std::fs::write(
        env.sb.work().join("artoken.yml"),
        "repositories:\n  demo:\n    domain: demo\n    endpoint: http://vpce-x.api.codeartifact.eu-west-1.vpce.amazonaws.com\n",
    )
    .unwrap();
    let out = env.run(&["token"]);
    assert!(!out.status.success());
    let err = first_err_line(&out);
    assert!(
        err.contains("repositories.demo.endpoint") && err.contains("plain http"),
        "{err}"
    );
}
