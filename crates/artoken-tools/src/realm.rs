//! Recognising CodeArtifact URLs: domain, owner, region, format and repository from an index URL.
//!
//! Recognised, with or without a scheme, userinfo, port or trailing path, and with a
//! `sparse+` prefix (cargo):
//!
//! - `https://{domain}-{owner}.d.codeartifact.{region}.amazonaws.com/{format}/{repo}/...`
//!   (also the dual-stack `...{region}.on.aws` and China's `...amazonaws.com.cn`), and the bare
//!   host name pip falls back to;
//! - the emulator's form, the same host name as the first path segment of a loopback URL:
//!   `http://127.0.0.1:PORT/{domain}-{owner}.d.codeartifact.{region}.amazonaws.com/{format}/{repo}/`.
//!
//! [`Realm::spec`] turns a recognised URL into the [`RepositorySpec`] to ask a token for: the
//! configured repository of that domain if there is one, else one built from the URL alone.

use std::collections::BTreeMap;

use artoken_core::{Format, RepositorySpec};

/// What a CodeArtifact URL says about its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    /// `{domain}-{owner}.d.codeartifact.{region}.amazonaws.com`.
    pub host: String,
    pub domain: String,
    /// The domain owner's 12-digit account.
    pub owner: String,
    pub region: String,
    /// From the path, when it names a known format and a repository.
    pub format: Option<Format>,
    pub repository: Option<String>,
    /// True for the emulator's loopback form.
    pub emulated: bool,
}

/// Recognises a CodeArtifact URL (or bare `host[:port]`); `None` for anything else.
pub fn parse(service: &str) -> Option<Realm> {
    let s = service.trim();
    let s = s.strip_prefix("sparse+").unwrap_or(s);
    let rest = match s.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") =>
        {
            rest
        }
        Some(_) => return None,
        None => s,
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    // Drop userinfo (`aws@`, `aws:x@`) and the port.
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = strip_port(hostport)?.to_ascii_lowercase();
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segments = path.split('/').filter(|p| !p.is_empty());

    if let Some(mut realm) = parse_host(&host) {
        realm.set_repository(segments.next(), segments.next());
        return Some(realm);
    }
    if is_loopback(&host) {
        let first = segments.next()?.to_ascii_lowercase();
        let mut realm = parse_host(&first)?;
        realm.emulated = true;
        realm.set_repository(segments.next(), segments.next());
        return Some(realm);
    }
    None
}

fn strip_port(hostport: &str) -> Option<&str> {
    if let Some(rest) = hostport.strip_prefix('[') {
        // [::1]:8080
        let (h, _) = rest.split_once(']')?;
        return Some(h);
    }
    let host = match hostport.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return None,
        None => hostport,
    };
    (!host.is_empty()).then_some(host)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || (host.starts_with("127.") && host.split('.').count() == 4)
}

/// `{domain}-{owner}.d.codeartifact.{region}.{amazonaws.com|amazonaws.com.cn|on.aws}`.
fn parse_host(host: &str) -> Option<Realm> {
    let host = host.trim_end_matches('.');
    let (prefix, rest) = host.split_once(".d.codeartifact.")?;
    let region = ["amazonaws.com", "amazonaws.com.cn", "on.aws"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix)?.strip_suffix('.'))?;
    let (domain, owner) = prefix.rsplit_once('-')?;
    if !valid_domain(domain) || !valid_owner(owner) || !valid_region(region) {
        return None;
    }
    Some(Realm {
        host: host.to_string(),
        domain: domain.to_string(),
        owner: owner.to_string(),
        region: region.to_string(),
        format: None,
        repository: None,
        emulated: false,
    })
}

