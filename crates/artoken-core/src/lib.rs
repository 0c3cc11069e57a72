//! artoken's core: configuration (artoken.yml and wev.yml files), repository specs, the
//! CodeArtifact token source and the on-disk cache every process shares, and the secret type
//! that keeps tokens out of logs.

pub mod atomic;
pub mod cache;
pub mod config;
pub mod expiry;
#[cfg(feature = "aws")]
pub mod handed;
pub mod human;
#[cfg(feature = "aws")]
pub mod identity;
pub mod network;
pub mod ownership;
#[cfg(feature = "runtime")]
pub mod process;
#[cfg(feature = "aws")]
pub mod provider;
pub mod redact;
#[cfg(feature = "aws")]
pub mod resolve;
pub mod secret;
#[cfg(feature = "aws")]
pub mod source;
pub mod spec;
pub mod urls;

#[cfg(feature = "aws")]
pub use provider::{Provider, ProviderError, Settings};
pub use secret::Token;
pub use spec::{Format, RepositorySpec, TokenDuration};
