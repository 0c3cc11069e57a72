//! `status`: the configured repositories, where each is configured, and its token's expiry and source.

use std::process::ExitCode;

use anyhow::Result;
use artoken_core::human;
use artoken_core::source::now;

use crate::app::App;
use crate::cli::StatusArgs;

pub fn run(app: &App, args: StatusArgs) -> Result<ExitCode> {
    let now = now();
    // Each repository's token is read once (a handed-in file may change between two reads).
    let repos: Vec<_> = app
        .config
        .repositories
        .iter()
        .map(|(name, spec)| {
            let origin = app
                .config
                .origin(name)
                .map(|p| p.to_string())
                .unwrap_or_else(|| "environment".into());
            let cached = app.provider.cached_token(spec);
            let handed = app.provider.handed_source(spec);
            (name, spec, origin, cached, handed)
        })
        .collect();
    let mut rows = Vec::new();
    for (name, spec, origin, cached, handed) in &repos {
        rows.push(serde_json::json!({
            "name": name,
            "default": app.config.default.as_deref() == Some(name.as_str()),
            "domain": spec.domain,
            "owner": spec.owner,
            "region": spec.region,
            "repository": spec.repository,
            "format": spec.format.as_str(),
            "profile": spec.profile,
            "role_arn": spec.role_arn,
            "duration": spec.duration.to_string(),
            "config": origin,
            "token": cached.as_ref().map(|t| serde_json::json!({
                "expiration": human::utc(t.expires_at),
                "expires_in_seconds": t.seconds_left(now),
                "fresh": !t.needs_refresh(now, app.provider.settings().refresh_before),
            })),
            // Where the token comes from: `cache` (fetched from AWS), or the handed-in source.
            "token_source": handed.as_ref().map_or("cache".to_string(), |h| format!("handed in: {h}")),
        }));
    }
    if args.json {
        let v = serde_json::json!({
            "config_files": app.config.sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "cache_dir": app.provider.settings().cache_dir.as_ref().map(|p| p.display().to_string()),
            "repositories": rows,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if app.config.sources.is_empty() {
        println!("config files: none found");
    } else {
        println!("config files:");
        for s in &app.config.sources {
            println!("  {}", s.display());
        }
    }
    if rows.is_empty() {
        println!("no repositories configured (see `artoken --help`)");
    }
    for (name, spec, origin, cached, handed) in &repos {
        let token = match (cached, handed) {
            (Some(t), h) => format!(
                "{} ({}){}",
                human::expiry(t.seconds_left(now)),
                human::utc(t.expires_at),
                h.as_ref()
                    .map(|h| format!(", handed in: {h}"))
                    .unwrap_or_default()
            ),
            (None, Some(h)) => format!("handed in: {h}, not readable (see `artoken token`)"),
            (None, None) => "no cached token".into(),
        };
        let mark = if app.config.default.as_deref() == Some(name.as_str()) {
            " (default)"
        } else {
            ""
        };
        println!("{name}{mark}");
        println!(
            "  domain {}{}{}  {}",
            spec.domain,
            spec.owner
                .as_ref()
                .map(|o| format!(" (owner {o})"))
                .unwrap_or_default(),
            spec.region
                .as_ref()
                .map(|r| format!(" in {r}"))
                .unwrap_or_default(),
            spec.repository
                .as_ref()
                .map(|r| format!("repository {r} ({})", spec.format))
                .unwrap_or_else(|| "token only".into()),
        );
        if let Some(p) = &spec.profile {
            println!("  profile {p}");
        }
        if let Some(r) = &spec.role_arn {
            println!("  role {r}");
        }
        println!("  config {origin}");
        println!("  token {token}");
    }
    Ok(ExitCode::SUCCESS)
}
