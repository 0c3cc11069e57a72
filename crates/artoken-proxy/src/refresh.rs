//! Tokens for the served repositories: one cell per token (tokens are per domain), refreshed in
//! the background before expiry through artoken's shared cache, retried with jittered backoff
//! while a refresh fails and the current token still works, replaced at once when upstream
//! rejects it.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use artoken_core::cache::CachedToken;
use artoken_core::expiry::{Expiry, now, now_f64};
use artoken_core::provider::DEFAULT_REFRESH_BEFORE;
use artoken_core::redact::redact;
use artoken_core::{Provider, RepositorySpec, Settings, Token};
use base64::Engine;
use http::HeaderValue;
use tokio::sync::{Mutex, Notify};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where tokens come from (artoken's [`Provider`] in the binary; a stub in tests).
pub trait TokenSource: Send + Sync + 'static {
    /// A token for `spec`'s domain: a fresh cached one if there is one, unless `force`.
    fn token<'a>(
        &'a self,
        spec: &'a RepositorySpec,
        force: bool,
    ) -> BoxFuture<'a, Result<CachedToken, String>>;

    /// Replace a token when less than this many seconds (or a quarter of its life) is left.
    fn refresh_before(&self) -> u64 {
        DEFAULT_REFRESH_BEFORE
    }
}

/// Tokens from artoken's provider and its cache, shared with every other artoken process.
pub struct ProviderTokens {
    normal: Provider,
    forced: Provider,
}

impl ProviderTokens {
    pub fn new(settings: Settings) -> ProviderTokens {
        let mut normal = settings.clone();
        normal.force_refresh = false;
        let mut forced = settings;
        forced.force_refresh = true;
        ProviderTokens {
            normal: Provider::new(normal),
            forced: Provider::new(forced),
        }
    }
}

impl TokenSource for ProviderTokens {
    fn token<'a>(
        &'a self,
        spec: &'a RepositorySpec,
        force: bool,
    ) -> BoxFuture<'a, Result<CachedToken, String>> {
        Box::pin(async move {
            let provider = if force { &self.forced } else { &self.normal };
            let result = provider.token(spec).await;
            for w in provider.take_warnings() {
                tracing::warn!("{w}");
            }
            result.map_err(|e| redact(&e.to_string()).into_owned())
        })
    }

    fn refresh_before(&self) -> u64 {
        self.normal.settings().refresh_before
    }
}

/// How a request authenticates upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Basic base64(aws:TOKEN)` (pypi, maven, nuget, ruby).
    Basic,
    /// `Bearer TOKEN` (npm, cargo, swift).
    Bearer,
}

/// The token in use, with its ready-made `Authorization` values.
pub struct Current {
    pub token: Token,
    /// Judged by [`artoken_core::expiry`], like every other token.
    pub expiry: Expiry,
    /// Grows by one with every new token.
    pub generation: u64,
    basic: HeaderValue,
    bearer: HeaderValue,
}

impl Current {
    fn new(t: CachedToken, generation: u64) -> Result<Current, String> {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("aws:{}", t.token.expose()));
        let mut basic = HeaderValue::from_str(&format!("Basic {basic}"))
            .map_err(|_| "the token has characters a header cannot carry".to_string())?;
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", t.token.expose()))
            .map_err(|_| "the token has characters a header cannot carry".to_string())?;
        basic.set_sensitive(true);
        bearer.set_sensitive(true);
        Ok(Current {
            expiry: t.expiry(),
            token: t.token,
            generation,
            basic,
            bearer,
        })
    }

    pub fn header(&self, scheme: Scheme) -> HeaderValue {
        match scheme {
            Scheme::Basic => self.basic.clone(),
            Scheme::Bearer => self.bearer.clone(),
        }
    }

    /// Past its expiration, by AWS's clock.
    pub fn expired(&self) -> bool {
        self.expiry.expired(now())
    }
}

#[derive(Default)]
struct State {
    current: Option<Arc<Current>>,
    last_error: Option<String>,
    /// Failed attempts in a row.
    failures: u32,
    last_failure: Option<Instant>,
    /// When the background task tries again after a failure.
    retry_at: Option<Instant>,
    last_forced: Option<Instant>,
}

