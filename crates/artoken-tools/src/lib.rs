//! artoken's package-manager side: the pip/uv keyring and cargo credential protocols, the
//! recognition of CodeArtifact URLs, and (in `writers`) the config files `artoken login` edits.

pub mod cargo_credential;
pub mod keyring;
pub mod realm;
pub mod writers;
