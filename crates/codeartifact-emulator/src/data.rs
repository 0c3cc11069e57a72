//! Data-plane dispatch: parses repository endpoint paths, checks the token, hands over to
//! the PyPI, npm or Maven handlers.
//!
//! Token failures, as chosen (and as AWS behaves where known): no credentials at all get
//! `401` with a `WWW-Authenticate` challenge (pip and uv then ask their keyring; Maven's wagon
//! only sends its server credentials after one); a token the emulator did not issue, or one
//! that expired, gets `404` on PyPI routes (what CodeArtifact does, see astral-sh/uv#11899)
//! and `401` on npm and Maven routes. Every refusal carries
//! `x-emulator-auth: missing|unknown|expired` so tests and tools can tell them apart.

use std::sync::Arc;

use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::config::Format;
use crate::state::{State, TokenCheck};
use crate::{maven, npm, pypi};

/// A parsed `/{domain}-{owner}.d.codeartifact.{region}.amazonaws.com/{format}/{repo}/{rest}`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RepoPath<'a> {
    pub host: &'a str,
    pub domain: &'a str,
    pub owner: &'a str,
    pub format: &'a str,
    pub repo: &'a str,
    pub rest: &'a str,
}

pub(crate) fn parse_path(path: &str) -> Option<RepoPath<'_>> {
    let mut parts = path.trim_start_matches('/').splitn(4, '/');
    let host = parts.next()?;
    let format = parts.next()?;
    let repo = parts.next()?;
    let rest = parts.next().unwrap_or("");
    let (prefix, _) = host.split_once(".d.codeartifact.")?;
    let (domain, owner) = prefix.rsplit_once('-')?;
    if owner.len() != 12 || !owner.bytes().all(|b| b.is_ascii_digit()) || repo.is_empty() {
        return None;
    }
    Some(RepoPath {
        host,
        domain,
        owner,
        format,
        repo,
        rest,
    })
}

/// The token a request carries: Basic `aws:TOKEN` (pip, uv, twine) or `Bearer TOKEN` (npm, cargo).
pub(crate) fn request_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (_user, password) = decoded.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

fn not_found(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain")],
        format!("{message}\n"),
    )
        .into_response()
}

fn refused(format: Format, check: TokenCheck) -> Response {
    let reason = match check {
        TokenCheck::Missing => "missing",
        TokenCheck::Unknown => "unknown",
        TokenCheck::Expired => "expired",
        TokenCheck::Valid => "valid",
    };
    let (status, challenge) = match (format, check) {
        (_, TokenCheck::Missing) => (StatusCode::UNAUTHORIZED, true),
        (Format::Npm | Format::Maven, _) => (StatusCode::UNAUTHORIZED, false),
        _ => (StatusCode::NOT_FOUND, false),
    };
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE.as_str(), "application/json"),
            ("x-emulator-auth", reason),
        ],
        serde_json::json!({ "error": format!("authorization token {reason}") }).to_string(),
    )
        .into_response();
    if challenge {
        let value = if format == Format::Npm {
            "Bearer realm=\"codeartifact\""
        } else {
            "Basic realm=\"codeartifact\""
        };
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, value.parse().unwrap());
    }
    resp
}

/// Fallback handler: every path that is not control plane or admin.
pub(crate) async fn handle(AxState(state): AxState<Arc<State>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let Some(rp) = parse_path(&path) else {
        state.record("data:unknown-path");
        return not_found("no such route on the CodeArtifact emulator");
    };
    let Some(repository) = state.repository(rp.domain, rp.owner, rp.repo) else {
        state.record("data:unknown-repository");
        return not_found(&format!(
            "repository {} not found in domain {} (owner {})",
            rp.repo, rp.domain, rp.owner
        ));
    };
    let format = repository.config.format;
    if format.as_str() != rp.format {
        return not_found(&format!("repository {} is a {format} repository", rp.repo));
    }
    let token = request_token(req.headers());
    let check = state.check_token(token.as_deref(), rp.domain, rp.owner);
    if check != TokenCheck::Valid {
        state.record(&format!("{format}:refused"));
        return refused(format, check);
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let base = format!("http://{host}/{}/{}/{}/", rp.host, rp.format, rp.repo);
    let rest = rp.rest.to_string();
    match format {
        Format::Pypi => pypi::handle(&state, repository, &base, &rest, req).await,
        Format::Npm => npm::handle(&state, repository, &base, &rest, req).await,
        Format::Maven => maven::handle(&state, repository, &rest, req).await,
        other => not_found(&format!("the emulator serves no {other} data plane")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoint_paths() {
        let p = parse_path(
            "/my-dom-2-012345678901.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/x/",
        )
        .unwrap();
        assert_eq!(p.domain, "my-dom-2");
        assert_eq!(p.owner, "012345678901");
        assert_eq!(p.format, "pypi");
        assert_eq!(p.repo, "store");
        assert_eq!(p.rest, "simple/x/");
        assert!(parse_path("/foo/pypi/store/").is_none());
        assert!(parse_path("/d-12345.d.codeartifact.x/pypi/store/").is_none());
    }

    #[test]
    fn reads_basic_and_bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(request_token(&h).as_deref(), Some("abc"));
        let b = base64::engine::general_purpose::STANDARD.encode("aws:tok:en");
        h.insert(header::AUTHORIZATION, format!("Basic {b}").parse().unwrap());
        assert_eq!(request_token(&h).as_deref(), Some("tok:en"));
        h.insert(header::AUTHORIZATION, "Digest x".parse().unwrap());
        assert_eq!(request_token(&h), None);
    }
}
