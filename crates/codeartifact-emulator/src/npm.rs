//! npm data plane: packuments (full and abbreviated), tarballs, `npm publish`.

use axum::extract::Request;
use axum::response::Response;

use crate::config::RepositoryConfig;
use crate::state::{Repository, State};

/// The distributions of one npm repository.
#[derive(Default)]
pub struct Store {}

impl Store {
    /// Loads `packages_dir` and builds the synthetic `packages`.
    pub fn load(_config: &RepositoryConfig) -> Result<Store, String> {
        Ok(Store::default())
    }
}

/// Serves `rest` (the path after the repository endpoint); `base` is the absolute endpoint URL.
pub async fn handle(
    _state: &State,
    _repo: &Repository,
    _base: &str,
    _rest: &str,
    _req: Request,
) -> Response {
    todo!("npm data plane")
}
