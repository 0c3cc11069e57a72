//! A token handed in rather than fetched: where it may come from (`--token-file`,
//! `ARTOKEN_TOKEN_FILE`, `ARTOKEN_TOKEN`, a repository's `token_file:`), the checks a token
//! file must pass, the expiry the token itself states, and the endpoint computed from config
//! alone (no AWS call is made for a repository whose token is handed in).
//!
//! Precedence, first found wins: `--token-file`, `ARTOKEN_TOKEN_FILE`, `ARTOKEN_TOKEN`, the
//! repository's `token_file:`; none: fetched from AWS. `CODEARTIFACT_AUTH_TOKEN` is never read
//! (artoken itself sets it for children, and a stale one must not win over a fetch silently).
//!
//! Expiry: a CodeArtifact token is a JWE whose protected header (the part before the first `.`,
//! base64url JSON) carries `isu` (issued, epoch seconds) and `exp` (expires, epoch seconds).
//! When the header says nothing readable, a token file's modification time bounds it (AWS's
//! tokens live at most 12 h and were issued before the file was written); a variable's expiry
//! is unknown (shown as at most 12 h from now) and only the repository can refuse it.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::cache::CachedToken;
use crate::expiry::now;
use crate::secret::Token;
use crate::spec::RepositorySpec;

/// The token variable.
pub const TOKEN_VAR: &str = "ARTOKEN_TOKEN";
/// The token file variable.
pub const TOKEN_FILE_VAR: &str = "ARTOKEN_TOKEN_FILE";
/// The longest token file read (CodeArtifact's tokens are about 1.2 kB).
pub const MAX_BYTES: u64 = 16 * 1024;
/// The longest life AWS gives a token (`durationSeconds` at most 43200).
pub const MAX_LIFE: i64 = 43_200;

/// Where a handed-in token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandedSource {
    /// A file, and what named it (`--token-file`, `ARTOKEN_TOKEN_FILE`,
    /// `repositories.NAME.token_file`).
    File { path: PathBuf, named_by: String },
    /// An environment variable holding the token itself.
    Var { name: String, value: String },
}

impl std::fmt::Display for HandedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandedSource::File { path, named_by } => {
                write!(f, "token file {} ({named_by})", path.display())
            }
            HandedSource::Var { name, .. } => write!(f, "{name}"),
        }
    }
}

impl HandedSource {
    /// The source every repository uses, from the flag and the environment (`None`: the
    /// repository's own `token_file:`, else AWS). An empty variable counts as unset.
    pub fn global(
        flag: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<HandedSource> {
        if let Some(p) = flag {
            return Some(HandedSource::File {
                path: p.to_path_buf(),
                named_by: "--token-file".into(),
            });
        }
        if let Some(p) = env(TOKEN_FILE_VAR).filter(|v| !v.is_empty()) {
            return Some(HandedSource::File {
                path: PathBuf::from(p),
                named_by: TOKEN_FILE_VAR.into(),
            });
        }
        env(TOKEN_VAR)
            .filter(|v| !v.is_empty())
            .map(|value| HandedSource::Var {
                name: TOKEN_VAR.into(),
                value,
            })
    }

    /// The source for `spec`: `global` if set, else its `token_file:`.
    pub fn for_spec(global: Option<&HandedSource>, spec: &RepositorySpec) -> Option<HandedSource> {
        global.cloned().or_else(|| {
            spec.token_file.as_ref().map(|p| HandedSource::File {
                path: p.clone(),
                named_by: format!("repositories.{}.token_file", spec.name),
            })
        })
    }
}

/// Why a handed-in token cannot be used; one line, naming the source, never the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandedError {
    #[error("{from}: cannot read it: {detail}")]
    Unreadable { from: String, detail: String },
    #[error("{from}: refused: {reason}")]
    Refused { from: String, reason: String },
    #[error("{from}: not a token: {reason}")]
    Malformed { from: String, reason: String },
    #[error("the token handed in by {from} expired at {at} ({ago} ago): hand in a fresh one")]
    Expired {
        from: String,
        at: String,
        ago: String,
    },
    #[error(
        "repository {repository} has its token handed in ({from}), so its endpoint must come from config: {missing}"
    )]
    NoEndpoint {
        repository: String,
        from: String,
        missing: String,
    },
}

