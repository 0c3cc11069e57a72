//! `artoken glue`, `artoken s3`, `artoken refresh`: the AWS side (Glue job runs, S3 requirements files).

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use crate::cli::Global;

#[derive(Debug, Subcommand)]
pub enum GlueCommand {
    /// Start a Glue job run with a fresh index URL in its installer option
    StartJobRun {
        /// The Glue job name
        job: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum S3Command {
    /// Replace the token in the index lines of a requirements file in S3
    Refresh {
        /// s3://BUCKET/KEY
        url: String,
    },
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Refresh once and exit
    #[arg(long)]
    pub once: bool,
}

pub fn glue(_global: &Global, _c: GlueCommand) -> Result<ExitCode> {
    bail!("glue is not implemented yet")
}

pub fn s3(_global: &Global, _c: S3Command) -> Result<ExitCode> {
    bail!("s3 is not implemented yet")
}

pub fn refresh(_global: &Global, _a: RefreshArgs) -> Result<ExitCode> {
    bail!("refresh is not implemented yet")
}
