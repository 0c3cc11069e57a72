//! May this request drive `serve`? The one request guard, run before routing: the Host (or
//! HTTP/2 `:authority`) must name the proxy, and no browser may send the request from another
//! site (`Origin`, `Sec-Fetch-Site`). It also gives the base of rewritten links: the validated
//! Host, or `--public-url`.
//!
//! Allowed hosts, each with the port clients use:
//! - `localhost` and any loopback IP literal, with the listen port;
//! - the listen address itself when it is a specific non-loopback IP (`--allow-remote`), with
//!   the listen port; for an unspecified listen address (`0.0.0.0`, `[::]`) any IP literal with
//!   the listen port (an IP literal cannot be rebound, so no web page can pose as one; names
//!   are allowed only through `--public-url`);
//! - `--public-url`'s host and port (its scheme's default when it names none).
//!
//! Hosts are compared parsed (`url::Host`: case-folded, IP literals as addresses) and exactly;
//! a Host without a port means the scheme's default port. Non-browser clients (pip, uv, npm,
//! twine, cargo) send neither `Origin` nor `Sec-Fetch-Site`, so only the Host rule applies to
//! them.

use std::net::{IpAddr, SocketAddr};

use http::uri::Authority;
use http::{HeaderMap, StatusCode, Uri, header};
use url::{Host, Url};

/// Longest header value quoted in a refusal.
const MAX_QUOTED: usize = 100;

/// Where clients may reach the proxy.
#[derive(Debug, Clone)]
struct Site {
    host: HostRule,
    port: u16,
    /// How clients reach it: `http`, or `--public-url`'s scheme.
    scheme: &'static str,
    /// It is `--public-url`'s.
    public: bool,
}

#[derive(Debug, Clone)]
enum HostRule {
    /// `localhost` or any loopback IP literal.
    Loopback,
    /// Any IP literal (an unspecified listen address).
    AnyIp,
    /// This host only.
    Exact(Host<String>),
}

impl HostRule {
    fn matches(&self, host: &Host<String>) -> bool {
        match self {
            HostRule::Loopback => match host {
                Host::Domain(d) => d == "localhost",
                Host::Ipv4(a) => a.is_loopback(),
                Host::Ipv6(a) => a.to_canonical().is_loopback(),
            },
            HostRule::AnyIp => !matches!(host, Host::Domain(_)),
            HostRule::Exact(h) => h == host,
        }
    }
}

/// A Host (or `:authority`): the parsed host and the port it names, if any.
#[derive(Debug, PartialEq, Eq)]
struct Named {
    host: Host<String>,
    port: Option<u16>,
}

impl std::fmt::Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// A request the guard let through.
#[derive(Debug)]
pub(crate) struct Admitted {
    /// The base of rewritten links: `--public-url`, or `http://` and the validated Host.
    pub base: String,
}

/// A refused request: the status and a one-line reason.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

fn refuse(status: StatusCode, reason: String) -> Refusal {
    Refusal { status, reason }
}

/// The allow-list of one proxy.
#[derive(Debug)]
pub(crate) struct Guard {
    sites: Vec<Site>,
    /// `--public-url` (no trailing slash).
    public_base: Option<String>,
}

impl Guard {
    /// `listen`: the bound address (its real port); `public`: `--public-url`, checked.
    pub fn new(listen: SocketAddr, public: Option<&Url>) -> Guard {
        let port = listen.port();
        let mut sites = vec![Site {
            host: HostRule::Loopback,
            port,
            scheme: "http",
            public: false,
        }];
        let ip = listen.ip();
        if ip.is_unspecified() {
            sites.push(Site {
                host: HostRule::AnyIp,
                port,
                scheme: "http",
                public: false,
            });
        } else if !ip.is_loopback() {
            sites.push(Site {
                host: HostRule::Exact(ip_host(ip)),
                port,
                scheme: "http",
                public: false,
            });
        }
        if let Some(u) = public
            && let Some(host) = u.host()
            && let Some(p) = u.port_or_known_default()
        {
            sites.push(Site {
                host: HostRule::Exact(host.to_owned()),
                port: p,
                scheme: if u.scheme() == "https" {
                    "https"
                } else {
                    "http"
                },
                public: true,
            });
        }
        Guard {
            sites,
            public_base: public.map(|u| u.as_str().trim_end_matches('/').to_string()),
        }
    }

