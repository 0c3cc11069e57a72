//! `artoken login TOOL [REPO]` / `artoken logout TOOL [REPO]`: write a package manager's config
//! for a repository, or remove exactly what login wrote (see `artoken_tools::writers`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use artoken_tools::writers::{self, Context, Options, Plan, Target, Tool};
use clap::Args;

use crate::app::{App, env_var};
use crate::cli::{EnvFormat, Global};

#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Tools: pip, uv, poetry, pipenv, twine, npm, pnpm, yarn, bun, maven, gradle, nuget, dotnet, cargo, swift, netrc.\n",
    "What login adds sits between `>>> artoken:REPO ... >>>` comments; everything else in the file is kept byte for byte.\n",
    "pyproject.toml, Pipfile, uv.toml and poetry's auth.toml, which their tools rewrite, get no comments: logout takes out the entry named REPO that points at a CodeArtifact PyPI index (auth.toml: user `aws`) and leaves one changed since.\n",
    "Prefer the helpers that keep the token off the disk: `login pip --helper`, `login uv --helper`, `artoken cargo-credential` (cargo), `login pnpm --helper`, `login bun` (bunfig.toml reads $CODEARTIFACT_AUTH_TOKEN: run bun through `artoken exec`), and `artoken serve` for the rest."
))]
pub struct LoginArgs {
    /// The tool to configure (see below)
    pub tool: String,
    /// Repository name from the config [default: `default:` or the only one]
    pub repo: Option<String>,
    /// pip, uv, poetry: add the repository as an extra index instead of the default one
    #[arg(long)]
    pub extra: bool,
    /// npm, pnpm, yarn: use the repository for this scope only (e.g. @corp)
    #[arg(long, value_name = "@SCOPE")]
    pub scope: Option<String>,
    /// Edit this file instead of the tool's user config (e.g. a project's .npmrc)
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// pip: the active virtual environment's pip.conf instead of the user's
    #[arg(long)]
    pub site: bool,
    /// uv: also write UV_INDEX_<NAME>_USERNAME/PASSWORD to this dotenv file (else they are printed)
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// pip, uv: write the index URL with the user name `aws`, `keyring-provider = subprocess` and the `keyring` shim in ~/.local/bin (artoken answers; logout removes all three). pnpm: a tokenHelper line in ~/.npmrc running this artoken. No token is written
    #[arg(long)]
    pub helper: bool,
    /// yarn: configure yarn 1 (~/.npmrc with always-auth) instead of yarn berry (~/.yarnrc.yml)
    #[arg(long)]
    pub classic: bool,
    /// maven: a settings.xml <mirror> to `artoken serve` at URL (its address, e.g. http://127.0.0.1:7353) instead of a token
    #[arg(long, value_name = "URL")]
    pub serve: Option<String>,
    /// gradle: ~/.gradle/init.d/artoken-REPO.gradle, which asks `artoken token` each build, instead of a token in gradle.properties
    #[arg(long)]
    pub init_script: bool,
    /// Show the change as a diff (tokens as ***) and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON: each file and what happened to it
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The tool to unconfigure
    pub tool: String,
    /// Repository name [default: `default:` or the only one in the config]
    pub repo: Option<String>,
    /// The file login edited, when it was given with --file
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// pip: the active virtual environment's pip.conf
    #[arg(long)]
    pub site: bool,
    /// uv: the dotenv file login wrote the variables to
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// yarn: yarn 1's ~/.npmrc, as `login yarn --classic` wrote it
    #[arg(long)]
    pub classic: bool,
    /// gradle: the init script `login gradle --init-script` wrote
    #[arg(long)]
    pub init_script: bool,
    /// Show the change as a diff and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON: each file and what happened to it
    #[arg(long)]
    pub json: bool,
}

fn tool(s: &str) -> Result<Tool> {
    s.parse::<Tool>().map_err(anyhow::Error::msg)
}

fn context() -> Result<Context<'static>> {
    Ok(Context {
        env: &env_var,
        cwd: std::env::current_dir().context("cannot read the current directory")?,
    })
}

/// This executable, as a tool's helper setting names it (absolute, links resolved).
fn artoken_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the artoken executable")?;
    Ok(std::fs::canonicalize(&exe).unwrap_or(exe))
}

