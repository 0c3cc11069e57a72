//! Logs on stderr: levels from -v/-q, colour only on a terminal without NO_COLOR, every line
//! redacted.

use std::io::{IsTerminal, Write};

use tracing_subscriber::fmt::MakeWriter;

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
        .with_writer(RedactingStderr)
        .with_ansi(color)
        .with_target(verbose > 1)
        .without_time()
        .try_init();
}

#[derive(Clone, Copy)]
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(Vec::new())
    }
}

/// Buffers one event and writes it redacted when dropped.
pub struct RedactingWriter(Vec<u8>);

impl Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::stderr().write_all(artoken_core::redact::redact(&text).as_bytes());
    }
}
