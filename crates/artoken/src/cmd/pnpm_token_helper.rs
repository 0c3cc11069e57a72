//! `artoken pnpm-token-helper REGISTRY_URL`: pnpm's `tokenHelper`, the token for one registry on stdout.
//!
//! pnpm (12.4.2) runs the `//HOST/PATH/:tokenHelper=` command of a registry it is about to
//! call, at most once per pnpm run: the value is split at whitespace into a program (an
//! absolute path) and its arguments (`$`, `%`, quotes and backquotes are refused); stdin is
//! closed and it has 60 s. pnpm sends `Bearer STDOUT` (trailing whitespace trimmed); a non-zero
//! exit or an empty stdout fails the install. pnpm honours the setting only in the user's
//! `~/.npmrc` (or its global rc), never in a project's. pnpm does not say which registry it
//! asks for, so the line carries the registry URL as an argument (`artoken login pnpm --helper`
//! writes it).
//!
//! The URL gets a token only when `artoken_tools::realm::Trust` says so (a configured
//! repository's https host, or the emulator's form at the endpoint override); the token comes
//! from the shared cache when fresh (no AWS call), else from AWS once for every process.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use artoken_tools::realm::ClientUrl;
use clap::Args;

use crate::app::App;
use crate::cli::Global;

#[derive(Debug, Args)]
#[command(after_help = "\
pnpm runs it; in ~/.npmrc (pnpm ignores tokenHelper in a project's .npmrc):

  //HOST/npm/REPO/:tokenHelper=/ABSOLUTE/PATH/artoken pnpm-token-helper https://HOST/npm/REPO/

`artoken login pnpm --helper [REPO]` writes that line and the registry; no token is written.")]
pub struct PnpmTokenHelperArgs {
    /// The registry URL the tokenHelper line belongs to (https://HOST/npm/REPO/)
    #[arg(value_name = "REGISTRY_URL")]
    pub url: String,
}

/// One line on stderr (pnpm shows only its own error), and exit 1.
fn fail(message: &str) -> ExitCode {
    let line = message.replace(['\n', '\r'], " ");
    artoken_core::redact::write_stderr(&format!(
        "artoken pnpm-token-helper: error: {}\n",
        artoken_core::redact::redact(&line)
    ));
    ExitCode::from(1)
}

pub fn run(global: &Global, args: PnpmTokenHelperArgs) -> Result<ExitCode> {
    // Only a full URL: no bare host (the line names its registry exactly).
    let asked = args
        .url
        .contains("://")
        .then(|| ClientUrl::keyring(&args.url))
        .flatten();
    let Some(asked) = asked else {
        return Ok(fail(&format!(
            "{:?} is not a CodeArtifact registry URL (https://DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/npm/REPO/)",
            args.url
        )));
    };
    let app = match App::new(global) {
        Ok(a) => a,
        Err(e) => return Ok(fail(&format!("{e:#}"))),
    };
    let Some(spec) = crate::cmd::keyring::trust(&app).spec_for(&asked) else {
        return Ok(fail(&format!(
            "no token for {}: it is not the https URL of a repository whose domain is in artoken.yml (run `artoken status` to see the configured ones)",
            asked.url()
        )));
    };
    let token = match app.block_on(app.provider.token(&spec)) {
        Ok(t) => t,
        Err(e) => {
            let e = anyhow::Error::new(e).context(format!(
                "cannot get a CodeArtifact token for domain {}",
                spec.domain
            ));
            return Ok(fail(&format!("{e:#}")));
        }
    };
    app.flush_warnings();
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", token.token.expose()).and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(_) => Ok(ExitCode::from(1)),
    }
}
