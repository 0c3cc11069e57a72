//! CodeArtifact control plane (REST-JSON under `/v1`): GetAuthorizationToken,
//! GetRepositoryEndpoint, DescribeDomain, ListRepositoriesInDomain, with SigV4 checks, IAM
//! denials, validation and throttling faults, answering in AWS's error shapes.

use std::sync::Arc;

use axum::extract::{Request, State as AxState};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use crate::config::{DomainConfig, Format, valid_domain, valid_owner, valid_repository};
use crate::sigv4::{self, SigError, Verified};
use crate::state::{MAX_TOKEN_SECONDS, Scripted, State, epoch_seconds};
use crate::sts::{caller_account, caller_arn};

/// Largest request body read (the operations served here take none).
const MAX_BODY: usize = 64 * 1024;
/// Shortest token life AWS accepts (other than 0, "as long as the session").
const MIN_TOKEN_SECONDS: i64 = 900;
/// `createdTime` of every domain and repository: 2024-01-01T00:00:00Z.
const CREATED_TIME: f64 = 1_704_067_200.0;
/// ListRepositoriesInDomain page size when `max-results` is not given.
const DEFAULT_PAGE: usize = 100;
/// Largest `max-results` AWS accepts.
const MAX_PAGE: i64 = 1000;

/// The operations served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    GetAuthorizationToken,
    GetRepositoryEndpoint,
    DescribeDomain,
    ListRepositoriesInDomain,
}

impl Operation {
    /// The operation for a method and path, as the service model binds them.
    fn route(method: &Method, path: &str) -> Option<Operation> {
        let path = path.trim_end_matches('/');
        match (method, path) {
            (&Method::POST, "/v1/authorization-token") => Some(Operation::GetAuthorizationToken),
            (&Method::GET, "/v1/repository/endpoint") => Some(Operation::GetRepositoryEndpoint),
            (&Method::GET, "/v1/domain") => Some(Operation::DescribeDomain),
            (&Method::POST, "/v1/domain/repositories") => Some(Operation::ListRepositoriesInDomain),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Operation::GetAuthorizationToken => "GetAuthorizationToken",
            Operation::GetRepositoryEndpoint => "GetRepositoryEndpoint",
            Operation::DescribeDomain => "DescribeDomain",
            Operation::ListRepositoriesInDomain => "ListRepositoriesInDomain",
        }
    }
}

/// A refused request, rendered in the REST-JSON error shape the AWS SDKs parse.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error(transparent)]
    Auth(#[from] SigError),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{message}")]
    NotFound {
        message: String,
        resource_id: String,
        resource_type: &'static str,
    },
    #[error("{0}")]
    Validation(String),
    #[error("Rate exceeded")]
    Throttling { retry_after_secs: u64 },
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    UnknownOperation(String),
}

impl ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            ApiError::Auth(e) => {
                let (status, kind) = match e {
                    SigError::Missing => {
                        (StatusCode::FORBIDDEN, "MissingAuthenticationTokenException")
                    }
                    SigError::Incomplete(_) => {
                        (StatusCode::BAD_REQUEST, "IncompleteSignatureException")
                    }
                    SigError::UnknownKey => (StatusCode::FORBIDDEN, "UnrecognizedClientException"),
                    SigError::Mismatch | SigError::Expired(_) | SigError::BadScope(_) => {
                        (StatusCode::FORBIDDEN, "InvalidSignatureException")
                    }
                };
                crate::aws_error(status, kind, &message)
            }
            ApiError::AccessDenied(_) => {
                crate::aws_error(StatusCode::FORBIDDEN, "AccessDeniedException", &message)
            }
            ApiError::NotFound {
                resource_id,
                resource_type,
                ..
            } => crate::aws_error_with(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                json!({
                    "message": message,
                    "resourceId": resource_id,
                    "resourceType": resource_type,
                }),
            ),
            ApiError::Validation(_) => crate::aws_error_with(
                StatusCode::BAD_REQUEST,
                "ValidationException",
                json!({ "message": message, "reason": "FIELD_VALIDATION_FAILED" }),
            ),
            ApiError::Throttling { retry_after_secs } => {
                let mut resp = crate::aws_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "ThrottlingException",
                    &message,
                );
                let headers = resp.headers_mut();
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                // The AWS SDKs read the delay from this one (milliseconds).
                headers.insert(
                    "x-amz-retry-after",
                    HeaderValue::from(retry_after_secs.saturating_mul(1000)),
                );
                resp
            }
            ApiError::Internal(_) => crate::aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerException",
                &message,
            ),
            ApiError::UnknownOperation(_) => {
                crate::aws_error(StatusCode::NOT_FOUND, "UnknownOperationException", &message)
            }
        }
    }
}

