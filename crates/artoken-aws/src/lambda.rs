//! The Lambda handler's logic, runtime-free: three event shapes, a JSON answer each, and an
//! error that says what was wrong with the event.
//!
//! - `{"action": "glue-start-job-run", "job": "etl", "repository": "corp", "arguments": {"--day": "1"}, "mode": "index-url"}`
//!   (from an EventBridge rule or a Step Functions task): starts the run, answers its id.
//! - `{"action": "refresh", "targets": [{"s3": "s3://bucket/key", "repository": "corp"}]}`:
//!   refreshes those objects (or `{"secretsmanager": "ci/pip", "json_key": "token"}`,
//!   `{"ssm": "/ci/index-url", "value": "url"}`: the config's `targets:` keys); without `targets`, the configured ones (`targets:` in the config,
//!   or `ARTOKEN_TARGETS`). A raw EventBridge "Scheduled Event" does the same.
//! - `{"action": "env", "repository": "corp"}`: the variables (token included) as a map.
//!
//! Configuration comes from the environment: `ARTOKEN_DOMAIN` and the other `ARTOKEN_*`
//! overrides, or config files named by `ARTOKEN_CONFIG`; `ARTOKEN_TARGETS` (s3:// URLs separated
//! by blanks or commas, for the default repository); `ARTOKEN_MIN_VALIDITY` (how long a token
//! written to S3 must stay valid; default 1h); `ARTOKEN_CACHE_DIR` (default /tmp/artoken).

use std::collections::BTreeMap;
use std::path::PathBuf;

use artoken_core::config::targets::{StoreValue, ValueKind, check_parameter_name, check_secret_id};
use artoken_core::config::{self, Config};
use artoken_core::resolve::resolve_env;
use artoken_core::urls::{Tool, tool_url};
use artoken_core::{Format, Provider, Settings};
use serde_json::{Map, Value, json};

use crate::context::{Aws, Endpoints};
use crate::error::one_line;
use crate::glue;
use crate::installer::Mode;
use crate::refresh::{self, Job, Options, Place};
use crate::s3::S3Object;

/// Default for `ARTOKEN_MIN_VALIDITY`.
pub const DEFAULT_MIN_VALIDITY: u64 = 3600;

/// An event the handler understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    GlueStart {
        job: String,
        repository: Option<String>,
        arguments: Vec<(String, String)>,
        mode: Mode,
    },
    /// `None`: the configured targets.
    Refresh {
        targets: Option<Vec<Job>>,
    },
    Env {
        repository: Option<String>,
    },
}

/// Why an invocation failed; `error_type` is what the Runtime API is told.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Failed(String),
    /// `N of M targets failed: ...`, as `artoken refresh` says it ([`refresh::Round::error`]).
    #[error("{0}")]
    RefreshFailed(String),
}

impl HandlerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::Config(_) => "ConfigError",
            HandlerError::Failed(_) => "ArtokenError",
            HandlerError::RefreshFailed(_) => "RefreshFailed",
        }
    }
}

const ACTIONS: &str = "glue-start-job-run, refresh or env";

fn invalid(m: impl Into<String>) -> HandlerError {
    HandlerError::InvalidEvent(m.into())
}

