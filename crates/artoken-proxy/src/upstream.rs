//! The upstream side: one pooled HTTP/1.1 and HTTP/2 client (rustls with the aws-lc-rs
//! provider the AWS SDK uses, the system's root certificates) that goes through the proxy
//! `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` name (with its user and password, if its URL has them),
//! and the headers that cross.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::{Client as HyperClient, ResponseFuture};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use crate::body::ProxyBody;
use crate::error::ProxyError;

type Client = HyperClient<HttpsConnector<ProxyConnector>, ProxyBody>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How a connection to `dst` goes: direct, or through the proxy the environment names.
///
/// The rules are hyper-util's [`Matcher::from_env`], the ones the AWS SDK's own client applies
/// (curl's): `HTTPS_PROXY`/`https_proxy` for `https` upstreams (a `CONNECT` tunnel, TLS end to
/// end with the upstream), `HTTP_PROXY`/`http_proxy` for `http` ones (the request in absolute
/// form), `ALL_PROXY` for both, and `NO_PROXY`/`no_proxy` (host suffixes, IPs, CIDRs, `*`)
/// to bypass. Loopback is not special: an emulator on 127.0.0.1 is proxied unless `NO_PROXY`
/// names it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Direct,
    /// A `CONNECT` tunnel through the proxy at this URI.
    Tunnel(Uri),
    /// Plain http: the request goes to the proxy at this URI, in absolute form.
    Forward(Uri),
}

/// The route for `dst` under `matcher`.
#[cfg(test)]
pub(crate) fn route(matcher: &Matcher, dst: &Uri) -> Route {
    route_of(dst, matcher.intercept(dst).as_ref())
}

/// The environment's proxies (`NO_PROXY=*`: none, see artoken_core::network).
fn env_matcher() -> Matcher {
    if artoken_core::network::no_proxy_everything() {
        Matcher::builder().build()
    } else {
        Matcher::from_env()
    }
}

/// The TCP side of the upstream client: direct, tunnelled or forwarded as [`route`] says.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    matcher: Arc<Matcher>,
}

/// The pooled client and the proxy rules its connections follow.
pub(crate) struct Upstream {
    client: Client,
    matcher: Arc<Matcher>,
}

impl Upstream {
    /// Sends `req` upstream. Forwarded through a plain-http proxy, it carries the proxy's
    /// `Proxy-Authorization` when the proxy's URL has a user and password (a tunnel sends it on
    /// its `CONNECT` instead, and the upstream never sees it); [`request_headers`] has removed
    /// any the client sent.
    pub(crate) fn request(&self, mut req: Request<ProxyBody>) -> ResponseFuture {
        if let Some(auth) = forward_auth(&self.matcher, req.uri()) {
            req.headers_mut().insert(header::PROXY_AUTHORIZATION, auth);
        }
        self.client.request(req)
    }
}

/// The `Proxy-Authorization` of a request to `dst` that goes to a forward proxy.
fn forward_auth(matcher: &Matcher, dst: &Uri) -> Option<HeaderValue> {
    let i = matcher.intercept(dst)?;
    match route_of(dst, Some(&i)) {
        Route::Forward(_) => i.basic_auth().cloned(),
        Route::Direct | Route::Tunnel(_) => None,
    }
}

/// A TCP connection to the upstream, a tunnel to it, or one to a forward proxy (`forward`:
/// hyper then writes requests in absolute form).
pub(crate) struct UpstreamConn {
    io: TokioIo<TcpStream>,
    forward: bool,
}

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = UpstreamConn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<UpstreamConn, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower_service::Service::<Uri>::poll_ready(&mut self.http, cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept: Option<Intercept> = self.matcher.intercept(&dst);
        let mut http = self.http.clone();
        Box::pin(async move {
            match (route_of(&dst, intercept.as_ref()), intercept) {
                (Route::Tunnel(proxy), Some(i)) => {
                    let mut tunnel = Tunnel::new(proxy, http);
                    if let Some(auth) = i.basic_auth() {
                        tunnel = tunnel.with_auth(auth.clone());
                    }
                    let io = tower_service::Service::call(&mut tunnel, dst)
                        .await
                        .map_err(|e| format!("proxy CONNECT failed: {e}"))?;
                    Ok(UpstreamConn { io, forward: false })
                }
                (Route::Forward(proxy), _) => {
                    let io = tower_service::Service::call(&mut http, proxy).await?;
                    Ok(UpstreamConn { io, forward: true })
                }
                _ => {
                    let io = tower_service::Service::call(&mut http, dst).await?;
                    Ok(UpstreamConn { io, forward: false })
                }
            }
        })
    }
}

