//! `/_artoken/health` and the `/` listing: what is served and how each token is doing. Always
//! answers (`degraded` when a token could not be refreshed or is missing or expired).

use serde_json::{Value, json};

use crate::handler::Shared;
use crate::routes::{HEALTH_PATH, local_url};

/// `{"status": "ok"|"degraded", "repositories": [{name, format, token_expires_in, last_error}]}`
pub(crate) fn report(shared: &Shared) -> Value {
    let mut degraded = false;
    let repositories: Vec<Value> = shared
        .routes
        .list
        .iter()
        .map(|r| {
            let snap = shared.cells[r.cell].snapshot();
            if snap.last_error.is_some() || snap.expires_in.is_none_or(|s| s <= 0) {
                degraded = true;
            }
            json!({
                "name": &*r.name,
                "format": r.format.as_str(),
                "token_expires_in": snap.expires_in,
                "last_error": snap.last_error,
                "failed_refreshes": snap.failures,
            })
        })
        .collect();
    json!({
        "status": if degraded { "degraded" } else { "ok" },
        "repositories": repositories,
    })
}

/// `/`: each repository's local URL.
pub(crate) fn listing(shared: &Shared, base: &str) -> Value {
    let repositories: Vec<Value> = shared
        .routes
        .list
        .iter()
        .map(|r| {
            json!({
                "name": &*r.name,
                "format": r.format.as_str(),
                "url": local_url(base, &r.name, r.format),
            })
        })
        .collect();
    json!({ "repositories": repositories, "health": format!("{base}{HEALTH_PATH}") })
}