/// The decoded query string of a request.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(parts: &Parts) -> Query {
        Query(sigv4::decode_pairs(parts.uri.query().unwrap_or(""), false))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            ApiError::Validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                member(name)
            ))
        })
    }
}

/// The model member name of a query parameter (for validation messages).
fn member(param: &str) -> &str {
    match param {
        "domain-owner" => "domainOwner",
        "duration" => "durationSeconds",
        "repository-prefix" => "repositoryPrefix",
        "administrator-account" => "administratorAccount",
        "max-results" => "maxResults",
        "next-token" => "nextToken",
        other => other,
    }
}

fn invalid(param: &str, value: &str, constraint: &str) -> ApiError {
    ApiError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {constraint}",
        member(param)
    ))
}

/// Everything a handler needs about the request once its signature checked out.
struct Call<'a> {
    state: &'a State,
    caller: Verified<'a>,
    query: Query,
    /// `http://{Host}`: where this emulator was reached.
    base: String,
}

impl Call<'_> {
    fn region(&self) -> &str {
        &self.caller.region
    }

    /// `domain` and `domain-owner` (the caller's account when absent), validated.
    fn domain_and_owner(&self) -> Result<(String, String), ApiError> {
        let domain = self.query.required("domain")?;
        if !valid_domain(domain) {
            return Err(invalid(
                "domain",
                domain,
                "Member must satisfy regular expression pattern: [a-z][a-z0-9\\-]{0,48}[a-z0-9]",
            ));
        }
        let owner = match self.query.get("domain-owner") {
            Some(owner) => owner,
            None => caller_account(self.caller.key),
        };
        if !valid_owner(owner) {
            return Err(invalid(
                "domain-owner",
                owner,
                "Member must satisfy regular expression pattern: [0-9]{12}",
            ));
        }
        Ok((domain.to_string(), owner.to_string()))
    }

    /// Refuses the call with AWS's message if the caller's key is denied `action`.
    fn authorize(&self, action: &str, resource: &str) -> Result<(), ApiError> {
        let denied = self
            .caller
            .key
            .deny
            .iter()
            .any(|pattern| action_matches(pattern, action));
        if denied {
            return Err(ApiError::AccessDenied(format!(
                "User: {} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action",
                caller_arn(self.caller.key)
            )));
        }
        Ok(())
    }

    fn domain_arn(&self, domain: &str, owner: &str) -> String {
        format!(
            "arn:aws:codeartifact:{}:{owner}:domain/{domain}",
            self.region()
        )
    }

    fn repository_arn(&self, domain: &str, owner: &str, repo: &str) -> String {
        format!(
            "arn:aws:codeartifact:{}:{owner}:repository/{domain}/{repo}",
            self.region()
        )
    }

    fn find_domain(&self, domain: &str, owner: &str) -> Result<&DomainConfig, ApiError> {
        self.state
            .domain(domain, Some(owner))
            .ok_or_else(|| ApiError::NotFound {
                message: format!("Domain '{domain}' owned by account '{owner}' does not exist."),
                resource_id: domain.to_string(),
                resource_type: "domain",
            })
    }
}

/// An IAM action pattern from `deny` (case-insensitive; `*` matches any rest).
fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

/// `/v1/{*rest}`, any method: the CodeArtifact control plane.
pub(crate) async fn handle(AxState(state): AxState<Arc<State>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(op) = Operation::route(&parts.method, parts.uri.path()) else {
        state.record("UnknownOperation");
        return ApiError::UnknownOperation(format!(
            "No operation matches {} {}",
            parts.method,
            parts.uri.path()
        ))
        .into_response();
    };
    state.record(op.name());
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::Validation("The request body is too large".into()).into_response();
        }
    };
    match serve(&state, op, &parts, &body) {
        Ok(value) => {
            tracing::info!(operation = op.name(), status = 200, "control plane");
            (
                StatusCode::OK,
                [
                    ("content-type", "application/json".to_string()),
                    ("x-amzn-requestid", crate::request_id()),
                ],
                value.to_string(),
            )
                .into_response()
        }
        Err(e) => {
            let message = e.to_string();
            let resp = e.into_response();
            tracing::info!(
                operation = op.name(),
                status = resp.status().as_u16(),
                error = %message,
                "control plane"
            );
            resp
        }
    }
}

