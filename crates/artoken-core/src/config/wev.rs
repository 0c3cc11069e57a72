//! wev.yml files, read as wev reads them: variables resolved by the `wev-awscodeartifact` and
//! `wev-echo` plugins.
//!
//! The format (from cariad/wev's docs and source, and cariad/wev-awscodeartifact's plugin):
//!
//! ```yaml
//! CODEARTIFACT_AUTH_TOKEN:          # a variable name...
//!   plugin:
//!     id: wev-awscodeartifact
//!     domain: corp                  # required
//!     account: "012345678901"       # optional: the domain owner
//!     region: eu-west-1             # optional
//!     profile: work                 # optional, usually in wev.user.yml
//!     duration: 43200               # optional, seconds (wev cached the token this long)
//! [MY_NAME]:                        # ...or a YAML list of names
//!   plugin:
//!     id: wev-echo
//!     value: [Bobby, Pringles]      # a string, or a list joined with `separator`
//!     separator: "-"                # optional, default " "
//! ```
//!
//! Files merge like wev (dwalk) merges them: the same variable's `plugin` fields key by key, so a
//! wev.user.yml can add `profile` without repeating `id`. Keys wrapped in double underscores
//! (`__dwalk__`) and keys beside `plugin` are ignored, as wev ignores them; so are unknown
//! plugin fields (`cache_duration`). Differences: `A` and `[A]` name the same variable here
//! (wev kept them apart); a list of several names sets each to the same value (wev wanted one
//! value per name and failed); a `duration` outside 15m..12h is brought into that range with a
//! warning, since wev used it only as its own cache time while AWS's tokens lived 12 h.

use std::collections::BTreeMap;
use std::path::Path;

use crate::spec::TokenDuration;

use super::error::{ConfigError, InFile, one_line};
use super::merge::{Draft, DraftRepo, EnvDef, EnvDefKind, Layer, WevVar};
use super::names;
use super::origin::{Located, Slot};
use super::resolved::EnvValue;
use super::schema::is_top_field;
use super::var_key::{display_names, var_names};
use super::yaml::{Kind, Node};

/// The plugins artoken implements.
pub const SUPPORTED_PLUGINS: [&str; 2] = ["wev-awscodeartifact", "wev-echo"];

/// True if `root` looks like a wev file: no artoken key, and some value holding `plugin`.
pub(crate) fn looks_like_wev(root: &Node) -> bool {
    let Some(entries) = root.entries() else {
        return false;
    };
    let has_plugin = |v: &Node| {
        v.entries()
            .is_some_and(|e| e.iter().any(|(k, _)| k.text().as_deref() == Some("plugin")))
    };
    entries.iter().any(|(_, v)| has_plugin(v))
        && !entries
            .iter()
            .any(|(k, _)| k.text().is_some_and(|t| is_top_field(&t)))
}

fn is_meta_key(key: &Node) -> bool {
    matches!(&key.kind, Kind::Str(s) if s.len() > 4 && s.starts_with("__") && s.ends_with("__"))
}

/// Reads one wev.yml into a layer of (unresolved) variables.
pub(crate) fn layer(path: &Path, root: Option<&Node>) -> Result<Layer, ConfigError> {
    let f = InFile { path };
    let mut layer = Layer::default();
    let Some(root) = root else {
        return Ok(layer);
    };
    let entries = root.entries().ok_or_else(|| {
        f.invalid(
            root.line,
            "(top level)",
            format!(
                "expected a map of variable names to `plugin:` settings, found {}",
                root.describe()
            ),
        )
    })?;
    let mut set_by: BTreeMap<String, (String, Option<u32>)> = BTreeMap::new();
    for (k, v) in entries {
        if is_meta_key(k) {
            continue;
        }
        let names = var_names(k).map_err(|m| f.invalid(k.line, "(top level)", m))?;
        let shown = display_names(&names);
        for n in &names {
            if let Some((other, line)) = set_by.get(n) {
                let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
                return Err(f.invalid(
                    k.line,
                    &shown,
                    format!("`{}` is already set by {other}{at}", one_line(n)),
                ));
            }
            set_by.insert(n.clone(), (shown.clone(), k.line));
        }
        let var = v.entries().ok_or_else(|| {
            f.invalid(
                v.line,
                &shown,
                format!("expected a map with `plugin:`, found {}", v.describe()),
            )
        })?;
        let plugin = var
            .iter()
            .find(|(pk, _)| pk.text().as_deref() == Some("plugin"))
            .map(|(_, pv)| pv)
            .ok_or_else(|| f.invalid(k.line, &shown, "has no `plugin:`"))?;
        let plugin_key = format!("{shown}.plugin");
        let settings = plugin.entries().ok_or_else(|| {
            f.invalid(
                plugin.line,
                &plugin_key,
                format!(
                    "expected a map with `id:` and the plugin's settings, found {}",
                    plugin.describe()
                ),
            )
        })?;
        let mut fields = BTreeMap::new();
        for (sk, sv) in settings {
            let name = sk.text().ok_or_else(|| {
                f.invalid(
                    sk.line,
                    &plugin_key,
                    format!("expected a setting name, found {}", sk.describe()),
                )
            })?;
            let origin = f.origin(sv.line.or(sk.line));
            fields.insert(name, Located::new(sv.clone(), origin));
        }
        layer.env.push(EnvDef {
            names: names.clone(),
            kind: EnvDefKind::Wev(WevVar {
                key: names,
                fields,
                defined_in: vec![f.origin(k.line)],
            }),
            origin: f.origin(k.line),
        });
    }
    Ok(layer)
}

