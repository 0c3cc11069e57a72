//! PyPI data plane: PEP 503 HTML and PEP 691 JSON simple index, file downloads, twine uploads.
//!
//! Layout (CodeArtifact's): `{endpoint}simple/` lists projects, `{endpoint}simple/{project}/`
//! lists files, files live at `{endpoint}simple/{project}/{version}/{filename}`, and twine
//! uploads with the legacy API (`POST {endpoint}`, multipart/form-data). Links are absolute.
//!
//! Uploading a file name that already exists answers `409 Conflict` (files are immutable, as on
//! PyPI and CodeArtifact; twine's `--skip-existing` understands 409).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::config::RepositoryConfig;
use crate::state::{Repository, State};
use crate::synth;

/// Largest upload accepted.
const MAX_UPLOAD: usize = 256 << 20;

const JSON_V1: &str = "application/vnd.pypi.simple.v1+json";
const JSON_LATEST: &str = "application/vnd.pypi.simple.latest+json";
const HTML_V1: &str = "application/vnd.pypi.simple.v1+html";
const HTML_LATEST: &str = "application/vnd.pypi.simple.latest+html";

/// Characters escaped in URL path segments.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'+')
    .remove(b'!');

/// One distribution file.
#[derive(Clone)]
struct Dist {
    filename: String,
    version: String,
    bytes: Bytes,
    sha256: String,
    upload_time: String,
    requires_python: Option<String>,
}

/// A project: its first-seen display name and files.
struct Project {
    name: String,
    files: Vec<Dist>,
}

/// The distributions of one PyPI repository.
#[derive(Default)]
pub struct Store {
    /// By PEP 503 normalized name.
    projects: BTreeMap<String, Project>,
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
            let w = synth::wheel(&p.name, &p.version)?;
            store.add(
                &p.name,
                Dist {
                    sha256: synth::sha256_hex(&w.bytes),
                    filename: w.filename,
                    version: p.version.clone(),
                    bytes: Bytes::from(w.bytes),
                    upload_time: now.clone(),
                    requires_python: w.requires_python,
                },
            )?;
        }
        Ok(store)
    }

    fn load_dir(&mut self, dir: &Path) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            let Some(filename) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            if !is_dist_filename(filename) {
                continue;
            }
            let (name, version) = parse_filename(filename).ok_or_else(|| {
                format!(
                    "{}: not a wheel or sdist file name (name-version...)",
                    path.display()
                )
            })?;
            let bytes =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mtime = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .unwrap_or_else(|_| SystemTime::now());
            let requires_python = if filename.ends_with(".whl") {
                wheel_requires_python(&bytes)
            } else {
                None
            };
            self.add(
                &name,
                Dist {
                    filename: filename.to_string(),
                    version,
                    sha256: synth::sha256_hex(&bytes),
                    bytes: Bytes::from(bytes),
                    upload_time: synth::iso8601(mtime),
                    requires_python,
                },
            )?;
        }
        Ok(())
    }

    fn add(&mut self, name: &str, dist: Dist) -> Result<(), String> {
        if self.find(&dist.filename).is_some() {
            return Err(format!("{} is there twice", dist.filename));
        }
        self.projects
            .entry(synth::normalize_pypi(name))
            .or_insert_with(|| Project {
                name: name.to_string(),
                files: Vec::new(),
            })
            .files
            .push(dist);
        Ok(())
    }

    fn find(&self, filename: &str) -> Option<&Dist> {
        self.projects
            .values()
            .flat_map(|p| p.files.iter())
            .find(|d| d.filename == filename)
    }
}

fn is_dist_filename(f: &str) -> bool {
    f.ends_with(".whl") || f.ends_with(".tar.gz") || f.ends_with(".zip")
}

/// Project name and version from a wheel (`{name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl`) or
/// sdist (`{name}-{ver}.tar.gz|.zip`) file name.
fn parse_filename(f: &str) -> Option<(String, String)> {
    let ok = |n: &str, v: &str| {
        (synth::valid_pypi_name(n) && synth::valid_version(v))
            .then(|| (n.to_string(), v.to_string()))
    };
    if let Some(stem) = f.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if (parts.len() == 5 || parts.len() == 6) && parts.iter().all(|p| !p.is_empty()) {
            return ok(parts[0], parts[1]);
        }
        return None;
    }
    let stem = f
        .strip_suffix(".tar.gz")
        .or_else(|| f.strip_suffix(".zip"))?;
    let (name, version) = stem.rsplit_once('-')?;
    if !version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    ok(name, version)
}

