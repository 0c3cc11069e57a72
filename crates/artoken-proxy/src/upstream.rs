//! The upstream side: one pooled HTTP/1.1 and HTTP/2 client (rustls with the aws-lc-rs
//! provider the AWS SDK uses, the system's root certificates), and the headers that cross.

use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::ProxyBody;
use crate::error::ProxyError;

pub(crate) type Client = HyperClient<HttpsConnector<HttpConnector>, ProxyBody>;

/// The client; `need_roots`: some endpoint is https, so the system's CA certificates must load.
pub(crate) fn client(need_roots: bool) -> Result<Client, ProxyError> {
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
    let https = builder
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Ok(HyperClient::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(https))
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
        let h = request_headers(&c, HeaderValue::from_static("Basic dG9rZW4="));
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