fn serve(state: &State, op: Operation, parts: &Parts, body: &[u8]) -> Result<Value, ApiError> {
    let keys = crate::sts::known_keys(state);
    let caller = crate::sts::verify(
        &parts.method,
        &parts.uri,
        &parts.headers,
        body,
        &keys,
        "codeartifact",
        state,
    )?;
    let throttled = match state.next_scripted(op.name(), true) {
        Some(Scripted::Error) => {
            return Err(ApiError::Internal(
                "Injected fault (script): internal server error".into(),
            ));
        }
        Some(Scripted::Throttle) => true,
        None if state.roll_throttle() => {
            state.record("fault:throttle");
            true
        }
        None => false,
    };
    if throttled {
        return Err(ApiError::Throttling {
            retry_after_secs: state.faults().retry_after_secs,
        });
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let call = Call {
        state,
        caller,
        query: Query::parse(parts),
        base: format!("http://{host}"),
    };
    match op {
        Operation::GetAuthorizationToken => get_authorization_token(&call),
        Operation::GetRepositoryEndpoint => get_repository_endpoint(&call),
        Operation::DescribeDomain => describe_domain(&call),
        Operation::ListRepositoriesInDomain => list_repositories_in_domain(&call),
    }
}

fn get_authorization_token(call: &Call) -> Result<Value, ApiError> {
    if call.state.faults().token_endpoint_down {
        return Err(ApiError::Internal(
            "Injected fault: the authorization token endpoint is down".into(),
        ));
    }
    let (domain, owner) = call.domain_and_owner()?;
    let duration = match call.query.get("duration") {
        None => 0,
        Some(raw) => {
            let secs: i64 = raw
                .parse()
                .map_err(|_| invalid("duration", raw, "Member must be a number"))?;
            if secs != 0 && !(MIN_TOKEN_SECONDS..=MAX_TOKEN_SECONDS as i64).contains(&secs) {
                return Err(ApiError::Validation(format!(
                    "1 validation error detected: Value '{secs}' at 'durationSeconds' failed to satisfy constraint: Member must be 0 or between {MIN_TOKEN_SECONDS} and {MAX_TOKEN_SECONDS} seconds"
                )));
            }
            secs.unsigned_abs()
        }
    };
    let domain_arn = call.domain_arn(&domain, &owner);
    call.authorize("codeartifact:GetAuthorizationToken", &domain_arn)?;
    let sts_resource = format!(
        "arn:aws:sts::{}:user/{}",
        caller_account(call.caller.key),
        crate::sts::caller_user(call.caller.key)
    );
    call.authorize("sts:GetServiceBearerToken", &sts_resource)?;
    call.find_domain(&domain, &owner)?;
    let (token, expires_at) = call.state.issue_token(&domain, &owner, duration);
    Ok(json!({
        "authorizationToken": token,
        "expiration": epoch_seconds(expires_at),
    }))
}

fn get_repository_endpoint(call: &Call) -> Result<Value, ApiError> {
    let (domain, owner) = call.domain_and_owner()?;
    let repo = call.query.required("repository")?;
    if !valid_repository(repo) {
        return Err(invalid(
            "repository",
            repo,
            "Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9._\\-]{1,99}",
        ));
    }
    let raw_format = call.query.required("format")?;
    let format = Format::parse(raw_format).ok_or_else(|| {
        let all: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        invalid(
            "format",
            raw_format,
            &format!("Member must satisfy enum value set: [{}]", all.join(", ")),
        )
    })?;
    if let Some(kind) = call.query.get("endpointType")
        && kind != "dualstack"
        && kind != "ipv4"
    {
        return Err(invalid(
            "endpointType",
            kind,
            "Member must satisfy enum value set: [dualstack, ipv4]",
        ));
    }
    let arn = call.repository_arn(&domain, &owner, repo);
    call.authorize("codeartifact:GetRepositoryEndpoint", &arn)?;
    call.find_domain(&domain, &owner)?;
    let not_found = || ApiError::NotFound {
        message: format!(
            "Repository '{repo}' with format '{format}' not found in domain '{domain}' owned by account '{owner}'."
        ),
        resource_id: repo.to_string(),
        resource_type: "repository",
    };
    let repository = call
        .state
        .repository(&domain, &owner, repo)
        .ok_or_else(not_found)?;
    if repository.config.format != format {
        return Err(not_found());
    }
    Ok(json!({
        "repositoryEndpoint": crate::endpoint_url(
            &call.base,
            &domain,
            &owner,
            call.region(),
            format,
            repo,
        ),
    }))
}

fn describe_domain(call: &Call) -> Result<Value, ApiError> {
    let (domain, owner) = call.domain_and_owner()?;
    let arn = call.domain_arn(&domain, &owner);
    call.authorize("codeartifact:DescribeDomain", &arn)?;
    let d = call.find_domain(&domain, &owner)?;
    let region = call.region();
    Ok(json!({
        "domain": {
            "name": d.name,
            "owner": d.owner,
            "arn": arn,
            "status": "Active",
            "createdTime": CREATED_TIME,
            "encryptionKey": format!("arn:aws:kms:{region}:{owner}:key/{}", kms_key_id(&domain, &owner)),
            "repositoryCount": d.repositories.len(),
            "assetSizeBytes": 0,
            "s3BucketArn": format!("arn:aws:s3:::assets-{owner}-{region}"),
        }
    }))
}

/// A stable UUID-shaped KMS key id for a domain.
fn kms_key_id(domain: &str, owner: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(format!("{owner}/{domain}").as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn list_repositories_in_domain(call: &Call) -> Result<Value, ApiError> {
    let (domain, owner) = call.domain_and_owner()?;
    let admin = call.query.get("administrator-account");
    if let Some(admin) = admin
        && !valid_owner(admin)
    {
        return Err(invalid(
            "administrator-account",
            admin,
            "Member must satisfy regular expression pattern: [0-9]{12}",
        ));
    }
    let prefix = call.query.get("repository-prefix").unwrap_or("");
    let page = match call.query.get("max-results") {
        None => DEFAULT_PAGE,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n.unsigned_abs() as usize,
            _ => {
                return Err(invalid(
                    "max-results",
                    raw,
                    &format!("Member must have value between 1 and {MAX_PAGE}"),
                ));
            }
        },
    };
    let after =
        match call.query.get("next-token") {
            None | Some("") => None,
            Some(token) => Some(decode_next_token(token).ok_or_else(|| {
                ApiError::Validation("The pagination token is invalid.".to_string())
            })?),
        };
    let arn = call.domain_arn(&domain, &owner);
    call.authorize("codeartifact:ListRepositoriesInDomain", &arn)?;
    let d = call.find_domain(&domain, &owner)?;
    let mut names: Vec<&crate::config::RepositoryConfig> = d
        .repositories
        .iter()
        .filter(|r| r.name.starts_with(prefix))
        .filter(|_| admin.is_none_or(|a| a == d.owner))
        .filter(|r| after.as_deref().is_none_or(|a| r.name.as_str() > a))
        .collect();
    names.sort_by(|a, b| a.name.cmp(&b.name));
    let more = names.len() > page;
    names.truncate(page);
    let repositories: Vec<Value> = names
        .iter()
        .map(|r| {
            let mut v = json!({
                "name": r.name,
                "administratorAccount": d.owner,
                "domainName": d.name,
                "domainOwner": d.owner,
                "arn": call.repository_arn(&d.name, &d.owner, &r.name),
                "createdTime": CREATED_TIME,
            });
            if let (Some(desc), Some(obj)) = (&r.description, v.as_object_mut()) {
                obj.insert("description".into(), Value::String(desc.clone()));
            }
            v
        })
        .collect();
    let mut out = json!({ "repositories": repositories });
    if more && let (Some(last), Some(obj)) = (names.last(), out.as_object_mut()) {
        obj.insert(
            "nextToken".into(),
            Value::String(encode_next_token(&last.name)),
        );
    }
    Ok(out)
}

/// The opaque pagination token: the last name returned, base64url-encoded.
fn encode_next_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("after:{last}"))
}

