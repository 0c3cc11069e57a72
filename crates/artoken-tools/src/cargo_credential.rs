//! Cargo's credential-provider protocol (JSON lines over stdin/stdout), as in the `cargo-credential` crate.
//!
//! Cargo runs the provider as `PROGRAM --cargo-plugin` (the configured arguments come in each
//! request's `args`), reads the hello `{"v":[1]}`, writes one request per line and reads one
//! reply per line:
//!
//! ```text
//! > {"v":[1]}
//! < {"v":1,"registry":{"index-url":"sparse+https://...","name":"corp"},"kind":"get","operation":"read","args":[]}
//! > {"Ok":{"kind":"get","token":"TOKEN","cache":"expires","expiration":1693942857,"operation_independent":true}}
//! ```
//!
//! Cargo sends `token` verbatim as the `Authorization` header. AWS documents CodeArtifact with
//! the bare token there (`cargo:token-from-stdout aws codeartifact get-authorization-token
//! ... --output text`), so that is the default; `--bearer` sends `Bearer TOKEN` instead.
//! Errors are `{"Err":{"kind":"url-not-supported"}}` (another provider may answer),
//! `operation-not-supported` (login/logout: nothing is stored) or `other` with a message.
//! Which index URLs get a token is [`crate::realm::Trust`]'s to say ([`Fetch::spec`]): a
//! registry that is not a configured repository's is `url-not-supported`, `--repo` or not.

use std::io::{self, BufRead, Write};

use artoken_core::RepositorySpec;
use serde::Deserialize;

use crate::realm::{ClientUrl, Trust};

/// The hello line: protocol version 1 only.
pub const HELLO: &str = r#"{"v":[1]}"#;

/// The protocol version this provider speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// A request from cargo (only what the provider reads; other fields are ignored).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct Request {
    pub v: u32,
    pub registry: RegistryInfo,
    /// `get`, `login`, `logout` (others may come with newer cargos).
    #[serde(default)]
    pub kind: String,
    /// For `get`: `read`, `publish`, `yank`, `unyank`, `owners`.
    #[serde(default)]
    pub operation: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct RegistryInfo {
    pub index_url: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub headers: Vec<String>,
}

/// `Err` kinds of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    UrlNotSupported,
    NotFound,
    OperationNotSupported,
    Other,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UrlNotSupported => "url-not-supported",
            ErrorKind::NotFound => "not-found",
            ErrorKind::OperationNotSupported => "operation-not-supported",
            ErrorKind::Other => "other",
        }
    }
}

/// A reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A token cargo may reuse until `expiration` (Unix seconds) for every operation.
    Token { token: String, expiration: i64 },
    Error {
        kind: ErrorKind,
        message: Option<String>,
        caused_by: Vec<String>,
    },
}

impl Reply {
    /// A `get` answer; `bearer` prefixes the token with `Bearer `.
    pub fn token(token: &str, expiration: i64, bearer: bool) -> Reply {
        Reply::Token {
            token: if bearer {
                format!("Bearer {token}")
            } else {
                token.to_string()
            },
            expiration,
        }
    }

    /// "Not a registry of mine": cargo may ask another provider.
    pub fn url_not_supported() -> Reply {
        Reply::Error {
            kind: ErrorKind::UrlNotSupported,
            message: None,
            caused_by: Vec::new(),
        }
    }

    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Reply {
        Reply::Error {
            kind,
            message: Some(message.into()),
            caused_by: Vec::new(),
        }
    }

    /// A failure, its message and the chain of causes.
    pub fn other(message: impl Into<String>, caused_by: Vec<String>) -> Reply {
        Reply::Error {
            kind: ErrorKind::Other,
            message: Some(message.into()),
            caused_by,
        }
    }

    /// The JSON line (no newline).
    pub fn to_line(&self) -> String {
        let v = match self {
            Reply::Token { token, expiration } => serde_json::json!({"Ok": {
                "kind": "get",
                "token": token,
                "cache": "expires",
                "expiration": expiration,
                "operation_independent": true,
            }}),
            Reply::Error {
                kind,
                message,
                caused_by,
            } => {
                let mut e = serde_json::Map::new();
                e.insert("kind".into(), kind.as_str().into());
                if let Some(m) = message {
                    e.insert("message".into(), m.as_str().into());
                }
                if !caused_by.is_empty() {
                    e.insert("caused-by".into(), caused_by.clone().into());
                }
                serde_json::json!({ "Err": e })
            }
        };
        v.to_string()
    }
}

/// Options from the provider's arguments (`credential-provider = "artoken cargo-credential
/// --bearer"` gives `args: ["cargo-credential", "--bearer"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--repo NAME`: the configured repository to take the token for (the index URL must be
    /// its host).
    pub repository: Option<String>,
    /// `--bearer`: send `Bearer TOKEN`.
    pub bearer: bool,
}

