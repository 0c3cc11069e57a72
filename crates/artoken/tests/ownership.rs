//! Whose files artoken trusts (the one ownership check, `artoken_core::ownership`): config
//! files another user planted in a parent directory, a cache dir that is a symlink or another
//! user's, a `refresh` target linking into another user's file or edited meanwhile, and the
//! keyring shim's temp file.
//!
//! CI runs as root and plays the other user with uid 65534 (nobody). Run as anyone else, the
//! tests that need a second user check the same rule on fabricated metadata instead (never a
//! silent skip).

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use artoken_core::ownership::{self, Distrust, Facts, Purpose};
use common::*;

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    ownership::euid() == 0
}

fn chown(p: &Path, uid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
}

fn set_mode(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The stderr lines that name `path`.
fn lines_naming(out: &Output, path: &Path) -> Vec<String> {
    let p = path.display().to_string();
    stderr(out)
        .lines()
        .filter(|l| l.contains(&p))
        .map(str::to_string)
        .collect()
}

/// The rule on a fabricated file of nobody's, for the tests run without root.
fn assert_nobodys_file_is_refused(purpose: Purpose) {
    let me = ownership::euid();
    assert_ne!(me, NOBODY, "the tests cannot run as nobody");
    let facts = Facts {
        uid: NOBODY,
        mode: 0o100644,
    };
    assert_eq!(
        ownership::check(facts, me, purpose),
        Err(Distrust::Owner {
            owner: NOBODY,
            me,
            root_ok: purpose == Purpose::Read
        })
    );
    let mine = Facts { uid: me, ..facts };
    assert_eq!(ownership::check(mine, me, purpose), Ok(()));
}

const PLANTED: &str = "env:\n  PLANTED: { value: from-nobody }\n";

#[test]
fn a_config_file_of_another_user_is_ignored_with_one_warning_and_read_once_it_is_ours() {
    let env = setup();
    let planted = env.sb.work().join("artoken.user.yml");
    fs::write(&planted, PLANTED).unwrap();
    if !is_root() {
        assert_nobodys_file_is_refused(Purpose::Read);
        let sh = env.ok(&["env"]);
        assert!(sh.contains("export PLANTED='from-nobody'"), "{sh}");
        return;
    }
    chown(&planted, NOBODY);
    let out = env.run(&["env"]);
    env.assert_no_leak_on_stderr(&out);
    assert!(out.status.success(), "{}", testkit::text(&out));
    let sh = stdout(&out);
    assert!(!sh.contains("PLANTED"), "{sh}");
    assert!(sh.contains("export CODEARTIFACT_AUTH_TOKEN="), "{sh}");
    let warned = lines_naming(&out, &planted);
    assert_eq!(warned.len(), 1, "{}", stderr(&out));
    assert!(
        warned[0].contains("is owned by uid 65534, not by you (uid 0)"),
        "{}",
        warned[0]
    );
    assert!(warned[0].contains("--config"), "{}", warned[0]);

    // A file of root's in a directory of nobody's (who could swap it): ignored too.
    let shared = env.sb.work().join("shared");
    let proj = shared.join("proj");
    fs::create_dir_all(&proj).unwrap();
    let inside = shared.join("artoken.user.yml");
    fs::write(&inside, "env:\n  INSIDE: { value: swapped }\n").unwrap();
    chown(&shared, NOBODY);
    let out = testkit::run(env.artoken().arg("env").current_dir(&proj));
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert!(!stdout(&out).contains("INSIDE"), "{}", stdout(&out));
    let warned = lines_naming(&out, &inside);
    assert_eq!(warned.len(), 1, "{}", stderr(&out));
    assert!(warned[0].contains("its directory is owned by uid 65534"));

    // The same file, once it is the user's, is read, without a word.
    chown(&planted, 0);
    let out = env.run(&["env"]);
    assert!(
        stdout(&out).contains("export PLANTED='from-nobody'"),
        "{}",
        testkit::text(&out)
    );
    assert!(lines_naming(&out, &planted).is_empty(), "{}", stderr(&out));
}

#[test]
fn config_reads_a_file_of_another_user_it_names() {
    let env = setup();
    let planted = env.sb.work().join("artoken.user.yml");
    fs::write(&planted, PLANTED).unwrap();
    if is_root() {
        chown(&planted, NOBODY);
    } else {
        assert_nobodys_file_is_refused(Purpose::Read);
    }
    let project = env.sb.work().join("artoken.yml");
    let out = env.run(&[
        "--config",
        project.to_str().unwrap(),
        "--config",
        planted.to_str().unwrap(),
        "env",
    ]);
    env.assert_no_leak_on_stderr(&out);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert!(stdout(&out).contains("export PLANTED='from-nobody'"));
    assert!(lines_naming(&out, &planted).is_empty(), "{}", stderr(&out));
    // ARTOKEN_CONFIG too.
    let out = testkit::run(env.artoken().arg("env").env(
        "ARTOKEN_CONFIG",
        format!("{}:{}", project.display(), planted.display()),
    ));
    assert!(stdout(&out).contains("export PLANTED='from-nobody'"));
}

#[test]
fn a_config_file_every_user_can_write_is_ignored() {
    let env = setup();
    let planted = env.sb.work().join("artoken.user.yml");
    fs::write(&planted, PLANTED).unwrap();
    set_mode(&planted, 0o666);
    let out = env.run(&["env"]);
    assert!(out.status.success(), "{}", testkit::text(&out));
    assert!(!stdout(&out).contains("PLANTED"), "{}", stdout(&out));
    let warned = lines_naming(&out, &planted);
    assert_eq!(warned.len(), 1, "{}", stderr(&out));
    assert!(
        warned[0].contains("is writable by every user"),
        "{}",
        warned[0]
    );
    set_mode(&planted, 0o644);
    assert!(env.ok(&["env"]).contains("PLANTED"));
}

#[test]
fn a_symlinked_cache_dir_is_not_used_and_its_target_keeps_its_mode() {
    let env = setup();
    let real = env.sb.root().join("elsewhere");
    fs::create_dir(&real).unwrap();
    set_mode(&real, 0o755);
    let link = env.sb.root().join("cache-link");
    symlink(&real, &link).unwrap();
    // Another user's link (as root, the test gives it to nobody; otherwise it is the test
    // user's own, which is refused too: only root's links are followed).
    if is_root() {
        chown(&link, NOBODY);
    }
    for _ in 0..2 {
        let before = env.tokens_issued();
        let out = testkit::run(env.artoken().arg("env").env("ARTOKEN_CACHE_DIR", &link));
        env.assert_no_leak_on_stderr(&out);
        assert!(out.status.success(), "{}", testkit::text(&out));
        assert!(stdout(&out).contains("export CODEARTIFACT_AUTH_TOKEN="));
        let warned = lines_naming(&out, &link);
        assert_eq!(warned.len(), 1, "{}", stderr(&out));
        assert!(
            warned[0].contains("is a symlink") && warned[0].contains("working without a cache"),
            "{}",
            warned[0]
        );
        // Uncached: every run fetches its own token.
        assert!(env.tokens_issued() > before);
    }
    assert_eq!(mode_of(&real), 0o755, "the link's target was chmodded");
    assert_eq!(fs::read_dir(&real).unwrap().count(), 0, "written through");
}

/// systemd's `CacheDirectory=` with `DynamicUser=` makes the cache dir a root-owned link to a
/// directory of the service's user: that one is used (only root can make such a link).
#[test]
fn a_root_owned_link_to_a_cache_dir_of_ours_is_used() {
    let env = setup();
    let real = env.sb.root().join("private-cache");
    fs::create_dir(&real).unwrap();
    set_mode(&real, 0o700);
    let link = env.sb.root().join("cache-link");
    symlink(&real, &link).unwrap();
    let out = testkit::run(env.artoken().arg("env").env("ARTOKEN_CACHE_DIR", &link));
    assert!(out.status.success(), "{}", testkit::text(&out));
    if !is_root() {
        // The test user's own link is no root link: refused, with the warning.
        assert_eq!(lines_naming(&out, &link).len(), 1, "{}", stderr(&out));
        return;
    }
    assert!(lines_naming(&out, &link).is_empty(), "{}", stderr(&out));
    let before = env.tokens_issued();
    let out = testkit::run(env.artoken().arg("env").env("ARTOKEN_CACHE_DIR", &link));
    assert!(out.status.success());
    assert_eq!(env.tokens_issued(), before, "the second run used the cache");
    assert!(
        fs::read_dir(&real).unwrap().count() > 0,
        "entries in the linked dir"
    );
}

#[test]
fn a_cache_dir_of_another_user_is_neither_used_nor_chmodded() {
    let env = setup();
    if !is_root() {
        assert_nobodys_file_is_refused(Purpose::Write);
        // Root's own directory is not ours to write into either.
        let root_dir = Facts {
            uid: 0,
            mode: 0o040755,
        };
        assert!(ownership::check(root_dir, ownership::euid(), Purpose::Write).is_err());
        return;
    }
    let theirs = env.sb.root().join("theirs-cache");
    fs::create_dir(&theirs).unwrap();
    set_mode(&theirs, 0o755);
    chown(&theirs, NOBODY);
    let out = testkit::run(env.artoken().arg("env").env("ARTOKEN_CACHE_DIR", &theirs));
    assert!(out.status.success(), "{}", testkit::text(&out));
    let warned = lines_naming(&out, &theirs);
    assert_eq!(warned.len(), 1, "{}", stderr(&out));
    assert!(
        warned[0].contains("is owned by uid 65534, not by you (uid 0)")
            && warned[0].contains("working without a cache"),
        "{}",
        warned[0]
    );
    assert_eq!(mode_of(&theirs), 0o755, "another user's dir was chmodded");
    assert_eq!(fs::metadata(&theirs).unwrap().uid(), NOBODY);
    assert_eq!(fs::read_dir(&theirs).unwrap().count(), 0);
}

/// A requirements file whose index line points at the emulator's repository with an old token.
fn requirements(env: &Env, extra: &str) -> String {
    let hp = env.endpoint().trim_start_matches("http://").to_string();
    format!("# pinned\n--index-url http://aws:stale-token@{hp}simple/\nrequests==2.32.0\n{extra}")
}

fn with_target(env: &Env, file: &str) {
    fs::write(
        env.sb.work().join("artoken.user.yml"),
        format!("targets:\n  - file: {file}\n    repository: demo\n"),
    )
    .unwrap();
}

#[test]
fn refresh_refuses_a_symlink_into_another_users_file() {
    let env = setup();
    let theirs_dir = env.sb.root().join("theirs");
    fs::create_dir(&theirs_dir).unwrap();
    let theirs = theirs_dir.join("requirements.txt");
    let text = requirements(&env, "");
    fs::write(&theirs, &text).unwrap();
    set_mode(&theirs, 0o644);
    let link = env.sb.work().join("requirements.txt");
    symlink(&theirs, &link).unwrap();
    with_target(&env, "requirements.txt");
    if !is_root() {
        assert_nobodys_file_is_refused(Purpose::Write);
        // The same link judged for another user than the one owning the target.
        let e = ownership::write_through(&link, ownership::euid() + 1).unwrap_err();
        assert!(e.contains("belongs to another user"), "{e}");
        return;
    }
    chown(&theirs_dir, NOBODY);
    chown(&theirs, NOBODY);
    let out = env.run(&["refresh", "--once"]);
    env.assert_no_leak_on_stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}", testkit::text(&out));
    let line = stdout(&out);
    assert!(
        line.starts_with(&format!(
            "{}: FAILED: is a symlink to {}, which belongs to another user (uid 65534)",
            link.display(),
            theirs.display()
        )),
        "{line}"
    );
    assert_eq!(fs::read_to_string(&theirs).unwrap(), text);
    let meta = fs::metadata(&theirs).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (NOBODY, 0o644));
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn refresh_keeps_an_edit_made_while_it_waits_for_the_writers_lock() {
    let env = setup();
    let file = env.sb.work().join("requirements.txt");
    let before = requirements(&env, "");
    artoken_core::atomic::write_atomic(&file, before.as_bytes(), 0o644).unwrap();
    with_target(&env, "requirements.txt");

    // This test is another writer: it holds the lock every writer of a target takes.
    let held = artoken_core::atomic::lock_target(&file, Duration::from_secs(5)).unwrap();
    let mut cmd = env.artoken();
    cmd.args(["-v", "refresh", "--once"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // Until refresh says it waits for the lock (or, without the lock, ends).
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
        if line.contains("waiting for another writer's lock") {
            break;
        }
    }
    // The edit, made under the lock, from what the file held when refresh read it.
    let edited = requirements(&env, "boto3==1.35.0\n");
    artoken_core::atomic::write_atomic(&file, edited.as_bytes(), 0o644).unwrap();
    drop(held);
    err.read_to_string(&mut seen).unwrap();
    let mut out_text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out_text)
        .unwrap();
    let status = child.wait().unwrap();
    let out = Output {
        status,
        stdout: out_text.clone().into_bytes(),
        stderr: seen.clone().into_bytes(),
    };
    testkit::record_output(&cmd, &out);
    env.assert_no_leak_on_stderr(&out);
    assert!(status.success(), "{out_text}{seen}");
    assert!(
        seen.contains("waiting for another writer's lock"),
        "refresh did not wait for the lock: {seen}"
    );
    let token = env.emu.issued_tokens().last().cloned().unwrap();
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        edited.replace("stale-token", &token),
        "the edit and the token are both there"
    );
    assert!(
        out_text.contains("after 2 reads: it changed meanwhile"),
        "{out_text}"
    );
}

