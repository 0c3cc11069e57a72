//! Layering files: maps merge deeply, scalars and lists are replaced, later layers win.
//!
//! A repository merges field by field (`profile` may come from artoken.user.yml, the rest from
//! artoken.yml). An `env` entry is replaced whole: `{ url: corp }` over `{ token: corp }` makes
//! a URL, not a mix of both. A variable set by a later entry is taken out of earlier entries
//! (`[A, B]: {token: x}` then `A: {value: y}` leaves `B` with the token). wev variables merge
//! like wev merges them: the `plugin` fields of the same variable, key by key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::spec::{Format, TokenDuration};

use super::origin::{Located, Origin, Slot};
use super::resolved::EnvValue;
use super::targets::TargetsSlot;
use super::yaml::Node;

/// One repository as the layers so far describe it.
#[derive(Debug, Clone, Default)]
pub(crate) struct DraftRepo {
    /// Every place that mentioned the repository, in order.
    pub defined_in: Vec<Origin>,
    pub domain: Slot<String>,
    pub owner: Slot<String>,
    pub region: Slot<String>,
    pub repository: Slot<String>,
    pub format: Slot<Format>,
    pub profile: Slot<String>,
    pub role_arn: Slot<String>,
    pub duration: Slot<TokenDuration>,
    pub token_file: Slot<String>,
    pub endpoint: Slot<String>,
    pub repository_endpoint: Slot<String>,
}

fn over<T>(slot: &mut Slot<T>, later: Slot<T>) {
    if later.is_some() {
        *slot = later;
    }
}

impl DraftRepo {
    /// Lays `later` over `self`, field by field.
    pub fn merge_from(&mut self, later: DraftRepo) {
        self.defined_in.extend(later.defined_in);
        over(&mut self.domain, later.domain);
        over(&mut self.owner, later.owner);
        over(&mut self.region, later.region);
        over(&mut self.repository, later.repository);
        over(&mut self.format, later.format);
        over(&mut self.profile, later.profile);
        over(&mut self.role_arn, later.role_arn);
        over(&mut self.duration, later.duration);
        over(&mut self.token_file, later.token_file);
        over(&mut self.endpoint, later.endpoint);
        over(&mut self.repository_endpoint, later.repository_endpoint);
    }

    /// Where each field that was set (or cleared) was last written.
    pub fn field_origins(&self) -> BTreeMap<&'static str, Origin> {
        fn put<T>(m: &mut BTreeMap<&'static str, Origin>, k: &'static str, s: &Slot<T>) {
            if let Some(l) = s {
                m.insert(k, l.origin.clone());
            }
        }
        let mut m = BTreeMap::new();
        put(&mut m, "domain", &self.domain);
        put(&mut m, "owner", &self.owner);
        put(&mut m, "region", &self.region);
        put(&mut m, "repository", &self.repository);
        put(&mut m, "format", &self.format);
        put(&mut m, "profile", &self.profile);
        put(&mut m, "role_arn", &self.role_arn);
        put(&mut m, "duration", &self.duration);
        put(&mut m, "token_file", &self.token_file);
        put(&mut m, "endpoint", &self.endpoint);
        put(&mut m, "repository_endpoint", &self.repository_endpoint);
        m
    }
}

/// One wev variable's `plugin` settings, merged across files.
#[derive(Debug, Clone)]
pub(crate) struct WevVar {
    /// The names as the key wrote them.
    pub key: Vec<String>,
    /// `plugin` fields, each where it was last set.
    pub fields: BTreeMap<String, Located<Node>>,
    /// Every file (and line) that mentioned the variable.
    pub defined_in: Vec<Origin>,
}

impl WevVar {
    pub fn merge_from(&mut self, later: WevVar) {
        self.defined_in.extend(later.defined_in);
        self.fields.extend(later.fields);
    }
}

/// What an `env` entry (or a wev variable) sets its variables to.
#[derive(Debug, Clone)]
pub(crate) enum EnvDefKind {
    /// A complete artoken entry.
    Value(EnvValue),
    /// A wev variable, resolved once every layer is in.
    Wev(WevVar),
}

/// One entry setting one or more environment variables.
#[derive(Debug, Clone)]
pub(crate) struct EnvDef {
    pub names: Vec<String>,
    pub kind: EnvDefKind,
    /// Where it was (last) written: the key's file and line.
    pub origin: Origin,
}

