//! Shared state of a running emulator: issued tokens, counters, faults and package stores.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use crate::config::{AccessKey, DomainConfig, EmulatorConfig, Faults, Format, RepositoryConfig};
use crate::{maven, npm, pypi};

/// Longest token life AWS allows, and the one used for `duration=0`.
pub const MAX_TOKEN_SECONDS: u64 = 43_200;

/// Counters that tests assert on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// GetAuthorizationToken calls that returned a token.
    pub tokens_issued: u64,
    /// Requests per route name (e.g. `GetAuthorizationToken`, `pypi:simple-project`).
    pub requests: BTreeMap<String, u64>,
}

/// A step of `faults.script` that fails a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripted {
    /// 500 InternalServerException.
    Error,
    /// 429 ThrottlingException.
    Throttle,
}

/// A token as issued, for tests that check when tokens were fetched.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub issued_at: SystemTime,
    pub expires_at: SystemTime,
}

/// A token the emulator issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub domain: String,
    pub owner: String,
    pub expires_at: SystemTime,
}

/// What the data plane thinks of the token a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    /// No credentials at all.
    Missing,
    /// Not a token this emulator issued, or issued for another domain.
    Unknown,
    Expired,
}

/// A repository with its package store.
pub struct Repository {
    pub domain: String,
    pub owner: String,
    pub config: RepositoryConfig,
    pub pypi: Mutex<pypi::Store>,
    pub npm: Mutex<npm::Store>,
    pub maven: Mutex<maven::Store>,
}

/// State shared by every handler.
pub struct State {
    pub region: String,
    pub domains: Vec<DomainConfig>,
    pub access_keys: Vec<AccessKey>,
    /// Temporary credentials handed out by STS `AssumeRoleWithWebIdentity` (see `sts`).
    pub(crate) sessions: Mutex<Vec<crate::sts::Session>>,
    pub repositories: HashMap<(String, String, String), Repository>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    issued: Mutex<Vec<Issued>>,
    stats: Mutex<Stats>,
    faults: RwLock<Faults>,
}

impl State {
    pub fn new(config: &EmulatorConfig) -> Result<State, crate::Error> {
        let mut repositories = HashMap::new();
        for d in &config.domains {
            for r in &d.repositories {
                let pypi = if r.format == Format::Pypi {
                    pypi::Store::load(r).map_err(|e| crate::Error::Packages {
                        repository: r.name.clone(),
                        message: e,
                    })?
                } else {
                    pypi::Store::default()
                };
                let npm = if r.format == Format::Npm {
                    npm::Store::load(r).map_err(|e| crate::Error::Packages {
                        repository: r.name.clone(),
                        message: e,
                    })?
                } else {
                    npm::Store::default()
                };
                let maven = if r.format == Format::Maven {
                    maven::Store::load(r).map_err(|e| crate::Error::Packages {
                        repository: r.name.clone(),
                        message: e,
                    })?
                } else {
                    maven::Store::default()
                };
                repositories.insert(
                    (d.name.clone(), d.owner.clone(), r.name.clone()),
                    Repository {
                        domain: d.name.clone(),
                        owner: d.owner.clone(),
                        config: r.clone(),
                        pypi: Mutex::new(pypi),
                        npm: Mutex::new(npm),
                        maven: Mutex::new(maven),
                    },
                );
            }
        }
        Ok(State {
            region: config.region.clone(),
            domains: config.domains.clone(),
            access_keys: config.effective_access_keys(),
            sessions: Mutex::new(Vec::new()),
            repositories,
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
            stats: Mutex::new(Stats::default()),
            faults: RwLock::new(config.faults.clone()),
        })
    }

    /// The emulator's clock (shifted by `faults.clock_skew_secs`).
    pub fn now(&self) -> SystemTime {
        let skew = self.faults().clock_skew_secs;
        let now = SystemTime::now();
        if skew >= 0 {
            now + Duration::from_secs(skew as u64)
        } else {
            now - Duration::from_secs(skew.unsigned_abs())
        }
    }

    pub fn faults(&self) -> Faults {
        self.faults.read().unwrap().clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap() = faults;
    }

    /// Counts one request on `route`.
    pub fn record(&self, route: &str) {
        *self
            .stats
            .lock()
            .unwrap()
            .requests
            .entry(route.to_string())
            .or_default() += 1;
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap().clone()
    }

