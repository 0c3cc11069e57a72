//! The `codeartifact-emulator` binary: turns flags and a YAML file into a configuration, serves
//! it, prints the endpoints, and stops cleanly on Ctrl-C or SIGTERM.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use codeartifact_emulator::config::{
    AccessKey, ConfigError, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT, DEFAULT_SECRET_ACCESS_KEY,
    DomainConfig, RepositoryConfig, valid_domain, valid_owner, valid_repository,
};
use codeartifact_emulator::{Emulator, EmulatorConfig, Format};

/// A local AWS CodeArtifact emulator: the control plane (GetAuthorizationToken,
/// GetRepositoryEndpoint, DescribeDomain, ListRepositoriesInDomain; SigV4-signed, AWS error
/// shapes), STS GetCallerIdentity, and PyPI/npm repositories that accept only the tokens it
/// issued, until they expire.
#[derive(Debug, Parser)]
#[command(
    name = "codeartifact-emulator",
    version,
    after_help = "Without --config, --domain or --repository the demo domain is served (see --demo).\n\
                  Flags add to, or override, what the configuration file says.\n\
                  Logs go to stderr (every control-plane call at info level; RUST_LOG=warn for quiet)."
)]
struct Cli {
    /// YAML configuration file: listen, region, access_keys, domains (with repositories,
    /// packages_dir, packages) and faults
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:0, or the file's
    /// `listen`]
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,

    /// Region in endpoint URLs when a request's signature names none [default: us-east-1]
    #[arg(long, value_name = "REGION")]
    region: Option<String>,

    /// Serve the demo domain `demo` (owner 111122223333) with repositories `pypi-store` and
    /// `npm-store`, each holding the package `artoken-demo`, and `maven-store` holding
    /// `com.example:artoken-demo`
    #[arg(long)]
    demo: bool,

    /// Serve a domain (repeatable); OWNER is a 12-digit account id [default owner:
    /// 111122223333]
    #[arg(long = "domain", value_name = "NAME[:OWNER]")]
    domains: Vec<String>,

    /// Serve a repository (repeatable); FORMAT is one of npm, pypi, maven, nuget, generic,
    /// ruby, swift, cargo (only pypi, npm and maven have a data plane); an unknown DOMAIN is created
    /// with the default owner
    #[arg(long = "repository", value_name = "DOMAIN/NAME:FORMAT")]
    repositories: Vec<String>,

    /// Serve the wheels/sdists (pypi) or .tgz tarballs (npm) of DIR from a repository
    /// (repeatable)
    #[arg(long = "packages-dir", value_name = "DOMAIN/NAME=DIR")]
    packages_dirs: Vec<String>,

    /// Accept this access key (repeatable); without any, the AWS documentation example key
    /// AKIAIOSFODNN7EXAMPLE is accepted
    #[arg(long = "access-key", value_name = "ID:SECRET")]
    access_keys: Vec<String>,

    /// Fault: add this many milliseconds to every response
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,

    /// Fault: answer this fraction (0 to 1) of requests with 500 InternalServerException
    #[arg(long, value_name = "RATE")]
    error_rate: Option<f64>,

    /// Fault: answer this fraction (0 to 1) of control-plane requests with 429
    /// ThrottlingException
    #[arg(long, value_name = "RATE")]
    throttle_rate: Option<f64>,

    /// Fault: the Retry-After seconds sent with ThrottlingException
    #[arg(long = "retry-after", value_name = "SECS")]
    retry_after: Option<u64>,

    /// Fault: cap every issued token's life to SECS (the expiration says so)
    #[arg(long, value_name = "SECS")]
    token_lifetime: Option<u64>,

    /// Fault: shift the emulator's clock by SECS (may be negative), to test clock skew
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    clock_skew: Option<i64>,

    /// Fault: answer every GetAuthorizationToken with 500 InternalServerException
    #[arg(long)]
    token_endpoint_down: bool,

    /// Deterministic fault (repeatable): the next requests of OP answer by PATTERN, one
    /// character each (E: 500, T: 429, .: served), then every request is served. OP is a
    /// control-plane operation (GetAuthorizationToken, ...), `*` for any, `sts` or `data`
    #[arg(long = "fault-script", value_name = "OP=PATTERN")]
    fault_script: Vec<String>,
}

/// A configuration problem, printed as one line: `error: <where>: <key>: <message>`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CliError(String);

