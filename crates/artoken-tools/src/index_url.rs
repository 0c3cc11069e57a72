//! Index URLs: whether one points at a repository (on `url::Url`), and a token put in its password place.

use std::ops::Range;

use artoken_core::Token;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use url::Url;

/// What the WHATWG URL standard (and so the `url` crate the core uses) encodes in userinfo.
const USERINFO: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'=')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'|');

/// A repository as index URLs name it: scheme, host, port and path, from its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoUrl {
    endpoint: String,
    /// The endpoint parsed, its path ending with `/`.
    url: Url,
}

impl RepoUrl {
    /// From a GetRepositoryEndpoint answer (`https://host/pypi/repo/`).
    pub fn new(endpoint: &str) -> Result<RepoUrl, String> {
        let mut url = Url::parse(endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| format!("the repository endpoint {endpoint:?} is not an http(s) URL"))?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(RepoUrl {
            endpoint: endpoint.to_string(),
            url,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// True when `url` (with or without credentials, query or fragment) is the repository or a
    /// URL below it, such as its `simple/` index: the same scheme, host and port exactly (as
    /// [`crate::realm::parse_url`] reads them), and a path under the repository's.
    pub fn matches(&self, url: &str) -> bool {
        let Some(u) = crate::realm::parse_url(url) else {
            return false;
        };
        let repo = self.url.path();
        u.scheme() == self.url.scheme()
            && u.host() == self.url.host()
            && u.port_or_known_default() == self.url.port_or_known_default()
            && (u.path().starts_with(repo) || u.path() == &repo[..repo.len() - 1])
    }

    /// `https://aws:TOKEN@host/.../simple/`: the URL pip wants for the repository.
    pub fn pip_url(&self, token: &Token) -> String {
        let simple = format!("{}simple/", with_slash(&self.endpoint));
        with_token(&simple, token).map(|t| t.url).unwrap_or(simple)
    }
}

fn with_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

/// Where the userinfo of an http(s) URL sits, as text (the token is put in place byte-exactly;
/// whether the URL is the repository's is [`RepoUrl::matches`]'s to say).
struct Parts {
    /// Byte offset just after `://`.
    authority_start: usize,
    /// The userinfo (before the last `@` of the authority), as a range of the URL.
    userinfo: Option<Range<usize>>,
}

fn split(url: &str) -> Option<Parts> {
    let (scheme, _) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return None;
    }
    let start = scheme.len() + 3;
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (Some(start..start + at), &authority[at + 1..]),
        None => (None, authority),
    };
    if host.is_empty() {
        return None;
    }
    Some(Parts {
        authority_start: start,
        userinfo,
    })
}

/// A URL with a token in it, and where the token sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokenized {
    pub url: String,
    /// The (encoded) token's byte range in `url`.
    pub password: Range<usize>,
    /// The password the URL had before: `None` when it had none.
    pub old_password: Option<Range<usize>>,
}

/// `url` with its password set to the token (percent-encoded). The user is kept; a URL with no
/// userinfo, or with a user but no password (a token or placeholder in the user place), gets
/// `aws:TOKEN`. `None` for anything but an http(s) URL.
pub fn with_token(url: &str, token: &Token) -> Option<Tokenized> {
    let parts = split(url)?;
    let encoded: String = utf8_percent_encode(token.expose(), USERINFO).collect();
    // head + user + ':' + token + tail, where tail starts with the `@` before the host.
    let (head, user, tail, old_password) = match parts.userinfo {
        Some(ui) => {
            let info = &url[ui.clone()];
            match info.find(':') {
                Some(colon) => (
                    &url[..ui.start],
                    &info[..colon],
                    url[ui.end..].to_string(),
                    Some(ui.start + colon + 1..ui.end),
                ),
                None => (&url[..ui.start], "aws", url[ui.end..].to_string(), None),
            }
        }
        None => (
            &url[..parts.authority_start],
            "aws",
            format!("@{}", &url[parts.authority_start..]),
            None,
        ),
    };
    let mut out = String::with_capacity(url.len() + encoded.len() + 5);
    out.push_str(head);
    out.push_str(user);
    out.push(':');
    let start = out.len();
    out.push_str(&encoded);
    let end = out.len();
    out.push_str(&tail);
    Some(Tokenized {
        url: out,
        password: start..end,
        old_password,
    })
}