impl State {
    /// Counts a failed fetch and schedules the next try: exponential backoff from 1 s to
    /// 60 s with jitter, but while the current token works, at least four tries before it
    /// expires.
    fn record_failure(&mut self, error: String) {
        self.failures += 1;
        let now = Instant::now();
        self.last_failure = Some(now);
        self.last_error = Some(error);
        let exp = BACKOFF_FIRST.saturating_mul(1 << self.failures.min(16).saturating_sub(1));
        let mut delay = exp.min(BACKOFF_MAX).mul_f64(0.5 + 0.5 * jitter());
        if let Some(c) = &self.current {
            let left = c.expiry.expires_at_local() as f64 - now_f64();
            if left > 0.0 {
                delay = delay.min(Duration::from_secs_f64((left / 4.0).max(0.5)));
            }
        }
        self.retry_at = Some(now + delay);
    }
}

/// After a failed fetch, requests wait this long before trying again themselves.
const FAILED_FETCH_QUIET: Duration = Duration::from_secs(2);
/// At most one forced (cache-bypassing) fetch per token in this time.
const FORCED_MIN_INTERVAL: Duration = Duration::from_secs(10);
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// What health reports about a token.
pub struct Snapshot {
    pub expires_in: Option<i64>,
    pub last_error: Option<String>,
    pub failures: u32,
}

/// One token (a domain, as one identity), shared by every repository that uses it.
pub struct TokenCell {
    spec: RepositorySpec,
    source: Arc<dyn TokenSource>,
    state: RwLock<State>,
    /// Held while fetching, so one fetch serves everyone waiting.
    fetching: Mutex<()>,
    wake: Notify,
    generations: AtomicU64,
}

impl TokenCell {
    pub fn new(spec: RepositorySpec, source: Arc<dyn TokenSource>) -> TokenCell {
        TokenCell {
            spec,
            source,
            state: RwLock::new(State::default()),
            fetching: Mutex::new(()),
            wake: Notify::new(),
            generations: AtomicU64::new(0),
        }
    }

    pub fn current(&self) -> Option<Arc<Current>> {
        self.state.read().unwrap().current.clone()
    }

    pub fn snapshot(&self) -> Snapshot {
        let st = self.state.read().unwrap();
        Snapshot {
            expires_in: st.current.as_ref().map(|c| c.expiry.seconds_left(now())),
            last_error: st.last_error.clone(),
            failures: st.failures,
        }
    }

    fn usable_current(&self) -> Option<Arc<Current>> {
        self.current().filter(|c| !c.expired())
    }

    /// The token for a new request: the current one unless it expired, else a fetch (shared
    /// with every other waiting request; not repeated within 2 s of a failure).
    pub async fn for_request(&self) -> Result<Arc<Current>, String> {
        if let Some(c) = self.usable_current() {
            return Ok(c);
        }
        let _guard = self.fetching.lock().await;
        if let Some(c) = self.usable_current() {
            return Ok(c);
        }
        {
            let st = self.state.read().unwrap();
            if let (Some(at), Some(e)) = (st.last_failure, &st.last_error)
                && at.elapsed() < FAILED_FETCH_QUIET
            {
                return Err(e.clone());
            }
        }
        self.fetch_locked(false).await
    }

    /// Upstream refused `used`: the token to retry with, if there is a better one. A token
    /// rotated meanwhile is taken as is; an expired one is fetched again; a live one that was
    /// refused is replaced bypassing the cache (at most once per 10 s).
    pub async fn after_rejection(&self, used: &Current) -> Option<Arc<Current>> {
        let newer = |c: &Arc<Current>| c.generation != used.generation && !c.expired();
        if let Some(c) = self.current().filter(newer) {
            return Some(c);
        }
        let _guard = self.fetching.lock().await;
        if let Some(c) = self.current().filter(newer) {
            return Some(c);
        }
        let force = if used.expired() {
            false
        } else {
            let mut st = self.state.write().unwrap();
            if st
                .last_forced
                .is_some_and(|t| t.elapsed() < FORCED_MIN_INTERVAL)
            {
                return None;
            }
            st.last_forced = Some(Instant::now());
            true
        };
        tracing::info!(
            "repository {}: upstream refused the token; fetching {}",
            self.spec.name,
            if force { "a new one" } else { "a fresh one" }
        );
        self.fetch_locked(force)
            .await
            .ok()
            .filter(|c| c.generation != used.generation)
    }

