//! Tokens and endpoints for a repository, from the shared cache when fresh, otherwise fetched
//! once (under the cache lock) and stored for every other process.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::cache::{Cache, CacheError, CacheKey, CachedToken};
use crate::source::{SourceError, TokenSource, now};
use crate::spec::RepositorySpec;

/// Default: replace a token when less than 15 minutes (or a quarter of its life) is left.
pub const DEFAULT_REFRESH_BEFORE: u64 = 15 * 60;

/// How a [`Provider`] behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None`: no cache at all.
    pub cache_dir: Option<PathBuf>,
    /// Seconds; see [`crate::cache::refresh_margin`].
    pub refresh_before: u64,
    /// `--refresh`: fetch a new token even if the cached one is fresh.
    pub force_refresh: bool,
    /// `--endpoint-url`.
    pub endpoint_override: Option<String>,
    /// Parts of the environment that change which token AWS gives: the static access key
    /// id, the region, and the SDK's endpoint variables.
    pub access_key_id: Option<String>,
    pub env_region: Option<String>,
    pub env_endpoint: Option<String>,
    /// How long to wait for another process's fetch.
    pub lock_timeout: Duration,
    /// Bound on one AWS call, retries included (`ARTOKEN_TIMEOUT`, e.g. `10s`).
    pub timeout: Duration,
}

impl Settings {
    /// Settings from an environment lookup (`std::env::var` in the binary; a map in tests).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Settings {
        let nonempty = |k: &str| env(k).filter(|v| !v.is_empty());
        Settings {
            cache_dir: Cache::default_dir(env),
            refresh_before: DEFAULT_REFRESH_BEFORE,
            force_refresh: false,
            endpoint_override: None,
            access_key_id: nonempty("AWS_ACCESS_KEY_ID"),
            env_region: nonempty("AWS_REGION").or_else(|| nonempty("AWS_DEFAULT_REGION")),
            env_endpoint: nonempty("AWS_ENDPOINT_URL_CODEARTIFACT")
                .or_else(|| nonempty("AWS_ENDPOINT_URL")),
            lock_timeout: Duration::from_secs(60),
            timeout: nonempty("ARTOKEN_TIMEOUT")
                .and_then(|t| crate::spec::parse_seconds(&t).ok())
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .unwrap_or(crate::source::DEFAULT_TIMEOUT),
        }
    }
}

/// What went wrong getting a token or endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Token provider with the shared cache in front of the [`TokenSource`].
pub struct Provider {
    settings: Settings,
    cache: Option<Cache>,
    source: TokenSource,
    warnings: Mutex<Vec<String>>,
}

impl Provider {
    /// Prepares the cache dir; if it cannot be used, works uncached and records a warning.
    pub fn new(settings: Settings) -> Provider {
        let mut warnings = Vec::new();
        let cache = settings.cache_dir.as_ref().and_then(|dir| {
            let cache = Cache::new(dir);
            match cache.prepare() {
                Ok(()) => Some(cache),
                Err(e) => {
                    warnings.push(format!("{e}; working without a cache"));
                    None
                }
            }
        });
        Provider {
            source: TokenSource::new(settings.endpoint_override.clone(), settings.timeout),
            settings,
            cache,
            warnings: Mutex::new(warnings),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// Warnings collected so far (unusable cache, failed cache writes), drained.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.lock().unwrap())
    }

    fn warn(&self, w: String) {
        tracing::debug!("{w}");
        let mut ws = self.warnings.lock().unwrap();
        if !ws.contains(&w) {
            ws.push(w);
        }
    }

    fn endpoint_in_key(&self) -> Option<&str> {
        self.settings
            .endpoint_override
            .as_deref()
            .or(self.settings.env_endpoint.as_deref())
    }

    pub fn token_key(&self, spec: &RepositorySpec) -> CacheKey {
        CacheKey::for_token(
            spec,
            self.settings.env_region.as_deref(),
            if spec.profile.is_none() && spec.role_arn.is_none() {
                self.settings.access_key_id.as_deref()
            } else {
                None
            },
            self.endpoint_in_key(),
        )
    }

    fn endpoint_key(&self, spec: &RepositorySpec) -> CacheKey {
        CacheKey::for_endpoint(
            spec,
            self.settings.env_region.as_deref(),
            self.endpoint_in_key(),
        )
    }

    /// The cached token, fresh or not, without any network call (for `status`).
    pub fn cached_token(&self, spec: &RepositorySpec) -> Option<CachedToken> {
        self.cache.as_ref()?.read_token(&self.token_key(spec))
    }

    fn usable(&self, t: &CachedToken) -> bool {
        !t.needs_refresh(now(), self.settings.refresh_before)
    }

    /// A token for the spec's domain: cached if fresh, else fetched once for all processes.
    pub async fn token(&self, spec: &RepositorySpec) -> Result<CachedToken, ProviderError> {
        let Some(cache) = &self.cache else {
            return Ok(self.source.fetch_token(spec).await?);
        };
        let key = self.token_key(spec);
        let seen = cache.read_token(&key);
        if !self.settings.force_refresh
            && let Some(t) = seen.as_ref().filter(|t| self.usable(t))
        {
            tracing::debug!(
                repository = %spec.name,
                "cached token, {}",
                crate::human::expiry(t.seconds_left(now()))
            );
            return Ok(t.clone());
        }
        let guard = match cache.lock(&key, self.settings.lock_timeout).await {
            Ok(g) => Some(g),
            Err(e @ CacheError::LockTimeout { .. }) => return Err(e.into()),
            Err(e) => {
                self.warn(format!("{e}; fetching without the cache lock"));
                None
            }
        };
        // Someone may have fetched while we waited for the lock.
        if guard.is_some() {
            // With --refresh, only a token other than the one we saw counts as refreshed.
            if let Some(t) = cache.read_token(&key).filter(|t| {
                self.usable(t)
                    && (!self.settings.force_refresh
                        || seen.as_ref().is_none_or(|s| s.token != t.token))
            }) {
                return Ok(t);
            }
        }
        tracing::debug!(repository = %spec.name, domain = %spec.domain, "fetching a token");
        let fresh = self.source.fetch_token(spec).await?;
        tracing::debug!(
            repository = %spec.name,
            "new token, {}",
            crate::human::expiry(fresh.seconds_left(now()))
        );
        if let Err(e) = cache.write_token(&key, &fresh) {
            self.warn(format!("{e}; the token was not cached"));
        }
        drop(guard);
        Ok(fresh)
    }

    /// The repository endpoint (cached: it never changes).
    pub async fn endpoint(&self, spec: &RepositorySpec) -> Result<String, ProviderError> {
        let key = self.endpoint_key(spec);
        if let Some(e) = self.cache.as_ref().and_then(|c| c.read_endpoint(&key)) {
            return Ok(e);
        }
        let endpoint = self.source.fetch_endpoint(spec).await?;
        if let Some(cache) = &self.cache
            && let Err(e) = cache.write_endpoint(&key, &endpoint)
        {
            self.warn(format!("{e}; the endpoint was not cached"));
        }
        Ok(endpoint)
    }
}