/// True for text that stands for a token rather than being one: `{auth_token}`,
/// `${AUTH_TOKEN}`, `$AUTH_TOKEN` (pip expands `${VAR}` in requirements files itself).
pub fn is_placeholder(s: &str) -> bool {
    let braced = s.len() > 2 && s.starts_with('{') && s.ends_with('}');
    let dollar_braced = s.len() > 3 && s.starts_with("${") && s.ends_with('}');
    let dollar = s.len() > 1
        && s.starts_with('$')
        && s[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    braced || dollar_braced || dollar
}

/// The URL for display: its password as `***`, unless it is a placeholder (not a secret).
pub fn shown(url: &str) -> String {
    let Some(parts) = split(url) else {
        return artoken_core::redact::redact(url).into_owned();
    };
    let Some(ui) = parts.userinfo else {
        return url.to_string();
    };
    let secret = match url[ui.clone()].find(':') {
        Some(colon) => ui.start + colon + 1..ui.end,
        None => ui,
    };
    let text = &url[secret.clone()];
    if text.is_empty() || is_placeholder(text) {
        return url.to_string();
    }
    format!("{}***{}", &url[..secret.start], &url[secret.end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: &str = "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/";

    #[test]
    fn matches_the_repository_and_below_it_only() {
        let r = RepoUrl::new(E).unwrap();
        assert!(r.matches("https://aws:x@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/"));
        assert!(r.matches(
            "https://CORP-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store"
        ));
        assert!(r.matches("https://aws:${T}@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple?x#y"));
        assert!(!r.matches(
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store2/simple/"
        ));
        assert!(!r.matches(
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/other/simple/"
        ));
        assert!(!r.matches("https://pypi.org/simple/"));
        assert!(
            !r.matches(
                "ftp://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/"
            )
        );
        let local = RepoUrl::new("http://127.0.0.1:9/demo-1.d.codeartifact.x/pypi/r").unwrap();
        assert!(local.matches("http://aws:t@127.0.0.1:9/demo-1.d.codeartifact.x/pypi/r/simple/"));
        assert!(!local.matches("http://127.0.0.1:10/demo-1.d.codeartifact.x/pypi/r/simple/"));
    }

    #[test]
    fn scheme_host_and_port_must_be_the_repositorys_exactly() {
        let r = RepoUrl::new(E).unwrap();
        const H: &str = "corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com";
        assert!(r.matches(&format!("https://{H}:443/pypi/store/simple/")));
        for u in [
            format!("http://{H}/pypi/store/simple/"),
            format!("https://{H}:8443/pypi/store/simple/"),
            format!("https://{H}./pypi/store/simple/"),
            format!("https://{H}.evil.example/pypi/store/simple/"),
            format!("https://{H}@evil.example/pypi/store/simple/"),
            format!("https://{H}\\@evil.example/pypi/store/simple/"),
            format!("https://{}/pypi/store/simple/", H.replace("corp", "%63orp")),
            format!("https://evil.example/{H}/pypi/store/simple/"),
        ] {
            assert!(!r.matches(&u), "{u}");
        }
        let local = RepoUrl::new("http://127.0.0.1:9/h/pypi/r/").unwrap();
        for u in [
            "https://127.0.0.1:9/h/pypi/r/simple/",
            "http://localhost:9/h/pypi/r/simple/",
            "http://127.1:9/h/pypi/r/simple/",
            "http://127.0.0.1/h/pypi/r/simple/",
        ] {
            assert!(!local.matches(u), "{u}");
        }
        assert!(RepoUrl::new("not a url").is_err());
        assert!(RepoUrl::new("ftp://h/x/").is_err());
    }

    #[test]
    fn the_token_goes_in_the_password_place() {
        let t = Token::new("eyJ.a_b-c");
        let got = with_token("https://aws:OLD@h/pypi/r/simple/", &t).unwrap();
        assert_eq!(got.url, "https://aws:eyJ.a_b-c@h/pypi/r/simple/");
        assert_eq!(&got.url[got.password.clone()], "eyJ.a_b-c");
        assert_eq!(got.old_password, Some(12..15));
        assert_eq!(
            with_token("https://h/pypi/r/simple/", &t).unwrap().url,
            "https://aws:eyJ.a_b-c@h/pypi/r/simple/"
        );
        assert_eq!(
            with_token("https://${CODEARTIFACT_AUTH_TOKEN}@h/x", &t)
                .unwrap()
                .url,
            "https://aws:eyJ.a_b-c@h/x"
        );
        assert_eq!(
            with_token("https://me:{auth_token}@h/x", &t).unwrap().url,
            "https://me:eyJ.a_b-c@h/x"
        );
        assert_eq!(
            with_token("https://aws:x@h", &Token::new("a/b=@c"))
                .unwrap()
                .url,
            "https://aws:a%2Fb%3D%40c@h"
        );
        assert_eq!(with_token("not a url", &t), None);
        assert_eq!(
            RepoUrl::new("https://h/pypi/r").unwrap().pip_url(&t),
            "https://aws:eyJ.a_b-c@h/pypi/r/simple/"
        );
    }

    #[test]
    fn placeholders_are_shown_tokens_are_not() {
        assert!(is_placeholder("{auth_token}"));
        assert!(is_placeholder("${AUTH_TOKEN}"));
        assert!(is_placeholder("$AUTH_TOKEN"));
        assert!(!is_placeholder("eyJabc"));
        assert!(!is_placeholder("$"));
        assert_eq!(shown("https://aws:eyJsecret@h/x"), "https://aws:***@h/x");
        assert_eq!(
            shown("https://aws:${AUTH_TOKEN}@h/x"),
            "https://aws:${AUTH_TOKEN}@h/x"
        );
        assert_eq!(shown("https://eyJsecret@h/x"), "https://***@h/x");
        assert_eq!(shown("https://h/x"), "https://h/x");
    }
}