/// `Requires-Python` from a wheel's METADATA.
fn wheel_requires_python(bytes: &[u8]) -> Option<String> {
    let metadata = synth::zip_member(bytes, |n| {
        n.ends_with(".dist-info/METADATA") && n.matches('/').count() == 1
    })?;
    let text = String::from_utf8_lossy(&metadata);
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Requires-Python:"))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

fn redirect(location: &str) -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location.to_string())],
        String::new(),
    )
        .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Whether the client prefers PEP 691 JSON (ties go to HTML, the default).
fn wants_json(headers: &HeaderMap) -> bool {
    let json = synth::accept_q(headers, JSON_V1).max(synth::accept_q(headers, JSON_LATEST));
    let html = synth::accept_q(headers, "text/html")
        .max(synth::accept_q(headers, HTML_V1))
        .max(synth::accept_q(headers, HTML_LATEST));
    json > 0.0 && json > html
}

fn negotiated(json: bool, body: String) -> Response {
    let ctype = if json { JSON_V1 } else { "text/html" };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, ctype),
            (header::VARY, "Accept"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
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
    let segments: Vec<String> = rest
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let read = method == Method::GET || method == Method::HEAD;
    match segs.as_slice() {
        [""] if method == Method::POST => {
            state.record("pypi:upload");
            upload(repo, req).await
        }
        ["simple"] if read => {
            state.record("pypi:simple-index");
            redirect(&format!("{base}simple/"))
        }
        ["simple", ""] if read => {
            state.record("pypi:simple-index");
            index(repo, base, wants_json(req.headers()))
        }
        ["simple", project] if read => {
            state.record("pypi:simple-project");
            redirect(&format!(
                "{base}simple/{}/",
                seg(&synth::normalize_pypi(project))
            ))
        }
        ["simple", project, ""] if read => {
            state.record("pypi:simple-project");
            project_page(repo, base, project, wants_json(req.headers()))
        }
        ["simple", project, version, filename] if read => {
            state.record("pypi:download");
            download(repo, project, version, filename, method == Method::HEAD)
        }
        _ if !(read || method == Method::POST) => {
            state.record("pypi:unsupported");
            (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET, HEAD, POST")],
                format!("{method} is not supported here\n"),
            )
                .into_response()
        }
        _ => {
            state.record("pypi:unknown-path");
            text(
                StatusCode::NOT_FOUND,
                "not found: the PyPI endpoint serves simple/, simple/{project}/ and uploads",
            )
        }
    }
}

fn lock(repo: &Repository) -> std::sync::MutexGuard<'_, Store> {
    repo.pypi.lock().unwrap_or_else(|e| e.into_inner())
}

fn index(repo: &Repository, base: &str, json: bool) -> Response {
    let store = lock(repo);
    if json {
        let projects: Vec<_> = store
            .projects
            .values()
            .map(|p| serde_json::json!({ "name": p.name }))
            .collect();
        let body = serde_json::json!({ "meta": { "api-version": "1.1" }, "projects": projects });
        return negotiated(true, body.to_string());
    }
    let mut html = String::from(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    \
         <title>Simple index</title>\n  </head>\n  <body>\n",
    );
    for (norm, p) in &store.projects {
        html.push_str(&format!(
            "    <a href=\"{}\">{}</a><br/>\n",
            html_escape(&format!("{base}simple/{}/", seg(norm))),
            html_escape(&p.name)
        ));
    }
    html.push_str("  </body>\n</html>\n");
    negotiated(false, html)
}

fn file_url(base: &str, norm: &str, d: &Dist) -> String {
    format!(
        "{base}simple/{}/{}/{}",
        seg(norm),
        seg(&d.version),
        seg(&d.filename)
    )
}

