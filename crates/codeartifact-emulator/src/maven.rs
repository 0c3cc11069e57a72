//! Maven data plane: artifact files, generated `maven-metadata.xml`, checksums, deploy (PUT).
//!
//! Layout (a Maven 2 repository, as CodeArtifact serves it under the endpoint):
//! `{group/path}/{artifactId}/{version}/{artifactId}-{version}[-classifier].{ext}` for files,
//! `{group/path}/{artifactId}/maven-metadata.xml` for the artifact's versions (generated from
//! what is stored: `latest`, `release`, `versions`, `lastUpdated`), and
//! `{group/path}/{artifactId}/{version}-SNAPSHOT/maven-metadata.xml` for a snapshot (kept as
//! uploaded). Every file and metadata document has `.md5`, `.sha1`, `.sha256` and `.sha512`
//! beside it, computed from the bytes served.
//!
//! `mvn deploy` uploads each file, then its checksums, then the metadata and its checksums.
//! A checksum upload must match the file it names (`400` otherwise); an uploaded
//! artifact-level `maven-metadata.xml` must name the path's groupId and artifactId and is kept
//! only to check its checksums (the metadata served is the emulator's own). A release
//! version's files are immutable: uploading other bytes under an existing name answers
//! `409 Conflict` (the same bytes again: `200`); `-SNAPSHOT` versions may be overwritten.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::config::RepositoryConfig;
use crate::state::{Repository, State};
use crate::synth;

/// Largest upload accepted.
const MAX_UPLOAD: usize = 256 << 20;
/// Largest artifact-level `maven-metadata.xml` accepted.
const MAX_METADATA: usize = 1 << 20;

const METADATA: &str = "maven-metadata.xml";
const SNAPSHOT: &str = "-SNAPSHOT";

/// The checksum files served beside every file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Checksum {
    pub const ALL: [Checksum; 4] = [
        Checksum::Md5,
        Checksum::Sha1,
        Checksum::Sha256,
        Checksum::Sha512,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            Checksum::Md5 => "md5",
            Checksum::Sha1 => "sha1",
            Checksum::Sha256 => "sha256",
            Checksum::Sha512 => "sha512",
        }
    }

    /// Lowercase hex digest of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            Checksum::Md5 => hex::encode(<md5::Md5 as md5::Digest>::digest(data)),
            Checksum::Sha1 => hex::encode(Sha1::digest(data)),
            Checksum::Sha256 => hex::encode(Sha256::digest(data)),
            Checksum::Sha512 => hex::encode(Sha512::digest(data)),
        }
    }

    /// `file.jar.sha1` -> (`file.jar`, Sha1).
    fn split(name: &str) -> Option<(&str, Checksum)> {
        let (base, ext) = name.rsplit_once('.')?;
        let kind = Checksum::ALL.into_iter().find(|c| c.extension() == ext)?;
        (!base.is_empty()).then_some((base, kind))
    }
}

/// One version's files, by file name.
#[derive(Default)]
struct Version {
    files: BTreeMap<String, Bytes>,
}

#[derive(Default)]
struct Artifact {
    versions: BTreeMap<String, Version>,
    /// `yyyyMMddHHmmss` (UTC) of the last change.
    last_updated: String,
    /// The last artifact-level `maven-metadata.xml` uploaded, to check its checksums against.
    uploaded_metadata: Option<Bytes>,
}

/// The artifacts of one Maven repository, by (groupId, artifactId).
#[derive(Default)]
pub struct Store {
    artifacts: BTreeMap<(String, String), Artifact>,
}

impl Store {
    /// Builds the synthetic `packages` (`name` is `groupId:artifactId`: a jar and its pom).
    pub fn load(config: &RepositoryConfig) -> Result<Store, String> {
        if config.packages_dir.is_some() {
            return Err(
                "packages_dir is not supported for maven repositories (use packages)".into(),
            );
        }
        let mut store = Store::default();
        let now = timestamp(SystemTime::now());
        for p in &config.packages {
            let a = synth::maven_artifact(&p.name, &p.version)?;
            let art = store
                .artifacts
                .entry((a.group_id.clone(), a.artifact_id.clone()))
                .or_default();
            if art.versions.contains_key(&p.version) {
                return Err(format!("{}:{} is there twice", p.name, p.version));
            }
            let files = &mut art.versions.entry(p.version.clone()).or_default().files;
            let stem = format!("{}-{}", a.artifact_id, p.version);
            files.insert(format!("{stem}.pom"), Bytes::from(a.pom));
            files.insert(format!("{stem}.jar"), Bytes::from(a.jar));
            art.last_updated = now.clone();
        }
        Ok(store)
    }
}

