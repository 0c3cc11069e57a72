//! STS at `POST /` (awsQuery protocol, XML replies): `GetCallerIdentity` (SigV4 service `sts`)
//! and `AssumeRoleWithWebIdentity` (unsigned: the JWT is the credential), the temporary
//! credentials it hands out (accepted, with their session token, until they expire), and the
//! caller identity (account, user or assumed role, ARN) of every key.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

use crate::config::{AccessKey, DEFAULT_ACCOUNT};
use crate::sigv4::{self, SigError, Verified};
use crate::state::State;

/// The STS API version the emulator speaks.
const VERSION: &str = "2011-06-15";
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// Largest form body read.
const MAX_BODY: usize = 64 * 1024;
/// What an assumed role's user name starts with (`assumed-role/ROLE/SESSION`).
const ASSUMED: &str = "assumed-role/";
/// A session's life when `DurationSeconds` is not given, and the bounds AWS sets.
const DEFAULT_SESSION_SECS: u64 = 3600;
const MIN_SESSION_SECS: u64 = 900;
const MAX_SESSION_SECS: u64 = 43_200;

/// Temporary credentials from `AssumeRoleWithWebIdentity`: an `ASIA` key whose caller is the
/// assumed role (`user` is `assumed-role/ROLE/SESSION`), valid together with its session token
/// until it expires.
#[derive(Debug, Clone)]
pub struct Session {
    pub key: AccessKey,
    pub session_token: String,
    pub expires_at: SystemTime,
}

/// The configured keys and every session's, for [`verify`].
pub(crate) fn known_keys(state: &State) -> Vec<AccessKey> {
    let mut keys = state.access_keys.clone();
    keys.extend(state.sessions.lock().unwrap().iter().map(|s| s.key.clone()));
    keys
}

/// [`sigv4::verify`] against `keys` (from [`known_keys`]); a session's key is accepted only with
/// its own session token in `x-amz-security-token` and before it expires (AWS's "security token
/// included in the request is invalid" otherwise).
pub(crate) fn verify<'k>(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    keys: &'k [AccessKey],
    service: &str,
    state: &State,
) -> Result<Verified<'k>, SigError> {
    let v = sigv4::verify(method, uri, headers, body, keys, service, state.now())?;
    let sessions = state.sessions.lock().unwrap();
    if let Some(s) = sessions.iter().find(|s| s.key.id == v.key.id) {
        let sent = headers
            .get("x-amz-security-token")
            .and_then(|h| h.to_str().ok());
        if sent != Some(s.session_token.as_str()) || state.now() >= s.expires_at {
            return Err(SigError::UnknownKey);
        }
    }
    Ok(v)
}

/// Account of the key's owner.
pub(crate) fn caller_account(key: &AccessKey) -> &str {
    key.account.as_deref().unwrap_or(DEFAULT_ACCOUNT)
}

/// IAM user name of the key's owner.
pub(crate) fn caller_user(key: &AccessKey) -> &str {
    key.user.as_deref().unwrap_or("emulator")
}

/// `arn:aws:iam::ACCOUNT:user/USER`, or `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
pub(crate) fn caller_arn(key: &AccessKey) -> String {
    let user = caller_user(key);
    if user.starts_with(ASSUMED) {
        return format!("arn:aws:sts::{}:{user}", caller_account(key));
    }
    format!("arn:aws:iam::{}:user/{user}", caller_account(key))
}

/// `prefix` + 17 characters derived from `seed`, as IAM ids look.
fn stable_id(prefix: &str, seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(seed.as_bytes());
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{prefix}{tail}")
}

/// A stable IAM user id (`AIDA` + 17 characters) derived from the access key id, or for an
/// assumed role `AROA...:SESSION`.
pub(crate) fn caller_user_id(key: &AccessKey) -> String {
    if let Some((role, session)) = caller_user(key)
        .strip_prefix(ASSUMED)
        .and_then(|r| r.rsplit_once('/'))
    {
        let id = stable_id("AROA", &format!("{}:{role}", caller_account(key)));
        return format!("{id}:{session}");
    }
    stable_id("AIDA", &key.id)
}

