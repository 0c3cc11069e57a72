//! `artoken`: the thin binary. Parses the command line, runs the command, and reports errors
//! as one line with their chain of causes (redacted), never a backtrace.

mod app;
mod cli;
mod cmd;
mod commands;
mod envfmt;
mod logging;

use std::process::ExitCode;

use clap::Parser;

/// `0.1.0 (git abc123456)`, or `0.1.0` built without git or cargo's VCS info (build.rs).
pub const VERSION: &str = env!("ARTOKEN_VERSION");

fn main() -> ExitCode {
    // Before anything holds a token: no core dump, no same-user reader of our memory.
    artoken_core::process::harden();
    // Installed as `keyring` (a link or shim), artoken speaks the keyring CLI protocol.
    if cmd::keyring::invoked_as_keyring() {
        return cmd::keyring::main_as_keyring();
    }
    // Run by cargo as a credential provider, artoken gets `--cargo-plugin` and nothing else.
    if cmd::cargo_credential::invoked_by_cargo() {
        return cmd::cargo_credential::main_as_plugin();
    }
    let cli = cli::Cli::parse();
    logging::init(cli.global.verbose, cli.global.quiet);
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            let mut msg = err.to_string();
            for cause in err.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            artoken_core::redact::write_stderr(&format!("artoken: error: {msg}\n"));
            ExitCode::from(1)
        }
    }
}
