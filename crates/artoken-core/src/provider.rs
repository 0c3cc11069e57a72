//! Tokens and endpoints for a repository, from the shared cache when fresh, otherwise fetched
//! once (under the cache lock) and stored for every other process; entries are the caller's
//! own (see [`crate::identity`]). A repository whose token is handed in (see [`crate::handed`])
//! gets it read, and its endpoint computed from config: no AWS call at all.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cache::{Cache, CacheError, CacheKey, CachedCaller, CachedToken};
use crate::handed::{self, HandedError, HandedSource};
use crate::identity::{IdentityEnv, LocalIdentity, local_identity};
use crate::source::{SourceError, TokenSource, now};
use crate::spec::RepositorySpec;

/// Default: replace a token when less than 15 minutes (or a quarter of its life) is left.
pub const DEFAULT_REFRESH_BEFORE: u64 = 15 * 60;

/// How long who STS said the caller is stays believed, for callers nothing local names (an
/// instance role): one GetCallerIdentity per machine and identity this often, a stale answer
/// (an instance profile swapped under a running machine) at most this long.
pub const CALLER_TTL: i64 = 15 * 60;

/// How a [`Provider`] behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None`: no cache at all.
    pub cache_dir: Option<PathBuf>,
    /// Seconds; see [`crate::expiry::refresh_margin`].
    pub refresh_before: u64,
    /// `--refresh`: fetch a new token even if the cached one is fresh.
    pub force_refresh: bool,
    /// `--endpoint-url`.
    pub endpoint_override: Option<String>,
    /// Parts of the environment that change which token AWS gives: who the caller is (see
    /// [`crate::identity`]), the region, and the SDK's endpoint variables.
    pub identity_env: IdentityEnv,
    pub env_region: Option<String>,
    pub env_endpoint: Option<String>,
    /// How long to wait for another process's fetch.
    pub lock_timeout: Duration,
    /// Bound on one AWS call, retries included (`ARTOKEN_TIMEOUT`, e.g. `10s`).
    pub timeout: Duration,
    /// A token handed in for every repository (`--token-file`, `ARTOKEN_TOKEN_FILE`,
    /// `ARTOKEN_TOKEN`): read, never fetched (see [`crate::handed`]).
    pub handed: Option<HandedSource>,
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
            identity_env: IdentityEnv::from_env(env),
            env_region: nonempty("AWS_REGION").or_else(|| nonempty("AWS_DEFAULT_REGION")),
            env_endpoint: nonempty("AWS_ENDPOINT_URL_CODEARTIFACT")
                .or_else(|| nonempty("AWS_ENDPOINT_URL")),
            lock_timeout: Duration::from_secs(60),
            timeout: nonempty("ARTOKEN_TIMEOUT")
                .and_then(|t| crate::spec::parse_seconds(&t).ok())
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .unwrap_or(crate::source::DEFAULT_TIMEOUT),
            handed: HandedSource::global(None, env),
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
    #[error(transparent)]
    Handed(#[from] HandedError),
}

/// How long one process trusts its reading of the AWS config files (reading them takes about
/// 0.05-0.1 ms; a command reads them once, `serve` every minute at most).
const IDENTITY_REREAD: Duration = Duration::from_secs(60);

/// A spec's configured profile and role: all of it that changes its [`LocalIdentity`].
type ProfileAndRole = (Option<String>, Option<String>);

/// Token provider with the shared cache in front of the [`TokenSource`].
pub struct Provider {
    settings: Settings,
    cache: Option<Cache>,
    source: TokenSource,
    warnings: Mutex<Vec<String>>,
    /// Read at most every [`IDENTITY_REREAD`] (a long-lived `serve` sees edited AWS files).
    identities: Mutex<HashMap<ProfileAndRole, (Instant, LocalIdentity)>>,
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
            identities: Mutex::new(HashMap::new()),
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

    /// Where `spec`'s CodeArtifact calls go, as the token source picks it: `--endpoint-url`,
    /// the repository's `endpoint:`, then the environment's.
    fn endpoint_in_key<'a>(&'a self, spec: &'a RepositorySpec) -> Option<&'a str> {
        self.settings
            .endpoint_override
            .as_deref()
            .or(spec.endpoint.as_deref())
            .or(self.settings.env_endpoint.as_deref())
    }

