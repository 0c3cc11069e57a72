//! The served repositories and how a request path maps onto one: `/NAME/REST` goes to the
//! repository endpoint followed by `REST` (query included).

use std::collections::HashMap;
use std::sync::Arc;

use artoken_core::{Format, RepositorySpec};
use http::Uri;
use http::uri::{Authority, Scheme as UriScheme};
use url::{Position, Url};

use crate::error::ProxyError;
use crate::refresh::Scheme;

/// A repository to serve.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The path prefix (the configured name).
    pub name: String,
    pub format: Format,
    /// The repository endpoint (`https://DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/pypi/REPO/`).
    pub endpoint: String,
    /// What the token is fetched for.
    pub spec: RepositorySpec,
    /// Repositories with equal keys share one token (tokens are per domain and identity).
    pub token_key: String,
}

/// A served repository, ready for requests.
pub(crate) struct Route {
    pub name: Arc<str>,
    pub format: Format,
    /// The repository endpoint (http or https, a host, a path ending with `/`, nothing else):
    /// every decision about upstream hosts compares against it.
    pub endpoint: Url,
    /// Its scheme and authority as the upstream request needs them.
    pub scheme: UriScheme,
    pub authority: Authority,
    pub auth: Scheme,
    /// Index of its token cell.
    pub cell: usize,
}

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    Health,
    /// `/`: the list of repositories.
    Listing,
    /// `/NAME/REST`: `rest` is everything after `/NAME/`.
    Repo {
        route: usize,
        rest: &'a str,
    },
    /// `/NAME` without the slash.
    AddSlash {
        route: usize,
    },
    NotFound,
    /// `..` segments and the like: refused.
    BadPath,
}

pub const HEALTH_PATH: &str = "/_artoken/health";

pub(crate) struct Routes {
    pub list: Vec<Route>,
    by_name: HashMap<String, usize>,
}

/// How a format authenticates: Bearer for npm, cargo and swift; Basic `aws:TOKEN` otherwise.
pub fn scheme_for(format: Format) -> Scheme {
    match format {
        Format::Npm | Format::Cargo | Format::Swift => Scheme::Bearer,
        _ => Scheme::Basic,
    }
}

impl Routes {
    /// `cells[i]`: the token cell of `upstreams[i]`.
    pub fn new(upstreams: &[Upstream], cells: &[usize]) -> Result<Routes, ProxyError> {
        let mut list = Vec::new();
        let mut by_name = HashMap::new();
        for (u, &cell) in upstreams.iter().zip(cells) {
            let bad = |reason: String| ProxyError::Repository {
                name: u.name.clone(),
                reason,
            };
            if u.name.is_empty()
                || !u
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            {
                return Err(bad(format!(
                    "{:?} cannot be a URL path prefix (letters, digits, '.', '_', '-')",
                    u.name
                )));
            }
            let (endpoint, scheme, authority) = parse_endpoint(&u.endpoint).map_err(bad)?;
            if by_name.insert(u.name.clone(), list.len()).is_some() {
                return Err(bad("served twice".into()));
            }
            list.push(Route {
                name: u.name.as_str().into(),
                format: u.format,
                endpoint,
                scheme,
                authority,
                auth: scheme_for(u.format),
                cell,
            });
        }
        Ok(Routes { list, by_name })
    }

    pub fn any_https(&self) -> bool {
        self.list.iter().any(|r| r.scheme == UriScheme::HTTPS)
    }

