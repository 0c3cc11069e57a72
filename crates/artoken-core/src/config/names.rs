//! Checks for values as AWS validates them: domain, owner, repository, region, role, duration.
//!
//! Each check returns the message that follows `file:line: key.path: ` in an error.

use crate::spec::{TokenDuration, parse_seconds};

use super::error::one_line;

fn all(s: &str, ok: impl Fn(char) -> bool) -> bool {
    s.chars().all(ok)
}

/// A CodeArtifact domain: `[a-z][a-z0-9-]{0,48}[a-z0-9]`.
pub(crate) fn domain(s: &str) -> Result<(), String> {
    let ok = (2..=50).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && all(s, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a CodeArtifact domain name (2 to 50 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen)",
            one_line(s)
        ))
    }
}

/// A domain owner: an AWS account id, 12 digits.
pub(crate) fn owner(s: &str) -> Result<(), String> {
    if s.len() == 12 && all(s, |c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an AWS account id (12 digits; quote it in YAML so leading zeros stay)",
            one_line(s)
        ))
    }
}

/// A CodeArtifact repository: `[A-Za-z0-9][A-Za-z0-9._-]{1,99}`.
pub(crate) fn repository(s: &str) -> Result<(), String> {
    let ok = (2..=100).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && all(s, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a CodeArtifact repository name (2 to 100 letters, digits, `.`, `_` and `-`, starting with a letter or digit)",
            one_line(s)
        ))
    }
}

/// A region such as `eu-west-1`: lowercase letters, digits and hyphens.
pub(crate) fn region(s: &str) -> Result<(), String> {
    let ok = s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && all(s, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an AWS region (like eu-west-1)",
            one_line(s)
        ))
    }
}

/// A role to assume: `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub(crate) fn role_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len()
        && !s.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a role ARN (like arn:aws:iam::012345678901:role/ci)",
            one_line(s)
        ))
    }
}

/// A profile name: anything without whitespace at its ends or control characters.
pub(crate) fn profile(s: &str) -> Result<(), String> {
    if s.trim() == s && !s.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(format!("`{}` is not a profile name", one_line(s)))
    }
}

/// The name a repository is configured under (`corp`): what the command line uses.
pub(crate) fn repository_key(s: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && all(s, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` cannot name a repository (up to 64 letters, digits, `.`, `_` and `-`, starting with a letter or digit)",
            one_line(s)
        ))
    }
}

/// An environment variable name: not empty, no `=`, no NUL.
pub(crate) fn env_var(s: &str) -> Result<(), String> {
    if !s.is_empty() && !s.contains(['=', '\0']) {
        Ok(())
    } else {
        Err(format!(
            "`{}` cannot name an environment variable",
            one_line(s)
        ))
    }
}

const DURATION_RANGE: &str = "15m to 12h, or session";

/// A token life from text: `session`, seconds (`3600`), or `12h`, `15m`, `1h30m`.
pub(crate) fn duration(text: &str) -> Result<TokenDuration, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("session") {
        return Ok(TokenDuration::Session);
    }
    let secs = parse_seconds(t).map_err(|e| one_line(&e))?;
    TokenDuration::from_seconds(secs).map_err(|_| {
        format!(
            "{} is outside what AWS accepts ({DURATION_RANGE})",
            one_line(t)
        )
    })
}

/// A token life from a YAML integer: seconds (0: the session).
pub(crate) fn duration_seconds(secs: i128) -> Result<TokenDuration, String> {
    u64::try_from(secs)
        .ok()
        .and_then(|s| TokenDuration::from_seconds(s).ok())
        .ok_or_else(|| format!("{secs} seconds is outside what AWS accepts ({DURATION_RANGE})"))
}

/// How long before expiry a token is refreshed: `15m`, `900`; at most 12 h.
pub(crate) fn refresh_before(text: &str) -> Result<u64, String> {
    let secs = parse_seconds(text.trim()).map_err(|e| one_line(&e))?;
    refresh_before_seconds(secs.into()).map_err(|_| {
        format!(
            "{} is longer than a token lives (12h at most)",
            one_line(text.trim())
        )
    })
}

pub(crate) fn refresh_before_seconds(secs: i128) -> Result<u64, String> {
    u64::try_from(secs)
        .ok()
        .filter(|&s| s <= TokenDuration::MAX_SECONDS)
        .ok_or_else(|| format!("{secs} seconds is not between 0 and 43200 (12h)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_as_aws_has_them() {
        for ok in ["corp", "a1", "my-domain-2", &"a".repeat(50)] {
            assert!(domain(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "Corp", "1corp", "corp-", "co_rp", &"a".repeat(51)] {
            assert!(domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn owners_are_twelve_digits() {
        assert!(owner("012345678901").is_ok());
        assert!(owner("12345678901").is_err());
        assert!(owner("01234567890a").is_err());
    }

    #[test]
    fn repositories_as_aws_has_them() {
        for ok in ["pypi-mirror", "My.Repo_2", "ab", &"a".repeat(100)] {
            assert!(repository(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "-repo", ".repo", "re po", &"a".repeat(101)] {
            assert!(repository(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions_roles_profiles_keys() {
        assert!(region("eu-west-1").is_ok());
        assert!(region("EU-WEST-1").is_err());
        assert!(role_arn("arn:aws:iam::012345678901:role/ci").is_ok());
        assert!(role_arn("arn:aws-cn:iam::012345678901:role/path/ci").is_ok());
        assert!(role_arn("arn:aws:iam::012345678901:user/me").is_err());
        assert!(role_arn("ci").is_err());
        assert!(profile("work").is_ok());
        assert!(profile(" work").is_err());
        assert!(repository_key("corp").is_ok());
        assert!(repository_key("wev:X").is_err());
        assert!(env_var("PIP_INDEX_URL").is_ok());
        assert!(env_var("A=B").is_err());
    }

    #[test]
    fn durations_and_their_messages() {
        assert_eq!(duration("12h"), Ok(TokenDuration::Seconds(43_200)));
        assert_eq!(duration("session"), Ok(TokenDuration::Session));
        assert_eq!(duration("0"), Ok(TokenDuration::Session));
        assert_eq!(
            duration("13h").unwrap_err(),
            "13h is outside what AWS accepts (15m to 12h, or session)"
        );
        assert!(duration("12x").unwrap_err().contains("invalid duration"));
        assert_eq!(duration_seconds(900), Ok(TokenDuration::Seconds(900)));
        assert_eq!(
            duration_seconds(60).unwrap_err(),
            "60 seconds is outside what AWS accepts (15m to 12h, or session)"
        );
        assert_eq!(refresh_before("15m"), Ok(900));
        assert!(refresh_before("13h").is_err());
        assert!(refresh_before_seconds(-1).is_err());
    }
}