fn project_page(repo: &Repository, base: &str, project: &str, json: bool) -> Response {
    let norm = synth::normalize_pypi(project);
    if norm != project {
        return redirect(&format!("{base}simple/{}/", seg(&norm)));
    }
    let store = lock(repo);
    let Some(p) = store.projects.get(&norm) else {
        return text(
            StatusCode::NOT_FOUND,
            &format!("project {project} not found"),
        );
    };
    let mut files: Vec<&Dist> = p.files.iter().collect();
    files.sort_by(|a, b| {
        synth::version_cmp(&a.version, &b.version).then_with(|| a.filename.cmp(&b.filename))
    });
    if json {
        let mut versions: Vec<&str> = files.iter().map(|d| d.version.as_str()).collect();
        versions.dedup();
        let files: Vec<_> = files
            .iter()
            .map(|d| {
                let mut f = serde_json::json!({
                    "filename": d.filename,
                    "url": file_url(base, &norm, d),
                    "hashes": { "sha256": d.sha256 },
                    "size": d.bytes.len(),
                    "upload-time": d.upload_time,
                });
                if let (Some(rp), Some(obj)) = (&d.requires_python, f.as_object_mut()) {
                    obj.insert("requires-python".into(), rp.clone().into());
                }
                f
            })
            .collect();
        let body = serde_json::json!({
            "meta": { "api-version": "1.1" },
            "name": norm,
            "files": files,
            "versions": versions,
        });
        return negotiated(true, body.to_string());
    }
    let mut html = format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    \
         <title>Links for {0}</title>\n  </head>\n  <body>\n    <h1>Links for {0}</h1>\n",
        html_escape(&norm)
    );
    for d in files {
        let rp = d
            .requires_python
            .as_ref()
            .map(|r| format!(" data-requires-python=\"{}\"", html_escape(r)))
            .unwrap_or_default();
        html.push_str(&format!(
            "    <a href=\"{}#sha256={}\"{rp}>{}</a><br/>\n",
            html_escape(&file_url(base, &norm, d)),
            d.sha256,
            html_escape(&d.filename)
        ));
    }
    html.push_str("  </body>\n</html>\n");
    negotiated(false, html)
}

fn download(
    repo: &Repository,
    project: &str,
    version: &str,
    filename: &str,
    head: bool,
) -> Response {
    let norm = synth::normalize_pypi(project);
    let dist = {
        let store = lock(repo);
        store
            .projects
            .get(&norm)
            .and_then(|p| {
                p.files
                    .iter()
                    .find(|d| d.filename == filename && d.version == version)
            })
            .cloned()
    };
    let Some(d) = dist else {
        return text(
            StatusCode::NOT_FOUND,
            &format!("{filename} not found in {project} {version}"),
        );
    };
    let len = d.bytes.len().to_string();
    let body = if head {
        Body::empty()
    } else {
        Body::from(d.bytes)
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, len),
            (header::ETAG, format!("\"{}\"", d.sha256)),
        ],
        body,
    )
        .into_response()
}

/// One part of a multipart/form-data body.
struct Part {
    name: String,
    filename: Option<String>,
    data: Bytes,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// `name="x"` / `filename="y"` from a `Content-Disposition: form-data; ...` header.
fn disposition_param(value: &str, key: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Splits a multipart/form-data body into its parts.
fn parse_multipart(body: &Bytes, boundary: &str) -> Result<Vec<Part>, String> {
    let delim = format!("--{boundary}").into_bytes();
    let next_delim = format!("\r\n--{boundary}").into_bytes();
    let mut pos = find(body, &delim, 0).ok_or("no multipart boundary in the body")? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts);
        }
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err("malformed multipart body".into());
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or("malformed multipart part headers")?;
        let head = String::from_utf8_lossy(&body[pos..head_end]);
        let disposition = head
            .split("\r\n")
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then(|| v.trim().to_string())
            })
            .ok_or("a multipart part has no Content-Disposition")?;
        let name = disposition_param(&disposition, "name").ok_or("a multipart part has no name")?;
        let filename = disposition_param(&disposition, "filename");
        let data_start = head_end + 4;
        let data_end = find(body, &next_delim, data_start).ok_or("unterminated multipart part")?;
        parts.push(Part {
            name,
            filename,
            data: body.slice(data_start..data_end),
        });
        pos = data_end + next_delim.len();
    }
}

