//! Rewrites upstream URLs to the proxy's own address: in index pages (PyPI HTML and PEP 691
//! JSON, npm packuments, any HTML or JSON page; gzip-encoded too) and in redirects to an
//! upstream endpoint. Other hosts (S3 signed URLs) are left alone.

use std::io::{Read, Write};
use std::sync::Arc;

use url::{Position, Url};

use crate::routes::Route;

/// One spelling of a repository endpoint.
struct Pattern {
    from: Vec<u8>,
    route: usize,
    /// Written with `\/` (JSON may escape slashes).
    escaped: bool,
}

/// Every served endpoint, in every spelling, mapped to its local prefix.
pub struct Rewriter {
    patterns: Vec<Pattern>,
    names: Vec<Arc<str>>,
}

impl Rewriter {
    pub(crate) fn new(routes: &[Route]) -> Rewriter {
        let mut patterns = Vec::new();
        for (i, r) in routes.iter().enumerate() {
            // The endpoint as `Url` writes it (lower-case host, no default port), and with its
            // scheme's default port spelled out.
            let mut spellings = vec![r.endpoint.as_str().to_string()];
            if r.endpoint.port().is_none()
                && let (Some(host), Some(port)) =
                    (r.endpoint.host_str(), r.endpoint.port_or_known_default())
            {
                spellings.push(format!(
                    "{}://{host}:{port}{}",
                    r.endpoint.scheme(),
                    r.endpoint.path()
                ));
            }
            for s in spellings {
                patterns.push(Pattern {
                    from: s.replace('/', "\\/").into_bytes(),
                    route: i,
                    escaped: true,
                });
                patterns.push(Pattern {
                    from: s.into_bytes(),
                    route: i,
                    escaped: false,
                });
            }
        }
        // Longest first, so no spelling shadows a longer one.
        patterns.sort_by_key(|p| std::cmp::Reverse(p.from.len()));
        Rewriter {
            patterns,
            names: routes.iter().map(|r| r.name.clone()).collect(),
        }
    }

    fn local(&self, route: usize, base: &str, escaped: bool) -> String {
        let s = format!("{base}/{}/", self.names[route]);
        if escaped { s.replace('/', "\\/") } else { s }
    }

    /// `body` with every upstream endpoint replaced by `{base}/{NAME}/`; `None` if it has none.
    pub fn body(&self, body: &[u8], base: &str) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut last = 0;
        let mut i = 0;
        while let Some(off) = body[i..].iter().position(|&b| b == b'h') {
            let at = i + off;
            match self
                .patterns
                .iter()
                .find(|p| body[at..].starts_with(&p.from))
            {
                Some(p) => {
                    let o = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
                    o.extend_from_slice(&body[last..at]);
                    o.extend_from_slice(self.local(p.route, base, p.escaped).as_bytes());
                    i = at + p.from.len();
                    last = i;
                }
                None => i = at + 1,
            }
        }
        let mut out = out?;
        out.extend_from_slice(&body[last..]);
        Some(out)
    }

    /// A `Location` to rewrite: an absolute URL under a served endpoint (same scheme, host
    /// and port, compared parsed), or a path under one on the upstream host of `current`
    /// (answered as a path under the proxy).
    pub(crate) fn location(
        &self,
        location: &str,
        routes: &[Route],
        current: usize,
        base: &str,
    ) -> Option<String> {
        let relative = location.starts_with('/');
        if relative && location.starts_with("//") {
            return None;
        }
        let target = if relative {
            routes[current].endpoint.join(location).ok()?
        } else {
            Url::parse(location).ok()?
        };
        if !target.username().is_empty() || target.password().is_some() {
            return None;
        }
        let origin = target.origin();
        let (i, r) = routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.endpoint.origin() == origin)
            .filter(|(_, r)| target.path().starts_with(r.endpoint.path()))
            .max_by_key(|(_, r)| r.endpoint.path().len())?;
        let rest = &target[Position::BeforePath..][r.endpoint.path().len()..];
        Some(if relative {
            format!("/{}/{rest}", self.names[i])
        } else {
            format!("{}{rest}", self.local(i, base, false))
        })
    }
}

