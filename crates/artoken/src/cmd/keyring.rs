//! `artoken keyring ...` and artoken invoked as `keyring`: the pip/uv keyring subprocess protocol.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use crate::cli::Global;

#[derive(Debug, Args)]
pub struct KeyringArgs {
    /// Arguments as the keyring CLI takes them
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// True when argv[0]'s file name is `keyring`.
pub fn invoked_as_keyring() -> bool {
    std::env::args_os()
        .next()
        .and_then(|a| std::path::Path::new(&a).file_name().map(|f| f == "keyring"))
        .unwrap_or(false)
}

pub fn main_as_keyring() -> ExitCode {
    ExitCode::from(1)
}

pub fn run(_global: &Global, _args: KeyringArgs) -> Result<ExitCode> {
    bail!("keyring is not implemented yet")
}
