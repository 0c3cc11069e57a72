//! Why the proxy could not start (each a one-line message a user can act on).

use std::net::SocketAddr;
use std::path::PathBuf;

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "--listen {addr} is not a loopback address: listening there needs --allow-remote and --client-secret-file FILE (clients then authenticate to the proxy)"
    )]
    RemoteNotAllowed { addr: SocketAddr },
    #[error(
        "--listen {addr} with --allow-remote needs --client-secret-file FILE: without a client secret anyone who reaches {addr} could use your CodeArtifact token"
    )]
    RemoteWithoutSecret { addr: SocketAddr },
    #[error("client secret file {}: {source}", path.display())]
    SecretFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("client secret file {} is empty", path.display())]
    EmptySecret { path: PathBuf },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("no repository to serve")]
    NoRepositories,
    #[error("repository {name}: {reason}")]
    Repository { name: String, reason: String },
    #[error("--public-url {url:?}: {reason}")]
    PublicUrl { url: String, reason: String },
    #[error("TLS for upstream connections: {0}")]
    Tls(String),
}
