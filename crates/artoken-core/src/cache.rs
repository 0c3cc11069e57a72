//! The on-disk token cache every process shares: one JSON file per key, 0600 in a 0700
//! per-user dir, written atomically; a lock file (never holding a token) makes concurrent
//! callers wait for one fetch instead of each making their own.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic::write_atomic;
use crate::expiry::Expiry;
use crate::secret::Token;
use crate::spec::RepositorySpec;

const VERSION: u32 = 1;

/// Why the cache could not be used (callers warn and go on uncached).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache dir {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cache file {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("timed out after {}s waiting for another artoken process to fetch a token (lock {})", waited.as_secs(), path.display())]
    LockTimeout { path: PathBuf, waited: Duration },
}

/// What identifies a cache entry: everything that changes the answer AWS would give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    material: String,
    hash: String,
}

impl CacheKey {
    /// Tokens are per domain and caller: the key covers domain, owner, region, duration, the
    /// caller's identity (see [`crate::identity`]: the credential source and what names it)
    /// and the endpoint override.
    pub fn for_token(
        spec: &RepositorySpec,
        region: Option<&str>,
        identity: &str,
        endpoint_override: Option<&str>,
    ) -> CacheKey {
        let fields = [
            "token",
            &spec.domain,
            spec.owner.as_deref().unwrap_or(""),
            spec.region.as_deref().or(region).unwrap_or(""),
            &spec.duration.as_seconds().to_string(),
            identity,
            endpoint_override.unwrap_or(""),
        ];
        CacheKey::from_fields(&fields)
    }

    /// Endpoints are per repository and format (and never change), and per caller: without
    /// an owner the domain is the caller's account's, and the region may come from its profile.
    pub fn for_endpoint(
        spec: &RepositorySpec,
        region: Option<&str>,
        identity: &str,
        endpoint_override: Option<&str>,
    ) -> CacheKey {
        let fields = [
            "endpoint",
            &spec.domain,
            spec.owner.as_deref().unwrap_or(""),
            spec.region.as_deref().or(region).unwrap_or(""),
            spec.repository.as_deref().unwrap_or(""),
            spec.format.as_str(),
            identity,
            endpoint_override.unwrap_or(""),
        ];
        CacheKey::from_fields(&fields)
    }

    /// Who STS said the caller is, for credentials that nothing on this machine names (an
    /// instance role): keyed by what is known locally about them.
    pub fn for_caller(
        local_identity: &str,
        region: Option<&str>,
        endpoint_override: Option<&str>,
    ) -> CacheKey {
        let fields = [
            "caller",
            local_identity,
            region.unwrap_or(""),
            endpoint_override.unwrap_or(""),
        ];
        CacheKey::from_fields(&fields)
    }

    fn from_fields(fields: &[&str]) -> CacheKey {
        let material = fields.join("\u{1f}");
        let digest = Sha256::digest(material.as_bytes());
        CacheKey {
            hash: hex::encode(&digest[..16]),
            material,
        }
    }

    /// The file name stem (a hash: no names or secrets in file names).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    fn check(&self) -> String {
        hex::encode(Sha256::digest(self.material.as_bytes()))
    }
}

/// A token as cached: AWS's own expiration (UTC epoch seconds on AWS's clock), when it was
/// fetched (this machine's clock) and AWS's clock minus this machine's then; see
/// [`crate::expiry`], which judges it.
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub token: Token,
    pub expires_at: i64,
    pub fetched_at: i64,
    pub skew: i64,
}

impl CachedToken {
    pub fn expiry(&self) -> Expiry {
        Expiry {
            expires_at: self.expires_at,
            fetched_at: self.fetched_at,
            skew: self.skew,
        }
    }

    /// True when the token should be replaced at this machine's time `now`: expired by AWS's
    /// clock, or no more than the refresh margin left (see [`crate::expiry::refresh_margin`]).
    pub fn needs_refresh(&self, now: i64, refresh_before: u64) -> bool {
        self.expiry().needs_refresh(now, refresh_before)
    }

