//! Configuration: discovery, merge, artoken.yml and wev.yml schemas, `ARTOKEN_*` overrides.
//!
//! # Where files are found
//!
//! [`discover`] looks in `$HOME`, then in every directory from `/` down to the current one
//! (a directory once, even when `$HOME` is on the way). In each directory it reads, lowest
//! precedence first: `.wev.yml`, `wev.yml`, `.artoken.yml`, `artoken.yml`, then the personal
//! `.wev.user.yml`, `wev.user.yml`, `.artoken.user.yml`, `artoken.user.yml` (each also as
//! `.yaml`). Later files win. `--config FILE` ([`LoadOptions::explicit`]) replaces discovery.
//!
//! A discovered file is read only when it is ours ([`crate::ownership`], as git's
//! `safe.directory`): it, a symlink naming it and the directory holding it belong to the
//! current user or root, and none is writable by every user (a sticky directory like `/tmp`
//! excepted). Anything else is skipped with a one-line warning naming it, so an `artoken.yml`
//! planted in a shared parent like `/tmp` decides nothing. `--config` and `ARTOKEN_CONFIG`
//! read exactly the files they name, whoever owns them.
//!
//! # artoken.yml
//!
//! ```yaml
//! default: corp                 # optional: used when a command names no repository
//!                               # (without it: the only repository, if there is one)
//! repositories:
//!   corp:                       # the name commands use: letters, digits, `.`, `_`, `-`
//!     domain: corp              # required (in some layer)
//!     owner: "012345678901"     # optional: the domain owner's account (quote it)
//!     region: eu-west-1         # optional: else the profile's / environment's region
//!     repository: pypi-mirror   # optional: a token-only entry has none (then no URL)
//!     format: pypi              # npm|pypi|maven|nuget|generic|ruby|swift|cargo; default pypi
//!     profile: work             # optional AWS profile; best kept in artoken.user.yml
//!     role_arn: arn:aws:iam::012345678901:role/ci   # optional role to assume first
//!     duration: 12h             # 15m..12h (`90m`, `1h30m`, `3600`) or `session`; default 12h
//!     endpoint: https://vpce-….api.codeartifact.eu-west-1.vpce.amazonaws.com  # optional: API
//!                               # calls go there (a VPC endpoint; docs/networks.md)
//!     repository_endpoint: https://vpce-….d.codeartifact.eu-west-1.vpce.amazonaws.com  # optional:
//!                               # the helpers answer for this VPC endpoint's URLs too
//! env:                          # what `artoken exec` / `artoken env` set
//!   PIP_INDEX_URL: { url: corp }              # index URL with the token; `tool:` picks the
//!                                             # URL's shape (pip, uv, poetry, twine, npm, ...)
//!   CODEARTIFACT_AUTH_TOKEN: { token: corp }  # the bare token
//!   CODEARTIFACT_ENDPOINT: { endpoint: corp } # the repository endpoint, no token
//!   SOME_TEXT: { value: "literal" }           # fixed text
//!   [TWINE_PASSWORD, UV_INDEX_CORP_PASSWORD]: { token: corp }   # several names, one value
//! cache:
//!   refresh_before: 15m         # refresh a token once less than this (or a quarter of its
//!                               # life) is left; at most 12h
//! targets:                      # what `artoken refresh` keeps current (see [`targets`])
//!   - s3: s3://mwaa-bucket/requirements/codeartifact.txt
//!     repository: corp          # optional: `default:` or the only one; format pypi
//!   - file: constraints/requirements.txt   # relative to this file's directory
//! ```
//!
//! Merging across files: maps merge deeply, so a repository merges field by field (the shared
//! artoken.yml gives `domain`, the personal artoken.user.yml adds `profile`); scalars and lists
//! are replaced; `null` or `""` unsets an optional field. An `env` entry is replaced whole
//! (`{ url: corp }` over `{ token: corp }` is a URL, never both), and a variable set by a later
//! entry is taken out of earlier ones. Each entry has exactly one of `url`, `token`,
//! `endpoint`, `value`. Unknown fields are errors.
//!
//! # wev.yml
//!
//! Read unchanged; see [`wev`] for the format. A `wev-awscodeartifact` variable
//! becomes a token-only repository named `wev:VARIABLE` plus an env entry `{ token: ... }`;
//! `wev-echo` becomes `{ value: ... }`; other plugins are errors.
//!
//! # Environment
//!
//! `ARTOKEN_*` variables are the last layer; see [`env_overrides`].
//!
//! # Errors
//!
//! One line each, naming file, line and key path:
//! `/p/artoken.yml:7: repositories.corp.duration: 13h is outside what AWS accepts (...)`.
//! Files are regular, UTF-8, at most 1 MiB; YAML aliases cannot expand past a small budget
//! (a billion-laughs file is refused). An empty file is an empty config.

