//! artoken's core: configuration (artoken.yml and wev.yml files), repository specs, the
//! CodeArtifact token source and the on-disk cache every process shares, and the secret type
//! that keeps tokens out of logs.

pub mod atomic;
pub mod cache;
pub mod config;
pub mod human;
pub mod provider;
pub mod redact;
pub mod resolve;
pub mod secret;
pub mod source;
pub mod spec;
pub mod urls;

pub use provider::{Provider, ProviderError, Settings};
pub use secret::Token;
pub use spec::{Format, RepositorySpec, TokenDuration};
