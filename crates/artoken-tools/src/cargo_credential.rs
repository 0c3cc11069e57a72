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

use std::io::{self, BufRead, Write};

use serde::Deserialize;

use crate::realm::{self, Realm};

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
    /// `--repo NAME`: the configured repository to take the token for, whatever the URL.
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

/// What to do with one request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Get a token: for `repository` when named, else for the recognised `realm`.
    Fetch {
        realm: Option<Realm>,
        repository: Option<String>,
        bearer: bool,
    },
    /// Answer right away.
    Reply(Reply),
}

/// Reads one request line; `extra_args` are the provider's own command-line arguments.
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
    let realm = realm::parse(&req.registry.index_url);
    if realm.is_none() && options.repository.is_none() {
        return Decision::Reply(Reply::Error {
            kind: ErrorKind::UrlNotSupported,
            message: None,
            caused_by: Vec::new(),
        });
    }
    Decision::Fetch {
        realm,
        repository: options.repository,
        bearer: options.bearer,
    }
}

/// Runs the conversation: the hello, then one reply per request line until end of input.
/// `fetch` turns a [`Decision::Fetch`] into a reply.
pub fn serve<R: BufRead, W: Write>(
    input: R,
    mut output: W,
    extra_args: &[String],
    mut fetch: impl FnMut(Option<&Realm>, Option<&str>, bool) -> Reply,
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
            Decision::Fetch {
                realm,
                repository,
                bearer,
            } => fetch(realm.as_ref(), repository.as_deref(), bearer),
        };
        writeln!(output, "{}", reply.to_line())?;
        output.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str =
        "sparse+https://corp-111122223333.d.codeartifact.us-west-2.amazonaws.com/cargo/crates/";

    fn req(kind_and_more: &str) -> String {
        format!(r#"{{"v":1,"registry":{{"index-url":"{INDEX}","name":"corp"}},{kind_and_more}}}"#)
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
            match decide(&line, &[]) {
                Decision::Fetch {
                    realm: Some(r),
                    repository: None,
                    bearer: false,
                } => {
                    assert_eq!(
                        (r.domain.as_str(), r.region.as_str()),
                        ("corp", "us-west-2"),
                        "{line}"
                    );
                    assert_eq!(r.repository.as_deref(), Some("crates"));
                }
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn other_registries_are_not_ours() {
        let line = r#"{"v":1,"registry":{"index-url":"https://github.com/rust-lang/crates.io-index","name":"crates-io"},"kind":"get","operation":"read"}"#;
        let Decision::Reply(r) = decide(line, &[]) else {
            panic!()
        };
        assert_eq!(r.to_line(), r#"{"Err":{"kind":"url-not-supported"}}"#);
        // ... unless a repository is named
        let Decision::Fetch {
            realm, repository, ..
        } = decide(line, &["--repo".into(), "corp".into()])
        else {
            panic!()
        };
        assert_eq!((realm, repository.as_deref()), (None, Some("corp")));
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
        let Decision::Fetch { bearer, .. } = decide(
            &req(r#""kind":"get","operation":"read","args":["cargo-credential","--bearer"]"#),
            &[],
        ) else {
            panic!()
        };
        assert!(bearer);
    }

    #[test]
    fn command_line_and_configured_args_combine() {
        let line =
            req(r#""kind":"get","operation":"read","args":["cargo-credential","--repo","corp"]"#);
        let Decision::Fetch {
            repository, bearer, ..
        } = decide(&line, &["--bearer".into()])
        else {
            panic!()
        };
        assert_eq!((repository.as_deref(), bearer), (Some("corp"), true));
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
        serve(input.as_bytes(), &mut out, &[], |realm, repo, bearer| {
            calls += 1;
            assert_eq!(
                (realm.map(|r| r.domain.as_str()), repo, bearer),
                (Some("corp"), None, false)
            );
            Reply::token("tok", 42, bearer)
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
