//! npm data plane: packuments (full and abbreviated), tarballs, `npm publish`.
//!
//! Routes under the endpoint: `GET {name}` (also `@scope%2fname` and `@scope/name`) answers the
//! packument, abbreviated (`application/vnd.npm.install-v1+json`) when the Accept header asks
//! for it; `GET {name}/{version|tag}` one version's manifest; `GET {name}/-/{file}.tgz` the
//! tarball (URL `{endpoint}{name}/-/{basename}-{version}.tgz`, as CodeArtifact lays it out);
//! `PUT {name}` publishes (the body `npm publish` sends). Republishing a version answers `403`,
//! like the npm registry.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha512};

use crate::config::RepositoryConfig;
use crate::state::{Repository, State};
use crate::synth;

/// Largest publish body accepted.
const MAX_PUBLISH: usize = 64 << 20;

const INSTALL_V1: &str = "application/vnd.npm.install-v1+json";

/// Manifest fields kept in the abbreviated ("corgi") packument.
const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "bundledDependencies",
    "acceptDependencies",
    "bin",
    "directories",
    "engines",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
    "_hasShrinkwrap",
    "hasInstallScript",
];

/// One published version.
#[derive(Clone)]
struct Version {
    /// The manifest (package.json as published), without `dist`.
    manifest: Map<String, Value>,
    /// `{basename}-{version}.tgz`
    filename: String,
    tarball: Bytes,
    shasum: String,
    integrity: String,
}

#[derive(Default)]
struct Package {
    versions: BTreeMap<String, Version>,
    dist_tags: BTreeMap<String, String>,
    /// `created`, `modified` and one entry per version.
    time: BTreeMap<String, String>,
}

/// The distributions of one npm repository.
#[derive(Default)]
pub struct Store {
    packages: BTreeMap<String, Package>,
}

impl Store {
    /// Loads `packages_dir` and builds the synthetic `packages`.
    pub fn load(config: &RepositoryConfig) -> Result<Store, String> {
        let mut store = Store::default();
        if let Some(dir) = &config.packages_dir {
            store.load_dir(dir)?;
        }
        let now = synth::iso8601(SystemTime::now());
        for p in &config.packages {
            let tgz = synth::npm_tarball(&p.name, &p.version)?;
            let manifest = package_json(&tgz)?;
            store.add(manifest, Bytes::from(tgz), &now)?;
        }
        Ok(store)
    }

    fn load_dir(&mut self, dir: &Path) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tgz"))
            .collect();
        paths.sort();
        for path in paths {
            let bytes =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let manifest = package_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            let mtime = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .unwrap_or_else(|_| SystemTime::now());
            self.add(manifest, Bytes::from(bytes), &synth::iso8601(mtime))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Adds one version (its manifest must name it); refuses an existing version.
    fn add(
        &mut self,
        mut manifest: Map<String, Value>,
        tarball: Bytes,
        time: &str,
    ) -> Result<(), String> {
        let (name, version) = name_version(&manifest)?;
        manifest.remove("dist");
        let pkg = self.packages.entry(name.clone()).or_default();
        if pkg.versions.contains_key(&version) {
            return Err(format!("{name}@{version} is there twice"));
        }
        let basename = name.rsplit('/').next().unwrap_or(&name);
        pkg.versions.insert(
            version.clone(),
            Version {
                manifest,
                filename: format!("{basename}-{version}.tgz"),
                shasum: hex::encode(Sha1::digest(&tarball)),
                integrity: format!(
                    "sha512-{}",
                    base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&tarball))
                ),
                tarball,
            },
        );
        pkg.time
            .entry("created".into())
            .or_insert_with(|| time.to_string());
        pkg.time.insert("modified".into(), time.to_string());
        pkg.time.insert(version, time.to_string());
        let latest = pkg
            .versions
            .keys()
            .filter(|v| !synth::is_prerelease(v))
            .max_by(|a, b| synth::version_cmp(a, b))
            .or_else(|| pkg.versions.keys().max_by(|a, b| synth::version_cmp(a, b)))
            .cloned();
        if let Some(latest) = latest {
            pkg.dist_tags.insert("latest".into(), latest);
        }
        Ok(())
    }
}

