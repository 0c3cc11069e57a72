//! The refresher: the token in each target (an S3 object, a local file, a Secrets Manager secret
//! or an SSM parameter) brought up to date, one outcome per target.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use artoken_core::config::targets::{StoreValue, ValueKind};
use artoken_core::config::{Config, TargetLocation};
use artoken_core::{RepositorySpec, Token};

use crate::context::{Aws, RepoAuth};
use crate::error::{AwsError, one_line};
use crate::rewrite::{Rewrite, rewrite};
use crate::s3::{self, S3Object};
use crate::{secrets, ssm, store};

/// Where a target lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    S3(S3Object),
    File(PathBuf),
    /// A Secrets Manager secret (name or ARN) and what it holds.
    SecretsManager {
        secret: String,
        value: StoreValue,
    },
    /// An SSM parameter (always a SecureString) and what it holds.
    Ssm {
        name: String,
        value: StoreValue,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::S3(o) => o.fmt(f),
            Place::File(p) => write!(f, "{}", p.display()),
            Place::SecretsManager { secret, .. } => f.write_str(&secrets::target(secret)),
            Place::Ssm { name, .. } => f.write_str(&ssm::target(name)),
        }
    }
}

impl From<&TargetLocation> for Place {
    fn from(l: &TargetLocation) -> Place {
        match l {
            TargetLocation::S3 { bucket, key } => Place::S3(S3Object::new(bucket, key)),
            TargetLocation::File(p) => Place::File(p.clone()),
            TargetLocation::SecretsManager { secret, value } => Place::SecretsManager {
                secret: secret.clone(),
                value: value.clone(),
            },
            TargetLocation::Ssm { name, value } => Place::Ssm {
                name: name.clone(),
                value: value.clone(),
            },
        }
    }
}

/// A target and the repository whose token it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub place: Place,
    /// A configured repository name; `None`: the default.
    pub repository: Option<String>,
}

/// How to refresh.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The token written must stay valid at least this long (seconds).
    pub min_validity: u64,
    /// Read and compute, write nothing.
    pub dry_run: bool,
}

/// What refreshing one target did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub place: Place,
    pub repository: String,
    /// A requirements file's index lines (S3, file); empty for a secret store.
    pub rewrite: Rewrite,
    /// The target did not hold the token: it was written (with `--dry-run`: it would be).
    pub changed: bool,
    pub written: bool,
    /// Reads made (more than 1: someone else wrote in between).
    pub attempts: u32,
    pub expires_at: i64,
    pub dry_run: bool,
}

impl Outcome {
    /// `updated 2 index lines (repository corp, token valid until 2026-...Z)`, or `up to date, 2
    /// index lines (...)`; for a secret store `updated key \`token\``, `would set the token to
    /// ***` (the token itself is never shown).
    pub fn summary(&self) -> String {
        let what = match self.place.store_value() {
            Some(how) => {
                let what = store::describe(how);
                if self.written {
                    format!("updated {what}")
                } else if self.dry_run && self.changed {
                    format!("would set {what} to ***")
                } else {
                    format!("up to date, {what}")
                }
            }
            None => {
                let lines = match self.rewrite.index_lines {
                    1 => "1 index line".to_string(),
                    n => format!("{n} index lines"),
                };
                if self.written {
                    format!("updated {lines}")
                } else if self.dry_run && self.rewrite.changed() {
                    format!("would update {} of {lines}", self.rewrite.changes.len())
                } else {
                    format!("up to date, {lines}")
                }
            }
        };
        let retried = if self.attempts > 1 {
            format!(", after {} reads: it changed meanwhile", self.attempts)
        } else {
            String::new()
        };
        format!(
            "{what} (repository {}, token valid until {}{retried})",
            self.repository,
            artoken_core::human::utc(self.expires_at)
        )
    }

    /// `PLACE: ` and the [`summary`](Outcome::summary).
    pub fn line(&self) -> String {
        format!("{}: {}", self.place, self.summary())
    }
}

/// The jobs for the configured `targets:`.
pub fn configured_jobs(config: &Config) -> Vec<Job> {
    config
        .targets
        .iter()
        .map(|t| Job {
            place: Place::from(&t.location),
            repository: Some(t.repository.clone()),
        })
        .collect()
}

/// Refreshes one target.
pub async fn refresh_one(
    aws: &Aws<'_>,
    config: &Config,
    job: &Job,
    options: Options,
) -> Result<Outcome, AwsError> {
    let spec = config
        .repository(job.repository.as_deref())
        .map_err(|e| AwsError::Invalid(e.to_string()))?;
    refresh_with(aws, spec, &job.place, options).await
}

