//! `token`, `url`, `env` and `exec`: a repository's token handed to a person, a shell or a program.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use artoken_core::human;
use artoken_core::resolve::resolve_env;
use artoken_core::source::now;
use artoken_core::urls::{Tool, tool_url};

use crate::app::App;
use crate::cli::{EnvArgs, ExecArgs, TokenArgs, UrlArgs};
use crate::envfmt;

pub fn token(app: &App, args: TokenArgs) -> Result<ExitCode> {
    let spec = app.repository(args.repo.as_deref())?;
    let t = app.token(spec)?;
    app.flush_warnings();
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({
            "repository": spec.name,
            "domain": spec.domain,
            "token": t.token.expose(),
            "expiration": human::utc(t.expires_at),
            "expires_in_seconds": t.seconds_left(now()),
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "{}", t.token.expose())?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn url(app: &App, args: UrlArgs) -> Result<ExitCode> {
    let tool: Tool = args
        .tool
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--tool: {e}"))?;
    let spec = app.repository(args.repo.as_deref())?;
    let endpoint = app.endpoint(spec)?;
    let token = if tool.needs_token() {
        Some(app.token(spec)?)
    } else {
        None
    };
    app.flush_warnings();
    let u =
        tool_url(tool, &endpoint, token.as_ref().map(|t| &t.token)).map_err(anyhow::Error::msg)?;
    if args.json {
        let v = serde_json::json!({
            "repository": spec.name,
            "tool": tool.to_string(),
            "url": u,
            "endpoint": endpoint,
            "expiration": token.as_ref().map(|t| human::utc(t.expires_at)),
        });
        println!("{v}");
    } else {
        println!("{u}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn resolved(app: &App) -> Result<Vec<(String, String)>> {
    let vars = app.block_on_progress(
        "fetching CodeArtifact tokens",
        resolve_env(&app.config, &app.provider),
    )?;
    app.flush_warnings();
    Ok(vars
        .into_iter()
        .map(|v| (v.name, v.value.expose().to_string()))
        .collect())
}

pub fn exec(app: &App, args: ExecArgs) -> Result<ExitCode> {
    let vars = resolved(app)?;
    let mut argv = args.command.into_iter();
    let program: OsString = argv.next().context("no command given")?;
    let mut cmd = std::process::Command::new(&program);
    cmd.args(argv);
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let shown = program.to_string_lossy().into_owned();
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Ok(spawn_failure(&shown, err))
    }
    #[cfg(not(unix))]
    {
        match cmd.status() {
            Ok(s) => Ok(ExitCode::from(s.code().unwrap_or(1) as u8)),
            Err(err) => Ok(spawn_failure(&shown, err)),
        }
    }
}

/// 127 for a missing command, 126 for one that cannot run (as shells do).
fn spawn_failure(program: &str, err: std::io::Error) -> ExitCode {
    match err.kind() {
        std::io::ErrorKind::NotFound => {
            eprintln!("artoken: error: command not found: {program}");
            ExitCode::from(127)
        }
        std::io::ErrorKind::PermissionDenied => {
            eprintln!("artoken: error: permission denied: {program}");
            ExitCode::from(126)
        }
        _ => {
            eprintln!("artoken: error: cannot run {program}: {err}");
            ExitCode::from(126)
        }
    }
}

pub fn env(app: &App, args: EnvArgs) -> Result<ExitCode> {
    let vars = resolved(app)?;
    envfmt::check(args.format, &vars).map_err(anyhow::Error::msg)?;
    print!("{}", envfmt::render(args.format, &vars));
    Ok(ExitCode::SUCCESS)
}
