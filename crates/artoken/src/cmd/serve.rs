//! `artoken serve`: the local auth proxy (crate artoken-proxy; see docs/serve.md). Serves every
//! configured repository that has a `repository:` under `/NAME/` until SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use artoken_core::RepositorySpec;
use artoken_proxy::{
    AccessLog, ClientSecret, ProviderTokens, Proxy, ProxyConfig, Upstream, check_listen,
    check_public_url,
};
use clap::{Args, ValueEnum};

use crate::app::App;
use crate::cli::Global;

/// The default port (loopback).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7353";

#[derive(Debug, Args)]
#[command(after_help = "\
Tools then use token-free URLs (printed at start-up, one per repository):
  pip install --index-url http://127.0.0.1:7353/NAME/simple/ PACKAGE
  npm install --registry http://127.0.0.1:7353/NAME/ PACKAGE
  twine upload --repository-url http://127.0.0.1:7353/NAME/ -u aws -p unused dist/*
Health: http://127.0.0.1:7353/_artoken/health. Requests must name the proxy in their Host (localhost,
a loopback address or the listen address with its port, or --public-url's host); browsers' cross-site
requests are refused. See docs/serve.md for systemd, containers and reverse proxies.")]
pub struct ServeArgs {
    /// Repositories to serve [default: every configured one with a `repository:`]
    #[arg(value_name = "REPO")]
    pub repos: Vec<String>,
    /// Address to listen on (IP:PORT, or a port on 127.0.0.1); port 0 picks a free one
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: String,
    /// Allow a non-loopback --listen (then --client-secret-file is required)
    #[arg(long)]
    pub allow_remote: bool,
    /// Clients must send the secret in FILE: `Authorization: Bearer SECRET`, or Basic with it as the password
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// The address clients use when it is not the listen address (a TLS terminator, a name on the network): the base of rewritten links, and a Host and Origin the proxy accepts
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Access log on stderr
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    pub access_log: AccessLogFormat,
    /// Seconds a stop waits for requests in flight
    #[arg(long, default_value = "30", value_name = "SECS")]
    pub shutdown_timeout: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AccessLogFormat {
    /// key=value pairs
    Text,
    /// One JSON object per line
    Json,
    /// No access log
    Off,
}

pub fn run(global: &Global, args: ServeArgs) -> Result<ExitCode> {
    let listen = parse_listen(&args.listen)?;
    let secret = args
        .client_secret_file
        .as_deref()
        .map(ClientSecret::from_file)
        .transpose()?;
    check_listen(listen, args.allow_remote, secret.is_some())?;
    if let Some(url) = &args.public_url {
        check_public_url(url)?;
    }
    let app = App::new(global)?;
    let specs = select(&app, &args.repos)?;
    let mut config = ProxyConfig::new(listen);
    config.allow_remote = args.allow_remote;
    config.client_secret = secret;
    config.public_url = args.public_url.clone();
    config.shutdown_timeout = Duration::from_secs(args.shutdown_timeout);
    config.access_log = match args.access_log {
        AccessLogFormat::Text => AccessLog::Text,
        AccessLogFormat::Json => AccessLog::Json,
        AccessLogFormat::Off => AccessLog::Off,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut upstreams = Vec::new();
        for spec in specs {
            let endpoint =
                app.provider.endpoint(spec).await.with_context(|| {
                    format!("cannot get the endpoint of repository {}", spec.name)
                })?;
            upstreams.push(Upstream {
                name: spec.name.clone(),
                format: spec.format,
                endpoint,
                spec: spec.clone(),
                token_key: app.provider.local_token_key(spec).hash().to_string(),
            });
        }
        app.flush_warnings();
        let tokens = Arc::new(ProviderTokens::new(app.provider.settings().clone()));
        let proxy = Proxy::start(config, upstreams, tokens).await?;
        let stop = shutdown_signal();
        // A closed stdout (a reader that went away) must not stop the server.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "artoken serve listening on http://{}",
            proxy.local_addr()
        );
        for s in proxy.served() {
            let _ = writeln!(out, "  {} ({}): {}", s.name, s.format, s.url);
        }
        let _ = out.flush();
        drop(out);
        proxy.serve(stop).await;
        tracing::info!("artoken serve stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// `IP:PORT`, `localhost:PORT`, or a bare port (on 127.0.0.1).
fn parse_listen(s: &str) -> Result<SocketAddr> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Some(port) = s
        .strip_prefix("localhost:")
        .and_then(|p| p.parse::<u16>().ok())
    {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse().map_err(|_| {
        anyhow::anyhow!(
            "--listen {s:?}: expected IP:PORT (e.g. {DEFAULT_LISTEN} or [::1]:7353) or a port"
        )
    })
}

/// The repositories named, or every one with a `repository:`.
fn select<'a>(app: &'a App, names: &[String]) -> Result<Vec<&'a RepositorySpec>> {
    if !names.is_empty() {
        let mut specs = Vec::new();
        for n in names {
            let spec = app.repository(Some(n))?;
            if spec.repository.is_none() {
                bail!(
                    "repository {n} names no `repository:` (a token-only entry cannot be served)"
                );
            }
            specs.push(spec);
        }
        return Ok(specs);
    }
    let specs: Vec<_> = app
        .config
        .repositories
        .values()
        .filter(|s| s.repository.is_some())
        .collect();
    if specs.is_empty() {
        if app.config.repositories.is_empty() {
            bail!(
                "no repositories configured: add `repositories:` to artoken.yml (see `artoken --help`)"
            );
        }
        bail!(
            "no repository to serve: every configured entry is token-only (add `repository:` to one)"
        );
    }
    Ok(specs)
}

/// Ctrl-C or SIGTERM. Listened for from the call on (before the banner is printed), so a
/// signal sent as soon as the banner is out still stops the proxy gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn next(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = next(interrupt.as_mut()) => {}
                _ = next(terminate.as_mut()) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        eprintln!("artoken serve: stopping (requests in flight may finish)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_parse() {
        assert_eq!(parse_listen("8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(
            parse_listen("localhost:1").unwrap().to_string(),
            "127.0.0.1:1"
        );
        assert_eq!(parse_listen("[::1]:2").unwrap().to_string(), "[::1]:2");
        assert_eq!(parse_listen(DEFAULT_LISTEN).unwrap().port(), 7353);
        assert!(
            parse_listen("example.com:1")
                .unwrap_err()
                .to_string()
                .contains("expected IP:PORT")
        );
    }
}