/// What was read: the token with its expiry, whether the token stated it, and notes for the
/// user (a token file readable by every user).
#[derive(Debug, Clone)]
pub struct Handed {
    pub token: CachedToken,
    /// `exp` read from the token; else a bound (file time + 12 h) or unknown.
    pub expiry_stated: bool,
    pub warnings: Vec<String>,
}

/// Reads the token `source` hands in and checks it has not expired (at this machine's `now`).
pub fn read(source: &HandedSource, now: i64) -> Result<Handed, HandedError> {
    let name = source.to_string();
    let mut warnings = Vec::new();
    let (text, written_at) = match source {
        HandedSource::Var { value, .. } => (value.clone(), None),
        HandedSource::File { path, .. } => {
            let (text, mtime, warning) = read_file(path, &name)?;
            warnings.extend(warning);
            (text, Some(mtime))
        }
    };
    let value = one_line(&text, &name)?;
    let (expires_at, fetched_at, stated) = match claims(value) {
        Some(c) => (c.exp, c.isu.unwrap_or(now).min(now), true),
        None => match written_at {
            Some(w) => (w.saturating_add(MAX_LIFE), w.min(now), false),
            None => (now.saturating_add(MAX_LIFE), now, false),
        },
    };
    let token = CachedToken {
        token: Token::new(value),
        expires_at,
        fetched_at,
        skew: 0,
    };
    drop(text);
    if token.seconds_left(now) <= 0 {
        let why = if stated {
            String::new()
        } else {
            " (its file was written more than 12 h ago, the longest a CodeArtifact token lives)"
                .into()
        };
        return Err(HandedError::Expired {
            from: format!("{name}{why}"),
            at: crate::human::utc(expires_at),
            ago: crate::human::duration(now.saturating_sub(expires_at).max(0) as u64),
        });
    }
    Ok(Handed {
        token,
        expiry_stated: stated,
        warnings,
    })
}

/// `S_IFMT` / `S_IFREG`.
const TYPE_MASK: u32 = 0o170000;
const REGULAR: u32 = 0o100000;

/// Why a token file (or a symlink to it) is refused, from its owner and mode and the current
/// user: `Err` refuses, `Ok(Some)` warns. Owned by the user or root (a BuildKit secret is
/// root's, 0400), a regular file, writable by its owner only; readable by every user warns.
pub fn judge(uid: u32, mode: u32, me: u32, is_link: bool) -> Result<Option<String>, String> {
    if uid != me && uid != 0 {
        let what = if is_link { "a symlink" } else { "the file" };
        return Err(format!(
            "{what} is owned by uid {uid}, neither you (uid {me}) nor root"
        ));
    }
    if is_link {
        return Ok(None);
    }
    if mode & TYPE_MASK != REGULAR {
        return Err("not a regular file".into());
    }
    if mode & 0o022 != 0 {
        return Err(format!(
            "mode {:04o} lets others write it (chmod go-w, e.g. 0600)",
            mode & 0o7777
        ));
    }
    if mode & 0o004 != 0 {
        return Ok(Some(format!(
            "mode {:04o}: every user can read it (chmod o-r)",
            mode & 0o7777
        )));
    }
    Ok(None)
}

