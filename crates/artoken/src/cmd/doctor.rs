//! `doctor`: checks of the config, and per repository its region, credentials, token and endpoint, and the cache; each failing check with a fix.

use std::process::ExitCode;

use anyhow::Result;
use artoken_core::human;
use artoken_core::source::now;

use crate::app::App;
use crate::cli::DoctorArgs;

struct Check {
    name: String,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

pub fn run(app: &App, args: DoctorArgs) -> Result<ExitCode> {
    let mut checks = Vec::new();
    checks.push(Check {
        name: "config".into(),
        ok: !app.config.repositories.is_empty(),
        detail: if app.config.sources.is_empty() {
            "no config files found".into()
        } else {
            format!(
                "{} file(s): {}",
                app.config.sources.len(),
                app.config.sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        },
        fix: app.config.repositories.is_empty().then(|| {
            "create artoken.yml with a `repositories:` entry (see README), or set ARTOKEN_DOMAIN and ARTOKEN_REPOSITORY".into()
        }),
    });
    let specs: Vec<_> = match &args.repo {
        Some(r) => vec![app.repository(Some(r))?],
        None => app.config.repositories.values().collect(),
    };
    let source = app.provider.source();
    for spec in specs {
        let n = &spec.name;
        match app.block_on(source.sdk_config(spec)) {
            Ok(c) => checks.push(Check {
                name: format!("{n}: region"),
                ok: true,
                detail: c.region().map(|r| r.to_string()).unwrap_or_default(),
                fix: None,
            }),
            Err(e) => {
                checks.push(Check {
                    name: format!("{n}: region"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some("set `region:` for the repository, or AWS_REGION".into()),
                });
                continue;
            }
        }
        match app.block_on(source.caller_identity(spec)) {
            Ok(id) => checks.push(Check {
                name: format!("{n}: credentials"),
                ok: true,
                detail: format!("{} (account {})", id.arn, id.account),
                fix: None,
            }),
            Err(e) => {
                checks.push(Check {
                    name: format!("{n}: credentials"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some(match &spec.profile {
                        Some(p) => format!("check profile {p} in ~/.aws/config (for SSO: `aws sso login --profile {p}`)"),
                        None => "set AWS_PROFILE or `profile:` in artoken.user.yml, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".into(),
                    }),
                });
                continue;
            }
        }
        match app.block_on(source.fetch_token(spec)) {
            Ok(t) => checks.push(Check {
                name: format!("{n}: token"),
                ok: true,
                detail: format!(
                    "codeartifact:GetAuthorizationToken and sts:GetServiceBearerToken allowed; token {}",
                    human::expiry(t.seconds_left(now()))
                ),
                fix: None,
            }),
            Err(e) => {
                let fix = match &e {
                    artoken_core::source::SourceError::AccessDenied { action, .. } => format!(
                        "grant {action} to the caller (a token needs both codeartifact:GetAuthorizationToken and sts:GetServiceBearerToken)"
                    ),
                    artoken_core::source::SourceError::NotFound { .. } => {
                        "check `domain:` and `owner:` for the repository".into()
                    }
                    _ => "see the error above".into(),
                };
                checks.push(Check {
                    name: format!("{n}: token"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some(fix),
                });
            }
        }
        if spec.repository.is_some() {
            match app.block_on(source.fetch_endpoint(spec)) {
                Ok(e) => checks.push(Check {
                    name: format!("{n}: endpoint"),
                    ok: true,
                    detail: e,
                    fix: None,
                }),
                Err(e) => checks.push(Check {
                    name: format!("{n}: endpoint"),
                    ok: false,
                    detail: e.to_string(),
                    fix: Some(
                        "check `repository:` and `format:`, and codeartifact:GetRepositoryEndpoint"
                            .into(),
                    ),
                }),
            }
        }
    }
    checks.push(cache_check(app));
    let failed = checks.iter().filter(|c| !c.ok).count();
    if args.json {
        let v: Vec<_> = checks
            .iter()
            .map(|c| serde_json::json!({"check": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"ok": failed == 0, "checks": v}))?
        );
    } else {
        for c in &checks {
            println!(
                "{} {}: {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            );
            if let Some(f) = &c.fix {
                println!("     fix: {f}");
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cache_check(app: &App) -> Check {
    let warnings = app.provider.take_warnings();
    match (app.provider.cache(), &app.provider.settings().cache_dir) {
        (Some(c), _) => {
            let probe = c.dir().join(".doctor-probe");
            let writable = artoken_core::atomic::write_atomic(&probe, b"", 0o600).is_ok();
            let _ = std::fs::remove_file(&probe);
            Check {
                name: "cache".into(),
                ok: writable,
                detail: format!(
                    "{}{}",
                    c.dir().display(),
                    if writable {
                        " (0700, writable)"
                    } else {
                        " is not writable"
                    }
                ),
                fix: (!writable).then(|| {
                    "fix the permissions of the cache dir or set ARTOKEN_CACHE_DIR".into()
                }),
            }
        }
        (None, Some(d)) => Check {
            name: "cache".into(),
            ok: false,
            detail: warnings
                .join("; ")
                .if_empty(format!("{} unusable", d.display())),
            fix: Some("fix the cache dir or set ARTOKEN_CACHE_DIR".into()),
        },
        (None, None) => Check {
            name: "cache".into(),
            ok: true,
            detail: "disabled".into(),
            fix: None,
        },
    }
}

trait IfEmpty {
    fn if_empty(self, other: String) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, other: String) -> String {
        if self.is_empty() { other } else { self }
    }
}