    /// Lets the request through (with the base of its links) or says why not.
    pub fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<Admitted, Refusal> {
        let named = self.host(uri, headers)?;
        if let Some(site) = headers
            .get_all("sec-fetch-site")
            .iter()
            .find(|v| !v.to_str().is_ok_and(|v| same_origin_site(v.trim())))
        {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "refused a cross-site browser request (Sec-Fetch-Site: {}): a web page may not drive artoken serve",
                    quoted(site.as_bytes())
                ),
            ));
        }
        for origin in headers.get_all(header::ORIGIN) {
            if !self.origin_allowed(origin.to_str().unwrap_or(""), &named) {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "refused a cross-origin browser request (Origin: {}): a web page may not drive artoken serve",
                        quoted(origin.as_bytes())
                    ),
                ));
            }
        }
        let base = match &self.public_base {
            Some(b) => b.clone(),
            None => format!("http://{named}"),
        };
        Ok(Admitted { base })
    }

    /// The request's host, checked: one Host header and/or the URI's authority (HTTP/2
    /// `:authority`, or an absolute-form HTTP/1.1 target), each in the allow-list.
    fn host(&self, uri: &Uri, headers: &HeaderMap) -> Result<Named, Refusal> {
        let mut values = headers.get_all(header::HOST).iter();
        let host = values.next();
        if values.next().is_some() {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "refused a request with more than one Host header".into(),
            ));
        }
        let from_header = host
            .map(|h| self.allowed(h.to_str().unwrap_or("\u{fffd}"), h.as_bytes()))
            .transpose()?;
        let from_uri = uri
            .authority()
            .map(|a| self.allowed(a.as_str(), a.as_str().as_bytes()))
            .transpose()?;
        from_uri.or(from_header).ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                "refused a request without a Host header".into(),
            )
        })
    }

    /// `value` (a Host or authority), parsed and in the allow-list.
    fn allowed(&self, value: &str, raw: &[u8]) -> Result<Named, Refusal> {
        let Some(named) = parse_host(value) else {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("refused a request with a malformed Host {}", quoted(raw)),
            ));
        };
        if self.sites.iter().any(|s| {
            s.host.matches(&named.host) && named.port.unwrap_or(default_port(s.scheme)) == s.port
        }) {
            return Ok(named);
        }
        Err(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "refused Host {}: artoken serve answers only {} (see docs/serve.md)",
                quoted(raw),
                self.describe()
            ),
        ))
    }

    /// The allow-list in words, for a refusal.
    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .sites
            .iter()
            .map(|s| match &s.host {
                HostRule::Loopback => {
                    format!("localhost or a loopback address with port {}", s.port)
                }
                HostRule::AnyIp => format!("an IP address with port {}", s.port),
                HostRule::Exact(h) if s.public && s.port == default_port(s.scheme) => {
                    format!("{h} (--public-url)")
                }
                HostRule::Exact(h) if s.public => format!("{h}:{} (--public-url)", s.port),
                HostRule::Exact(h) => format!("{h}:{}", s.port),
            })
            .collect();
        parts.join(", ")
    }

    /// An `Origin` is allowed when it is one of the proxy's own origins: loopback or the
    /// listen address with the listen port (http), `--public-url`'s, or (an unspecified listen
    /// address) the request's own IP host.
    fn origin_allowed(&self, origin: &str, named: &Named) -> bool {
        let Some((scheme, host, port)) = parse_origin(origin) else {
            return false;
        };
        self.sites.iter().any(|s| {
            s.scheme == scheme
                && s.port == port
                && match &s.host {
                    HostRule::AnyIp => {
                        host == named.host && named.port.unwrap_or(default_port(s.scheme)) == s.port
                    }
                    rule => rule.matches(&host),
                }
        })
    }
}

/// `same-origin` (the proxy's own page) and `none` (typed, a bookmark) are a browser's only
/// acceptable `Sec-Fetch-Site` values; `same-site` is refused too (another port on localhost
/// is the same site).
fn same_origin_site(v: &str) -> bool {
    v.eq_ignore_ascii_case("same-origin") || v.eq_ignore_ascii_case("none")
}

/// `host[:port]`: no userinfo, path or anything else; the port, when present, 1-5 digits.
fn parse_host(value: &str) -> Option<Named> {
    let authority: Authority = value.parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let host_part = authority.host();
    let port = match &authority.as_str()[host_part.len()..] {
        "" => None,
        rest => {
            let digits = rest.strip_prefix(':')?;
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            Some(digits.parse::<u16>().ok()?)
        }
    };
    let host = Host::parse(host_part).ok()?;
    Some(Named { host, port })
}