#[test]
fn keyring_install_never_writes_through_a_planted_temp_name() {
    let sb = testkit::Sandbox::new();
    let root = sb.root();
    let victim_dir = root.join("victim");
    fs::create_dir(&victim_dir).unwrap();
    let victim = victim_dir.join(".profile");
    fs::write(&victim, "export PATH=$HOME/bin:$PATH\n").unwrap();
    set_mode(&victim, 0o644);
    // A shared bin dir (like a group's tools dir): anyone may add files, as in /tmp.
    let bin = root.join("shared-bin");
    fs::create_dir(&bin).unwrap();
    set_mode(&bin, 0o1777);
    let plant = |name: String| symlink(&victim, bin.join(name)).unwrap();

    if !is_root() {
        // In this process: names an old artoken would have used, and others.
        plant(format!(".keyring.artoken-tmp.{}", std::process::id()));
        plant(".keyring.artoken-tmp.0".into());
        let exe = &artoken_bin();
        artoken_tools::keyring::install(&bin, exe, artoken_tools::keyring::ShimKind::Script)
            .unwrap();
        assert!(
            fs::read_to_string(bin.join("keyring"))
                .unwrap()
                .contains("# artoken keyring shim")
        );
        assert_eq!(
            fs::read_to_string(&victim).unwrap(),
            "export PATH=$HOME/bin:$PATH\n"
        );
        assert_eq!(mode_of(&victim), 0o644);
        return;
    }

    // nobody installs the shim; the planted link (root's, in a sticky dir) is one nobody can
    // neither remove nor replace, and points at nobody's own file.
    chown(&victim_dir, NOBODY);
    chown(&victim, NOBODY);
    set_mode(root, 0o755);
    let exe = root.join("bin-for-nobody/artoken");
    fs::create_dir_all(exe.parent().unwrap()).unwrap();
    set_mode(exe.parent().unwrap(), 0o755);
    fs::copy(artoken_bin(), &exe).unwrap();
    set_mode(&exe, 0o755);
    // Wait out "Text file busy" from other threads' forks before exec'ing it from sh.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while let Err(e) = Command::new(&exe).arg("--version").output() {
        assert!(
            e.raw_os_error() == Some(libc::ETXTBSY) && std::time::Instant::now() < deadline,
            "cannot run the copy: {e}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // sh waits for a line, then execs artoken in the same process: its pid is known before
    // artoken starts, so the temp name an old artoken would pick can be planted first.
    let mut cmd = sb.command("sh");
    cmd.args([
        "-c",
        r#"read go; exec "$0" keyring install --dir "$1" --script"#,
        exe.to_str().unwrap(),
        bin.to_str().unwrap(),
    ])
    .uid(NOBODY)
    .gid(NOBODY)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    plant(format!(".keyring.artoken-tmp.{}", child.id()));
    plant(".keyring.artoken-tmp.0".into());
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    testkit::record_output(&cmd, &out);
    assert_eq!(
        fs::read_to_string(&victim).unwrap(),
        "export PATH=$HOME/bin:$PATH\n",
        "the shim was written through the planted symlink: {}",
        testkit::text(&out)
    );
    assert_eq!(mode_of(&victim), 0o644);
    assert!(out.status.success(), "{}", testkit::text(&out));
    let shim = bin.join("keyring");
    assert!(
        fs::read_to_string(&shim)
            .unwrap()
            .contains("# artoken keyring shim")
    );
    let meta = fs::symlink_metadata(&shim).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (NOBODY, 0o755));
    // Only the planted links and the shim: no temp file left behind.
    assert_eq!(fs::read_dir(&bin).unwrap().count(), 3);
}
