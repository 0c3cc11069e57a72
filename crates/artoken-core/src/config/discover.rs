//! Which config files apply to a directory: $HOME first, then every directory from `/` down.

use std::fs;
use std::path::{Path, PathBuf};

/// The file names looked for in each directory, lowest precedence first, each also accepted
/// with a `.yaml` extension (read right after its `.yml` twin).
///
/// wev reads `.wev.yml`, `wev.yml`, `.wev.user.yml`, `wev.user.yml` in that order (dotted files
/// lose to plain ones); artoken keeps that order and slots its own files after wev's, so in one
/// directory artoken.yml beats wev.yml, and personal (`*.user.yml`) files beat shared ones.
pub const FILE_STEMS: [&str; 8] = [
    ".wev",
    "wev",
    ".artoken",
    "artoken",
    ".wev.user",
    "wev.user",
    ".artoken.user",
    "artoken.user",
];

/// The two schemas a config file can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// artoken.yml: `repositories`, `env`, `default`, `cache`.
    Artoken,
    /// wev.yml: variable names mapping to `plugin: {id: ...}`.
    Wev,
}

/// The kind a file's name announces (`wev.yml`, `.wev.user.yaml`, `artoken.yml`, ...), or
/// `None` for any other name.
pub fn kind_from_name(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))?;
    let stem = stem.strip_prefix('.').unwrap_or(stem);
    match stem {
        "wev" | "wev.user" => Some(FileKind::Wev),
        "artoken" | "artoken.user" => Some(FileKind::Artoken),
        _ => None,
    }
}

/// The directories searched, lowest precedence first: `home`, then every directory from the
/// root down to `cwd`. A directory is listed once (the first time), even when `home` is on the
/// way to `cwd`; symlinked spellings of one directory count as one.
pub fn search_dirs(home: Option<&Path>, cwd: &Path) -> Vec<PathBuf> {
    let cwd = if cwd.is_relative() {
        fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf())
    } else {
        cwd.to_path_buf()
    };
    let mut chain: Vec<PathBuf> = cwd.ancestors().map(Path::to_path_buf).collect();
    chain.reverse();
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for dir in home.map(Path::to_path_buf).into_iter().chain(chain) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let id = fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if !seen.contains(&id) {
            seen.push(id);
            dirs.push(dir);
        }
    }
    dirs
}

/// The config files that exist for `cwd`, lowest precedence first (later files win): in
/// [`search_dirs`] order, and in each directory in [`FILE_STEMS`] order.
pub fn discover(home: Option<&Path>, cwd: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in search_dirs(home, cwd) {
        for stem in FILE_STEMS {
            for ext in ["yml", "yaml"] {
                let path = dir.join(format!("{stem}.{ext}"));
                // Anything of that name is listed (a directory, a dangling symlink), so that
                // loading reports it instead of silently ignoring it.
                if fs::symlink_metadata(&path).is_ok() {
                    files.push(path);
                }
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }

    #[test]
    fn home_then_root_down_to_cwd_base_before_user() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let home = root.join("home");
        let cwd = root.join("work/proj");
        let expected = [
            home.join("wev.yml"),
            home.join("artoken.user.yml"),
            root.join("artoken.yml"),
            root.join("work/.wev.yml"),
            root.join("work/wev.yml"),
            root.join("work/wev.yaml"),
            root.join("work/.artoken.yml"),
            root.join("work/artoken.yml"),
            root.join("work/.wev.user.yml"),
            root.join("work/wev.user.yml"),
            root.join("work/.artoken.user.yml"),
            root.join("work/artoken.user.yml"),
            cwd.join("artoken.yml"),
            cwd.join("artoken.user.yaml"),
        ];
        for f in &expected {
            touch(f);
        }
        touch(&cwd.join("unrelated.yml"));
        touch(&root.join("work/sibling/artoken.yml"));
        let found: Vec<PathBuf> = discover(Some(&home), &cwd)
            .into_iter()
            .filter(|p| p.starts_with(root))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn home_on_the_chain_is_read_once() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        let cwd = home.join("proj");
        touch(&home.join("artoken.yml"));
        touch(&cwd.join("artoken.yml"));
        let found: Vec<PathBuf> = discover(Some(&home), &cwd)
            .into_iter()
            .filter(|p| p.starts_with(t.path()))
            .collect();
        assert_eq!(found, [home.join("artoken.yml"), cwd.join("artoken.yml")]);
        let dirs = search_dirs(Some(&home), &cwd);
        assert_eq!(dirs.iter().filter(|d| **d == home).count(), 1);
        assert_eq!(dirs.first(), Some(&home));
        assert_eq!(dirs.last(), Some(&cwd));
    }

    #[test]
    fn without_home_only_the_chain() {
        let t = tempfile::tempdir().unwrap();
        let dirs = search_dirs(None, t.path());
        assert_eq!(dirs.first(), Some(&PathBuf::from("/")));
        assert_eq!(dirs.last().map(PathBuf::as_path), Some(t.path()));
    }

    #[test]
    fn kinds_follow_names() {
        for (name, kind) in [
            ("wev.yml", Some(FileKind::Wev)),
            (".wev.user.yaml", Some(FileKind::Wev)),
            ("artoken.yml", Some(FileKind::Artoken)),
            (".artoken.user.yml", Some(FileKind::Artoken)),
            ("ci.yml", None),
            ("wev.txt", None),
        ] {
            assert_eq!(kind_from_name(Path::new(name)), kind, "{name}");
        }
    }
}
