//! Bodies stream through with bounded memory: a 200 MB download and a 200 MB upload through
//! the proxy (in this process, so its resident memory is what we read) grow it by a few MB.

mod common;

use std::sync::Arc;

use common::*;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;

const SIZE: u64 = 200 * 1024 * 1024;
/// Allowed growth of the resident set while 200 MB pass through.
const MAX_GROWTH_KIB: u64 = 40 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_megabytes_stream_both_ways_in_bounded_memory() {
    let handler: Handler = Arc::new(|req| {
        Box::pin(async move {
            if req.method() == http::Method::POST {
                // Count the upload as it arrives.
                let mut body = req.into_body();
                let mut n = 0u64;
                while let Some(f) = body.frame().await {
                    if let Ok(d) = f.unwrap().into_data() {
                        n += d.len() as u64;
                    }
                }
                return Response::new(full(n.to_string()));
            }
            Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::CONTENT_LENGTH, SIZE)
                .body(TestBody::new(Pattern::new(SIZE)))
                .unwrap()
        })
    });
    let addr = serve_upstream(handler).await;
    let p = start_fixed(addr).await;
    let url = format!("{}/py/simple/big/1.0/big-1.0-py3-none-any.whl", p.base);
    // Warm up: connections, buffers, the allocator.
    let (status, _, _) = request(
        "POST",
        &format!("{}/py/", p.base),
        &[],
        full(vec![0u8; 1 << 20]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = rss_kib();

    let resp = client()
        .request(Request::get(&url).body(full("")).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_LENGTH], SIZE.to_string());
    let mut body = resp.into_body();
    let (mut got, mut peak) = (0u64, before);
    let mut check = 0u8;
    while let Some(frame) = body.frame().await {
        if let Ok(d) = frame.unwrap().into_data() {
            // The bytes are the upstream's pattern.
            let off = (got % (64 * 1024)) as usize;
            assert_eq!(d[0], (off % 251) as u8);
            got += d.len() as u64;
            check = check.wrapping_add(1);
            if check == 0 {
                peak = peak.max(rss_kib());
            }
        }
    }
    assert_eq!(got, SIZE);
    peak = peak.max(rss_kib());
    let down_growth = peak.saturating_sub(before);

    let (status, _, body) = request(
        "POST",
        &format!("{}/py/", p.base),
        &[("content-length", &SIZE.to_string())],
        TestBody::new(Pattern::new(SIZE)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8_lossy(&body), SIZE.to_string());
    let up_growth = rss_kib().saturating_sub(before);
    eprintln!(
        "RSS before {before} KiB; growth: download {down_growth} KiB, after upload {up_growth} KiB"
    );
    assert!(
        down_growth < MAX_GROWTH_KIB,
        "download grew RSS by {down_growth} KiB"
    );
    assert!(
        up_growth < MAX_GROWTH_KIB,
        "upload grew RSS by {up_growth} KiB"
    );
    p.stop().await;
}
