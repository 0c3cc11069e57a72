//! `artoken cargo-credential`: cargo's credential-provider protocol (JSON lines on stdin/stdout).
//!
//! Cargo runs a provider as `PROGRAM --cargo-plugin` with the configured arguments only in its
//! requests, so `credential-provider = "artoken cargo-credential"` starts `artoken
//! --cargo-plugin` ([`invoked_by_cargo`]); `artoken cargo-credential --cargo-plugin` works too.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use artoken_tools::cargo_credential::{self, Fetch, Reply};
use artoken_tools::realm::Trust;
use clap::Args;

use crate::app::App;
use crate::cli::Global;

#[derive(Debug, Args)]
pub struct CargoCredentialArgs {
    /// Passed by cargo
    #[arg(long)]
    pub cargo_plugin: bool,
    /// --repo NAME (take the token with this configured repository's settings; the index URL
    /// must be its host), --bearer (send `Bearer TOKEN` instead of the bare token)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

const HOW_TO: &str = "\
artoken cargo-credential: cargo's credential provider for CodeArtifact registries; cargo runs it.
In ~/.cargo/config.toml (or a project's .cargo/config.toml):

  [registries.NAME]
  index = \"sparse+https://DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/cargo/REPO/\"
  credential-provider = \"artoken cargo-credential\"

(`artoken url --tool cargo REPO` prints the index.) Cargo then asks artoken for a token when it
needs one; artoken answers from its shared cache or AWS, with the expiry so cargo reuses it, and
nothing is written to cargo's files. Only a configured repository's own index gets a token
(https, its exact host). Arguments after `cargo-credential`: --repo NAME (use this configured
repository's settings; the index must still be its host), --bearer (send `Bearer TOKEN`).
";

/// True when cargo started artoken itself as the provider (`artoken --cargo-plugin`).
pub fn invoked_by_cargo() -> bool {
    std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "--cargo-plugin")
}

/// The provider run by cargo as `artoken --cargo-plugin [ARGS]`.
pub fn main_as_plugin() -> ExitCode {
    let extra: Vec<String> = std::env::args_os()
        .skip(2)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    plugin(&crate::cmd::keyring::default_global(), &extra)
}

pub fn run(global: &Global, args: CargoCredentialArgs) -> Result<ExitCode> {
    if !args.cargo_plugin {
        print!("{HOW_TO}");
        return Ok(ExitCode::SUCCESS);
    }
    Ok(plugin(global, &args.args))
}

/// The chain of causes below `err`, redacted.
fn causes(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = artoken_core::redact::redact(&e.to_string()).into_owned();
        if !out.contains(&s) {
            out.push(s);
        }
        cur = e.source();
    }
    out
}

fn plugin(global: &Global, extra: &[String]) -> ExitCode {
    // Config and runtime only once a CodeArtifact registry asks.
    let mut loaded: Option<Result<(App, Trust), String>> = None;
    let fetch = |f: &Fetch| -> Reply {
        let loaded = loaded.get_or_insert_with(|| {
            App::new(global)
                .map(|app| {
                    let trust = crate::cmd::keyring::trust(&app);
                    (app, trust)
                })
                .map_err(|e| artoken_core::redact::redact(&format!("{e:#}")).into_owned())
        });
        let (app, trust) = match loaded {
            Ok(l) => (&l.0, &l.1),
            Err(e) => return Reply::other(e.clone(), vec![]),
        };
        let spec = match f.spec(trust) {
            Ok(s) => s,
            Err(reply) => return reply,
        };
        match app.block_on(app.provider.token(&spec)) {
            // cargo compares the expiration with this machine's clock.
            Ok(t) => Reply::token(t.token.expose(), t.expiry().expires_at_local(), f.bearer),
            Err(e) => {
                let message = artoken_core::redact::redact(&e.to_string()).into_owned();
                Reply::other(
                    format!(
                        "artoken cannot get a CodeArtifact token for domain {}: {message}",
                        spec.domain
                    ),
                    causes(&e),
                )
            }
        }
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match cargo_credential::serve(stdin, stdout, extra, fetch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "artoken cargo-credential: error: {e}");
            ExitCode::from(1)
        }
    }
}
