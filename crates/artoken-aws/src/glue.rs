//! Glue job runs with a fresh index URL: GetJob, the installer option merged with the job's
//! DefaultArguments and the caller's arguments, then StartJobRun.
//!
//! Only the run's own arguments are sent (the caller's plus the merged installer option): Glue
//! lays them over the job's DefaultArguments itself.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_glue::Client;
use aws_sdk_glue::error::{ProvideErrorMetadata, SdkError};

use crate::context::RepoAuth;
use crate::error::{AwsError, one_line};
use crate::installer::{ADDITIONAL_MODULES, INSTALLER_OPTION, Mode, merge_installer_option};

/// What a run will be started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunPlan {
    pub job: String,
    /// The run's arguments (they hold the token: print [`JobRunPlan::redacted`] instead).
    pub arguments: BTreeMap<String, String>,
    /// Worth telling: e.g. the job installs no modules, so the index URL changes nothing.
    pub warnings: Vec<String>,
}

impl JobRunPlan {
    /// The arguments with every token replaced by `***`.
    pub fn redacted(&self) -> BTreeMap<String, String> {
        self.arguments
            .iter()
            .map(|(k, v)| (k.clone(), artoken_core::redact::redact(v).into_owned()))
            .collect()
    }
}

/// `k=v` (or `--k=v`) into a Glue argument; a key without a leading `--` gets one, as Glue
/// wants job parameters named `--key`.
pub fn parse_argument(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--arguments {s:?}: expected KEY=VALUE"))?;
    let k = k.trim();
    if k.trim_start_matches('-').is_empty() {
        return Err(format!("--arguments {s:?}: the key is empty"));
    }
    let key = if k.starts_with("--") {
        k.to_string()
    } else {
        format!("--{}", k.trim_start_matches('-'))
    };
    Ok((key, v.to_string()))
}

/// Reads the job and works out the run's arguments.
pub async fn plan_job_run(
    client: &Client,
    job: &str,
    auth: &RepoAuth,
    caller: &[(String, String)],
    mode: Mode,
) -> Result<JobRunPlan, AwsError> {
    let out = client
        .get_job()
        .job_name(job)
        .send()
        .await
        .map_err(|e| classify(e, job, client, "GetJob", "glue:GetJob"))?;
    let defaults = out
        .job()
        .and_then(|j| j.default_arguments())
        .cloned()
        .unwrap_or_default();
    Ok(plan(
        job,
        &defaults.into_iter().collect(),
        auth,
        caller,
        mode,
    ))
}

/// The run's arguments from the job's defaults, the repository and the caller's arguments.
pub fn plan(
    job: &str,
    defaults: &BTreeMap<String, String>,
    auth: &RepoAuth,
    caller: &[(String, String)],
    mode: Mode,
) -> JobRunPlan {
    let mut arguments: BTreeMap<String, String> = caller.iter().cloned().collect();
    // The caller's installer option, if given, is what the run would use; else the job's.
    let existing = arguments
        .get(INSTALLER_OPTION)
        .or_else(|| defaults.get(INSTALLER_OPTION))
        .cloned();
    let merged = merge_installer_option(existing.as_deref(), &auth.repo, &auth.pip_url(), mode);
    arguments.insert(INSTALLER_OPTION.to_string(), merged);
    let mut warnings = Vec::new();
    if !arguments.contains_key(ADDITIONAL_MODULES) && !defaults.contains_key(ADDITIONAL_MODULES) {
        warnings.push(format!(
            "Glue job {job} has no {ADDITIONAL_MODULES}: pip runs (and uses the index URL) only for the modules named there"
        ));
    }
    JobRunPlan {
        job: job.to_string(),
        arguments,
        warnings,
    }
}

