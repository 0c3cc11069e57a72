//! `artoken keyring ...` and artoken invoked as `keyring`: the pip/uv keyring subprocess protocol.
//!
//! stdout carries the reply and nothing else. A URL that may not get a token (not a configured
//! repository's https host, nor the emulator's form at the endpoint override: see
//! `artoken_tools::realm`), or a username other than `aws`, exits 1 without a word (the client
//! then asks elsewhere); real failures (AWS said no) exit 1 with one line on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use artoken_tools::keyring::{self, Admin, Invocation};
use artoken_tools::realm::{ClientUrl, Trust};
use clap::{Args, Parser};

use crate::app::{App, env_var};
use crate::cli::{Cli, Global};

#[derive(Debug, Args)]
pub struct KeyringArgs {
    /// `get [--mode creds] [--output json] URL [USER]` as the keyring CLI takes it, or
    /// `install [--dir DIR] [--script]` / `uninstall [--dir DIR]` for the `keyring` shim
    /// (default DIR: ~/.local/bin)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// True when argv[0]'s file name is `keyring`.
pub fn invoked_as_keyring() -> bool {
    std::env::args_os()
        .next()
        .and_then(|a| std::path::Path::new(&a).file_name().map(|f| f == "keyring"))
        .unwrap_or(false)
}

/// The global options of a bare `artoken` (their environment variables apply), for the
/// helpers that clients run without artoken's own command line.
pub fn default_global() -> Global {
    Cli::try_parse_from(["artoken", "cache", "dir"])
        .expect("a fixed command line parses")
        .global
}

pub fn main_as_keyring() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    answer(&default_global(), &args)
}

pub fn run(global: &Global, args: KeyringArgs) -> Result<ExitCode> {
    match keyring::parse_admin(&args.args) {
        Some(Ok(Admin::Install { dir, kind })) => install(dir, kind),
        Some(Ok(Admin::Uninstall { dir })) => uninstall(dir),
        Some(Err(e)) => Err(anyhow!("keyring: {e}")),
        None => Ok(answer(global, &args.args)),
    }
}

/// One line on stderr, redacted, for a real failure.
fn fail(err: &anyhow::Error) -> ExitCode {
    let msg = format!("{err:#}").replace(['\n', '\r'], " ");
    eprintln!(
        "artoken keyring: error: {}",
        artoken_core::redact::redact(&msg)
    );
    ExitCode::from(1)
}

fn answer(global: &Global, args: &[String]) -> ExitCode {
    let invocation = match keyring::parse_args(args) {
        Ok(i) => i,
        Err(e) => {
            // As argparse: usage and exit 2.
            eprintln!("{}", keyring::USAGE.lines().next().unwrap_or_default());
            eprintln!("keyring: error: {e}");
            return ExitCode::from(2);
        }
    };
    match invocation {
        Invocation::Get(req) => get(global, &req),
        Invocation::Help => {
            print!("{}", keyring::USAGE);
            ExitCode::SUCCESS
        }
        Invocation::ListBackends => {
            println!("artoken.CodeArtifact (priority: 1)");
            ExitCode::SUCCESS
        }
        Invocation::Diagnose => {
            println!("artoken {} answering as keyring", crate::VERSION);
            if let Ok(exe) = std::env::current_exe() {
                println!("executable: {}", exe.display());
            }
            ExitCode::SUCCESS
        }
        Invocation::Store { operation } => {
            eprintln!(
                "artoken keyring: {operation}: artoken does not store passwords; it fetches CodeArtifact tokens when asked"
            );
            ExitCode::from(1)
        }
        Invocation::Disable => {
            eprintln!(
                "artoken keyring: nothing to disable; remove the shim with `artoken keyring uninstall`"
            );
            ExitCode::from(1)
        }
        Invocation::PrintCompletion => {
            eprintln!("artoken keyring: no completions; see `artoken completions`");
            ExitCode::from(1)
        }
    }
}