/// `name` and `version` of a manifest, checked.
fn name_version(manifest: &Map<String, Value>) -> Result<(String, String), String> {
    let name = manifest.get("name").and_then(Value::as_str).unwrap_or("");
    let version = manifest
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !synth::valid_npm_name(name) {
        return Err(format!(
            "package.json: {name:?} is not a valid npm package name"
        ));
    }
    if !synth::valid_version(version) {
        return Err(format!("package.json: {version:?} is not a valid version"));
    }
    Ok((name.to_string(), version.to_string()))
}

/// `package.json` of an npm tarball (the one in its top directory, usually `package/`).
fn package_json(tgz: &[u8]) -> Result<Map<String, Value>, String> {
    // Bounded, so a gzip bomb cannot keep the server busy.
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz).take(512 << 20));
    let entries = archive
        .entries()
        .map_err(|e| format!("not a gzip tar archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a gzip tar archive: {e}"))?;
        let is_manifest = entry.path().is_ok_and(|p| {
            let parts: Vec<_> = p.components().collect();
            parts.len() == 2 && parts[1].as_os_str() == "package.json"
        });
        if !is_manifest {
            continue;
        }
        let mut text = String::new();
        entry
            .by_ref()
            .take(16 << 20)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read package.json: {e}"))?;
        return match serde_json::from_str(&text) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("package.json is not a JSON object".into()),
            Err(e) => Err(format!("package.json: {e}")),
        };
    }
    Err("the tarball has no package/package.json".into())
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": message }).to_string(),
    )
        .into_response()
}

fn json_response(ctype: &str, body: &Value, head: bool) -> Response {
    let text = body.to_string();
    let len = text.len().to_string();
    let body = if head {
        Body::empty()
    } else {
        Body::from(text)
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (header::CONTENT_LENGTH, len),
            (header::VARY, "Accept".to_string()),
        ],
        body,
    )
        .into_response()
}

/// Whether the client explicitly asked for the abbreviated packument and prefers it.
fn wants_abbreviated(headers: &HeaderMap) -> bool {
    let named = headers.get_all(header::ACCEPT).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.to_ascii_lowercase().contains(INSTALL_V1))
    });
    let q = synth::accept_q(headers, INSTALL_V1);
    named && q > 0.0 && q >= synth::accept_q(headers, "application/json")
}

fn lock(repo: &Repository) -> std::sync::MutexGuard<'_, Store> {
    repo.npm.lock().unwrap_or_else(|e| e.into_inner())
}

/// Splits `rest` (decoded) into the package name and what follows it.
fn split_name(path: &str) -> Option<(&str, Vec<&str>)> {
    let path = path.trim_end_matches('/');
    let cut = if path.starts_with('@') {
        let first = path.find('/')?;
        path[first + 1..].find('/').map(|i| first + 1 + i)
    } else {
        path.find('/')
    };
    match cut {
        Some(i) => Some((&path[..i], path[i + 1..].split('/').collect())),
        None => Some((path, Vec::new())),
    }
}

/// Serves `rest` (the path after the repository endpoint); `base` is the absolute endpoint URL.
pub async fn handle(
    state: &State,
    repo: &Repository,
    base: &str,
    rest: &str,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let Ok(path) = percent_decode_str(rest).decode_utf8() else {
        state.record("npm:unknown-path");
        return error(StatusCode::BAD_REQUEST, "the path is not UTF-8");
    };
    let path = path.into_owned();
    let read = method == Method::GET || method == Method::HEAD;
    let head = method == Method::HEAD;
    match path.as_str() {
        "-/ping" if read => {
            state.record("npm:ping");
            return json_response("application/json", &json!({}), head);
        }
        "-/whoami" if read => {
            state.record("npm:whoami");
            return json_response("application/json", &json!({ "username": "aws" }), head);
        }
        _ => {}
    }
    let Some((name, tail)) = split_name(&path).filter(|(n, _)| synth::valid_npm_name(n)) else {
        state.record("npm:unknown-path");
        return error(StatusCode::NOT_FOUND, "not_found");
    };
    match (tail.as_slice(), &method) {
        ([], _) if read => {
            state.record("npm:packument");
            packument(repo, base, name, wants_abbreviated(req.headers()), head)
        }
        ([], &Method::PUT) => {
            state.record("npm:publish");
            publish(repo, name, req).await
        }
        (["-", file], _) if read => {
            state.record("npm:tarball");
            tarball(repo, name, file, head)
        }
        ([spec], _) if read => {
            state.record("npm:packument");
            version_manifest(repo, base, name, spec, head)
        }
        _ if !(read || method == Method::PUT) => {
            state.record("npm:unsupported");
            (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD, PUT")],
                json!({ "error": format!("{method} is not supported here") }).to_string(),
            )
                .into_response()
        }
        _ => {
            state.record("npm:unknown-path");
            error(StatusCode::NOT_FOUND, "not_found")
        }
    }
}