/// Parses provider arguments; a leading `cargo-credential` and `--cargo-plugin` are skipped.
pub fn parse_options<S: AsRef<str>>(args: &[S]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter().map(AsRef::as_ref).peekable();
    if it.peek() == Some(&"cargo-credential") {
        it.next();
    }
    while let Some(arg) = it.next() {
        match arg.split_once('=') {
            Some(("--repo" | "--repository", v)) if !v.is_empty() => {
                o.repository = Some(v.to_string())
            }
            _ => match arg {
                "--cargo-plugin" => {}
                "--bearer" => o.bearer = true,
                "--repo" | "--repository" => {
                    o.repository = Some(
                        it.next()
                            .ok_or_else(|| {
                                format!("artoken cargo-credential: {arg} needs a repository name")
                            })?
                            .to_string(),
                    )
                }
                _ => {
                    return Err(format!(
                        "artoken cargo-credential: unknown argument {arg:?} (expected --repo NAME or --bearer)"
                    ));
                }
            },
        }
    }
    Ok(o)
}

/// A `get` to answer with a token, if the index URL may have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The registry's index URL (a CodeArtifact repository's, by its shape).
    pub url: ClientUrl,
    /// `--repo NAME`: this configured repository's settings (the URL must be its host).
    pub repository: Option<String>,
    pub bearer: bool,
}

impl Fetch {
    /// The spec to take the token for, or the reply that declines: `url-not-supported` unless
    /// [`Trust`] gives the index URL a token (for the named repository, with `--repo`).
    pub fn spec(&self, trust: &Trust) -> Result<RepositorySpec, Reply> {
        let spec = match &self.repository {
            Some(name) if !trust.has(name) => {
                return Err(Reply::other(
                    format!(
                        "artoken cargo-credential: --repo {name:?} is not a configured repository (configured: {})",
                        trust.names().join(", ")
                    ),
                    vec![],
                ));
            }
            Some(name) => trust.spec_for_named(name, &self.url),
            None => trust.spec_for(&self.url),
        };
        spec.ok_or_else(Reply::url_not_supported)
    }
}

/// What to do with one request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Maybe a token: [`Fetch::spec`] decides with the loaded config.
    Fetch(Fetch),
    /// Answer right away.
    Reply(Reply),
}

/// Reads one request line; `extra_args` are the provider's own command-line arguments. Index
/// URLs that name no CodeArtifact host are declined here, before any config is read.
pub fn decide(line: &str, extra_args: &[String]) -> Decision {
    let req: Request = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => {
            return Decision::Reply(Reply::other(
                format!("artoken cannot read cargo's request: {e}"),
                vec![],
            ));
        }
    };
    if req.v != PROTOCOL_VERSION {
        return Decision::Reply(Reply::other(
            format!("unsupported protocol version {}", req.v),
            vec![],
        ));
    }
    match req.kind.as_str() {
        "get" => {}
        "login" | "logout" => {
            return Decision::Reply(Reply::error(
                ErrorKind::OperationNotSupported,
                format!(
                    "artoken fetches CodeArtifact tokens on demand from your AWS credentials; there is nothing to {}",
                    if req.kind == "login" {
                        "log in to"
                    } else {
                        "log out of"
                    }
                ),
            ));
        }
        _ => {
            return Decision::Reply(Reply::error(
                ErrorKind::OperationNotSupported,
                format!("artoken does not support {:?}", req.kind),
            ));
        }
    }
    // The provider's own command line, then the configured `args` (each may start with
    // `cargo-credential`); later settings win.
    let options = match parse_options(extra_args).and_then(|cli| {
        let conf = parse_options(&req.args)?;
        Ok(Options {
            repository: conf.repository.or(cli.repository),
            bearer: cli.bearer || conf.bearer,
        })
    }) {
        Ok(o) => o,
        Err(e) => return Decision::Reply(Reply::other(e, vec![])),
    };
    match ClientUrl::cargo(&req.registry.index_url) {
        Some(url) => Decision::Fetch(Fetch {
            url,
            repository: options.repository,
            bearer: options.bearer,
        }),
        None => Decision::Reply(Reply::url_not_supported()),
    }
}