    /// What this machine knows about who `spec`'s caller is (environment and shared config
    /// files; no network).
    pub fn local_identity(&self, spec: &RepositorySpec) -> LocalIdentity {
        let k = (spec.profile.clone(), spec.role_arn.clone());
        let mut memo = self.identities.lock().unwrap();
        match memo.get(&k) {
            Some((at, id)) if at.elapsed() < IDENTITY_REREAD => id.clone(),
            _ => {
                let id = local_identity(spec, &self.settings.identity_env);
                memo.insert(k, (Instant::now(), id.clone()));
                id
            }
        }
    }

    fn region_in_key<'a>(&'a self, spec: &'a RepositorySpec) -> Option<&'a str> {
        spec.region
            .as_deref()
            .or(self.settings.env_region.as_deref())
    }

    fn caller_key(&self, spec: &RepositorySpec, local: &LocalIdentity) -> CacheKey {
        CacheKey::for_caller(
            &local.material,
            self.region_in_key(spec),
            self.endpoint_in_key(spec),
        )
    }

    fn named(local: &LocalIdentity, caller: &CachedCaller) -> String {
        format!(
            "{};account={};arn={}",
            local.material, caller.account, caller.arn
        )
    }

    /// The identity part of `spec`'s keys, if known without a network call: the local one,
    /// or for a caller only STS can name, its cached answer.
    fn known_identity(&self, spec: &RepositorySpec, cache: &Cache) -> Option<String> {
        let local = self.local_identity(spec);
        if !local.opaque {
            return Some(local.material);
        }
        let caller = cache.read_caller(&self.caller_key(spec, &local), now(), CALLER_TTL)?;
        Some(Self::named(&local, &caller))
    }

    /// The identity part of `spec`'s keys: the local one, or for a caller only STS can name,
    /// STS GetCallerIdentity's account and ARN, asked once per [`CALLER_TTL`] for every process.
    async fn identity(
        &self,
        spec: &RepositorySpec,
        cache: &Cache,
    ) -> Result<String, ProviderError> {
        if let Some(known) = self.known_identity(spec, cache) {
            return Ok(known);
        }
        let local = self.local_identity(spec);
        let key = self.caller_key(spec, &local);
        let guard = self.lock_or_warn(cache, &key).await?;
        if guard.is_some()
            && let Some(c) = cache.read_caller(&key, now(), CALLER_TTL)
        {
            return Ok(Self::named(&local, &c));
        }
        tracing::debug!(repository = %spec.name, "asking STS who the caller is");
        let who = self.source.caller_identity(spec).await?;
        if who.arn.is_empty() || who.account.is_empty() {
            return Err(SourceError::Incomplete {
                operation: "GetCallerIdentity",
                field: "Arn",
            }
            .into());
        }
        let caller = CachedCaller {
            account: who.account,
            arn: who.arn,
            resolved_at: now(),
        };
        if let Err(e) = cache.write_caller(&key, &caller) {
            self.warn(format!("{e}; who the caller is was not cached"));
        }
        Ok(Self::named(&local, &caller))
    }

    /// The key `spec`'s token is cached under (asking STS who the caller is if nothing local
    /// says, see [`Provider::local_identity`]); `None` without a cache.
    pub async fn token_key(
        &self,
        spec: &RepositorySpec,
    ) -> Result<Option<CacheKey>, ProviderError> {
        let Some(cache) = &self.cache else {
            return Ok(None);
        };
        if self.handed_source(spec).is_some() {
            return Ok(None);
        }
        let identity = self.identity(spec, cache).await?;
        Ok(Some(self.token_key_for(spec, &identity)))
    }

    /// A key from what this machine knows alone (no network): the same for two specs exactly
    /// when one process's calls give them the same token, so it groups them (`serve`); it is
    /// the cache key unless STS has to name the caller.
    pub fn local_token_key(&self, spec: &RepositorySpec) -> CacheKey {
        if let Some(src) = self.handed_source(spec) {
            return self.token_key_for(spec, &format!("handed:{src}"));
        }
        self.token_key_for(spec, &self.local_identity(spec).material)
    }

    /// Where `spec`'s token is handed in from, if it is (then no AWS call is made for it).
    pub fn handed_source(&self, spec: &RepositorySpec) -> Option<HandedSource> {
        HandedSource::for_spec(self.settings.handed.as_ref(), spec)
    }

    /// The handed-in token, read now (a file is read again on every call, so `serve` sees a
    /// rotated secret); expired is an error naming the source.
    fn handed_token(
        &self,
        spec: &RepositorySpec,
        src: &HandedSource,
    ) -> Result<CachedToken, ProviderError> {
        let h = handed::read_now(src)?;
        for w in h.warnings {
            self.warn(w);
        }
        let left = h.token.seconds_left(now());
        if h.expiry_stated && h.token.needs_refresh(now(), self.settings.refresh_before) {
            self.warn(format!(
                "the token handed in by {src} for repository {} {}: hand in a fresh one soon",
                spec.name,
                crate::human::expiry(left)
            ));
        }
        tracing::debug!(repository = %spec.name, "token handed in by {src}");
        Ok(h.token)
    }

