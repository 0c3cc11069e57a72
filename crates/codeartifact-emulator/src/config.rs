//! The emulator's configuration: domains, repositories, packages, known access keys and faults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// AWS's documentation example key pair; accepted when no `access_keys` are configured.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret of [`DEFAULT_ACCESS_KEY_ID`].
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// Account the default key belongs to.
pub const DEFAULT_ACCOUNT: &str = "111122223333";

/// Everything the emulator serves. Read from YAML (`--config FILE`) or built in code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Region used in endpoint URLs when the request's signature does not name one.
    #[serde(default = "default_region")]
    pub region: String,
    /// Access keys the control plane accepts. Empty: the AWS documentation example key.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// Domains with their repositories.
    #[serde(default)]
    pub domains: Vec<DomainConfig>,
    /// Fault switches in force at start-up (they can be changed at run time).
    #[serde(default)]
    pub faults: Faults,
}

/// An access key the emulator knows, with the IAM actions it is denied.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    /// Account of the caller (GetCallerIdentity); defaults to [`DEFAULT_ACCOUNT`].
    #[serde(default)]
    pub account: Option<String>,
    /// IAM user name shown in the caller ARN; defaults to `emulator`.
    #[serde(default)]
    pub user: Option<String>,
    /// IAM actions this key is denied, e.g. `sts:GetServiceBearerToken`.
    #[serde(default)]
    pub deny: Vec<String>,
}

/// A CodeArtifact domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DomainConfig {
    pub name: String,
    /// 12-digit owner account.
    pub owner: String,
    #[serde(default)]
    pub repositories: Vec<RepositoryConfig>,
}

/// A repository inside a domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RepositoryConfig {
    pub name: String,
    /// The package format served on the data plane (`pypi`, `npm` and `maven` have one here).
    pub format: Format,
    #[serde(default)]
    pub description: Option<String>,
    /// Directory of wheels/sdists (pypi) or npm tarballs (`.tgz`) served read-only (not for
    /// maven).
    #[serde(default)]
    pub packages_dir: Option<PathBuf>,
    /// Small packages generated at start-up (a pure-Python wheel, an npm tarball, or a Maven
    /// jar and pom: `name` is then `groupId:artifactId`).
    #[serde(default)]
    pub packages: Vec<SyntheticPackage>,
}

/// A package the emulator builds itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct SyntheticPackage {
    pub name: String,
    pub version: String,
}

/// CodeArtifact package formats.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Npm,
    Pypi,
    Maven,
    Nuget,
    Generic,
    Ruby,
    Swift,
    Cargo,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Npm,
        Format::Pypi,
        Format::Maven,
        Format::Nuget,
        Format::Generic,
        Format::Ruby,
        Format::Swift,
        Format::Cargo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Npm => "npm",
            Format::Pypi => "pypi",
            Format::Maven => "maven",
            Format::Nuget => "nuget",
            Format::Generic => "generic",
            Format::Ruby => "ruby",
            Format::Swift => "swift",
            Format::Cargo => "cargo",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fault switches, for testing clients' retries and refreshes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
pub struct Faults {
    /// Added to every control- and data-plane response.
    pub latency_ms: u64,
    /// Fraction (0.0..=1.0) of requests answered `500 InternalServerException`.
    pub error_rate: f64,
    /// Fraction (0.0..=1.0) of control-plane requests answered `429 ThrottlingException`.
    pub throttle_rate: f64,
    /// `Retry-After` seconds sent with throttling answers.
    pub retry_after_secs: u64,
    /// Caps every issued token's life to this many seconds (expiration reflects it).
    pub token_lifetime_secs: Option<u64>,
    /// GetAuthorizationToken answers 500 while set.
    pub token_endpoint_down: bool,
    /// Shifts the emulator's clock (seconds, may be negative) for clock-skew tests.
    pub clock_skew_secs: i64,
    /// Deterministic faults, for tests that count attempts or expect success after failures
    /// (the rates above are for soak runs). For each key, a pattern consumed one character
    /// per request: `E` answers 500 InternalServerException, `T` answers 429
    /// ThrottlingException (with `retry_after_secs`), `.` serves normally; past its end every
    /// request is served. Keys: a control-plane operation (`GetAuthorizationToken`,
    /// `GetRepositoryEndpoint`, `DescribeDomain`, `ListRepositoriesInDomain`), `*` for any
    /// control-plane operation without its own entry, `sts`, or `data` for the data plane.
    /// `{"GetAuthorizationToken": "EE"}` fails the next two token requests, then works.
    pub script: BTreeMap<String, String>,
}

/// The keys `faults.script` takes.
pub const SCRIPT_KEYS: [&str; 7] = [
    "GetAuthorizationToken",
    "GetRepositoryEndpoint",
    "DescribeDomain",
    "ListRepositoriesInDomain",
    "*",
    "sts",
    "data",
];

impl Faults {
    /// Checks the rates and the script; returns the offending key path and the reason.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (key, rate) in [
            ("faults.error_rate", self.error_rate),
            ("faults.throttle_rate", self.throttle_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err((key.into(), format!("{rate} is not between 0 and 1")));
            }
        }
        for (op, pattern) in &self.script {
            if !SCRIPT_KEYS.contains(&op.as_str()) {
                return Err((
                    format!("faults.script.{op}"),
                    format!(
                        "unknown operation (expected one of: {})",
                        SCRIPT_KEYS.join(", ")
                    ),
                ));
            }
            if let Some(c) = pattern.chars().find(|c| !matches!(c, 'E' | 'T' | '.')) {
                return Err((
                    format!("faults.script.{op}"),
                    format!("{c:?} in {pattern:?} is not a step (E: 500, T: 429, .: served)"),
                ));
            }
        }
        Ok(())
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn default_region() -> String {
    "us-east-1".to_string()
}