/// The text of a token file, its modification time, and a warning; every symlink on the way
/// and the file read (checked on the open handle, so a swap after the checks is caught) pass
/// [`judge`].
fn read_file(path: &Path, name: &str) -> Result<(String, i64, Option<String>), HandedError> {
    let unreadable = |e: std::io::Error| HandedError::Unreadable {
        from: name.to_string(),
        detail: e.to_string(),
    };
    let refused = |reason: String| HandedError::Refused {
        from: name.to_string(),
        reason,
    };
    let me = crate::ownership::euid();
    // Each symlink on the way to the file: its own owner (its target is checked as opened).
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        let meta = std::fs::symlink_metadata(&at).map_err(unreadable)?;
        if !meta.file_type().is_symlink() {
            break;
        }
        judge(meta.uid(), meta.mode(), me, true)
            .map_err(|r| refused(format!("{r}: {}", at.display())))?;
        let target = std::fs::read_link(&at).map_err(unreadable)?;
        at = match at.parent() {
            Some(dir) => dir.join(target),
            None => target,
        };
    }
    // O_NONBLOCK: a FIFO put in its place must not hang the command (it is refused below).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let warning = judge(meta.uid(), meta.mode(), me, false).map_err(refused)?;
    if meta.len() > MAX_BYTES {
        return Err(refused(format!(
            "{} bytes, more than the {MAX_BYTES} a token file may hold",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(refused(format!(
            "more than the {MAX_BYTES} bytes a token file may hold"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| HandedError::Malformed {
        from: name.to_string(),
        reason: "not UTF-8 text".into(),
    })?;
    Ok((text, meta.mtime(), warning.map(|w| format!("{name}: {w}"))))
}

/// The token in `text`: one line (a final newline allowed) of base64 and JWE characters, `=`
/// only as padding (so `NAME=VALUE` is not taken for a token).
fn one_line<'a>(text: &'a str, name: &str) -> Result<&'a str, HandedError> {
    let bad = |reason: &str| HandedError::Malformed {
        from: name.to_string(),
        reason: reason.to_string(),
    };
    let t = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text);
    if t.trim().is_empty() {
        return Err(bad("empty"));
    }
    if t.contains(['\n', '\r']) {
        return Err(bad("more than one line"));
    }
    if t.trim() != t {
        return Err(bad("spaces around the token"));
    }
    let b = t.as_bytes();
    for (i, c) in b.iter().enumerate() {
        let ok = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'_' | b'.' | b'+' | b'/' | b'~')
            || (*c == b'=' && matches!(b.get(i + 1), None | Some(b'=') | Some(b'.')));
        if !ok {
            return Err(bad(if *c == b'=' {
                "`=` inside it (a NAME=VALUE line? put the token alone in the file)"
            } else {
                "characters a CodeArtifact token never has"
            }));
        }
    }
    Ok(t)
}

/// What a CodeArtifact token's protected header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    pub exp: i64,
    pub isu: Option<i64>,
}

/// `exp` (and `isu`) from the token's JWE protected header, when it has them as numbers.
pub fn claims(token: &str) -> Option<Claims> {
    let header = token.split('.').next()?;
    if header.len() > 4096 {
        return None;
    }
    let json = base64url(header)?;
    let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
    let secs = |k: &str| {
        let n = v.get(k)?;
        n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))
    };
    Some(Claims {
        exp: secs("exp")?,
        isu: secs("isu"),
    })
}

/// Decodes unpadded base64url (RFC 4648 section 5; standard `+/` and `=` padding accepted).
fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The repository endpoint from config alone, as GetRepositoryEndpoint would answer:
/// `https://DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/FORMAT/REPOSITORY/`, or under an
/// endpoint override (the emulator, a proxy) `OVERRIDE/DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/FORMAT/REPOSITORY/`.
pub fn endpoint(
    spec: &RepositorySpec,
    region: Option<&str>,
    endpoint_override: Option<&str>,
    source: &HandedSource,
) -> Result<String, HandedError> {
    let missing = |m: &str| HandedError::NoEndpoint {
        repository: spec.name.clone(),
        from: source.to_string(),
        missing: m.to_string(),
    };
    let owner = spec
        .owner
        .as_deref()
        .ok_or_else(|| missing("set `owner:` (the domain's 12-digit account)"))?;
    let region = spec
        .region
        .as_deref()
        .or(region)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| missing("set `region:` or AWS_REGION"))?;
    let repository = spec
        .repository
        .as_deref()
        .ok_or_else(|| missing("set `repository:`"))?;
    let host = format!(
        "{}-{owner}.d.codeartifact.{region}.amazonaws.com",
        spec.domain
    );
    let base = match endpoint_override {
        Some(o) => format!("{}/{host}", o.trim_end_matches('/')),
        None => format!("https://{host}"),
    };
    Ok(format!("{base}/{}/{repository}/", spec.format))
}