/// `yyyyMMddHHmmss` (UTC), the format of `<lastUpdated>`.
fn timestamp(t: SystemTime) -> String {
    synth::iso8601(t)
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect()
}

/// What a request path under the endpoint names.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    /// `{group}/{artifact}/maven-metadata.xml`
    Metadata { group: String, artifact: &'a str },
    /// `{group}/{artifact}/{version}/{file}` (a snapshot's `maven-metadata.xml` included)
    File {
        group: String,
        artifact: &'a str,
        version: &'a str,
        file: &'a str,
    },
}

/// Parses `rest` into a target and, for `*.sha1` and the like, the checksum asked for.
fn parse(rest: &str) -> Option<(Target<'_>, Option<Checksum>)> {
    let segs: Vec<&str> = rest.split('/').collect();
    let (last, dirs) = segs.split_last()?;
    let (name, checksum) = match Checksum::split(last) {
        Some((base, c)) => (base, Some(c)),
        None => (*last, None),
    };
    if !dirs.iter().all(|s| synth::valid_maven_part(s)) || !synth::valid_maven_part(name) {
        return None;
    }
    let group = |parts: &[&str]| (!parts.is_empty()).then(|| parts.join("."));
    let target = match dirs {
        [g @ .., artifact, version]
            if version.ends_with(SNAPSHOT) && !g.is_empty() && name == METADATA =>
        {
            Target::File {
                group: group(g)?,
                artifact,
                version,
                file: name,
            }
        }
        [g @ .., artifact] if name == METADATA => Target::Metadata {
            group: group(g)?,
            artifact,
        },
        [g @ .., artifact, version] => {
            let stem = match version.strip_suffix(SNAPSHOT) {
                Some(base) => format!("{artifact}-{base}-"),
                None => format!("{artifact}-{version}"),
            };
            let rest = name.strip_prefix(&stem)?;
            let ok = version.ends_with(SNAPSHOT) || rest.starts_with(['.', '-']);
            if !ok || rest.len() < 2 {
                return None;
            }
            Target::File {
                group: group(g)?,
                artifact,
                version,
                file: name,
            }
        }
        _ => return None,
    };
    Some((target, checksum))
}

fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("pom" | "xml") => "application/xml",
        Some("jar" | "war" | "ear") => "application/java-archive",
        Some("md5" | "sha1" | "sha256" | "sha512" | "asc") => "text/plain",
        _ => "application/octet-stream",
    }
}

fn serve(name: &str, bytes: Bytes, head: bool) -> Response {
    let len = bytes.len().to_string();
    let etag = format!("\"{}\"", Checksum::Sha1.hex(&bytes));
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type(name).to_string()),
            (header::CONTENT_LENGTH, len),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

fn lock(repo: &Repository) -> std::sync::MutexGuard<'_, Store> {
    repo.maven.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves `rest` (the path after the repository endpoint).
pub async fn handle(state: &State, repo: &Repository, rest: &str, req: Request) -> Response {
    let method = req.method().clone();
    let read = method == Method::GET || method == Method::HEAD;
    if !(read || method == Method::PUT) {
        state.record("maven:unsupported");
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD, PUT")],
            format!("{method} is not supported here\n"),
        )
            .into_response();
    }
    let Some((target, checksum)) = parse(rest) else {
        state.record("maven:unknown-path");
        return text(
            StatusCode::NOT_FOUND,
            "not found: the Maven endpoint serves {group/path}/{artifactId}/{version}/{file} and \
             {group/path}/{artifactId}/maven-metadata.xml",
        );
    };
    let route = match (read, &target, checksum) {
        (true, _, Some(_)) => "maven:checksum",
        (true, Target::Metadata { .. }, None) => "maven:metadata",
        (true, Target::File { .. }, None) => "maven:get",
        (false, _, Some(_)) => "maven:put-checksum",
        (false, Target::Metadata { .. }, None) => "maven:put-metadata",
        (false, Target::File { .. }, None) => "maven:put",
    };
    state.record(route);
    if read {
        return match (current(repo, &target), checksum) {
            (Some(bytes), None) => serve(target_name(&target), bytes, method == Method::HEAD),
            (Some(bytes), Some(c)) => {
                let name = format!("{}.{}", target_name(&target), c.extension());
                serve(&name, Bytes::from(c.hex(&bytes)), method == Method::HEAD)
            }
            (None, _) => text(StatusCode::NOT_FOUND, &format!("not found: {rest}")),
        };
    }
    let limit = match target {
        Target::Metadata { .. } => MAX_METADATA,
        Target::File { .. } => MAX_UPLOAD,
    };
    let body = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(e) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("cannot read the upload of {rest}: {e}"),
            );
        }
    };
    match checksum {
        Some(c) => put_checksum(repo, &target, c, &body),
        None => match &target {
            Target::Metadata { group, artifact } => put_metadata(repo, group, artifact, body),
            Target::File {
                group,
                artifact,
                version,
                file,
            } => put_file(repo, group, artifact, version, file, body),
        },
    }
}