/// A serialized origin (`scheme://host[:port]`): scheme, host and port (the default when
/// absent). `null` and anything with a path, userinfo, query or fragment are not origins.
fn parse_origin(origin: &str) -> Option<(&'static str, Host<String>, u16)> {
    let u = Url::parse(origin.trim()).ok()?;
    let scheme = match u.scheme() {
        "http" => "http",
        "https" => "https",
        _ => return None,
    };
    if !u.username().is_empty()
        || u.password().is_some()
        || u.path() != "/"
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return None;
    }
    Some((scheme, u.host()?.to_owned(), u.port_or_known_default()?))
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

fn ip_host(ip: IpAddr) -> Host<String> {
    match ip {
        IpAddr::V4(a) => Host::Ipv4(a),
        IpAddr::V6(a) => Host::Ipv6(a),
    }
}

/// A header value for a refusal: quoted, printable, at most `MAX_QUOTED` characters.
fn quoted(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let s: String = s.chars().take(MAX_QUOTED).collect();
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn path() -> Uri {
        "/demo/simple/".parse().unwrap()
    }

    fn status(g: &Guard, pairs: &[(&str, &str)]) -> u16 {
        match g.check(&path(), &headers(pairs)) {
            Ok(_) => 200,
            Err(r) => r.status.as_u16(),
        }
    }

    fn loopback() -> Guard {
        Guard::new("127.0.0.1:7353".parse().unwrap(), None)
    }

    #[test]
    fn loopback_hosts_with_the_listen_port_only() {
        let g = loopback();
        for ok in [
            "localhost:7353",
            "LocalHost:7353",
            "127.0.0.1:7353",
            "127.0.0.2:7353",
            "[::1]:7353",
            "[::ffff:127.0.0.1]:7353",
        ] {
            assert_eq!(status(&g, &[("host", ok)]), 200, "{ok}");
        }
        for bad in [
            "evil.example:7353",
            "127.0.0.1.evil.example:7353",
            "localhost.evil.example:7353",
            "localhost.:7353",
            "localhost:1",
            "localhost",
            "127.0.0.1",
            "10.0.0.1:7353",
            "[::2]:7353",
        ] {
            assert_eq!(status(&g, &[("host", bad)]), 421, "{bad}");
        }
        for malformed in [
            "evil@localhost:7353",
            "localhost:7353@evil.example",
            "localhost:",
            "localhost:07353x",
            "localhost:717353",
            "localhost:7353:1",
            "",
        ] {
            assert_eq!(status(&g, &[("host", malformed)]), 400, "{malformed:?}");
        }
        assert_eq!(status(&g, &[]), 400, "no Host");
        assert_eq!(
            status(
                &g,
                &[("host", "localhost:7353"), ("host", "localhost:7353")]
            ),
            400,
            "two Hosts"
        );
    }

    #[test]
    fn the_uri_authority_counts_too() {
        let g = loopback();
        let h2: Uri = "http://localhost:7353/demo/simple/".parse().unwrap();
        assert!(g.check(&h2, &HeaderMap::new()).is_ok(), "HTTP/2 :authority");
        let evil: Uri = "http://evil.example:7353/demo/simple/".parse().unwrap();
        let e = g
            .check(&evil, &headers(&[("host", "127.0.0.1:7353")]))
            .unwrap_err();
        assert_eq!(e.status, StatusCode::MISDIRECTED_REQUEST);
        assert!(e.reason.contains("evil.example"), "{}", e.reason);
        let e = g
            .check(&h2, &headers(&[("host", "evil.example:7353")]))
            .unwrap_err();
        assert_eq!(e.status, StatusCode::MISDIRECTED_REQUEST);
    }

    #[test]
    fn links_use_the_validated_host_or_the_public_url() {
        let g = loopback();
        let a = g
            .check(&path(), &headers(&[("host", "LOCALHOST:7353")]))
            .unwrap();
        assert_eq!(a.base, "http://localhost:7353");
        let a = g
            .check(&path(), &headers(&[("host", "[::1]:7353")]))
            .unwrap();
        assert_eq!(a.base, "http://[::1]:7353");
        let public = Url::parse("https://Proxy.Example/prefix/").unwrap();
        let g = Guard::new("127.0.0.1:7353".parse().unwrap(), Some(&public));
        for host in ["proxy.example", "proxy.example:443", "127.0.0.1:7353"] {
            let a = g.check(&path(), &headers(&[("host", host)])).unwrap();
            assert_eq!(a.base, "https://proxy.example/prefix", "{host}");
        }
        for bad in [
            "proxy.example:80",
            "proxy.example:7353",
            "proxy.example.evil",
        ] {
            assert_eq!(status(&g, &[("host", bad)]), 421, "{bad}");
        }
    }

    #[test]
    fn remote_listeners_allow_their_address_or_ip_literals() {
        let g = Guard::new("192.0.2.7:7353".parse().unwrap(), None);
        assert_eq!(status(&g, &[("host", "192.0.2.7:7353")]), 200);
        assert_eq!(status(&g, &[("host", "localhost:7353")]), 200);
        assert_eq!(status(&g, &[("host", "192.0.2.8:7353")]), 421);
        assert_eq!(status(&g, &[("host", "build-host:7353")]), 421);
        let g = Guard::new("0.0.0.0:7353".parse().unwrap(), None);
        assert_eq!(status(&g, &[("host", "192.0.2.8:7353")]), 200);
        assert_eq!(status(&g, &[("host", "[2001:db8::1]:7353")]), 200);
        assert_eq!(status(&g, &[("host", "192.0.2.8:80")]), 421);
        assert_eq!(status(&g, &[("host", "build-host:7353")]), 421);
        // Another machine's page is not this proxy's origin.
        let h = [
            ("host", "192.0.2.8:7353"),
            ("origin", "http://192.0.2.9:7353"),
        ];
        assert_eq!(status(&g, &h), 403);
        let h = [
            ("host", "192.0.2.8:7353"),
            ("origin", "http://192.0.2.8:7353"),
        ];
        assert_eq!(status(&g, &h), 200);
        let public = Url::parse("http://build-host:7353").unwrap();
        let g = Guard::new("0.0.0.0:7353".parse().unwrap(), Some(&public));
        assert_eq!(status(&g, &[("host", "build-host:7353")]), 200);
    }

    #[test]
    fn browsers_from_other_sites_are_refused() {
        let g = loopback();
        let host = ("host", "127.0.0.1:7353");
        for (k, v) in [
            ("origin", "https://evil.example"),
            ("origin", "http://evil.example:7353"),
            ("origin", "null"),
            ("origin", "http://localhost:8080"),
            ("origin", "https://localhost:7353"),
            ("origin", "http://127.0.0.1:7353/x"),
            ("origin", "http://u@127.0.0.1:7353"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-site", "something-new"),
        ] {
            let e = g.check(&path(), &headers(&[host, (k, v)])).unwrap_err();
            assert_eq!(e.status, StatusCode::FORBIDDEN, "{k}: {v}");
            assert!(!e.reason.contains('\n'), "{}", e.reason);
        }
        for (k, v) in [
            ("origin", "http://127.0.0.1:7353"),
            ("origin", "http://localhost:7353"),
            ("origin", "http://[::1]:7353"),
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-site", "none"),
        ] {
            assert_eq!(status(&g, &[host, (k, v)]), 200, "{k}: {v}");
        }
        let public = Url::parse("https://proxy.example").unwrap();
        let g = Guard::new("127.0.0.1:7353".parse().unwrap(), Some(&public));
        let h = [
            ("host", "proxy.example"),
            ("origin", "https://proxy.example"),
        ];
        assert_eq!(status(&g, &h), 200);
        let h = [
            ("host", "proxy.example"),
            ("origin", "https://evil.example"),
        ];
        assert_eq!(status(&g, &h), 403);
    }

    #[test]
    fn refusals_quote_at_most_a_short_value() {
        let g = loopback();
        let long = format!("{}.example:7353", "a".repeat(500));
        let e = g.check(&path(), &headers(&[("host", &long)])).unwrap_err();
        assert!(e.reason.len() < 400, "{}", e.reason);
        assert!(e.reason.contains("docs/serve.md"), "{}", e.reason);
        let public = Url::parse("https://proxy.example:8443/").unwrap();
        let g = Guard::new("[2001:db8::7]:7353".parse().unwrap(), Some(&public));
        let e = g
            .check(&path(), &headers(&[("host", "evil.example")]))
            .unwrap_err();
        assert_eq!(
            e.reason,
            "refused Host \"evil.example\": artoken serve answers only localhost or a loopback address with port 7353, [2001:db8::7]:7353, proxy.example:8443 (--public-url) (see docs/serve.md)"
        );
    }
}