/// A failed STS request, rendered as awsQuery XML.
#[derive(Debug, thiserror::Error)]
enum StsError {
    #[error(transparent)]
    Auth(#[from] SigError),
    #[error("Missing Action")]
    MissingAction,
    #[error("Could not find operation {action} for version {version}")]
    InvalidAction { action: String, version: String },
    #[error("Request body is too large")]
    BodyTooLarge,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidIdentityToken(String),
    #[error("{0}")]
    ExpiredToken(String),
}

impl StsError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            StsError::Auth(SigError::Missing) => {
                (StatusCode::FORBIDDEN, "MissingAuthenticationToken")
            }
            StsError::Auth(SigError::Incomplete(_)) => {
                (StatusCode::BAD_REQUEST, "IncompleteSignature")
            }
            StsError::Auth(SigError::UnknownKey) => (StatusCode::FORBIDDEN, "InvalidClientTokenId"),
            StsError::Auth(SigError::Mismatch | SigError::Expired(_) | SigError::BadScope(_)) => {
                (StatusCode::FORBIDDEN, "SignatureDoesNotMatch")
            }
            StsError::MissingAction => (StatusCode::BAD_REQUEST, "MissingAction"),
            StsError::InvalidAction { .. } => (StatusCode::BAD_REQUEST, "InvalidAction"),
            StsError::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge"),
            StsError::Validation(_) => (StatusCode::BAD_REQUEST, "ValidationError"),
            StsError::InvalidIdentityToken(_) => (StatusCode::BAD_REQUEST, "InvalidIdentityToken"),
            StsError::ExpiredToken(_) => (StatusCode::BAD_REQUEST, "ExpiredTokenException"),
        }
    }

    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let request_id = crate::request_id();
        let body = format!(
            "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
            xml_escape(&self.to_string())
        );
        xml_response(status, request_id, body)
    }
}

fn xml_response(status: StatusCode, request_id: String, body: String) -> Response {
    (
        status,
        [
            ("content-type", "text/xml".to_string()),
            ("x-amzn-requestid", request_id),
        ],
        body,
    )
        .into_response()
}

/// `POST /`: STS actions (only `GetCallerIdentity`).
pub(crate) async fn handle(AxState(state): AxState<Arc<State>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            state.record("sts:invalid");
            return StsError::BodyTooLarge.into_response();
        }
    };
    let mut params = sigv4::decode_pairs(parts.uri.query().unwrap_or(""), false);
    params.extend(sigv4::decode_pairs(&String::from_utf8_lossy(&body), true));
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = param("Action");
    match action {
        Some(a @ ("GetCallerIdentity" | "AssumeRoleWithWebIdentity")) => state.record(a),
        _ => state.record("sts:invalid"),
    }
    if action == Some("AssumeRoleWithWebIdentity") {
        // Unsigned, as the SDKs send it: the web identity token is the credential.
        return match assume_role_with_web_identity(&state, &params) {
            Ok(body) => {
                tracing::info!(operation = "AssumeRoleWithWebIdentity", status = 200, "sts");
                xml_response(StatusCode::OK, crate::request_id(), body)
            }
            Err(e) => {
                tracing::info!(operation = "AssumeRoleWithWebIdentity", error = %e, "sts: refused");
                e.into_response()
            }
        };
    }
    let keys = known_keys(&state);
    let verified = match verify(
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        &keys,
        "sts",
        &state,
    ) {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(operation = "GetCallerIdentity", error = %e, "sts: refused");
            return StsError::Auth(e).into_response();
        }
    };
    match action {
        Some("GetCallerIdentity") => {}
        None => return StsError::MissingAction.into_response(),
        Some(other) => {
            return StsError::InvalidAction {
                action: other.to_string(),
                version: param("Version").unwrap_or(VERSION).to_string(),
            }
            .into_response();
        }
    }
    let key = verified.key;
    tracing::info!(operation = "GetCallerIdentity", status = 200, "sts");
    let request_id = crate::request_id();
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"{XMLNS}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        xml_escape(&caller_arn(key)),
        xml_escape(&caller_user_id(key)),
        xml_escape(caller_account(key)),
    );
    xml_response(StatusCode::OK, request_id, body)
}

fn validation(field: &str, value: &str, constraint: &str) -> StsError {
    StsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    ))
}