    pub fn resolve<'a>(&self, path_and_query: &'a str) -> Target<'a> {
        let path = path_and_query.split('?').next().unwrap_or("");
        if path == HEALTH_PATH {
            return Target::Health;
        }
        if path == "/" || path.is_empty() {
            return Target::Listing;
        }
        let Some(after) = path_and_query.strip_prefix('/') else {
            return Target::NotFound;
        };
        let (name, rest) = match after.find(['/', '?']) {
            Some(i) if after.as_bytes()[i] == b'/' => (&after[..i], Some(&after[i + 1..])),
            Some(i) => (&after[..i], None),
            None => (after, None),
        };
        let Some(&route) = self.by_name.get(name) else {
            return Target::NotFound;
        };
        let Some(rest) = rest else {
            return Target::AddSlash { route };
        };
        let rest_path = rest.split('?').next().unwrap_or("");
        if has_dot_segment(rest_path) || rest_path.contains('\\') {
            return Target::BadPath;
        }
        Target::Repo { route, rest }
    }

    /// The upstream URL for `rest` (path and query after `/NAME/`): always the route's scheme
    /// and authority, whatever `rest` holds.
    pub fn upstream_uri(&self, route: usize, rest: &str) -> Result<Uri, http::Error> {
        let r = &self.list[route];
        Uri::builder()
            .scheme(r.scheme.clone())
            .authority(r.authority.clone())
            .path_and_query(format!("{}{rest}", r.endpoint.path()))
            .build()
    }
}

