//! The token source: CodeArtifact `GetAuthorizationToken` and `GetRepositoryEndpoint` (and STS
//! `GetCallerIdentity` for `doctor` and for callers only STS can name) through the official AWS
//! SDK for Rust, with its full credential chain, per-repository profile, role and region, and
//! an endpoint override.

use std::collections::HashMap;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_codeartifact::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codeartifact::types::PackageFormat;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::cache::CachedToken;
pub use crate::expiry::now;
use crate::expiry::{estimate_skew, now_f64};
use crate::secret::Token;
use crate::spec::RepositorySpec;

/// A failed call, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "no AWS region for repository {repository}: set `region:` for it in the config, AWS_REGION, or a region in the AWS profile"
    )]
    NoRegion { repository: String },
    #[error("no AWS credentials{}: {detail} (set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)", profile.as_ref().map(|p| format!(" for profile {p}")).unwrap_or_default())]
    NoCredentials {
        profile: Option<String>,
        detail: String,
    },
    #[error("access denied by AWS: the caller lacks IAM permission {action} ({message})")]
    AccessDenied { action: String, message: String },
    #[error("{what} not found: {message}")]
    NotFound { what: String, message: String },
    #[error("invalid request: {message}")]
    Validation { message: String },
    #[error("CodeArtifact is throttling requests{}: {message}", retry_after.map(|s| format!(" (retry after {s}s)")).unwrap_or_default())]
    Throttled {
        message: String,
        retry_after: Option<i32>,
    },
    #[error("cannot reach {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error("timed out talking to {endpoint}: {detail}")]
    Timeout { endpoint: String, detail: String },
    #[error(
        "AWS refused the request because this machine's clock is off by more than 15 minutes: fix the clock (NTP) ({message})"
    )]
    ClockSkew { message: String },
    #[error("{operation} failed: {code}: {message}")]
    Service {
        operation: &'static str,
        code: String,
        message: String,
    },
    #[error("{operation} returned no {field}")]
    Incomplete {
        operation: &'static str,
        field: &'static str,
    },
}

impl SourceError {
    /// True for failures worth retrying later (network, throttling, 5xx).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SourceError::Unreachable { .. }
                | SourceError::Timeout { .. }
                | SourceError::Throttled { .. }
        ) || matches!(self, SourceError::Service { code, .. } if code.contains("Internal") || code.starts_with('5'))
    }
}

/// Who the credentials belong to (STS GetCallerIdentity).
#[derive(Debug, Clone)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
}

/// What an SDK configuration depends on: profile, region, role.
type ConfigKey = (Option<String>, Option<String>, Option<String>);

/// Talks to AWS through the SDK.
pub struct TokenSource {
    endpoint_override: Option<String>,
    timeout: Duration,
    configs: Mutex<HashMap<ConfigKey, SdkConfig>>,
}

/// Default bound on one whole call, retries included (`ARTOKEN_TIMEOUT` changes it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect quickly or not at all; each attempt within a third of the whole call's bound.
fn timeouts(total: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(total))
        .operation_attempt_timeout((total / 3).max(Duration::from_millis(100)))
        .operation_timeout(total)
        .build()
}

impl TokenSource {
    /// `endpoint_override`: `--endpoint-url` (AWS_ENDPOINT_URL[_CODEARTIFACT] are read by the SDK).
    pub fn new(endpoint_override: Option<String>, timeout: Duration) -> TokenSource {
        TokenSource {
            endpoint_override,
            timeout,
            configs: Mutex::new(HashMap::new()),
        }
    }