/// What one file contributes.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    pub default: Slot<String>,
    pub refresh_before: Slot<u64>,
    pub repositories: Vec<(String, DraftRepo)>,
    pub env: Vec<EnvDef>,
    pub targets: TargetsSlot,
}

/// Everything merged so far.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub default: Slot<String>,
    pub refresh_before: Slot<u64>,
    pub repositories: BTreeMap<String, DraftRepo>,
    pub env: Vec<EnvDef>,
    /// The last `targets:` list written.
    pub targets: TargetsSlot,
    /// Files read, in order.
    pub sources: Vec<PathBuf>,
    /// Things worth telling but not worth failing for.
    pub warnings: Vec<String>,
}

impl Draft {
    /// Lays a file's layer over what is there.
    pub fn apply(&mut self, layer: Layer) {
        over(&mut self.default, layer.default);
        over(&mut self.refresh_before, layer.refresh_before);
        if layer.targets.is_some() {
            self.targets = layer.targets;
        }
        for (name, repo) in layer.repositories {
            self.repositories.entry(name).or_default().merge_from(repo);
        }
        for def in layer.env {
            self.add_env(def);
        }
    }

    fn add_env(&mut self, def: EnvDef) {
        if let EnvDefKind::Wev(later) = &def.kind
            && let Some(earlier) = self.env.iter_mut().find(|d| d.names == def.names)
            && let EnvDefKind::Wev(var) = &mut earlier.kind
        {
            var.merge_from(later.clone());
            earlier.origin = def.origin;
            return;
        }
        for earlier in &mut self.env {
            earlier.names.retain(|n| !def.names.contains(n));
        }
        self.env.retain(|d| !d.names.is_empty());
        self.env.push(def);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn at(file: &str, line: u32) -> Origin {
        Origin::file(Path::new(file), Some(line))
    }

    fn set<T>(v: T, file: &str, line: u32) -> Slot<T> {
        Some(Located::new(Some(v), at(file, line)))
    }

    fn token(names: &[&str], repo: &str, file: &str) -> EnvDef {
        EnvDef {
            names: names.iter().map(ToString::to_string).collect(),
            kind: EnvDefKind::Value(EnvValue::Token {
                repository: repo.into(),
            }),
            origin: at(file, 1),
        }
    }

    #[test]
    fn repositories_merge_field_by_field() {
        let mut d = Draft::default();
        let base = DraftRepo {
            defined_in: vec![at("/a/artoken.yml", 2)],
            domain: set("corp".into(), "/a/artoken.yml", 3),
            profile: set("shared".into(), "/a/artoken.yml", 4),
            ..DraftRepo::default()
        };
        let user = DraftRepo {
            defined_in: vec![at("/a/artoken.user.yml", 2)],
            profile: set("mine".into(), "/a/artoken.user.yml", 3),
            region: Some(Located::new(None, at("/a/artoken.user.yml", 4))),
            ..DraftRepo::default()
        };
        d.apply(Layer {
            repositories: vec![("corp".into(), base)],
            ..Layer::default()
        });
        d.apply(Layer {
            repositories: vec![("corp".into(), user)],
            ..Layer::default()
        });
        let r = &d.repositories["corp"];
        assert_eq!(r.domain.as_ref().unwrap().value.as_deref(), Some("corp"));
        assert_eq!(r.profile.as_ref().unwrap().value.as_deref(), Some("mine"));
        assert_eq!(r.region.as_ref().unwrap().value, None);
        assert_eq!(r.defined_in.len(), 2);
        assert_eq!(r.field_origins()["profile"], at("/a/artoken.user.yml", 3));
    }

    #[test]
    fn later_entries_take_their_variables_from_earlier_ones() {
        let mut d = Draft::default();
        d.apply(Layer {
            env: vec![token(&["A", "B"], "x", "/1"), token(&["C"], "x", "/1")],
            ..Layer::default()
        });
        d.apply(Layer {
            env: vec![token(&["A"], "y", "/2"), token(&["C"], "z", "/2")],
            ..Layer::default()
        });
        let got: Vec<(Vec<String>, String)> = d
            .env
            .iter()
            .map(|e| match &e.kind {
                EnvDefKind::Value(EnvValue::Token { repository }) => {
                    (e.names.clone(), repository.clone())
                }
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            got,
            [
                (vec!["B".to_string()], "x".to_string()),
                (vec!["A".to_string()], "y".to_string()),
                (vec!["C".to_string()], "z".to_string()),
            ]
        );
    }
}