fn target_name<'a>(t: &'a Target<'_>) -> &'a str {
    match t {
        Target::Metadata { .. } => METADATA,
        Target::File { file, .. } => file,
    }
}

/// The bytes a GET of `target` serves now.
fn current(repo: &Repository, target: &Target<'_>) -> Option<Bytes> {
    let store = lock(repo);
    match target {
        Target::Metadata { group, artifact } => {
            let art = store
                .artifacts
                .get(&(group.clone(), artifact.to_string()))?;
            Some(Bytes::from(metadata_xml(group, artifact, art)))
        }
        Target::File {
            group,
            artifact,
            version,
            file,
        } => store
            .artifacts
            .get(&(group.clone(), artifact.to_string()))?
            .versions
            .get(*version)?
            .files
            .get(*file)
            .cloned(),
    }
}

/// The artifact-level `maven-metadata.xml`: every stored version, oldest first.
fn metadata_xml(group: &str, artifact: &str, art: &Artifact) -> String {
    let mut versions: Vec<&str> = art.versions.keys().map(String::as_str).collect();
    versions.sort_by(|a, b| synth::version_cmp(a, b));
    let latest = versions.last().copied();
    let release = versions
        .iter()
        .rev()
        .find(|v| !v.ends_with(SNAPSHOT))
        .copied();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n  <groupId>{group}</groupId>\n  \
         <artifactId>{artifact}</artifactId>\n  <versioning>\n"
    );
    if let Some(v) = latest {
        xml.push_str(&format!("    <latest>{v}</latest>\n"));
    }
    if let Some(v) = release {
        xml.push_str(&format!("    <release>{v}</release>\n"));
    }
    xml.push_str("    <versions>\n");
    for v in &versions {
        xml.push_str(&format!("      <version>{v}</version>\n"));
    }
    xml.push_str(&format!(
        "    </versions>\n    <lastUpdated>{}</lastUpdated>\n  </versioning>\n</metadata>\n",
        art.last_updated
    ));
    xml
}

fn put_file(
    repo: &Repository,
    group: &str,
    artifact: &str,
    version: &str,
    file: &str,
    body: Bytes,
) -> Response {
    let mut store = lock(repo);
    let art = store
        .artifacts
        .entry((group.to_string(), artifact.to_string()))
        .or_default();
    let files = &mut art.versions.entry(version.to_string()).or_default().files;
    let status = match files.get(file) {
        Some(old) if *old == body => return text(StatusCode::OK, "unchanged"),
        Some(_) if !version.ends_with(SNAPSHOT) => {
            return text(
                StatusCode::CONFLICT,
                &format!(
                    "{group}:{artifact}:{version} already has {file}; a released version's files \
                     cannot be replaced"
                ),
            );
        }
        Some(_) => StatusCode::OK,
        None => StatusCode::CREATED,
    };
    files.insert(file.to_string(), body);
    art.last_updated = timestamp(SystemTime::now());
    text(status, "stored")
}

fn put_metadata(repo: &Repository, group: &str, artifact: &str, body: Bytes) -> Response {
    let Ok(xml) = std::str::from_utf8(&body) else {
        return text(StatusCode::BAD_REQUEST, "maven-metadata.xml is not UTF-8");
    };
    let names = xml.contains("<metadata")
        && xml.contains(&format!("<groupId>{group}</groupId>"))
        && xml.contains(&format!("<artifactId>{artifact}</artifactId>"));
    if !names {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("maven-metadata.xml does not describe {group}:{artifact}"),
        );
    }
    let mut store = lock(repo);
    let Some(art) = store
        .artifacts
        .get_mut(&(group.to_string(), artifact.to_string()))
    else {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("no version of {group}:{artifact} has been uploaded"),
        );
    };
    art.uploaded_metadata = Some(body);
    text(StatusCode::CREATED, "stored")
}