/// Refreshes one target with the given repository.
pub async fn refresh_with(
    aws: &Aws<'_>,
    spec: &RepositorySpec,
    place: &Place,
    options: Options,
) -> Result<Outcome, AwsError> {
    let outcome = |rewrite: Rewrite, changed, (written, attempts), expires_at| Outcome {
        place: place.clone(),
        repository: spec.name.clone(),
        rewrite,
        changed,
        written,
        attempts,
        expires_at,
        dry_run: options.dry_run,
    };
    if let Some(how) = place.store_value() {
        let (changed, done, expires_at) = refresh_store(aws, spec, place, how, options).await?;
        return Ok(outcome(empty_rewrite(), changed, done, expires_at));
    }
    let auth = aws.auth(spec, options.min_validity).await?;
    let (rw, written, attempts) = match place {
        Place::S3(obj) => refresh_s3(aws, spec, obj, &auth, options.dry_run).await?,
        Place::File(path) => refresh_file(path, &auth, options.dry_run)?,
        // (refreshed above)
        Place::SecretsManager { .. } | Place::Ssm { .. } => (empty_rewrite(), false, 0),
    };
    if rw.index_lines == 0 {
        return Err(AwsError::NoIndexLines {
            target: place.to_string(),
            repository: spec.name.clone(),
            endpoint: auth.repo.endpoint().to_string(),
        });
    }
    let changed = rw.changed();
    Ok(outcome(
        rw,
        changed,
        (written, attempts),
        auth.token.expires_at,
    ))
}

impl Place {
    /// What a secret store target holds; `None` for a requirements file (S3, file).
    pub fn store_value(&self) -> Option<&StoreValue> {
        match self {
            Place::SecretsManager { value, .. } | Place::Ssm { value, .. } => Some(value),
            Place::S3(_) | Place::File(_) => None,
        }
    }
}

fn empty_rewrite() -> Rewrite {
    Rewrite {
        bytes: Vec::new(),
        index_lines: 0,
        changes: Vec::new(),
    }
}

/// A secret or parameter: the token (or the index URL) put where `how` says, unless it holds
/// it already. Returns whether it differed, (written, reads) and the token's expiry.
async fn refresh_store(
    aws: &Aws<'_>,
    spec: &RepositorySpec,
    place: &Place,
    how: &StoreValue,
    options: Options,
) -> Result<(bool, (bool, u32), i64), AwsError> {
    let (text, expires_at) = match how.kind {
        ValueKind::Token => {
            let t = aws.token(spec, options.min_validity).await?;
            (t.token, t.expires_at)
        }
        // Token::new: the URL holds the token, and is remembered for redaction as it is.
        ValueKind::Url => {
            let auth = aws.auth(spec, options.min_validity).await?;
            (Token::new(auth.pip_url()), auth.token.expires_at)
        }
    };
    let target = place.to_string();
    let edit = |old: Option<&str>| {
        let new = store::edit(old, how, text.expose())
            .map_err(|m| AwsError::Invalid(format!("{target}: {m}")))?;
        let changed = new.is_some();
        Ok((new, changed))
    };
    let u = match place {
        Place::SecretsManager { secret, .. } => {
            let client = aws.secretsmanager(spec, secrets::region_of(secret)).await?;
            if options.dry_run {
                let old = secrets::get(&client, secret).await?;
                let (_, changed) = edit(old.as_deref())?;
                return Ok((changed, (false, 1), expires_at));
            }
            secrets::update(&client, secret, edit).await?
        }
        Place::Ssm { name, .. } => {
            let client = aws.ssm(spec).await?;
            if options.dry_run {
                let old = ssm::get(&client, name).await?;
                let (_, changed) = edit(old.as_deref())?;
                return Ok((changed, (false, 1), expires_at));
            }
            ssm::update(&client, name, edit).await?
        }
        Place::S3(_) | Place::File(_) => {
            return Err(AwsError::Invalid(format!(
                "{target}: not a secret or a parameter"
            )));
        }
    };
    Ok((u.value || u.written, (u.written, u.attempts), expires_at))
}

/// Refreshes every job, in order (a token fetched anew serves the whole round, see
/// [`Aws::token`]): the one runner `artoken refresh` and the Lambda share, so
/// they report alike (see [`Round`]).
pub async fn refresh_all(aws: &Aws<'_>, config: &Config, jobs: &[Job], options: Options) -> Round {
    aws.new_round();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let r = refresh_one(aws, config, job, options).await;
        outcomes.push((job.clone(), r));
    }
    Round { outcomes }
}

