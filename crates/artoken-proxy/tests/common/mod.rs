//! Test harness: the emulator as upstream (tokens issued directly), hand-written upstreams,
//! the proxy in-process, and a small HTTP client.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use artoken_core::cache::CachedToken;
use artoken_core::{Format, RepositorySpec, Token};
use artoken_proxy::{BoxFuture, Proxy, ProxyConfig, TokenSource, Upstream};
use bytes::Bytes;
use codeartifact_emulator::{Emulator, EmulatorConfig};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

pub const OWNER: &str = "111122223333";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestBody = UnsyncBoxBody<Bytes, BoxError>;

pub fn full(b: impl Into<Bytes>) -> TestBody {
    Full::new(b.into()).map_err(|e| match e {}).boxed_unsync()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Tokens straight from the emulator (no AWS call), `life` seconds each; can be switched off.
pub struct EmuTokens {
    pub emu: Arc<Emulator>,
    pub life: u64,
    pub calls: AtomicU64,
    pub forced: AtomicU64,
    pub down: AtomicBool,
}

impl EmuTokens {
    pub fn new(emu: Arc<Emulator>, life: u64) -> Arc<EmuTokens> {
        Arc::new(EmuTokens {
            emu,
            life,
            calls: AtomicU64::new(0),
            forced: AtomicU64::new(0),
            down: AtomicBool::new(false),
        })
    }
}

impl TokenSource for EmuTokens {
    fn token<'a>(
        &'a self,
        spec: &'a RepositorySpec,
        force: bool,
    ) -> BoxFuture<'a, Result<CachedToken, String>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if force {
                self.forced.fetch_add(1, Ordering::SeqCst);
            }
            if self.down.load(Ordering::SeqCst) {
                return Err(
                    "GetAuthorizationToken failed: InternalServerException: injected".into(),
                );
            }
            let t = self.emu.issue_token(
                &spec.domain,
                spec.owner.as_deref().unwrap_or(OWNER),
                self.life,
            );
            let now = now();
            Ok(CachedToken {
                token: Token::new(t),
                expires_at: now + self.life as i64,
                fetched_at: now,
                skew: 0,
            })
        })
    }
}

/// A fixed token for hand-written upstreams.
pub struct FixedTokens(pub &'static str);

impl TokenSource for FixedTokens {
    fn token<'a>(
        &'a self,
        _spec: &'a RepositorySpec,
        _force: bool,
    ) -> BoxFuture<'a, Result<CachedToken, String>> {
        Box::pin(async move {
            Ok(CachedToken {
                token: Token::new(self.0),
                expires_at: now() + 3600,
                fetched_at: now(),
                skew: 0,
            })
        })
    }
}

/// `tok-1`, `tok-2`, ...: a new token at every call.
#[derive(Default)]
pub struct SeqTokens(pub AtomicU64);

impl TokenSource for SeqTokens {
    fn token<'a>(
        &'a self,
        _spec: &'a RepositorySpec,
        _force: bool,
    ) -> BoxFuture<'a, Result<CachedToken, String>> {
        Box::pin(async move {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(CachedToken {
                token: Token::new(format!("tok-{n}")),
                expires_at: now() + 3600,
                fetched_at: now(),
                skew: 0,
            })
        })
    }
}

pub fn spec(name: &str, format: Format) -> RepositorySpec {
    let mut s = RepositorySpec::new(name, "demo");
    s.owner = Some(OWNER.into());
    s.format = format;
    s
}

pub fn upstream(name: &str, format: Format, endpoint: String) -> Upstream {
    Upstream {
        name: name.into(),
        format,
        endpoint,
        spec: spec(name, format),
        token_key: "demo".into(),
    }
}

pub async fn emulator() -> Arc<Emulator> {
    Arc::new(
        Emulator::start(EmulatorConfig::demo())
            .await
            .expect("emulator"),
    )
}

/// `demo` (pypi-store) and `js` (npm-store) on the emulator.
pub fn demo_upstreams(emu: &Emulator) -> Vec<Upstream> {
    use codeartifact_emulator::Format as EF;
    vec![
        upstream(
            "demo",
            Format::Pypi,
            emu.endpoint("demo", OWNER, EF::Pypi, "pypi-store"),
        ),
        upstream(
            "js",
            Format::Npm,
            emu.endpoint("demo", OWNER, EF::Npm, "npm-store"),
        ),
    ]
}

/// The proxy with default settings in front of the demo emulator, with hour-long tokens.
pub async fn start_demo() -> (Arc<Emulator>, Arc<EmuTokens>, Running) {
    let emu = emulator().await;
    let tokens = EmuTokens::new(emu.clone(), 3600);
    let p = start(config(), demo_upstreams(&emu), tokens.clone()).await;
    (emu, tokens, p)
}

/// The proxy with default settings in front of a hand-written upstream at `addr` (its `/up/`,
/// as pypi repository `py`), with the fixed token `tok`.
pub async fn start_fixed(addr: SocketAddr) -> Running {
    start(
        config(),
        vec![upstream("py", Format::Pypi, format!("http://{addr}/up/"))],
        Arc::new(FixedTokens("tok")),
    )
    .await
}

/// A proxy serving in the background.
pub struct Running {
    pub addr: SocketAddr,
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops it and waits for requests in flight.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

pub async fn start(
    config: ProxyConfig,
    upstreams: Vec<Upstream>,
    tokens: Arc<dyn TokenSource>,
) -> Running {
    let proxy = Proxy::start(config, upstreams, tokens)
        .await
        .expect("proxy starts");
    let addr = proxy.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(proxy.serve(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        base: format!("http://{addr}"),
        stop: Some(tx),
        task,
    }
}

pub fn config() -> ProxyConfig {
    let mut c = ProxyConfig::new("127.0.0.1:0".parse().unwrap());
    c.access_log = artoken_proxy::AccessLog::Off;
    c
}

pub fn client() -> Client<hyper_util::client::legacy::connect::HttpConnector, TestBody> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// GET with headers; the whole body.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Bytes) {
    request("GET", url, headers, full(Bytes::new())).await
}

pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: TestBody,
) -> (StatusCode, HeaderMap, Bytes) {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client()
        .request(req.body(body).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    (parts.status, parts.headers, bytes)
}

pub type Handler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<TestBody>> + Send>>
        + Send
        + Sync,
>;

/// A hand-written upstream on 127.0.0.1 (HTTP/1.1).
pub async fn serve_upstream(handler: Handler) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let h = handler.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let h = h.clone();
                    async move { Ok::<_, Infallible>(h(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// `len` bytes of a repeating pattern, produced on the fly (nothing held in memory).
pub struct Pattern {
    left: u64,
    chunk: Bytes,
}

impl Pattern {
    pub fn new(len: u64) -> Pattern {
        let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
        Pattern {
            left: len,
            chunk: Bytes::from(chunk),
        }
    }
}

impl Body for Pattern {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(self.chunk.len() as u64) as usize;
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// The process's resident memory in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}