/// Turns every merged wev variable into an env value: `wev-awscodeartifact` adds a token-only
/// repository `wev:NAME` and sets the variable to its token; `wev-echo` sets fixed text.
pub(crate) fn resolve(draft: &mut Draft) -> Result<(), ConfigError> {
    let Draft {
        env,
        repositories,
        warnings,
        ..
    } = draft;
    for def in env.iter_mut() {
        let EnvDefKind::Wev(var) = &def.kind else {
            continue;
        };
        let shown = display_names(&var.key);
        let plugin_key = format!("{shown}.plugin");
        let id = var.fields.get("id").ok_or_else(|| ConfigError::Missing {
            key: plugin_key.clone(),
            field: "id",
            defined_in: var.defined_in.clone(),
        })?;
        let value = match id.value.text().as_deref() {
            Some("wev-awscodeartifact") => {
                let name = format!("wev:{}", var.key.join(","));
                let repo = codeartifact(var, &plugin_key, warnings)?;
                repositories.insert(name.clone(), repo);
                EnvValue::Token { repository: name }
            }
            Some("wev-echo") => EnvValue::Literal(echo(var, &plugin_key)?),
            Some(other) => {
                return Err(ConfigError::UnsupportedPlugin {
                    origin: id.origin.clone(),
                    variable: shown,
                    id: one_line(other),
                });
            }
            None => {
                return Err(ConfigError::Invalid {
                    origin: id.origin.clone(),
                    key: format!("{plugin_key}.id"),
                    message: format!("expected a plugin id, found {}", id.value.describe()),
                });
            }
        };
        def.kind = EnvDefKind::Value(value);
    }
    Ok(())
}

fn invalid(at: &Located<Node>, key: String, message: String) -> ConfigError {
    ConfigError::Invalid {
        origin: at.origin.clone(),
        key,
        message,
    }
}

/// A string setting (an integer reads as its digits); absent, null and `""` are `None`, as
/// they were to the plugin (`if self.profile:`).
fn setting(
    var: &WevVar,
    plugin_key: &str,
    name: &str,
    check: fn(&str) -> Result<(), String>,
) -> Result<Slot<String>, ConfigError> {
    let Some(at) = var.fields.get(name) else {
        return Ok(None);
    };
    let key = format!("{plugin_key}.{name}");
    let value = match &at.value.kind {
        Kind::Null => None,
        _ => {
            let s = at.value.text().ok_or_else(|| {
                invalid(
                    at,
                    key.clone(),
                    format!("expected a string, found {}", at.value.describe()),
                )
            })?;
            if s.is_empty() {
                None
            } else {
                check(&s).map_err(|m| invalid(at, key.clone(), m))?;
                Some(s)
            }
        }
    };
    Ok(Some(Located::new(value, at.origin.clone())))
}

fn codeartifact(
    var: &WevVar,
    plugin_key: &str,
    warnings: &mut Vec<String>,
) -> Result<DraftRepo, ConfigError> {
    let domain = setting(var, plugin_key, "domain", names::domain)?;
    if domain.as_ref().and_then(|d| d.value.as_ref()).is_none() {
        return Err(ConfigError::Missing {
            key: plugin_key.to_string(),
            field: "domain",
            defined_in: var.defined_in.clone(),
        });
    }
    Ok(DraftRepo {
        defined_in: var.defined_in.clone(),
        domain,
        owner: setting(var, plugin_key, "account", names::owner)?,
        region: setting(var, plugin_key, "region", names::region)?,
        profile: setting(var, plugin_key, "profile", names::profile)?,
        repository: None,
        format: None,
        role_arn: None,
        duration: wev_duration(var, plugin_key, warnings)?,
        token_file: None,
        endpoint: None,
        repository_endpoint: None,
    })
}