    /// Seconds AWS will still accept it, at this machine's time `now`.
    pub fn seconds_left(&self, now: i64) -> i64 {
        self.expiry().seconds_left(now)
    }
}

/// Who STS said the caller is, as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCaller {
    pub account: String,
    pub arn: String,
    /// This machine's epoch seconds.
    pub resolved_at: i64,
}

#[derive(Serialize, Deserialize)]
struct TokenFile {
    version: u32,
    key: String,
    token: String,
    expires_at: i64,
    fetched_at: i64,
    /// Absent in entries written before the skew was kept: this machine's clock.
    #[serde(default)]
    skew: i64,
}

#[derive(Serialize, Deserialize)]
struct CallerFile {
    version: u32,
    key: String,
    account: String,
    arn: String,
    resolved_at: i64,
}

#[derive(Serialize, Deserialize)]
struct EndpointFile {
    version: u32,
    key: String,
    endpoint: String,
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// Holds the per-key lock until dropped.
pub struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    /// `$ARTOKEN_CACHE_DIR`, else `$XDG_CACHE_HOME/artoken`, else `$HOME/.cache/artoken`.
    pub fn default_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let nonempty = |k: &str| env(k).filter(|v| !v.is_empty());
        if let Some(d) = nonempty("ARTOKEN_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        if let Some(d) = nonempty("XDG_CACHE_HOME") {
            return Some(Path::new(&d).join("artoken"));
        }
        nonempty("HOME").map(|h| Path::new(&h).join(".cache").join("artoken"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the dir (0700) if needed and checks it is ours (see [`crate::ownership`]), as ssh
    /// checks `~/.ssh`: a symlink there, or a directory of another user, is refused, never
    /// followed or chmodded (the caller then works uncached). Ours and open to others: made 0700.
    pub fn prepare(&self) -> Result<(), CacheError> {
        let err = |source| CacheError::Dir {
            path: self.dir.clone(),
            source,
        };
        let refuse = |kind, why: String| err(io::Error::new(kind, why));
        let found = match fs::symlink_metadata(&self.dir) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&self.dir)
                    .map_err(err)?;
                fs::symlink_metadata(&self.dir).map_err(err)?
            }
            Err(e) => return Err(err(e)),
        };
        // A symlink only when root made it (systemd's `CacheDirectory=` with `DynamicUser=`
        // links /var/cache/NAME to /var/cache/private/NAME); the directory it names is judged
        // below like any other. Anyone else's symlink is refused.
        let found = if found.file_type().is_symlink() {
            if found.uid() != 0 {
                return Err(refuse(
                    io::ErrorKind::PermissionDenied,
                    "is a symlink; artoken keeps tokens only in a real directory of yours".into(),
                ));
            }
            fs::metadata(&self.dir).map_err(err)?
        } else {
            found
        };
        if !found.is_dir() {
            return Err(refuse(
                io::ErrorKind::NotADirectory,
                "exists and is not a directory".into(),
            ));
        }
        let me = crate::ownership::euid();
        let facts = crate::ownership::Facts::of(&found);
        if let Err(why) = crate::ownership::check(facts, me, crate::ownership::Purpose::Write) {
            return Err(refuse(io::ErrorKind::PermissionDenied, why.to_string()));
        }
        // Fix the mode through a handle on the directory just judged: if the name was swapped
        // for a symlink meanwhile, the handle is another inode and nothing is changed.
        let dir = File::open(&self.dir).map_err(err)?;
        let opened = dir.metadata().map_err(err)?;
        if (opened.dev(), opened.ino()) != (found.dev(), found.ino()) {
            return Err(refuse(
                io::ErrorKind::PermissionDenied,
                "was replaced while being checked".into(),
            ));
        }
        if opened.permissions().mode() & 0o077 != 0 {
            dir.set_permissions(fs::Permissions::from_mode(0o700))
                .map_err(err)?;
        }
        Ok(())
    }

    fn token_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.token.json", key.hash))
    }

    fn endpoint_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.endpoint.json", key.hash))
    }

    fn caller_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.caller.json", key.hash))
    }

    fn lock_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.lock", key.hash))
    }

    /// The cached token for `key`, if any. A corrupt, foreign or other-version entry is
    /// removed and reported as absent.
    pub fn read_token(&self, key: &CacheKey) -> Option<CachedToken> {
        let path = self.token_path(key);
        let bytes = fs::read(&path).ok()?;
        match serde_json::from_slice::<TokenFile>(&bytes) {
            Ok(f) if f.version == VERSION && f.key == key.check() && !f.token.is_empty() => {
                Some(CachedToken {
                    token: Token::new(f.token),
                    expires_at: f.expires_at,
                    fetched_at: f.fetched_at,
                    skew: f.skew,
                })
            }
            _ => {
                tracing::debug!("discarding unusable cache entry {}", path.display());
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    pub fn write_token(&self, key: &CacheKey, token: &CachedToken) -> Result<(), CacheError> {
        let path = self.token_path(key);
        let body = serde_json::to_vec(&TokenFile {
            version: VERSION,
            key: key.check(),
            token: token.token.expose().to_string(),
            expires_at: token.expires_at,
            fetched_at: token.fetched_at,
            skew: token.skew,
        })
        .map_err(|e| CacheError::File {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        write_atomic(&path, &body, 0o600).map_err(|source| CacheError::File { path, source })?;
        self.sweep_stale_temp_files();
        Ok(())
    }

    /// Removes temp files left by processes killed mid-write, for every entry (the write above
    /// swept its own target's): those whose writer is gone, see [`crate::atomic`].
    fn sweep_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            // `.NAME.tmp.PID.N` belongs to NAME.
            if let Some((target, _)) = name
                .strip_prefix('.')
                .and_then(|n| n.split_once(".tmp."))
                .filter(|(t, _)| t.ends_with(".json"))
            {
                crate::atomic::sweep_stale_temp_files(&self.dir.join(target));
            }
        }
    }

    pub fn read_endpoint(&self, key: &CacheKey) -> Option<String> {
        let path = self.endpoint_path(key);
        let bytes = fs::read(&path).ok()?;
        match serde_json::from_slice::<EndpointFile>(&bytes) {
            Ok(f) if f.version == VERSION && f.key == key.check() && !f.endpoint.is_empty() => {
                Some(f.endpoint)
            }
            _ => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    pub fn write_endpoint(&self, key: &CacheKey, endpoint: &str) -> Result<(), CacheError> {
        let path = self.endpoint_path(key);
        let body = serde_json::to_vec(&EndpointFile {
            version: VERSION,
            key: key.check(),
            endpoint: endpoint.to_string(),
        })
        .map_err(|e| CacheError::File {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        write_atomic(&path, &body, 0o600).map_err(|source| CacheError::File { path, source })
    }

    /// The caller cached for `key` if it was resolved no more than `ttl` seconds before `now`
    /// (this machine's clock); an unusable entry is removed.
    pub fn read_caller(&self, key: &CacheKey, now: i64, ttl: i64) -> Option<CachedCaller> {
        let path = self.caller_path(key);
        let bytes = fs::read(&path).ok()?;
        match serde_json::from_slice::<CallerFile>(&bytes) {
            Ok(f) if f.version == VERSION && f.key == key.check() && !f.arn.is_empty() => {
                let age = now - f.resolved_at;
                (0..=ttl).contains(&age).then_some(CachedCaller {
                    account: f.account,
                    arn: f.arn,
                    resolved_at: f.resolved_at,
                })
            }
            _ => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    pub fn write_caller(&self, key: &CacheKey, caller: &CachedCaller) -> Result<(), CacheError> {
        let path = self.caller_path(key);
        let body = serde_json::to_vec(&CallerFile {
            version: VERSION,
            key: key.check(),
            account: caller.account.clone(),
            arn: caller.arn.clone(),
            resolved_at: caller.resolved_at,
        })
        .map_err(|e| CacheError::File {
            path: path.clone(),
            source: io::Error::other(e),
        })?;
        write_atomic(&path, &body, 0o600).map_err(|source| CacheError::File { path, source })
    }

    /// Takes the exclusive lock for `key`, waiting up to `timeout` for another process.
    pub async fn lock(&self, key: &CacheKey, timeout: Duration) -> Result<LockGuard, CacheError> {
        let path = self.lock_path(key);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| CacheError::File {
                path: path.clone(),
                source,
            })?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(LockGuard { file }),
                Err(fs::TryLockError::WouldBlock) => {
                    if start.elapsed() >= timeout {
                        return Err(CacheError::LockTimeout {
                            path,
                            waited: timeout,
                        });
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(fs::TryLockError::Error(source)) => {
                    return Err(CacheError::File { path, source });
                }
            }
        }
    }

    /// Removes every cache file; returns how many were removed.
    pub fn clear(&self) -> Result<usize, CacheError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(source) => {
                return Err(CacheError::Dir {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut n = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name.ends_with(".token.json")
                || name.ends_with(".endpoint.json")
                || name.ends_with(".caller.json")
                || name.ends_with(".lock")
                || name.contains(".json.tmp.");
            if ours {
                fs::remove_file(&path).map_err(|source| CacheError::File { path, source })?;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RepositorySpec {
        let mut s = RepositorySpec::new("corp", "corp");
        s.owner = Some("111122223333".into());
        s.repository = Some("pypi-store".into());
        s
    }

    fn tok(v: &str, expires_at: i64, fetched_at: i64) -> CachedToken {
        CachedToken {
            token: Token::new(v),
            expires_at,
            fetched_at,
            skew: 0,
        }
    }

    const ME: &str = "env-key=AKIAIOSFODNN7EXAMPLE";

    #[test]
    fn keys_change_with_everything_that_changes_the_token() {
        let a = CacheKey::for_token(&spec(), None, ME, None);
        assert_ne!(a, CacheKey::for_token(&spec(), None, "profile=work", None));
        assert_ne!(a, CacheKey::for_token(&spec(), Some("eu-west-1"), ME, None));
        assert_ne!(
            a,
            CacheKey::for_token(&spec(), None, ME, Some("http://127.0.0.1:1"))
        );
        let mut d = spec();
        d.duration = crate::spec::TokenDuration::Seconds(900);
        assert_ne!(a, CacheKey::for_token(&d, None, ME, None));
        // the repository does not change a token (tokens are per domain)
        let mut r = spec();
        r.repository = Some("other".into());
        assert_eq!(a, CacheKey::for_token(&r, None, ME, None));
        // the configured region is the one used, whatever AWS_REGION says
        let mut eu = spec();
        eu.region = Some("eu-west-1".into());
        assert_eq!(
            CacheKey::for_token(&eu, Some("us-east-1"), ME, None),
            CacheKey::for_token(&eu, None, ME, None)
        );
    }

    #[test]
    fn endpoint_keys_name_the_caller() {
        let mut s = spec();
        s.owner = None;
        let a = CacheKey::for_endpoint(&s, None, "env-key=AKIAONE", None);
        let b = CacheKey::for_endpoint(&s, None, "env-key=AKIATWO", None);
        assert_ne!(
            a, b,
            "without an owner the domain is the caller's account's"
        );
        assert_ne!(
            CacheKey::for_token(&s, None, "env-key=AKIAONE", None),
            a,
            "token and endpoint entries never share a file"
        );
        let c = CacheKey::for_caller("instance", None, None);
        assert_ne!(c, CacheKey::for_caller("instance", Some("us-east-1"), None));
    }

    #[test]
    fn entries_round_trip_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        cache.prepare().unwrap();
        assert_eq!(
            fs::metadata(cache.dir()).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let key = CacheKey::for_token(&spec(), None, ME, None);
        let mut skewed = tok("secret-token", 100, 50);
        skewed.skew = -7;
        cache.write_token(&key, &skewed).unwrap();
        let back = cache.read_token(&key).unwrap();
        assert_eq!(back.token.expose(), "secret-token");
        assert_eq!((back.expires_at, back.fetched_at, back.skew), (100, 50, -7));
        let file = cache.token_path(&key);
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let ekey = CacheKey::for_endpoint(&spec(), None, ME, None);
        cache.write_endpoint(&ekey, "https://e/").unwrap();
        assert_eq!(cache.read_endpoint(&ekey).as_deref(), Some("https://e/"));
        let ckey = CacheKey::for_caller("instance", None, None);
        let caller = CachedCaller {
            account: "111122223333".into(),
            arn: "arn:aws:sts::111122223333:assumed-role/r/i-1".into(),
            resolved_at: 1000,
        };
        cache.write_caller(&ckey, &caller).unwrap();
        assert_eq!(cache.read_caller(&ckey, 1000 + 900, 900), Some(caller));
        assert_eq!(
            cache.read_caller(&ckey, 1000 + 901, 900),
            None,
            "older than its time to live"
        );
        assert_eq!(cache.read_caller(&ckey, 999, 900), None, "from the future");
        assert_eq!(
            fs::metadata(cache.caller_path(&ckey))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert_eq!(cache.clear().unwrap(), 3);
        assert!(cache.read_token(&key).is_none());
    }

    #[test]
    fn entries_written_before_the_skew_was_kept_are_read_on_this_clock() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let key = CacheKey::for_token(&spec(), None, ME, None);
        let body = serde_json::json!({
            "version": VERSION,
            "key": key.check(),
            "token": "old",
            "expires_at": 100,
            "fetched_at": 50,
        });
        fs::write(cache.token_path(&key), body.to_string()).unwrap();
        let t = cache.read_token(&key).unwrap();
        assert_eq!((t.expires_at, t.fetched_at, t.skew), (100, 50, 0));
    }

    #[test]
    fn corrupt_and_foreign_entries_are_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let key = CacheKey::for_token(&spec(), None, ME, None);
        fs::write(cache.token_path(&key), b"{not json").unwrap();
        assert!(cache.read_token(&key).is_none());
        assert!(!cache.token_path(&key).exists());
        // an entry written for another key under this key's file name
        let other = CacheKey::for_token(&spec(), Some("us-west-2"), ME, None);
        cache.write_token(&other, &tok("t", 1, 0)).unwrap();
        fs::rename(cache.token_path(&other), cache.token_path(&key)).unwrap();
        assert!(cache.read_token(&key).is_none());
    }

    #[test]
    fn a_write_sweeps_temp_files_of_dead_writers_of_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        cache.prepare().unwrap();
        let key = CacheKey::for_token(&spec(), None, ME, None);
        let other = CacheKey::for_token(&spec(), Some("us-west-2"), ME, None);
        let name = |k: &CacheKey| {
            cache
                .token_path(k)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        };
        let dead = dir.path().join(format!(".{}.tmp.1.1", name(&other)));
        let live = dir.path().join(format!(".{}.tmp.2.1", name(&other)));
        fs::write(&dead, b"{\"token\":\"left-by-a-killed-writer\"").unwrap();
        fs::write(&live, b"being written").unwrap();
        let held = fs::File::open(&live).unwrap();
        held.lock().unwrap();
        cache.write_token(&key, &tok("t", 100, 0)).unwrap();
        assert!(!dead.exists(), "a dead writer's temp file is swept");
        assert!(live.exists(), "a live writer's temp file stays");
        drop(held);
        cache.write_token(&key, &tok("t", 100, 0)).unwrap();
        assert!(!live.exists(), "swept once its writer is gone");
    }

    #[test]
    fn a_file_where_the_dir_should_be_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("file");
        fs::write(&f, b"").unwrap();
        let e = Cache::new(&f).prepare().unwrap_err().to_string();
        assert!(e.starts_with(&format!("cache dir {}:", f.display())), "{e}");
    }

    #[tokio::test]
    async fn the_lock_excludes_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let key = CacheKey::for_token(&spec(), None, ME, None);
        let g = cache.lock(&key, Duration::from_secs(1)).await.unwrap();
        let e = cache.lock(&key, Duration::from_millis(50)).await;
        assert!(matches!(e, Err(CacheError::LockTimeout { .. })));
        drop(g);
        cache.lock(&key, Duration::from_millis(50)).await.unwrap();
        let lock_bytes = fs::read(cache.lock_path(&key)).unwrap();
        assert!(lock_bytes.is_empty(), "a lock file never holds a token");
    }
}