    /// The SDK configuration for a spec (memoised per profile, region and role).
    pub async fn sdk_config(&self, spec: &RepositorySpec) -> Result<SdkConfig, SourceError> {
        let key = (
            spec.profile.clone(),
            spec.region.clone(),
            spec.role_arn.clone(),
        );
        if let Some(c) = self.configs.lock().unwrap().get(&key) {
            return Ok(c.clone());
        }
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts(self.timeout));
        // Proxies from the environment: the SDK's default client (see crate::network).
        if let Some(client) = crate::network::sdk_http_client() {
            loader = loader.http_client(client);
        }
        if let Some(p) = &spec.profile {
            // A configured profile wins over AWS_ACCESS_KEY_ID in the environment (as with
            // boto3's `Session(profile_name=...)`), so its credentials are used explicitly.
            loader = loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(p)
                    .build(),
            );
        }
        if let Some(r) = &spec.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &self.endpoint_override {
            loader = loader.endpoint_url(u);
        }
        let mut config = loader.load().await;
        if config.region().is_none_or(|r| r.as_ref().trim().is_empty()) {
            return Err(SourceError::NoRegion {
                repository: spec.name.clone(),
            });
        }
        if let Some(role) = &spec.role_arn {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role.clone())
                .session_name("artoken")
                .configure(&config)
                .build()
                .await;
            config = config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        self.configs.lock().unwrap().insert(key, config.clone());
        Ok(config)
    }

    /// The repository's `endpoint:` when `--endpoint-url` does not override it.
    fn spec_endpoint<'s>(&self, spec: &'s RepositorySpec) -> Option<&'s str> {
        spec.endpoint
            .as_deref()
            .filter(|_| self.endpoint_override.is_none())
    }

    /// The CodeArtifact client for a spec: its `endpoint:` (a VPC interface endpoint) applies
    /// to CodeArtifact alone, never to STS or the credential providers.
    fn codeartifact(
        &self,
        config: &SdkConfig,
        spec: &RepositorySpec,
    ) -> aws_sdk_codeartifact::Client {
        let mut conf = aws_sdk_codeartifact::config::Builder::from(config);
        if let Some(e) = self.spec_endpoint(spec) {
            conf = conf.endpoint_url(e);
        }
        aws_sdk_codeartifact::Client::from_conf(conf.build())
    }

    fn describe_endpoint(&self, config: &SdkConfig, spec: &RepositorySpec) -> String {
        self.endpoint_override
            .clone()
            .or_else(|| self.spec_endpoint(spec).map(str::to_string))
            .or_else(|| config.endpoint_url().map(str::to_string))
            .unwrap_or_else(|| {
                format!(
                    "codeartifact.{}.amazonaws.com",
                    config.region().map(|r| r.as_ref()).unwrap_or("?")
                )
            })
    }

    /// GetAuthorizationToken for the spec's domain, with `durationSeconds` sent; the skew of
    /// AWS's clock is estimated from the `Date` of the answer and kept with the token.
    pub async fn fetch_token(&self, spec: &RepositorySpec) -> Result<CachedToken, SourceError> {
        let config = self.sdk_config(spec).await?;
        let client = self.codeartifact(&config, spec);
        let fetched_at = now();
        let clock = AnswerClock::default();
        let out = client
            .get_authorization_token()
            .domain(&spec.domain)
            .set_domain_owner(spec.owner.clone())
            .duration_seconds(spec.duration.as_seconds() as i64)
            .customize()
            .interceptor(clock.clone())
            .send()
            .await
            .map_err(|e| {
                classify(
                    e,
                    spec,
                    &self.describe_endpoint(&config, spec),
                    "GetAuthorizationToken",
                )
            })?;
        let token =
            out.authorization_token()
                .filter(|t| !t.is_empty())
                .ok_or(SourceError::Incomplete {
                    operation: "GetAuthorizationToken",
                    field: "authorizationToken",
                })?;
        let expires_at = out
            .expiration()
            .map(|d| d.secs())
            .ok_or(SourceError::Incomplete {
                operation: "GetAuthorizationToken",
                field: "expiration",
            })?;
        let skew = clock.skew(expires_at).unwrap_or(0);
        if skew != 0 {
            tracing::debug!(
                repository = %spec.name,
                "AWS's clock is {}s {} this machine's",
                skew.abs(),
                if skew > 0 { "ahead of" } else { "behind" }
            );
        }
        Ok(CachedToken {
            token: Token::new(token),
            expires_at,
            fetched_at,
            skew,
        })
    }

    /// GetRepositoryEndpoint for the spec's repository and format.
    pub async fn fetch_endpoint(&self, spec: &RepositorySpec) -> Result<String, SourceError> {
        let Some(repository) = &spec.repository else {
            return Err(SourceError::Validation {
                message: format!(
                    "repository {} names no `repository:` (a token-only entry has no endpoint)",
                    spec.name
                ),
            });
        };
        let config = self.sdk_config(spec).await?;
        let client = self.codeartifact(&config, spec);
        let out = client
            .get_repository_endpoint()
            .domain(&spec.domain)
            .set_domain_owner(spec.owner.clone())
            .repository(repository)
            .format(PackageFormat::from(spec.format.as_str()))
            .send()
            .await
            .map_err(|e| {
                classify(
                    e,
                    spec,
                    &self.describe_endpoint(&config, spec),
                    "GetRepositoryEndpoint",
                )
            })?;
        out.repository_endpoint()
            .map(str::to_string)
            .ok_or(SourceError::Incomplete {
                operation: "GetRepositoryEndpoint",
                field: "repositoryEndpoint",
            })
    }

    /// STS GetCallerIdentity with the spec's credentials.
    pub async fn caller_identity(
        &self,
        spec: &RepositorySpec,
    ) -> Result<CallerIdentity, SourceError> {
        let config = self.sdk_config(spec).await?;
        let client = aws_sdk_sts::Client::new(&config);
        let out = client.get_caller_identity().send().await.map_err(|e| {
            let endpoint = self.describe_endpoint(&config, spec);
            classify(e, spec, &endpoint, "GetCallerIdentity")
        })?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }
}

/// Reads the `Date` of the last answer and when, on this machine's clock, its request left
/// and it came back (the SDK's own skew correction is internal to it).
#[derive(Debug, Clone, Default)]
struct AnswerClock(Arc<Mutex<AnswerTimes>>);

