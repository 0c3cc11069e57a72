//! `artoken serve`: the local auth proxy.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use crate::cli::Global;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
}

pub fn run(_global: &Global, _args: ServeArgs) -> Result<ExitCode> {
    bail!("serve is not implemented yet")
}
