//! Sets ARTOKEN_VERSION for `artoken --version`: `0.1.0 (git abc123456)` from a checkout of this
//! repository, the commit cargo recorded in `.cargo_vcs_info.json` in a crates.io tarball, and the
//! version alone when neither is there (a wheel's sdist, a vendored copy). Never fails the build.
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    let commit = from_checkout(&manifest_dir).or_else(|| from_vcs_info(&manifest_dir));
    let full = match commit {
        Some(c) => format!("{version} (git {c})"),
        None => version,
    };
    println!("cargo:rustc-env=ARTOKEN_VERSION={full}");
}

/// The short HEAD commit, when this crate sits in its own workspace's git checkout (not in a
/// tarball unpacked inside some other repository); asks to rerun when HEAD moves.
fn from_checkout(manifest_dir: &Path) -> Option<String> {
    let workspace = manifest_dir.parent()?.parent()?.canonicalize().ok()?;
    let out = git(manifest_dir, &["rev-parse", "--show-toplevel", "HEAD"])?;
    let mut lines = out.lines();
    let top = PathBuf::from(lines.next()?).canonicalize().ok()?;
    let hash = lines.next()?.trim();
    if top != workspace || hash.len() < 9 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // HEAD itself (a detached worktree), the branch it points at, and the reflog, which moves
    // on every commit and checkout.
    let mut watch = vec!["HEAD".to_string(), "logs/HEAD".to_string()];
    if let Some(r) = git(manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(r.trim().to_string());
    }
    for name in watch {
        let Some(p) = git(manifest_dir, &["rev-parse", "--git-path", &name]) else {
            continue;
        };
        let p = manifest_dir.join(p.trim());
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    Some(hash[..9].to_string())
}

/// `{"git": {"sha1": "..."}}`, written by `cargo package` into every crates.io tarball.
fn from_vcs_info(manifest_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest_dir.join(".cargo_vcs_info.json")).ok()?;
    let at = text.find("\"sha1\"")?;
    let rest = text[at + 6..].trim_start().strip_prefix(':')?.trim_start();
    let hash: String = rest
        .strip_prefix('"')?
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (hash.len() >= 9).then(|| hash[..9].to_string())
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}