    /// Fetches (caller holds `fetching`) and installs the result.
    async fn fetch_locked(&self, force: bool) -> Result<Arc<Current>, String> {
        let result = self.source.token(&self.spec, force).await;
        let mut st = self.state.write().unwrap();
        match result.and_then(|t| {
            match &st.current {
                // The same token again (still fresh in the shared cache): keep its generation.
                Some(c) if c.token == t.token => Ok(c.clone()),
                _ => Current::new(t, self.generations.fetch_add(1, Ordering::Relaxed) + 1)
                    .map(Arc::new),
            }
        }) {
            Ok(c) => {
                if st.failures > 0 {
                    tracing::warn!(
                        "repository {}: token refreshed after {} failed attempt(s)",
                        self.spec.name,
                        st.failures
                    );
                }
                st.current = Some(c.clone());
                st.last_error = None;
                st.failures = 0;
                st.last_failure = None;
                st.retry_at = None;
                drop(st);
                self.wake.notify_one();
                Ok(c)
            }
            Err(e) => {
                st.record_failure(e.clone());
                let left = st.current.as_ref().map(|c| c.expiry.seconds_left(now()));
                drop(st);
                match left {
                    Some(l) if l > 0 => tracing::warn!(
                        "repository {}: cannot refresh the token (the current one works for {l}s more): {e}",
                        self.spec.name
                    ),
                    _ => tracing::warn!("repository {}: cannot get a token: {e}", self.spec.name),
                }
                Err(e)
            }
        }
    }

    /// The first token, before serving (a failure is logged and retried in the background).
    pub async fn prime(&self, timeout: Duration) {
        let _guard = self.fetching.lock().await;
        if tokio::time::timeout(timeout, self.fetch_locked(false))
            .await
            .is_err()
        {
            let mut st = self.state.write().unwrap();
            st.record_failure(format!("no answer within {}s", timeout.as_secs()));
        }
    }

    /// Seconds from now until the current token is due for replacement (0: now).
    fn due_in(&self) -> f64 {
        let st = self.state.read().unwrap();
        let Some(c) = &st.current else {
            return 0.0;
        };
        let due = c.expiry.refresh_at_local(self.source.refresh_before()) as f64;
        // The policy counts whole seconds: wake just after the second it considers due.
        (due - now_f64() + 0.01).max(0.0)
    }

    /// How long the background task sleeps before its next attempt.
    fn next_delay(&self) -> Duration {
        let due = Duration::from_secs_f64(self.due_in());
        let st = self.state.read().unwrap();
        match st.retry_at {
            Some(at) if due.is_zero() => at.saturating_duration_since(Instant::now()),
            _ => due,
        }
    }

