//! The dispatcher: each command to the module of its area under `cmd/`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::app::App;
use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "artoken", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            std::io::stdout().write_all(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cache(c) => crate::cmd::cache::run(&cli.global, c),
        Command::Login(args) => crate::cmd::login::login(&cli.global, args),
        Command::Logout(args) => crate::cmd::login::logout(&cli.global, args),
        Command::Keyring(args) => crate::cmd::keyring::run(&cli.global, args),
        Command::CargoCredential(args) => crate::cmd::cargo_credential::run(&cli.global, args),
        Command::PnpmTokenHelper(args) => crate::cmd::pnpm_token_helper::run(&cli.global, args),
        Command::Serve(args) => crate::cmd::serve::run(&cli.global, args),
        Command::Glue(c) => crate::cmd::aws::glue(&cli.global, c),
        Command::S3(c) => crate::cmd::aws::s3(&cli.global, c),
        Command::Refresh(args) => crate::cmd::aws::refresh(&cli.global, args),
        Command::Demo(args) => crate::cmd::demo::run(&cli.global, args),
        Command::Token(args) => crate::cmd::token::token(&App::new(&cli.global)?, args),
        Command::Url(args) => crate::cmd::token::url(&App::new(&cli.global)?, args),
        Command::Exec(args) => crate::cmd::token::exec(&App::new(&cli.global)?, args),
        Command::Env(args) => crate::cmd::token::env(&App::new(&cli.global)?, args),
        Command::Render(args) => crate::cmd::render::run(&cli.global, args),
        Command::Status(args) => crate::cmd::status::run(&App::new(&cli.global)?, args),
        Command::Doctor(args) => crate::cmd::doctor::run(&App::new(&cli.global)?, args),
    }
}
