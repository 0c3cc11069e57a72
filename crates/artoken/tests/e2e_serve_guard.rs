//! `artoken serve`'s request guard end to end: the binary in a sandbox in front of the
//! emulator. What a web page can make a browser send (a cross-site form POST upload, a
//! DNS-rebound GET) is refused and logged; pip through the proxy still works.

mod common;

use common::*;
use testkit::clients::pip_install;
use testkit::text;

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
    let serve = Serve::start_with(&env, &[], 0);
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
