//! May this URL get a token? The one place the keyring helper and the cargo credential provider decide, on `url::Url`.
//!
//! The rule (uv-auth's `Realm` is the model: scheme, host and port, exact equality). A token
//! goes only to
//!
//! - `https`, the default port and the exact host of a configured domain's repositories:
//!   `{domain}-{owner}.d.codeartifact.{region}.amazonaws.com` (also the dual-stack
//!   `...{region}.on.aws` and China's `...amazonaws.com.cn`), with any path and no query or
//!   fragment; a user name in the URL (`aws@`) is only the user, the host decides;
//! - `https`, the default port and the exact host of a repository's configured
//!   `repository_endpoint:` (a `codeartifact.repositories` VPC interface endpoint without
//!   private DNS, `vpce-….d.codeartifact.{region}.vpce.amazonaws.com`), in AWS's path form
//!   `/{format}/d/{domain}-{owner}/{repo}/…`, for the repositories that name that endpoint
//!   only: a VPC endpoint host nobody configured gets nothing;
//! - the emulator's path form, `http://127.0.0.1:PORT/{that host}/{format}/{repo}/...`, only
//!   when the endpoint override (`--endpoint-url`, `AWS_ENDPOINT_URL_CODEARTIFACT`,
//!   `AWS_ENDPOINT_URL`) is that same origin (scheme, host, port) and its host is a loopback IP
//!   literal or exactly `localhost`.
//!
//! Configured means a repository of the loaded config (files, `ARTOKEN_*`, wev) of that domain,
//! with the same owner and region where it names them; cargo's `--repo NAME` picks one
//! ([`Trust::spec_for_named`]) and the URL must still be its host. Nothing is built from a URL
//! alone.
//!
//! [`ClientUrl`] reads a URL as the client writes it: [`ClientUrl::keyring`] (an index URL, or
//! pip's bare `host[:port]` fallback read as `https://host/`) and [`ClientUrl::cargo`] (an index
//! URL with cargo's `sparse+`). Text another URL reader could take for another host is refused
//! first ([`parse_url`]): anything but printable ASCII, a `\`, or a host written other than as
//! `url` reads it (percent-encoded, a trailing dot, `127.1`, ...).

use std::collections::BTreeMap;

use artoken_core::config::Config;
use artoken_core::{Format, RepositorySpec};
use url::{Host, Url};

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
    /// True for the emulator's loopback path form.
    pub emulated: bool,
    /// True for a VPC endpoint's path form (`host` is then the endpoint's).
    pub vpce: bool,
}

/// A URL a client asked about, parsed once, and the CodeArtifact host it names. Whether it
/// may get a token is [`Trust`]'s to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientUrl {
    url: Url,
    realm: Realm,
}

impl ClientUrl {
    /// The SERVICE of `keyring get`: an index URL, or pip's bare `host[:port]` fallback (read as
    /// `https://host[:port]/`). `None` for anything that names no CodeArtifact host.
    pub fn keyring(service: &str) -> Option<ClientUrl> {
        if service.contains("://") {
            return ClientUrl::new(parse_url(service)?);
        }
        // A bare host and port only: no user, path, query or fragment.
        if service.is_empty() || service.contains(['/', '@', '?', '#']) {
            return None;
        }
        ClientUrl::new(parse_url(&format!("https://{service}/"))?)
    }

    /// The `index-url` of a cargo request (`sparse+https://HOST/cargo/REPO/`).
    pub fn cargo(index_url: &str) -> Option<ClientUrl> {
        let url = index_url.strip_prefix("sparse+").unwrap_or(index_url);
        ClientUrl::new(parse_url(url)?)
    }

    fn new(url: Url) -> Option<ClientUrl> {
        if url.query().is_some() || url.fragment().is_some() {
            return None;
        }
        let mut segments = url.path_segments()?;
        let host = url.host()?;
        let mut realm = if is_loopback(&host) {
            // The emulator's form: the repository host is the first path segment.
            let mut realm = parse_host(segments.next()?)?;
            realm.emulated = true;
            realm
        } else if let Host::Domain(d) = host {
            match parse_host(d) {
                Some(realm) => realm,
                None => {
                    let realm = parse_vpce(d, segments)?;
                    return Some(ClientUrl { url, realm });
                }
            }
        } else {
            return None;
        };
        realm.set_repository(segments.next(), segments.next());
        Some(ClientUrl { url, realm })
    }