mod artoken_file;
mod discover;
mod endpoints;
pub mod env_overrides;
mod error;
mod finish;
mod merge;
mod names;
mod origin;
mod read;
mod resolved;
mod schema;
pub mod targets;
mod var_key;
pub mod wev;
mod yaml;

use std::path::PathBuf;

pub use discover::{FILE_STEMS, FileKind, discover, kind_from_name, search_dirs};
pub use env_overrides::EnvLookup;
pub use error::ConfigError;
pub use origin::Origin;
pub use read::MAX_BYTES;
pub use resolved::{Config, EnvEntry, EnvValue, RepositoryOrigins};
pub use targets::{Target, TargetLocation};

/// What [`load`] reads.
pub struct LoadOptions<'a> {
    /// `$HOME`, searched first; `None` when unknown.
    pub home: Option<PathBuf>,
    /// The directory whose chain from `/` is searched (absolute).
    pub cwd: PathBuf,
    /// `--config` files, in precedence order (relative ones against `cwd`). When not empty,
    /// they are read instead of discovering files.
    pub explicit: Vec<PathBuf>,
    /// The environment, for `ARTOKEN_*` (never read from the process here).
    pub env: EnvLookup<'a>,
}

/// Reads, merges and checks the configuration.
pub fn load(options: &LoadOptions<'_>) -> Result<Config, ConfigError> {
    let mut texts = Vec::new();
    if options.explicit.is_empty() {
        let me = crate::ownership::euid();
        for path in discover(options.home.as_deref(), &options.cwd) {
            match read::read_discovered(&path, me)? {
                Ok(text) => texts.push((path, text)),
                // Once per file: load runs once per process.
                Err(why) => tracing::warn!(
                    "ignoring {}: {why}; name it with --config to read it anyway",
                    path.display()
                ),
            }
        }
    } else {
        for f in &options.explicit {
            let path = options.cwd.join(f);
            let text = read::read_text(&path)?;
            texts.push((path, text));
        }
    }
    from_texts(&texts, options.env)
}