/// A checksum upload: the first word of the body must be the digest of the file it names.
fn put_checksum(repo: &Repository, target: &Target<'_>, c: Checksum, body: &[u8]) -> Response {
    let of = match target {
        Target::Metadata { group, artifact } => lock(repo)
            .artifacts
            .get(&(group.clone(), artifact.to_string()))
            .and_then(|a| a.uploaded_metadata.clone()),
        Target::File { .. } => current(repo, target),
    };
    let name = target_name(target);
    let Some(of) = of else {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("{name}.{}: upload {name} first", c.extension()),
        );
    };
    let claimed = String::from_utf8_lossy(body);
    let claimed = claimed.split_whitespace().next().unwrap_or("");
    let actual = c.hex(&of);
    if !claimed.eq_ignore_ascii_case(&actual) {
        return text(
            StatusCode::BAD_REQUEST,
            &format!(
                "{name}.{}: {claimed:?} is not the {} of {name} ({actual})",
                c.extension(),
                c.extension()
            ),
        );
    }
    text(StatusCode::CREATED, "checksum matches")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repository_paths() {
        let file = |g: &str, a: &'static str, v: &'static str, f: &'static str| Target::File {
            group: g.into(),
            artifact: a,
            version: v,
            file: f,
        };
        assert_eq!(
            parse("com/example/artoken-demo/1.0.0/artoken-demo-1.0.0.jar"),
            Some((
                file(
                    "com.example",
                    "artoken-demo",
                    "1.0.0",
                    "artoken-demo-1.0.0.jar"
                ),
                None
            ))
        );
        assert_eq!(
            parse("com/example/a/1.0/a-1.0-sources.jar.sha512"),
            Some((
                file("com.example", "a", "1.0", "a-1.0-sources.jar"),
                Some(Checksum::Sha512)
            ))
        );
        assert_eq!(
            parse("com/example/a/maven-metadata.xml.md5"),
            Some((
                Target::Metadata {
                    group: "com.example".into(),
                    artifact: "a"
                },
                Some(Checksum::Md5)
            ))
        );
        // a snapshot's own metadata, and its timestamped files
        assert_eq!(
            parse("g/a/1.0-SNAPSHOT/maven-metadata.xml"),
            Some((file("g", "a", "1.0-SNAPSHOT", "maven-metadata.xml"), None))
        );
        assert!(parse("g/a/1.0-SNAPSHOT/a-1.0-20260101.120000-1.jar").is_some());
        // a release's metadata path is the artifact level of a deeper group
        assert!(matches!(
            parse("g/a/1.0/maven-metadata.xml"),
            Some((Target::Metadata { .. }, None))
        ));
        for bad in [
            "",
            "a-1.0.jar",
            "a/1.0/a-1.0.jar",
            "g/a/1.0/b-1.0.jar",
            "g/a/1.0/a-1.00.jar",
            "g/a/1.0/a-1.0",
            "g/../a/1.0/a-1.0.jar",
            "g/a/1.0/",
            "g//a/1.0/a-1.0.jar",
            "g/a/1.0/a-1.0.jar/x",
            "g/a/%2e%2e/a-1.0.jar",
            "maven-metadata.xml",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn checksums_are_the_usual_digests() {
        assert_eq!(Checksum::Md5.hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            Checksum::Sha1.hex(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            Checksum::split("x.jar.sha256"),
            Some(("x.jar", Checksum::Sha256))
        );
        assert_eq!(Checksum::split(".sha1"), None);
        assert_eq!(Checksum::split("x.jar"), None);
    }

    #[test]
    fn metadata_lists_versions_latest_and_release() {
        let mut art = Artifact {
            last_updated: "20260101120000".into(),
            ..Artifact::default()
        };
        for v in ["1.10.0", "1.9.0", "2.0.0-SNAPSHOT"] {
            art.versions.insert(v.into(), Version::default());
        }
        let xml = metadata_xml("com.example", "a", &art);
        assert!(xml.contains("<latest>2.0.0-SNAPSHOT</latest>"), "{xml}");
        assert!(xml.contains("<release>1.10.0</release>"), "{xml}");
        let order: Vec<_> = xml
            .lines()
            .filter_map(|l| l.trim().strip_prefix("<version>"))
            .collect();
        assert_eq!(
            order,
            [
                "1.9.0</version>",
                "1.10.0</version>",
                "2.0.0-SNAPSHOT</version>"
            ]
        );
        assert!(xml.contains("<lastUpdated>20260101120000</lastUpdated>"));
        assert_eq!(timestamp(std::time::UNIX_EPOCH), "19700101000000");
    }
}
