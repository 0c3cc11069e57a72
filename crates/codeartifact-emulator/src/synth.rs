//! Builds small real packages on the fly (a pure-Python wheel, an npm tarball, a Maven jar and
//! pom), plus helpers the package stores share.

use std::cmp::Ordering;
use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The `Requires-Python` of every synthetic wheel.
pub const WHEEL_REQUIRES_PYTHON: &str = ">=3.7";

/// A built wheel.
pub struct Wheel {
    /// `{name}-{version}-py3-none-any.whl`
    pub filename: String,
    pub bytes: Vec<u8>,
    pub requires_python: Option<String>,
}

/// PEP 503 normalization: runs of `-`, `_`, `.` become `-`, lowercase.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

/// The name as it appears in wheel file names and `.dist-info` directories (`artoken_demo`).
pub fn wheel_name(name: &str) -> String {
    normalize_pypi(name).replace('-', "_")
}

/// A project name PyPI accepts: ASCII letters and digits, with `.`, `_`, `-` inside.
pub fn valid_pypi_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

/// A version string safe in file names and URLs (PEP 440 and semver characters).
pub fn valid_version(version: &str) -> bool {
    let b = version.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._+!-".contains(c))
}

/// An npm package name: `name` or `@scope/name`, lowercase URL-safe characters.
pub fn valid_npm_name(name: &str) -> bool {
    fn part(p: &str) -> bool {
        let b = p.as_bytes();
        !b.is_empty()
            && b.len() <= 214
            && !b".".contains(&b[0])
            && b[0] != b'_'
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-._~".contains(c))
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, pkg)) => part(scope) && part(pkg),
            None => false,
        },
        None => part(name),
    }
}