/// A version's manifest with `_id` and `dist`.
fn full_manifest(base: &str, name: &str, v: &Version) -> Value {
    let mut m = v.manifest.clone();
    let version = m.get("version").cloned().unwrap_or(Value::Null);
    m.insert(
        "_id".into(),
        format!("{name}@{}", version.as_str().unwrap_or("")).into(),
    );
    m.insert("dist".into(), dist(base, name, v));
    Value::Object(m)
}

fn dist(base: &str, name: &str, v: &Version) -> Value {
    json!({
        "tarball": format!("{base}{name}/-/{}", v.filename),
        "shasum": v.shasum,
        "integrity": v.integrity,
    })
}

fn packument(repo: &Repository, base: &str, name: &str, abbreviated: bool, head: bool) -> Response {
    let store = lock(repo);
    let Some(pkg) = store.packages.get(name) else {
        return error(StatusCode::NOT_FOUND, "not_found");
    };
    let modified = pkg.time.get("modified").cloned().unwrap_or_default();
    if abbreviated {
        let versions: Map<String, Value> = pkg
            .versions
            .iter()
            .map(|(ver, v)| {
                let mut m: Map<String, Value> = ABBREVIATED_FIELDS
                    .iter()
                    .filter_map(|f| v.manifest.get(*f).map(|x| (f.to_string(), x.clone())))
                    .collect();
                m.insert("dist".into(), dist(base, name, v));
                (ver.clone(), Value::Object(m))
            })
            .collect();
        let body = json!({
            "name": name,
            "modified": modified,
            "dist-tags": pkg.dist_tags,
            "versions": versions,
        });
        return json_response(INSTALL_V1, &body, head);
    }
    let versions: Map<String, Value> = pkg
        .versions
        .iter()
        .map(|(ver, v)| (ver.clone(), full_manifest(base, name, v)))
        .collect();
    let latest = pkg
        .dist_tags
        .get("latest")
        .and_then(|l| pkg.versions.get(l));
    let mut body = json!({
        "_id": name,
        "name": name,
        "dist-tags": pkg.dist_tags,
        "versions": versions,
        "time": pkg.time,
    });
    if let (Some(obj), Some(latest)) = (body.as_object_mut(), latest) {
        for key in [
            "description",
            "license",
            "readme",
            "homepage",
            "repository",
            "keywords",
        ] {
            if let Some(v) = latest.manifest.get(key) {
                obj.insert(key.into(), v.clone());
            }
        }
    }
    json_response("application/json", &body, head)
}

fn version_manifest(repo: &Repository, base: &str, name: &str, spec: &str, head: bool) -> Response {
    let store = lock(repo);
    let Some(pkg) = store.packages.get(name) else {
        return error(StatusCode::NOT_FOUND, "not_found");
    };
    let version = pkg.dist_tags.get(spec).map_or(spec, String::as_str);
    match pkg.versions.get(version) {
        Some(v) => json_response("application/json", &full_manifest(base, name, v), head),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("version not found: {name}@{spec}"),
        ),
    }
}

fn tarball(repo: &Repository, name: &str, file: &str, head: bool) -> Response {
    let found = {
        let store = lock(repo);
        store.packages.get(name).and_then(|p| {
            p.versions
                .values()
                .find(|v| v.filename == file)
                .map(|v| (v.tarball.clone(), v.shasum.clone()))
        })
    };
    let Some((bytes, shasum)) = found else {
        return error(StatusCode::NOT_FOUND, "not_found");
    };
    let len = bytes.len().to_string();
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, len),
            (header::ETAG, format!("\"{shasum}\"")),
        ],
        body,
    )
        .into_response()
}

