//! `artoken serve`: a local auth proxy for CodeArtifact repositories. Tools use a token-free
//! URL (`http://127.0.0.1:PORT/NAME/...`); the proxy adds a token it keeps fresh in the
//! background, streams bodies both ways, and rewrites the upstream's absolute links in index
//! pages to its own address.

mod access_log;
mod auth;
mod body;
mod error;
mod guard;
mod handler;
mod health;
mod refresh;
mod rewrite;
mod routes;
mod server;
mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use artoken_core::Format;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

pub use access_log::AccessLog;
pub use auth::{ClientSecret, check_listen};
pub use error::ProxyError;
pub use refresh::{BoxFuture, ProviderTokens, Scheme, TokenSource};
pub use rewrite::{Rewriter, gunzip, gzip, is_index};
pub use routes::{HEALTH_PATH, Upstream, local_url, scheme_for};

use guard::Guard;
use handler::Shared;
use refresh::TokenCell;
use routes::Routes;

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    /// Needed (with a client secret) for a non-loopback `listen`.
    pub allow_remote: bool,
    /// Clients must present it (required off loopback; optional on it).
    pub client_secret: Option<ClientSecret>,
    /// The base of rewritten links (`https://proxy.example`), when clients reach the proxy
    /// through something else (a TLS terminator); else the request's (validated) Host. Its
    /// host and port are also a Host and Origin the request guard allows.
    pub public_url: Option<String>,
    pub access_log: AccessLog,
    /// Largest index page rewritten (decompressed); larger ones pass unchanged.
    pub max_rewrite_bytes: usize,
    /// Request bodies up to this size are kept so they can be sent again after a refused
    /// token; larger ones stream through once.
    pub max_replay_bytes: usize,
    /// How long a stop waits for requests in flight.
    pub shutdown_timeout: Duration,
    /// How long start-up waits for the first tokens.
    pub first_token_timeout: Duration,
}

impl ProxyConfig {
    pub fn new(listen: SocketAddr) -> ProxyConfig {
        ProxyConfig {
            listen,
            allow_remote: false,
            client_secret: None,
            public_url: None,
            access_log: AccessLog::Text,
            max_rewrite_bytes: 64 << 20,
            max_replay_bytes: 8 << 20,
            shutdown_timeout: Duration::from_secs(30),
            first_token_timeout: Duration::from_secs(45),
        }
    }
}

/// A served repository, as printed at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub name: String,
    pub format: Format,
    /// What a tool is given (`.../NAME/simple/` for pip).
    pub url: String,
}

/// A proxy bound to its address, with its tokens fetched (or being retried).
pub struct Proxy {
    shared: Arc<Shared>,
    listener: TcpListener,
    addr: SocketAddr,
    refreshers: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
}

