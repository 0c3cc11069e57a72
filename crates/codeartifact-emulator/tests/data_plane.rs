//! Data-plane tests over HTTP: PyPI simple index/downloads/uploads, npm packuments/tarballs/publish, token checks.

#[allow(dead_code)]
#[path = "../src/synth.rs"]
mod synth;

use base64::Engine;
use codeartifact_emulator::config::SyntheticPackage;
use codeartifact_emulator::{Emulator, EmulatorConfig, Format};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

const DOMAIN: &str = "demo";
const OWNER: &str = "111122223333";

struct Ctx {
    emu: Emulator,
    token: String,
    pypi: String,
    npm: String,
    http: reqwest::Client,
}

async fn start(config: EmulatorConfig) -> Ctx {
    let emu = Emulator::start(config).await.expect("emulator starts");
    let token = emu.issue_token(DOMAIN, OWNER, 3600);
    let pypi = emu.endpoint(DOMAIN, OWNER, Format::Pypi, "pypi-store");
    let npm = emu.endpoint(DOMAIN, OWNER, Format::Npm, "npm-store");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    Ctx {
        emu,
        token,
        pypi,
        npm,
        http,
    }
}

impl Ctx {
    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url).basic_auth("aws", Some(&self.token))
    }
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A multipart/form-data body as twine sends it.
fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "----emulator-test-boundary-7d1f";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn pypi_simple_index_html_and_json() {
    let c = start(EmulatorConfig::demo()).await;

    // Project list, HTML by default.
    let r = c.get(&format!("{}simple/", c.pypi)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "content-type").starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"{}simple/artoken-demo/\"", c.pypi)),
        "{html}"
    );

    // Project list, PEP 691 JSON.
    let r = c
        .get(&format!("{}simple/", c.pypi))
        .header("accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "content-type"),
        "application/vnd.pypi.simple.v1+json"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["meta"]["api-version"], "1.1");
    assert_eq!(v["projects"][0]["name"], "artoken-demo");

    // Project page, HTML: absolute links with the sha256 of the bytes served.
    let r = c
        .get(&format!("{}simple/artoken-demo/", c.pypi))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "content-type").starts_with("text/html"));
    let html = r.text().await.unwrap();
    let file_url = format!(
        "{}simple/artoken-demo/1.0.0/artoken_demo-1.0.0-py3-none-any.whl",
        c.pypi
    );
    let start = html
        .find(&format!("href=\"{file_url}#sha256="))
        .expect(&html);
    let hash = &html[start + file_url.len() + 14..][..64];
    assert!(html.contains("data-requires-python=\"&gt;=3.7\""), "{html}");

    let r = c.get(&file_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/octet-stream");
    let len: usize = header(&r, "content-length").parse().unwrap();
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.len(), len);
    assert_eq!(sha256_hex(&bytes), hash);
    assert_eq!(&bytes[..4], b"PK\x03\x04");

    // HEAD: the same length, no body.
    let r = c
        .http
        .head(&file_url)
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-length"), len.to_string());

    // Project page, JSON (pip's Accept header).
    let r = c
        .get(&format!("{}simple/artoken-demo/", c.pypi))
        .header(
            "accept",
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "content-type"),
        "application/vnd.pypi.simple.v1+json"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["meta"]["api-version"], "1.1");
    assert_eq!(v["name"], "artoken-demo");
    assert_eq!(v["versions"], json!(["1.0.0"]));
    let f = &v["files"][0];
    assert_eq!(f["filename"], "artoken_demo-1.0.0-py3-none-any.whl");
    assert_eq!(f["url"], file_url);
    assert_eq!(f["hashes"]["sha256"], hash);
    assert_eq!(f["size"], bytes.len());
    assert_eq!(f["requires-python"], ">=3.7");
    assert!(f["upload-time"].as_str().unwrap().ends_with('Z'));

    // HTML wins a tie and when JSON is less wanted.
    let r = c
        .get(&format!("{}simple/artoken-demo/", c.pypi))
        .header(
            "accept",
            "text/html, application/vnd.pypi.simple.v1+json;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert!(header(&r, "content-type").starts_with("text/html"));

    // Non-normalized names redirect; unknown projects are 404.
    for path in [
        "simple/Artoken_Demo/",
        "simple/artoken.demo/",
        "simple/artoken-demo",
    ] {
        let r = c.get(&format!("{}{path}", c.pypi)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY, "{path}");
        assert_eq!(
            header(&r, "location"),
            format!("{}simple/artoken-demo/", c.pypi)
        );
    }
    let r = c
        .get(&format!("{}simple/nope/", c.pypi))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .get(&format!(
            "{}simple/artoken-demo/9.9.9/artoken_demo-1.0.0-py3-none-any.whl",
            c.pypi
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tokens_are_checked_on_every_route() {
    let c = start(EmulatorConfig::demo()).await;
    let index = format!("{}simple/artoken-demo/", c.pypi);
    let packument = format!("{}artoken-demo", c.npm);

    // No credentials: 401 with a challenge.
    let r = c.http.get(&index).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&r, "www-authenticate").starts_with("Basic"));
    assert_eq!(header(&r, "x-emulator-auth"), "missing");
    let r = c.http.get(&packument).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(!header(&r, "www-authenticate").is_empty());

    // A token the emulator never issued: 404 on PyPI, 401 on npm.
    let r = c
        .http
        .get(&index)
        .basic_auth("aws", Some("eyJmadeup"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&r, "x-emulator-auth"), "unknown");
    let r = c
        .http
        .get(&packument)
        .bearer_auth("eyJmadeup")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "x-emulator-auth"), "unknown");

    // Basic aws:TOKEN and Bearer TOKEN both work.
    let r = c
        .http
        .get(&index)
        .basic_auth("aws", Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .http
        .get(&index)
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .http
        .get(&packument)
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .http
        .get(&packument)
        .basic_auth("aws", Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A token for another domain is unknown here.
    let other = c.emu.issue_token("other", OWNER, 3600);
    let r = c.http.get(&index).bearer_auth(&other).send().await.unwrap();
    assert_eq!(header(&r, "x-emulator-auth"), "unknown");

    // Expired.
    c.emu.expire_all_tokens();
    let r = c.get(&index).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&r, "x-emulator-auth"), "expired");
    let r = c
        .http
        .get(&packument)
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "x-emulator-auth"), "expired");

    // A fresh token works again.
    let fresh = c.emu.issue_token(DOMAIN, OWNER, 60);
    let r = c.http.get(&index).bearer_auth(&fresh).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn pypi_upload_shows_in_the_index() {
    let c = start(EmulatorConfig::demo()).await;
    let wheel = synth::wheel("uploaded.pkg", "0.2.0").unwrap();
    let digest = sha256_hex(&wheel.bytes);
    let base_fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", "uploaded.pkg"),
        ("version", "0.2.0"),
        ("filetype", "bdist_wheel"),
        ("pyversion", "py3"),
        ("metadata_version", "2.1"),
    ];
    let upload = |fields: Vec<(&'static str, String)>, file: (&str, &[u8])| {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (ctype, body) = multipart(&f, file);
        c.http
            .post(&c.pypi)
            .basic_auth("aws", Some(&c.token))
            .header("content-type", ctype)
            .body(body)
    };
    let with = |extra: &[(&'static str, String)]| {
        let mut v: Vec<(&'static str, String)> = base_fields
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        v.extend(extra.iter().cloned());
        v
    };

    // A wrong digest is refused.
    let r = upload(
        with(&[("sha256_digest", "00".repeat(32))]),
        (&wheel.filename, &wheel.bytes),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Not a file_upload.
    let r = upload(
        vec![(":action", "remove_pkg".into())],
        (&wheel.filename, &wheel.bytes),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The upload.
    let r = upload(
        with(&[
            ("sha256_digest", digest.clone()),
            ("requires_python", ">=3.8".into()),
        ]),
        (&wheel.filename, &wheel.bytes),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // Uploading the same file again conflicts.
    let r = upload(
        with(&[("sha256_digest", digest.clone())]),
        (&wheel.filename, &wheel.bytes),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let r = c
        .get(&format!("{}simple/uploaded-pkg/", c.pypi))
        .header("accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["files"][0]["hashes"]["sha256"], digest);
    assert_eq!(v["files"][0]["requires-python"], ">=3.8");
    let url = v["files"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!(
            "{}simple/uploaded-pkg/0.2.0/uploaded_pkg-0.2.0-py3-none-any.whl",
            c.pypi
        )
    );
    let bytes = c.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..], &wheel.bytes[..]);

    let r = c.get(&format!("{}simple/", c.pypi)).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("simple/uploaded-pkg/"), "{html}");
}

#[tokio::test]
async fn packages_dirs_are_served() {
    let pypi_dir = tempfile::tempdir().unwrap();
    let npm_dir = tempfile::tempdir().unwrap();
    let w = synth::wheel("From_Dir", "2.1.0").unwrap();
    std::fs::write(pypi_dir.path().join(&w.filename), &w.bytes).unwrap();
    std::fs::write(
        pypi_dir.path().join("From_Dir-2.0.0.tar.gz"),
        b"not really a tarball",
    )
    .unwrap();
    std::fs::write(pypi_dir.path().join("README.txt"), b"ignored").unwrap();
    let t = synth::npm_tarball("@acme/from-dir", "3.0.0").unwrap();
    std::fs::write(npm_dir.path().join("acme-from-dir-3.0.0.tgz"), &t).unwrap();

    let mut config = EmulatorConfig::demo();
    for r in &mut config.domains[0].repositories {
        match r.format {
            Format::Pypi => r.packages_dir = Some(pypi_dir.path().to_path_buf()),
            Format::Npm => r.packages_dir = Some(npm_dir.path().to_path_buf()),
            _ => {}
        }
    }
    let c = start(config).await;

    let r = c
        .get(&format!("{}simple/from-dir/", c.pypi))
        .header("accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["versions"], json!(["2.0.0", "2.1.0"]));
    assert_eq!(v["files"][0]["filename"], "From_Dir-2.0.0.tar.gz");
    assert!(v["files"][0].get("requires-python").is_none());
    assert_eq!(v["files"][1]["requires-python"], ">=3.7");
    let r = c.get(&format!("{}simple/", c.pypi)).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("simple/artoken-demo/") && html.contains("simple/from-dir/"));

    for name in ["@acme%2ffrom-dir", "@acme%2Ffrom-dir", "@acme/from-dir"] {
        let r = c.get(&format!("{}{name}", c.npm)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["name"], "@acme/from-dir");
        assert_eq!(
            v["versions"]["3.0.0"]["dist"]["tarball"],
            format!("{}@acme/from-dir/-/from-dir-3.0.0.tgz", c.npm)
        );
    }
    let r = c
        .get(&format!("{}@acme/from-dir/-/from-dir-3.0.0.tgz", c.npm))
        .send()
        .await
        .unwrap();
    assert_eq!(&r.bytes().await.unwrap()[..], &t[..]);

    // A bad tarball in packages_dir stops the start with a message naming it.
    std::fs::write(npm_dir.path().join("broken.tgz"), b"junk").unwrap();
    let mut config = EmulatorConfig::demo();
    config.domains[0].repositories[1].packages_dir = Some(npm_dir.path().to_path_buf());
    let e = Emulator::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("broken.tgz"), "{e}");
}

#[tokio::test]
async fn npm_packuments_and_tarballs() {
    let mut config = EmulatorConfig::demo();
    config.domains[0].repositories[1]
        .packages
        .push(SyntheticPackage {
            name: "artoken-demo".into(),
            version: "1.1.0-beta.1".into(),
        });
    let c = start(config).await;
    let url = format!("{}artoken-demo", c.npm);

    // Full packument.
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "content-type").starts_with("application/json"));
    let full: Value = r.json().await.unwrap();
    assert_eq!(full["_id"], "artoken-demo");
    assert_eq!(full["name"], "artoken-demo");
    assert_eq!(full["dist-tags"]["latest"], "1.0.0");
    let v = &full["versions"]["1.0.0"];
    assert_eq!(v["name"], "artoken-demo");
    assert_eq!(v["main"], "index.js");
    assert_eq!(v["_id"], "artoken-demo@1.0.0");
    assert!(v["description"].as_str().is_some());
    assert!(full["time"]["1.0.0"].as_str().is_some());
    assert!(full["time"]["created"].as_str().is_some());
    let tarball = v["dist"]["tarball"].as_str().unwrap();
    assert_eq!(
        tarball,
        format!("{}artoken-demo/-/artoken-demo-1.0.0.tgz", c.npm)
    );

    // The tarball matches shasum and integrity.
    let r = c
        .http
        .get(tarball)
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(v["dist"]["shasum"], hex::encode(sha1::Sha1::digest(&bytes)));
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
    );
    assert_eq!(v["dist"]["integrity"], integrity);

    // Abbreviated packument (npm's Accept header).
    let r = c
        .get(&url)
        .header(
            "accept",
            "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "content-type"),
        "application/vnd.npm.install-v1+json"
    );
    let abbr: Value = r.json().await.unwrap();
    assert_eq!(abbr["name"], "artoken-demo");
    assert!(abbr["modified"].as_str().is_some());
    assert_eq!(abbr["dist-tags"]["latest"], "1.0.0");
    assert_eq!(abbr["versions"]["1.0.0"]["dist"]["integrity"], integrity);
    assert!(abbr["versions"]["1.0.0"].get("description").is_none());
    assert!(abbr.get("time").is_none());
    assert!(abbr["versions"]["1.1.0-beta.1"].is_object());

    // One version, and a tag.
    let r = c.get(&format!("{url}/latest")).send().await.unwrap();
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["version"], "1.0.0");
    let r = c.get(&format!("{url}/9.9.9")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Unknown package and file.
    let r = c.get(&format!("{}nope", c.npm)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .get(&format!("{url}/-/artoken-demo-9.9.9.tgz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// The body `npm publish` sends.
fn publish_body(name: &str, version: &str, tarball: &[u8]) -> Value {
    let basename = name.rsplit('/').next().unwrap();
    json!({
        "_id": name,
        "name": name,
        "description": "published by a test",
        "dist-tags": { "latest": version },
        "versions": {
            version: {
                "name": name,
                "version": version,
                "main": "index.js",
                "dependencies": { "artoken-demo": "^1.0.0" },
                "dist": {
                    "shasum": hex::encode(sha1::Sha1::digest(tarball)),
                    "integrity": format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(Sha512::digest(tarball))),
                    "tarball": format!("http://localhost/{name}/-/{basename}-{version}.tgz"),
                },
            }
        },
        "access": null,
        "_attachments": {
            format!("{name}-{version}.tgz"): {
                "content_type": "application/octet-stream",
                "data": base64::engine::general_purpose::STANDARD.encode(tarball),
                "length": tarball.len(),
            }
        }
    })
}

#[tokio::test]
async fn npm_publish_then_fetch_and_republish_is_refused() {
    let c = start(EmulatorConfig::demo()).await;
    for name in ["fresh-pkg", "@team/fresh-pkg"] {
        let put_url = format!("{}{}", c.npm, name.replace('/', "%2f"));
        let tgz = synth::npm_tarball(name, "0.1.0").unwrap();
        let r = c
            .http
            .put(&put_url)
            .bearer_auth(&c.token)
            .header("content-type", "application/json")
            .body(publish_body(name, "0.1.0", &tgz).to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{name}: {}", r.status());

        let r = c.get(&put_url).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["dist-tags"]["latest"], "0.1.0");
        assert_eq!(
            v["versions"]["0.1.0"]["dependencies"]["artoken-demo"],
            "^1.0.0"
        );
        let tarball = v["versions"]["0.1.0"]["dist"]["tarball"].as_str().unwrap();
        assert!(tarball.starts_with(&c.npm), "{tarball}");
        let bytes = c.get(tarball).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(&bytes[..], &tgz[..]);

        // Same version again: 403, and the original stays.
        let other = synth::npm_tarball(name, "0.1.0").unwrap();
        let r = c
            .http
            .put(&put_url)
            .bearer_auth(&c.token)
            .body(publish_body(name, "0.1.0", &other).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body = r.text().await.unwrap();
        assert!(body.contains("previously published"), "{body}");
    }

    // A second version moves latest.
    let tgz = synth::npm_tarball("fresh-pkg", "0.2.0").unwrap();
    let r = c
        .http
        .put(format!("{}fresh-pkg", c.npm))
        .bearer_auth(&c.token)
        .body(publish_body("fresh-pkg", "0.2.0", &tgz).to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let v: Value = c
        .get(&format!("{}fresh-pkg", c.npm))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["dist-tags"]["latest"], "0.2.0");
    assert_eq!(v["versions"].as_object().unwrap().len(), 2);

    // Bad publishes: shasum mismatch, tarball of another package, wrong name, not JSON.
    let tgz = synth::npm_tarball("fresh-pkg", "0.3.0").unwrap();
    let mut bad = publish_body("fresh-pkg", "0.3.0", &tgz);
    bad["versions"]["0.3.0"]["dist"]["shasum"] = json!("0000");
    let other = synth::npm_tarball("someone-else", "0.3.0").unwrap();
    let cases = [
        ("fresh-pkg", bad.to_string()),
        (
            "fresh-pkg",
            publish_body("fresh-pkg", "0.3.0", &other).to_string(),
        ),
        (
            "fresh-pkg",
            publish_body("another", "0.3.0", &tgz).to_string(),
        ),
        ("fresh-pkg", "{not json".to_string()),
    ];
    for (name, body) in cases {
        let r = c
            .http
            .put(format!("{}{name}", c.npm))
            .bearer_auth(&c.token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn routes_are_counted() {
    let c = start(EmulatorConfig::demo()).await;
    let count = |name: &str| c.emu.stats().requests.get(name).copied().unwrap_or(0);
    c.get(&format!("{}simple/", c.pypi)).send().await.unwrap();
    c.get(&format!("{}simple/artoken-demo/", c.pypi))
        .send()
        .await
        .unwrap();
    c.get(&format!("{}simple/artoken-demo/", c.pypi))
        .send()
        .await
        .unwrap();
    c.get(&format!(
        "{}simple/artoken-demo/1.0.0/artoken_demo-1.0.0-py3-none-any.whl",
        c.pypi
    ))
    .send()
    .await
    .unwrap();
    let w = synth::wheel("counted", "1.0").unwrap();
    let (ctype, body) = multipart(
        &[
            (":action", "file_upload"),
            ("name", "counted"),
            ("version", "1.0"),
        ],
        (&w.filename, &w.bytes),
    );
    let r = c
        .http
        .post(&c.pypi)
        .basic_auth("aws", Some(&c.token))
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    c.get(&format!("{}artoken-demo", c.npm))
        .send()
        .await
        .unwrap();
    c.get(&format!("{}artoken-demo/-/artoken-demo-1.0.0.tgz", c.npm))
        .send()
        .await
        .unwrap();
    let tgz = synth::npm_tarball("counted", "1.0.0").unwrap();
    c.http
        .put(format!("{}counted", c.npm))
        .bearer_auth(&c.token)
        .body(publish_body("counted", "1.0.0", &tgz).to_string())
        .send()
        .await
        .unwrap();
    c.http
        .get(format!("{}simple/", c.pypi))
        .send()
        .await
        .unwrap();

    assert_eq!(count("pypi:simple-index"), 1);
    assert_eq!(count("pypi:simple-project"), 2);
    assert_eq!(count("pypi:download"), 1);
    assert_eq!(count("pypi:upload"), 1);
    assert_eq!(count("pypi:refused"), 1);
    assert_eq!(count("npm:packument"), 1);
    assert_eq!(count("npm:tarball"), 1);
    assert_eq!(count("npm:publish"), 1);
    c.emu.reset_stats();
    assert_eq!(count("pypi:download"), 0);
}

#[tokio::test]
async fn scripted_data_plane_faults_answer_in_order_then_serve() {
    let c = start(EmulatorConfig::demo()).await;
    let mut faults = c.emu.faults();
    faults.retry_after_secs = 3;
    faults.script.insert("data".into(), "E.T".into());
    c.emu.set_faults(faults);
    let url = format!("{}simple/", c.pypi);
    let statuses = [500, 200, 429, 200, 200];
    for (i, want) in statuses.into_iter().enumerate() {
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "request {i}");
        if want == 429 {
            assert_eq!(header(&r, "retry-after"), "3");
            assert_eq!(header(&r, "x-amz-retry-after"), "3000");
        }
    }
    let stats = c.emu.stats();
    assert_eq!(stats.requests.get("fault:5xx"), Some(&1));
    assert_eq!(stats.requests.get("fault:throttle"), Some(&1));
    assert_eq!(stats.requests.get("received"), Some(&5));
}