    /// The background refresher: sleeps until the token is due, then fetches; never returns.
    pub async fn run(self: Arc<Self>) {
        loop {
            let delay = self.next_delay();
            if !delay.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = self.wake.notified() => continue,
                }
            }
            let _guard = self.fetching.lock().await;
            if self.due_in() > 0.0 {
                continue;
            }
            if !self.next_delay().is_zero() {
                // A request's fetch failed meanwhile: back off from that one.
                continue;
            }
            let before = self.current().map(|c| c.generation);
            let fetched = self.fetch_locked(false).await;
            if fetched.is_ok_and(|c| Some(c.generation) == before) && self.due_in() == 0.0 {
                // The source handed back the token it had: do not spin on it.
                drop(_guard);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// A number in [0, 1) that differs between calls and processes.
fn jitter() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::AtomicBool;

    /// Issues `tok-N` tokens living `life` seconds by a clock `skew` seconds ahead of this
    /// machine's; fails while `down`.
    struct Stub {
        life: i64,
        skew: i64,
        n: AtomicU64,
        down: AtomicBool,
        forced: AtomicU64,
        seen: StdMutex<Vec<bool>>,
    }

    impl TokenSource for Stub {
        fn token<'a>(
            &'a self,
            _spec: &'a RepositorySpec,
            force: bool,
        ) -> BoxFuture<'a, Result<CachedToken, String>> {
            Box::pin(async move {
                self.seen.lock().unwrap().push(force);
                if force {
                    self.forced.fetch_add(1, Ordering::Relaxed);
                }
                if self.down.load(Ordering::Relaxed) {
                    return Err("GetAuthorizationToken failed: 500".into());
                }
                let n = self.n.fetch_add(1, Ordering::Relaxed) + 1;
                let now = now();
                Ok(CachedToken {
                    token: Token::new(format!("tok-{n}")),
                    expires_at: now + self.skew + self.life,
                    fetched_at: now,
                    skew: self.skew,
                })
            })
        }
    }

    fn cell(life: i64) -> (Arc<TokenCell>, Arc<Stub>) {
        skewed_cell(life, 0)
    }

    fn skewed_cell(life: i64, skew: i64) -> (Arc<TokenCell>, Arc<Stub>) {
        let stub = Arc::new(Stub {
            life,
            skew,
            n: AtomicU64::new(0),
            down: AtomicBool::new(false),
            forced: AtomicU64::new(0),
            seen: StdMutex::new(Vec::new()),
        });
        let c = TokenCell::new(RepositorySpec::new("demo", "demo"), stub.clone());
        (Arc::new(c), stub)
    }

    #[tokio::test]
    async fn a_refused_live_token_is_replaced_once_per_interval() {
        let (c, stub) = cell(3600);
        c.prime(Duration::from_secs(1)).await;
        let first = c.current().unwrap();
        assert_eq!(first.token.expose(), "tok-1");
        let second = c.after_rejection(&first).await.unwrap();
        assert_eq!(second.token.expose(), "tok-2");
        assert_eq!(second.generation, first.generation + 1);
        // a second refusal of the old token takes the new one without a fetch
        let again = c.after_rejection(&first).await.unwrap();
        assert_eq!(again.token.expose(), "tok-2");
        // the new one refused too: no second forced fetch within the interval
        assert!(c.after_rejection(&second).await.is_none());
        assert_eq!(stub.forced.load(Ordering::Relaxed), 1);
        let h = second.header(Scheme::Basic);
        assert!(h.is_sensitive());
        assert_eq!(second.header(Scheme::Bearer), "Bearer tok-2");
    }

    #[tokio::test]
    async fn failures_are_reported_and_retried_with_backoff() {
        let (c, stub) = cell(3600);
        stub.down.store(true, Ordering::Relaxed);
        c.prime(Duration::from_secs(1)).await;
        assert!(c.current().is_none());
        let snap = c.snapshot();
        assert_eq!(snap.failures, 1);
        assert!(snap.last_error.unwrap().contains("500"));
        // requests within the quiet time get the error without another fetch
        assert!(c.for_request().await.is_err());
        assert_eq!(stub.seen.lock().unwrap().len(), 1);
        let d = c.next_delay();
        assert!(d <= Duration::from_secs(1), "{d:?}");
        stub.down.store(false, Ordering::Relaxed);
        let task = tokio::spawn(c.clone().run());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(c.current().unwrap().token.expose(), "tok-1");
        assert!(c.snapshot().last_error.is_none());
        task.abort();
    }

    #[tokio::test]
    async fn short_tokens_are_replaced_before_they_expire() {
        let (c, _stub) = cell(4);
        c.prime(Duration::from_secs(1)).await;
        let task = tokio::spawn(c.clone().run());
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let cur = c.current().unwrap();
            assert!(!cur.expired(), "token {} expired", cur.token.expose());
        }
        assert!(c.current().unwrap().generation >= 3);
        task.abort();
    }

    #[tokio::test]
    async fn tokens_from_a_clock_ahead_are_replaced_by_that_clock() {
        // AWS is 10 min ahead and gives 4 s tokens: by this machine's clock each would look
        // good for 10 min more, by AWS's it is gone in 4 s.
        let (c, _stub) = skewed_cell(4, 600);
        c.prime(Duration::from_secs(1)).await;
        let first = c.current().unwrap();
        assert_eq!(first.expiry.life(), 4);
        let task = tokio::spawn(c.clone().run());
        for _ in 0..24 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let cur = c.current().unwrap();
            assert!(
                cur.expiry.expires_at > now() + 600,
                "token {} is expired on AWS's clock",
                cur.token.expose()
            );
            assert!(!cur.expired());
        }
        assert!(c.current().unwrap().generation >= 2);
        task.abort();
        // and a token past its time on AWS's clock counts as expired here
        let gone = Current::new(
            CachedToken {
                token: Token::new("gone"),
                expires_at: now() + 300,
                fetched_at: now() - 600,
                skew: 600,
            },
            1,
        )
        .unwrap();
        assert!(gone.expired());
        assert!(c.snapshot().expires_in.unwrap() > 0);
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