    fn token_key_for(&self, spec: &RepositorySpec, identity: &str) -> CacheKey {
        CacheKey::for_token(
            spec,
            self.settings.env_region.as_deref(),
            identity,
            self.endpoint_in_key(spec),
        )
    }

    fn endpoint_key_for(&self, spec: &RepositorySpec, identity: &str) -> CacheKey {
        CacheKey::for_endpoint(
            spec,
            self.settings.env_region.as_deref(),
            identity,
            self.endpoint_in_key(spec),
        )
    }

    /// The cached token, fresh or not, without any network call (for `status`).
    pub fn cached_token(&self, spec: &RepositorySpec) -> Option<CachedToken> {
        if let Some(src) = self.handed_source(spec) {
            return handed::read_now(&src).ok().map(|h| h.token);
        }
        let cache = self.cache.as_ref()?;
        let identity = self.known_identity(spec, cache)?;
        cache.read_token(&self.token_key_for(spec, &identity))
    }

    fn usable(&self, t: &CachedToken) -> bool {
        !t.needs_refresh(now(), self.settings.refresh_before)
    }

    /// The cache lock for `key`: `None` (with a warning) when the lock file cannot be used.
    async fn lock_or_warn(
        &self,
        cache: &Cache,
        key: &CacheKey,
    ) -> Result<Option<crate::cache::LockGuard>, ProviderError> {
        match cache.lock(key, self.settings.lock_timeout).await {
            Ok(g) => Ok(Some(g)),
            Err(e @ CacheError::LockTimeout { .. }) => Err(e.into()),
            Err(e) => {
                self.warn(format!("{e}; going on without the cache lock"));
                Ok(None)
            }
        }
    }

    /// The identity for the cache, or `None` (with a warning: work uncached) when STS cannot
    /// say who the caller is; the token or endpoint call then reports any credential trouble.
    async fn identity_or_uncached(
        &self,
        spec: &RepositorySpec,
        cache: &Cache,
    ) -> Result<Option<String>, ProviderError> {
        match self.identity(spec, cache).await {
            Ok(i) => Ok(Some(i)),
            Err(e @ ProviderError::Cache(CacheError::LockTimeout { .. })) => Err(e),
            Err(e) => {
                self.warn(format!(
                    "cannot tell who the AWS caller is ({e}); working without the cache"
                ));
                Ok(None)
            }
        }
    }

    /// A token for the spec's domain: cached if fresh, else fetched once for all processes.
    pub async fn token(&self, spec: &RepositorySpec) -> Result<CachedToken, ProviderError> {
        if let Some(src) = self.handed_source(spec) {
            return self.handed_token(spec, &src);
        }
        let Some(cache) = &self.cache else {
            return Ok(self.source.fetch_token(spec).await?);
        };
        let Some(identity) = self.identity_or_uncached(spec, cache).await? else {
            return Ok(self.source.fetch_token(spec).await?);
        };
        let key = self.token_key_for(spec, &identity);
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
        let guard = self.lock_or_warn(cache, &key).await?;
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

    /// The repository endpoint (cached per caller: it never changes).
    pub async fn endpoint(&self, spec: &RepositorySpec) -> Result<String, ProviderError> {
        // A configured VPC endpoint (docs/networks.md): the URL is the config's, no AWS call.
        if let Some(url) = spec.vpce_url() {
            return Ok(url);
        }
        if let Some(src) = self.handed_source(spec) {
            return Ok(handed::endpoint(
                spec,
                self.settings.env_region.as_deref(),
                self.endpoint_in_key(spec),
                &src,
            )?);
        }
        let Some(cache) = &self.cache else {
            return Ok(self.source.fetch_endpoint(spec).await?);
        };
        let Some(identity) = self.identity_or_uncached(spec, cache).await? else {
            return Ok(self.source.fetch_endpoint(spec).await?);
        };
        let key = self.endpoint_key_for(spec, &identity);
        if let Some(e) = cache.read_endpoint(&key) {
            return Ok(e);
        }
        let endpoint = self.source.fetch_endpoint(spec).await?;
        if let Err(e) = cache.write_endpoint(&key, &endpoint) {
            self.warn(format!("{e}; the endpoint was not cached"));
        }
        Ok(endpoint)
    }
}
