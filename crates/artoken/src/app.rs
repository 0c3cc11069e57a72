//! The context every command shares: the loaded config, the token provider, a runtime.

use std::path::PathBuf;

use anyhow::{Context, Result};
use artoken_core::config::{self, Config};
use artoken_core::{Provider, RepositorySpec, Settings};

use crate::cli::Global;

/// Reads a variable of the process environment.
pub fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

pub struct App {
    pub config: Config,
    pub provider: Provider,
    runtime: tokio::runtime::Runtime,
}

impl App {
    pub fn new(global: &Global) -> Result<App> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let home = env_var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let mut explicit = global.config.clone();
        if explicit.is_empty() {
            if let Some(list) = env_var("ARTOKEN_CONFIG").filter(|v| !v.is_empty()) {
                explicit = std::env::split_paths(&list).collect();
            }
        }
        let config = config::load(&config::LoadOptions {
            home,
            cwd,
            explicit,
            env: &env_var,
        })?;
        if let Some(t) = env_var("ARTOKEN_TIMEOUT").filter(|t| !t.is_empty()) {
            match artoken_core::spec::parse_seconds(&t) {
                Ok(s) if s > 0 => {}
                Ok(_) => anyhow::bail!("ARTOKEN_TIMEOUT: must be more than 0 seconds"),
                Err(e) => anyhow::bail!("ARTOKEN_TIMEOUT: {e}"),
            }
        }
        let mut settings = Settings::from_env(&env_var);
        if let Some(dir) = &global.cache_dir {
            settings.cache_dir = Some(dir.clone());
        }
        if global.no_cache {
            settings.cache_dir = None;
        }
        settings.force_refresh = global.refresh;
        settings.endpoint_override = global.endpoint_url.clone();
        if let Some(r) = config.refresh_before {
            settings.refresh_before = r;
        }
        let provider = Provider::new(settings);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(App {
            config,
            provider,
            runtime,
        })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    pub fn repository(&self, name: Option<&str>) -> Result<&RepositorySpec> {
        Ok(self.config.repository(name)?)
    }

    /// Prints the provider's warnings (cache trouble) on stderr.
    pub fn flush_warnings(&self) {
        for w in self.provider.take_warnings() {
            tracing::warn!("{w}");
        }
    }
}
