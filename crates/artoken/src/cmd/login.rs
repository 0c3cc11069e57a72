//! `artoken login TOOL [REPO]` / `artoken logout TOOL [REPO]`: package-manager config writers.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use crate::cli::Global;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The tool to configure
    pub tool: String,
    /// Repository name from the config
    pub repo: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The tool to unconfigure
    pub tool: String,
    /// Repository name from the config
    pub repo: Option<String>,
}

pub fn login(_global: &Global, _args: LoginArgs) -> Result<ExitCode> {
    bail!("login is not implemented yet")
}

pub fn logout(_global: &Global, _args: LogoutArgs) -> Result<ExitCode> {
    bail!("logout is not implemented yet")
}
