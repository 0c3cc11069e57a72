//! One function per command.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use artoken_core::human;
use artoken_core::resolve::resolve_env;
use artoken_core::source::now;
use artoken_core::urls::{Tool, tool_url};
use clap::CommandFactory;

use crate::app::App;
use crate::cli::{
    CacheCommand, Cli, Command, DoctorArgs, EnvArgs, ExecArgs, StatusArgs, TokenArgs, UrlArgs,
};
use crate::envfmt;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "artoken", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            std::io::stdout().write_all(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cache(CacheCommand::Dir) => {
            let app = App::new(&cli.global)?;
            match &app.provider.settings().cache_dir {
                Some(d) => println!("{}", d.display()),
                None => bail!("no cache dir: set ARTOKEN_CACHE_DIR, XDG_CACHE_HOME or HOME"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Cache(CacheCommand::Clear) => {
            let app = App::new(&cli.global)?;
            let Some(dir) = &app.provider.settings().cache_dir else {
                bail!("no cache dir: set ARTOKEN_CACHE_DIR, XDG_CACHE_HOME or HOME");
            };
            let n = artoken_core::cache::Cache::new(dir).clear()?;
            eprintln!("removed {n} cache file(s) from {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Login(args) => crate::cmd::login::login(&cli.global, args),
        Command::Logout(args) => crate::cmd::login::logout(&cli.global, args),
        Command::Keyring(args) => crate::cmd::keyring::run(&cli.global, args),
        Command::CargoCredential(args) => crate::cmd::cargo_credential::run(&cli.global, args),
        Command::PnpmTokenHelper(args) => crate::cmd::pnpm_token_helper::run(&cli.global, args),
        Command::Serve(args) => crate::cmd::serve::run(&cli.global, args),
        Command::Glue(c) => crate::cmd::aws::glue(&cli.global, c),
        Command::S3(c) => crate::cmd::aws::s3(&cli.global, c),
        Command::Refresh(args) => crate::cmd::aws::refresh(&cli.global, args),
        Command::Demo(args) => crate::cmd::demo::run(&cli.global, args),
        Command::Token(args) => token(&App::new(&cli.global)?, args),
        Command::Url(args) => url(&App::new(&cli.global)?, args),
        Command::Exec(args) => exec(&App::new(&cli.global)?, args),
        Command::Env(args) => env(&App::new(&cli.global)?, args),
        Command::Render(args) => crate::cmd::render::run(&cli.global, args),
        Command::Status(args) => status(&App::new(&cli.global)?, args),
        Command::Doctor(args) => doctor(&App::new(&cli.global)?, args),
    }
}

fn token(app: &App, args: TokenArgs) -> Result<ExitCode> {
    let spec = app.repository(args.repo.as_deref())?;
    let t = app
        .block_on_progress("fetching a CodeArtifact token", app.provider.token(spec))
        .with_context(|| format!("cannot get a token for repository {}", spec.name))?;
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

fn url(app: &App, args: UrlArgs) -> Result<ExitCode> {
    let tool: Tool = args
        .tool
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--tool: {e}"))?;
    let spec = app.repository(args.repo.as_deref())?;
    let endpoint = app
        .block_on(app.provider.endpoint(spec))
        .with_context(|| format!("cannot get the endpoint of repository {}", spec.name))?;
    let token = if tool.needs_token() {
        Some(
            app.block_on(app.provider.token(spec))
                .with_context(|| format!("cannot get a token for repository {}", spec.name))?,
        )
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

fn exec(app: &App, args: ExecArgs) -> Result<ExitCode> {
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

fn env(app: &App, args: EnvArgs) -> Result<ExitCode> {
    let vars = resolved(app)?;
    envfmt::check(args.format, &vars).map_err(anyhow::Error::msg)?;
    print!("{}", envfmt::render(args.format, &vars));
    Ok(ExitCode::SUCCESS)
}

fn status(app: &App, args: StatusArgs) -> Result<ExitCode> {
    let now = now();
    let mut rows = Vec::new();
    for (name, spec) in &app.config.repositories {
        let cached = app.provider.cached_token(spec);
        let handed = app.provider.handed_source(spec);
        let origin = app
            .config
            .origin(name)
            .map(|p| p.to_string())
            .unwrap_or_else(|| "environment".into());
        rows.push(serde_json::json!({
            "name": name,
            "default": app.config.default.as_deref() == Some(name.as_str()),
            "domain": spec.domain,
            "owner": spec.owner,
            "region": spec.region,
            "repository": spec.repository,
            "format": spec.format.as_str(),
            "profile": spec.profile,
            "role_arn": spec.role_arn,
            "duration": spec.duration.to_string(),
            "config": origin,
            "token": cached.as_ref().map(|t| serde_json::json!({
                "expiration": human::utc(t.expires_at),
                "expires_in_seconds": t.seconds_left(now),
                "fresh": !t.needs_refresh(now, app.provider.settings().refresh_before),
            })),
            // Where the token comes from: `cache` (fetched from AWS), or the handed-in source.
            "token_source": handed.as_ref().map_or("cache".to_string(), |h| format!("handed in: {h}")),
        }));
    }
    if args.json {
        let v = serde_json::json!({
            "config_files": app.config.sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "cache_dir": app.provider.settings().cache_dir.as_ref().map(|p| p.display().to_string()),
            "repositories": rows,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if app.config.sources.is_empty() {
        println!("config files: none found");
    } else {
        println!("config files:");
        for s in &app.config.sources {
            println!("  {}", s.display());
        }
    }
    if rows.is_empty() {
        println!("no repositories configured (see `artoken --help`)");
    }
    for (name, spec) in &app.config.repositories {
        let cached = app.provider.cached_token(spec);
        let handed = app.provider.handed_source(spec);
        let token = match (&cached, &handed) {
            (Some(t), h) => format!(
                "{} ({}){}",
                human::expiry(t.seconds_left(now)),
                human::utc(t.expires_at),
                h.as_ref()
                    .map(|h| format!(", handed in: {h}"))
                    .unwrap_or_default()
            ),
            (None, Some(h)) => format!("handed in: {h}, not readable (see `artoken token`)"),
            (None, None) => "no cached token".into(),
        };
        let mark = if app.config.default.as_deref() == Some(name.as_str()) {
            " (default)"
        } else {
            ""
        };
        println!("{name}{mark}");
        println!(
            "  domain {}{}{}  {}",
            spec.domain,
            spec.owner
                .as_ref()
                .map(|o| format!(" (owner {o})"))
                .unwrap_or_default(),
            spec.region
                .as_ref()
                .map(|r| format!(" in {r}"))
                .unwrap_or_default(),
            spec.repository
                .as_ref()
                .map(|r| format!("repository {r} ({})", spec.format))
                .unwrap_or_else(|| "token only".into()),
        );
        if let Some(p) = &spec.profile {
            println!("  profile {p}");
        }
        if let Some(r) = &spec.role_arn {
            println!("  role {r}");
        }
        println!(
            "  config {}",
            app.config
                .origin(name)
                .map(|p| p.to_string())
                .unwrap_or_else(|| "environment".into())
        );
        println!("  token {token}");
    }
    Ok(ExitCode::SUCCESS)
}

struct Check {
    name: String,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

fn doctor(app: &App, args: DoctorArgs) -> Result<ExitCode> {
    let mut checks = Vec::new();
    checks.push(Check {
        name: "config".into(),
        ok: !app.config.repositories.is_empty(),
        detail: if app.config.sources.is_empty() {
            "no config files found".into()
        } else {
            format!(
                "{} file(s): {}",
                app.config.sources.len(),
                app.config.sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        },
        fix: app.config.repositories.is_empty().then(|| {
            "create artoken.yml with a `repositories:` entry (see README), or set ARTOKEN_DOMAIN and ARTOKEN_REPOSITORY".into()
        }),
    });
    let specs: Vec<_> = match &args.repo {
        Some(r) => vec![app.repository(Some(r))?],
        None => app.config.repositories.values().collect(),
    };
    let source = app.provider.source();
    for spec in specs {
        let n = &spec.name;
        match app.block_on(source.sdk_config(spec)) {
            Ok(c) => checks.push(Check {
                name: format!("{n}: region"),
                ok: true,
                detail: c.region().map(|r| r.to_string()).unwrap_or_default(),
                fix: None,
            }),
            Err(e) => {
                checks.push(Check {
                    name: format!("{n}: region"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some("set `region:` for the repository, or AWS_REGION".into()),
                });
                continue;
            }
        }
        match app.block_on(source.caller_identity(spec)) {
            Ok(id) => checks.push(Check {
                name: format!("{n}: credentials"),
                ok: true,
                detail: format!("{} (account {})", id.arn, id.account),
                fix: None,
            }),
            Err(e) => {
                checks.push(Check {
                    name: format!("{n}: credentials"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some(match &spec.profile {
                        Some(p) => format!("check profile {p} in ~/.aws/config (for SSO: `aws sso login --profile {p}`)"),
                        None => "set AWS_PROFILE or `profile:` in artoken.user.yml, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".into(),
                    }),
                });
                continue;
            }
        }
        match app.block_on(source.fetch_token(spec)) {
            Ok(t) => checks.push(Check {
                name: format!("{n}: token"),
                ok: true,
                detail: format!(
                    "codeartifact:GetAuthorizationToken and sts:GetServiceBearerToken allowed; token {}",
                    human::expiry(t.seconds_left(now()))
                ),
                fix: None,
            }),
            Err(e) => {
                let fix = match &e {
                    artoken_core::source::SourceError::AccessDenied { action, .. } => format!(
                        "grant {action} to the caller (a token needs both codeartifact:GetAuthorizationToken and sts:GetServiceBearerToken)"
                    ),
                    artoken_core::source::SourceError::NotFound { .. } => {
                        "check `domain:` and `owner:` for the repository".into()
                    }
                    _ => "see the error above".into(),
                };
                checks.push(Check {
                    name: format!("{n}: token"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some(fix),
                });
            }
        }
        if spec.repository.is_some() {
            match app.block_on(source.fetch_endpoint(spec)) {
                Ok(e) => checks.push(Check {
                    name: format!("{n}: endpoint"),
                    ok: true,
                    detail: e,
                    fix: None,
                }),
                Err(e) => checks.push(Check {
                    name: format!("{n}: endpoint"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some(
                        "check `repository:` and `format:`, and codeartifact:GetRepositoryEndpoint"
                            .into(),
                    ),
                }),
            }
        }
    }
    checks.push(cache_check(app));
    let failed = checks.iter().filter(|c| !c.ok).count();
    if args.json {
        let v: Vec<_> = checks
            .iter()
            .map(|c| serde_json::json!({"check": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"ok": failed == 0, "checks": v}))?
        );
    } else {
        for c in &checks {
            println!(
                "{} {}: {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            );
            if let Some(f) = &c.fix {
                println!("     fix: {f}");
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cache_check(app: &App) -> Check {
    let warnings = app.provider.take_warnings();
    match (app.provider.cache(), &app.provider.settings().cache_dir) {
        (Some(c), _) => {
            let probe = c.dir().join(".doctor-probe");
            let writable = artoken_core::atomic::write_atomic(&probe, b"", 0o600).is_ok();
            let _ = std::fs::remove_file(&probe);
            Check {
                name: "cache".into(),
                ok: writable,
                detail: format!(
                    "{}{}",
                    c.dir().display(),
                    if writable {
                        " (0700, writable)"
                    } else {
                        " is not writable"
                    }
                ),
                fix: (!writable).then(|| {
                    "fix the permissions of the cache dir or set ARTOKEN_CACHE_DIR".into()
                }),
            }
        }
        (None, Some(d)) => Check {
            name: "cache".into(),
            ok: false,
            detail: warnings
                .join("; ")
                .if_empty(format!("{} unusable", d.display())),
            fix: Some("fix the cache dir or set ARTOKEN_CACHE_DIR".into()),
        },
        (None, None) => Check {
            name: "cache".into(),
            ok: true,
            detail: "disabled".into(),
            fix: None,
        },
    }
}

trait IfEmpty {
    fn if_empty(self, other: String) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, other: String) -> String {
        if self.is_empty() { other } else { self }
    }
}
