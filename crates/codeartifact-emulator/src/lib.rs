//! A local AWS CodeArtifact emulator that real clients accept.
//!
//! The control plane speaks the CodeArtifact REST-JSON API (SigV4-signed, AWS error shapes) and
//! STS `GetCallerIdentity`; the data plane serves PyPI (PEP 503/691, uploads), npm and Maven
//! repositories that accept only the tokens it issued, and only until they expire.
//!
//! Endpoint URLs: the real service is host-based
//! (`https://{domain}-{owner}.d.codeartifact.{region}.amazonaws.com/{format}/{repo}/`), which
//! cannot work on a loopback port, so the emulator keeps that host name as the first path
//! segment: `http://127.0.0.1:PORT/{domain}-{owner}.d.codeartifact.{region}.amazonaws.com/{format}/{repo}/`.
//!
//! Tests start it in-process with [`Emulator::start`] (async) or [`BackgroundEmulator::start`]
//! (its own thread, for synchronous tests), on 127.0.0.1 with a free port.

pub mod config;
mod control;
mod data;
mod maven;
mod npm;
mod pypi;
mod sigv4;
pub mod state;
mod sts;
mod synth;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

pub use config::{EmulatorConfig, Faults, Format};
use state::State;
pub use state::Stats;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("repository {repository}: {message}")]
    Packages { repository: String, message: String },
    #[error("invalid configuration: {key}: {message}")]
    Invalid { key: String, message: String },
    #[error("cannot start the emulator's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// A running emulator (async API).
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Binds `config.listen` and serves until [`Emulator::shutdown`] or drop.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, Error> {
        config
            .validate()
            .map_err(|(key, message)| Error::Invalid { key, message })?;
        let state = Arc::new(State::new(&config)?);
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Emulator {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Stops serving and waits for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the endpoint override for the AWS SDK/CLI.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The repository endpoint GetRepositoryEndpoint returns (ends with `/`).
    pub fn endpoint(&self, domain: &str, owner: &str, format: Format, repo: &str) -> String {
        endpoint_url(&self.url(), domain, owner, &self.state.region, format, repo)
    }

    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    pub fn reset_stats(&self) {
        self.state.reset_stats()
    }

    /// Every token issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.issued_tokens()
    }

    /// Every token issued so far, with when.
    pub fn issued(&self) -> Vec<state::Issued> {
        self.state.issued()
    }

    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults)
    }

    /// Expires every issued token now.
    pub fn expire_all_tokens(&self) {
        self.state.expire_all_tokens()
    }

    /// Issues a token directly (no HTTP), for data-plane tests.
    pub fn issue_token(&self, domain: &str, owner: &str, duration_secs: u64) -> String {
        self.state.issue_token(domain, owner, duration_secs).0
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An emulator on a thread of its own with its own runtime, for synchronous tests.
/// Dropping it stops the server.
pub struct BackgroundEmulator {
    inner: Option<Emulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BackgroundEmulator {
    pub fn start(config: EmulatorConfig) -> Result<BackgroundEmulator, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let inner = runtime.block_on(Emulator::start(config))?;
        Ok(BackgroundEmulator {
            inner: Some(inner),
            runtime: Some(runtime),
        })
    }
}

impl std::ops::Deref for BackgroundEmulator {
    type Target = Emulator;
    fn deref(&self) -> &Emulator {
        self.inner.as_ref().expect("emulator running")
    }
}

impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        if let (Some(inner), Some(rt)) = (self.inner.take(), self.runtime.take()) {
            rt.block_on(async {
                let _ = tokio::time::timeout(Duration::from_secs(5), inner.shutdown()).await;
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// `{base}/{domain}-{owner}.d.codeartifact.{region}.amazonaws.com/{format}/{repo}/`
pub fn endpoint_url(
    base: &str,
    domain: &str,
    owner: &str,
    region: &str,
    format: Format,
    repo: &str,
) -> String {
    format!(
        "{}/{domain}-{owner}.d.codeartifact.{region}.amazonaws.com/{format}/{repo}/",
        base.trim_end_matches('/')
    )
}

/// The emulator's routes.
pub fn router(state: Arc<State>) -> Router {
    let admin = Router::new()
        .route("/_emulator/stats", get(admin_stats))
        .route("/_emulator/tokens", get(admin_tokens))
        .route(
            "/_emulator/faults",
            get(admin_get_faults).put(admin_put_faults),
        )
        .route("/_emulator/expire-tokens", post(admin_expire_tokens))
        .route("/_emulator/reset-stats", post(admin_reset_stats));
    let served = Router::new()
        .route("/", post(sts::handle))
        .route("/v1/{*rest}", any(control::handle))
        .fallback(data::handle)
        .layer(middleware::from_fn_with_state(state.clone(), faults_layer))
        .layer(middleware::from_fn_with_state(state.clone(), date_layer));
    admin.merge(served).with_state(state)
}

/// Stamps every served answer with a `Date` from the emulator's clock (as AWS does from its
/// own), so `faults.clock_skew_secs` shows in it as it would with a real clock skew.
async fn date_layer(AxState(state): AxState<Arc<State>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if let Ok(v) = sigv4::format_http_date(state.now()).parse() {
        resp.headers_mut().insert(axum::http::header::DATE, v);
    }
    resp
}

/// Applies the latency, scripted (data plane and STS) and 5xx fault switches to every served
/// (non-admin) request; counts every request as `received` before the latency.
async fn faults_layer(AxState(state): AxState<Arc<State>>, req: Request, next: Next) -> Response {
    state.record("received");
    let faults = state.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    // Control-plane operations take their script steps in `control`, after the signature check.
    let script_key = match req.uri().path() {
        p if p.starts_with("/v1/") => None,
        "/" if req.method() == axum::http::Method::POST => Some("sts"),
        _ => Some("data"),
    };
    match script_key.and_then(|k| state.next_scripted(k, false)) {
        Some(state::Scripted::Error) => {
            return aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerException",
                "Injected fault (script): internal server error",
            );
        }
        Some(state::Scripted::Throttle) => {
            let secs = faults.retry_after_secs;
            let mut resp = aws_error(
                StatusCode::TOO_MANY_REQUESTS,
                "ThrottlingException",
                "Injected fault (script): rate exceeded",
            );
            let headers = resp.headers_mut();
            headers.insert(axum::http::header::RETRY_AFTER, secs.into());
            headers.insert("x-amz-retry-after", secs.saturating_mul(1000).into());
            return resp;
        }
        None => {}
    }
    if state.roll_error() {
        state.record("fault:5xx");
        return aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "Injected fault: internal server error",
        );
    }
    next.run(req).await
}

/// An error in AWS's REST-JSON shape: status, `x-amzn-errortype`, `{"message": ...}`.
pub(crate) fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    aws_error_with(status, kind, serde_json::json!({ "message": message }))
}

/// Like [`aws_error`] with extra body members (`reason`, `resourceId`, ...).
pub(crate) fn aws_error_with(status: StatusCode, kind: &str, body: serde_json::Value) -> Response {
    (
        status,
        [
            ("x-amzn-errortype", kind.to_string()),
            ("content-type", "application/json".to_string()),
            ("x-amzn-requestid", request_id()),
        ],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

async fn admin_stats(AxState(state): AxState<Arc<State>>) -> Response {
    axum::Json(state.stats()).into_response()
}

async fn admin_tokens(AxState(state): AxState<Arc<State>>) -> Response {
    axum::Json(state.issued_tokens()).into_response()
}

async fn admin_get_faults(AxState(state): AxState<Arc<State>>) -> Response {
    axum::Json(state.faults()).into_response()
}

async fn admin_put_faults(
    AxState(state): AxState<Arc<State>>,
    axum::Json(faults): axum::Json<Faults>,
) -> Response {
    if let Err((key, message)) = faults.validate() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{key}: {message}"),
        )
            .into_response();
    }
    state.set_faults(faults);
    StatusCode::NO_CONTENT.into_response()
}

async fn admin_expire_tokens(AxState(state): AxState<Arc<State>>) -> Response {
    state.expire_all_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn admin_reset_stats(AxState(state): AxState<Arc<State>>) -> Response {
    state.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}