/// wev's `duration`: seconds it cached the token. Kept as the token's life, within what AWS
/// accepts; a string takes artoken's syntax (`12h`, `session`).
fn wev_duration(
    var: &WevVar,
    plugin_key: &str,
    warnings: &mut Vec<String>,
) -> Result<Slot<TokenDuration>, ConfigError> {
    let Some(at) = var.fields.get("duration") else {
        return Ok(None);
    };
    let key = format!("{plugin_key}.duration");
    let secs: i128 = match &at.value.kind {
        Kind::Null => return Ok(Some(Located::new(None, at.origin.clone()))),
        Kind::Int(i) => *i,
        // Python's timedelta took fractions; whole seconds are enough.
        Kind::Float(x) if x.is_finite() => x.trunc() as i128,
        Kind::Str(s) => {
            let d = names::duration(s).map_err(|m| invalid(at, key, m))?;
            return Ok(Some(Located::new(Some(d), at.origin.clone())));
        }
        _ => {
            return Err(invalid(
                at,
                key,
                format!("expected seconds, found {}", at.value.describe()),
            ));
        }
    };
    let (min, max) = (
        i128::from(TokenDuration::MIN_SECONDS),
        i128::from(TokenDuration::MAX_SECONDS),
    );
    let clamped = secs.clamp(min, max);
    if clamped != secs {
        let (how, life) = if secs < min {
            ("shorter", "15m")
        } else {
            ("longer", "12h")
        };
        warnings.push(format!(
            "{}: {key}: {secs} seconds is {how} than AWS lets a token live; asking for {life}",
            at.origin
        ));
    }
    let d = u64::try_from(clamped)
        .map(TokenDuration::Seconds)
        .unwrap_or_default();
    Ok(Some(Located::new(Some(d), at.origin.clone())))
}

/// A scalar as Python's `str()` showed it to wev.
fn python_str(node: &Node) -> Option<String> {
    match &node.kind {
        Kind::Str(s) => Some(s.clone()),
        Kind::Int(i) => Some(i.to_string()),
        Kind::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 => {
            Some(format!("{x:.1}"))
        }
        Kind::Float(x) => Some(x.to_string()),
        Kind::Bool(true) => Some("True".into()),
        Kind::Bool(false) => Some("False".into()),
        _ => None,
    }
}