/// `PUT {name}`: the document `npm publish` sends (`versions`, `dist-tags`, `_attachments`).
async fn publish(repo: &Repository, name: &str, req: Request) -> Response {
    let body = match axum::body::to_bytes(req.into_body(), MAX_PUBLISH).await {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("cannot read the publish body: {e}"),
            );
        }
    };
    let doc: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "the publish body is not a JSON object",
            );
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the publish body is not JSON: {e}"),
            );
        }
    };
    if doc.get("name").and_then(Value::as_str) != Some(name) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("the body's name does not match the URL ({name})"),
        );
    }
    let versions = match doc.get("versions").and_then(Value::as_object) {
        Some(v) if !v.is_empty() => v,
        _ => return error(StatusCode::BAD_REQUEST, "the publish body has no versions"),
    };
    let empty = Map::new();
    let attachments = doc
        .get("_attachments")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    // Decode and check everything before touching the store.
    let mut new_versions = Vec::new();
    for (ver, manifest) in versions {
        let Some(manifest) = manifest.as_object() else {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("versions.{ver} is not an object"),
            );
        };
        match name_version(manifest) {
            Ok((n, v)) if n == name && v == *ver => {}
            Ok(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("versions.{ver} names another package or version"),
                );
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, &e),
        }
        let suffix = format!("-{ver}.tgz");
        let attachment = attachments
            .iter()
            .find(|(k, _)| k.ends_with(&suffix))
            .or_else(|| {
                (versions.len() == 1 && attachments.len() == 1)
                    .then(|| attachments.iter().next())
                    .flatten()
            })
            .and_then(|(_, a)| a.get("data").and_then(Value::as_str));
        let Some(data) = attachment else {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("no tarball attached for {name}@{ver}"),
            );
        };
        let Ok(tarball) = base64::engine::general_purpose::STANDARD.decode(data.trim()) else {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the tarball of {name}@{ver} is not valid base64"),
            );
        };
        let shasum = hex::encode(Sha1::digest(&tarball));
        if let Some(claimed) = manifest
            .get("dist")
            .and_then(|d| d.get("shasum"))
            .and_then(Value::as_str)
            && !claimed.eq_ignore_ascii_case(&shasum)
        {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("shasum mismatch for {name}@{ver}: {claimed} != {shasum}"),
            );
        }
        match package_json(&tarball).and_then(|m| name_version(&m)) {
            Ok((n, v)) if n == name && v == *ver => {}
            Ok((n, v)) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("the tarball holds {n}@{v}, not {name}@{ver}"),
                );
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid tarball: {e}")),
        }
        new_versions.push((manifest.clone(), Bytes::from(tarball)));
    }
    let now = synth::iso8601(SystemTime::now());
    let mut store = lock(repo);
    if let Some(pkg) = store.packages.get(name)
        && let Some(ver) = versions.keys().find(|v| pkg.versions.contains_key(*v))
    {
        return error(
            StatusCode::FORBIDDEN,
            &format!("You cannot publish over the previously published versions: {ver}."),
        );
    }
    for (manifest, tarball) in new_versions {
        if let Err(e) = store.add(manifest, tarball, &now) {
            return error(StatusCode::FORBIDDEN, &e);
        }
    }
    if let (Some(pkg), Some(tags)) = (
        store.packages.get_mut(name),
        doc.get("dist-tags").and_then(Value::as_object),
    ) {
        for (tag, v) in tags {
            if let Some(v) = v.as_str().filter(|v| pkg.versions.contains_key(*v)) {
                pkg.dist_tags.insert(tag.clone(), v.to_string());
            }
        }
    }
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "ok": true, "id": name, "success": true }).to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_package_names() {
        assert_eq!(split_name("foo"), Some(("foo", vec![])));
        assert_eq!(split_name("@s/foo"), Some(("@s/foo", vec![])));
        assert_eq!(
            split_name("@s/foo/-/foo-1.0.0.tgz"),
            Some(("@s/foo", vec!["-", "foo-1.0.0.tgz"]))
        );
        assert_eq!(split_name("foo/latest"), Some(("foo", vec!["latest"])));
        assert_eq!(split_name("@s"), None);
    }

    #[test]
    fn reads_the_manifest_of_a_tarball() {
        let t = synth::npm_tarball("@s/p", "1.2.3").unwrap();
        let m = package_json(&t).unwrap();
        assert_eq!(name_version(&m).unwrap(), ("@s/p".into(), "1.2.3".into()));
        assert!(package_json(b"not gzip").is_err());
    }
}
