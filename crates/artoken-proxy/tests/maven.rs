//! Maven through the proxy at the HTTP level, against the emulator's Maven data plane and a
//! hand-written upstream: metadata, POM, JAR and checksums pass byte for byte (a rewritten
//! file would fail its checksum), deploys (PUT) carry the token, and an expired token is
//! replaced under a build that runs on.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use artoken_core::Format;
use bytes::Bytes;
use common::*;
use http::{Response, StatusCode, header};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

const DEMO: &str = "com/example/artoken-demo";

fn hex_sha256(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The proxy in front of the emulator's `maven-store` as `mvn`, tokens living `life` seconds.
async fn start_maven(
    life: u64,
) -> (
    Arc<codeartifact_emulator::Emulator>,
    Arc<EmuTokens>,
    Running,
) {
    let emu = emulator().await;
    let tokens = EmuTokens::new(emu.clone(), life);
    let endpoint = emu.endpoint(
        "demo",
        OWNER,
        codeartifact_emulator::Format::Maven,
        "maven-store",
    );
    let p = start(
        config(),
        vec![upstream("mvn", Format::Maven, endpoint)],
        tokens.clone(),
    )
    .await;
    (emu, tokens, p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_pom_jar_and_checksums_pass_byte_for_byte() {
    let (_emu, tokens, p) = start_maven(3600).await;
    let base = format!("{}/mvn/{DEMO}", p.base);
    let (status, _, meta) = get(&format!("{base}/maven-metadata.xml"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", text(&meta));
    assert!(
        text(&meta).contains("<version>1.0.0</version>"),
        "{}",
        text(&meta)
    );
    for file in [
        "maven-metadata.xml".to_string(),
        "1.0.0/artoken-demo-1.0.0.pom".into(),
        "1.0.0/artoken-demo-1.0.0.jar".into(),
    ] {
        let (status, _, body) = get(&format!("{base}/{file}"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        let (status, _, sum) = get(&format!("{base}/{file}.sha256"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{file}.sha256");
        assert_eq!(text(&sum).trim(), hex_sha256(&body), "{file}");
    }
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 1, "one token for all");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_puts_through_the_proxy_and_reads_back() {
    let (_emu, _tokens, p) = start_maven(3600).await;
    let dir = format!("{}/mvn/org/acme/put-demo/2.0.0", p.base);
    let jar = Bytes::from_static(b"PK\x03\x04 not really a jar, but bytes to store");
    let pom = Bytes::from(
        "<project><modelVersion>4.0.0</modelVersion><groupId>org.acme</groupId>\
         <artifactId>put-demo</artifactId><version>2.0.0</version></project>\n",
    );
    for (name, body) in [
        ("put-demo-2.0.0.jar", jar.clone()),
        ("put-demo-2.0.0.pom", pom.clone()),
    ] {
        let (status, _, b) =
            request("PUT", &format!("{dir}/{name}"), &[], full(body.clone())).await;
        assert!(status.is_success(), "PUT {name}: {status} {}", text(&b));
        let sum = Bytes::from(hex_sha256(&body));
        let (status, _, b) = request("PUT", &format!("{dir}/{name}.sha256"), &[], full(sum)).await;
        assert!(
            status.is_success(),
            "PUT {name}.sha256: {status} {}",
            text(&b)
        );
        // A wrong checksum is refused by the upstream, and the refusal reaches the client.
        let (status, _, _) = request(
            "PUT",
            &format!("{dir}/{name}.sha256"),
            &[],
            full(Bytes::from(hex_sha256(b"other"))),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
    }
    let (status, _, got) = get(&format!("{dir}/put-demo-2.0.0.jar"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, jar);
    let (_, _, meta) = get(
        &format!("{}/mvn/org/acme/put-demo/maven-metadata.xml", p.base),
        &[],
    )
    .await;
    assert!(
        text(&meta).contains("<version>2.0.0</version>"),
        "{}",
        text(&meta)
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_goes_on_across_a_token_expiry() {
    // The emulator expires every token it issued (as if the proxy's had run out mid-build).
    let (emu, tokens, p) = start_maven(3600).await;
    let jar = format!("{}/mvn/{DEMO}/1.0.0/artoken-demo-1.0.0.jar", p.base);
    let (status, _, first) = get(&jar, &[]).await;
    assert_eq!(status, StatusCode::OK);
    emu.expire_all_tokens();
    let (status, _, again) = get(&jar, &[]).await;
    assert_eq!(status, StatusCode::OK, "{}", text(&again));
    assert_eq!(again, first);
    // The refused token was replaced once (the upstream's 401), not per request.
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);
    let (status, _, _) = get(&jar, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xml_that_names_the_upstream_is_not_rewritten() {
    // A POM may name its repository's URL (distributionManagement); its checksum is of those
    // bytes, so the proxy must not touch them (it rewrites HTML and JSON index pages only).
    let endpoint = Arc::new(std::sync::OnceLock::<String>::new());
    let e2 = endpoint.clone();
    let handler: Handler = Arc::new(move |req| {
        let ep = e2.get().unwrap().clone();
        Box::pin(async move {
            let auth = req
                .headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let _ = req.into_body().collect().await;
            let pom = format!("<project><url>{ep}</url></project>\n");
            let (status, ctype, body) = if auth.starts_with("Basic ") {
                (200, "text/xml", pom)
            } else {
                (401, "text/plain", String::new())
            };
            Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, ctype)
                .body(full(body))
                .unwrap()
        })
    });
    let addr = serve_upstream(handler).await;
    let url = format!("http://{addr}/maven/repo/");
    endpoint.set(url.clone()).unwrap();
    let p = start(
        config(),
        vec![upstream("mvn", Format::Maven, url.clone())],
        Arc::new(FixedTokens("tok")),
    )
    .await;
    for ctype_path in ["g/a/1/a-1.pom", "g/a/maven-metadata.xml"] {
        let (status, _, body) = get(&format!("{}/mvn/{ctype_path}", p.base), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            text(&body),
            format!("<project><url>{url}</url></project>\n")
        );
    }
    p.stop().await;
}
