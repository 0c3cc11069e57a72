//! `artoken glue`, `artoken s3`, `artoken refresh`: the AWS side (Glue job runs, requirements
//! files in S3, tokens in Secrets Manager and SSM).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use artoken_aws::glue::{parse_argument, plan_job_run, start_job_run};
use artoken_aws::refresh::{
    Job, Options, Outcome, Place, Round, configured_jobs, refresh_all, refresh_with,
};
use artoken_aws::s3::S3Object;
use artoken_aws::{Aws, AwsError, Endpoints, Mode};
use artoken_core::TokenDuration;
use artoken_core::human;
use artoken_core::spec::parse_seconds;
use clap::{Args, Subcommand, ValueEnum};

use crate::app::{App, env_var};
use crate::cli::Global;

/// A token written to a target stays valid at least this long by default (one-shot runs).
const DEFAULT_MIN_VALIDITY: u64 = 3600;
/// With `--every`, a written token must outlive the next run by this much.
const EVERY_MARGIN: u64 = 15 * 60;
/// After a failed round, try again this soon (at most).
const RETRY_AFTER_FAILURE: u64 = 5 * 60;

#[derive(Debug, Subcommand)]
pub enum GlueCommand {
    /// Start a Glue job run with a fresh index URL in its installer option
    ///
    /// Reads the job's DefaultArguments, merges `--index-url=https://aws:TOKEN@.../simple/`
    /// (or `--extra-index-url`) into `--python-modules-installer-option` (other pip options
    /// stay; an index option for the same repository is replaced), adds --arguments, starts the
    /// run and prints its JobRunId. The token is never printed.
    StartJobRun(StartJobRunArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// The repository replaces PyPI
    IndexUrl,
    /// The repository is searched besides the main index
    ExtraIndexUrl,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::IndexUrl => Mode::IndexUrl,
            ModeArg::ExtraIndexUrl => Mode::ExtraIndexUrl,
        }
    }
}

#[derive(Debug, Args)]
pub struct StartJobRunArgs {
    /// The Glue job name
    pub job: String,
    /// Repository name from the config [default: `default:` or the only one]
    #[arg(long)]
    pub repo: Option<String>,
    /// Run arguments, KEY=VALUE (a key without `--` gets it); repeatable
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., action = clap::ArgAction::Append)]
    pub arguments: Vec<String>,
    /// The pip option that carries the repository
    #[arg(long, value_enum, default_value = "index-url")]
    pub mode: ModeArg,
    /// Print the run's arguments (tokens redacted); start nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON: job, job_run_id, repository, arguments (redacted), warnings
    #[arg(long)]
    pub json: bool,
    /// The job's AWS region [default: the repository's]
    #[arg(long)]
    pub region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum S3Command {
    /// Replace the token in the index lines of a requirements file in S3
    ///
    /// Every `--index-url`, `--extra-index-url` and `-i` line pointing at the repository (with
    /// an old token, a placeholder like `${AUTH_TOKEN}`, or none) gets the current token; every
    /// other byte stays. The write is conditional on the ETag read and retried when someone
    /// else wrote in between. Nothing is written when nothing changed.
    Refresh(S3RefreshArgs),
}

#[derive(Debug, Args)]
pub struct S3RefreshArgs {
    /// s3://BUCKET/KEY
    pub url: String,
    /// Repository name from the config [default: `default:` or the only one]
    #[arg(long)]
    pub repo: Option<String>,
    /// Print a diff of the changes (tokens redacted); write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The written token stays valid at least this long (e.g. 6h15m for a 6-hourly cron)
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = duration)]
    pub min_validity: u64,
    /// The bucket's AWS region [default: the repository's]
    #[arg(long)]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Refresh every target once and exit (the default); non-zero exit if any failed
    #[arg(long, conflicts_with = "every")]
    pub once: bool,
    /// Refresh every target now and then at this interval until stopped (e.g. 6h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub every: Option<u64>,
    /// Print a diff per requirements file and what each secret store would get (tokens
    /// redacted); write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The written token stays valid at least this long [default: 1h, with --every: the interval + 15m]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub min_validity: Option<u64>,
}

fn duration(s: &str) -> Result<u64, String> {
    match parse_seconds(s)? {
        0 => Err("must be more than 0".into()),
        n => Ok(n),
    }
}

fn aws(app: &App, region: Option<String>) -> Aws<'_> {
    let mut aws = Aws::new(&app.provider, Endpoints::from_env(&env_var));
    aws.region = region;
    aws
}