/// Merges and checks files already read, as [`load`] does once it has read them: `(path,
/// text)` pairs in precedence order (later wins); the file name picks the schema (artoken or
/// wev; for other names, the content does).
pub fn from_texts(files: &[(PathBuf, String)], env: EnvLookup<'_>) -> Result<Config, ConfigError> {
    let mut draft = merge::Draft::default();
    for (path, text) in files {
        let root = yaml::parse(path, text)?;
        let kind = kind_from_name(path).unwrap_or_else(|| {
            if root.as_ref().is_some_and(wev::looks_like_wev) {
                FileKind::Wev
            } else {
                FileKind::Artoken
            }
        });
        let layer = match kind {
            FileKind::Artoken => artoken_file::layer(path, root.as_ref())?,
            FileKind::Wev => wev::layer(path, root.as_ref())?,
        };
        draft.apply(layer);
        draft.sources.push(path.clone());
    }
    wev::resolve(&mut draft)?;
    env_overrides::apply(&mut draft, env)?;
    finish::finish(draft)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::Path;

    use super::*;
    use crate::spec::{Format, RepositorySpec, TokenDuration};

    /// A fake machine: a HOME and a project under one temporary root.
    struct Sandbox {
        _dir: tempfile::TempDir,
        root: PathBuf,
        home: PathBuf,
        cwd: PathBuf,
    }

    impl Sandbox {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let root = fs::canonicalize(dir.path()).unwrap();
            let home = root.join("home/me");
            let cwd = root.join("work/team/proj");
            fs::create_dir_all(&home).unwrap();
            fs::create_dir_all(&cwd).unwrap();
            Sandbox {
                _dir: dir,
                root,
                home,
                cwd,
            }
        }

        fn write(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.root.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, text).unwrap();
            p
        }

        fn load_with(
            &self,
            files: &[PathBuf],
            env: &[(&str, &str)],
        ) -> Result<Config, ConfigError> {
            let vars: BTreeMap<String, String> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let lookup = move |k: &str| vars.get(k).cloned();
            let mut config = load(&LoadOptions {
                home: Some(self.home.clone()),
                cwd: self.cwd.clone(),
                explicit: files.to_vec(),
                env: &lookup,
            })?;
            // Files above the sandbox (a real /artoken.yml) are not the test's business.
            config.sources.retain(|s| s.starts_with(&self.root));
            Ok(config)
        }

        fn load(&self) -> Result<Config, ConfigError> {
            self.load_with(&[], &[])
        }
    }

    #[test]
    fn nothing_configured_is_an_empty_config() {
        let s = Sandbox::new();
        s.write("work/team/proj/artoken.yml", "");
        let c = s.load().unwrap();
        assert!(c.repositories.is_empty());
        assert_eq!(c.sources, [s.cwd.join("artoken.yml")]);
    }

    #[test]
    fn home_then_root_down_to_cwd_later_wins() {
        let s = Sandbox::new();
        s.write(
            "home/me/artoken.yml",
            "repositories:\n  corp: {domain: corp, region: eu-west-1, profile: home}\n",
        );
        s.write(
            "work/artoken.yml",
            "repositories:\n  corp: {region: eu-west-2}\n",
        );
        s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  corp: {repository: pypi-mirror}\n",
        );
        let c = s.load().unwrap();
        let spec = &c.repositories["corp"];
        assert_eq!(spec.region.as_deref(), Some("eu-west-2"));
        assert_eq!(spec.profile.as_deref(), Some("home"));
        assert_eq!(spec.repository.as_deref(), Some("pypi-mirror"));
        assert_eq!(
            c.sources,
            [
                s.home.join("artoken.yml"),
                s.root.join("work/artoken.yml"),
                s.cwd.join("artoken.yml"),
            ]
        );
        assert_eq!(
            c.origin("corp").map(ToString::to_string),
            Some(format!("{}:2", s.cwd.join("artoken.yml").display()))
        );
        assert_eq!(c.origin("nope"), None);
        assert_eq!(
            c.origins["corp"].fields["region"],
            Origin::File {
                path: s.root.join("work/artoken.yml"),
                line: Some(2)
            }
        );
    }

    #[test]
    fn a_repository_merges_across_the_shared_and_the_personal_file() {
        let s = Sandbox::new();
        s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  corp:\n    domain: corp\n    owner: \"012345678901\"\n    region: eu-west-1\n    repository: pypi-mirror\nenv:\n  PIP_INDEX_URL: { url: corp }\n",
        );
        s.write(
            "work/team/proj/artoken.user.yml",
            "repositories:\n  corp:\n    profile: work\n",
        );
        let c = s.load().unwrap();
        let mut want = RepositorySpec::new("corp", "corp");
        want.owner = Some("012345678901".into());
        want.region = Some("eu-west-1".into());
        want.repository = Some("pypi-mirror".into());
        want.profile = Some("work".into());
        assert_eq!(c.repositories["corp"], want);
        assert_eq!(c.repository(None).unwrap(), &want);
        assert_eq!(
            c.env,
            [EnvEntry {
                names: vec!["PIP_INDEX_URL".into()],
                value: EnvValue::Url {
                    repository: "corp".into(),
                    tool: None
                },
                source: s.cwd.join("artoken.yml"),
                line: Some(8),
            }]
        );
    }

    #[test]
    fn env_entries_are_replaced_whole() {
        let s = Sandbox::new();
        s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  corp: {domain: corp, repository: r1}\nenv:\n  X: { token: corp }\n  [A, B]: { endpoint: corp }\n",
        );
        s.write(
            "work/team/proj/artoken.user.yml",
            "env:\n  X: { url: corp, tool: uv }\n  A: { value: mine }\n",
        );
        let c = s.load().unwrap();
        let got: Vec<(Vec<String>, EnvValue)> =
            c.env.into_iter().map(|e| (e.names, e.value)).collect();
        assert_eq!(
            got,
            [
                (
                    vec!["B".to_string()],
                    EnvValue::Endpoint {
                        repository: "corp".into()
                    }
                ),
                (
                    vec!["X".to_string()],
                    EnvValue::Url {
                        repository: "corp".into(),
                        tool: Some("uv".into())
                    }
                ),
                (vec!["A".to_string()], EnvValue::Literal("mine".into())),
            ]
        );
    }

    #[test]
    fn a_team_wev_setup_reads_unchanged() {
        // Like wev-awscodeartifact's README: shared .wev.yml, personal .wev.user.yml (no id),
        // plus a wev-echo variable under a list key, as wev's docs write them.
        let s = Sandbox::new();
        s.write(
            "work/team/.wev.yml",
            "CODEARTIFACT_AUTH_TOKEN:\n  plugin:\n    id: wev-awscodeartifact\n    account: \"012345678901\"\n    domain: corp\n    region: eu-west-1\n\n[PIPENV_VERBOSITY]:\n  plugin:\n    id: wev-echo\n    value: \"-1\"\n",
        );
        s.write(
            "home/me/.wev.user.yml",
            "CODEARTIFACT_AUTH_TOKEN:\n  plugin:\n    profile: nobody\n",
        );
        s.write(
            "work/team/.wev.user.yml",
            "CODEARTIFACT_AUTH_TOKEN:\n  plugin:\n    profile: work\n",
        );
        let c = s.load().unwrap();
        let spec = c.repository(None).unwrap();
        assert_eq!(spec.name, "wev:CODEARTIFACT_AUTH_TOKEN");
        assert_eq!(spec.domain, "corp");
        assert_eq!(spec.owner.as_deref(), Some("012345678901"));
        assert_eq!(spec.region.as_deref(), Some("eu-west-1"));
        assert_eq!(spec.profile.as_deref(), Some("work"));
        assert_eq!(spec.repository, None);
        assert_eq!(spec.duration, TokenDuration::Seconds(43_200));
        let got: Vec<(Vec<String>, EnvValue)> =
            c.env.into_iter().map(|e| (e.names, e.value)).collect();
        assert_eq!(
            got,
            [
                (
                    vec!["CODEARTIFACT_AUTH_TOKEN".to_string()],
                    EnvValue::Token {
                        repository: "wev:CODEARTIFACT_AUTH_TOKEN".into()
                    }
                ),
                (
                    vec!["PIPENV_VERBOSITY".to_string()],
                    EnvValue::Literal("-1".into())
                ),
            ]
        );
    }

    #[test]
    fn artoken_files_can_point_at_wev_repositories() {
        let s = Sandbox::new();
        s.write(
            "work/team/proj/wev.yml",
            "T:\n  plugin: {id: wev-awscodeartifact, domain: corp}\n",
        );
        s.write(
            "work/team/proj/artoken.yml",
            "default: wev:T\nenv:\n  [A, B]: { token: wev:T }\n",
        );
        let c = s.load().unwrap();
        assert_eq!(c.default.as_deref(), Some("wev:T"));
        assert_eq!(c.env.len(), 2);
    }

    #[test]
    fn missing_domain_names_every_file() {
        let s = Sandbox::new();
        let a = s.write(
            "work/artoken.yml",
            "repositories:\n  corp:\n    repository: r1\n",
        );
        let b = s.write(
            "work/team/proj/artoken.user.yml",
            "repositories:\n  corp:\n    profile: work\n",
        );
        assert_eq!(
            s.load().unwrap_err().to_string(),
            format!(
                "repositories.corp: missing domain (defined in {}, {})",
                a.display(),
                b.display()
            )
        );
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let s = Sandbox::new();
        let p = s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  corp:\n    domain: corp\n    domian: corp\n",
        );
        assert_eq!(
            s.load().unwrap_err().to_string(),
            format!(
                "{}:4: repositories.corp: unknown field `domian`, expected one of `domain`, `owner`, `region`, `repository`, `format`, `profile`, `role_arn`, `duration`, `token_file`, `endpoint`, `repository_endpoint`",
                p.display()
            )
        );
        let p = s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  corp:\n    domain: corp\n    duration: 13h\n",
        );
        assert_eq!(
            s.load().unwrap_err().to_string(),
            format!(
                "{}:4: repositories.corp.duration: 13h is outside what AWS accepts (15m to 12h, or session)",
                p.display()
            )
        );
        let p = s.write("work/team/proj/wev.yml", "X:\n  plugin:\n    id: wev-xyz\n");
        fs::remove_file(s.cwd.join("artoken.yml")).unwrap();
        assert_eq!(
            s.load().unwrap_err().to_string(),
            format!(
                "{}:3: X: plugin wev-xyz is not supported by artoken; supported: wev-awscodeartifact, wev-echo",
                p.display()
            )
        );
    }

    #[test]
    fn unreadable_files_stop_loading() {
        let s = Sandbox::new();
        fs::create_dir(s.cwd.join("artoken.yml")).unwrap();
        assert_eq!(
            s.load().unwrap_err().to_string(),
            format!(
                "{}: is a directory, not a config file",
                s.cwd.join("artoken.yml").display()
            )
        );
        fs::remove_dir(s.cwd.join("artoken.yml")).unwrap();
        let p = s.write("work/team/proj/artoken.yml", "a: \u{1}\n");
        fs::write(&p, b"default: \xc3\x28\n").unwrap();
        assert_eq!(
            s.load().unwrap_err().to_string(),
            format!("{}: is not valid UTF-8 (at byte 9)", p.display())
        );
        fs::write(&p, vec![b' '; (MAX_BYTES + 1) as usize]).unwrap();
        assert_eq!(
            s.load().unwrap_err().to_string(),
            format!(
                "{}: is larger than 1 MiB; that is no config file",
                p.display()
            )
        );
    }

    #[test]
    fn a_yaml_bomb_is_refused() {
        let s = Sandbox::new();
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let p = s.write("work/team/proj/artoken.yml", &bomb);
        let err = s.load().unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:", p.display())), "{err}");
        assert!(err.contains("too large or too complex"), "{err}");
    }

    #[test]
    fn explicit_files_replace_discovery() {
        let s = Sandbox::new();
        s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  discovered: {domain: corp}\n",
        );
        let ci = s.write(
            "ci/ci-config.yml",
            "repositories:\n  ci: {domain: corp, repository: r1}\n",
        );
        let wev = s.write(
            "ci/tokens.yml",
            "T:\n  plugin: {id: wev-awscodeartifact, domain: other}\n",
        );
        let c = s.load_with(&[ci.clone(), wev.clone()], &[]).unwrap();
        assert_eq!(c.repositories.keys().collect::<Vec<_>>(), ["ci", "wev:T"]);
        assert_eq!(c.sources, [ci, wev]);
        let missing = s.root.join("ci/missing.yml");
        let err = s
            .load_with(std::slice::from_ref(&missing), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: cannot read: ", missing.display())),
            "{err}"
        );
    }

    #[test]
    fn files_every_user_can_write_are_skipped_unless_named() {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
        let s = Sandbox::new();
        let planted = s.write(
            "work/team/artoken.yml",
            "repositories:\n  planted: {domain: corp}\n",
        );
        let mine = s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  mine: {domain: corp}\n",
        );
        let names = |c: &Config| c.repositories.keys().cloned().collect::<Vec<_>>();
        mode(&planted, 0o666);
        let c = s.load().unwrap();
        assert_eq!(names(&c), ["mine"]);
        assert_eq!(c.sources, std::slice::from_ref(&mine));
        // Named with --config, it is read as it is.
        let c = s.load_with(std::slice::from_ref(&planted), &[]).unwrap();
        assert_eq!(names(&c), ["planted"]);
        // A directory every user can write: its files are anyone's. With the sticky bit
        // (/tmp), nobody else can replace a file of ours there.
        mode(&planted, 0o644);
        let team = s.root.join("work/team");
        mode(&team, 0o777);
        assert_eq!(names(&s.load().unwrap()), ["mine"]);
        mode(&team, 0o1777);
        assert_eq!(names(&s.load().unwrap()), ["mine", "planted"]);
        mode(&team, 0o755);
        assert_eq!(names(&s.load().unwrap()), ["mine", "planted"]);
    }

    #[test]
    fn the_environment_alone_is_enough_for_ci() {
        let s = Sandbox::new();
        let c = s
            .load_with(
                &[],
                &[
                    ("ARTOKEN_DOMAIN", "corp"),
                    ("ARTOKEN_DOMAIN_OWNER", "012345678901"),
                    ("ARTOKEN_REPOSITORY", "npm-store"),
                    ("ARTOKEN_FORMAT", "npm"),
                    ("ARTOKEN_REGION", "eu-west-1"),
                    ("ARTOKEN_ROLE_ARN", "arn:aws:iam::012345678901:role/ci"),
                    ("ARTOKEN_DURATION", "session"),
                ],
            )
            .unwrap();
        let spec = c.repository(None).unwrap();
        assert_eq!(spec.name, "default");
        assert_eq!(spec.format, Format::Npm);
        assert_eq!(spec.repository.as_deref(), Some("npm-store"));
        assert_eq!(spec.region.as_deref(), Some("eu-west-1"));
        assert_eq!(spec.duration, TokenDuration::Session);
        assert_eq!(
            c.origins["default"].fields["domain"],
            Origin::env("ARTOKEN_DOMAIN")
        );
    }

    #[test]
    fn the_environment_overrides_files() {
        let s = Sandbox::new();
        s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  a: {domain: corp, profile: work}\n  b: {domain: corp, role_arn: \"arn:aws:iam::012345678901:role/x\"}\n",
        );
        let c = s
            .load_with(&[], &[("ARTOKEN_PROFILE", ""), ("ARTOKEN_ROLE_ARN", "")])
            .unwrap();
        assert_eq!(c.repositories["a"].profile, None);
        assert_eq!(c.repositories["b"].role_arn, None);
        let c = s.load_with(&[], &[("ARTOKEN_PROFILE", "ci")]).unwrap();
        assert!(
            c.repositories
                .values()
                .all(|r| r.profile.as_deref() == Some("ci"))
        );
        assert_eq!(
            s.load_with(&[], &[("ARTOKEN_DURATION", "10m")])
                .unwrap_err()
                .to_string(),
            "ARTOKEN_DURATION: 10m is outside what AWS accepts (15m to 12h, or session)"
        );
    }

    #[test]
    fn choosing_a_repository() {
        let s = Sandbox::new();
        s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  a: {domain: corp}\n  b: {domain: corp}\n",
        );
        let c = s.load().unwrap();
        assert_eq!(
            c.repository(None).unwrap_err().to_string(),
            "2 repositories are configured (a, b) and none is the default: name one, or set `default:` in artoken.yml"
        );
        assert_eq!(
            c.repository(Some("c")).unwrap_err().to_string(),
            format!(
                "no repository named `c`; configured: a, b (read {})",
                s.cwd.join("artoken.yml").display()
            )
        );
        assert_eq!(c.repository(Some("b")).unwrap().name, "b");
        s.write("work/team/proj/artoken.user.yml", "default: b\n");
        assert_eq!(s.load().unwrap().repository(None).unwrap().name, "b");
    }

    #[test]
    fn targets_resolve_their_repository() {
        let s = Sandbox::new();
        let p = s.write(
            "work/team/proj/artoken.yml",
            "repositories:\n  corp: {domain: corp, repository: py}\n  js: {domain: corp, repository: npm, format: npm}\n  tok: {domain: corp}\ndefault: corp\ntargets:\n  - s3: s3://bkt/req.txt\n  - file: sub/r.txt\n    repository: corp\n",
        );
        let c = s.load().unwrap();
        assert_eq!(c.targets.len(), 2);
        assert_eq!(c.targets[0].repository, "corp");
        assert_eq!(c.targets[0].location.to_string(), "s3://bkt/req.txt");
        assert_eq!(
            c.targets[1].location,
            TargetLocation::File(s.cwd.join("sub/r.txt"))
        );
        assert_eq!(
            c.targets[1].origin.to_string(),
            format!("{}:8", p.display())
        );
        for (repo, want) in [
            (
                "js",
                "repository `js` has format npm; targets hold pip index URLs (format pypi)",
            ),
            (
                "tok",
                "repository `tok` names no CodeArtifact `repository:` (it is token-only), so it has no index URL",
            ),
            (
                "nope",
                "no repository named `nope` (configured: corp, js, tok)",
            ),
        ] {
            s.write(
                "work/team/proj/artoken.user.yml",
                &format!("targets:\n  - {{s3: s3://bkt/k, repository: {repo}}}\n"),
            );
            assert_eq!(
                s.load().unwrap_err().to_string(),
                format!(
                    "{}:2: targets[0]: {want}",
                    s.cwd.join("artoken.user.yml").display()
                )
            );
        }
        // A later file's list replaces the earlier one; [] clears it.
        s.write("work/team/proj/artoken.user.yml", "targets: []\n");
        assert!(s.load().unwrap().targets.is_empty());
    }

    #[test]
    fn load_never_reads_the_real_home() {
        // Loading with an empty HOME and an isolated cwd sees only the sandbox (and whatever
        // is in / itself, which the sandbox filter hides).
        let s = Sandbox::new();
        let c = s.load().unwrap();
        assert!(c.sources.is_empty());
        assert!(Path::new(&s.home).starts_with(&s.root));
    }
}