    pub fn realm(&self) -> &Realm {
        &self.realm
    }

    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// `text` parsed as an http(s) URL, or `None` when another URL reader could see another host
/// in it: anything but printable ASCII (IDNA, spaces, controls), a `\` (WHATWG ends the host
/// there, RFC 3986 readers such as Python's do not), or a host written other than as the parsed
/// URL serialises it (percent-encoding, `127.1`, `[0::1]`; ASCII case aside).
pub fn parse_url(text: &str) -> Option<Url> {
    if !text.bytes().all(|b| b.is_ascii_graphic()) || text.contains('\\') {
        return None;
    }
    let url = Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    written_host(text)?
        .eq_ignore_ascii_case(url.host_str()?)
        .then_some(url)
}

/// The host as written: after `://` and the userinfo (up to the last `@`), before the port,
/// `/`, `?` or `#` (RFC 3986's authority).
fn written_host(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hostport.starts_with('[') {
        return hostport.find(']').map(|end| &hostport[..=end]);
    }
    Some(hostport.split_once(':').map_or(hostport, |(h, _)| h))
}

/// A loopback IP literal, or exactly `localhost`.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(a) => a.is_loopback(),
        Host::Ipv6(a) => a.is_loopback(),
        Host::Domain(d) => *d == "localhost",
    }
}

/// Scheme, host and port (the default one filled in).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: Host<String>,
    port: u16,
}

impl Origin {
    fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_string(),
            host: url.host()?.to_owned(),
            port: url.port_or_known_default()?,
        })
    }
}

/// Which URLs get a token, and the spec to take it for: built once from the loaded config
/// and the endpoint override.
#[derive(Debug, Clone)]
pub struct Trust {
    repositories: BTreeMap<String, RepositorySpec>,
    default: Option<String>,
    /// The endpoint override's origin when it is a loopback address (an emulator).
    emulator: Option<Origin>,
}

impl Trust {
    /// `endpoint_override`: where AWS calls go (`--endpoint-url`, else
    /// `AWS_ENDPOINT_URL_CODEARTIFACT`, else `AWS_ENDPOINT_URL`).
    pub fn new(
        repositories: BTreeMap<String, RepositorySpec>,
        default: Option<&str>,
        endpoint_override: Option<&str>,
    ) -> Trust {
        let emulator = endpoint_override
            .and_then(|e| Url::parse(e).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .filter(|u| u.host().is_some_and(|h| is_loopback(&h)))
            .and_then(|u| Origin::of(&u));
        Trust {
            repositories,
            default: default.map(str::to_string),
            emulator,
        }
    }

    pub fn from_config(config: &Config, endpoint_override: Option<&str>) -> Trust {
        Trust::new(
            config.repositories.clone(),
            config.default.as_deref(),
            endpoint_override,
        )
    }

    /// True when `spec` names the VPC endpoint `host` as its `repository_endpoint`.
    fn names_vpce(spec: &RepositorySpec, host: &str) -> bool {
        spec.repository_endpoint
            .as_deref()
            .and_then(|e| Url::parse(e).ok())
            .is_some_and(|u| u.scheme() == "https" && u.host_str() == Some(host))
    }

    /// True when the URL's scheme, host and port may get a token for the host it names.
    fn origin_trusted(&self, asked: &ClientUrl) -> bool {
        let url = &asked.url;
        if asked.realm.vpce {
            url.scheme() == "https"
                && url.port_or_known_default() == Some(443)
                && self
                    .repositories
                    .values()
                    .any(|s| Trust::names_vpce(s, &asked.realm.host))
        } else if asked.realm.emulated {
            self.emulator
                .as_ref()
                .is_some_and(|o| Origin::of(url).as_ref() == Some(o))
        } else {
            url.scheme() == "https" && url.port_or_known_default() == Some(443)
        }
    }

    /// The spec to take a token for, for a URL a client asked about: the best configured
    /// repository of its domain (see [`Realm::spec`]); `None`: no token for this URL.
    pub fn spec_for(&self, asked: &ClientUrl) -> Option<RepositorySpec> {
        if !self.origin_trusted(asked) {
            return None;
        }
        if asked.realm.vpce {
            // Only the repositories that name this endpoint.
            let naming: BTreeMap<String, RepositorySpec> = self
                .repositories
                .iter()
                .filter(|(_, s)| Trust::names_vpce(s, &asked.realm.host))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect();
            return asked.realm.spec(&naming, self.default.as_deref());
        }
        asked
            .realm
            .spec(&self.repositories, self.default.as_deref())
    }

    /// The spec of configured repository `name` when the URL is its host; `None` otherwise
    /// (also for an unknown name: see [`Trust::has`]).
    pub fn spec_for_named(&self, name: &str, asked: &ClientUrl) -> Option<RepositorySpec> {
        if !self.origin_trusted(asked) {
            return None;
        }
        let spec = self.repositories.get(name)?;
        if asked.realm.vpce && !Trust::names_vpce(spec, &asked.realm.host) {
            return None;
        }
        asked.realm.score(spec, false)?;
        Some(asked.realm.filled(spec))
    }

    /// True when `name` is a configured repository.
    pub fn has(&self, name: &str) -> bool {
        self.repositories.contains_key(name)
    }

    /// The configured names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.repositories.keys().map(String::as_str).collect()
    }
}