async fn upload(repo: &Repository, req: Request) -> Response {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Some(boundary) = boundary(&ctype) else {
        return text(
            StatusCode::BAD_REQUEST,
            "uploads must be multipart/form-data (the legacy upload API twine uses)",
        );
    };
    let body = match axum::body::to_bytes(req.into_body(), MAX_UPLOAD).await {
        Ok(b) => b,
        Err(e) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("cannot read the upload: {e}"),
            );
        }
    };
    let parts = match parse_multipart(&body, &boundary) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, &e),
    };
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).trim().to_string())
    };
    match field(":action").as_deref() {
        Some("file_upload") => {}
        other => {
            return text(
                StatusCode::BAD_REQUEST,
                &format!(
                    "unsupported :action {:?} (only file_upload)",
                    other.unwrap_or("")
                ),
            );
        }
    }
    let Some(content) = parts.iter().find(|p| p.name == "content") else {
        return text(StatusCode::BAD_REQUEST, "the upload has no content file");
    };
    let Some(filename) = content
        .filename
        .as_deref()
        .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f))
    else {
        return text(StatusCode::BAD_REQUEST, "the content part has no filename");
    };
    let Some((file_project, file_version)) = is_dist_filename(filename)
        .then(|| parse_filename(filename))
        .flatten()
    else {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("{filename:?} is not a wheel or sdist file name"),
        );
    };
    let name = field("name")
        .filter(|n| !n.is_empty())
        .unwrap_or(file_project.clone());
    if synth::normalize_pypi(&name) != synth::normalize_pypi(&file_project) {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("file {filename} does not belong to project {name}"),
        );
    }
    let version = field("version")
        .filter(|v| !v.is_empty())
        .unwrap_or(file_version);
    if !synth::valid_version(&version) {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("invalid version {version:?}"),
        );
    }
    let sha256 = synth::sha256_hex(&content.data);
    if let Some(claimed) = field("sha256_digest").filter(|d| !d.is_empty())
        && !claimed.eq_ignore_ascii_case(&sha256)
    {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("sha256_digest {claimed} does not match the uploaded file ({sha256})"),
        );
    }
    let requires_python = field("requires_python")
        .filter(|r| !r.is_empty())
        .or_else(|| {
            filename
                .ends_with(".whl")
                .then(|| wheel_requires_python(&content.data))
                .flatten()
        });
    let dist = Dist {
        filename: filename.to_string(),
        version,
        sha256,
        bytes: content.data.clone(),
        upload_time: synth::iso8601(SystemTime::now()),
        requires_python,
    };
    let mut store = lock(repo);
    if store.find(filename).is_some() {
        return text(
            StatusCode::CONFLICT,
            &format!("file {filename} already exists (files are immutable)"),
        );
    }
    match store.add(&name, dist) {
        Ok(()) => text(StatusCode::OK, "OK"),
        Err(e) => text(StatusCode::CONFLICT, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_distribution_file_names() {
        let p = |f| parse_filename(f).map(|(n, v)| format!("{n} {v}"));
        assert_eq!(
            p("artoken_demo-1.0.0-py3-none-any.whl").as_deref(),
            Some("artoken_demo 1.0.0")
        );
        assert_eq!(
            p("pkg-2.0-1-cp311-cp311-manylinux_x86_64.whl").as_deref(),
            Some("pkg 2.0")
        );
        assert_eq!(p("Foo.Bar-0.1.tar.gz").as_deref(), Some("Foo.Bar 0.1"));
        assert_eq!(p("legacy-name-3.2.zip").as_deref(), Some("legacy-name 3.2"));
        assert_eq!(p("nope.whl"), None);
        assert_eq!(p("x-y.tar.gz"), None);
    }

    #[test]
    fn splits_multipart_bodies() {
        let body = Bytes::from_static(
            b"--XX\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n\
              --XX\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a-1.tar.gz\"\r\n\
              Content-Type: application/octet-stream\r\n\r\n\x00\r\nbin\r\n--XX--\r\n",
        );
        let parts = parse_multipart(&body, "XX").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(&parts[0].data[..], b"file_upload");
        assert_eq!(parts[1].filename.as_deref(), Some("a-1.tar.gz"));
        assert_eq!(&parts[1].data[..], b"\x00\r\nbin");
        assert!(parse_multipart(&Bytes::from_static(b"junk"), "XX").is_err());
        assert_eq!(
            boundary("multipart/form-data; boundary=\"ab\"").as_deref(),
            Some("ab")
        );
    }
}
