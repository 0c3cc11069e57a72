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
    quiet: bool,
    pub config: Config,
    pub provider: Provider,
    runtime: tokio::runtime::Runtime,
}

impl App {
    pub fn new(global: &Global) -> Result<App> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let home = env_var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let mut explicit = global.config.clone();
        if explicit.is_empty()
            && let Some(list) = env_var("ARTOKEN_CONFIG").filter(|v| !v.is_empty())
        {
            explicit = std::env::split_paths(&list).collect();
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
        if let Some(f) = &global.token_file {
            settings.handed = artoken_core::handed::HandedSource::global(Some(f), &env_var);
        }
        if let Some(r) = config.refresh_before {
            settings.refresh_before = r;
        }
        let provider = Provider::new(settings);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(App {
            quiet: global.quiet,
            config,
            provider,
            runtime,
        })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Like [`App::block_on`], with a spinner on stderr once the work has taken more than a
    /// second, and only when stderr is a terminal (never in pipes, logs or CI).
    pub fn block_on_progress<F: std::future::Future>(&self, label: &str, f: F) -> F::Output {
        use std::io::{IsTerminal, Write};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        if self.quiet || !std::io::stderr().is_terminal() {
            return self.block_on(f);
        }
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let label = label.to_string();
        let spinner = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let frames = ['|', '/', '-', '\\'];
            let mut shown = false;
            let mut i = 0;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if start.elapsed() >= std::time::Duration::from_secs(1) {
                    let _ = write!(std::io::stderr(), "\r{} {label}", frames[i % frames.len()]);
                    shown = true;
                    i += 1;
                }
            }
            if shown {
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
            }
        });
        let out = self.block_on(f);
        done.store(true, Ordering::Relaxed);
        let _ = spinner.join();
        out
    }

    /// `spec`'s token, fetched or from the cache (a spinner on a terminal); the error names
    /// the repository.
    pub fn token(&self, spec: &RepositorySpec) -> Result<artoken_core::cache::CachedToken> {
        self.block_on_progress("fetching a CodeArtifact token", self.provider.token(spec))
            .with_context(|| format!("cannot get a token for repository {}", spec.name))
    }

    /// `spec`'s repository endpoint; the error names the repository.
    pub fn endpoint(&self, spec: &RepositorySpec) -> Result<String> {
        self.block_on(self.provider.endpoint(spec))
            .with_context(|| format!("cannot get the endpoint of repository {}", spec.name))
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