/// `{domain}-{owner}.d.codeartifact.{region}.{amazonaws.com|amazonaws.com.cn|on.aws}`, exactly
/// (lowercase, no trailing dot).
fn parse_host(host: &str) -> Option<Realm> {
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
        vpce: false,
    })
}

/// A `codeartifact.repositories` VPC endpoint's URL, as AWS documents it:
/// `vpce-….d.codeartifact.{region}.vpce.amazonaws.com[.cn]/{format}/d/{domain}-{owner}/{repo}/…`.
/// Recognised only; [`Trust`] answers for it only when a repository names that endpoint.
fn parse_vpce<'a>(host: &str, mut segments: impl Iterator<Item = &'a str>) -> Option<Realm> {
    let (id, rest) = host.split_once(".d.codeartifact.")?;
    let region = [".vpce.amazonaws.com", ".vpce.amazonaws.com.cn"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))?;
    let id_ok = id.strip_prefix("vpce-").is_some_and(|i| {
        !i.is_empty()
            && i.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if !id_ok || !valid_region(region) {
        return None;
    }
    let format = segments.next()?.parse::<Format>().ok()?;
    if segments.next()? != "d" {
        return None;
    }
    let (domain, owner) = segments.next()?.rsplit_once('-')?;
    let repository = segments.next()?;
    if !valid_domain(domain) || !valid_owner(owner) || !valid_repository(repository) {
        return None;
    }
    Some(Realm {
        host: host.to_string(),
        domain: domain.to_string(),
        owner: owner.to_string(),
        region: region.to_string(),
        format: Some(format),
        repository: Some(repository.to_string()),
        emulated: false,
        vpce: true,
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

    /// The best configured repository of this domain (same owner and region, or none given),
    /// preferring the same repository and format, then the default; `None` when no repository
    /// of this domain is configured. Owner and region missing from the configured entry are
    /// filled in from the URL (it names them for certain).
    fn spec(
        &self,
        configured: &BTreeMap<String, RepositorySpec>,
        default: Option<&str>,
    ) -> Option<RepositorySpec> {
        configured
            .iter()
            .filter_map(|(name, spec)| {
                self.score(spec, default == Some(name.as_str()))
                    .map(|s| (s, spec))
            })
            // max_by_key keeps the last of equals; iterate in reverse so the first name wins.
            .rev()
            .max_by_key(|(s, _)| *s)
            .map(|(_, spec)| self.filled(spec))
    }

    fn filled(&self, spec: &RepositorySpec) -> RepositorySpec {
        let mut spec = spec.clone();
        spec.owner.get_or_insert_with(|| self.owner.clone());
        spec.region.get_or_insert_with(|| self.region.clone());
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

    const HOST: &str = "corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com";
    const REAL: &str =
        "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/pypi-store/simple/";
    /// The emulator's address in these tests.
    const EMU: &str = "http://127.0.0.1:41234";

    fn emu(url_path: &str) -> String {
        format!("{EMU}/{HOST}{url_path}")
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

    /// `corp` (owner 111122223333) configured as `py`; the emulator as the endpoint override.
    fn trust() -> Trust {
        Trust::new(
            configured(&[(
                "py",
                "corp",
                Some("111122223333"),
                None,
                Some("pypi-store"),
                Format::Pypi,
            )]),
            Some("py"),
            Some(EMU),
        )
    }

    fn keyring(t: &Trust, service: &str) -> Option<String> {
        t.spec_for(&ClientUrl::keyring(service)?).map(|s| s.name)
    }

    fn cargo(t: &Trust, index: &str) -> Option<String> {
        t.spec_for(&ClientUrl::cargo(index)?).map(|s| s.name)
    }

    fn assert_none(t: &Trust, services: &[String]) {
        for s in services {
            assert_eq!(keyring(t, s), None, "{s}");
            assert_eq!(cargo(t, &format!("sparse+{s}")), None, "{s}");
        }
    }

    #[test]
    fn the_configured_hosts_exact_https_urls_get_a_token() {
        let t = trust();
        for u in [
            REAL.to_string(),
            format!("https://{HOST}/pypi/pypi-store/simple/requests/"),
            format!("https://{HOST}/pypi/pypi-store"),
            format!("https://{HOST}/"),
            format!("https://{HOST}"),
            format!("https://aws@{HOST}/pypi/pypi-store/simple/"),
            format!("https://aws:secret@{HOST}:443/pypi/pypi-store/"),
            // DNS names are case-insensitive: the same host for every client
            format!("HTTPS://{}/pypi/pypi-store/simple/", HOST.to_uppercase()),
        ] {
            assert_eq!(keyring(&t, &u).as_deref(), Some("py"), "{u}");
        }
        // pip's host fallback, and cargo's sparse index
        assert_eq!(keyring(&t, HOST).as_deref(), Some("py"));
        assert_eq!(keyring(&t, &format!("{HOST}:443")).as_deref(), Some("py"));
        assert_eq!(
            cargo(&t, &format!("sparse+https://{HOST}/cargo/crates/")).as_deref(),
            Some("py")
        );
        let asked = ClientUrl::cargo(&format!("sparse+https://{HOST}/cargo/crates/")).unwrap();
        assert_eq!(asked.realm().format, Some(Format::Cargo));
        assert_eq!(asked.realm().repository.as_deref(), Some("crates"));
    }

    #[test]
    fn another_scheme_port_or_host_gets_nothing() {
        let t = trust();
        let path = "/pypi/pypi-store/simple/";
        assert_none(
            &t,
            &[
                // plain http to the real host
                format!("http://{HOST}{path}"),
                format!("http://{HOST}:443{path}"),
                format!("ftp://{HOST}{path}"),
                // a port that is not https's
                format!("https://{HOST}:8443{path}"),
                format!("https://{HOST}:80{path}"),
                // the real host as userinfo, or as a prefix of another host
                format!("https://{HOST}@evil.example{path}"),
                format!("https://aws:x@{HOST}@evil.example{path}"),
                format!("https://{HOST}.evil.example{path}"),
                format!("https://{HOST}.{path}"),
                format!("https://evil.example/{HOST}{path}"),
                format!("https://x{HOST}{path}"),
                // query and fragment
                format!("{REAL}?x=1"),
                format!("{REAL}?"),
                format!("{REAL}#frag"),
                format!("{REAL}#"),
                // \ ends the host for WHATWG, not for RFC 3986 readers (Python)
                format!("https://{HOST}\\@evil.example{path}"),
                format!("https://evil.example\\@{HOST}{path}"),
                // percent-encoding and IDNA in the host
                format!("https://{}{path}", HOST.replace(".d.", "%2Ed.")),
                format!("https://{}{path}", HOST.replace("corp", "%63orp")),
                format!("https://{}{path}", HOST.replace('.', "\u{FF0E}")),
                format!("https://{}{path}", HOST.replace("corp", "c\u{00F6}rp")),
                format!("https://{HOST}{path} "),
                format!(" https://{HOST}{path}"),
                format!("https://{HOST}/pypi/pypi\tstore/simple/"),
            ],
        );
        // pip's bare host: only `host[:port]`, read as https
        for s in [
            format!("{HOST}:8443"),
            format!("{HOST}."),
            format!("aws@{HOST}"),
            format!("{HOST}/pypi/pypi-store/simple/"),
            format!("{HOST}?x"),
            format!("{HOST}.evil.example"),
            String::new(),
        ] {
            assert_eq!(keyring(&t, &s), None, "{s}");
        }
        // `sparse+` is cargo's, and only as a prefix
        assert_eq!(keyring(&t, &format!("sparse+{REAL}")), None);
        assert_eq!(cargo(&t, &format!("SPARSE+{REAL}")), None);
        assert_eq!(cargo(&t, &format!("sparse+sparse+{REAL}")), None);
    }

    #[test]
    fn unconfigured_domains_owners_and_regions_get_nothing() {
        let t = Trust::new(
            configured(&[
                (
                    "py",
                    "corp",
                    Some("111122223333"),
                    Some("eu-west-1"),
                    None,
                    Format::Pypi,
                ),
                ("any", "team", None, None, None, Format::Pypi),
            ]),
            None,
            None,
        );
        assert_eq!(keyring(&t, REAL).as_deref(), Some("py"));
        for u in [
            REAL.replace("corp-", "other-"),
            REAL.replace("111122223333", "999999999999"),
            REAL.replace("eu-west-1", "us-east-1"),
        ] {
            assert_eq!(keyring(&t, &u), None, "{u}");
        }
        // no owner or region configured: the URL names them
        let spec = t
            .spec_for(&ClientUrl::keyring(&REAL.replace("corp-", "team-")).unwrap())
            .unwrap();
        assert_eq!(
            (
                spec.name.as_str(),
                spec.owner.as_deref(),
                spec.region.as_deref()
            ),
            ("any", Some("111122223333"), Some("eu-west-1"))
        );
        // nothing configured: nothing at all
        let empty = Trust::new(BTreeMap::new(), None, Some(EMU));
        assert_eq!(keyring(&empty, REAL), None);
        assert_eq!(keyring(&empty, &emu("/pypi/pypi-store/simple/")), None);
    }

    #[test]
    fn the_emulators_path_form_only_at_the_endpoint_override() {
        let t = trust();
        let u = emu("/pypi/pypi-store/simple/");
        let asked = ClientUrl::keyring(&u).unwrap();
        assert!(asked.realm().emulated);
        assert_eq!(asked.realm().repository.as_deref(), Some("pypi-store"));
        assert_eq!(keyring(&t, &u).as_deref(), Some("py"));
        assert_eq!(
            keyring(&t, &u.replace("http://", "http://aws@")).as_deref(),
            Some("py")
        );
        assert_eq!(
            cargo(&t, &format!("sparse+{}", emu("/cargo/crates/"))).as_deref(),
            Some("py")
        );
        let path = format!("/{HOST}/pypi/pypi-store/simple/");
        assert_none(
            &t,
            &[
                // another port, host or scheme than the override
                format!("http://127.0.0.1:41235{path}"),
                format!("http://127.0.0.1{path}"),
                format!("https://127.0.0.1:41234{path}"),
                format!("http://localhost:41234{path}"),
                format!("http://[::1]:41234{path}"),
                format!("http://127.0.0.2:41234{path}"),
                // DNS names that look like loopback addresses, and other addresses
                format!("http://127.evil.example.com:41234{path}"),
                format!("http://127.0.0.1.nip.io:41234{path}"),
                format!("http://localhost.evil:41234{path}"),
                format!("http://10.0.0.1:41234{path}"),
                // the same address written otherwise
                format!("http://127.1:41234{path}"),
                format!("http://2130706433:41234{path}"),
                format!("http://0x7f.0.0.1:41234{path}"),
                // the host must be the first segment, exactly
                format!("{EMU}/x{path}"),
                format!("{EMU}/{}/pypi/pypi-store/simple/", HOST.to_uppercase()),
                format!("{EMU}/{HOST}./pypi/pypi-store/simple/"),
                format!("{EMU}/{HOST}.evil.example/pypi/pypi-store/simple/"),
                format!("{EMU}/"),
                format!("{EMU}{path}?x"),
                format!("{EMU}{path}#x"),
            ],
        );
        // no override, or one that is not loopback: no path form at all
        for endpoint in [
            None,
            Some("http://10.0.0.1:41234"),
            Some("http://127.evil.example.com:41234"),
            Some("https://codeartifact.eu-west-1.amazonaws.com"),
            Some("not a url"),
        ] {
            let t = Trust::new(trust().repositories, None, endpoint);
            assert_eq!(keyring(&t, &u), None, "{endpoint:?}");
            assert_eq!(keyring(&t, REAL).as_deref(), Some("py"), "{endpoint:?}");
        }
    }

    #[test]
    fn ipv6_and_localhost_overrides_are_their_own_origin() {
        let repos = trust().repositories;
        let path = format!("/{HOST}/pypi/pypi-store/simple/");
        let v6 = Trust::new(repos.clone(), None, Some("http://[::1]:41234/"));
        assert_eq!(
            keyring(&v6, &format!("http://[::1]:41234{path}")).as_deref(),
            Some("py")
        );
        assert_eq!(keyring(&v6, &format!("http://127.0.0.1:41234{path}")), None);
        assert_eq!(keyring(&v6, &format!("http://[::1]:41235{path}")), None);
        assert_eq!(
            keyring(&v6, &format!("http://[0:0:0:0:0:0:0:1]:41234{path}")),
            None
        );
        let local = Trust::new(repos, None, Some("http://localhost:41234"));
        assert_eq!(
            keyring(&local, &format!("http://localhost:41234{path}")).as_deref(),
            Some("py")
        );
        assert_eq!(
            keyring(&local, &format!("http://LOCALHOST:41234{path}")).as_deref(),
            Some("py")
        );
        assert_eq!(
            keyring(&local, &format!("http://127.0.0.1:41234{path}")),
            None
        );
        assert_eq!(
            keyring(&local, &format!("http://localhost.:41234{path}")),
            None
        );
    }

    #[test]
    fn a_named_repository_needs_its_own_host() {
        let t = Trust::new(
            configured(&[
                (
                    "py",
                    "corp",
                    Some("111122223333"),
                    None,
                    Some("pypi-store"),
                    Format::Pypi,
                ),
                ("js", "corp", None, None, Some("npm-store"), Format::Npm),
                ("else", "else", None, None, None, Format::Pypi),
            ]),
            Some("py"),
            Some(EMU),
        );
        let named = |name: &str, index: &str| {
            t.spec_for_named(name, &ClientUrl::cargo(index)?)
                .map(|s| s.name)
        };
        let index = format!("sparse+https://{HOST}/cargo/crates/");
        assert_eq!(named("js", &index).as_deref(), Some("js"));
        assert_eq!(named("py", &index).as_deref(), Some("py"));
        assert_eq!(
            named("js", &format!("sparse+{}", emu("/cargo/crates/"))).as_deref(),
            Some("js")
        );
        assert_eq!(named("else", &index), None, "another domain's host");
        assert_eq!(named("nope", &index), None);
        assert!(!t.has("nope") && t.has("js"));
        assert_eq!(
            named("py", "sparse+https://crates.example.com/index/"),
            None
        );
        assert_eq!(named("py", &index.replace("https://", "http://")), None);
        assert_eq!(
            named(
                "py",
                &format!("sparse+http://127.0.0.1:1/{HOST}/cargo/crates/")
            ),
            None
        );
    }

    #[test]
    fn domains_with_hyphens_and_digits_and_every_partition_are_recognised() {
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
            let asked = ClientUrl::keyring(url).unwrap_or_else(|| panic!("{url}"));
            assert_eq!(asked.realm().domain, domain, "{url}");
            assert_eq!(asked.realm().owner.len(), 12);
            let t = Trust::new(
                configured(&[("x", domain, None, None, None, Format::Npm)]),
                None,
                None,
            );
            assert_eq!(keyring(&t, url).as_deref(), Some("x"), "{url}");
        }
        let asked = ClientUrl::keyring(
            "https://my-corp-2-111122223333.d.codeartifact.eu-west-1.amazonaws.com/npm/repo/",
        )
        .unwrap();
        assert_eq!(asked.realm().format, Some(Format::Npm));
    }

    #[test]
    fn vpc_endpoint_urls_are_read_in_aws_path_form() {
        let host = "vpce-0abc-xyz1.d.codeartifact.eu-west-1.vpce.amazonaws.com";
        let asked = ClientUrl::keyring(&format!(
            "https://{host}/npm/d/corp-111122223333/npm-store/"
        ))
        .unwrap();
        let r = asked.realm();
        assert!(r.vpce && !r.emulated);
        assert_eq!(
            (
                r.host.as_str(),
                r.domain.as_str(),
                r.owner.as_str(),
                r.region.as_str(),
                r.format,
                r.repository.as_deref()
            ),
            (
                host,
                "corp",
                "111122223333",
                "eu-west-1",
                Some(Format::Npm),
                Some("npm-store")
            )
        );
        for path in [
            "/",
            "/npm/corp-111122223333/npm-store/",
            "/npm/x/corp-111122223333/npm-store/",
            "/nope/d/corp-111122223333/npm-store/",
            "/npm/d/corp-1111/npm-store/",
            "/npm/d/corp-111122223333/",
        ] {
            assert_eq!(
                ClientUrl::keyring(&format!("https://{host}{path}")),
                None,
                "{path}"
            );
        }
        for h in [
            "vpce-.d.codeartifact.eu-west-1.vpce.amazonaws.com",
            "vpc-0abc.d.codeartifact.eu-west-1.vpce.amazonaws.com",
            "vpce-0abc.api.codeartifact.eu-west-1.vpce.amazonaws.com",
            "vpce-0abc.d.codeartifact.eu-west-1.vpce.amazonaws.com.evil.example",
            "vpce-0abc.d.codeartifact.west.vpce.amazonaws.com",
        ] {
            let u = format!("https://{h}/npm/d/corp-111122223333/npm-store/");
            assert_eq!(ClientUrl::keyring(&u), None, "{u}");
        }
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
            "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com:https/",
            "https://corp-111122223333.d.codeartifact.west.amazonaws.com/",
            "127.0.0.1:8080",
            "http://127.0.0.1:8080/simple/",
        ] {
            assert_eq!(ClientUrl::keyring(u), None, "{u}");
        }
    }

    #[test]
    fn unknown_formats_leave_the_repository_out() {
        let asked = ClientUrl::keyring(&format!("https://{HOST}/simple/x/")).unwrap();
        assert_eq!(
            (asked.realm().format, asked.realm().repository.clone()),
            (None, None)
        );
    }

    #[test]
    fn the_best_configured_repository_of_the_domain_is_used() {
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
        let t = Trust::new(repos.clone(), Some("js"), None);
        let spec = t.spec_for(&ClientUrl::keyring(REAL).unwrap()).unwrap();
        assert_eq!(spec.name, "py");
        assert_eq!(spec.profile.as_deref(), Some("profile-py"));
        assert_eq!(
            spec.region.as_deref(),
            Some("eu-west-1"),
            "region filled in from the URL"
        );
        // host-only: no repository in the URL, the default wins among equals
        assert_eq!(keyring(&t, HOST).as_deref(), Some("js"));
        let t = Trust::new(repos, None, None);
        assert_eq!(
            keyring(&t, HOST).as_deref(),
            Some("js"),
            "first name wins among equals"
        );
    }

    #[test]
    fn parse_url_refuses_text_other_readers_see_another_host_in() {
        assert!(parse_url(REAL).is_some());
        assert!(parse_url("https://aws:a%2Fb@h.example/x").is_some());
        assert_eq!(written_host("https://a@b@c:1/x@y"), Some("c"));
        assert_eq!(written_host("http://[::1]:8/"), Some("[::1]"));
        for u in [
            "https://h.example\\@evil/",
            "https://h%2Eexample/",
            "https://H\u{0130}.example/",
            "http://127.1/",
            "http://[0::1]/",
            "file:///etc/passwd",
            "https://",
            "https:/h.example/",
            "https:h.example/",
        ] {
            assert_eq!(parse_url(u), None, "{u}");
        }
    }
}