/// [`read`] at this machine's time.
pub fn read_now(source: &HandedSource) -> Result<Handed, HandedError> {
    read(source, now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A token shaped like CodeArtifact's: a JWE whose header states `isu` and `exp`.
    fn jwe(isu: i64, exp: i64) -> String {
        let header = format!(
            r#"{{"ver":1,"isu":{isu},"enc":"A128GCM","tag":"x","exp":{exp},"alg":"A128GCMKW","iv":"y"}}"#
        );
        format!("{}.AAAA.BBBB.CCCC-_", b64(header.as_bytes()))
    }

    fn b64(b: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk.iter().fold(0u32, |a, &c| (a << 8) | c as u32) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    fn src(p: &Path) -> HandedSource {
        HandedSource::File {
            path: p.to_path_buf(),
            named_by: "--token-file".into(),
        }
    }

    #[test]
    fn the_expiry_comes_from_the_tokens_own_header() {
        let t = jwe(1_737_063_820, 1_737_107_020);
        assert_eq!(
            claims(&t),
            Some(Claims {
                exp: 1_737_107_020,
                isu: Some(1_737_063_820)
            })
        );
        let h = read(
            &HandedSource::Var {
                name: TOKEN_VAR.into(),
                value: t.clone(),
            },
            1_737_100_000,
        )
        .unwrap();
        assert!(h.expiry_stated);
        assert_eq!(h.token.expires_at, 1_737_107_020);
        assert_eq!(h.token.seconds_left(1_737_100_000), 7_020);
        // The emulator's tokens say nothing: unknown.
        assert_eq!(claims("eyJ2ZXIiOjEsImlzdSI6ImVtdWxhdG9yIn0.abc"), None);
    }

    #[test]
    fn an_expired_token_is_one_line_naming_its_source() {
        let e = read(
            &HandedSource::Var {
                name: TOKEN_VAR.into(),
                value: jwe(1_000, 44_200),
            },
            50_000,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, HandedError::Expired { .. }), "{msg}");
        assert!(
            msg.contains("ARTOKEN_TOKEN") && msg.contains("expired"),
            "{msg}"
        );
        assert!(!msg.contains('\n') && !msg.contains("AAAA"), "{msg}");
    }

    #[test]
    fn the_rule_for_token_files() {
        let me = 1000;
        // BuildKit's secret: root's, 0400.
        assert_eq!(judge(0, REGULAR | 0o400, me, false), Ok(None));
        assert_eq!(judge(me, REGULAR | 0o600, me, false), Ok(None));
        assert_eq!(judge(me, REGULAR | 0o640, me, false), Ok(None));
        assert!(judge(me, REGULAR | 0o644, me, false).unwrap().is_some());
        assert!(
            judge(me, REGULAR | 0o620, me, false)
                .unwrap_err()
                .contains("write")
        );
        assert!(
            judge(me, REGULAR | 0o602, me, false)
                .unwrap_err()
                .contains("write")
        );
        assert!(
            judge(1001, REGULAR | 0o600, me, false)
                .unwrap_err()
                .contains("uid 1001")
        );
        assert!(
            judge(1001, 0o120777, me, true)
                .unwrap_err()
                .contains("symlink")
        );
        assert!(
            judge(me, 0o010600, me, false)
                .unwrap_err()
                .contains("regular")
        );
    }

    #[test]
    fn token_files_are_checked_and_errors_name_them() {
        let d = tempfile::tempdir().unwrap();
        let ok = file(d.path(), "ok", "tok.en_-==\n", 0o600);
        let h = read(&src(&ok), now()).unwrap();
        assert_eq!(h.token.token.expose(), "tok.en_-==");
        assert!(!h.expiry_stated);
        assert!(h.warnings.is_empty());
        let cases = [
            ("writable", "tok\n", 0o622, "others write"),
            ("two", "a\nb\n", 0o600, "more than one line"),
            ("dotenv", "ARTOKEN_TOKEN=abc\n", 0o600, "NAME=VALUE"),
            ("space", "a b\n", 0o600, "never has"),
            ("empty", "\n", 0o600, "empty"),
        ];
        for (name, text, mode, want) in cases {
            let p = file(d.path(), name, text, mode);
            let msg = read(&src(&p), now()).unwrap_err().to_string();
            assert!(msg.contains(&p.display().to_string()), "{msg}");
            assert!(msg.contains(want), "{name}: {msg}");
            assert!(!msg.contains("abc") && !msg.contains('\n'), "{msg}");
        }
        let big = file(d.path(), "big", &"a".repeat(MAX_BYTES as usize + 1), 0o600);
        assert!(
            read(&src(&big), now())
                .unwrap_err()
                .to_string()
                .contains("more than")
        );
        let open = file(d.path(), "readable", "tok\n", 0o644);
        let h = read(&src(&open), now()).unwrap();
        assert!(
            h.warnings[0].contains("every user can read"),
            "{:?}",
            h.warnings
        );
        // A symlink is followed, and its target judged.
        let link = d.path().join("link");
        std::os::unix::fs::symlink(d.path().join("writable"), &link).unwrap();
        assert!(
            read(&src(&link), now())
                .unwrap_err()
                .to_string()
                .contains("others write")
        );
        let good = d.path().join("good-link");
        std::os::unix::fs::symlink(&ok, &good).unwrap();
        assert!(read(&src(&good), now()).is_ok());
        // A directory, a FIFO: refused without hanging.
        let msg = read(&src(d.path()), now()).unwrap_err().to_string();
        assert!(
            msg.contains("regular") || msg.contains("directory"),
            "{msg}"
        );
        let missing = d.path().join("missing");
        let msg = read(&src(&missing), now()).unwrap_err().to_string();
        assert!(
            msg.contains("missing") && msg.contains("cannot read"),
            "{msg}"
        );
    }

    #[test]
    fn a_file_older_than_a_tokens_longest_life_is_expired() {
        let d = tempfile::tempdir().unwrap();
        let p = file(
            d.path(),
            "old",
            "eyJ2ZXIiOjEsImlzdSI6ImVtdWxhdG9yIn0.abc\n",
            0o600,
        );
        let written = std::fs::metadata(&p).unwrap().mtime();
        assert!(read(&src(&p), written + MAX_LIFE - 60).is_ok());
        let msg = read(&src(&p), written + MAX_LIFE + 60)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("expired") && msg.contains("12 h"), "{msg}");
    }

    #[test]
    fn precedence_flag_then_file_variable_then_token_variable_then_config() {
        let env = |k: &str| match k {
            TOKEN_FILE_VAR => Some("/env/file".to_string()),
            TOKEN_VAR => Some("tok".to_string()),
            _ => None,
        };
        let flag = HandedSource::global(Some(Path::new("/flag")), &env).unwrap();
        assert_eq!(flag.to_string(), "token file /flag (--token-file)");
        let file_var = HandedSource::global(None, &env).unwrap();
        assert_eq!(
            file_var.to_string(),
            "token file /env/file (ARTOKEN_TOKEN_FILE)"
        );
        let only_token = |k: &str| (k == TOKEN_VAR).then(|| "tok".to_string());
        assert_eq!(
            HandedSource::global(None, &only_token).unwrap().to_string(),
            "ARTOKEN_TOKEN"
        );
        let empty = |_: &str| Some(String::new());
        assert_eq!(HandedSource::global(None, &empty), None);
        let mut spec = RepositorySpec::new("corp", "d");
        spec.token_file = Some("/cfg".into());
        assert_eq!(
            HandedSource::for_spec(None, &spec).unwrap().to_string(),
            "token file /cfg (repositories.corp.token_file)"
        );
        assert_eq!(
            HandedSource::for_spec(Some(&file_var), &spec),
            Some(file_var)
        );
    }

    #[test]
    fn endpoints_from_config_alone() {
        let mut spec = RepositorySpec::new("corp", "acme");
        spec.owner = Some("111122223333".into());
        spec.repository = Some("py".into());
        let s = HandedSource::Var {
            name: TOKEN_VAR.into(),
            value: "t".into(),
        };
        assert_eq!(
            endpoint(&spec, Some("eu-west-1"), None, &s).unwrap(),
            "https://acme-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/py/"
        );
        assert_eq!(
            endpoint(&spec, Some("eu-west-1"), Some("http://127.0.0.1:9/"), &s).unwrap(),
            "http://127.0.0.1:9/acme-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/py/"
        );
        assert!(
            endpoint(&spec, None, None, &s)
                .unwrap_err()
                .to_string()
                .contains("region")
        );
        spec.owner = None;
        let msg = endpoint(&spec, Some("eu-west-1"), None, &s)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("owner") && msg.contains("corp") && msg.contains("ARTOKEN_TOKEN"),
            "{msg}"
        );
    }
}
