//! `cache dir` and `cache clear`: the shared token cache's place, and emptying it.

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::app::App;
use crate::cli::{CacheCommand, Global};

const NO_DIR: &str = "no cache dir: set ARTOKEN_CACHE_DIR, XDG_CACHE_HOME or HOME";

pub fn run(global: &Global, c: CacheCommand) -> Result<ExitCode> {
    let app = App::new(global)?;
    let Some(dir) = &app.provider.settings().cache_dir else {
        bail!(NO_DIR);
    };
    match c {
        CacheCommand::Dir => println!("{}", dir.display()),
        CacheCommand::Clear => {
            let n = artoken_core::cache::Cache::new(dir).clear()?;
            eprintln!("removed {n} cache file(s) from {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