fn check_fields(
    obj: &Map<String, Value>,
    what: &str,
    allowed: &[&str],
) -> Result<(), HandlerError> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(format!(
                "unknown field {k:?} in {what} (expected {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<String>, HandlerError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(format!(
            "{what}: {key:?} must be a string, not {}",
            kind(other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads an event.
pub fn parse_event(v: &Value) -> Result<Event, HandlerError> {
    let Value::Object(obj) = v else {
        return Err(invalid(format!(
            "expected a JSON object with \"action\": {ACTIONS}; got {}",
            kind(v)
        )));
    };
    let action = match obj.get("action") {
        Some(Value::String(a)) => a.as_str(),
        Some(other) => {
            return Err(invalid(format!(
                "\"action\" must be a string, not {}",
                kind(other)
            )));
        }
        None => {
            let scheduled = obj.get("detail-type").and_then(Value::as_str)
                == Some("Scheduled Event")
                && obj.get("source").and_then(Value::as_str) == Some("aws.events");
            if scheduled {
                return Ok(Event::Refresh { targets: None });
            }
            return Err(invalid(format!(
                "no \"action\" (expected {ACTIONS}, or an EventBridge Scheduled Event)"
            )));
        }
    };
    match action {
        "glue-start-job-run" => {
            let what = "a glue-start-job-run event";
            check_fields(
                obj,
                what,
                &["action", "job", "repository", "arguments", "mode"],
            )?;
            let job = opt_string(obj, "job", what)?
                .ok_or_else(|| invalid(format!("{what} needs \"job\": the Glue job name")))?;
            let mode = match opt_string(obj, "mode", what)? {
                Some(m) => m
                    .parse()
                    .map_err(|e: String| invalid(format!("{what}: {e}")))?,
                None => Mode::default(),
            };
            let mut arguments = Vec::new();
            match obj.get("arguments") {
                None | Some(Value::Null) => {}
                Some(Value::Object(args)) => {
                    for (k, v) in args {
                        let v = match v {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => b.to_string(),
                            other => {
                                return Err(invalid(format!(
                                    "{what}: argument {k:?} must be a string, not {}",
                                    kind(other)
                                )));
                            }
                        };
                        let (k, v) = glue::parse_argument(&format!("{k}={v}"))
                            .map_err(|e| invalid(format!("{what}: {e}")))?;
                        arguments.push((k, v));
                    }
                }
                Some(other) => {
                    return Err(invalid(format!(
                        "{what}: \"arguments\" must be an object of strings, not {}",
                        kind(other)
                    )));
                }
            }
            Ok(Event::GlueStart {
                job,
                repository: opt_string(obj, "repository", what)?,
                arguments,
                mode,
            })
        }
        "refresh" => {
            let what = "a refresh event";
            check_fields(obj, what, &["action", "targets"])?;
            let targets = match obj.get("targets") {
                None | Some(Value::Null) => None,
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, t)| refresh_target(i, t))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                Some(other) => {
                    return Err(invalid(format!(
                        "{what}: \"targets\" must be a list, not {}",
                        kind(other)
                    )));
                }
            };
            Ok(Event::Refresh { targets })
        }
        "env" => {
            let what = "an env event";
            check_fields(obj, what, &["action", "repository"])?;
            Ok(Event::Env {
                repository: opt_string(obj, "repository", what)?,
            })
        }
        other => Err(invalid(format!(
            "unknown action {other:?} (expected {ACTIONS})"
        ))),
    }
}

/// A target of a refresh event: `{"s3": "s3://bucket/key"}`, `{"secretsmanager": "ci/pip",
/// "json_key": "token"}` or `{"ssm": "/ci/index-url", "value": "url"}`, each with an optional
/// `"repository"` (the same keys as the config's `targets:`).
fn refresh_target(i: usize, t: &Value) -> Result<Job, HandlerError> {
    let what = format!("targets[{i}]");
    let Value::Object(obj) = t else {
        return Err(invalid(format!(
            "{what} must be an object like {{\"s3\": \"s3://bucket/key\"}}, not {}",
            kind(t)
        )));
    };
    check_fields(
        obj,
        &what,
        &[
            "s3",
            "secretsmanager",
            "ssm",
            "json_key",
            "value",
            "repository",
        ],
    )?;
    let repository = opt_string(obj, "repository", &what)?;
    let kinds: Vec<&str> = ["s3", "secretsmanager", "ssm"]
        .into_iter()
        .filter(|k| obj.contains_key(*k))
        .collect();
    let [kind_key] = kinds.as_slice() else {
        return Err(invalid(format!(
            "{what} needs exactly one of \"s3\", \"secretsmanager\" and \"ssm\" (e.g. \"s3\": \"s3://bucket/key\")"
        )));
    };
    let name = opt_string(obj, kind_key, &what)?.unwrap_or_default();
    let store = || -> Result<StoreValue, HandlerError> {
        let kind = match opt_string(obj, "value", &what)?.as_deref() {
            None | Some("token") => ValueKind::Token,
            Some("url") => ValueKind::Url,
            Some(other) => {
                return Err(invalid(format!(
                    "{what}: \"value\" must be \"token\" or \"url\", not {other:?}"
                )));
            }
        };
        Ok(StoreValue {
            kind,
            json_key: opt_string(obj, "json_key", &what)?,
        })
    };
    let place = match *kind_key {
        "secretsmanager" => {
            check_secret_id(&name).map_err(|e| invalid(format!("{what}: {e}")))?;
            Place::SecretsManager {
                secret: name,
                value: store()?,
            }
        }
        "ssm" => {
            check_parameter_name(&name).map_err(|e| invalid(format!("{what}: {e}")))?;
            Place::Ssm {
                name,
                value: store()?,
            }
        }
        _ => {
            if obj.contains_key("json_key") || obj.contains_key("value") {
                return Err(invalid(format!(
                    "{what}: \"json_key\" and \"value\" are for \"secretsmanager\" and \"ssm\" targets only"
                )));
            }
            Place::S3(S3Object::parse(&name).map_err(|e| invalid(format!("{what}: {e}")))?)
        }
    };
    Ok(Job { place, repository })
}

/// The handler's state across invocations: config (or why it failed to load), provider.
pub struct Handler {
    config: Result<Config, String>,
    provider: Provider,
    endpoints: Endpoints,
    env_targets: Result<Vec<Job>, String>,
    min_validity: Result<u64, String>,
}

impl Handler {
    /// Reads everything from `env` (the process environment in the Lambda); `cwd` is where
    /// config files are discovered when `ARTOKEN_CONFIG` names none.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>, cwd: PathBuf) -> Handler {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let explicit: Vec<PathBuf> = get("ARTOKEN_CONFIG")
            .map(|l| std::env::split_paths(&l).collect())
            .unwrap_or_default();
        let config = config::load(&config::LoadOptions {
            home: get("HOME").map(PathBuf::from),
            cwd,
            explicit,
            env,
        })
        .map_err(|e| e.to_string());
        let mut settings = Settings::from_env(env);
        settings.cache_dir = Some(
            get("ARTOKEN_CACHE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp/artoken")),
        );
        if let Ok(Some(r)) = config.as_ref().map(|c| c.refresh_before) {
            settings.refresh_before = r;
        }
        let env_targets = get("ARTOKEN_TARGETS")
            .unwrap_or_default()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                S3Object::parse(s)
                    .map(|o| Job {
                        place: Place::S3(o),
                        repository: None,
                    })
                    .map_err(|e| format!("ARTOKEN_TARGETS: {e}"))
            })
            .collect();
        let min_validity = match get("ARTOKEN_MIN_VALIDITY") {
            Some(v) => artoken_core::spec::parse_seconds(&v)
                .map_err(|e| format!("ARTOKEN_MIN_VALIDITY: {e}")),
            None => Ok(DEFAULT_MIN_VALIDITY),
        };
        Handler {
            config,
            provider: Provider::new(settings),
            endpoints: Endpoints::from_env(env),
            env_targets,
            min_validity,
        }
    }

    /// Handles one event payload.
    pub async fn handle(&self, payload: &Value) -> Result<Value, HandlerError> {
        let event = parse_event(payload)?;
        let config = self
            .config
            .as_ref()
            .map_err(|e| HandlerError::Config(e.clone()))?;
        let aws = Aws::new(&self.provider, self.endpoints.clone());
        let result = match event {
            Event::GlueStart {
                job,
                repository,
                arguments,
                mode,
            } => {
                self.glue(&aws, config, &job, repository.as_deref(), &arguments, mode)
                    .await
            }
            Event::Refresh { targets } => self.refresh(&aws, config, targets).await,
            Event::Env { repository } => self.env(config, repository.as_deref()).await,
        };
        for w in self.provider.take_warnings() {
            tracing::warn!("{w}");
        }
        result
    }

    async fn glue(
        &self,
        aws: &Aws<'_>,
        config: &Config,
        job: &str,
        repository: Option<&str>,
        arguments: &[(String, String)],
        mode: Mode,
    ) -> Result<Value, HandlerError> {
        let failed = |e: crate::AwsError| HandlerError::Failed(one_line(&e));
        let spec = config
            .repository(repository)
            .map_err(|e| HandlerError::Config(e.to_string()))?;
        let auth = aws.auth(spec, 0).await.map_err(failed)?;
        let client = aws.glue(spec).await.map_err(failed)?;
        let plan = glue::plan_job_run(&client, job, &auth, arguments, mode)
            .await
            .map_err(failed)?;
        for w in &plan.warnings {
            tracing::warn!("{w}");
        }
        let run_id = glue::start_job_run(&client, &plan).await.map_err(failed)?;
        tracing::info!("started Glue job {job}: run {run_id}");
        Ok(json!({
            "action": "glue-start-job-run",
            "job": job,
            "job_run_id": run_id,
            "repository": spec.name,
            "arguments": plan.redacted(),
            "warnings": plan.warnings,
        }))
    }

    async fn refresh(
        &self,
        aws: &Aws<'_>,
        config: &Config,
        targets: Option<Vec<Job>>,
    ) -> Result<Value, HandlerError> {
        let jobs = match targets {
            Some(t) => t,
            None => {
                let mut jobs = refresh::configured_jobs(config);
                jobs.extend(self.env_targets.clone().map_err(HandlerError::Config)?);
                if jobs.is_empty() {
                    return Err(HandlerError::Config(
                        "no targets: configure `targets:` (ARTOKEN_CONFIG) or ARTOKEN_TARGETS, or list them in the event".into(),
                    ));
                }
                jobs
            }
        };
        let options = Options {
            min_validity: self.min_validity.clone().map_err(HandlerError::Config)?,
            dry_run: false,
        };
        let round = refresh::refresh_all(aws, config, &jobs, options).await;
        for line in round.lines() {
            match line {
                Ok(l) => tracing::info!("{l}"),
                Err(l) => tracing::error!("{l}"),
            }
        }
        if let Some(e) = round.error() {
            return Err(HandlerError::RefreshFailed(e));
        }
        let results: Vec<Value> = round
            .outcomes
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .map(|o| {
                json!({
                    "target": o.place.to_string(),
                    "repository": o.repository,
                    "status": if o.written { "updated" } else { "up-to-date" },
                    "index_lines": o.rewrite.index_lines,
                    "token_expires": artoken_core::human::utc(o.expires_at),
                })
            })
            .collect();
        Ok(json!({ "action": "refresh", "targets": results }))
    }

    async fn env(&self, config: &Config, repository: Option<&str>) -> Result<Value, HandlerError> {
        let failed = |e: &(dyn std::error::Error + 'static)| HandlerError::Failed(one_line(e));
        let mut env = BTreeMap::new();
        if repository.is_none() && !config.env.is_empty() {
            for v in resolve_env(config, &self.provider)
                .await
                .map_err(|e| failed(&e))?
            {
                env.insert(v.name, v.value.expose().to_string());
            }
            return Ok(json!({ "action": "env", "repository": null, "env": env }));
        }
        let spec = config
            .repository(repository)
            .map_err(|e| HandlerError::Config(e.to_string()))?;
        let token = self.provider.token(spec).await.map_err(|e| failed(&e))?;
        env.insert(
            "CODEARTIFACT_AUTH_TOKEN".to_string(),
            token.token.expose().to_string(),
        );
        if spec.repository.is_some() {
            let endpoint = self.provider.endpoint(spec).await.map_err(|e| failed(&e))?;
            let url =
                |tool| tool_url(tool, &endpoint, Some(&token.token)).map_err(HandlerError::Failed);
            env.insert("CODEARTIFACT_ENDPOINT".to_string(), endpoint.clone());
            match spec.format {
                Format::Pypi => {
                    env.insert("PIP_INDEX_URL".to_string(), url(Tool::Pip)?);
                    env.insert("UV_DEFAULT_INDEX".to_string(), url(Tool::Uv)?);
                }
                Format::Npm => {
                    env.insert("NPM_CONFIG_REGISTRY".to_string(), url(Tool::Npm)?);
                }
                _ => {}
            }
        }
        Ok(json!({
            "action": "env",
            "repository": spec.name,
            "expiration": artoken_core::human::utc(token.expires_at),
            "env": env,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(v: Value) -> String {
        parse_event(&v).unwrap_err().to_string()
    }

    #[test]
    fn reads_each_event_shape() {
        assert_eq!(
            parse_event(&json!({"action": "glue-start-job-run", "job": "etl", "repository": "corp", "arguments": {"day": 1, "--x": "y"}, "mode": "extra-index-url"})).unwrap(),
            Event::GlueStart {
                job: "etl".into(),
                repository: Some("corp".into()),
                arguments: vec![("--x".into(), "y".into()), ("--day".into(), "1".into())],
                mode: Mode::ExtraIndexUrl,
            }
        );
        assert_eq!(
            parse_event(&json!({"action": "refresh", "targets": [{"s3": "s3://bkt/k.txt"}]}))
                .unwrap(),
            Event::Refresh {
                targets: Some(vec![Job {
                    place: Place::S3(S3Object::new("bkt", "k.txt")),
                    repository: None
                }])
            }
        );
        assert_eq!(
            parse_event(&json!({"action": "refresh", "targets": [
                {"secretsmanager": "ci/pip", "json_key": "token", "repository": "corp"},
                {"ssm": "/ci/index-url", "value": "url"},
            ]}))
            .unwrap(),
            Event::Refresh {
                targets: Some(vec![
                    Job {
                        place: Place::SecretsManager {
                            secret: "ci/pip".into(),
                            value: StoreValue {
                                kind: ValueKind::Token,
                                json_key: Some("token".into())
                            }
                        },
                        repository: Some("corp".into())
                    },
                    Job {
                        place: Place::Ssm {
                            name: "/ci/index-url".into(),
                            value: StoreValue {
                                kind: ValueKind::Url,
                                json_key: None
                            }
                        },
                        repository: None
                    }
                ])
            }
        );
        assert_eq!(
            parse_event(&json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})).unwrap(),
            Event::Refresh { targets: None }
        );
        assert_eq!(
            parse_event(&json!({"action": "env"})).unwrap(),
            Event::Env { repository: None }
        );
    }

    fn handler(vars: &[(&str, &str)]) -> (Handler, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("ARTOKEN_CACHE_DIR".into(), dir.display().to_string());
        (
            Handler::from_env(&move |k: &str| map.get(k).cloned(), dir),
            tmp,
        )
    }

    #[tokio::test]
    async fn bad_settings_are_configuration_errors() {
        let (h, _tmp) = handler(&[
            ("ARTOKEN_DOMAIN", "demo"),
            ("ARTOKEN_TARGETS", "s3://ok-bucket/k nope"),
        ]);
        let e = h.handle(&json!({"action": "refresh"})).await.unwrap_err();
        assert_eq!(e.error_type(), "ConfigError");
        assert_eq!(
            e.to_string(),
            "configuration: ARTOKEN_TARGETS: `nope` is not an S3 object URL (it does not start with s3://; expected s3://BUCKET/KEY)"
        );
        let (h, _tmp) = handler(&[("ARTOKEN_DOMAIN", "demo"), ("ARTOKEN_MIN_VALIDITY", "soon")]);
        let e = h
            .handle(&json!({"action": "refresh", "targets": [{"s3": "s3://ok-bucket/k"}]}))
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("configuration: ARTOKEN_MIN_VALIDITY: "),
            "{e}"
        );
        let (h, _tmp) = handler(&[("ARTOKEN_DOMAIN", "demo")]);
        let e = h.handle(&json!({"action": "refresh"})).await.unwrap_err();
        assert!(
            e.to_string().starts_with("configuration: no targets"),
            "{e}"
        );
        let (h, _tmp) = handler(&[("ARTOKEN_DOMAIN", "Bad_Domain")]);
        let e = h.handle(&json!({"action": "env"})).await.unwrap_err();
        assert_eq!(e.error_type(), "ConfigError");
        // A malformed event is reported before the configuration.
        let e = h.handle(&json!({"action": 1})).await.unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
    }

    #[test]
    fn malformed_events_say_what_is_wrong() {
        assert_eq!(
            err(json!("hello")),
            "invalid event: expected a JSON object with \"action\": glue-start-job-run, refresh or env; got a string"
        );
        assert_eq!(
            err(json!({"job": "etl"})),
            "invalid event: no \"action\" (expected glue-start-job-run, refresh or env, or an EventBridge Scheduled Event)"
        );
        assert_eq!(
            err(json!({"action": "deploy"})),
            "invalid event: unknown action \"deploy\" (expected glue-start-job-run, refresh or env)"
        );
        assert_eq!(
            err(json!({"action": "glue-start-job-run"})),
            "invalid event: a glue-start-job-run event needs \"job\": the Glue job name"
        );
        assert_eq!(
            err(json!({"action": "glue-start-job-run", "job": "j", "jobs": 1})),
            "invalid event: unknown field \"jobs\" in a glue-start-job-run event (expected action, job, repository, arguments, mode)"
        );
        assert_eq!(
            err(json!({"action": "glue-start-job-run", "job": "j", "arguments": ["a"]})),
            "invalid event: a glue-start-job-run event: \"arguments\" must be an object of strings, not a list"
        );
        assert!(
            err(json!({"action": "refresh", "targets": [{"s3": "bucket/key"}]}))
                .starts_with("invalid event: targets[0]: `bucket/key` is not an S3 object URL")
        );
        assert_eq!(
            err(json!({"action": "refresh", "targets": [{"s3": "s3://b/k", "ssm": "/x"}]})),
            "invalid event: targets[0] needs exactly one of \"s3\", \"secretsmanager\" and \"ssm\" (e.g. \"s3\": \"s3://bucket/key\")"
        );
        assert_eq!(
            err(json!({"action": "refresh", "targets": [{"s3": "s3://b/k", "json_key": "t"}]})),
            "invalid event: targets[0]: \"json_key\" and \"value\" are for \"secretsmanager\" and \"ssm\" targets only"
        );
        assert_eq!(
            err(json!({"action": "refresh", "targets": [{"ssm": "/x", "value": "password"}]})),
            "invalid event: targets[0]: \"value\" must be \"token\" or \"url\", not \"password\""
        );
        assert!(
            err(json!({"action": "refresh", "targets": [{"ssm": "ci/x"}]}))
                .starts_with("invalid event: targets[0]: `ci/x` is not an SSM parameter name")
        );
        assert!(
            err(json!({"action": "refresh", "targets": [{"secretsmanager": "a b"}]})).starts_with(
                "invalid event: targets[0]: `a b` is not a Secrets Manager secret name"
            )
        );
        assert_eq!(
            err(json!({"action": "refresh", "targets": "s3://b/k"})),
            "invalid event: a refresh event: \"targets\" must be a list, not a string"
        );
        assert_eq!(
            err(json!({"action": "env", "repository": 3})),
            "invalid event: an env event: \"repository\" must be a string, not a number"
        );
    }
}
