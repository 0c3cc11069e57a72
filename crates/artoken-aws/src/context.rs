//! The shared context: the token provider, S3, Glue, Secrets Manager and SSM clients built from
//! the core's SdkConfig (the repository's profile, role and region), and a repository's token and
//! index URL.

use std::collections::HashMap;
use std::sync::Mutex;

use artoken_core::cache::CachedToken;
use artoken_core::source::now;
use artoken_core::{Format, Provider, ProviderError, RepositorySpec, TokenDuration};
use aws_config::{Region, SdkConfig};

use crate::error::AwsError;
use crate::index_url::RepoUrl;

/// Endpoint overrides for S3, Glue, Secrets Manager and SSM, read once from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// `AWS_ENDPOINT_URL_S3`: wins over `--endpoint-url` for S3 (so CodeArtifact can go to an
    /// emulator while S3 goes to another).
    pub s3: Option<String>,
    /// `AWS_ENDPOINT_URL_GLUE`, likewise.
    pub glue: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, likewise.
    pub secretsmanager: Option<String>,
    /// `AWS_ENDPOINT_URL_SSM`, likewise.
    pub ssm: Option<String>,
    /// `AWS_ENDPOINT_URL` is set: some custom endpoint is in play.
    pub any: bool,
}

impl Endpoints {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Endpoints {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        Endpoints {
            s3: get("AWS_ENDPOINT_URL_S3"),
            glue: get("AWS_ENDPOINT_URL_GLUE"),
            secretsmanager: get("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
            ssm: get("AWS_ENDPOINT_URL_SSM"),
            any: get("AWS_ENDPOINT_URL").is_some(),
        }
    }
}

/// A repository's index URL and a token for it.
#[derive(Debug, Clone)]
pub struct RepoAuth {
    /// The configured name.
    pub repository: String,
    pub repo: RepoUrl,
    pub token: CachedToken,
}

impl RepoAuth {
    /// `https://aws:TOKEN@host/pypi/repo/simple/`.
    pub fn pip_url(&self) -> String {
        self.repo.pip_url(&self.token.token)
    }
}

/// What the Glue, S3 and refresh operations share.
pub struct Aws<'a> {
    pub provider: &'a Provider,
    pub endpoints: Endpoints,
    /// `--region` for S3 and Glue (else the repository's region).
    pub region: Option<String>,
    /// The tokens fetched anew in this round (by repository name), handed to the round's
    /// other targets of the same repository even when they do not last `min_validity` (the
    /// caller's role session can cap a token's life below it): one fetch per repository and
    /// round, and every target of a round holds the same token.
    fetched: Mutex<HashMap<String, CachedToken>>,
}