/// `AssumeRoleWithWebIdentity`: any JWT-shaped token (three base64url parts, the first two
/// JSON objects, with a `sub` and an `exp` still ahead) for any well-formed role ARN. The
/// signature and issuer are not checked: the emulator trusts every identity provider. Answers
/// with a new session's credentials (see [`Session`]).
fn assume_role_with_web_identity(
    state: &State,
    params: &[(String, String)],
) -> Result<String, StsError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &'static str, field: &'static str| {
        param(name).ok_or_else(|| {
            StsError::Validation(format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ))
        })
    };
    let role_arn = required("RoleArn", "roleArn")?;
    let session_name = required("RoleSessionName", "roleSessionName")?;
    let jwt = required("WebIdentityToken", "webIdentityToken")?;
    let (account, role) = parse_role_arn(role_arn)
        .ok_or_else(|| StsError::Validation("Request ARN is invalid".into()))?;
    let name_ok = (2..=64).contains(&session_name.len())
        && session_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !name_ok {
        return Err(validation(
            "roleSessionName",
            session_name,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
        ));
    }
    let secs = match param("DurationSeconds") {
        None => DEFAULT_SESSION_SECS,
        Some(raw) => match raw.parse::<u64>() {
            Ok(s) if (MIN_SESSION_SECS..=MAX_SESSION_SECS).contains(&s) => s,
            _ => {
                return Err(validation(
                    "durationSeconds",
                    raw,
                    "Member must have value between 900 and 43200",
                ));
            }
        },
    };
    let claims = jwt_claims(jwt).ok_or_else(|| {
        StsError::InvalidIdentityToken(
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)".into(),
        )
    })?;
    let now = state.now();
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let exp = claims.get("exp").and_then(serde_json::Value::as_u64);
    match exp {
        None => {
            return Err(StsError::InvalidIdentityToken(
                "Missing a required claim: exp".into(),
            ));
        }
        Some(e) if e <= now_secs => {
            return Err(StsError::ExpiredToken(format!(
                "Token expired: current date/time {now_secs} must be before the expiration date/time {e}"
            )));
        }
        Some(_) => {}
    }
    let sub = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| StsError::InvalidIdentityToken("Missing a required claim: sub".into()))?;
    let audience = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a.clone(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .find_map(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let provider = claims
        .get("iss")
        .and_then(serde_json::Value::as_str)
        .map(|i| i.trim_start_matches("https://").to_string())
        .unwrap_or_default();

    let user = format!("{ASSUMED}{role}/{session_name}");
    let key = AccessKey {
        id: random_id(),
        secret: random_b64(30),
        account: Some(account.to_string()),
        user: Some(user),
        deny: Vec::new(),
    };
    let session = Session {
        session_token: format!("IQoJb3JpZ2luX2VjE{}", random_b64(240)),
        expires_at: now + Duration::from_secs(secs),
        key,
    };
    let arn = caller_arn(&session.key);
    let role_id = caller_user_id(&session.key);
    let expiration = iso8601(session.expires_at);
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"{XMLNS}\">\n  <AssumeRoleWithWebIdentityResult>\n    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n    <Audience>{}</Audience>\n    <AssumedRoleUser>\n      <Arn>{}</Arn>\n      <AssumedRoleId>{}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <SessionToken>{}</SessionToken>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <Expiration>{expiration}</Expiration>\n      <AccessKeyId>{}</AccessKeyId>\n    </Credentials>\n    <Provider>{}</Provider>\n  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n",
        xml_escape(sub),
        xml_escape(&audience),
        xml_escape(&arn),
        xml_escape(&role_id),
        xml_escape(&session.session_token),
        xml_escape(&session.key.secret),
        xml_escape(&session.key.id),
        xml_escape(&provider),
        crate::request_id(),
    );
    let mut sessions = state.sessions.lock().unwrap();
    sessions.retain(|s| s.expires_at > now);
    sessions.push(session);
    Ok(body)
}