/// Runs the conversation: the hello, then one reply per request line until end of input.
/// `fetch` turns a [`Decision::Fetch`] into a reply (with [`Fetch::spec`] first).
pub fn serve<R: BufRead, W: Write>(
    input: R,
    mut output: W,
    extra_args: &[String],
    mut fetch: impl FnMut(&Fetch) -> Reply,
) -> io::Result<()> {
    writeln!(output, "{HELLO}")?;
    output.flush()?;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match decide(&line, extra_args) {
            Decision::Reply(r) => r,
            Decision::Fetch(f) => fetch(&f),
        };
        writeln!(output, "{}", reply.to_line())?;
        output.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const HOST: &str = "corp-111122223333.d.codeartifact.us-west-2.amazonaws.com";
    const INDEX: &str =
        "sparse+https://corp-111122223333.d.codeartifact.us-west-2.amazonaws.com/cargo/crates/";

    fn req(kind_and_more: &str) -> String {
        format!(r#"{{"v":1,"registry":{{"index-url":"{INDEX}","name":"corp"}},{kind_and_more}}}"#)
    }

    /// `corp` configured as `corp` (cargo) and `py` (pypi); `other` for another domain.
    fn trust() -> Trust {
        let mut repos = BTreeMap::new();
        for (name, domain, format) in [
            ("corp", "corp", artoken_core::Format::Cargo),
            ("py", "corp", artoken_core::Format::Pypi),
            ("other", "other", artoken_core::Format::Cargo),
        ] {
            let mut s = RepositorySpec::new(name, domain);
            s.format = format;
            repos.insert(name.to_string(), s);
        }
        Trust::new(repos, None, None)
    }

    fn fetch(d: Decision) -> Fetch {
        match d {
            Decision::Fetch(f) => f,
            Decision::Reply(r) => panic!("{}", r.to_line()),
        }
    }

    #[test]
    fn the_documented_read_and_publish_requests_fetch() {
        for line in [
            req(r#""kind":"get","operation":"read","args":[]"#),
            req(r#""kind":"get","operation":"read""#),
            req(
                r#""kind":"get","operation":"publish","name":"sample","vers":"0.1.0","cksum":"abc","args":[]"#,
            ),
            req(r#""kind":"get","operation":"owners","name":"sample""#),
            // unknown fields anywhere are ignored, as cargo-credential does
            format!(
                r#"{{"extra-1":true,"v":1,"registry":{{"index-url":"{INDEX}","extra-2":true,"headers":["WWW-Authenticate: Cargo login_url=x"]}},"kind":"get","operation":"read"}}"#
            ),
        ] {
            let f = fetch(decide(&line, &[]));
            let r = f.url.realm();
            assert_eq!(
                (r.domain.as_str(), r.region.as_str()),
                ("corp", "us-west-2"),
                "{line}"
            );
            assert_eq!(r.repository.as_deref(), Some("crates"));
            assert_eq!((f.repository.as_deref(), f.bearer), (None, false));
            let spec = f.spec(&trust()).unwrap();
            assert_eq!(
                (spec.name.as_str(), spec.region.as_deref()),
                ("corp", Some("us-west-2"))
            );
        }
    }

    #[test]
    fn other_registries_are_not_ours_even_with_a_repository_named() {
        let not_supported = r#"{"Err":{"kind":"url-not-supported"}}"#;
        for url in [
            "https://github.com/rust-lang/crates.io-index",
            "sparse+https://index.crates.io/",
            "sparse+https://crates.example.com/index/",
        ] {
            let line = format!(
                r#"{{"v":1,"registry":{{"index-url":"{url}","name":"x"}},"kind":"get","operation":"read"}}"#
            );
            for args in [vec![], vec!["--repo".to_string(), "corp".to_string()]] {
                let Decision::Reply(r) = decide(&line, &args) else {
                    panic!("{url} {args:?}")
                };
                assert_eq!(r.to_line(), not_supported, "{url}");
            }
        }
        // CodeArtifact-shaped, but not a configured repository's https host: declined by Trust
        let t = trust();
        for (index, args) in [
            (INDEX.replace("corp-", "evil-"), vec![]),
            (INDEX.replace("https://", "http://"), vec![]),
            (INDEX.replace(".com/", ".com:8443/"), vec![]),
            (
                format!("sparse+http://127.0.0.1:1/{HOST}/cargo/crates/"),
                vec![],
            ),
            (INDEX.to_string(), vec!["--repo", "other"]),
            (INDEX.replace("corp-", "other-"), vec!["--repo", "corp"]),
        ] {
            let line = format!(
                r#"{{"v":1,"registry":{{"index-url":"{index}"}},"kind":"get","operation":"read"}}"#
            );
            let args: Vec<String> = args.into_iter().map(String::from).collect();
            let reply = fetch(decide(&line, &args)).spec(&t).unwrap_err();
            assert_eq!(reply.to_line(), not_supported, "{index} {args:?}");
        }
        // a name that is not configured says so
        let reply = fetch(decide(&req(r#""kind":"get""#), &["--repo=nope".into()]))
            .spec(&t)
            .unwrap_err();
        let line = reply.to_line();
        assert!(
            line.contains(r#""kind":"other""#)
                && line.contains(r#"--repo \"nope\" is not a configured repository"#)
                && line.contains("corp, other, py"),
            "{line}"
        );
    }

    #[test]
    fn a_named_repository_is_used_for_its_own_host() {
        let f = fetch(decide(
            &req(r#""kind":"get""#),
            &["--repo".into(), "py".into()],
        ));
        assert_eq!(f.repository.as_deref(), Some("py"));
        assert_eq!(f.spec(&trust()).unwrap().name, "py");
    }

    #[test]
    fn login_logout_and_unknown_kinds_are_not_supported() {
        for (kind, word) in [
            (
                r#""kind":"login","token":"x","login-url":"http://r/login","args":[]"#,
                "log in to",
            ),
            (r#""kind":"logout""#, "log out of"),
            (r#""kind":"frobnicate""#, "frobnicate"),
        ] {
            let Decision::Reply(r) = decide(&req(kind), &[]) else {
                panic!("{kind}")
            };
            let v: serde_json::Value = serde_json::from_str(&r.to_line()).unwrap();
            assert_eq!(v["Err"]["kind"], "operation-not-supported", "{kind}");
            assert!(v["Err"]["message"].as_str().unwrap().contains(word), "{v}");
        }
    }

    #[test]
    fn bad_lines_and_versions_are_other_errors() {
        for line in [
            "{not json",
            r#"{"v":2,"registry":{"index-url":"x"},"kind":"get"}"#,
        ] {
            let Decision::Reply(r) = decide(line, &[]) else {
                panic!("{line}")
            };
            let v: serde_json::Value = serde_json::from_str(&r.to_line()).unwrap();
            assert_eq!(v["Err"]["kind"], "other", "{line}");
        }
        let Decision::Reply(r) = decide(
            &req(r#""kind":"get","operation":"read","args":["--nope"]"#),
            &[],
        ) else {
            panic!()
        };
        assert!(
            r.to_line().contains("unknown argument \\\"--nope\\\""),
            "{}",
            r.to_line()
        );
    }

    #[test]
    fn options_come_from_the_configured_args() {
        assert_eq!(parse_options::<&str>(&[]), Ok(Options::default()));
        assert_eq!(
            parse_options(&["cargo-credential", "--bearer", "--repo=corp"]),
            Ok(Options {
                repository: Some("corp".into()),
                bearer: true
            })
        );
        assert_eq!(
            parse_options(&["--repository", "x"])
                .unwrap()
                .repository
                .as_deref(),
            Some("x")
        );
        assert!(parse_options(&["--repo"]).is_err());
        let f = fetch(decide(
            &req(r#""kind":"get","operation":"read","args":["cargo-credential","--bearer"]"#),
            &[],
        ));
        assert!(f.bearer);
    }

    #[test]
    fn command_line_and_configured_args_combine() {
        let line =
            req(r#""kind":"get","operation":"read","args":["cargo-credential","--repo","corp"]"#);
        let f = fetch(decide(&line, &["--bearer".into()]));
        assert_eq!((f.repository.as_deref(), f.bearer), (Some("corp"), true));
    }

    #[test]
    fn replies_match_cargo_credential_serialization() {
        let json = |r: Reply| serde_json::from_str::<serde_json::Value>(&r.to_line()).unwrap();
        assert_eq!(
            json(Reply::token("value", 1693942857, false)),
            serde_json::json!({"Ok": {"kind": "get", "token": "value", "cache": "expires",
                "expiration": 1693942857, "operation_independent": true}})
        );
        assert_eq!(json(Reply::token("t", 1, true))["Ok"]["token"], "Bearer t");
        assert_eq!(
            json(Reply::other("E3", vec!["E2".into(), "E1".into()])),
            serde_json::json!({"Err": {"kind": "other", "message": "E3", "caused-by": ["E2", "E1"]}})
        );
        assert!(!Reply::token("t", 1, false).to_line().contains('\n'));
    }

    #[test]
    fn a_conversation_says_hello_then_answers_each_line() {
        let input = format!(
            "{}\n\n{}\n",
            req(r#""kind":"get","operation":"read""#),
            req(r#""kind":"logout""#)
        );
        let mut out = Vec::new();
        let mut calls = 0;
        serve(input.as_bytes(), &mut out, &[], |f| {
            calls += 1;
            assert_eq!(
                (
                    f.url.realm().domain.as_str(),
                    f.repository.as_deref(),
                    f.bearer
                ),
                ("corp", None, false)
            );
            Reply::token("tok", 42, f.bearer)
        })
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], HELLO);
        assert!(
            lines[1].starts_with(r#"{"Ok":"#) && lines[1].contains(r#""token":"tok""#),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains("operation-not-supported"));
        assert_eq!(calls, 1);
    }
}