fn route_of(dst: &Uri, intercept: Option<&Intercept>) -> Route {
    match intercept {
        None => Route::Direct,
        Some(i) if dst.scheme_str() == Some("https") => Route::Tunnel(i.uri().clone()),
        Some(i) => Route::Forward(i.uri().clone()),
    }
}

impl Connection for UpstreamConn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward)
    }
}

impl Read for UpstreamConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for UpstreamConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The client; `need_roots`: some endpoint is https, so the system's CA certificates must load.
pub(crate) fn client(need_roots: bool) -> Result<Upstream, ProxyError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    http.set_keepalive(Some(Duration::from_secs(60)));
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let builder = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
    {
        Ok(b) => b,
        Err(e) if need_roots => {
            return Err(ProxyError::Tls(format!(
                "cannot load the system's CA certificates: {e}"
            )));
        }
        Err(_) => {
            // Only plain-http endpoints (a local emulator): no roots needed.
            let config = rustls::ClientConfig::builder_with_provider(provider.into())
                .with_safe_default_protocol_versions()
                .map_err(|e| ProxyError::Tls(e.to_string()))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let matcher = Arc::new(env_matcher());
    let https = builder
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(ProxyConnector {
            http,
            matcher: matcher.clone(),
        });
    let client = HyperClient::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(https);
    Ok(Upstream { client, matcher })
}

/// Connection-level headers, never forwarded either way.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Removes hop-by-hop headers, and those `Connection` names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(n);
    }
    headers.remove(header::UPGRADE);
}