/// AWS: `[a-z][a-z0-9-]{0,48}[a-z0-9]`.
fn valid_domain(d: &str) -> bool {
    let b = d.as_bytes();
    (2..=50).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

fn valid_owner(o: &str) -> bool {
    o.len() == 12 && o.bytes().all(|b| b.is_ascii_digit())
}

/// `eu-west-1`, `us-gov-west-1`, `cn-north-1`.
fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

/// AWS: `[A-Za-z0-9][A-Za-z0-9._-]{1,99}`.
fn valid_repository(r: &str) -> bool {
    let b = r.as_bytes();
    (2..=100).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

impl Realm {
    fn set_repository(&mut self, format: Option<&str>, repository: Option<&str>) {
        let (Some(format), Some(repository)) = (format, repository) else {
            return;
        };
        if let (Ok(f), true) = (format.parse::<Format>(), valid_repository(repository)) {
            self.format = Some(f);
            self.repository = Some(repository.to_string());
        }
    }

    /// The spec to ask a token for: the best configured repository of this domain (same
    /// owner and region, or none given), preferring the same repository and format, then the
    /// default; otherwise one built from the URL. Owner and region missing from a configured
    /// entry are filled in from the URL (it names them for certain).
    pub fn spec(
        &self,
        configured: &BTreeMap<String, RepositorySpec>,
        default: Option<&str>,
    ) -> RepositorySpec {
        let best = configured
            .iter()
            .filter_map(|(name, spec)| {
                self.score(spec, default == Some(name.as_str()))
                    .map(|s| (s, spec))
            })
            // max_by_key keeps the last of equals; iterate in reverse so the first name wins.
            .rev()
            .max_by_key(|(s, _)| *s)
            .map(|(_, spec)| spec);
        match best {
            Some(spec) => {
                let mut spec = spec.clone();
                spec.owner.get_or_insert_with(|| self.owner.clone());
                spec.region.get_or_insert_with(|| self.region.clone());
                spec
            }
            None => self.spec_from_url(),
        }
    }

    /// A spec built from the URL alone (no configuration at all).
    pub fn spec_from_url(&self) -> RepositorySpec {
        let name = self
            .repository
            .clone()
            .unwrap_or_else(|| self.domain.clone());
        let mut spec = RepositorySpec::new(name, self.domain.clone());
        spec.owner = Some(self.owner.clone());
        spec.region = Some(self.region.clone());
        spec.repository = self.repository.clone();
        if let Some(f) = self.format {
            spec.format = f;
        }
        spec
    }

    /// `None` when `spec` is for another domain; else how well it fits.
    fn score(&self, spec: &RepositorySpec, is_default: bool) -> Option<u8> {
        if spec.domain != self.domain {
            return None;
        }
        let owner = match &spec.owner {
            Some(o) if *o == self.owner => 2,
            Some(_) => return None,
            None => 0,
        };
        let region = match &spec.region {
            Some(r) if *r == self.region => 1,
            Some(_) => return None,
            None => 0,
        };
        let same_repo = self.repository.is_some() && spec.repository == self.repository;
        let same_format = self.format == Some(spec.format);
        Some(
            u8::from(same_repo) * 16
                + u8::from(same_format) * 8
                + owner * 2
                + region * 2
                + u8::from(is_default),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi-store/simple/";

    #[test]
    fn real_endpoints_are_recognised_with_any_path() {
        let r = parse(REAL).unwrap();
        assert_eq!(r.domain, "corp");
        assert_eq!(r.owner, "111122223333");
        assert_eq!(r.region, "eu-west-1");
        assert_eq!(r.format, Some(Format::Pypi));
        assert_eq!(r.repository.as_deref(), Some("pypi-store"));
        assert_eq!(
            r.host,
            "corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com"
        );
        assert!(!r.emulated);
        for u in [
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi-store/simple/requests/",
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi-store",
            "https://aws@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi-store/simple",
            "https://aws:secret@corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com:443/pypi/pypi-store/",
            "HTTPS://CORP-111122223333.D.CODEARTIFACT.EU-WEST-1.AMAZONAWS.COM/pypi/pypi-store/?x=1",
        ] {
            let r = parse(u).unwrap_or_else(|| panic!("{u}"));
            assert_eq!(
                (r.domain.as_str(), r.repository.as_deref()),
                ("corp", Some("pypi-store")),
                "{u}"
            );
        }
    }

    #[test]
    fn pips_host_fallback_and_cargos_sparse_index_are_recognised() {
        let r = parse("corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com").unwrap();
        assert_eq!((r.domain.as_str(), r.repository), ("corp", None));
        assert!(parse("corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com:443").is_some());
        let c = parse(
            "sparse+https://corp-111122223333.d.codeartifact.us-west-2.amazonaws.com/cargo/crates/",
        )
        .unwrap();
        assert_eq!(c.format, Some(Format::Cargo));
        assert_eq!(c.repository.as_deref(), Some("crates"));
        assert_eq!(c.region, "us-west-2");
    }

    #[test]
    fn domains_with_hyphens_and_digits_are_recognised() {
        for (url, domain) in [
            (
                "https://my-corp-2-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/repo/",
                "my-corp-2",
            ),
            (
                "https://a1-000000000000.d.codeartifact.us-east-1.amazonaws.com/",
                "a1",
            ),
            (
                "https://x-9-9-123456789012.d.codeartifact.ap-southeast-2.amazonaws.com/pypi/r9/simple/",
                "x-9-9",
            ),
            (
                "https://corp-111122223333.d.codeartifact.us-gov-west-1.amazonaws.com/",
                "corp",
            ),
            (
                "https://corp-111122223333.d.codeartifact.eu-west-1.on.aws/pypi/r/simple/",
                "corp",
            ),
            (
                "https://corp-111122223333.d.codeartifact.cn-north-1.amazonaws.com.cn/pypi/r/simple/",
                "corp",
            ),
        ] {
            let r = parse(url).unwrap_or_else(|| panic!("{url}"));
            assert_eq!(r.domain, domain, "{url}");
            assert_eq!(r.owner.len(), 12);
        }
        assert_eq!(
            parse(
                "https://my-corp-2-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/repo/"
            )
            .unwrap()
            .format,
            Some(Format::Npm)
        );
    }

    #[test]
    fn lookalikes_are_not_recognised() {
        for u in [
            "https://pypi.org/simple/",
            "pypi.org",
            "",
            "https://corp-11112222333.d.codeartifact.eu-west-1.amazonaws.com/", // 11 digits
            "https://corp-1111222233334.d.codeartifact.eu-west-1.amazonaws.com/", // 13 digits
            "https://corp111122223333.d.codeartifact.eu-west-1.amazonaws.com/", // no hyphen
            "https://-111122223333.d.codeartifact.eu-west-1.amazonaws.com/",
            "https://corp--111122223333.d.codeartifact.eu-west-1.amazonaws.com/",
            "https://Corp_x-111122223333.d.codeartifact.eu-west-1.amazonaws.com/",
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com.evil.example/",
            "https://corp-111122223333.d.codeartifact.eu-west-1.evil.example/",
            "https://evil.example/corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/r/",
            "ftp://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/",
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com:https/",
            "https://corp-111122223333.d.codeartifact.west.amazonaws.com/",
            "127.0.0.1:8080",
            "http://127.0.0.1:8080/simple/",
        ] {
            assert_eq!(parse(u), None, "{u}");
        }
    }

    #[test]
    fn the_emulators_urls_are_recognised_on_loopback_only() {
        let u = "http://127.0.0.1:41234/demo-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi-store/simple/";
        let r = parse(u).unwrap();
        assert!(r.emulated);
        assert_eq!(
            (r.domain.as_str(), r.owner.as_str(), r.region.as_str()),
            ("demo", "111122223333", "eu-west-1")
        );
        assert_eq!(r.repository.as_deref(), Some("pypi-store"));
        assert!(parse(&u.replace("127.0.0.1", "localhost")).is_some());
        assert!(parse(&u.replace("127.0.0.1", "aws@127.0.0.1")).is_some());
        assert!(parse(&u.replace("127.0.0.1:41234", "[::1]:41234")).is_some());
        assert!(
            parse(&format!(
                "sparse+{}",
                u.replace("/pypi/pypi-store/simple/", "/cargo/crates/")
            ))
            .is_some()
        );
        assert!(parse(&u.replace("127.0.0.1", "10.0.0.1")).is_none());
        assert!(parse("http://127.0.0.1:41234/").is_none());
    }

    #[test]
    fn unknown_formats_leave_the_repository_out() {
        let r = parse("https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/simple/x/")
            .unwrap();
        assert_eq!((r.format, r.repository), (None, None));
    }

    /// name, domain, owner, region, repository, format.
    type Entry<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Format,
    );

    fn configured(entries: &[Entry<'_>]) -> BTreeMap<String, RepositorySpec> {
        entries
            .iter()
            .map(|(name, domain, owner, region, repo, format)| {
                let mut s = RepositorySpec::new(*name, *domain);
                s.owner = owner.map(str::to_string);
                s.region = region.map(str::to_string);
                s.repository = repo.map(str::to_string);
                s.format = *format;
                s.profile = Some(format!("profile-{name}"));
                (name.to_string(), s)
            })
            .collect()
    }

    #[test]
    fn the_configured_repository_of_the_domain_is_used() {
        let realm = parse(REAL).unwrap();
        let repos = configured(&[
            (
                "js",
                "corp",
                Some("111122223333"),
                None,
                Some("npm-store"),
                Format::Npm,
            ),
            (
                "py",
                "corp",
                Some("111122223333"),
                None,
                Some("pypi-store"),
                Format::Pypi,
            ),
            (
                "other",
                "else",
                Some("111122223333"),
                None,
                Some("pypi-store"),
                Format::Pypi,
            ),
        ]);
        let spec = realm.spec(&repos, Some("js"));
        assert_eq!(spec.name, "py");
        assert_eq!(spec.profile.as_deref(), Some("profile-py"));
        assert_eq!(
            spec.region.as_deref(),
            Some("eu-west-1"),
            "region filled in from the URL"
        );
        // host-only: no repository in the URL, the default wins among equals
        let host = parse("corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com").unwrap();
        assert_eq!(host.spec(&repos, Some("js")).name, "js");
        assert_eq!(
            host.spec(&repos, None).name,
            "js",
            "first name wins among equals"
        );
    }

    #[test]
    fn another_owner_or_region_is_another_domain() {
        let realm = parse(REAL).unwrap();
        let repos = configured(&[
            ("a", "corp", Some("999999999999"), None, None, Format::Pypi),
            ("b", "corp", None, Some("us-east-1"), None, Format::Pypi),
        ]);
        let spec = realm.spec(&repos, None);
        assert_eq!(spec.name, "pypi-store", "built from the URL");
        assert_eq!(spec.profile, None);
        // no owner configured: the caller's account; the URL fills it in
        let repos = configured(&[("c", "corp", None, None, None, Format::Pypi)]);
        let spec = realm.spec(&repos, None);
        assert_eq!(
            (spec.name.as_str(), spec.owner.as_deref()),
            ("c", Some("111122223333"))
        );
    }

    #[test]
    fn with_no_config_the_url_is_enough() {
        let spec = parse(REAL).unwrap().spec(&BTreeMap::new(), None);
        assert_eq!(spec.domain, "corp");
        assert_eq!(spec.owner.as_deref(), Some("111122223333"));
        assert_eq!(spec.region.as_deref(), Some("eu-west-1"));
        assert_eq!(spec.repository.as_deref(), Some("pypi-store"));
        assert_eq!(spec.format, Format::Pypi);
        assert_eq!(spec.profile, None);
    }
}