pub fn login(global: &Global, args: LoginArgs) -> Result<ExitCode> {
    let tool = tool(&args.tool)?;
    let mut opts = Options {
        extra: args.extra,
        scope: args.scope.clone(),
        file: args.file.clone(),
        site: args.site,
        env_file: args.env_file.clone(),
        helper: args.helper.then(writers::Helper::default),
        classic: args.classic,
        serve: args.serve.clone(),
        init_script: args.init_script.then(writers::Helper::default),
    };
    // Flag mistakes are reported before any AWS call.
    writers::plan::check(tool, &opts, false)?;
    let app = App::new(global)?;
    if args.helper {
        // The helper reads the files read now, so it decides the same wherever pnpm runs.
        opts.helper = Some(writers::Helper {
            exe: artoken_exe()?,
            config: app.config.sources.clone(),
        });
    }
    if args.init_script {
        opts.init_script = Some(writers::Helper {
            exe: artoken_exe()?,
            config: app.config.sources.clone(),
        });
    }
    let spec = app.repository(args.repo.as_deref())?;
    if let Some(format) = tool.format()
        && spec.format != format
    {
        bail!(
            "repository {} has format {}; `artoken login {tool}` needs format {format} (see `format:` in artoken.yml)",
            spec.name,
            spec.format
        );
    }
    let endpoint = app.endpoint(spec)?;
    let token = if tool.needs_token()
        && opts.helper.is_none()
        && opts.serve.is_none()
        && opts.init_script.is_none()
    {
        Some(app.token(spec)?)
    } else {
        None
    };
    app.flush_warnings();
    let secret = token.as_ref().map(|t| t.token.expose().to_string());
    let target = Target {
        name: &spec.name,
        endpoint: &endpoint,
        token: secret.as_deref(),
    };
    let plan = writers::login(tool, &target, &opts, &context()?)?;
    let what = format!("login {tool} {}", spec.name);
    finish(
        global,
        &what,
        &plan,
        args.dry_run,
        args.json,
        secret.as_deref(),
        &spec.name,
        tool,
    )?;
    if tool == Tool::Uv && args.env_file.is_none() && args.json && !args.dry_run && !global.quiet {
        eprintln!(
            "login uv: --json shows no token; write UV_INDEX_* with --env-file, or use `eval \"$(artoken login uv)\"`"
        );
    }
    if tool == Tool::Bun && !args.json && !global.quiet {
        eprintln!(
            "login bun {}: bunfig.toml reads the token from $CODEARTIFACT_AUTH_TOKEN: run `artoken exec -- bun install` (or `eval \"$(artoken env)\"` first)",
            spec.name
        );
    }
    // uv reads the credentials from the environment: give them to the shell.
    if tool == Tool::Uv && args.env_file.is_none() && !args.json {
        let vars: Vec<(String, String)> = if args.dry_run {
            plan.env
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        if k.ends_with("PASSWORD") {
                            "***".into()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect()
        } else {
            plan.env.clone()
        };
        print!("{}", crate::envfmt::render(EnvFormat::Sh, &vars));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn logout(global: &Global, args: LogoutArgs) -> Result<ExitCode> {
    let tool = tool(&args.tool)?;
    let opts = Options {
        file: args.file.clone(),
        site: args.site,
        env_file: args.env_file.clone(),
        classic: args.classic,
        init_script: args.init_script.then(writers::Helper::default),
        ..Options::default()
    };
    writers::plan::check(tool, &opts, true)?;
    // A named repository needs no config (it may be gone from it already), and never AWS.
    let name = match &args.repo {
        Some(r) => {
            if r.is_empty()
                || !r
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                bail!("{r:?} is not a repository name (letters, digits, '.', '_', '-')");
            }
            r.clone()
        }
        None => App::new(global)?.repository(None)?.name.clone(),
    };
    let plan = writers::logout(tool, &name, &opts, &context()?)?;
    let what = format!("logout {tool} {name}");
    finish(
        global,
        &what,
        &plan,
        args.dry_run,
        args.json,
        None,
        &name,
        tool,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Shows (`--dry-run`) or writes the plan, then says what happened in one line.
#[allow(clippy::too_many_arguments)]
fn finish(
    global: &Global,
    what: &str,
    plan: &Plan,
    dry_run: bool,
    json: bool,
    secret: Option<&str>,
    name: &str,
    tool: Tool,
) -> Result<()> {
    for n in &plan.notes {
        tracing::warn!("{what}: {n}");
    }
    if dry_run {
        let secrets: Vec<&str> = secret.into_iter().collect();
        print!("{}", plan.diff(&secrets));
    } else {
        plan.apply()?;
    }
    if json {
        let files: Vec<_> = plan
            .changes
            .iter()
            .map(
                |c| serde_json::json!({"path": c.path.display().to_string(), "action": c.action()}),
            )
            .collect();
        let mut v = serde_json::json!({
            "tool": tool.name(),
            "repository": name,
            "dry_run": dry_run,
            "files": files,
        });
        if !plan.env.is_empty() {
            // The variables' names, never the token (JSON output ends up in CI logs): it is in
            // the --env-file, or in the exports `artoken login uv` prints without --json.
            let secrets: Vec<&str> = secret.into_iter().collect();
            let env: serde_json::Map<_, _> = plan
                .env
                .iter()
                .map(|(k, val)| {
                    let shown = if k.ends_with("PASSWORD") {
                        "***".to_string()
                    } else {
                        artoken_core::redact::redact_known(val, &secrets).into_owned()
                    };
                    (k.clone(), serde_json::Value::String(shown))
                })
                .collect();
            v["env"] = serde_json::Value::Object(env);
        }
        println!("{v}");
        return Ok(());
    }
    if !global.quiet {
        let nothing = plan.changes.iter().all(|c| !c.changed());
        let note = match (dry_run, nothing, what.starts_with("logout")) {
            (_, true, true) => format!(" (nothing from artoken for {name} there)"),
            (_, true, false) => " (already up to date)".to_string(),
            (true, false, _) => " (dry run: nothing written)".to_string(),
            _ => String::new(),
        };
        let summary = if dry_run {
            plan.changes
                .iter()
                .map(|c| {
                    let a = match c.action() {
                        "created" => "would create",
                        "updated" => "would update",
                        "removed" => "would remove",
                        other => other,
                    };
                    format!("{a} {}", c.path.display())
                })
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            plan.summary()
        };
        eprintln!("{what}: {summary}{note}");
    }
    Ok(())
}