/// Which URLs get a token: the loaded config and where AWS calls go (`--endpoint-url`, else
/// `AWS_ENDPOINT_URL_CODEARTIFACT`, else `AWS_ENDPOINT_URL`), for the keyring helper and the
/// cargo credential provider alike.
pub fn trust(app: &App) -> Trust {
    let s = app.provider.settings();
    let endpoint = s.endpoint_override.as_deref().or(s.env_endpoint.as_deref());
    Trust::from_config(&app.config, endpoint)
}

fn get(global: &Global, req: &keyring::GetRequest) -> ExitCode {
    // Not ours: silent, so the client goes on to its next source.
    if !req.username_fits() {
        return ExitCode::from(1);
    }
    let Some(asked) = ClientUrl::keyring(&req.service) else {
        return ExitCode::from(1);
    };
    let app = match App::new(global) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    let Some(spec) = trust(&app).spec_for(&asked) else {
        return ExitCode::from(1);
    };
    let token = match app.block_on(app.provider.token(&spec)) {
        Ok(t) => t,
        Err(e) => {
            let e = anyhow::Error::new(e).context(format!(
                "cannot get a CodeArtifact token for domain {}",
                spec.domain
            ));
            return fail(&e);
        }
    };
    let mut out = std::io::stdout().lock();
    match out
        .write_all(req.reply(token.token.expose()).as_bytes())
        .and_then(|()| out.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

fn shim_dir(dir: Option<PathBuf>) -> Result<PathBuf> {
    let dir = match dir {
        Some(d) => d,
        None => {
            let home = env_var("HOME")
                .filter(|h| !h.is_empty())
                .context("HOME is not set: name the directory with --dir")?;
            Path::new(&home).join(".local/bin")
        }
    };
    Ok(if dir.is_absolute() {
        dir
    } else {
        std::env::current_dir()
            .context("cannot read the current directory")?
            .join(dir)
    })
}

fn install(dir: Option<PathBuf>, kind: keyring::ShimKind) -> Result<ExitCode> {
    let dir = shim_dir(dir)?;
    let exe = std::env::current_exe().context("cannot find the artoken executable")?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let outcome = keyring::install(&dir, &exe, kind)?;
    println!("{outcome} (runs {})", exe.display());
    let shim = dir.join(keyring::SHIM_NAME);
    let path = env_var("PATH").unwrap_or_default();
    if !keyring::on_path(&dir, &path) {
        eprintln!(
            "warning: {} is not on PATH; add it (export PATH=\"{}:$PATH\") so pip and uv find `keyring`",
            dir.display(),
            dir.display()
        );
    } else if let Some(other) = keyring::shadowing(&shim, &path) {
        eprintln!(
            "warning: {} comes first on PATH and will answer instead of artoken",
            other.display()
        );
    }
    if keyring::in_venv(&dir) {
        eprintln!(
            "warning: {} is a virtualenv's bin; pip skips its own venv's bin when looking for keyring: install outside any venv",
            dir.display()
        );
    }
    println!(
        "\nThen tell the clients to ask it (no token is stored anywhere):\n\
         \x20 pip:  pip config set global.keyring-provider subprocess\n\
         \x20       (or PIP_KEYRING_PROVIDER=subprocess, or --keyring-provider subprocess)\n\
         \x20       pip before 26.2 also needs the user name in the index URL: https://aws@HOST/pypi/REPO/simple/\n\
         \x20 uv:   export UV_KEYRING_PROVIDER=subprocess   (or keyring-provider = \"subprocess\" in uv.toml)\n\
         \x20       with the user name in the index URL (https://aws@HOST/...), or authenticate = \"always\" on the index\n\
         \x20 The index URL: artoken url --tool endpoint REPO, plus simple/"
    );
    Ok(ExitCode::SUCCESS)
}

fn uninstall(dir: Option<PathBuf>) -> Result<ExitCode> {
    let dir = shim_dir(dir)?;
    println!("{}", keyring::uninstall(&dir)?);
    Ok(ExitCode::SUCCESS)
}
