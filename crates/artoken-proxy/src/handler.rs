//! One request: the request guard, client check, routing, the token, the upstream call
//! (retried once with a fresh token after an auth refusal when the body can be sent again), and
//! the response (streamed, or buffered and rewritten for index pages).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Incoming};

use crate::access_log::{AccessLog, Record};
use crate::auth::ClientSecret;
use crate::body::{Logged, Prefixed, ProxyBody, empty, full, incoming};
use crate::guard::Guard;
use crate::health;
use crate::refresh::{Current, TokenCell};
use crate::rewrite::{self, Rewriter};
use crate::routes::{Routes, Target};
use crate::upstream::{self, Upstream};

/// Longest wait for an upstream's response headers.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(300);

/// What every request needs.
pub(crate) struct Shared {
    pub routes: Routes,
    pub cells: Vec<Arc<TokenCell>>,
    pub upstream: Upstream,
    pub rewriter: Rewriter,
    /// May this request drive the proxy? (Host, Origin, Sec-Fetch-Site.)
    pub guard: Guard,
    pub secret: Option<ClientSecret>,
    /// `--public-url`: the base of the URLs printed at start-up.
    pub public_base: Option<String>,
    /// `http://ADDR` of the listener: the base of printed URLs without `--public-url`.
    pub listen_base: String,
    pub access_log: AccessLog,
    pub max_rewrite: usize,
    pub max_replay: usize,
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Logged>, Infallible> {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let mut rec = Record::new(shared.access_log, peer, req.method().clone(), path);
    let resp = dispatch(&shared, req, &mut rec).await;
    rec.status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    Ok(Response::from_parts(parts, Logged::new(body, rec)))
}

async fn dispatch(
    shared: &Shared,
    req: Request<Incoming>,
    rec: &mut Record,
) -> Response<ProxyBody> {
    // Before anything else, the health endpoint included: it names the repositories.
    let base = match shared.guard.check(req.uri(), req.headers()) {
        Ok(admitted) => admitted.base,
        Err(refusal) => {
            let r = error(refusal.status, &refusal.reason);
            rec.refused = Some(refusal.reason);
            return r;
        }
    };
    if let Some(secret) = &shared.secret
        && !secret.accepts(req.headers())
    {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "this proxy needs the client secret: Authorization: Bearer SECRET, or SECRET as the password",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"artoken serve\""),
        );
        return r;
    }
    let path = rec.path.clone();
    match shared.routes.resolve(&path) {
        Target::Health => json(StatusCode::OK, &health::report(shared)),
        Target::Listing => json(StatusCode::OK, &health::listing(shared, &base)),
        Target::AddSlash { route } => {
            let query = path
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            let location = format!("/{}/{query}", shared.routes.list[route].name);
            Response::builder()
                .status(StatusCode::PERMANENT_REDIRECT)
                .header(header::LOCATION, location)
                .body(empty())
                .expect("a valid response")
        }
        Target::NotFound => error(
            StatusCode::NOT_FOUND,
            "no repository is served here: paths start with /REPOSITORY/ (see / for the list)",
        ),
        Target::BadPath => error(
            StatusCode::BAD_REQUEST,
            "'.' and '..' path segments are refused",
        ),
        Target::Repo { route, rest } => {
            rec.repository = Some(shared.routes.list[route].name.clone());
            proxy(shared, route, rest, req, rec, &base).await
        }
    }
}

/// The request body: kept (small, or empty) so it can be sent again, or streamed once.
enum ReqBody {
    Kept(Bytes),
    Stream(Option<Incoming>),
}

impl ReqBody {
    async fn read(
        headers: &http::HeaderMap,
        body: Incoming,
        max_replay: usize,
    ) -> Result<ReqBody, Response<ProxyBody>> {
        if body.is_end_stream() {
            return Ok(ReqBody::Kept(Bytes::new()));
        }
        let len = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match len {
            Some(n) if n <= max_replay as u64 => Limited::new(body, max_replay)
                .collect()
                .await
                .map(|c| ReqBody::Kept(c.to_bytes()))
                .map_err(|e| {
                    error(
                        StatusCode::BAD_REQUEST,
                        &format!("cannot read the request body: {e}"),
                    )
                }),
            _ => Ok(ReqBody::Stream(Some(body))),
        }
    }

    /// The body for the next attempt.
    fn next(&mut self) -> ProxyBody {
        match self {
            ReqBody::Kept(b) if b.is_empty() => empty(),
            ReqBody::Kept(b) => full(b.clone()),
            ReqBody::Stream(s) => s.take().map(incoming).unwrap_or_else(empty),
        }
    }

    fn can_resend(&self) -> bool {
        matches!(self, ReqBody::Kept(_))
    }
}

