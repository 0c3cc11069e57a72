//! The request guard: a web page cannot drive the proxy. DNS rebinding (a foreign Host) and
//! Host tricks get no index and no link naming them; a cross-site form POST or fetch is refused
//! before it reaches the upstream; same-origin requests, `--public-url` and plain clients work.

mod common;

use std::net::SocketAddr;

use artoken_core::Format;
use bytes::Bytes;
use codeartifact_emulator::Emulator;
use common::*;
use http::{StatusCode, header};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Requests the emulator has received (every served request counts).
fn upstream_requests(emu: &Emulator) -> u64 {
    emu.stats().requests.get("received").copied().unwrap_or(0)
}

/// Sends `head` (request line and headers, CRLF-separated, without the final blank line) and
/// `body` on a fresh connection; the status and the whole raw response.
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{head}\r\nConnection: close\r\n\r\n").into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let status = resp
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {resp:?}"));
    (status, resp)
}

/// No response may hold a link to (or a redirect towards) the attacker's host.
fn assert_no_link_to(host: &str, resp: &str) {
    let bare = host.split(':').next().unwrap();
    for link in [format!("//{bare}"), format!(":\\/\\/{bare}")] {
        assert!(!resp.contains(&link), "a link to {host}: {resp}");
    }
}

/// A multipart upload as twine sends it (and as a plain HTML form can).
fn multipart(project: &str) -> (String, Vec<u8>) {
    let boundary = "----artokenGuardBoundary";
    let file = format!("{}-6.6.6-py3-none-any.whl", project.replace('-', "_"));
    let mut body = String::new();
    for (name, value) in [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", project),
        ("version", "6.6.6"),
        ("filetype", "bdist_wheel"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\nPK-not-really-a-wheel\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_host_gets_no_index_and_no_link_names_it() {
    let (emu, _, p) = start_demo().await;
    let port = p.addr.port();
    let evil = format!("evil.example:{port}");
    let before = upstream_requests(&emu);
    for path in [
        "/demo/simple/",
        "/demo/simple/artoken-demo/",
        "/demo/simple/Artoken_Demo/",
        "/js/artoken-demo",
        "/",
        "/_artoken/health",
        "/js",
    ] {
        let (status, headers, body) = get(&format!("{}{path}", p.base), &[("host", &evil)]).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{path}");
        let body = text(&body);
        assert!(!body.contains("artoken-demo"), "{path}: {body}");
        assert!(!body.contains("\"repositories\""), "{path}: {body}");
        assert!(body.contains("refused Host"), "{path}: {body}");
        assert_eq!(body.trim_end().lines().count(), 1, "one line: {body}");
        assert!(headers.get(header::LOCATION).is_none(), "{path}");
        assert_no_link_to(&evil, &body);
    }
    // An absolute-form target naming the attacker, with a good Host, is refused too.
    let (status, resp) = raw(
        p.addr,
        &format!("GET http://{evil}/demo/simple/ HTTP/1.1\r\nHost: 127.0.0.1:{port}"),
        b"",
    )
    .await;
    assert_eq!(status, 421, "{resp}");
    assert_no_link_to(&evil, &resp);
    assert_eq!(upstream_requests(&emu), before, "nothing went upstream");
    // The same requests with the proxy's own Host work, and link to that Host.
    let (status, _, body) = get(&format!("{}/demo/simple/", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text(&body).contains(&format!("{}/demo/simple/artoken-demo/", p.base)));
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_tricks_are_refused_and_loopback_names_work() {
    let (emu, _, p) = start_demo().await;
    let port = p.addr.port();
    let before = upstream_requests(&emu);
    for (host, want) in [
        (format!("127.0.0.1.evil.example:{port}"), 421),
        (format!("localhost.evil.example:{port}"), 421),
        (format!("localhost.:{port}"), 421),
        ("localhost:1".to_string(), 421),
        ("localhost".to_string(), 421),
        (format!("10.0.0.1:{port}"), 421),
        (format!("evil.example@127.0.0.1:{port}"), 400),
        (format!("127.0.0.1:{port}@evil.example"), 400),
        (format!("127.0.0.1:{port}/evil.example"), 400),
        (format!("localhost:{port}x"), 400),
    ] {
        let (status, resp) = raw(
            p.addr,
            &format!("GET /demo/simple/ HTTP/1.1\r\nHost: {host}"),
            b"",
        )
        .await;
        assert_eq!(status, want, "Host {host}: {resp}");
        assert!(!resp.contains("artoken-demo"), "Host {host}: {resp}");
        assert_no_link_to("evil.example", &resp);
    }
    assert_eq!(upstream_requests(&emu), before, "nothing went upstream");
    // Every loopback spelling of the proxy itself works, and links use it.
    for host in [
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("127.0.0.1:{port}"),
    ] {
        let (status, _, body) = get(&format!("{}/demo/simple/", p.base), &[("host", &host)]).await;
        assert_eq!(status, StatusCode::OK, "{host}");
        let want = format!("http://{}/demo/simple/artoken-demo/", host.to_lowercase());
        assert!(text(&body).contains(&want), "{host}: {}", text(&body));
    }
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_one_good_host_is_refused() {
    let (emu, _, p) = start_demo().await;
    let port = p.addr.port();
    let before = upstream_requests(&emu);
    for head in [
        "GET /demo/simple/ HTTP/1.1".to_string(),
        "GET /demo/simple/ HTTP/1.0".to_string(),
        "GET /_artoken/health HTTP/1.1".to_string(),
        format!("GET /demo/simple/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example"),
        format!("GET /demo/simple/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: 127.0.0.1:{port}"),
    ] {
        let (status, resp) = raw(p.addr, &head, b"").await;
        assert_eq!(status, 400, "{head}: {resp}");
        assert!(resp.contains("Host"), "{resp}");
        assert!(!resp.contains("artoken-demo"), "{resp}");
    }
    assert_eq!(upstream_requests(&emu), before);
    let (status, _) = raw(
        p.addr,
        &format!("GET /demo/simple/ HTTP/1.1\r\nHost: 127.0.0.1:{port}"),
        b"",
    )
    .await;
    assert_eq!(status, 200);
    p.stop().await;
}

/// An HTTP/2 GET of `/demo/simple/` whose `:authority` is `authority`.
async fn h2_get(
    h2: &mut hyper::client::conn::http2::SendRequest<TestBody>,
    authority: &str,
) -> hyper::Result<http::Response<hyper::body::Incoming>> {
    let req = http::Request::get(format!("http://{authority}/demo/simple/"))
        .body(full(Bytes::new()))
        .unwrap();
    h2.send_request(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_authority_is_checked_like_host() {
    let (emu, _, p) = start_demo().await;
    let port = p.addr.port();
    let before = upstream_requests(&emu);
    let stream = tokio::net::TcpStream::connect(p.addr).await.unwrap();
    let (mut h2, conn) = hyper::client::conn::http2::handshake::<_, _, TestBody>(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let r = h2_get(&mut h2, &format!("evil.example:{port}"))
        .await
        .unwrap();
    assert_eq!(r.version(), http::Version::HTTP_2);
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    let body = text(&r.into_body().collect().await.unwrap().to_bytes());
    assert!(!body.contains("artoken-demo"), "{body}");
    assert_eq!(upstream_requests(&emu), before);
    let r = h2_get(&mut h2, &format!("localhost:{port}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = text(&r.into_body().collect().await.unwrap().to_bytes());
    assert!(
        body.contains(&format!(
            "http://localhost:{port}/demo/simple/artoken-demo/"
        )),
        "{body}"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_post_never_reaches_the_upstream() {
    let (emu, _, p) = start_demo().await;
    let (ctype, body) = multipart("guard-probe");
    let upload = format!("{}/demo/", p.base);
    let before = upstream_requests(&emu);
    for headers in [
        vec![
            ("content-type", ctype.as_str()),
            ("origin", "https://evil.example"),
        ],
        vec![("content-type", ctype.as_str()), ("origin", "null")],
        vec![
            ("content-type", ctype.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
        // What a browser sends for a form on the attacker's page.
        vec![
            ("content-type", ctype.as_str()),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
        ],
        // Another server on localhost is the same site, but not this origin.
        vec![
            ("content-type", ctype.as_str()),
            ("origin", "http://localhost:8080"),
            ("sec-fetch-site", "same-site"),
        ],
    ] {
        let (status, _, resp) = request("POST", &upload, &headers, full(body.clone())).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{headers:?}: {}",
            text(&resp)
        );
        assert!(text(&resp).contains("refused a cross-"), "{}", text(&resp));
    }
    assert_eq!(
        upstream_requests(&emu),
        before,
        "the upstream saw an upload"
    );
    assert_eq!(emu.stats().requests.get("pypi:upload"), None);
    let (_, _, index) = get(&format!("{}/demo/simple/", p.base), &[]).await;
    assert!(!text(&index).contains("guard-probe"), "{}", text(&index));
    // The very same upload from a non-browser client (no Origin, as twine) is published.
    let (status, _, resp) = request(
        "POST",
        &upload,
        &[("content-type", ctype.as_str())],
        full(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", text(&resp));
    assert_eq!(emu.stats().requests.get("pypi:upload"), Some(&1));
    let (_, _, index) = get(&format!("{}/demo/simple/", p.base), &[]).await;
    assert!(text(&index).contains("guard-probe"), "{}", text(&index));
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_fetches_are_refused_same_origin_ones_allowed() {
    let (emu, _, p) = start_demo().await;
    let port = p.addr.port();
    let url = format!("{}/demo/simple/", p.base);
    let before = upstream_requests(&emu);
    for (k, v) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.example"),
        ("origin", "http://evil.example"),
        ("origin", "https://localhost"),
    ] {
        let (status, _, body) = get(&url, &[(k, v)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{k}: {v}");
        assert!(!text(&body).contains("artoken-demo"), "{}", text(&body));
    }
    let (status, _, _) = request(
        "OPTIONS",
        &url,
        &[("origin", "https://evil.example")],
        full(Bytes::new()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a CORS preflight");
    assert_eq!(upstream_requests(&emu), before);
    // The proxy's own origins (a page it served, the address bar) are fine.
    let own = format!("http://127.0.0.1:{port}");
    let local = format!("http://localhost:{port}");
    for headers in [
        vec![("sec-fetch-site", "same-origin"), ("origin", own.as_str())],
        vec![("sec-fetch-site", "none")],
        vec![("origin", local.as_str())],
    ] {
        let (status, _, body) = get(&url, &headers).await;
        assert_eq!(status, StatusCode::OK, "{headers:?}");
        assert!(text(&body).contains("artoken-demo"));
    }
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_url_host_is_allowed_and_used_in_links() {
    let emu = emulator().await;
    let tokens = EmuTokens::new(emu.clone(), 3600);
    let mut c = config();
    c.public_url = Some("https://Packages.Example/".into());
    let p = start(c, demo_upstreams(&emu), tokens).await;
    let port = p.addr.port();
    let url = format!("{}/demo/simple/", p.base);
    // What a TLS terminator forwards: the public host, with or without the port; or it keeps
    // the proxy's own address.
    for host in [
        "packages.example".to_string(),
        "packages.example:443".to_string(),
        format!("127.0.0.1:{port}"),
    ] {
        let (status, _, body) = get(&url, &[("host", &host)]).await;
        assert_eq!(status, StatusCode::OK, "{host}");
        assert!(
            text(&body).contains("href=\"https://packages.example/demo/simple/artoken-demo/\""),
            "{host}: {}",
            text(&body)
        );
    }
    let (status, _, body) = get(
        &url,
        &[
            ("host", "packages.example"),
            ("origin", "https://packages.example"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", text(&body));
    for host in [
        "evil.example",
        "packages.example:80",
        "packages.example.evil.example",
    ] {
        let (status, _, body) = get(&url, &[("host", host)]).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(!text(&body).contains("artoken-demo"));
    }
    let (status, _, _) = get(
        &url,
        &[
            ("host", "packages.example"),
            ("origin", "http://packages.example"),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "http is not the public origin"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_runs_before_the_client_secret_and_the_redirects() {
    // A hand-written upstream that redirects to its own endpoint: the Location is rewritten
    // with the validated Host only.
    let handler: Handler = std::sync::Arc::new(|req| {
        Box::pin(async move {
            let host = req.headers()[header::HOST].to_str().unwrap().to_string();
            http::Response::builder()
                .status(301)
                .header(header::LOCATION, format!("http://{host}/up/simple/x/"))
                .body(full(""))
                .unwrap()
        })
    });
    let addr = serve_upstream(handler).await;
    let mut c = config();
    c.client_secret = Some(artoken_proxy::ClientSecret::new("correct-horse-battery"));
    let p = start(
        c,
        vec![upstream("py", Format::Pypi, format!("http://{addr}/up/"))],
        std::sync::Arc::new(FixedTokens("tok")),
    )
    .await;
    let port = p.addr.port();
    let auth = ("authorization", "Bearer correct-horse-battery");
    let url = format!("{}/py/simple/X/", p.base);
    let (status, _, _) = get(&url, &[auth, ("host", &format!("evil.example:{port}"))]).await;
    assert_eq!(
        status,
        StatusCode::MISDIRECTED_REQUEST,
        "even with the secret"
    );
    let (status, _, _) = get(&url, &[("host", &format!("evil.example:{port}"))]).await;
    assert_eq!(
        status,
        StatusCode::MISDIRECTED_REQUEST,
        "before the secret check"
    );
    let (status, headers, _) = get(&url, &[auth, ("host", &format!("localhost:{port}"))]).await;
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        headers[header::LOCATION],
        format!("http://localhost:{port}/py/simple/x/")
    );
    p.stop().await;
}