/// A pure-Python wheel for `name` `version`: `{module}/__init__.py` (with `__version__` and
/// `hello()`), and a `.dist-info` with METADATA, WHEEL and RECORD.
pub fn wheel(name: &str, version: &str) -> Result<Wheel, String> {
    if !valid_pypi_name(name) {
        return Err(format!("{name:?} is not a valid Python project name"));
    }
    if !valid_version(version) {
        return Err(format!("{version:?} is not a valid version"));
    }
    let dist = wheel_name(name);
    let file_version = version.replace('-', "_");
    let dist_info = format!("{dist}-{file_version}.dist-info");
    let init = format!(
        "\"\"\"{name}: a package built by the CodeArtifact emulator.\"\"\"\n\n\
         __version__ = \"{version}\"\n\n\n\
         def hello():\n    \
             return \"hello from {name} {version}\"\n"
    );
    let metadata = format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\
         Summary: {name}, a package built by the CodeArtifact emulator\n\
         Requires-Python: {WHEEL_REQUIRES_PYTHON}\n\n"
    );
    let wheel_file = "Wheel-Version: 1.0\nGenerator: codeartifact-emulator\n\
                      Root-Is-Purelib: true\nTag: py3-none-any\n";
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (format!("{dist}/__init__.py"), init.into_bytes()),
        (format!("{dist_info}/METADATA"), metadata.into_bytes()),
        (format!("{dist_info}/WHEEL"), wheel_file.as_bytes().to_vec()),
    ];
    let mut record = String::new();
    for (path, data) in &files {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data));
        record.push_str(&format!("{path},sha256={digest},{}\n", data.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    files.push((format!("{dist_info}/RECORD"), record.into_bytes()));
    Ok(Wheel {
        filename: format!("{dist}-{file_version}-py3-none-any.whl"),
        bytes: stored_zip(&files),
        requires_python: Some(WHEEL_REQUIRES_PYTHON.to_string()),
    })
}

/// A zip archive of `files`, stored (no compression), with a fixed timestamp.
pub fn stored_zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    const DOS_TIME: u16 = 0;
    const DOS_DATE: u16 = (1 << 5) | 1; // 1980-01-01
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (path, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let crc = crc.sum();
        let offset = out.len() as u32;
        let name = path.as_bytes();
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0x0800u16.to_le_bytes()); // flags: UTF-8 names
        out.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        out.extend_from_slice(&DOS_TIME.to_le_bytes());
        out.extend_from_slice(&DOS_DATE.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0x0800u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&DOS_TIME.to_le_bytes());
        central.extend_from_slice(&DOS_DATE.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // -rw-r--r--
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Largest member [`zip_member`] inflates.
const MAX_MEMBER: u64 = 4 << 20;

/// Reads one member of a zip archive (stored or deflated); `None` when absent or unreadable.
pub fn zip_member(archive: &[u8], wanted: impl Fn(&str) -> bool) -> Option<Vec<u8>> {
    let u16_at = |i: usize| -> Option<u16> {
        Some(u16::from_le_bytes(archive.get(i..i + 2)?.try_into().ok()?))
    };
    let u32_at = |i: usize| -> Option<u32> {
        Some(u32::from_le_bytes(archive.get(i..i + 4)?.try_into().ok()?))
    };
    // The end-of-central-directory record is within the last 64 KiB + 22 bytes.
    let min = archive.len().saturating_sub(22 + 65_535);
    let eocd = (min..archive.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(i) == Some(0x0605_4b50))?;
    let entries = u16_at(eocd + 10)? as usize;
    let mut p = u32_at(eocd + 16)? as usize;
    for _ in 0..entries {
        if u32_at(p)? != 0x0201_4b50 {
            return None;
        }
        let method = u16_at(p + 10)?;
        let csize = u32_at(p + 20)? as usize;
        let name_len = u16_at(p + 28)? as usize;
        let extra_len = u16_at(p + 30)? as usize;
        let comment_len = u16_at(p + 32)? as usize;
        let local = u32_at(p + 42)? as usize;
        let name = std::str::from_utf8(archive.get(p + 46..p + 46 + name_len)?).ok()?;
        if wanted(name) {
            if u32_at(local)? != 0x0403_4b50 {
                return None;
            }
            let start = local + 30 + u16_at(local + 26)? as usize + u16_at(local + 28)? as usize;
            let data = archive.get(start..start.checked_add(csize)?)?;
            return match method {
                0 => Some(data.to_vec()),
                8 => {
                    // Bounded: members read this way are small text files.
                    let mut out = Vec::new();
                    flate2::read::DeflateDecoder::new(data)
                        .take(MAX_MEMBER)
                        .read_to_end(&mut out)
                        .ok()?;
                    Some(out)
                }
                _ => None,
            };
        }
        p += 46 + name_len + extra_len + comment_len;
    }
    None
}

/// An npm tarball (`.tgz`) for `name` `version`: `package/package.json` and `package/index.js`.
pub fn npm_tarball(name: &str, version: &str) -> Result<Vec<u8>, String> {
    if !valid_npm_name(name) {
        return Err(format!("{name:?} is not a valid npm package name"));
    }
    if !valid_version(version) {
        return Err(format!("{version:?} is not a valid version"));
    }
    let manifest = serde_json::json!({
        "name": name,
        "version": version,
        "description": format!("{name}, a package built by the CodeArtifact emulator"),
        "main": "index.js",
        "license": "MIT",
    });
    let package_json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    let index_js = format!(
        "'use strict';\n\nexports.name = {n};\nexports.version = {v};\n\
         exports.hello = function hello() {{\n  return 'hello from ' + exports.name + ' ' + exports.version;\n}};\n",
        n = serde_json::Value::from(name),
        v = serde_json::Value::from(version),
    );
    tgz(&[
        ("package/package.json", package_json.as_bytes()),
        ("package/index.js", index_js.as_bytes()),
    ])
    .map_err(|e| format!("cannot build the tarball of {name}@{version}: {e}"))
}

/// A built Maven artifact: its coordinates, pom and jar.
pub struct MavenArtifact {
    pub group_id: String,
    pub artifact_id: String,
    pub pom: Vec<u8>,
    pub jar: Vec<u8>,
}

/// A Maven coordinate part: `[A-Za-z0-9][A-Za-z0-9._+-]*` (no `..`), at most 200 bytes.
pub fn valid_maven_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 200
        && b[0].is_ascii_alphanumeric()
        && !s.contains("..")
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._+-".contains(c))
}

/// What the class of a synthetic Maven artifact says: `hello from {group}:{artifact} {version}`.
pub fn maven_hello(group_id: &str, artifact_id: &str, version: &str) -> String {
    format!("hello from {group_id}:{artifact_id} {version}")
}

/// A Maven artifact for `name` (`groupId:artifactId`) `version`: a pom, and a jar with a
/// manifest (`Main-Class`), `META-INF/maven/...` and one class whose `main` prints and whose
/// static `hello()` returns [`maven_hello`]. The class is named after the coordinates:
/// `com.example:artoken-demo` holds `com.example.ArtokenDemo`.
pub fn maven_artifact(name: &str, version: &str) -> Result<MavenArtifact, String> {
    let (group_id, artifact_id) = name
        .split_once(':')
        .filter(|(g, a)| valid_maven_part(g) && valid_maven_part(a) && !a.contains('.'))
        .ok_or_else(|| format!("{name:?} is not a Maven groupId:artifactId"))?;
    if !valid_maven_part(version) {
        return Err(format!("{version:?} is not a valid Maven version"));
    }
    let main_class = maven_main_class(group_id, artifact_id);
    let internal = main_class.replace('.', "/");
    let pom = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <project xmlns=\"http://maven.apache.org/POM/4.0.0\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://maven.apache.org/POM/4.0.0 \
         https://maven.apache.org/xsd/maven-4.0.0.xsd\">\n\
         \x20 <modelVersion>4.0.0</modelVersion>\n\
         \x20 <groupId>{group_id}</groupId>\n\
         \x20 <artifactId>{artifact_id}</artifactId>\n\
         \x20 <version>{version}</version>\n\
         \x20 <packaging>jar</packaging>\n\
         \x20 <name>{artifact_id}</name>\n\
         \x20 <description>{group_id}:{artifact_id}, an artifact built by the CodeArtifact emulator</description>\n\
         </project>\n"
    );
    let manifest = manifest(&[
        ("Manifest-Version", "1.0"),
        ("Created-By", "codeartifact-emulator"),
        ("Main-Class", &main_class),
        ("Implementation-Title", &format!("{group_id}:{artifact_id}")),
        ("Implementation-Version", version),
    ]);
    let properties = format!("groupId={group_id}\nartifactId={artifact_id}\nversion={version}\n");
    let message = maven_hello(group_id, artifact_id, version);
    let maven_dir = format!("META-INF/maven/{group_id}/{artifact_id}");
    let jar = stored_zip(&[
        ("META-INF/MANIFEST.MF".into(), manifest.into_bytes()),
        (format!("{maven_dir}/pom.xml"), pom.clone().into_bytes()),
        (
            format!("{maven_dir}/pom.properties"),
            properties.into_bytes(),
        ),
        (
            format!("{internal}.class"),
            hello_class(&internal, &message),
        ),
    ]);
    Ok(MavenArtifact {
        group_id: group_id.to_string(),
        artifact_id: artifact_id.to_string(),
        pom: pom.into_bytes(),
        jar,
    })
}