async fn proxy(
    shared: &Shared,
    idx: usize,
    rest: &str,
    req: Request<Incoming>,
    rec: &mut Record,
    base: &str,
) -> Response<ProxyBody> {
    let route = &shared.routes.list[idx];
    let cell = &shared.cells[route.cell];
    let Ok(uri) = shared.routes.upstream_uri(idx, rest) else {
        return error(StatusCode::BAD_REQUEST, "invalid request path");
    };
    let (parts, body) = req.into_parts();
    let mut body = match ReqBody::read(&parts.headers, body, shared.max_replay).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut token = match cell.for_request().await {
        Ok(t) => t,
        Err(e) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("no token for repository {}: {e}", route.name),
            );
        }
    };
    loop {
        let mut up = Request::new(body.next());
        *up.method_mut() = parts.method.clone();
        *up.uri_mut() = uri.clone();
        *up.headers_mut() = upstream::request_headers(&parts.headers, token.header(route.auth));
        let sent = Instant::now();
        let result = tokio::time::timeout(UPSTREAM_TIMEOUT, shared.upstream.request(up)).await;
        rec.upstream_ms = Some(sent.elapsed().as_secs_f64() * 1000.0);
        let resp = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                return error(
                    StatusCode::BAD_GATEWAY,
                    &format!(
                        "upstream {}: {}",
                        route.authority,
                        artoken_core::redact::error_line(&e)
                    ),
                );
            }
            Err(_) => {
                return error(
                    StatusCode::GATEWAY_TIMEOUT,
                    &format!(
                        "upstream {} did not answer in {}s",
                        route.authority,
                        UPSTREAM_TIMEOUT.as_secs()
                    ),
                );
            }
        };
        if !rec.retried
            && body.can_resend()
            && refused_token(&resp, &token, cell)
            && let Some(fresh) = cell.after_rejection(&token).await
        {
            token = fresh;
            rec.retried = true;
            continue;
        }
        return respond(shared, idx, &parts.method, resp, base).await;
    }
}

/// Did upstream refuse the token? 401/403; a 404 the emulator marks as an auth refusal; or a
/// 404 (CodeArtifact's PyPI answer to a bad token) when the token expired or was rotated
/// since the request started.
fn refused_token(resp: &Response<Incoming>, used: &Current, cell: &TokenCell) -> bool {
    match resp.status() {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => true,
        StatusCode::NOT_FOUND => {
            resp.headers().contains_key("x-emulator-auth")
                || used.expired()
                || cell
                    .current()
                    .is_some_and(|c| c.generation != used.generation)
        }
        _ => false,
    }
}

async fn respond(
    shared: &Shared,
    idx: usize,
    method: &Method,
    resp: Response<Incoming>,
    base: &str,
) -> Response<ProxyBody> {
    let (mut parts, body) = resp.into_parts();
    upstream::strip_hop_by_hop(&mut parts.headers);
    if let Some(loc) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        && let Some(new) = shared
            .rewriter
            .location(loc, &shared.routes.list, idx, base)
        && let Ok(v) = HeaderValue::from_str(&new)
    {
        parts.headers.insert(header::LOCATION, v);
    }
    let index = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(rewrite::is_index);
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let gzip = matches!(encoding.as_deref(), Some("gzip" | "x-gzip"));
    let readable = gzip || matches!(encoding.as_deref(), None | Some("identity"));
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if !index
        || *method != Method::GET
        || !parts.status.is_success()
        || !readable
        || length.is_some_and(|l| l > shared.max_rewrite as u64)
    {
        if index && *method == Method::GET && parts.status.is_success() {
            tracing::warn!(
                "repository {}: not rewriting a {} page ({}): its links point upstream",
                shared.routes.list[idx].name,
                encoding.as_deref().unwrap_or("plain"),
                length
                    .map(|l| format!("{l} bytes"))
                    .unwrap_or_else(|| "size unknown".into())
            );
        }
        return Response::from_parts(parts, incoming(body));
    }
    // An index page: read it whole (up to the limit), rewrite, send with its new length.
    let mut body = incoming(body);
    let mut chunks = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => return error(StatusCode::BAD_GATEWAY, &format!("upstream body: {e}")),
        };
        if let Ok(data) = frame.into_data() {
            total += data.len();
            chunks.push(data);
            if total > shared.max_rewrite {
                tracing::warn!(
                    "repository {}: an index page is over {} bytes; sent as is (its links point upstream)",
                    shared.routes.list[idx].name,
                    shared.max_rewrite
                );
                return Response::from_parts(parts, ProxyBody::new(Prefixed::new(chunks, body)));
            }
        }
    }
    let raw = if chunks.len() == 1 {
        chunks.pop().unwrap_or_default()
    } else {
        let mut b = BytesMut::with_capacity(total);
        chunks.iter().for_each(|c| b.extend_from_slice(c));
        b.freeze()
    };
    let rewritten = if gzip {
        rewrite::gunzip(&raw, shared.max_rewrite)
            .ok()
            .and_then(|plain| shared.rewriter.body(&plain, base))
            .map(|b| rewrite::gzip(&b))
    } else {
        shared.rewriter.body(&raw, base)
    };
    let out = match rewritten {
        Some(b) => {
            if let Some(tag) = parts
                .headers
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok())
                && !tag.starts_with("W/")
                && let Ok(v) = HeaderValue::from_str(&format!("W/{tag}"))
            {
                parts.headers.insert(header::ETAG, v);
            }
            Bytes::from(b)
        }
        None => raw,
    };
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
    Response::from_parts(parts, full(out))
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response<ProxyBody> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(full(format!("{v}\n")))
        .expect("a valid response")
}

fn error(status: StatusCode, message: &str) -> Response<ProxyBody> {
    let message = artoken_core::redact::redact(message);
    json(status, &serde_json::json!({ "error": message }))
}
