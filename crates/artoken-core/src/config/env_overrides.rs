//! `ARTOKEN_*` environment variables: the last layer, for CI.
//!
//! - `ARTOKEN_DOMAIN`, `ARTOKEN_REPOSITORY`, `ARTOKEN_DOMAIN_OWNER`, `ARTOKEN_FORMAT` describe
//!   the repository named `ARTOKEN_REPOSITORY_NAME` (else `default`), laid over a file's
//!   repository of that name if there is one (so no file is needed at all). When any of these
//!   five is set, that repository becomes the default.
//! - `ARTOKEN_PROFILE`, `ARTOKEN_REGION`, `ARTOKEN_ROLE_ARN`, `ARTOKEN_DURATION` then override
//!   those fields on every repository, wev ones included. An empty `ARTOKEN_PROFILE` or
//!   `ARTOKEN_ROLE_ARN` clears the field (back to the default credential chain, no role).
//!
//! Other empty variables count as unset.

use std::str::FromStr;

use crate::spec::{Format, TokenDuration};

use super::error::{ConfigError, one_line};
use super::merge::{Draft, DraftRepo};
use super::names;
use super::origin::{Located, Origin, Slot};

/// Looks up an environment variable; tests pass a map, the CLI `std::env::var`.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The variables read, for `--help` texts and docs.
pub const VARIABLES: [&str; 9] = [
    "ARTOKEN_DOMAIN",
    "ARTOKEN_REPOSITORY",
    "ARTOKEN_DOMAIN_OWNER",
    "ARTOKEN_FORMAT",
    "ARTOKEN_REPOSITORY_NAME",
    "ARTOKEN_PROFILE",
    "ARTOKEN_REGION",
    "ARTOKEN_ROLE_ARN",
    "ARTOKEN_DURATION",
];

fn env_err(variable: &str, message: String) -> ConfigError {
    ConfigError::Environment {
        variable: variable.to_string(),
        message,
    }
}