/// The class of a synthetic artifact: the groupId as package, the artifactId in CamelCase
/// (`com.example:artoken-demo` -> `com.example.ArtokenDemo`).
pub fn maven_main_class(group_id: &str, artifact_id: &str) -> String {
    let class: String = artifact_id
        .split(['-', '.', '_', '+'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let mut parts: Vec<String> = group_id.split('.').map(java_identifier).collect();
    parts.push(java_identifier(&class));
    parts.join(".")
}

/// `s` as a Java identifier: other characters become `_`, a leading digit gets a `_` before it.
fn java_identifier(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// A jar manifest: `Name: value` lines wrapped at 72 bytes (continuations start with a space).
fn manifest(entries: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in entries {
        let line = format!("{k}: {v}");
        let mut rest = line.as_str();
        let mut first = true;
        while !rest.is_empty() {
            let room = if first { 72 } else { 71 };
            let cut = rest.len().min(room);
            if !first {
                out.push(' ');
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n");
            rest = &rest[cut..];
            first = false;
        }
    }
    out.push_str("\r\n");
    out
}

/// A class file (Java 8, version 52) `internal` (`com/example/Name`) with
/// `public static void main(String[])` printing `message` and `public static String hello()`
/// returning it. Straight-line code: no stack map frames needed.
fn hello_class(internal: &str, message: &str) -> Vec<u8> {
    fn utf8(pool: &mut Vec<u8>, s: &str) {
        pool.push(1);
        pool.extend_from_slice(&(s.len() as u16).to_be_bytes());
        pool.extend_from_slice(s.as_bytes());
    }
    fn refs(pool: &mut Vec<u8>, tag: u8, a: u16, b: Option<u16>) {
        pool.push(tag);
        pool.extend_from_slice(&a.to_be_bytes());
        if let Some(b) = b {
            pool.extend_from_slice(&b.to_be_bytes());
        }
    }
    const CLASS: u8 = 7;
    const STRING: u8 = 8;
    const FIELD: u8 = 9;
    const METHOD: u8 = 10;
    const NAME_AND_TYPE: u8 = 12;
    let mut pool = Vec::new();
    utf8(&mut pool, internal); // 1
    refs(&mut pool, CLASS, 1, None); // 2: this class
    utf8(&mut pool, "java/lang/Object"); // 3
    refs(&mut pool, CLASS, 3, None); // 4: super class
    utf8(&mut pool, "main"); // 5
    utf8(&mut pool, "([Ljava/lang/String;)V"); // 6
    utf8(&mut pool, "Code"); // 7
    utf8(&mut pool, "java/lang/System"); // 8
    refs(&mut pool, CLASS, 8, None); // 9
    utf8(&mut pool, "out"); // 10
    utf8(&mut pool, "Ljava/io/PrintStream;"); // 11
    refs(&mut pool, NAME_AND_TYPE, 10, Some(11)); // 12
    refs(&mut pool, FIELD, 9, Some(12)); // 13: System.out
    utf8(&mut pool, "java/io/PrintStream"); // 14
    refs(&mut pool, CLASS, 14, None); // 15
    utf8(&mut pool, "println"); // 16
    utf8(&mut pool, "(Ljava/lang/String;)V"); // 17
    refs(&mut pool, NAME_AND_TYPE, 16, Some(17)); // 18
    refs(&mut pool, METHOD, 15, Some(18)); // 19: PrintStream.println
    utf8(&mut pool, message); // 20
    refs(&mut pool, STRING, 20, None); // 21
    utf8(&mut pool, "hello"); // 22
    utf8(&mut pool, "()Ljava/lang/String;"); // 23
    const POOL_COUNT: u16 = 24;
    // (name, descriptor, max stack, max locals, code)
    let methods: [(u16, u16, u16, u16, &[u8]); 2] = [
        // getstatic #13; ldc #21; invokevirtual #19; return
        (5, 6, 2, 1, &[0xb2, 0, 13, 0x12, 21, 0xb6, 0, 19, 0xb1]),
        // ldc #21; areturn
        (22, 23, 1, 0, &[0x12, 21, 0xb0]),
    ];
    let mut out = Vec::new();
    out.extend_from_slice(&0xCAFE_BABEu32.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // minor
    out.extend_from_slice(&52u16.to_be_bytes()); // major: Java 8
    out.extend_from_slice(&POOL_COUNT.to_be_bytes());
    out.extend_from_slice(&pool);
    out.extend_from_slice(&0x0021u16.to_be_bytes()); // public super
    out.extend_from_slice(&2u16.to_be_bytes()); // this
    out.extend_from_slice(&4u16.to_be_bytes()); // super
    out.extend_from_slice(&0u16.to_be_bytes()); // interfaces
    out.extend_from_slice(&0u16.to_be_bytes()); // fields
    out.extend_from_slice(&(methods.len() as u16).to_be_bytes());
    for (name, descriptor, stack, locals, code) in methods {
        out.extend_from_slice(&0x0009u16.to_be_bytes()); // public static
        out.extend_from_slice(&name.to_be_bytes());
        out.extend_from_slice(&descriptor.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // one attribute: Code
        out.extend_from_slice(&7u16.to_be_bytes());
        out.extend_from_slice(&(12 + code.len() as u32).to_be_bytes());
        out.extend_from_slice(&stack.to_be_bytes());
        out.extend_from_slice(&locals.to_be_bytes());
        out.extend_from_slice(&(code.len() as u32).to_be_bytes());
        out.extend_from_slice(code);
        out.extend_from_slice(&0u16.to_be_bytes()); // exception table
        out.extend_from_slice(&0u16.to_be_bytes()); // attributes
    }
    out.extend_from_slice(&0u16.to_be_bytes()); // class attributes
    out
}

/// A gzip-compressed tar of regular files, with fixed owners and timestamps.
pub fn tgz(files: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_path(path)?;
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(499_162_500); // what `npm pack` uses: 1985-10-26T08:15:00Z
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, *data)?;
    }
    builder.into_inner()?.finish()
}

/// `yyyy-mm-ddThh:mm:ss.mmmZ` (UTC).
pub fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let sod = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Orders versions well enough for listings and `latest`: numeric release segments first, then
/// a release sorts after its pre-releases (`1.0.0-rc.1`, `1.0a1`) and before its post-releases.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (Vec<u64>, &str) {
        let v = v.trim_start_matches(['v', 'V']);
        let end = v
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_digit()
                    || (*c == '.' && v[i + 1..].starts_with(|d: char| d.is_ascii_digit())))
            })
            .map_or(v.len(), |(i, _)| i);
        let release = v[..end]
            .split('.')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap_or(u64::MAX))
            .collect();
        (release, &v[end..])
    }
    fn is_post(suffix: &str) -> bool {
        let s = suffix
            .trim_start_matches(['.', '-', '_'])
            .to_ascii_lowercase();
        suffix.starts_with('+')
            || s.starts_with("post")
            || s.starts_with("rev")
            || (s.starts_with('r') && !s.starts_with("rc"))
    }
    let (ra, sa) = split(a);
    let (rb, sb) = split(b);
    for i in 0..ra.len().max(rb.len()) {
        let x = ra.get(i).copied().unwrap_or(0);
        let y = rb.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    match (sa.is_empty(), sb.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) if is_post(sb) => Ordering::Less,
        (true, false) => Ordering::Greater,
        (false, true) if is_post(sa) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => sa.cmp(sb),
    }
}

