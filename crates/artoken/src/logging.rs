//! Logs on stderr: levels from -v/-q, colour only on a terminal without NO_COLOR, every event
//! through artoken-core's redacting writer (the AWS SDK's own logs too).

use std::io::IsTerminal;

/// Installs the global subscriber.
pub fn init(verbose: u8, quiet: bool) {
    let filter = match (quiet, verbose) {
        (true, _) => "error",
        // The AWS SDK's own warnings (e.g. a missing ~/.aws/config) are noise for users.
        (false, 0) => "error,artoken=warn,artoken_core=warn,artoken_proxy=warn",
        (false, 1) => "error,artoken=debug,artoken_core=debug,artoken_proxy=debug",
        (false, _) => "debug",
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(artoken_core::redact::stderr())
        .with_ansi(color)
        .with_target(verbose > 1)
        .without_time()
        .try_init();
}