#[derive(Debug, Default)]
struct AnswerTimes {
    sent: f64,
    received: f64,
    date: Option<String>,
}

impl AnswerClock {
    /// See [`crate::expiry::estimate_skew`].
    fn skew(&self, expires_at: i64) -> Option<i64> {
        let t = self.0.lock().unwrap();
        estimate_skew(t.date.as_deref(), t.sent, t.received, expires_at)
    }
}

impl Intercept for AnswerClock {
    fn name(&self) -> &'static str {
        "artoken::AnswerClock"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.lock().unwrap().sent = now_f64();
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut t = self.0.lock().unwrap();
        t.received = now_f64();
        t.date = context.response().headers().get("date").map(str::to_string);
        Ok(())
    }
}

/// The IAM action named in an AccessDenied message ("... not authorized to perform: ACTION on ...").
pub fn denied_action(message: &str) -> Option<String> {
    let rest = message.split("perform: ").nth(1)?;
    let action: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '*')
        .collect();
    (!action.is_empty()).then_some(action)
}

/// Turns an SDK error into words.
fn classify<E, R>(
    err: SdkError<E, R>,
    spec: &RepositorySpec,
    endpoint: &str,
    operation: &'static str,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let default_action = match operation {
        "GetAuthorizationToken" => "codeartifact:GetAuthorizationToken",
        "GetRepositoryEndpoint" => "codeartifact:GetRepositoryEndpoint",
        _ => "sts:GetCallerIdentity",
    };
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("Unknown").to_string();
            let message = crate::redact::redact(e.message().unwrap_or("")).into_owned();
            match code.as_str() {
                "AccessDeniedException" | "AccessDenied" => SourceError::AccessDenied {
                    action: denied_action(&message).unwrap_or_else(|| default_action.to_string()),
                    message,
                },
                "ResourceNotFoundException" => SourceError::NotFound {
                    what: if operation == "GetRepositoryEndpoint" {
                        format!(
                            "repository {} in domain {}",
                            spec.repository.as_deref().unwrap_or("?"),
                            spec.domain
                        )
                    } else {
                        format!("domain {}", spec.domain)
                    },
                    message,
                },
                "ValidationException" => SourceError::Validation { message },
                "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
                    SourceError::Throttled {
                        message,
                        retry_after: None,
                    }
                }
                "InvalidSignatureException" | "SignatureDoesNotMatch"
                    if message.contains("Signature expired")
                        || message.contains("Signature not yet current") =>
                {
                    SourceError::ClockSkew { message }
                }
                "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "InvalidSignatureException"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "ExpiredTokenException" => SourceError::NoCredentials {
                    profile: spec.profile.clone(),
                    detail: format!("AWS rejected the credentials: {code}: {message}"),
                },
                _ => SourceError::Service {
                    operation,
                    code,
                    message,
                },
            }
        }
        SdkError::TimeoutError(_) => SourceError::Timeout {
            endpoint: endpoint.to_string(),
            detail: "no answer within the time allowed (ARTOKEN_TIMEOUT)".into(),
        },
        SdkError::DispatchFailure(d) => {
            let text = crate::redact::error_line(&err);
            if text.contains("credentials") || text.contains("Credentials") {
                SourceError::NoCredentials {
                    profile: spec.profile.clone(),
                    detail: credential_detail(&text),
                }
            } else if d.is_timeout() {
                SourceError::Timeout {
                    endpoint: endpoint.to_string(),
                    detail: last_cause(&text),
                }
            } else {
                SourceError::Unreachable {
                    endpoint: endpoint.to_string(),
                    detail: last_cause(&text),
                }
            }
        }
        _ => {
            let text = crate::redact::error_line(&err);
            if text.contains("credentials") || text.contains("Credentials") {
                SourceError::NoCredentials {
                    profile: spec.profile.clone(),
                    detail: credential_detail(&text),
                }
            } else {
                SourceError::Service {
                    operation,
                    code: "Error".into(),
                    message: last_cause(&text),
                }
            }
        }
    }
}

fn last_cause(text: &str) -> String {
    text.rsplit(": ").next().unwrap_or(text).to_string()
}

fn credential_detail(text: &str) -> String {
    if text.contains("not enabled") || text.contains("no providers in chain") {
        return "none found in the environment, the shared config and credentials files, SSO, web identity or instance metadata".into();
    }
    // The SDK's chain ends with the most specific cause.
    let parts: Vec<&str> = text.split(": ").collect();
    parts
        .iter()
        .rev()
        .find(|p| p.contains("credential") || p.contains("profile") || p.contains("Credential"))
        .unwrap_or(&"none found")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_denied_action() {
        assert_eq!(
            denied_action(
                "User: arn:aws:iam::1:user/x is not authorized to perform: sts:GetServiceBearerToken on resource: arn"
            )
            .as_deref(),
            Some("sts:GetServiceBearerToken")
        );
        assert_eq!(denied_action("nope"), None);
    }
}