impl Proxy {
    /// Checks the listen policy, binds, fetches the first tokens and starts their refreshers.
    /// A token that cannot be had yet is not fatal: it is retried in the background and
    /// `/_artoken/health` says `degraded`.
    pub async fn start(
        config: ProxyConfig,
        upstreams: Vec<Upstream>,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<Proxy, ProxyError> {
        check_listen(
            config.listen,
            config.allow_remote,
            config.client_secret.is_some(),
        )?;
        if upstreams.is_empty() {
            return Err(ProxyError::NoRepositories);
        }
        let public = config.public_url.as_deref().map(public_url).transpose()?;
        let mut keys: Vec<&str> = Vec::new();
        let mut cells = Vec::new();
        let mut cell_of = Vec::new();
        for u in &upstreams {
            let i = match keys.iter().position(|k| *k == u.token_key) {
                Some(i) => i,
                None => {
                    keys.push(&u.token_key);
                    cells.push(Arc::new(TokenCell::new(u.spec.clone(), tokens.clone())));
                    keys.len() - 1
                }
            };
            cell_of.push(i);
        }
        let routes = Routes::new(&upstreams, &cell_of)?;
        let upstream = upstream::client(routes.any_https())?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ProxyError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: config.listen,
            source,
        })?;
        let primes: Vec<_> = cells
            .iter()
            .map(|c| {
                let c = c.clone();
                let t = config.first_token_timeout;
                tokio::spawn(async move { c.prime(t).await })
            })
            .collect();
        for p in primes {
            let _ = p.await;
        }
        let refreshers = cells
            .iter()
            .map(|c| tokio::spawn(c.clone().run()))
            .collect();
        let shared = Arc::new(Shared {
            rewriter: Rewriter::new(&routes.list),
            routes,
            cells,
            upstream,
            guard: Guard::new(addr, public.as_ref()),
            secret: config.client_secret,
            public_base: public.as_ref().map(base_of),
            listen_base: format!("http://{addr}"),
            access_log: config.access_log,
            max_rewrite: config.max_rewrite_bytes,
            max_replay: config.max_replay_bytes,
        });
        Ok(Proxy {
            shared,
            listener,
            addr,
            refreshers,
            shutdown_timeout: config.shutdown_timeout,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (or `--public-url`).
    pub fn base_url(&self) -> String {
        self.shared
            .public_base
            .clone()
            .unwrap_or_else(|| self.shared.listen_base.clone())
    }

    pub fn served(&self) -> Vec<Served> {
        let base = self.base_url();
        self.shared
            .routes
            .list
            .iter()
            .map(|r| Served {
                name: r.name.to_string(),
                format: r.format,
                url: local_url(&base, &r.name, r.format),
            })
            .collect()
    }

    /// What `/_artoken/health` answers now.
    pub fn health(&self) -> serde_json::Value {
        health::report(&self.shared)
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish (up to the
    /// shutdown timeout) and stops the refreshers.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        server::serve(
            self.listener,
            self.shared.clone(),
            shutdown,
            self.shutdown_timeout,
        )
        .await;
        for r in self.refreshers {
            r.abort();
        }
    }
}

/// Checks `--public-url` (before any AWS call, as `Proxy::start` does).
pub fn check_public_url(url: &str) -> Result<(), ProxyError> {
    public_url(url).map(|_| ())
}

/// `--public-url`, parsed: http(s), a host, no credentials, query or fragment.
fn public_url(url: &str) -> Result<Url, ProxyError> {
    let bad = |reason: &str| ProxyError::PublicUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let u = url.trim();
    // `Url` would drop tabs and newlines, read `\` as `/` and `https:///h` as `https://h`:
    // refuse them instead of guessing.
    if u.contains(|c: char| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err(bad("must be a plain URL (no spaces or backslashes)"));
    }
    let Some((scheme, rest)) = u.split_once("://") else {
        return Err(bad("must start with http:// or https://"));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(bad("must start with http:// or https://"));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("names no host"));
    }
    let parsed = Url::parse(u).map_err(|e| bad(&e.to_string()))?;
    if parsed.host().is_none() {
        return Err(bad("names no host"));
    }
    if !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || rest.contains(['"', '\'', '<', '>'])
    {
        return Err(bad(
            "must be a plain URL (no credentials, query or fragment)",
        ));
    }
    Ok(parsed)
}

/// The base of links for a `--public-url`: the URL without its final `/`.
fn base_of(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_checked() {
        let base = |u: &str| public_url(u).map(|u| base_of(&u));
        assert_eq!(base("https://p.example/").unwrap(), "https://p.example");
        assert_eq!(base("http://h:1/prefix").unwrap(), "http://h:1/prefix");
        assert_eq!(base("HTTPS://P.Example:443/").unwrap(), "https://p.example");
        for bad in [
            "p.example",
            "https://u:p@h/",
            "https://u@h/",
            "https:///x",
            "https://h/?q",
            "https://h/#f",
            "ftp://h/",
            "https://h\\@evil/",
            "https://h/\tx",
            "https://h/\"x",
        ] {
            let e = public_url(bad).unwrap_err().to_string();
            assert!(e.starts_with("--public-url "), "{bad}: {e}");
        }
    }
}
