//! The proxy in-process against the emulator and hand-written upstreams: rewriting (PyPI HTML
//! and JSON, npm, gzip, redirects), token handling (injection, refusal and retry, health),
//! client authentication, HTTP/2 and keep-alive, graceful stop.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use artoken_core::Format;
use artoken_proxy::{ClientSecret, Proxy, ProxyConfig, ProxyError};
use base64::Engine;
use bytes::Bytes;
use common::*;
use http::{Response, StatusCode, header};
use http_body_util::BodyExt;

fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pypi_html_and_json_pages_point_at_the_proxy_and_files_download() {
    let (emu, tokens, p) = start_demo().await;

    let (status, headers, body) = get(&format!("{}/demo/simple/", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", text(&body));
    let page = text(&body);
    assert!(
        page.contains(&format!("href=\"{}/demo/simple/artoken-demo/\"", p.base)),
        "{page}"
    );
    assert!(!page.contains(&emu.url()), "{page}");
    assert_eq!(headers[header::CONTENT_LENGTH], body.len().to_string());

    let (status, _, body) = get(&format!("{}/demo/simple/artoken-demo/", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&body);
    let start = page.find("href=\"").unwrap() + 6;
    let link = &page[start..start + page[start..].find('#').unwrap()];
    assert!(
        link.starts_with(&format!("{}/demo/simple/artoken-demo/1.0.0/", p.base)),
        "{link}"
    );
    let (status, headers, wheel) = get(link, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert!(wheel.starts_with(b"PK"), "a wheel is a zip");

    // PEP 691 JSON
    let (status, headers, body) = get(
        &format!("{}/demo/simple/artoken-demo/", p.base),
        &[("accept", "application/vnd.pypi.simple.v1+json")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.pypi.simple.v1+json"
    );
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let url = v["files"][0]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/demo/simple/artoken-demo/", p.base)),
        "{url}"
    );

    // A redirect to the upstream's own address comes back as the proxy's.
    let (status, headers, _) = get(&format!("{}/demo/simple/Artoken_Demo/", p.base), &[]).await;
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        headers[header::LOCATION],
        format!("{}/demo/simple/artoken-demo/", p.base)
    );
    // The Host the client used is the base of the links.
    let (_, _, body) = get(
        &format!("{}/demo/simple/", p.base),
        &[("host", &format!("localhost:{}", p.addr.port()))],
    )
    .await;
    assert!(text(&body).contains(&format!("http://localhost:{}/demo/simple/", p.addr.port())));
    // One token for both repositories (same domain).
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 1);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npm_packuments_point_at_the_proxy_and_tarballs_download() {
    let (_emu, _, p) = start_demo().await;
    for accept in ["application/json", "application/vnd.npm.install-v1+json"] {
        let (status, _, body) = get(
            &format!("{}/js/artoken-demo", p.base),
            &[("accept", accept)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}", text(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let tarball = v["versions"]["1.0.0"]["dist"]["tarball"].as_str().unwrap();
        assert_eq!(
            tarball,
            format!("{}/js/artoken-demo/-/artoken-demo-1.0.0.tgz", p.base)
        );
        let (status, _, tgz) = get(tarball, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&tgz[..2], &[0x1f, 0x8b], "a gzip tarball");
    }
    // `/js` without the slash is sent to `/js/`; unknown names and dot segments are refused.
    let (status, headers, _) = get(&format!("{}/js", p.base), &[]).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/js/");
    let (status, _, body) = get(&format!("{}/nope/x", p.base), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(text(&body).contains("/REPOSITORY/"));
    let (status, _, _) = get(&format!("{}/js/%2e%2e/x", p.base), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = get(&format!("{}/", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["repositories"][0]["url"],
        format!("{}/demo/simple/", p.base)
    );
    assert_eq!(v["repositories"][1]["url"], format!("{}/js/", p.base));
    p.stop().await;
}

/// An upstream at `/up/` that records the Authorization it got and answers what `reply` says.
async fn recording_upstream(
    reply: impl Fn(&str, &http::request::Parts, Bytes) -> Response<TestBody> + Send + Sync + 'static,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let reply = Arc::new(reply);
    let handler: Handler = Arc::new(move |req| {
        let seen = s2.clone();
        let reply = reply.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let auth = parts
                .headers
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            seen.lock().unwrap().push(auth.clone());
            let body = body.collect().await.unwrap().to_bytes();
            reply(&auth, &parts, body)
        })
    });
    let addr = serve_upstream(handler).await;
    (format!("http://{addr}/up/"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_pages_are_rewritten_and_stay_gzip() {
    let endpoint = Arc::new(std::sync::OnceLock::<String>::new());
    let e2 = endpoint.clone();
    let (url, _) = recording_upstream(move |_, parts, _| {
        let ep = e2.get().unwrap();
        let doc = format!(r#"{{"versions":{{"1.0.0":{{"dist":{{"tarball":"{ep}p/-/p-1.0.0.tgz"}}}}}},"other":"https://registry.npmjs.org/p"}}"#);
        let gz = parts
            .headers
            .get(header::ACCEPT_ENCODING)
            .is_some_and(|v| v.to_str().unwrap().contains("gzip"));
        let mut r = Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ETAG, "\"abc\"");
        let body = if gz {
            r = r.header(header::CONTENT_ENCODING, "gzip");
            artoken_proxy::gzip(doc.as_bytes())
        } else {
            doc.into_bytes()
        };
        r.body(full(body)).unwrap()
    })
    .await;
    endpoint.set(url.clone()).unwrap();
    let p = start(
        config(),
        vec![upstream("js", Format::Npm, url)],
        Arc::new(FixedTokens("tok-abc")),
    )
    .await;
    let (status, headers, body) = get(
        &format!("{}/js/p", p.base),
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(headers[header::CONTENT_LENGTH], body.len().to_string());
    assert_eq!(headers[header::ETAG], "W/\"abc\"");
    let doc = text(&Bytes::from(artoken_proxy::gunzip(&body, 1 << 20).unwrap()));
    assert!(
        doc.contains(&format!("\"tarball\":\"{}/js/p/-/p-1.0.0.tgz\"", p.base)),
        "{doc}"
    );
    assert!(
        doc.contains("https://registry.npmjs.org/p"),
        "other hosts stay: {doc}"
    );
    // A client that does not take gzip gets plain JSON.
    let (_, headers, body) = get(&format!("{}/js/p", p.base), &[]).await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    assert!(text(&body).contains(&format!("{}/js/p/-/", p.base)));
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_authorization_is_replaced_by_the_token() {
    let (url, seen) = recording_upstream(|_, _, _| {
        Response::builder()
            .status(302)
            .header(
                header::LOCATION,
                "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=x",
            )
            .body(full(""))
            .unwrap()
    })
    .await;
    let p = start(
        config(),
        vec![
            upstream("py", Format::Pypi, url.clone()),
            upstream("js", Format::Npm, url),
        ],
        Arc::new(FixedTokens("tok-abc")),
    )
    .await;
    let (status, headers, _) = get(
        &format!("{}/py/simple/x/", p.base),
        &[("authorization", "Bearer from-the-client")],
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    // A redirect to another host (S3) is left alone.
    assert_eq!(
        headers[header::LOCATION],
        "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=x"
    );
    get(&format!("{}/js/x", p.base), &[]).await;
    let basic = base64::engine::general_purpose::STANDARD.encode("aws:tok-abc");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![format!("Basic {basic}"), "Bearer tok-abc".to_string()]
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_replaced_and_the_request_sent_again() {
    let (emu, tokens, p) = start_demo().await;
    let (status, _, _) = get(&format!("{}/demo/simple/", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    // The emulator forgets every token's validity: the next request is refused upstream,
    // and the proxy fetches a new token (bypassing the cache) and retries.
    emu.expire_all_tokens();
    let (status, _, body) = get(&format!("{}/demo/simple/artoken-demo/", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", text(&body));
    assert_eq!(tokens.forced.load(Ordering::SeqCst), 1);
    let (status, _, _) = get(&format!("{}/js/artoken-demo", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_uploads_are_sent_again_after_a_refusal_big_ones_stream_once() {
    let attempts = Arc::new(AtomicU64::new(0));
    let a2 = attempts.clone();
    let (url, _) = recording_upstream(move |_, _, body| {
        // The first attempt of each upload is refused.
        let n = a2.fetch_add(1, Ordering::SeqCst);
        let status = if n.is_multiple_of(2) { 401 } else { 200 };
        Response::builder()
            .status(status)
            .body(full(format!("{}", body.len())))
            .unwrap()
    })
    .await;
    let mut c = config();
    c.max_replay_bytes = 1 << 20;
    let p = start(
        c,
        vec![upstream("py", Format::Pypi, url)],
        Arc::new(SeqTokens::default()),
    )
    .await;
    let small = vec![7u8; 300_000];
    let (status, _, body) = request("POST", &format!("{}/py/", p.base), &[], full(small)).await;
    assert_eq!(status, StatusCode::OK, "sent again with its body");
    assert_eq!(text(&body), "300000");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    attempts.store(0, Ordering::SeqCst);
    let big = vec![7u8; 2 << 20];
    let (status, _, _) = request("POST", &format!("{}/py/", p.base), &[], full(big)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a streamed body is not sent twice"
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_degraded_while_tokens_cannot_be_had_and_recovers() {
    let emu = emulator().await;
    let tokens = EmuTokens::new(emu.clone(), 3600);
    tokens.down.store(true, Ordering::SeqCst);
    let p = start(config(), demo_upstreams(&emu), tokens.clone()).await;
    let (status, _, body) = get(&format!("{}/_artoken/health", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "degraded", "{v}");
    assert_eq!(v["repositories"][0]["name"], "demo");
    assert!(v["repositories"][0]["token_expires_in"].is_null());
    assert!(
        v["repositories"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("InternalServerException")
    );
    let (status, _, body) = get(&format!("{}/demo/simple/", p.base), &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        text(&body).contains("no token for repository demo"),
        "{}",
        text(&body)
    );
    tokens.down.store(false, Ordering::SeqCst);
    // The refresher retries with backoff (1 s, 2 s, ...): poll, with a bound far above it.
    let mut ok = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, _, body) = get(&format!("{}/_artoken/health", p.base), &[]).await;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if v["status"] == "ok" {
            assert!(v["repositories"][1]["token_expires_in"].as_i64().unwrap() > 3500);
            ok = true;
            break;
        }
    }
    assert!(ok, "health never recovered");
    let (status, _, _) = get(&format!("{}/demo/simple/", p.base), &[]).await;
    assert_eq!(status, StatusCode::OK);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_listening_is_refused_without_a_secret_and_a_secret_is_enforced() {
    let emu = emulator().await;
    let tokens = EmuTokens::new(emu.clone(), 3600);
    let mut c = config();
    c.listen = "0.0.0.0:0".parse().unwrap();
    let e = Proxy::start(c.clone(), demo_upstreams(&emu), tokens.clone())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, ProxyError::RemoteNotAllowed { .. }), "{e}");
    c.allow_remote = true;
    let e = Proxy::start(c, demo_upstreams(&emu), tokens.clone())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, ProxyError::RemoteWithoutSecret { .. }), "{e}");
    assert!(e.to_string().contains("--client-secret-file"));

    // A secret on loopback works the same way: nothing without it.
    let mut c = config();
    c.client_secret = Some(ClientSecret::new("correct-horse-battery-staple"));
    let p = start(c, demo_upstreams(&emu), tokens).await;
    let url = format!("{}/demo/simple/", p.base);
    let (status, headers, _) = get(&url, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    let (status, _, _) = get(&url, &[("authorization", "Bearer wrong")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = get(&format!("{}/_artoken/health", p.base), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = get(
        &url,
        &[("authorization", "Bearer correct-horse-battery-staple")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let basic =
        base64::engine::general_purpose::STANDARD.encode("aws:correct-horse-battery-staple");
    let (status, _, body) = get(&url, &[("authorization", &format!("Basic {basic}"))]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text(&body).contains(&format!("{}/demo/simple/artoken-demo/", p.base)));
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_and_http1_keep_alive() {
    let (_emu, _, p) = start_demo().await;
    // HTTP/2 without TLS (prior knowledge), several streams at once.
    let h2 = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<TestBody>();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let h2 = h2.clone();
        let url = format!("{}/demo/simple/artoken-demo/", p.base);
        tasks.push(tokio::spawn(async move {
            let r = h2
                .request(http::Request::get(url).body(full(Bytes::new())).unwrap())
                .await
                .unwrap();
            assert_eq!(r.version(), http::Version::HTTP_2);
            assert_eq!(r.status(), StatusCode::OK);
            let body = r.into_body().collect().await.unwrap().to_bytes();
            assert!(text(&body).contains("/demo/simple/artoken-demo/1.0.0/"));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // HTTP/1.1: three requests on one connection.
    let stream = tokio::net::TcpStream::connect(p.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, TestBody>(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        sender.ready().await.unwrap();
        let r = sender
            .send_request(
                http::Request::get("/demo/simple/")
                    .header("host", p.addr.to_string())
                    .body(full(Bytes::new()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.into_body().collect().await.unwrap();
    }
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_lets_requests_in_flight_finish() {
    // The upstream says when the request has reached it (so the stop comes while it is in
    // flight, however slow the machine), then answers 800 ms later.
    let arrived = Arc::new(tokio::sync::Notify::new());
    let seen = arrived.clone();
    let handler: Handler = Arc::new(move |_req| {
        let seen = seen.clone();
        Box::pin(async move {
            seen.notify_one();
            tokio::time::sleep(Duration::from_millis(800)).await;
            Response::new(full("slow but complete"))
        })
    });
    let addr = serve_upstream(handler).await;
    let p = start_fixed(addr).await;
    let url = format!("{}/py/x", p.base);
    let inflight = tokio::spawn(async move { get(&url, &[]).await });
    arrived.notified().await;
    let addr = p.addr;
    let started = std::time::Instant::now();
    p.stop().await;
    let (status, _, body) = inflight.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text(&body), "slow but complete");
    assert!(started.elapsed() >= Duration::from_millis(400));
    // and nothing listens any more
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_errors_are_clear() {
    let tokens = Arc::new(FixedTokens("t"));
    let e = Proxy::start(config(), vec![], tokens.clone())
        .await
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "no repository to serve");
    let e = Proxy::start(
        config(),
        vec![upstream("a/b", Format::Pypi, "http://h/".into())],
        tokens.clone(),
    )
    .await
    .err()
    .unwrap();
    assert!(e.to_string().starts_with("repository a/b: "), "{e}");
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut c = ProxyConfig::new(taken.local_addr().unwrap());
    c.access_log = artoken_proxy::AccessLog::Off;
    let e = Proxy::start(
        c,
        vec![upstream("a", Format::Pypi, "http://h/".into())],
        tokens,
    )
    .await
    .err()
    .unwrap();
    assert!(
        e.to_string().starts_with("cannot listen on 127.0.0.1:"),
        "{e}"
    );
}
