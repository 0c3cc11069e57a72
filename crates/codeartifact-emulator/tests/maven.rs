//! Maven data-plane tests over HTTP: the demo artifact, generated metadata, checksums, deploys as `mvn deploy` sends them, token checks, refused paths.

#[allow(dead_code)]
#[path = "../src/synth.rs"]
mod synth;

use codeartifact_emulator::config::{RepositoryConfig, SyntheticPackage};
use codeartifact_emulator::{Emulator, EmulatorConfig, Format};
use reqwest::StatusCode;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

const DOMAIN: &str = "demo";
const OWNER: &str = "111122223333";
const DEMO: &str = "com/example/artoken-demo";

struct Ctx {
    emu: Emulator,
    token: String,
    /// The maven-store endpoint (ends with `/`).
    base: String,
    http: reqwest::Client,
}

async fn start() -> Ctx {
    let emu = Emulator::start(EmulatorConfig::demo())
        .await
        .expect("emulator starts");
    let token = emu.issue_token(DOMAIN, OWNER, 3600);
    let base = emu.endpoint(DOMAIN, OWNER, Format::Maven, "maven-store");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    Ctx {
        emu,
        token,
        base,
        http,
    }
}

impl Ctx {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .basic_auth("aws", Some(&self.token))
            .send()
            .await
            .unwrap()
    }

    async fn body(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self.get(path).await;
        (r.status(), r.bytes().await.unwrap().to_vec())
    }

    async fn put(&self, path: &str, body: impl Into<Vec<u8>>) -> (StatusCode, String) {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .basic_auth("aws", Some(&self.token))
            .body(body.into())
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    fn count(&self, route: &str) -> u64 {
        self.emu.stats().requests.get(route).copied().unwrap_or(0)
    }
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// (extension, hex digest) of every checksum Maven asks for.
fn digests(data: &[u8]) -> [(&'static str, String); 4] {
    [
        ("md5", hex::encode(<md5::Md5 as md5::Digest>::digest(data))),
        ("sha1", hex::encode(Sha1::digest(data))),
        ("sha256", hex::encode(Sha256::digest(data))),
        ("sha512", hex::encode(Sha512::digest(data))),
    ]
}

/// The text between `<tag>` and `</tag>`, each time it occurs.
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split_once(&close).map(|(v, _)| v.to_string()))
        .collect()
}