/// A configuration file could not be used; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: default_listen(),
            region: default_region(),
            access_keys: Vec::new(),
            domains: Vec::new(),
            faults: Faults::default(),
        }
    }
}

impl EmulatorConfig {
    /// Reads a YAML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let config: EmulatorConfig =
            serde_saphyr::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: first_line(&e.to_string()),
            })?;
        config
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid {
                path: path.to_path_buf(),
                key,
                message,
            })?;
        Ok(config)
    }

    /// A demo domain `demo` (owner 111122223333) with `pypi-store` (package `artoken-demo`),
    /// `npm-store` (package `artoken-demo`) and `maven-store` (`com.example:artoken-demo`).
    pub fn demo() -> Self {
        EmulatorConfig {
            domains: vec![DomainConfig {
                name: "demo".into(),
                owner: DEFAULT_ACCOUNT.into(),
                repositories: vec![
                    RepositoryConfig {
                        name: "pypi-store".into(),
                        format: Format::Pypi,
                        description: Some("demo PyPI repository".into()),
                        packages_dir: None,
                        packages: vec![SyntheticPackage {
                            name: "artoken-demo".into(),
                            version: "1.0.0".into(),
                        }],
                    },
                    RepositoryConfig {
                        name: "npm-store".into(),
                        format: Format::Npm,
                        description: Some("demo npm repository".into()),
                        packages_dir: None,
                        packages: vec![SyntheticPackage {
                            name: "artoken-demo".into(),
                            version: "1.0.0".into(),
                        }],
                    },
                    RepositoryConfig {
                        name: "maven-store".into(),
                        format: Format::Maven,
                        description: Some("demo Maven repository".into()),
                        packages_dir: None,
                        packages: vec![SyntheticPackage {
                            name: "com.example:artoken-demo".into(),
                            version: "1.0.0".into(),
                        }],
                    },
                ],
            }],
            ..EmulatorConfig::default()
        }
    }

    /// Checks names as AWS does; returns the offending key path and the reason.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, d) in self.domains.iter().enumerate() {
            if !valid_domain(&d.name) {
                return Err((
                    format!("domains[{i}].name"),
                    format!(
                        "{:?} is not a valid domain name (lowercase letters, digits and '-', 2 to 50 characters)",
                        d.name
                    ),
                ));
            }
            if !valid_owner(&d.owner) {
                return Err((
                    format!("domains[{i}].owner"),
                    format!("{:?} is not a 12-digit AWS account id", d.owner),
                ));
            }
            for (j, r) in d.repositories.iter().enumerate() {
                if !valid_repository(&r.name) {
                    return Err((
                        format!("domains[{i}].repositories[{j}].name"),
                        format!("{:?} is not a valid repository name", r.name),
                    ));
                }
                if d.repositories[..j].iter().any(|o| o.name == r.name) {
                    return Err((
                        format!("domains[{i}].repositories[{j}].name"),
                        format!("{:?} is there twice in domain {}", r.name, d.name),
                    ));
                }
                if let Some(dir) = r.packages_dir.as_ref().filter(|d| !d.is_dir()) {
                    return Err((
                        format!("domains[{i}].repositories[{j}].packages_dir"),
                        format!("{} is not a directory", dir.display()),
                    ));
                }
            }
        }
        for (i, k) in self.access_keys.iter().enumerate() {
            if k.id.is_empty() || k.secret.is_empty() {
                return Err((
                    format!("access_keys[{i}]"),
                    "id and secret must not be empty".into(),
                ));
            }
        }
        self.faults.validate()
    }

    /// The access keys in force (the configured ones, or the default example key).
    pub fn effective_access_keys(&self) -> Vec<AccessKey> {
        if self.access_keys.is_empty() {
            vec![AccessKey {
                id: DEFAULT_ACCESS_KEY_ID.into(),
                secret: DEFAULT_SECRET_ACCESS_KEY.into(),
                account: None,
                user: None,
                deny: Vec::new(),
            }]
        } else {
            self.access_keys.clone()
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// `[a-z][a-z0-9-]{0,48}[a-z0-9]`
pub fn valid_domain(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=50).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// 12 digits.
pub fn valid_owner(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

/// `[A-Za-z0-9][A-Za-z0-9._-]{1,99}`
pub fn valid_repository(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=100).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_as_aws_does() {
        assert!(valid_domain("my-domain2"));
        assert!(!valid_domain("My-domain"));
        assert!(!valid_domain("a"));
        assert!(!valid_domain("ab-"));
        assert!(valid_owner("012345678901"));
        assert!(!valid_owner("01234567890"));
        assert!(valid_repository("pypi-store.v1_x"));
        assert!(!valid_repository("-x"));
    }

    #[test]
    fn a_bad_file_names_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("emu.yml");
        std::fs::write(
            &p,
            "domains:\n  - name: Bad_Name\n    owner: '111122223333'\n",
        )
        .unwrap();
        let e = EmulatorConfig::from_file(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: domains[0].name:", p.display())),
            "{e}"
        );
        std::fs::write(&p, "domains:\n  - name: good\n    ownr: '111122223333'\n").unwrap();
        let e = EmulatorConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("ownr"), "{e}");
        assert!(e.contains("emu.yml"), "{e}");
    }
}