fn flag_error(flag: &str, value: &str, message: impl std::fmt::Display) -> CliError {
    CliError(format!("--{flag} {value}: {message}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let config = match build_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .try_init();
}

async fn serve(config: EmulatorConfig) -> ExitCode {
    let emu = match Emulator::start(config.clone()).await {
        Ok(emu) => emu,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let signals = Signals::listen();
    if let Err(e) = print_banner(&emu, &config) {
        // Whoever started us stopped reading (`| head -1`): keep serving all the same.
        tracing::warn!("cannot write to stdout: {e}");
    }
    tracing::info!(url = %emu.url(), "serving");
    signals.recv().await;
    tracing::info!("stopping");
    if tokio::time::timeout(Duration::from_secs(10), emu.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within 10 s");
    }
    ExitCode::SUCCESS
}

fn print_banner(emu: &Emulator, config: &EmulatorConfig) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "codeartifact-emulator listening on {}", emu.url())?;
    out.flush()?;
    for d in &config.domains {
        for r in &d.repositories {
            writeln!(
                out,
                "repository {}/{} ({}): {}",
                d.name,
                r.name,
                r.format,
                emu.endpoint(&d.name, &d.owner, r.format, &r.name)
            )?;
        }
    }
    writeln!(out, "# point AWS clients at the emulator:")?;
    writeln!(out, "export AWS_ENDPOINT_URL={}", emu.url())?;
    writeln!(out, "export AWS_REGION={}", config.region)?;
    // AWS CLI v1 reads only this one.
    writeln!(out, "export AWS_DEFAULT_REGION={}", config.region)?;
    if config.access_keys.is_empty() {
        writeln!(out, "export AWS_ACCESS_KEY_ID={DEFAULT_ACCESS_KEY_ID}")?;
        writeln!(
            out,
            "export AWS_SECRET_ACCESS_KEY={DEFAULT_SECRET_ACCESS_KEY}"
        )?;
    } else {
        let ids: Vec<&str> = config.access_keys.iter().map(|k| k.id.as_str()).collect();
        writeln!(
            out,
            "# with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of a configured key: {}",
            ids.join(", ")
        )?;
    }
    out.flush()
}

/// Ctrl-C and SIGTERM, listened for from creation on (so a signal sent as soon as the banner
/// is out is not missed).
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    async fn recv(self) {
        #[cfg(unix)]
        {
            async fn next(s: Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            if self.interrupt.is_none() && self.terminate.is_none() {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
            tokio::select! {
                _ = next(self.interrupt) => {}
                _ = next(self.terminate) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The configuration the flags and the file describe, validated.
fn build_config(cli: &Cli) -> Result<EmulatorConfig, CliError> {
    let adds_domains = !cli.domains.is_empty() || !cli.repositories.is_empty();
    let mut config = match &cli.config {
        Some(path) => EmulatorConfig::from_file(path).map_err(|e| match e {
            // The YAML parser's own messages start with "error: ": one is enough.
            ConfigError::Parse { path, message } => CliError(format!(
                "{}: {}",
                path.display(),
                message.strip_prefix("error: ").unwrap_or(&message)
            )),
            other => CliError(other.to_string()),
        })?,
        None if !adds_domains => EmulatorConfig::demo(),
        None => EmulatorConfig::default(),
    };
    if cli.demo && (cli.config.is_some() || adds_domains) {
        for d in EmulatorConfig::demo().domains {
            if !config
                .domains
                .iter()
                .any(|x| x.name == d.name && x.owner == d.owner)
            {
                config.domains.push(d);
            }
        }
    }
    if let Some(listen) = cli.listen {
        config.listen = listen;
    }
    if let Some(region) = &cli.region {
        if !valid_region(region) {
            return Err(flag_error(
                "region",
                region,
                "not a region name (e.g. eu-west-1)",
            ));
        }
        config.region = region.clone();
    }
    for spec in &cli.domains {
        let (name, owner) = spec.split_once(':').unwrap_or((spec, DEFAULT_ACCOUNT));
        check_domain("domain", spec, name, owner)?;
        if !config
            .domains
            .iter()
            .any(|d| d.name == name && d.owner == owner)
        {
            config.domains.push(DomainConfig {
                name: name.to_string(),
                owner: owner.to_string(),
                repositories: Vec::new(),
            });
        }
    }
    for spec in &cli.repositories {
        add_repository(&mut config, spec)?;
    }
    for spec in &cli.packages_dirs {
        let (path, dir) = spec
            .split_once('=')
            .ok_or_else(|| flag_error("packages-dir", spec, "expected DOMAIN/NAME=DIR"))?;
        let (domain, name) = path
            .split_once('/')
            .ok_or_else(|| flag_error("packages-dir", spec, "expected DOMAIN/NAME=DIR"))?;
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            return Err(flag_error(
                "packages-dir",
                spec,
                format!("{} is not a directory", dir.display()),
            ));
        }
        let repo = config
            .domains
            .iter_mut()
            .filter(|d| d.name == domain)
            .flat_map(|d| d.repositories.iter_mut())
            .find(|r| r.name == name)
            .ok_or_else(|| {
                flag_error(
                    "packages-dir",
                    spec,
                    format!("no repository {name} in domain {domain} (add it with --repository)"),
                )
            })?;
        repo.packages_dir = Some(dir);
    }
    for spec in &cli.access_keys {
        let (id, secret) = spec
            .split_once(':')
            .filter(|(id, secret)| !id.is_empty() && !secret.is_empty())
            .ok_or_else(|| flag_error("access-key", "ID:SECRET", "expected ID:SECRET"))?;
        config.access_keys.push(AccessKey {
            id: id.to_string(),
            secret: secret.to_string(),
            account: None,
            user: None,
            deny: Vec::new(),
        });
    }
    let faults = &mut config.faults;
    if let Some(v) = cli.latency_ms {
        faults.latency_ms = v;
    }
    for (flag, value, slot) in [
        ("error-rate", cli.error_rate, &mut faults.error_rate),
        (
            "throttle-rate",
            cli.throttle_rate,
            &mut faults.throttle_rate,
        ),
    ] {
        if let Some(v) = value {
            if !(0.0..=1.0).contains(&v) {
                return Err(flag_error(flag, &v.to_string(), "not between 0 and 1"));
            }
            *slot = v;
        }
    }
    if let Some(v) = cli.retry_after {
        faults.retry_after_secs = v;
    }
    if let Some(v) = cli.token_lifetime {
        if v == 0 {
            return Err(flag_error(
                "token-lifetime",
                "0",
                "must be at least 1 second",
            ));
        }
        faults.token_lifetime_secs = Some(v);
    }
    if let Some(v) = cli.clock_skew {
        faults.clock_skew_secs = v;
    }
    if cli.token_endpoint_down {
        faults.token_endpoint_down = true;
    }
    for raw in &cli.fault_script {
        let Some((op, pattern)) = raw.split_once('=') else {
            return Err(flag_error("fault-script", raw, "expected OP=PATTERN"));
        };
        faults.script.insert(op.to_string(), pattern.to_string());
    }
    if !cli.fault_script.is_empty()
        && let Err((_, message)) = faults.validate()
    {
        return Err(flag_error(
            "fault-script",
            &cli.fault_script.join(" "),
            message,
        ));
    }
    config.validate().map_err(|(key, message)| {
        let source = match &cli.config {
            Some(path) => path.display().to_string(),
            None => "command line".to_string(),
        };
        CliError(format!("{source}: {key}: {message}"))
    })?;
    Ok(config)
}

fn check_domain(flag: &str, spec: &str, name: &str, owner: &str) -> Result<(), CliError> {
    if !valid_domain(name) {
        return Err(flag_error(
            flag,
            spec,
            format!(
                "{name:?} is not a valid domain name (lowercase letters, digits and '-', 2 to 50 characters)"
            ),
        ));
    }
    if !valid_owner(owner) {
        return Err(flag_error(
            flag,
            spec,
            format!("{owner:?} is not a 12-digit AWS account id"),
        ));
    }
    Ok(())
}

/// `--repository DOMAIN/NAME:FORMAT`.
fn add_repository(config: &mut EmulatorConfig, spec: &str) -> Result<(), CliError> {
    let usage = || flag_error("repository", spec, "expected DOMAIN/NAME:FORMAT");
    let (domain, rest) = spec.split_once('/').ok_or_else(usage)?;
    let (name, format) = rest.rsplit_once(':').ok_or_else(usage)?;
    let format = Format::parse(format).ok_or_else(|| {
        let all: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        flag_error(
            "repository",
            spec,
            format!("unknown format {format:?} (one of {})", all.join(", ")),
        )
    })?;
    if !valid_repository(name) {
        return Err(flag_error(
            "repository",
            spec,
            format!(
                "{name:?} is not a valid repository name (letters, digits, '.', '_' and '-', 2 to 100 characters)"
            ),
        ));
    }
    check_domain("repository", spec, domain, DEFAULT_ACCOUNT)?;
    let index = match config.domains.iter().position(|d| d.name == domain) {
        Some(i) => i,
        None => {
            config.domains.push(DomainConfig {
                name: domain.to_string(),
                owner: DEFAULT_ACCOUNT.to_string(),
                repositories: Vec::new(),
            });
            config.domains.len() - 1
        }
    };
    let d = &mut config.domains[index];
    if d.repositories.iter().any(|r| r.name == name) {
        return Err(flag_error(
            "repository",
            spec,
            format!("domain {domain} already has a repository {name}"),
        ));
    }
    d.repositories.push(RepositoryConfig {
        name: name.to_string(),
        format,
        description: None,
        packages_dir: None,
        packages: Vec::new(),
    });
    Ok(())
}

/// `xx-xxxx-N` and the like: lowercase letters, digits and '-'.
fn valid_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<EmulatorConfig, String> {
        let cli = Cli::try_parse_from(
            std::iter::once("codeartifact-emulator").chain(args.iter().copied()),
        )
        .map_err(|e| e.to_string())?;
        build_config(&cli).map_err(|e| e.to_string())
    }

    #[test]
    fn the_demo_is_the_default() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.domains[0].name, "demo");
        let c = parse(&["--demo", "--region", "eu-west-1"]).unwrap();
        assert_eq!(c.domains.len(), 1);
        assert_eq!(c.region, "eu-west-1");
    }

    #[test]
    fn flags_describe_domains_repositories_keys_and_faults() {
        let c = parse(&[
            "--domain",
            "corp:012345678901",
            "--repository",
            "corp/pypi-store:pypi",
            "--repository",
            "other/npm-store:npm",
            "--access-key",
            "AKIDX:secret",
            "--latency-ms",
            "5",
            "--error-rate",
            "0.5",
            "--throttle-rate",
            "0.25",
            "--retry-after",
            "3",
            "--token-lifetime",
            "60",
            "--clock-skew",
            "-120",
            "--fault-script",
            "GetAuthorizationToken=EET.",
            "--fault-script",
            "data=E",
        ])
        .unwrap();
        assert_eq!(c.domains.len(), 2);
        assert_eq!(c.domains[0].owner, "012345678901");
        assert_eq!(c.domains[0].repositories[0].format, Format::Pypi);
        assert_eq!(c.domains[1].name, "other");
        assert_eq!(c.domains[1].owner, DEFAULT_ACCOUNT);
        assert_eq!(c.access_keys[0].id, "AKIDX");
        assert_eq!(c.faults.latency_ms, 5);
        assert_eq!(c.faults.error_rate, 0.5);
        assert_eq!(c.faults.throttle_rate, 0.25);
        assert_eq!(c.faults.retry_after_secs, 3);
        assert_eq!(c.faults.token_lifetime_secs, Some(60));
        assert_eq!(c.faults.clock_skew_secs, -120);
        assert_eq!(c.faults.script["GetAuthorizationToken"], "EET.");
        assert_eq!(c.faults.script["data"], "E");
    }

    #[test]
    fn bad_flag_values_name_the_flag() {
        for (args, needle) in [
            (&["--domain", "Bad_Name"][..], "--domain Bad_Name: "),
            (&["--domain", "corp:123"][..], "--domain corp:123: "),
            (
                &["--repository", "corp/x"][..],
                "expected DOMAIN/NAME:FORMAT",
            ),
            (&["--repository", "corp/store:wheel"][..], "unknown format"),
            (
                &["--packages-dir", "corp/store=/nonexistent-dir"][..],
                "--packages-dir",
            ),
            (&["--access-key", "nosecret"][..], "--access-key"),
            (
                &["--fault-script", "GetAuthorizationToken"][..],
                "--fault-script GetAuthorizationToken: expected OP=PATTERN",
            ),
            (
                &["--fault-script", "Nope=E"][..],
                "--fault-script Nope=E: unknown operation",
            ),
            (
                &["--fault-script", "data=EX"][..],
                "--fault-script data=EX: 'X' in \"EX\" is not a step",
            ),
            (
                &["--error-rate", "2"][..],
                "--error-rate 2: not between 0 and 1",
            ),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