    /// Every token issued so far (for leak checks).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.issued
            .lock()
            .unwrap()
            .iter()
            .map(|i| i.token.clone())
            .collect()
    }

    /// Every token issued so far, with when (the emulator's clock), in order.
    pub fn issued(&self) -> Vec<Issued> {
        self.issued.lock().unwrap().clone()
    }

    /// Zeroes the counters (tokens stay valid).
    pub fn reset_stats(&self) {
        *self.stats.lock().unwrap() = Stats::default();
    }

    /// Makes every issued token expire now.
    pub fn expire_all_tokens(&self) {
        let now = self.now() - Duration::from_secs(1);
        for t in self.tokens.lock().unwrap().values_mut() {
            t.expires_at = now;
        }
    }

    pub fn domain(&self, name: &str, owner: Option<&str>) -> Option<&DomainConfig> {
        self.domains
            .iter()
            .find(|d| d.name == name && owner.is_none_or(|o| o == d.owner))
    }

    pub fn repository(&self, domain: &str, owner: &str, repo: &str) -> Option<&Repository> {
        self.repositories
            .get(&(domain.to_string(), owner.to_string(), repo.to_string()))
    }

    /// Issues a token for `domain`/`owner` living `duration_secs` (0 = the maximum), capped by
    /// `faults.token_lifetime_secs`. Returns the token and its expiration.
    pub fn issue_token(
        &self,
        domain: &str,
        owner: &str,
        duration_secs: u64,
    ) -> (String, SystemTime) {
        let mut life = if duration_secs == 0 {
            MAX_TOKEN_SECONDS
        } else {
            duration_secs
        };
        if let Some(cap) = self.faults().token_lifetime_secs {
            life = life.min(cap);
        }
        let expires_at = self.now() + Duration::from_secs(life);
        let token = new_token();
        self.tokens.lock().unwrap().insert(
            token.clone(),
            IssuedToken {
                domain: domain.to_string(),
                owner: owner.to_string(),
                expires_at,
            },
        );
        self.issued.lock().unwrap().push(Issued {
            token: token.clone(),
            issued_at: self.now(),
            expires_at,
        });
        log_token_for_leak_checks(&token);
        self.stats.lock().unwrap().tokens_issued += 1;
        (token, expires_at)
    }

    /// Checks a data-plane token for `domain`/`owner`.
    pub fn check_token(&self, token: Option<&str>, domain: &str, owner: &str) -> TokenCheck {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return TokenCheck::Missing;
        };
        let tokens = self.tokens.lock().unwrap();
        match tokens.get(token) {
            Some(t) if t.domain == domain && t.owner == owner => {
                if t.expires_at > self.now() {
                    TokenCheck::Valid
                } else {
                    TokenCheck::Expired
                }
            }
            _ => TokenCheck::Unknown,
        }
    }

    /// Takes the next step of `faults.script` for `key` (its own entry; for a control-plane
    /// operation, else the `*` entry), recording an injected fault as `fault:5xx` or
    /// `fault:throttle`. `None`: serve the request.
    pub fn next_scripted(&self, key: &str, control_plane: bool) -> Option<Scripted> {
        let step = {
            let mut faults = self.faults.write().unwrap();
            let key = if faults.script.contains_key(key) {
                key.to_string()
            } else if control_plane && faults.script.contains_key("*") {
                "*".to_string()
            } else {
                return None;
            };
            let pattern = faults.script.get_mut(&key)?;
            let step = pattern.chars().next();
            pattern.drain(..step.map_or(0, char::len_utf8));
            if pattern.is_empty() {
                faults.script.remove(&key);
            }
            step
        };
        let scripted = match step? {
            'E' => Scripted::Error,
            'T' => Scripted::Throttle,
            _ => return None,
        };
        self.record(match scripted {
            Scripted::Error => "fault:5xx",
            Scripted::Throttle => "fault:throttle",
        });
        Some(scripted)
    }

    /// Decides whether to inject a 5xx (per `faults.error_rate`).
    pub fn roll_error(&self) -> bool {
        let rate = self.faults().error_rate;
        rate > 0.0 && rand::rng().random_bool(rate.min(1.0))
    }

    /// Decides whether to throttle (per `faults.throttle_rate`).
    pub fn roll_throttle(&self) -> bool {
        let rate = self.faults().throttle_rate;
        rate > 0.0 && rand::rng().random_bool(rate.min(1.0))
    }
}

/// With `EMULATOR_TOKEN_LOG_DIR` set, appends every issued token to a file there, so a test
/// suite can check at the end that none leaked into outputs or files.
fn log_token_for_leak_checks(token: &str) {
    use std::io::Write;
    let Some(dir) = std::env::var_os("EMULATOR_TOKEN_LOG_DIR") else {
        return;
    };
    let path = std::path::Path::new(&dir).join(format!("tokens-{}.txt", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{token}");
    }
}

/// Seconds since the Unix epoch, as a float (the wire format of `expiration`).
pub fn epoch_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// A long opaque token, shaped like CodeArtifact's (base64url, starts with `eyJ`).
fn new_token() -> String {
    let mut bytes = [0u8; 96];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "eyJ2ZXIiOjEsImlzdSI6ImVtdWxhdG9yIn0.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}
