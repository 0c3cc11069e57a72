//! `artoken cargo-credential`: cargo's credential-provider protocol (JSON lines on stdin/stdout).

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use crate::cli::Global;

#[derive(Debug, Args)]
pub struct CargoCredentialArgs {
    /// Passed by cargo
    #[arg(long)]
    pub cargo_plugin: bool,
    /// Extra arguments from the registry's credential-provider setting
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(_global: &Global, _args: CargoCredentialArgs) -> Result<ExitCode> {
    bail!("cargo-credential is not implemented yet")
}