impl<'a> Aws<'a> {
    pub fn new(provider: &'a Provider, endpoints: Endpoints) -> Aws<'a> {
        Aws {
            provider,
            endpoints,
            region: None,
            fetched: Mutex::default(),
        }
    }

    /// Starts a new round of refreshes: tokens fetched in the last one are no longer taken
    /// for new (see [`Aws::token`]).
    pub fn new_round(&self) {
        self.fetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    async fn sdk_config(&self, spec: &RepositorySpec) -> Result<SdkConfig, AwsError> {
        let config =
            self.provider
                .source()
                .sdk_config(spec)
                .await
                .map_err(|e| AwsError::Token {
                    repository: spec.name.clone(),
                    what: "an AWS configuration",
                    source: ProviderError::from(e),
                })?;
        Ok(match &self.region {
            Some(r) => config.into_builder().region(Region::new(r.clone())).build(),
            None => config,
        })
    }

    /// The region S3 and Glue calls go to.
    pub async fn region(&self, spec: &RepositorySpec) -> Option<String> {
        self.sdk_config(spec)
            .await
            .ok()
            .and_then(|c| c.region().map(|r| r.to_string()))
    }

    /// An S3 client; path-style addressing whenever a custom endpoint is in play.
    pub async fn s3(&self, spec: &RepositorySpec) -> Result<aws_sdk_s3::Client, AwsError> {
        let config = self.sdk_config(spec).await?;
        let custom =
            self.endpoints.s3.is_some() || self.endpoints.any || config.endpoint_url().is_some();
        let mut b = aws_sdk_s3::config::Builder::from(&config).force_path_style(custom);
        if let Some(u) = &self.endpoints.s3 {
            b = b.endpoint_url(u);
        }
        Ok(aws_sdk_s3::Client::from_conf(b.build()))
    }

    /// A Glue client.
    pub async fn glue(&self, spec: &RepositorySpec) -> Result<aws_sdk_glue::Client, AwsError> {
        let config = self.sdk_config(spec).await?;
        let mut b = aws_sdk_glue::config::Builder::from(&config);
        if let Some(u) = &self.endpoints.glue {
            b = b.endpoint_url(u);
        }
        Ok(aws_sdk_glue::Client::from_conf(b.build()))
    }

    /// A Secrets Manager client, in `region` when given (a secret ARN's), else as for S3.
    pub async fn secretsmanager(
        &self,
        spec: &RepositorySpec,
        region: Option<&str>,
    ) -> Result<aws_sdk_secretsmanager::Client, AwsError> {
        let config = self.sdk_config(spec).await?;
        let mut b = aws_sdk_secretsmanager::config::Builder::from(&config);
        if let Some(r) = region {
            b = b.region(Region::new(r.to_string()));
        }
        if let Some(u) = &self.endpoints.secretsmanager {
            b = b.endpoint_url(u);
        }
        Ok(aws_sdk_secretsmanager::Client::from_conf(b.build()))
    }

    /// An SSM client.
    pub async fn ssm(&self, spec: &RepositorySpec) -> Result<aws_sdk_ssm::Client, AwsError> {
        let config = self.sdk_config(spec).await?;
        let mut b = aws_sdk_ssm::config::Builder::from(&config);
        if let Some(u) = &self.endpoints.ssm {
            b = b.endpoint_url(u);
        }
        Ok(aws_sdk_ssm::Client::from_conf(b.build()))
    }

    /// A token for the repository with at least `min_validity` seconds left (from the shared
    /// cache when it has one, else fetched anew). Any repository will do: no endpoint is needed.
    pub async fn token(
        &self,
        spec: &RepositorySpec,
        min_validity: u64,
    ) -> Result<CachedToken, AwsError> {
        check_life(spec, min_validity)?;
        let token_err = |source| AwsError::Token {
            repository: spec.name.clone(),
            what: "a token",
            source,
        };
        let token = self.provider.token(spec).await.map_err(token_err)?;
        if token.seconds_left(now()) >= min_validity as i64 {
            return Ok(token);
        }
        // Fetched anew in this round already: as long-lived as another would be.
        let known = self
            .fetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&spec.name)
            .filter(|t| t.token.expose() == token.token.expose())
            .cloned();
        if let Some(t) = known {
            return Ok(t);
        }
        let mut settings = self.provider.settings().clone();
        settings.force_refresh = true;
        let fresh = Provider::new(settings)
            .token(spec)
            .await
            .map_err(token_err)?;
        self.fetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(spec.name.clone(), fresh.clone());
        Ok(fresh)
    }

    /// The repository's endpoint and a token with at least `min_validity` seconds left
    /// (from the shared cache when it has one, else fetched anew).
    pub async fn auth(
        &self,
        spec: &RepositorySpec,
        min_validity: u64,
    ) -> Result<RepoAuth, AwsError> {
        if spec.repository.is_none() {
            return Err(AwsError::Invalid(format!(
                "repository {} names no CodeArtifact `repository:` (it is token-only), so it has no index URL",
                spec.name
            )));
        }
        if spec.format != Format::Pypi {
            return Err(AwsError::Invalid(format!(
                "repository {} has format {}; pip index URLs need format pypi",
                spec.name, spec.format
            )));
        }
        check_life(spec, min_validity)?;
        let endpoint = self
            .provider
            .endpoint(spec)
            .await
            .map_err(|source| AwsError::Token {
                repository: spec.name.clone(),
                what: "the endpoint",
                source,
            })?;
        let repo = RepoUrl::new(&endpoint).map_err(AwsError::Invalid)?;
        let token = self.token(spec, min_validity).await?;
        Ok(RepoAuth {
            repository: spec.name.clone(),
            repo,
            token,
        })
    }
}

/// Refuses a `min_validity` no token of the repository reaches.
fn check_life(spec: &RepositorySpec, min_validity: u64) -> Result<(), AwsError> {
    if let TokenDuration::Seconds(life) = spec.duration
        && min_validity >= life
    {
        return Err(AwsError::Invalid(format!(
            "repository {}: tokens live {}, so none stays valid for {} (lower the interval or --min-validity)",
            spec.name,
            artoken_core::human::duration(life),
            artoken_core::human::duration(min_validity)
        )));
    }
    Ok(())
}