/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME` -> (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    let ok = partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && arn.len() <= 2048
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b));
    ok.then_some((account, name))
}

/// The claims of a JWT-shaped token (`header.payload.signature`, base64url, header and payload
/// JSON objects), the signature unchecked.
fn jwt_claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    let [header, payload, _signature] = parts[..] else {
        return None;
    };
    let decode = |p: &str| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    };
    decode(header)?;
    decode(payload)
}

/// `ASIA` + 16 random characters, as temporary access key ids look.
fn random_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let tail: String = (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("ASIA{tail}")
}

fn random_b64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `2026-11-23T21:00:00Z`.
fn iso8601(t: SystemTime) -> String {
    let d = sigv4::format_amz_date(t); // YYYYMMDDTHHMMSSZ
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[9..11],
        &d[11..13],
        &d[13..15]
    )
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use axum::body::Body;
    use axum::http::{HeaderMap, HeaderValue, Method, Uri};

    use super::*;
    use crate::config::{EmulatorConfig, Faults};

    const FORM: &str = "Action=GetCallerIdentity&Version=2011-06-15";

    fn state() -> Arc<State> {
        let config = EmulatorConfig {
            access_keys: vec![AccessKey {
                id: "AKIDSTSTEST".into(),
                secret: "sts-secret".into(),
                account: Some("123456789012".into()),
                user: Some("alice".into()),
                deny: Vec::new(),
            }],
            ..EmulatorConfig::default()
        };
        Arc::new(State::new(&config).unwrap())
    }

    fn request(body: &str, secret: &str, service: &str, at: SystemTime) -> Request {
        let uri: Uri = "http://sts.localhost:4566/".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        sigv4::sign(
            &Method::POST,
            &uri,
            &mut headers,
            body.as_bytes(),
            "AKIDSTSTEST",
            secret,
            "us-east-1",
            service,
            at,
        );
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/")
            .body(Body::from(body.to_string()))
            .unwrap();
        *req.headers_mut() = headers;
        req
    }

    async fn call(state: &Arc<State>, req: Request) -> (StatusCode, String) {
        let resp = handle(AxState(state.clone()), req).await;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
        let start = s.find(open).map(|i| i + open.len()).unwrap_or(0);
        let end = s[start..].find(close).map(|i| start + i).unwrap_or(s.len());
        &s[start..end]
    }

    #[tokio::test]
    async fn answers_a_signed_get_caller_identity() {
        let state = state();
        let (status, body) = call(
            &state,
            request(FORM, "sts-secret", "sts", SystemTime::now()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.starts_with(&format!("<GetCallerIdentityResponse xmlns=\"{XMLNS}\">")));
        assert_eq!(
            between(&body, "<Arn>", "</Arn>"),
            "arn:aws:iam::123456789012:user/alice"
        );
        assert_eq!(between(&body, "<Account>", "</Account>"), "123456789012");
        let user_id = between(&body, "<UserId>", "</UserId>");
        assert!(
            user_id.starts_with("AIDA") && user_id.len() == 21,
            "{user_id}"
        );
        assert_eq!(between(&body, "<RequestId>", "</RequestId>").len(), 36);
        assert_eq!(state.stats().requests.get("GetCallerIdentity"), Some(&1));
    }

    #[tokio::test]
    async fn refuses_bad_signatures_in_the_query_xml_shape() {
        let state = state();
        let now = SystemTime::now();
        for (req, status, code) in [
            (
                request(FORM, "wrong", "sts", now),
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
            ),
            (
                request(FORM, "sts-secret", "codeartifact", now),
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
            ),
            (
                request(FORM, "sts-secret", "sts", now - Duration::from_secs(3600)),
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
            ),
            (
                request(
                    "Action=AssumeRole&Version=2011-06-15",
                    "sts-secret",
                    "sts",
                    now,
                ),
                StatusCode::BAD_REQUEST,
                "InvalidAction",
            ),
            (
                request("Version=2011-06-15", "sts-secret", "sts", now),
                StatusCode::BAD_REQUEST,
                "MissingAction",
            ),
        ] {
            let (got, body) = call(&state, req).await;
            assert_eq!(got, status, "{body}");
            assert!(body.starts_with("<ErrorResponse"), "{body}");
            assert_eq!(between(&body, "<Type>", "</Type>"), "Sender");
            assert_eq!(between(&body, "<Code>", "</Code>"), code, "{body}");
            assert!(!between(&body, "<Message>", "</Message>").is_empty());
        }
        // Expired: AWS's message.
        let (_, body) = call(
            &state,
            request(FORM, "sts-secret", "sts", now - Duration::from_secs(3600)),
        )
        .await;
        assert!(body.contains("<Message>Signature expired: "), "{body}");

        // The emulator's skewed clock counts, not the machine's.
        state.set_faults(Faults {
            clock_skew_secs: 3600,
            ..Faults::default()
        });
        let (got, _) = call(&state, request(FORM, "sts-secret", "sts", now)).await;
        assert_eq!(got, StatusCode::FORBIDDEN);
    }

    /// A JWT-shaped token whose claims are `claims` (signature not checked).
    fn jwt(claims: serde_json::Value) -> String {
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.c2ln",
            b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
            b64(&claims)
        )
    }

    fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn assume_form(role: &str, token: &str, extra: &str) -> String {
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        format!(
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName=ci-1&WebIdentityToken={}{extra}",
            enc(role),
            enc(token)
        )
    }

    /// An unsigned POST, as the SDKs send AssumeRoleWithWebIdentity.
    fn unsigned(body: &str) -> Request {
        Request::builder()
            .method(Method::POST)
            .uri("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    fn good_jwt() -> String {
        jwt(serde_json::json!({
            "iss": "https://gitlab.example.com", "sub": "project_path:corp/app",
            "aud": ["sts.amazonaws.com"], "exp": unix_now() + 300,
        }))
    }

    const ROLE: &str = "arn:aws:iam::444455556666:role/ci/gitlab-ci";

    #[tokio::test]
    async fn web_identity_gives_a_session_that_signs_with_its_token() {
        let state = state();
        let (status, body) = call(&state, unsigned(&assume_form(ROLE, &good_jwt(), ""))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.starts_with("<AssumeRoleWithWebIdentityResponse"),
            "{body}"
        );
        assert_eq!(
            between(&body, "<Arn>", "</Arn>"),
            "arn:aws:sts::444455556666:assumed-role/gitlab-ci/ci-1"
        );
        assert!(between(&body, "<AssumedRoleId>", "</AssumedRoleId>").starts_with("AROA"));
        assert!(between(&body, "<AssumedRoleId>", "</AssumedRoleId>").ends_with(":ci-1"));
        assert_eq!(
            between(
                &body,
                "<SubjectFromWebIdentityToken>",
                "</SubjectFromWebIdentityToken>"
            ),
            "project_path:corp/app"
        );
        assert_eq!(
            between(&body, "<Audience>", "</Audience>"),
            "sts.amazonaws.com"
        );
        assert_eq!(
            between(&body, "<Provider>", "</Provider>"),
            "gitlab.example.com"
        );
        let id = between(&body, "<AccessKeyId>", "</AccessKeyId>").to_string();
        let secret = between(&body, "<SecretAccessKey>", "</SecretAccessKey>").to_string();
        let token = between(&body, "<SessionToken>", "</SessionToken>").to_string();
        let expiration = between(&body, "<Expiration>", "</Expiration>");
        assert!(id.starts_with("ASIA") && id.len() == 20, "{id}");
        assert!(
            expiration.len() == 20 && expiration.ends_with('Z') && &expiration[10..11] == "T",
            "{expiration}"
        );
        assert_eq!(
            state.stats().requests.get("AssumeRoleWithWebIdentity"),
            Some(&1)
        );

        // GetCallerIdentity signed with the session key and its token: the assumed role.
        let signed = |session_token: Option<&str>| {
            let uri: Uri = "http://sts.localhost:4566/".parse().unwrap();
            let mut headers = HeaderMap::new();
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
            );
            if let Some(t) = session_token {
                headers.insert("x-amz-security-token", HeaderValue::from_str(t).unwrap());
            }
            sigv4::sign(
                &Method::POST,
                &uri,
                &mut headers,
                FORM.as_bytes(),
                &id,
                &secret,
                "us-east-1",
                "sts",
                SystemTime::now(),
            );
            let mut req = Request::builder()
                .method(Method::POST)
                .uri("/")
                .body(Body::from(FORM))
                .unwrap();
            *req.headers_mut() = headers;
            req
        };
        let (status, body) = call(&state, signed(Some(&token))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            between(&body, "<Arn>", "</Arn>"),
            "arn:aws:sts::444455556666:assumed-role/gitlab-ci/ci-1"
        );
        assert_eq!(between(&body, "<Account>", "</Account>"), "444455556666");
        assert!(between(&body, "<UserId>", "</UserId>").ends_with(":ci-1"));

        // Without its session token, or with another one: refused.
        for t in [None, Some("IQoJb3JpZ2luX2VjEother")] {
            let (status, body) = call(&state, signed(t)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
            assert_eq!(between(&body, "<Code>", "</Code>"), "InvalidClientTokenId");
        }

        // Once the session has expired: refused.
        for s in state.sessions.lock().unwrap().iter_mut() {
            s.expires_at = SystemTime::now() - Duration::from_secs(1);
        }
        let (status, body) = call(&state, signed(Some(&token))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }

    #[tokio::test]
    async fn web_identity_refuses_what_sts_refuses() {
        let state = state();
        let expired = jwt(serde_json::json!({"sub": "x", "exp": unix_now() - 10}));
        let no_sub = jwt(serde_json::json!({"exp": unix_now() + 300}));
        let no_exp = jwt(serde_json::json!({"sub": "x"}));
        for (form, code, message) in [
            (
                assume_form(ROLE, &expired, ""),
                "ExpiredTokenException",
                "Token expired: current date/time ",
            ),
            (
                assume_form(ROLE, "not-a-jwt", ""),
                "InvalidIdentityToken",
                "not a valid JWT",
            ),
            (
                assume_form(ROLE, "e30.W10.x", ""),
                "InvalidIdentityToken",
                "not a valid JWT",
            ),
            (
                assume_form(ROLE, &no_sub, ""),
                "InvalidIdentityToken",
                "Missing a required claim: sub",
            ),
            (
                assume_form(ROLE, &no_exp, ""),
                "InvalidIdentityToken",
                "Missing a required claim: exp",
            ),
            (
                assume_form("arn:aws:iam::12:role/x", &good_jwt(), ""),
                "ValidationError",
                "Request ARN is invalid",
            ),
            (
                assume_form("arn:aws:iam::444455556666:user/x", &good_jwt(), ""),
                "ValidationError",
                "Request ARN is invalid",
            ),
            (
                assume_form(ROLE, &good_jwt(), "&DurationSeconds=60"),
                "ValidationError",
                "at 'durationSeconds'",
            ),
            (
                "Action=AssumeRoleWithWebIdentity&RoleSessionName=a1&WebIdentityToken=x".into(),
                "ValidationError",
                "Value null at 'roleArn'",
            ),
            (
                assume_form(ROLE, &good_jwt(), "")
                    .replace("RoleSessionName=ci-1", "RoleSessionName=a%20b"),
                "ValidationError",
                "at 'roleSessionName'",
            ),
        ] {
            let (status, body) = call(&state, unsigned(&form)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
            assert_eq!(between(&body, "<Code>", "</Code>"), code, "{form}: {body}");
            let shown = between(&body, "<Message>", "</Message>").replace("&apos;", "'");
            assert!(shown.contains(message), "{form}: {body}");
        }
        assert!(state.sessions.lock().unwrap().is_empty());
    }

    #[test]
    fn role_arns_parse_as_iam_does() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::444455556666:role/ci/gitlab-ci"),
            Some(("444455556666", "gitlab-ci"))
        );
        assert_eq!(
            parse_role_arn("arn:aws-cn:iam::444455556666:role/r"),
            Some(("444455556666", "r"))
        );
        for bad in [
            "arn:aws:iam::444455556666:role/",
            "arn:aws:sts::444455556666:role/r",
            "arn:aws:iam::4444555566667:role/r",
            "arn:aws:iam::444455556666:role/a b",
            "role/r",
        ] {
            assert_eq!(parse_role_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn user_ids_are_stable_and_escaping_works() {
        let k = AccessKey {
            id: "AKIDX".into(),
            secret: "s".into(),
            account: None,
            user: None,
            deny: Vec::new(),
        };
        assert_eq!(caller_user_id(&k), caller_user_id(&k));
        assert_eq!(caller_arn(&k), "arn:aws:iam::111122223333:user/emulator");
        assert_eq!(xml_escape("a<b&'\""), "a&lt;b&amp;&apos;&quot;");
    }
}