fn decode_next_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("after:")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_as_the_service_model_binds_them() {
        assert_eq!(
            Operation::route(&Method::POST, "/v1/authorization-token"),
            Some(Operation::GetAuthorizationToken)
        );
        assert_eq!(
            Operation::route(&Method::GET, "/v1/repository/endpoint"),
            Some(Operation::GetRepositoryEndpoint)
        );
        assert_eq!(
            Operation::route(&Method::GET, "/v1/domain"),
            Some(Operation::DescribeDomain)
        );
        assert_eq!(
            Operation::route(&Method::POST, "/v1/domain/repositories"),
            Some(Operation::ListRepositoriesInDomain)
        );
        assert_eq!(
            Operation::route(&Method::GET, "/v1/authorization-token"),
            None
        );
        assert_eq!(Operation::route(&Method::POST, "/v1/packages"), None);
    }

    #[test]
    fn deny_patterns() {
        assert!(action_matches(
            "codeartifact:GetAuthorizationToken",
            "codeartifact:GetAuthorizationToken"
        ));
        assert!(action_matches(
            "CodeArtifact:getauthorizationtoken",
            "codeartifact:GetAuthorizationToken"
        ));
        assert!(action_matches(
            "codeartifact:*",
            "codeartifact:DescribeDomain"
        ));
        assert!(action_matches("*", "sts:GetServiceBearerToken"));
        assert!(!action_matches(
            "codeartifact:*",
            "sts:GetServiceBearerToken"
        ));
        assert!(!action_matches(
            "codeartifact:Get",
            "codeartifact:GetAuthorizationToken"
        ));
    }

    #[test]
    fn next_tokens_round_trip() {
        let t = encode_next_token("repo-07");
        assert_eq!(decode_next_token(&t).as_deref(), Some("repo-07"));
        assert_eq!(decode_next_token("!!"), None);
        assert_eq!(decode_next_token("YWJj"), None);
    }
}