fn echo(var: &WevVar, plugin_key: &str) -> Result<String, ConfigError> {
    let at = var
        .fields
        .get("value")
        .filter(|v| !v.value.is_null())
        .ok_or_else(|| ConfigError::Missing {
            key: plugin_key.to_string(),
            field: "value",
            defined_in: var.defined_in.clone(),
        })?;
    let key = format!("{plugin_key}.value");
    if let Kind::Seq(items) = &at.value.kind {
        let separator = match var.fields.get("separator") {
            Some(s) if !s.value.is_null() => python_str(&s.value).ok_or_else(|| {
                invalid(
                    s,
                    format!("{plugin_key}.separator"),
                    format!("expected a string, found {}", s.value.describe()),
                )
            })?,
            _ => " ".to_string(),
        };
        let parts = items
            .iter()
            .map(|item| {
                python_str(item).ok_or_else(|| {
                    invalid(
                        at,
                        key.clone(),
                        format!("expected strings in the list, found {}", item.describe()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(parts.join(&separator));
    }
    python_str(&at.value).ok_or_else(|| {
        invalid(
            at,
            key,
            format!(
                "expected a string or a list of strings, found {}",
                at.value.describe()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::origin::Origin;
    use crate::config::yaml;

    fn draft(files: &[(&str, &str)]) -> Result<Draft, ConfigError> {
        let mut d = Draft::default();
        for (path, text) in files {
            let root = yaml::parse(Path::new(path), text)?;
            d.apply(layer(Path::new(path), root.as_ref())?);
        }
        resolve(&mut d)?;
        Ok(d)
    }

    fn values(d: &Draft) -> Vec<(Vec<String>, EnvValue)> {
        d.env
            .iter()
            .map(|e| match &e.kind {
                EnvDefKind::Value(v) => (e.names.clone(), v.clone()),
                EnvDefKind::Wev(_) => unreachable!("resolved"),
            })
            .collect()
    }

    fn value<T: Clone>(s: &Slot<T>) -> Option<T> {
        s.as_ref().and_then(|l| l.value.clone())
    }

    #[test]
    fn codeartifact_becomes_a_token_only_repository() {
        // The shape of wev-awscodeartifact's own functional-test .wev.yml.
        let d = draft(&[(
            "/p/.wev.yml",
            "CODEARTIFACT_AUTH_TOKEN:\n  plugin:\n    id: wev-awscodeartifact\n    domain: acme-test\n    account: \"111122223333\"\n    region: eu-west-1\n",
        )])
        .unwrap();
        assert_eq!(
            values(&d),
            [(
                vec!["CODEARTIFACT_AUTH_TOKEN".to_string()],
                EnvValue::Token {
                    repository: "wev:CODEARTIFACT_AUTH_TOKEN".into()
                }
            )]
        );
        let r = &d.repositories["wev:CODEARTIFACT_AUTH_TOKEN"];
        assert_eq!(value(&r.domain).as_deref(), Some("acme-test"));
        assert_eq!(value(&r.owner).as_deref(), Some("111122223333"));
        assert_eq!(value(&r.region).as_deref(), Some("eu-west-1"));
        assert_eq!(value(&r.repository), None);
        assert_eq!(r.domain.as_ref().unwrap().origin.line(), Some(4));
    }

    #[test]
    fn the_user_file_adds_a_profile_without_repeating_the_id() {
        // wev's docs/examples/aws-codeartifact.md: a one-name list key, merged with wev.user.yml.
        let d = draft(&[
            (
                "/p/wev.yml",
                "[CODEARTIFACT_AUTH_TOKEN]:\n  plugin:\n    id: wev-awscodeartifact\n    domain: corp\n",
            ),
            (
                "/p/wev.user.yml",
                "[CODEARTIFACT_AUTH_TOKEN]:\n  plugin:\n    profile: work\n",
            ),
        ])
        .unwrap();
        let r = &d.repositories["wev:CODEARTIFACT_AUTH_TOKEN"];
        assert_eq!(value(&r.domain).as_deref(), Some("corp"));
        assert_eq!(value(&r.profile).as_deref(), Some("work"));
        assert_eq!(
            r.profile.as_ref().unwrap().origin,
            Origin::file(Path::new("/p/wev.user.yml"), Some(3))
        );
        assert_eq!(d.env.len(), 1);
    }

    #[test]
    fn a_list_key_sets_every_name_to_the_token() {
        let d = draft(&[
            (
                "/p/wev.yml",
                "[CODEARTIFACT_AUTH_TOKEN, TWINE_PASSWORD]:\n  plugin:\n    id: wev-awscodeartifact\n    domain: corp\n",
            ),
            // `A` and `[A]` are one variable here.
            (
                "/p/wev.user.yml",
                "[CODEARTIFACT_AUTH_TOKEN, TWINE_PASSWORD]:\n  plugin: {region: eu-west-1}\nX: {plugin: {id: wev-echo, value: a}}\n",
            ),
            ("/p/q/wev.yml", "[X]:\n  plugin: {value: b}\n"),
        ])
        .unwrap();
        assert_eq!(
            values(&d),
            [
                (
                    vec![
                        "CODEARTIFACT_AUTH_TOKEN".to_string(),
                        "TWINE_PASSWORD".to_string()
                    ],
                    EnvValue::Token {
                        repository: "wev:CODEARTIFACT_AUTH_TOKEN,TWINE_PASSWORD".into()
                    }
                ),
                (vec!["X".to_string()], EnvValue::Literal("b".into())),
            ]
        );
        let r = &d.repositories["wev:CODEARTIFACT_AUTH_TOKEN,TWINE_PASSWORD"];
        assert_eq!(value(&r.region).as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn echo_values_join_with_the_separator() {
        // wev's docs/configuration/filenames.md: the user file overrides only the separator.
        let d = draft(&[
            (
                "/h/wev.yml",
                "MY_NAME:\n  plugin:\n    id: wev-echo\n    separator: \"-\"\n    value:\n      - Bobby\n      - Pringles\nMY_ADDRESS:\n  plugin: {id: wev-echo, value: Pringland}\nN: {plugin: {id: wev-echo, value: 5}}\nB: {plugin: {id: wev-echo, value: true}}\n",
            ),
            (
                "/h/wev.user.yml",
                "MY_NAME:\n  plugin:\n    id: wev-echo\n    separator: \"_\"\n",
            ),
        ])
        .unwrap();
        let got: BTreeMap<String, EnvValue> = values(&d)
            .into_iter()
            .map(|(n, v)| (n[0].clone(), v))
            .collect();
        assert_eq!(got["MY_NAME"], EnvValue::Literal("Bobby_Pringles".into()));
        assert_eq!(got["MY_ADDRESS"], EnvValue::Literal("Pringland".into()));
        assert_eq!(got["N"], EnvValue::Literal("5".into()));
        assert_eq!(got["B"], EnvValue::Literal("True".into()));
        let d = draft(&[("/h/wev.yml", "X: {plugin: {id: wev-echo, value: [a, b]}}\n")]).unwrap();
        assert_eq!(values(&d)[0].1, EnvValue::Literal("a b".into()));
    }

    #[test]
    fn unsupported_plugins_are_named() {
        // The shape of cariad/wev's own .wev.yml: a list key resolved by wev-awsmfa.
        let err = draft(&[(
            "/p/.wev.yml",
            "MY_NAME:\n  plugin:\n    id: wev-echo\n    value: Bobby Pringles\n\n[AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN]:\n  plugin:\n    id: wev-awsmfa\n",
        )])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "/p/.wev.yml:8: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN]: plugin wev-awsmfa is not supported by artoken; supported: wev-awscodeartifact, wev-echo"
        );
    }

    #[test]
    fn missing_settings_name_the_files() {
        assert_eq!(
            draft(&[
                ("/a/wev.yml", "T:\n  plugin:\n    id: wev-awscodeartifact\n"),
                ("/a/wev.user.yml", "T:\n  plugin:\n    profile: work\n"),
            ])
            .unwrap_err()
            .to_string(),
            "T.plugin: missing domain (defined in /a/wev.yml, /a/wev.user.yml)"
        );
        assert_eq!(
            draft(&[("/a/wev.user.yml", "T:\n  plugin:\n    profile: work\n")])
                .unwrap_err()
                .to_string(),
            "T.plugin: missing id (defined in /a/wev.user.yml)"
        );
        assert_eq!(
            draft(&[("/a/wev.yml", "T:\n  plugin: {id: wev-echo}\n")])
                .unwrap_err()
                .to_string(),
            "T.plugin: missing value (defined in /a/wev.yml)"
        );
        assert_eq!(
            draft(&[("/a/wev.yml", "T:\n  other: 1\n")])
                .unwrap_err()
                .to_string(),
            "/a/wev.yml:1: T: has no `plugin:`"
        );
    }

    #[test]
    fn durations_are_brought_within_what_aws_accepts() {
        let d = draft(&[(
            "/a/wev.yml",
            "A: {plugin: {id: wev-awscodeartifact, domain: corp, duration: 3600}}\nB: {plugin: {id: wev-awscodeartifact, domain: corp, duration: 30}}\nC: {plugin: {id: wev-awscodeartifact, domain: corp, duration: 1h}}\n",
        )])
        .unwrap();
        assert_eq!(
            value(&d.repositories["wev:A"].duration),
            Some(TokenDuration::Seconds(3600))
        );
        assert_eq!(
            value(&d.repositories["wev:B"].duration),
            Some(TokenDuration::Seconds(900))
        );
        assert_eq!(
            value(&d.repositories["wev:C"].duration),
            Some(TokenDuration::Seconds(3600))
        );
        assert_eq!(
            d.warnings,
            [
                "/a/wev.yml:2: B.plugin.duration: 30 seconds is shorter than AWS lets a token live; asking for 15m"
            ]
        );
    }

    #[test]
    fn meta_keys_are_skipped_and_bad_values_named() {
        let d = draft(&[("/a/wev.yml", "__dwalk__: {x: 1}\n")]).unwrap();
        assert!(d.env.is_empty());
        assert_eq!(
            draft(&[(
                "/a/wev.yml",
                "T:\n  plugin:\n    id: wev-awscodeartifact\n    domain: corp\n    account: [1]\n"
            )])
            .unwrap_err()
            .to_string(),
            "/a/wev.yml:5: T.plugin.account: expected a string, found a list"
        );
        assert_eq!(
            draft(&[("/a/wev.yml", "- a\n")]).unwrap_err().to_string(),
            "/a/wev.yml:1: (top level): expected a map of variable names to `plugin:` settings, found a list"
        );
    }

    #[test]
    fn recognises_wev_files_by_content() {
        let wev = yaml::parse(Path::new("/x"), "T:\n  plugin: {id: wev-echo}\n")
            .unwrap()
            .unwrap();
        assert!(looks_like_wev(&wev));
        let artoken = yaml::parse(Path::new("/x"), "repositories: {}\n")
            .unwrap()
            .unwrap();
        assert!(!looks_like_wev(&artoken));
    }
}