/// A semver pre-release (`1.0.0-beta.1`): not chosen as npm's `latest` when a release exists.
pub fn is_prerelease(v: &str) -> bool {
    v.split('+').next().unwrap_or("").contains('-')
}

/// The q-value the request's `Accept` header gives `media` (`type/subtype`): the most specific
/// matching range wins; no header at all counts as `*/*`. 0.0 when not acceptable.
pub fn accept_q(headers: &HeaderMap, media: &str) -> f32 {
    let values: Vec<&str> = headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return 1.0;
    }
    let media = media.to_ascii_lowercase();
    let (mtype, _) = media.split_once('/').unwrap_or((media.as_str(), ""));
    let mut best: Option<(u8, f32)> = None;
    for range in values.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';');
        let r = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if r.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = v.trim().parse().unwrap_or(0.0f32).clamp(0.0, 1.0);
            }
        }
        let specificity = if r == media {
            3
        } else if r.strip_suffix("/*") == Some(mtype) {
            2
        } else if r == "*/*" || r == "*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// `sha256` as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_has_a_valid_record_and_name() {
        let w = wheel("Artoken.Demo", "1.0.0").unwrap();
        assert_eq!(w.filename, "artoken_demo-1.0.0-py3-none-any.whl");
        let record = zip_member(&w.bytes, |n| n.ends_with(".dist-info/RECORD")).unwrap();
        let record = String::from_utf8(record).unwrap();
        for line in record.lines().filter(|l| !l.ends_with(",,")) {
            let mut f = line.split(',');
            let (path, hash, size) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let data = zip_member(&w.bytes, |n| n == path).unwrap();
            let expect =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&data));
            assert_eq!(hash, format!("sha256={expect}"));
            assert_eq!(size, data.len().to_string());
        }
        let init = zip_member(&w.bytes, |n| n == "artoken_demo/__init__.py").unwrap();
        assert!(
            String::from_utf8(init)
                .unwrap()
                .contains("__version__ = \"1.0.0\"")
        );
        assert!(wheel("bad name", "1").is_err());
    }

    #[test]
    fn tarball_holds_the_manifest() {
        let t = npm_tarball("@s/p", "2.0.0").unwrap();
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(&t[..]));
        let paths: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(paths, ["package/package.json", "package/index.js"]);
        assert!(npm_tarball("Upper", "1.0.0").is_err());
    }

    #[test]
    fn maven_artifact_has_pom_manifest_and_class() {
        let a = maven_artifact("com.example:artoken-demo", "1.0.0").unwrap();
        assert_eq!(
            (a.group_id.as_str(), a.artifact_id.as_str()),
            ("com.example", "artoken-demo")
        );
        let pom = String::from_utf8(a.pom.clone()).unwrap();
        assert!(
            pom.contains("<artifactId>artoken-demo</artifactId>"),
            "{pom}"
        );
        let mf = String::from_utf8(zip_member(&a.jar, |n| n == "META-INF/MANIFEST.MF").unwrap());
        assert!(
            mf.unwrap()
                .contains("Main-Class: com.example.ArtokenDemo\r\n")
        );
        let inner = zip_member(&a.jar, |n| {
            n == "META-INF/maven/com.example/artoken-demo/pom.xml"
        });
        assert_eq!(inner.unwrap(), a.pom);
        let class = zip_member(&a.jar, |n| n == "com/example/ArtokenDemo.class").unwrap();
        assert_eq!(class[..4], [0xCA, 0xFE, 0xBA, 0xBE]);
        let msg = maven_hello("com.example", "artoken-demo", "1.0.0");
        assert!(class.windows(msg.len()).any(|w| w == msg.as_bytes()));
        assert_eq!(maven_main_class("9g.x-y", "1st-app"), "_9g.x_y._1stApp");
        for (name, version) in [
            ("artoken-demo", "1.0.0"),
            ("g:a:b", "1.0.0"),
            ("g:../a", "1.0.0"),
            ("g:a", "1.0/0"),
            ("g:a", ""),
        ] {
            assert!(maven_artifact(name, version).is_err(), "{name} {version}");
        }
        // long manifest values wrap at 72 bytes with continuation lines
        let long = manifest(&[("Main-Class", &"x".repeat(100))]);
        assert!(long.split("\r\n").all(|l| l.len() <= 72), "{long}");
        assert_eq!(
            long.replace("\r\n ", ""),
            format!("Main-Class: {}\r\n\r\n", "x".repeat(100))
        );
    }

    #[test]
    fn names_dates_versions_accept() {
        assert_eq!(normalize_pypi("Foo__Bar.-baz"), "foo-bar-baz");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(UNIX_EPOCH + std::time::Duration::from_millis(1_709_251_199_123)),
            "2024-02-29T23:59:59.123Z"
        );
        assert_eq!(version_cmp("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(version_cmp("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(version_cmp("1.0.post1", "1.0"), Ordering::Greater);
        assert!(is_prerelease("1.0.0-beta.1") && !is_prerelease("1.0.0+build-1"));
        let mut h = HeaderMap::new();
        assert_eq!(accept_q(&h, "text/html"), 1.0);
        h.insert(
            "accept",
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html;q=0.01"
                .parse()
                .unwrap(),
        );
        assert_eq!(accept_q(&h, "application/vnd.pypi.simple.v1+json"), 1.0);
        assert_eq!(accept_q(&h, "text/html"), 0.01);
        assert_eq!(accept_q(&h, "application/json"), 0.0);
    }
}