/// Content types whose bodies may carry absolute URLs: HTML and JSON (with `+json`, `+html`
/// vendor types such as PEP 691's and npm's abbreviated packument).
pub fn is_index(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "text/html"
        || mime == "application/json"
        || mime.ends_with("+json")
        || mime.ends_with("+html")
}

/// Decompresses at most `cap` bytes (more is an error: a page too big or a gzip bomb).
pub fn gunzip(data: &[u8], cap: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)?;
    if out.len() > cap {
        return Err(std::io::Error::other("larger than the rewrite limit"));
    }
    Ok(out)
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4),
        flate2::Compression::fast(),
    );
    e.write_all(data).expect("writing to a Vec");
    e.finish().expect("writing to a Vec")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{Routes, test_upstream};
    use artoken_core::Format;

    fn routes() -> Routes {
        let up = test_upstream;
        Routes::new(
            &[
                up(
                    "demo",
                    Format::Pypi,
                    "http://127.0.0.1:9/d-1.d.x/pypi/store/",
                ),
                up("js", Format::Npm, "https://d-1.d.codeartifact.aws/npm/js/"),
                up(
                    "js2",
                    Format::Npm,
                    "https://d-1.d.codeartifact.aws/npm/js2/",
                ),
            ],
            &[0, 0, 0],
        )
        .unwrap()
    }

    #[test]
    fn every_spelling_of_an_endpoint_is_rewritten() {
        let r = routes();
        let rw = Rewriter::new(&r.list);
        let base = "http://127.0.0.1:7";
        let page = br#"<a href="http://127.0.0.1:9/d-1.d.x/pypi/store/simple/a/1/a.whl#sha256=x">a</a> http://127.0.0.1:9/other/"#;
        assert_eq!(
            String::from_utf8(rw.body(page, base).unwrap()).unwrap(),
            r#"<a href="http://127.0.0.1:7/demo/simple/a/1/a.whl#sha256=x">a</a> http://127.0.0.1:9/other/"#
        );
        let json = br#"{"t":"https://d-1.d.codeartifact.aws:443/npm/js/a/-/a-1.tgz","u":"https:\/\/d-1.d.codeartifact.aws\/npm\/js2\/b","v":"https://d-1.d.codeartifact.aws/npm/js2/c"}"#;
        assert_eq!(
            String::from_utf8(rw.body(json, base).unwrap()).unwrap(),
            r#"{"t":"http://127.0.0.1:7/js/a/-/a-1.tgz","u":"http:\/\/127.0.0.1:7\/js2\/b","v":"http://127.0.0.1:7/js2/c"}"#
        );
        assert!(
            rw.body(b"hello https://example.com/npm/js/", base)
                .is_none()
        );
    }

    #[test]
    fn redirects_to_upstream_are_rewritten_and_others_left_alone() {
        let r = routes();
        let rw = Rewriter::new(&r.list);
        let base = "http://h:1";
        assert_eq!(
            rw.location(
                "http://127.0.0.1:9/d-1.d.x/pypi/store/simple/x/",
                &r.list,
                0,
                base
            )
            .as_deref(),
            Some("http://h:1/demo/simple/x/")
        );
        assert_eq!(
            rw.location("/npm/js2/x", &r.list, 1, base).as_deref(),
            Some("/js2/x")
        );
        assert_eq!(rw.location("/npm/js2/x", &r.list, 0, base), None);
        assert_eq!(
            rw.location(
                "https://bucket.s3.amazonaws.com/x?X-Amz-Signature=1",
                &r.list,
                1,
                base
            ),
            None
        );
        assert_eq!(rw.location("x/", &r.list, 0, base), None);
    }

    #[test]
    fn index_types_and_gzip() {
        assert!(is_index("text/html; charset=utf-8"));
        assert!(is_index("application/vnd.pypi.simple.v1+json"));
        assert!(is_index("application/vnd.npm.install-v1+json"));
        assert!(is_index("Application/JSON"));
        assert!(!is_index("application/octet-stream"));
        assert!(!is_index("text/plain"));
        let z = gzip(b"hello hello hello");
        assert_eq!(gunzip(&z, 100).unwrap(), b"hello hello hello");
        assert!(gunzip(&z, 5).is_err());
        assert!(gunzip(b"not gzip", 100).is_err());
    }
}
