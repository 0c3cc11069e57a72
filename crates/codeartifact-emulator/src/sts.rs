//! STS `GetCallerIdentity` at `POST /` (awsQuery protocol, SigV4 service `sts`, XML replies),
//! and the caller identity (account, user, ARN) of the known access keys.

use std::sync::Arc;

use axum::extract::{Request, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::config::{AccessKey, DEFAULT_ACCOUNT};
use crate::sigv4::{self, SigError};
use crate::state::State;

/// The STS API version the emulator speaks.
const VERSION: &str = "2011-06-15";
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// Largest form body read.
const MAX_BODY: usize = 64 * 1024;

/// Account of the key's owner.
pub(crate) fn caller_account(key: &AccessKey) -> &str {
    key.account.as_deref().unwrap_or(DEFAULT_ACCOUNT)
}

/// IAM user name of the key's owner.
pub(crate) fn caller_user(key: &AccessKey) -> &str {
    key.user.as_deref().unwrap_or("emulator")
}

/// `arn:aws:iam::ACCOUNT:user/USER`.
pub(crate) fn caller_arn(key: &AccessKey) -> String {
    format!(
        "arn:aws:iam::{}:user/{}",
        caller_account(key),
        caller_user(key)
    )
}

/// A stable IAM user id (`AIDA` + 17 characters) derived from the access key id.
pub(crate) fn caller_user_id(key: &AccessKey) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(key.id.as_bytes());
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("AIDA{tail}")
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
        Some("GetCallerIdentity") => state.record("GetCallerIdentity"),
        _ => state.record("sts:invalid"),
    }
    let verified = match sigv4::verify(
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        &state.access_keys,
        "sts",
        state.now(),
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