/// A variable's value, checked by `check`; `Ok(None)` when unset or empty.
fn checked<T>(
    env: EnvLookup<'_>,
    variable: &str,
    check: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<Located<T>>, ConfigError> {
    match env(variable) {
        Some(v) if !v.is_empty() => check(&v)
            .map(|t| Some(Located::new(t, Origin::env(variable))))
            .map_err(|m| env_err(variable, m)),
        _ => Ok(None),
    }
}

fn string(check: fn(&str) -> Result<(), String>) -> impl Fn(&str) -> Result<String, String> {
    move |s| check(s).map(|()| s.to_string())
}

fn set<T>(value: Option<Located<T>>) -> Slot<T> {
    value.map(|l| Located::new(Some(l.value), l.origin))
}

/// Applies the variables to `draft`.
pub(crate) fn apply(draft: &mut Draft, env: EnvLookup<'_>) -> Result<(), ConfigError> {
    define_repository(draft, env)?;
    override_all(draft, env)
}

fn define_repository(draft: &mut Draft, env: EnvLookup<'_>) -> Result<(), ConfigError> {
    let domain = checked(env, "ARTOKEN_DOMAIN", string(names::domain))?;
    let repository = checked(env, "ARTOKEN_REPOSITORY", string(names::repository))?;
    let owner = checked(env, "ARTOKEN_DOMAIN_OWNER", string(names::owner))?;
    let format = checked(env, "ARTOKEN_FORMAT", |s| {
        Format::from_str(s).map_err(|m| one_line(&m))
    })?;
    let name = checked(
        env,
        "ARTOKEN_REPOSITORY_NAME",
        string(names::repository_key),
    )?;
    let mut defined_in: Vec<Origin> = [
        domain.as_ref().map(|l| &l.origin),
        repository.as_ref().map(|l| &l.origin),
        owner.as_ref().map(|l| &l.origin),
        format.as_ref().map(|l| &l.origin),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    if defined_in.is_empty() && name.is_none() {
        return Ok(());
    }
    let origin = name
        .as_ref()
        .map(|l| l.origin.clone())
        .or_else(|| defined_in.first().cloned())
        .unwrap_or_else(|| Origin::env("ARTOKEN_REPOSITORY_NAME"));
    if defined_in.is_empty() {
        defined_in.push(origin.clone());
    }
    let name = name.map_or_else(|| "default".to_string(), |l| l.value);
    draft
        .repositories
        .entry(name.clone())
        .or_default()
        .merge_from(DraftRepo {
            defined_in,
            domain: set(domain),
            owner: set(owner),
            repository: set(repository),
            format: set(format),
            ..DraftRepo::default()
        });
    draft.default = Some(Located::new(Some(name), origin));
    Ok(())
}

/// `ARTOKEN_PROFILE`/`ARTOKEN_ROLE_ARN`: set, cleared when empty, or left alone when unset.
fn settable(
    env: EnvLookup<'_>,
    variable: &str,
    check: fn(&str) -> Result<(), String>,
) -> Result<Slot<String>, ConfigError> {
    match env(variable) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(Some(Located::new(None, Origin::env(variable)))),
        Some(v) => {
            check(&v).map_err(|m| env_err(variable, m))?;
            Ok(Some(Located::new(Some(v), Origin::env(variable))))
        }
    }
}

fn override_all(draft: &mut Draft, env: EnvLookup<'_>) -> Result<(), ConfigError> {
    let profile = settable(env, "ARTOKEN_PROFILE", names::profile)?;
    let role_arn = settable(env, "ARTOKEN_ROLE_ARN", names::role_arn)?;
    let region = set(checked(env, "ARTOKEN_REGION", string(names::region))?);
    let duration: Slot<TokenDuration> = set(checked(env, "ARTOKEN_DURATION", names::duration)?);
    for repo in draft.repositories.values_mut() {
        repo.merge_from(DraftRepo {
            profile: profile.clone(),
            role_arn: role_arn.clone(),
            region: region.clone(),
            duration: duration.clone(),
            ..DraftRepo::default()
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn value<T: Clone>(s: &Slot<T>) -> Option<T> {
        s.as_ref().and_then(|l| l.value.clone())
    }

    fn with_repo() -> Draft {
        let at = Origin::file(Path::new("/p/artoken.yml"), Some(3));
        let mut d = Draft::default();
        d.repositories.insert(
            "corp".into(),
            DraftRepo {
                defined_in: vec![at.clone()],
                domain: Some(Located::new(Some("corp".into()), at.clone())),
                profile: Some(Located::new(Some("work".into()), at.clone())),
                role_arn: Some(Located::new(
                    Some("arn:aws:iam::012345678901:role/ci".into()),
                    at,
                )),
                ..DraftRepo::default()
            },
        );
        d
    }

    #[test]
    fn overrides_reach_every_repository() {
        let mut d = with_repo();
        let env = lookup(&[
            ("ARTOKEN_PROFILE", "ci"),
            ("ARTOKEN_REGION", "us-east-1"),
            ("ARTOKEN_ROLE_ARN", ""),
            ("ARTOKEN_DURATION", "1h"),
        ]);
        apply(&mut d, &env).unwrap();
        let r = &d.repositories["corp"];
        assert_eq!(value(&r.profile).as_deref(), Some("ci"));
        assert_eq!(value(&r.region).as_deref(), Some("us-east-1"));
        assert_eq!(value(&r.role_arn), None);
        assert_eq!(value(&r.duration), Some(TokenDuration::Seconds(3600)));
        assert_eq!(
            r.profile.as_ref().unwrap().origin,
            Origin::env("ARTOKEN_PROFILE")
        );
        assert!(d.default.is_none());
    }

    #[test]
    fn an_empty_profile_clears_and_unset_leaves_alone() {
        let mut d = with_repo();
        apply(
            &mut d,
            &lookup(&[("ARTOKEN_PROFILE", ""), ("ARTOKEN_REGION", "")]),
        )
        .unwrap();
        let r = &d.repositories["corp"];
        assert_eq!(value(&r.profile), None);
        assert!(r.region.is_none());
        assert!(value(&r.role_arn).is_some());
    }

    #[test]
    fn a_repository_from_the_environment_alone() {
        let mut d = Draft::default();
        let env = lookup(&[
            ("ARTOKEN_DOMAIN", "corp"),
            ("ARTOKEN_REPOSITORY", "pypi-mirror"),
            ("ARTOKEN_DOMAIN_OWNER", "012345678901"),
            ("ARTOKEN_FORMAT", "npm"),
            ("ARTOKEN_PROFILE", "ci"),
        ]);
        apply(&mut d, &env).unwrap();
        let r = &d.repositories["default"];
        assert_eq!(value(&r.domain).as_deref(), Some("corp"));
        assert_eq!(value(&r.repository).as_deref(), Some("pypi-mirror"));
        assert_eq!(value(&r.owner).as_deref(), Some("012345678901"));
        assert_eq!(value(&r.format), Some(Format::Npm));
        assert_eq!(value(&r.profile).as_deref(), Some("ci"));
        assert_eq!(value(&d.default).as_deref(), Some("default"));
    }

    #[test]
    fn a_named_repository_from_the_environment_merges_over_the_file() {
        let mut d = with_repo();
        let env = lookup(&[
            ("ARTOKEN_REPOSITORY_NAME", "corp"),
            ("ARTOKEN_REPOSITORY", "other-repo"),
        ]);
        apply(&mut d, &env).unwrap();
        let r = &d.repositories["corp"];
        assert_eq!(value(&r.domain).as_deref(), Some("corp"));
        assert_eq!(value(&r.repository).as_deref(), Some("other-repo"));
        assert_eq!(value(&d.default).as_deref(), Some("corp"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, val, msg) in [
            (
                "ARTOKEN_DURATION",
                "13h",
                "ARTOKEN_DURATION: 13h is outside what AWS accepts (15m to 12h, or session)",
            ),
            (
                "ARTOKEN_DOMAIN",
                "Corp",
                "ARTOKEN_DOMAIN: `Corp` is not a CodeArtifact domain name (2 to 50 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen)",
            ),
            (
                "ARTOKEN_FORMAT",
                "pip",
                "ARTOKEN_FORMAT: unknown format \"pip\" (expected one of: npm, pypi, maven, nuget, generic, ruby, swift, cargo)",
            ),
            (
                "ARTOKEN_ROLE_ARN",
                "ci",
                "ARTOKEN_ROLE_ARN: `ci` is not a role ARN (like arn:aws:iam::012345678901:role/ci)",
            ),
        ] {
            let mut d = with_repo();
            let err = apply(&mut d, &lookup(&[(var, val)])).unwrap_err();
            assert_eq!(err.to_string(), msg);
        }
    }
}
