//! A repository specification: which CodeArtifact domain and repository, in which region, as whom.

use std::fmt;
use std::str::FromStr;

/// CodeArtifact package formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format {s:?} (expected one of: npm, pypi, maven, nuget, generic, ruby, swift, cargo)"
                )
            })
    }
}

/// How long a requested token lives: AWS's `durationSeconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenDuration {
    /// `0`: as long as the caller's role session (12 h for long-term credentials).
    Session,
    /// 900..=43200 seconds.
    Seconds(u64),
}

impl TokenDuration {
    pub const MIN_SECONDS: u64 = 900;
    pub const MAX_SECONDS: u64 = 43_200;

    /// The value sent as `duration` (0 for [`TokenDuration::Session`]).
    pub fn as_seconds(self) -> u64 {
        match self {
            TokenDuration::Session => 0,
            TokenDuration::Seconds(s) => s,
        }
    }

    /// Builds from seconds as AWS accepts them: 0, or 900..=43200.
    pub fn from_seconds(s: u64) -> Result<Self, String> {
        match s {
            0 => Ok(TokenDuration::Session),
            Self::MIN_SECONDS..=Self::MAX_SECONDS => Ok(TokenDuration::Seconds(s)),
            _ => Err(format!(
                "{s} seconds is outside what AWS accepts (0 for the session, or 900 to 43200 seconds: 15m to 12h)"
            )),
        }
    }
}

impl Default for TokenDuration {
    /// 12 hours, the longest AWS gives.
    fn default() -> Self {
        TokenDuration::Seconds(Self::MAX_SECONDS)
    }
}

impl FromStr for TokenDuration {
    type Err = String;
    /// `session`, seconds (`3600`), or units `h`, `m`, `s` combined (`12h`, `1h30m`, `900s`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("session") {
            return Ok(TokenDuration::Session);
        }
        TokenDuration::from_seconds(parse_seconds(t)?)
    }
}

impl fmt::Display for TokenDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenDuration::Session => f.write_str("session"),
            TokenDuration::Seconds(s) => f.write_str(&crate::human::duration(*s)),
        }
    }
}

/// Parses `3600`, `12h`, `15m`, `1h30m`, `90s` into seconds.
pub fn parse_seconds(t: &str) -> Result<u64, String> {
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(format!("invalid duration {t:?} (use e.g. 12h, 90m, 3600)")),
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid duration {t:?} (use e.g. 12h, 90m, 3600)"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        num.clear();
    }
    if !num.is_empty() {
        return Err(format!(
            "invalid duration {t:?} (a number needs a unit after another unit)"
        ));
    }
    Ok(total)
}

/// One configured repository (or, for wev-style entries, a domain only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepositorySpec {
    /// The name it is configured under (`corp`), used on the command line.
    pub name: String,
    pub domain: String,
    /// Domain owner account (12 digits); `None`: the caller's account.
    pub owner: Option<String>,
    /// `None`: from the profile or the environment.
    pub region: Option<String>,
    /// The repository; `None` for a token-only entry (tokens are per domain).
    pub repository: Option<String>,
    pub format: Format,
    /// AWS profile; `None`: the default credential chain.
    pub profile: Option<String>,
    /// A role to assume before asking for the token.
    pub role_arn: Option<String>,
    pub duration: TokenDuration,
    /// `token_file:`: the token is read from this file, never fetched (see [`crate::handed`]).
    pub token_file: Option<std::path::PathBuf>,
    /// `endpoint:`: where this repository's CodeArtifact API calls go (a VPC interface
    /// endpoint); `--endpoint-url` still wins.
    pub endpoint: Option<String>,
    /// `repository_endpoint:`: the `codeartifact.repositories` VPC endpoint whose URLs the
    /// helpers answer for (only when configured).
    pub repository_endpoint: Option<String>,
}

impl RepositorySpec {
    /// The repository's URL on its `repository_endpoint:` (a VPC endpoint), in AWS's path
    /// form `{endpoint}/{format}/d/{domain}-{owner}/{repository}/`, when the config names the
    /// endpoint, the owner and the repository.
    pub fn vpce_url(&self) -> Option<String> {
        let base = self.repository_endpoint.as_deref()?.trim_end_matches('/');
        Some(format!(
            "{base}/{}/d/{}-{}/{}/",
            self.format,
            self.domain,
            self.owner.as_deref()?,
            self.repository.as_deref()?
        ))
    }

    /// A spec with defaults for everything but the name and domain.
    pub fn new(name: impl Into<String>, domain: impl Into<String>) -> Self {
        RepositorySpec {
            name: name.into(),
            domain: domain.into(),
            owner: None,
            region: None,
            repository: None,
            format: Format::Pypi,
            profile: None,
            role_arn: None,
            duration: TokenDuration::default(),
            token_file: None,
            endpoint: None,
            repository_endpoint: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_people_write_them() {
        assert_eq!("12h".parse(), Ok(TokenDuration::Seconds(43_200)));
        assert_eq!("1h30m".parse(), Ok(TokenDuration::Seconds(5_400)));
        assert_eq!("900".parse(), Ok(TokenDuration::Seconds(900)));
        assert_eq!("session".parse(), Ok(TokenDuration::Session));
        assert_eq!("0".parse(), Ok(TokenDuration::Session));
        assert!(
            "10m"
                .parse::<TokenDuration>()
                .unwrap_err()
                .contains("900 to 43200")
        );
        assert!("13h".parse::<TokenDuration>().is_err());
        assert!("12x".parse::<TokenDuration>().is_err());
        assert!("1h30".parse::<TokenDuration>().is_err());
    }

    #[test]
    fn a_vpc_endpoint_url_needs_the_endpoint_owner_and_repository() {
        let mut s = RepositorySpec::new("corp", "corp");
        s.repository_endpoint =
            Some("https://vpce-0abc-xyz.d.codeartifact.eu-west-1.vpce.amazonaws.com/".into());
        assert_eq!(s.vpce_url(), None, "no owner");
        s.owner = Some("111122223333".into());
        assert_eq!(s.vpce_url(), None, "no repository");
        s.repository = Some("pypi-store".into());
        assert_eq!(
            s.vpce_url().as_deref(),
            Some(
                "https://vpce-0abc-xyz.d.codeartifact.eu-west-1.vpce.amazonaws.com/pypi/d/corp-111122223333/pypi-store/"
            )
        );
    }

    #[test]
    fn formats_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert!("pip".parse::<Format>().unwrap_err().contains("pypi"));
    }
}