/// StartJobRun with the plan's arguments; the JobRunId.
pub async fn start_job_run(client: &Client, plan: &JobRunPlan) -> Result<String, AwsError> {
    let out = client
        .start_job_run()
        .job_name(&plan.job)
        .set_arguments(Some(plan.arguments.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| classify(e, &plan.job, client, "StartJobRun", "glue:StartJobRun"))?;
    out.job_run_id()
        .map(str::to_string)
        .ok_or_else(|| AwsError::Glue {
            job: plan.job.clone(),
            operation: "StartJobRun",
            detail: "the answer has no JobRunId".into(),
        })
}

/// A Glue error in words, naming the job.
fn classify<E, R>(
    err: SdkError<E, R>,
    job: &str,
    client: &Client,
    operation: &'static str,
    action: &'static str,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let job = job.to_string();
    if let SdkError::ServiceError(se) = &err {
        let e = se.err();
        let message = artoken_core::redact::redact(e.message().unwrap_or("")).into_owned();
        match e.code().unwrap_or("") {
            "EntityNotFoundException" => {
                return AwsError::NoSuchJob {
                    job,
                    region: client.config().region().map(|r| r.to_string()),
                };
            }
            "AccessDeniedException" | "AccessDenied" => {
                return AwsError::GlueDenied {
                    job,
                    action,
                    message,
                };
            }
            code if !code.is_empty() => {
                return AwsError::Glue {
                    job,
                    operation,
                    detail: format!("{code}: {message}"),
                };
            }
            _ => {}
        }
    }
    AwsError::Glue {
        job,
        operation,
        detail: one_line(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index_url::RepoUrl;
    use artoken_core::Token;
    use artoken_core::cache::CachedToken;

    fn auth() -> RepoAuth {
        RepoAuth {
            repository: "corp".into(),
            repo: RepoUrl::new("https://corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/")
                .unwrap(),
            token: CachedToken {
                token: Token::new("SECRETTOKEN123"),
                expires_at: 2,
                fetched_at: 1,
                skew: 0,
            },
        }
    }

    #[test]
    fn arguments_parse_with_dashes_added() {
        assert_eq!(
            parse_argument("env=prod").unwrap(),
            ("--env".into(), "prod".into())
        );
        assert_eq!(
            parse_argument("--a=b=c").unwrap(),
            ("--a".into(), "b=c".into())
        );
        assert_eq!(parse_argument("-x=").unwrap(), ("--x".into(), "".into()));
        assert!(parse_argument("novalue").is_err());
        assert!(parse_argument("--=v").is_err());
    }

    #[test]
    fn the_plan_merges_defaults_repository_and_caller() {
        let defaults: BTreeMap<String, String> = [
            (INSTALLER_OPTION.to_string(), "--upgrade".to_string()),
            (ADDITIONAL_MODULES.to_string(), "pandas==2.2".to_string()),
            ("--job-language".to_string(), "python".to_string()),
        ]
        .into();
        let p = plan(
            "etl",
            &defaults,
            &auth(),
            &[("--day".into(), "1".into())],
            Mode::IndexUrl,
        );
        assert_eq!(p.arguments.len(), 2, "{:?}", p.redacted());
        assert_eq!(p.arguments["--day"], "1");
        assert_eq!(
            p.arguments[INSTALLER_OPTION],
            "--upgrade --index-url=https://aws:SECRETTOKEN123@corp-1.d.codeartifact.eu-west-1.amazonaws.com/pypi/store/simple/"
        );
        assert!(p.warnings.is_empty());
        assert!(!format!("{:?}", p.redacted()).contains("SECRETTOKEN123"));
        // The caller's own installer option is the one merged into.
        let p = plan(
            "etl",
            &BTreeMap::new(),
            &auth(),
            &[(INSTALLER_OPTION.into(), "--no-cache-dir".into())],
            Mode::ExtraIndexUrl,
        );
        assert!(
            p.arguments[INSTALLER_OPTION]
                .starts_with("--no-cache-dir --extra-index-url=https://aws:")
        );
        assert_eq!(p.warnings.len(), 1);
    }
}