pub fn glue(global: &Global, c: GlueCommand) -> Result<ExitCode> {
    let GlueCommand::StartJobRun(a) = c;
    let app = App::new(global)?;
    let spec = app.repository(a.repo.as_deref())?;
    let arguments = a
        .arguments
        .iter()
        .map(|s| parse_argument(s))
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    let aws = aws(&app, a.region.clone());
    let (plan, run_id) = app.block_on(async {
        let auth = aws.auth(spec, 0).await?;
        let client = aws.glue(spec).await?;
        let plan = plan_job_run(&client, &a.job, &auth, &arguments, a.mode.into()).await?;
        let run_id = if a.dry_run {
            None
        } else {
            Some(start_job_run(&client, &plan).await?)
        };
        Ok::<_, AwsError>((plan, run_id))
    })?;
    app.flush_warnings();
    for w in &plan.warnings {
        tracing::warn!("{w}");
    }
    if a.json {
        let v = serde_json::json!({
            "job": plan.job,
            "job_run_id": run_id,
            "repository": spec.name,
            "dry_run": a.dry_run,
            "arguments": plan.redacted(),
            "warnings": plan.warnings,
        });
        println!("{v}");
    } else if let Some(id) = run_id {
        println!("{id}");
    } else {
        for (k, v) in plan.redacted() {
            println!("{k}={v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn s3(global: &Global, c: S3Command) -> Result<ExitCode> {
    let S3Command::Refresh(a) = c;
    let obj = S3Object::parse(&a.url)?;
    let app = App::new(global)?;
    let spec = app.repository(a.repo.as_deref())?;
    let aws = aws(&app, a.region.clone());
    let options = Options {
        min_validity: a.min_validity,
        dry_run: a.dry_run,
    };
    let outcome = app.block_on(refresh_with(&aws, spec, &Place::S3(obj), options))?;
    app.flush_warnings();
    print_outcome(&outcome, a.dry_run, None);
    Ok(ExitCode::SUCCESS)
}

fn print_outcome(o: &Outcome, dry_run: bool, stamp: Option<&str>) {
    print_diff(o, dry_run);
    let stamp = stamp.map(|s| format!("{s} ")).unwrap_or_default();
    println!("{stamp}{}", o.line());
}

fn print_diff(o: &Outcome, dry_run: bool) {
    if dry_run && o.rewrite.changed() {
        print!("{}", o.rewrite.diff(&o.place.to_string()));
    }
}

pub fn refresh(global: &Global, a: RefreshArgs) -> Result<ExitCode> {
    let app = App::new(global)?;
    let jobs = configured_jobs(&app.config);
    if jobs.is_empty() {
        let read = if app.config.sources.is_empty() {
            "no config file was found".to_string()
        } else {
            format!(
                "read {}",
                app.config
                    .sources
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        bail!(
            "no targets are configured ({read}): add a `targets:` list to artoken.yml (see docs/aws.md)"
        );
    }
    let options = Options {
        min_validity: a
            .min_validity
            .unwrap_or_else(|| a.every.map_or(DEFAULT_MIN_VALIDITY, |e| e + EVERY_MARGIN)),
        dry_run: a.dry_run,
    };
    if let Some(every) = a.every {
        check_interval(&app, &jobs, every, options.min_validity)?;
    }
    let aws = aws(&app, None);
    let Some(every) = a.every else {
        let round = app.block_on(refresh_all(&aws, &app.config, &jobs, options));
        app.flush_warnings();
        report(&round, a.dry_run, None);
        if let Some(e) = round.error() {
            // stdout has a line per target; stderr names the failures too, for logs that keep
            // stderr only (the Lambda answers with the same line).
            eprintln!("artoken: error: {e}");
            return Ok(ExitCode::from(1));
        }
        return Ok(ExitCode::SUCCESS);
    };
    app.block_on(async {
        loop {
            let round = refresh_all(&aws, &app.config, &jobs, options).await;
            app.flush_warnings();
            let stamp = artoken_core::human::utc(artoken_core::source::now());
            report(&round, a.dry_run, Some(&stamp));
            let failed = round.failed();
            let wait = if failed > 0 {
                every.min(RETRY_AFTER_FAILURE)
            } else {
                every
            };
            tracing::info!("next refresh in {}", artoken_core::human::duration(wait));
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                _ = stop_signal() => return Ok(ExitCode::SUCCESS),
            }
        }
    })
}

/// Refuses an interval no token outlives: every round would fail.
fn check_interval(app: &App, jobs: &[Job], every: u64, min_validity: u64) -> Result<()> {
    for job in jobs {
        let spec = app.repository(job.repository.as_deref())?;
        if let TokenDuration::Seconds(life) = spec.duration
            && min_validity >= life
        {
            bail!(
                "--every {}: tokens of repository {} live {}, so the one written would expire before the next refresh (a written token must stay valid {}); refresh more often",
                human::duration(every),
                spec.name,
                human::duration(life),
                human::duration(min_validity)
            );
        }
    }
    Ok(())
}

/// Prints one line per target (after its diff with `--dry-run`).
fn report(round: &Round, dry_run: bool, stamp: Option<&str>) {
    let stamp = stamp.map(|s| format!("{s} ")).unwrap_or_default();
    for ((_, r), line) in round.outcomes.iter().zip(round.lines()) {
        if let Ok(o) = r {
            print_diff(o, dry_run);
        }
        let (Ok(line) | Err(line)) = line;
        println!("{stamp}{line}");
    }
}

/// Ctrl-C or SIGTERM (systemd, docker stop).
async fn stop_signal() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot watch for Ctrl-C"),
        _ = term.recv() => Ok(()),
    }
}