/// What one run over the targets did, and the lines it is reported with.
#[derive(Debug)]
pub struct Round {
    /// Each job with its outcome or error, in order.
    pub outcomes: Vec<(Job, Result<Outcome, AwsError>)>,
}

impl Round {
    /// How many targets failed.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|(_, r)| r.is_err()).count()
    }

    /// One line per target, in order: `Ok("PLACE: updated ...")` or `Err("PLACE: FAILED:
    /// why")`.
    pub fn lines(&self) -> Vec<Result<String, String>> {
        self.outcomes
            .iter()
            .map(|(job, r)| match r {
                Ok(o) => Ok(o.line()),
                Err(e) => {
                    let (place, why) = failure(job, e);
                    Err(format!("{place}: FAILED: {why}"))
                }
            })
            .collect()
    }

    /// `N of M targets failed: PLACE: why; PLACE: why`, or `None` when none did.
    pub fn error(&self) -> Option<String> {
        let failures: Vec<String> = self
            .outcomes
            .iter()
            .filter_map(|(job, r)| r.as_ref().err().map(|e| failure(job, e)))
            .map(|(place, why)| format!("{place}: {why}"))
            .collect();
        (!failures.is_empty()).then(|| {
            format!(
                "{} of {} targets failed: {}",
                failures.len(),
                self.outcomes.len(),
                failures.join("; ")
            )
        })
    }
}

/// The target and why it failed: the error on one line, without the target's name when the
/// error starts with it (the lines name it once, in front).
fn failure(job: &Job, e: &AwsError) -> (String, String) {
    let msg = one_line(e);
    let place = job.place.to_string();
    let why = match msg.strip_prefix(&place).and_then(|m| m.strip_prefix(": ")) {
        Some(rest) => rest.to_string(),
        None => msg,
    };
    (place, why)
}

async fn refresh_s3(
    aws: &Aws<'_>,
    spec: &RepositorySpec,
    obj: &S3Object,
    auth: &RepoAuth,
    dry_run: bool,
) -> Result<(Rewrite, bool, u32), AwsError> {
    let client = aws.s3(spec).await?;
    let edit = |bytes: &[u8]| {
        let rw = rewrite(bytes, &auth.repo, &auth.token.token);
        let new = (rw.changed() && rw.index_lines > 0).then(|| rw.bytes.clone());
        Ok((new, rw))
    };
    if dry_run {
        let bytes = s3::get(&client, obj).await?;
        let (_, rw) = edit(&bytes)?;
        return Ok((rw, false, 1));
    }
    let u = s3::update(&client, obj, edit).await?;
    Ok((u.value, u.written, u.attempts))
}

/// How long a local file's writer may hold its lock before `refresh` gives up on it (writers
/// hold it for a read and a write of one small file).
const FILE_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A local file: rewritten atomically (mode 0600: it holds a token) when its index lines
/// change. The write happens under the file's lock (the one every writer of a target takes,
/// [`artoken_core::atomic::lock_target`]) after re-reading it, so an edit made meanwhile is
/// rewritten, never lost. A symlink is written through only to a file of this user's.
fn refresh_file(
    path: &Path,
    auth: &RepoAuth,
    dry_run: bool,
) -> Result<(Rewrite, bool, u32), AwsError> {
    let file_err = |what: &'static str| {
        move |source| AwsError::File {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    let real = artoken_core::ownership::write_through(path, artoken_core::ownership::euid())
        .map_err(|m| AwsError::Invalid(format!("{}: {m}", path.display())))?;
    for attempt in 1..=s3::MAX_ATTEMPTS {
        let bytes = std::fs::read(&real).map_err(file_err("cannot read"))?;
        let rw = rewrite(&bytes, &auth.repo, &auth.token.token);
        if dry_run || !rw.changed() {
            return Ok((rw, false, attempt));
        }
        let _lock = artoken_core::atomic::lock_target(&real, FILE_LOCK_TIMEOUT)
            .map_err(file_err("cannot lock"))?;
        let again = std::fs::read(&real).map_err(file_err("cannot read"))?;
        if again != bytes {
            continue;
        }
        artoken_core::atomic::write_atomic(&real, &rw.bytes, 0o600)
            .map_err(file_err("cannot write"))?;
        return Ok((rw, true, attempt));
    }
    Err(AwsError::Invalid(format!(
        "{}: gave up after {} attempts: the file changed between every read and write",
        path.display(),
        s3::MAX_ATTEMPTS
    )))
}