/// A repository endpoint: an absolute http(s) URL with a host and no credentials, query or
/// fragment; its path gets a final `/`.
fn parse_endpoint(raw: &str) -> Result<(Url, UriScheme, Authority), String> {
    let mut url = Url::parse(raw).map_err(|e| format!("invalid endpoint {raw:?}: {e}"))?;
    let scheme = match url.scheme() {
        "http" => UriScheme::HTTP,
        "https" => UriScheme::HTTPS,
        _ => return Err(format!("endpoint {raw:?} is not http(s)")),
    };
    if url.host().is_none() {
        return Err(format!("endpoint {raw:?} names no host"));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "endpoint {raw:?} must be a plain URL (no credentials, query or fragment)"
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    let authority: Authority = url[Position::BeforeHost..Position::AfterPort]
        .parse()
        .map_err(|e| format!("invalid endpoint {raw:?}: {e}"))?;
    Ok((url, scheme, authority))
}

/// A `.` or `..` segment, also between encoded slashes (`%2F`, `%5C`: npm sends a scoped name
/// as `@scope%2fname`, and an upstream that decodes them would see the segment).
fn has_dot_segment(path: &str) -> bool {
    path.to_ascii_lowercase()
        .replace("%2f", "/")
        .replace("%5c", "/")
        .split('/')
        .any(is_dot_segment)
}

fn is_dot_segment(s: &str) -> bool {
    let s = s.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

/// The URL a tool is given for a served repository (`base`: `http://127.0.0.1:PORT`, a
/// validated Host or `--public-url`, never a trailing slash).
pub fn local_url(base: &str, name: &str, format: Format) -> String {
    match format {
        Format::Pypi => format!("{base}/{name}/simple/"),
        Format::Cargo => format!("sparse+{base}/{name}/"),
        _ => format!("{base}/{name}/"),
    }
}

/// An upstream for unit tests: repository `name` of domain `d` at `endpoint`.
#[cfg(test)]
pub(crate) fn test_upstream(name: &str, format: Format, endpoint: &str) -> Upstream {
    Upstream {
        name: name.into(),
        format,
        endpoint: endpoint.into(),
        spec: RepositorySpec::new(name, "d"),
        token_key: "k".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        let up = test_upstream;
        Routes::new(
            &[
                up(
                    "demo",
                    Format::Pypi,
                    "http://127.0.0.1:9/d-1.d.codeartifact.x/pypi/store/",
                ),
                up(
                    "js",
                    Format::Npm,
                    "https://d-1.d.codeartifact.x.amazonaws.com/npm/js",
                ),
            ],
            &[0, 0],
        )
        .unwrap()
    }

    #[test]
    fn paths_map_onto_repositories() {
        let r = routes();
        assert_eq!(r.resolve("/_artoken/health"), Target::Health);
        assert_eq!(r.resolve("/"), Target::Listing);
        assert_eq!(
            r.resolve("/demo/simple/x/?a=1"),
            Target::Repo {
                route: 0,
                rest: "simple/x/?a=1"
            }
        );
        assert_eq!(r.resolve("/js/"), Target::Repo { route: 1, rest: "" });
        assert_eq!(r.resolve("/js"), Target::AddSlash { route: 1 });
        assert_eq!(r.resolve("/js?x"), Target::AddSlash { route: 1 });
        assert_eq!(r.resolve("/nope/x"), Target::NotFound);
        assert_eq!(r.resolve("/demo/../other/"), Target::BadPath);
        assert_eq!(r.resolve("/demo/simple/%2E%2e/x"), Target::BadPath);
        for hidden in [
            "/js/..%2fother",
            "/js/@s%2F..%2Fx",
            "/js/a%5c..%5cb",
            "/js/%2e%2E%2fx",
        ] {
            assert_eq!(r.resolve(hidden), Target::BadPath, "{hidden}");
        }
        // Scoped names, encoded or not, and dots inside names pass.
        for ok in [
            "/js/@s%2fp",
            "/js/@s%2Fp/-/p-1.0.0.tgz",
            "/js/@s/p",
            "/js/a..b/-/a..b-1.0.0.tgz",
        ] {
            assert!(
                matches!(r.resolve(ok), Target::Repo { route: 1, .. }),
                "{ok}"
            );
        }
        assert_eq!(
            r.upstream_uri(0, "simple/x/?a=1").unwrap().to_string(),
            "http://127.0.0.1:9/d-1.d.codeartifact.x/pypi/store/simple/x/?a=1"
        );
        assert_eq!(
            r.upstream_uri(1, "@s%2fp").unwrap().to_string(),
            "https://d-1.d.codeartifact.x.amazonaws.com/npm/js/@s%2fp"
        );
        assert_eq!(r.list[1].auth, Scheme::Bearer);
        assert_eq!(r.list[0].auth, Scheme::Basic);
        assert!(r.any_https());
    }

    #[test]
    fn names_and_endpoints_are_checked() {
        let up = Upstream {
            name: "a b".into(),
            format: Format::Pypi,
            endpoint: "http://h/".into(),
            spec: RepositorySpec::new("a", "d"),
            token_key: "k".into(),
        };
        assert!(Routes::new(std::slice::from_ref(&up), &[0]).is_err());
        let up = Upstream {
            name: "ok".into(),
            endpoint: "/relative/".into(),
            ..up
        };
        let e = Routes::new(std::slice::from_ref(&up), &[0])
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("repository ok: "), "{e}");
        for bad in [
            "ftp://h/x/",
            "https://user:pw@h/x/",
            "https://h/x/?q=1",
            "https://h/x/#f",
            "file:///x/",
        ] {
            let up = Upstream {
                endpoint: bad.into(),
                ..up.clone()
            };
            assert!(Routes::new(&[up], &[0]).is_err(), "{bad}");
        }
    }

    #[test]
    fn upstream_requests_stay_on_the_endpoint_host() {
        let r = routes();
        for rest in ["//evil.example/x", "@evil.example/x", "x@evil.example:1/"] {
            let uri = r.upstream_uri(1, rest).unwrap();
            assert_eq!(
                uri.authority().unwrap().as_str(),
                "d-1.d.codeartifact.x.amazonaws.com",
                "{rest}"
            );
            assert!(uri.path().starts_with("/npm/js/"), "{uri}");
        }
        // An explicit default port and upper case are the same endpoint.
        let up = test_upstream("p", Format::Pypi, "HTTPS://H.Example:443/pypi/r");
        let r = Routes::new(&[up], &[0]).unwrap();
        assert_eq!(r.list[0].endpoint.as_str(), "https://h.example/pypi/r/");
        assert_eq!(r.list[0].authority.as_str(), "h.example");
    }
}