/// The headers sent upstream: the client's, less hop-by-hop ones, its `Host` (the client sets
/// the upstream's), its `Authorization` (replaced by the token), `Expect`, and an
/// `Accept-Encoding` narrowed to gzip (the one encoding the rewriter reads).
pub(crate) fn request_headers(client: &HeaderMap, auth: HeaderValue) -> HeaderMap {
    let mut h = client.clone();
    strip_hop_by_hop(&mut h);
    h.remove(header::HOST);
    h.remove(header::EXPECT);
    h.remove(header::COOKIE);
    let gzip = h
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        });
    h.remove(header::ACCEPT_ENCODING);
    if gzip {
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::AUTHORIZATION, auth);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(http: &str, https: &str, no: &str) -> Matcher {
        Matcher::builder()
            .http(http.to_string())
            .https(https.to_string())
            .no(no.to_string())
            .build()
    }

    fn r(matcher: &Matcher, dst: &str) -> Route {
        route(matcher, &dst.parse().unwrap())
    }

    const CA: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/";
    const VPCE: &str = "https://vpce-0abc-xyz.d.codeartifact.eu-west-1.vpce.amazonaws.com/pypi/d/corp-111122223333/r/";

    #[test]
    fn https_tunnels_http_forwards_and_loopback_is_not_special() {
        let p = m("http://127.0.0.1:3128", "http://127.0.0.1:3129", "");
        assert_eq!(
            r(&p, CA),
            Route::Tunnel("http://127.0.0.1:3129/".parse().unwrap())
        );
        assert_eq!(
            r(&p, "http://127.0.0.1:8080/x/"),
            Route::Forward("http://127.0.0.1:3128/".parse().unwrap())
        );
        assert_eq!(
            r(&p, "http://localhost:8080/x/"),
            Route::Forward("http://127.0.0.1:3128/".parse().unwrap())
        );
        // only HTTPS_PROXY: http goes direct, and the reverse
        assert_eq!(
            r(&m("", "http://p:1", ""), "http://127.0.0.1:8080/"),
            Route::Direct
        );
        assert_eq!(r(&m("http://p:1", "", ""), CA), Route::Direct);
        assert_eq!(r(&m("", "", ""), CA), Route::Direct);
    }

    #[test]
    fn a_forward_proxys_login_goes_on_the_request_and_a_tunnels_on_its_connect_only() {
        let p = m(
            "http://user:p%40ss@127.0.0.1:3128",
            "http://user:p%40ss@127.0.0.1:3129",
            "",
        );
        let auth = |dst: &str| forward_auth(&p, &dst.parse().unwrap());
        // Basic base64("user:p@ss"): the password is percent-decoded, as curl does.
        assert_eq!(
            auth("http://127.0.0.1:8080/x/").unwrap(),
            "Basic dXNlcjpwQHNz"
        );
        assert_eq!(
            auth(CA),
            None,
            "https: the CONNECT carries it, not the request"
        );
        let bare = m("http://127.0.0.1:3128", "", "");
        assert_eq!(
            forward_auth(&bare, &"http://127.0.0.1:8080/".parse().unwrap()),
            None
        );
        let bypassed = m("http://user:pw@127.0.0.1:3128", "", "127.0.0.1");
        assert_eq!(
            forward_auth(&bypassed, &"http://127.0.0.1:8080/".parse().unwrap()),
            None
        );
    }

    #[test]
    fn no_proxy_takes_suffixes_ips_cidrs_and_star() {
        for no in [
            "amazonaws.com",
            ".amazonaws.com",
            "eu-west-1.amazonaws.com",
            "example.org, codeartifact.eu-west-1.amazonaws.com",
            "*",
            "CORP-111122223333.D.CODEARTIFACT.EU-WEST-1.AMAZONAWS.COM",
        ] {
            assert_eq!(r(&m("", "http://p:1", no), CA), Route::Direct, "{no}");
        }
        for no in ["zonaws.com", "evil.example", "127.0.0.1", "d.codeartifact"] {
            assert!(
                matches!(r(&m("", "http://p:1", no), CA), Route::Tunnel(_)),
                "{no}"
            );
        }
        assert_eq!(
            r(&m("", "http://p:1", "vpce.amazonaws.com"), VPCE),
            Route::Direct
        );
        let http = m("http://p:1", "", "127.0.0.1");
        assert_eq!(r(&http, "http://127.0.0.1:9/"), Route::Direct);
        assert_eq!(
            r(&m("http://p:1", "", "127.0.0.0/8"), "http://127.0.0.2:9/"),
            Route::Direct
        );
        assert_eq!(
            r(&m("http://p:1", "", "::1"), "http://[::1]:9/"),
            Route::Direct
        );
        assert!(matches!(r(&http, "http://127.0.0.2:9/"), Route::Forward(_)));
        assert!(matches!(r(&http, "http://localhost:9/"), Route::Forward(_)));
    }

    #[test]
    fn client_credentials_never_cross() {
        let mut c = HeaderMap::new();
        c.insert(
            header::AUTHORIZATION,
            "Bearer client-secret".parse().unwrap(),
        );
        c.insert(header::HOST, "127.0.0.1:1".parse().unwrap());
        c.insert(header::CONNECTION, "keep-alive, x-drop".parse().unwrap());
        c.insert("x-drop", "1".parse().unwrap());
        c.insert(
            header::ACCEPT_ENCODING,
            "br, gzip;q=0.8, deflate".parse().unwrap(),
        );
        c.insert(header::ACCEPT, "text/html".parse().unwrap());
        c.insert(header::USER_AGENT, "pip/25".parse().unwrap());
        c.insert(
            header::PROXY_AUTHORIZATION,
            "Basic Y2xpZW50".parse().unwrap(),
        );
        c.insert(header::COOKIE, "session=1".parse().unwrap());
        let h = request_headers(&c, HeaderValue::from_static("Basic dG9rZW4="));
        assert!(h.get(header::PROXY_AUTHORIZATION).is_none() && h.get(header::COOKIE).is_none());
        assert_eq!(h[header::AUTHORIZATION], "Basic dG9rZW4=");
        assert_eq!(h.get_all(header::AUTHORIZATION).iter().count(), 1);
        assert!(h.get(header::HOST).is_none());
        assert!(h.get("x-drop").is_none() && h.get(header::CONNECTION).is_none());
        assert_eq!(h[header::ACCEPT_ENCODING], "gzip");
        assert_eq!(h[header::USER_AGENT], "pip/25");
        c.insert(header::ACCEPT_ENCODING, "br, gzip;q=0".parse().unwrap());
        let h = request_headers(&c, HeaderValue::from_static("x"));
        assert!(h.get(header::ACCEPT_ENCODING).is_none());
    }
}