#[tokio::test]
async fn the_demo_artifact_its_metadata_and_every_checksum_are_served() {
    let c = start().await;
    let want = synth::maven_artifact("com.example:artoken-demo", "1.0.0").unwrap();

    let r = c.get(&format!("{DEMO}/1.0.0/artoken-demo-1.0.0.jar")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/java-archive");
    let jar = r.bytes().await.unwrap().to_vec();
    assert_eq!(jar, want.jar, "the jar is the synthetic one, byte for byte");
    let class = synth::zip_member(&jar, |n| n == "com/example/ArtokenDemo.class").unwrap();
    assert_eq!(class[..4], [0xCA, 0xFE, 0xBA, 0xBE]);

    let (status, pom) = c
        .body(&format!("{DEMO}/1.0.0/artoken-demo-1.0.0.pom"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let pom = String::from_utf8(pom).unwrap();
    assert_eq!(tags(&pom, "groupId"), ["com.example"]);
    assert_eq!(tags(&pom, "artifactId"), ["artoken-demo"]);
    assert_eq!(tags(&pom, "version"), ["1.0.0"]);

    let (status, meta) = c.body(&format!("{DEMO}/maven-metadata.xml")).await;
    assert_eq!(status, StatusCode::OK);
    let xml = String::from_utf8(meta.clone()).unwrap();
    assert_eq!(tags(&xml, "groupId"), ["com.example"]);
    assert_eq!(tags(&xml, "artifactId"), ["artoken-demo"]);
    assert_eq!(tags(&xml, "latest"), ["1.0.0"]);
    assert_eq!(tags(&xml, "release"), ["1.0.0"]);
    assert_eq!(tags(&xml, "version"), ["1.0.0"]);
    let updated = tags(&xml, "lastUpdated");
    assert!(
        updated.len() == 1
            && updated[0].len() == 14
            && updated[0].bytes().all(|b| b.is_ascii_digit()),
        "{xml}"
    );

    // Every file has all four checksums, of the bytes served.
    for (path, data) in [
        (format!("{DEMO}/1.0.0/artoken-demo-1.0.0.jar"), &jar[..]),
        (
            format!("{DEMO}/1.0.0/artoken-demo-1.0.0.pom"),
            pom.as_bytes(),
        ),
        (format!("{DEMO}/maven-metadata.xml"), &meta[..]),
    ] {
        for (ext, hex) in digests(data) {
            let (status, body) = c.body(&format!("{path}.{ext}")).await;
            assert_eq!(status, StatusCode::OK, "{path}.{ext}");
            assert_eq!(String::from_utf8(body).unwrap(), hex, "{path}.{ext}");
        }
    }

    // HEAD: the length, no body.
    let r = c
        .http
        .head(format!("{}{DEMO}/1.0.0/artoken-demo-1.0.0.jar", c.base))
        .basic_auth("aws", Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-length"), jar.len().to_string());

    // Absent things are 404 (a version, a classifier, another artifact's metadata).
    for path in [
        format!("{DEMO}/2.0.0/artoken-demo-2.0.0.jar"),
        format!("{DEMO}/1.0.0/artoken-demo-1.0.0-sources.jar"),
        format!("{DEMO}/1.0.0/artoken-demo-1.0.0-sources.jar.sha1"),
        "com/example/other/maven-metadata.xml".to_string(),
    ] {
        assert_eq!(c.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }

    assert_eq!(c.count("maven:get"), 5);
    assert_eq!(c.count("maven:metadata"), 2);
    assert_eq!(c.count("maven:checksum"), 13);
    assert_eq!(c.count("maven:refused"), 0);
}

#[tokio::test]
async fn tokens_are_checked_as_codeartifact_does() {
    let c = start().await;
    let jar = format!("{}{DEMO}/1.0.0/artoken-demo-1.0.0.jar", c.base);

    // No credentials: 401 with a Basic challenge, so Maven's wagon sends its server's.
    let r = c.http.get(&jar).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&r, "www-authenticate"),
        "Basic realm=\"codeartifact\""
    );
    assert_eq!(header(&r, "x-emulator-auth"), "missing");

    // A token the emulator never issued, or one for another domain: 401, no challenge.
    let other = c.emu.issue_token("other", OWNER, 3600);
    for bad in ["eyJmadeup", other.as_str()] {
        let r = c
            .http
            .get(&jar)
            .basic_auth("aws", Some(bad))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&r, "x-emulator-auth"), "unknown");
        assert_eq!(header(&r, "www-authenticate"), "");
    }

    // A deploy without a good token stores nothing.
    let put = format!("{}com/example/sneaky/1.0/sneaky-1.0.jar", c.base);
    let r = c.http.put(&put).body("x").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .http
        .put(&put)
        .basic_auth("aws", Some("eyJmadeup"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        c.get("com/example/sneaky/1.0/sneaky-1.0.jar")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(c.count("maven:put"), 0);

    // The good token, as Basic aws:TOKEN: 200.
    let r = c
        .http
        .get(&jar)
        .basic_auth("aws", Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Expired: 401.
    c.emu.expire_all_tokens();
    let r = c
        .http
        .get(&jar)
        .basic_auth("aws", Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "x-emulator-auth"), "expired");
    let body = r.text().await.unwrap();
    assert!(!body.contains(&c.token), "the refusal echoes the token");

    assert_eq!(c.count("maven:refused"), 6);
}

#[tokio::test]
async fn a_deploy_as_mvn_sends_it_is_stored_and_listed() {
    let c = start().await;
    let dir = "org/acme/tool/2.0.0";
    let jar = synth::maven_artifact("org.acme:tool", "2.0.0").unwrap();

    // A checksum before its file has nothing to match.
    let (status, text) = c.put(&format!("{dir}/tool-2.0.0.jar.sha1"), "00").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");

    // The jar, its checksums, the pom, its checksums (what mvn deploy sends, in order).
    for (name, data) in [("tool-2.0.0.jar", &jar.jar), ("tool-2.0.0.pom", &jar.pom)] {
        let (status, text) = c.put(&format!("{dir}/{name}"), data.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {text}");
        for (ext, hex) in digests(data) {
            let (status, text) = c.put(&format!("{dir}/{name}.{ext}"), hex).await;
            assert_eq!(status, StatusCode::CREATED, "{name}.{ext}: {text}");
        }
        // "hash  filename" as some tools write it is fine too
        let (status, _) = c
            .put(
                &format!("{dir}/{name}.sha1"),
                format!("{}  {name}\n", digests(data)[1].1),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // A wrong checksum is refused, naming the file.
    let (status, text) = c
        .put(&format!("{dir}/tool-2.0.0.jar.md5"), "0".repeat(32))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("tool-2.0.0.jar"), "{text}");

    // Served back byte for byte, and listed in the generated metadata.
    assert_eq!(
        c.body(&format!("{dir}/tool-2.0.0.jar")).await,
        (StatusCode::OK, jar.jar.clone())
    );
    let (_, meta) = c.body("org/acme/tool/maven-metadata.xml").await;
    let xml = String::from_utf8(meta).unwrap();
    assert_eq!(tags(&xml, "version"), ["2.0.0"]);

    // The metadata mvn uploads: it must describe this artifact; its checksums must match it.
    let uploaded = "<?xml version=\"1.0\"?>\n<metadata>\n  <groupId>org.acme</groupId>\n  \
                    <artifactId>tool</artifactId>\n  <versioning><release>2.0.0</release>\
                    <versions><version>2.0.0</version></versions></versioning>\n</metadata>\n";
    let (status, _) = c
        .put(
            "org/acme/tool/maven-metadata.xml",
            uploaded.replace("<artifactId>tool<", "<artifactId>other<"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, text) = c.put("org/acme/tool/maven-metadata.xml", uploaded).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    for (ext, hex) in digests(uploaded.as_bytes()) {
        let (status, text) = c
            .put(&format!("org/acme/tool/maven-metadata.xml.{ext}"), hex)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ext}: {text}");
    }
    let (status, _) = c
        .put("org/acme/tool/maven-metadata.xml.sha1", "0".repeat(40))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Metadata for an artifact nobody uploaded is refused.
    let (status, _) = c
        .put(
            "org/acme/ghost/maven-metadata.xml",
            uploaded.replace(">tool<", ">ghost<"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A released file is immutable: the same bytes again are fine, others are a conflict.
    let (status, _) = c
        .put(&format!("{dir}/tool-2.0.0.jar"), jar.jar.clone())
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, text) = c.put(&format!("{dir}/tool-2.0.0.jar"), "other bytes").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(text.contains("org.acme:tool:2.0.0"), "{text}");
    assert_eq!(
        c.body(&format!("{dir}/tool-2.0.0.jar")).await.1,
        jar.jar,
        "the conflict changed nothing"
    );

    // A snapshot may be replaced; metadata then says latest (snapshot) and release apart.
    let snap = "org/acme/tool/2.1.0-SNAPSHOT/tool-2.1.0-SNAPSHOT.jar";
    assert_eq!(c.put(snap, "one").await.0, StatusCode::CREATED);
    assert_eq!(c.put(snap, "two").await.0, StatusCode::OK);
    assert_eq!(c.body(snap).await.1, b"two");
    let version_meta = "org/acme/tool/2.1.0-SNAPSHOT/maven-metadata.xml";
    assert_eq!(
        c.put(version_meta, "<metadata/>").await.0,
        StatusCode::CREATED
    );
    assert_eq!(c.body(version_meta).await.1, b"<metadata/>");
    let (_, meta) = c.body("org/acme/tool/maven-metadata.xml").await;
    let xml = String::from_utf8(meta).unwrap();
    assert_eq!(tags(&xml, "version"), ["2.0.0", "2.1.0-SNAPSHOT"]);
    assert_eq!(tags(&xml, "latest"), ["2.1.0-SNAPSHOT"]);
    assert_eq!(tags(&xml, "release"), ["2.0.0"]);

    assert_eq!(c.count("maven:put"), 7);
    assert_eq!(c.count("maven:put-metadata"), 3);
    assert_eq!(c.count("maven:put-checksum"), 17);
}

#[tokio::test]
async fn bad_paths_and_methods_are_refused() {
    let c = start().await;
    for path in [
        "artoken-demo-1.0.0.jar",
        "com/example/artoken-demo/1.0.0/other-1.0.0.jar",
        "com/example/artoken-demo/1.0.0/artoken-demo-1.0.00.jar",
        // (`..` and `%2e%2e` segments: the URL is normalized before it is sent; see the unit test)
        "com/ex..ample/artoken-demo/1.0.0/artoken-demo-1.0.0.jar",
        "com/exa%20mple/artoken-demo/1.0.0/artoken-demo-1.0.0.jar",
        "com/example/artoken-demo/1.0.0/",
        "maven-metadata.xml",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let (status, _) = c.put(path, "x").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "PUT {path}");
    }
    assert_eq!(c.count("maven:unknown-path"), 14);

    let r = c
        .http
        .post(format!("{}{DEMO}/1.0.0/artoken-demo-1.0.0.jar", c.base))
        .basic_auth("aws", Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&r, "allow"), "GET, HEAD, PUT");

    // The maven repository under another format's path is not served.
    let npm_path = c.base.replace("/maven/maven-store/", "/npm/maven-store/");
    let r = c
        .http
        .get(format!("{npm_path}{DEMO}/maven-metadata.xml"))
        .basic_auth("aws", Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // An oversized metadata upload is refused before it is read whole.
    let (status, _) = c
        .put(
            &format!("{DEMO}/maven-metadata.xml"),
            vec![b' '; (1 << 20) + 1],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn maven_repositories_are_configured_with_care() {
    let repo = |name: &str, packages: Vec<SyntheticPackage>| RepositoryConfig {
        name: name.into(),
        format: Format::Maven,
        description: None,
        packages_dir: None,
        packages,
    };
    let pkg = |name: &str, version: &str| SyntheticPackage {
        name: name.into(),
        version: version.into(),
    };

    // A synthetic package must be groupId:artifactId.
    let mut config = EmulatorConfig::demo();
    config.domains[0]
        .repositories
        .push(repo("maven-two", vec![pkg("no-group", "1.0")]));
    let e = Emulator::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("maven-two") && e.contains("no-group"), "{e}");

    // The same version twice.
    let mut config = EmulatorConfig::demo();
    config.domains[0].repositories.push(repo(
        "maven-two",
        vec![pkg("g:a", "1.0"), pkg("g:a", "1.0")],
    ));
    let e = Emulator::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("g:a:1.0 is there twice"), "{e}");

    // packages_dir is not a Maven thing here.
    let dir = tempfile::tempdir().unwrap();
    let mut config = EmulatorConfig::demo();
    let mut r = repo("maven-two", Vec::new());
    r.packages_dir = Some(dir.path().to_path_buf());
    config.domains[0].repositories.push(r);
    let e = Emulator::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("maven-two") && e.contains("packages_dir"), "{e}");

    // Two repositories of one name in a domain.
    let mut config = EmulatorConfig::demo();
    config.domains[0]
        .repositories
        .push(repo("maven-store", Vec::new()));
    let e = Emulator::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("repositories[3].name") && e.contains("twice"),
        "{e}"
    );

    // Several artifacts in one repository, each with its own metadata.
    let mut config = EmulatorConfig::demo();
    config.domains[0].repositories.push(repo(
        "maven-two",
        vec![pkg("g.h:a", "1.0"), pkg("g.h:a", "1.10"), pkg("g.h:b", "3")],
    ));
    let emu = Emulator::start(config).await.unwrap();
    let token = emu.issue_token(DOMAIN, OWNER, 60);
    let base = emu.endpoint(DOMAIN, OWNER, Format::Maven, "maven-two");
    let http = reqwest::Client::new();
    let get = |p: &str| {
        http.get(format!("{base}{p}"))
            .basic_auth("aws", Some(&token))
            .send()
    };
    let xml = get("g/h/a/maven-metadata.xml")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(tags(&xml, "version"), ["1.0", "1.10"]);
    assert_eq!(tags(&xml, "release"), ["1.10"]);
    let xml = get("g/h/b/maven-metadata.xml")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(tags(&xml, "version"), ["3"]);
    let r = get("g/h/b/3/b-3.jar").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
