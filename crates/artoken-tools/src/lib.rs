//! artoken's package-manager side: the pip/uv keyring and cargo credential protocols, the
//! recognition of CodeArtifact URLs, the config files `artoken login` edits (in `writers`) and
//! the requirements-file rewriter (`requirements`, with `index_url`) that `s3 refresh` and
//! `refresh` use.

pub mod cargo_credential;
pub mod index_url;
pub mod keyring;
pub mod realm;
pub mod requirements;
pub mod writers;
