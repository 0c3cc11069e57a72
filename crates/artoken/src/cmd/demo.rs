//! `artoken demo`: the whole flow on the embedded emulator, with the real tools found on PATH.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use codeartifact_emulator::config::{
    DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT, DEFAULT_SECRET_ACCESS_KEY,
};
use codeartifact_emulator::{BackgroundEmulator, EmulatorConfig};

use crate::cli::Global;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Leave the emulator running and print the environment to point your own tools at it
    #[arg(long)]
    pub keep: bool,
    /// Listen address for the emulator
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
}

const REGION: &str = "us-east-1";

/// One step's result line.
enum Outcome {
    Ok(String),
    Skipped(String),
    Failed(String),
}

struct Demo {
    dir: tempfile::TempDir,
    exe: PathBuf,
    envs: Vec<(OsString, OsString)>,
    failed: usize,
}

impl Demo {
    fn report(&mut self, step: &str, outcome: Outcome) {
        match outcome {
            Outcome::Ok(d) => println!("✓ {step}: {d}"),
            Outcome::Skipped(d) => println!("- {step}: skipped ({d})"),
            Outcome::Failed(d) => {
                self.failed += 1;
                println!("✗ {step}: {d}")
            }
        }
    }

    fn artoken(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.env_remove("AWS_PROFILE")
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path().join("project"));
        c
    }

    fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(name);
        c.env_remove("AWS_PROFILE")
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path().join("project"));
        c
    }
}

/// The first `name` on PATH outside a virtualenv's bin is not needed here: any will do.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn run_quiet(cmd: &mut Command) -> Result<(bool, String)> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

fn last_line(text: &str) -> String {
    artoken_core::redact::redact(
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(""),
    )
    .into_owned()
}

pub fn run(_global: &Global, args: DemoArgs) -> Result<ExitCode> {
    let emu = BackgroundEmulator::start(EmulatorConfig {
        listen: args.listen,
        region: REGION.into(),
        ..EmulatorConfig::demo()
    })
    .context("cannot start the embedded emulator")?;
    let dir = tempfile::Builder::new().prefix("artoken-demo-").tempdir()?;
    // Its files hold tokens (the cache, an .npmrc): removed on SIGINT/SIGTERM/SIGHUP too.
    remove_on_signal(dir.path().to_path_buf());
    for sub in ["project", "cache", "home", "site", "bin"] {
        std::fs::create_dir_all(dir.path().join(sub))?;
    }
    std::fs::write(
        dir.path().join("project/artoken.yml"),
        format!(
            "# written by `artoken demo`\nrepositories:\n  demo:\n    domain: demo\n    owner: \"{DEFAULT_ACCOUNT}\"\n    repository: pypi-store\n  demo-npm:\n    domain: demo\n    owner: \"{DEFAULT_ACCOUNT}\"\n    repository: npm-store\n    format: npm\ndefault: demo\nenv:\n  PIP_INDEX_URL: {{ url: demo }}\n  UV_INDEX_URL: {{ url: demo, tool: uv }}\n"
        ),
    )?;
    let d = dir.path();
    let envs: Vec<(OsString, OsString)> = vec![
        ("AWS_ENDPOINT_URL".into(), emu.url().into()),
        ("AWS_REGION".into(), REGION.into()),
        ("AWS_ACCESS_KEY_ID".into(), DEFAULT_ACCESS_KEY_ID.into()),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            DEFAULT_SECRET_ACCESS_KEY.into(),
        ),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_CONFIG_FILE".into(), d.join("home/aws-config").into()),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            d.join("home/aws-credentials").into(),
        ),
        ("ARTOKEN_CACHE_DIR".into(), d.join("cache").into()),
        ("ARTOKEN_CONFIG".into(), "".into()),
        ("PIP_CONFIG_FILE".into(), "/dev/null".into()),
        ("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()),
        ("PIP_NO_INPUT".into(), "1".into()),
        ("PIP_FIND_LINKS".into(), "".into()),
        ("UV_NO_CONFIG".into(), "1".into()),
        ("UV_CACHE_DIR".into(), d.join("cache/uv").into()),
        (
            "npm_config_userconfig".into(),
            d.join("project/.npmrc").into(),
        ),
        ("npm_config_cache".into(), d.join("cache/npm").into()),
        ("npm_config_update_notifier".into(), "false".into()),
        ("npm_config_fund".into(), "false".into()),
        ("npm_config_audit".into(), "false".into()),
    ];
    let mut demo = Demo {
        exe: std::env::current_exe().context("cannot find the artoken binary")?,
        dir,
        envs,
        failed: 0,
    };
    println!(
        "artoken demo: emulator at {} (domain demo, repositories pypi-store and npm-store)",
        emu.url()
    );

    // 1. fetch a token (through the real binary, like a user would)
    let start = Instant::now();
    let (ok, text) = run_quiet(demo.artoken().args(["token", "--json"]))?;
    let cold_ms = start.elapsed().as_secs_f64() * 1000.0;
    let outcome = if ok {
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
        let left = v["expires_in_seconds"].as_i64().unwrap_or(0);
        Outcome::Ok(format!(
            "token fetched in {cold_ms:.1} ms, {} ({})",
            artoken_core::human::expiry(left),
            v["expiration"].as_str().unwrap_or("?")
        ))
    } else {
        Outcome::Failed(last_line(&text))
    };
    demo.report("token", outcome);

    // 2. the cached second call
    let before = emu.stats().tokens_issued;
    let start = Instant::now();
    let (ok, text) = run_quiet(demo.artoken().arg("token"))?;
    let warm_ms = start.elapsed().as_secs_f64() * 1000.0;
    let outcome = if ok && emu.stats().tokens_issued == before {
        Outcome::Ok(format!("cached call in {warm_ms:.1} ms, no AWS request"))
    } else if ok {
        Outcome::Failed("the second call fetched a new token".into())
    } else {
        Outcome::Failed(last_line(&text))
    };
    demo.report("cache", outcome);

    // 3. exec -- pip install / uv pip install
    let site = demo.dir.path().join("site");
    let outcome = match (on_path("pip").or_else(|| on_path("pip3")), on_path("uv")) {
        (Some(pip), _) => pip_install(&demo, &pip, &site)?,
        (None, Some(uv)) => {
            let (ok, text) = run_quiet(
                demo.artoken()
                    .args(["exec", "--"])
                    .arg(&uv)
                    .args(["pip", "install", "--no-cache", "--target"])
                    .arg(&site)
                    .arg("artoken-demo"),
            )?;
            if ok && site.join("artoken_demo").exists() {
                Outcome::Ok(
                    "`artoken exec -- uv pip install artoken-demo` installed from the emulator"
                        .into(),
                )
            } else {
                Outcome::Failed(last_line(&text))
            }
        }
        (None, None) => Outcome::Skipped("neither pip nor uv is on PATH".into()),
    };
    demo.report("exec", outcome);

    // 4. the keyring helper: pip asks artoken for the token, nothing on disk
    let outcome = match on_path("pip").or_else(|| on_path("pip3")) {
        None => Outcome::Skipped("pip is not on PATH".into()),
        Some(pip) => keyring_install(&demo, &pip, &emu)?,
    };
    demo.report("keyring", outcome);

    // 5. serve: pip through the local auth proxy, with a token-free URL
    let outcome = match on_path("pip").or_else(|| on_path("pip3")) {
        None => Outcome::Skipped("pip is not on PATH".into()),
        Some(pip) => serve_install(&demo, &pip)?,
    };
    demo.report("serve", outcome);

    // 6. npm with an .npmrc written from `artoken url --tool npmrc`
    let outcome = match on_path("npm") {
        None => Outcome::Skipped("npm is not on PATH".into()),
        Some(npm) => npm_install(&demo, &npm)?,
    };
    demo.report("npm", outcome);

    let issued = emu.stats().tokens_issued;
    println!(
        "{} step(s) failed; the emulator issued {issued} token(s); no token was printed",
        demo.failed
    );
    if args.keep {
        println!("\nThe emulator keeps running until Ctrl-C. Point your tools at it:");
        for (k, v) in &demo.envs {
            let k = k.to_string_lossy();
            if k.starts_with("AWS_") || k.starts_with("ARTOKEN_CACHE") {
                println!(
                    "export {k}={}",
                    crate::envfmt::sh_quote(&v.to_string_lossy())
                );
            }
        }
        println!(
            "export ARTOKEN_CONFIG={}",
            demo.dir.path().join("project/artoken.yml").display()
        );
        println!(
            "# files in {} (removed when the demo stops)",
            demo.dir.path().display()
        );
        // The signal thread removes the folder and ends the process.
        loop {
            std::thread::park();
        }
    }
    Ok(if demo.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn pip_install(demo: &Demo, pip: &Path, site: &Path) -> Result<Outcome> {
    let (ok, text) = run_quiet(
        demo.artoken()
            .args(["exec", "--"])
            .arg(pip)
            .args(["install", "--no-cache-dir", "--quiet", "--target"])
            .arg(site)
            .arg("artoken-demo"),
    )?;
    Ok(if ok && site.join("artoken_demo").exists() {
        Outcome::Ok("`artoken exec -- pip install artoken-demo` installed from the emulator".into())
    } else {
        Outcome::Failed(last_line(&text))
    })
}

/// pip with `--keyring-provider subprocess` and a `keyring` link to artoken first on PATH.
fn keyring_install(demo: &Demo, pip: &Path, emu: &BackgroundEmulator) -> Result<Outcome> {
    let bin = demo.dir.path().join("bin");
    let link = bin.join("keyring");
    if !link.exists() {
        std::os::unix::fs::symlink(&demo.exe, &link).context("cannot link keyring")?;
    }
    let endpoint = codeartifact_emulator::endpoint_url(
        &emu.url(),
        "demo",
        DEFAULT_ACCOUNT,
        REGION,
        codeartifact_emulator::Format::Pypi,
        "pypi-store",
    );
    // `aws@` in the URL: pip before 26.2 asks the keyring only when the URL names a user.
    let index = format!("{}simple/", endpoint.replacen("http://", "http://aws@", 1));
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))?;
    let site = demo.dir.path().join("site-keyring");
    let (ok, text) = run_quiet(
        demo.tool(&pip.to_string_lossy())
            .env("PATH", path)
            .env_remove("PIP_INDEX_URL")
            .args([
                "install",
                "--no-cache-dir",
                "--quiet",
                "--keyring-provider",
                "subprocess",
                "--index-url",
                &index,
                "--target",
            ])
            .arg(&site)
            .arg("artoken-demo"),
    )?;
    Ok(if ok && site.join("artoken_demo").exists() {
        Outcome::Ok("pip installed through the keyring helper: no token in any file or URL".into())
    } else if text.contains("no such option: --keyring-provider") {
        Outcome::Skipped("this pip is older than 23.1 (no --keyring-provider)".into())
    } else {
        Outcome::Failed(last_line(&text))
    })
}

/// `artoken serve` on a free port, then pip with `http://127.0.0.1:PORT/demo/simple/`.
fn serve_install(demo: &Demo, pip: &Path) -> Result<Outcome> {
    use std::io::BufRead;
    let mut child = demo
        .artoken()
        .args(["serve", "--listen", "127.0.0.1:0", "--access-log", "off"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start `artoken serve`")?;
    let mut first = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut first);
    }
    let Some(base) = first
        .trim()
        .strip_prefix("artoken serve listening on ")
        .map(str::to_string)
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Ok(Outcome::Failed(format!(
            "`artoken serve` did not start: {}",
            first.trim()
        )));
    };
    let site = demo.dir.path().join("site-serve");
    let index = format!("{base}/demo/simple/");
    let result = run_quiet(
        demo.tool(&pip.to_string_lossy())
            .env_remove("PIP_INDEX_URL")
            .args([
                "install",
                "--no-cache-dir",
                "--quiet",
                "--index-url",
                &index,
                "--target",
            ])
            .arg(&site)
            .arg("artoken-demo"),
    );
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let _ = child.wait();
    let (ok, text) = result?;
    Ok(if ok && site.join("artoken_demo").exists() {
        Outcome::Ok(format!(
            "pip installed through `artoken serve` from {index} (no token in the URL)"
        ))
    } else {
        Outcome::Failed(last_line(&text))
    })
}

fn npm_install(demo: &Demo, npm: &Path) -> Result<Outcome> {
    let (ok, registry) = run_quiet(demo.artoken().args(["url", "demo-npm", "--tool", "npm"]))?;
    if !ok {
        return Ok(Outcome::Failed(last_line(&registry)));
    }
    let (ok, auth) = run_quiet(demo.artoken().args(["url", "demo-npm", "--tool", "npmrc"]))?;
    if !ok {
        return Ok(Outcome::Failed(last_line(&auth)));
    }
    let project = demo.dir.path().join("project");
    artoken_core::atomic::write_atomic(
        &project.join(".npmrc"),
        format!("registry={}\n{}\n", registry.trim(), auth.trim()).as_bytes(),
        0o600,
    )?;
    std::fs::write(
        project.join("package.json"),
        "{\"name\":\"demo-app\",\"version\":\"1.0.0\",\"private\":true}\n",
    )?;
    let (ok, text) = run_quiet(demo.tool(&npm.to_string_lossy()).args([
        "install",
        "--no-audit",
        "--no-fund",
        "artoken-demo",
    ]))?;
    Ok(
        if ok
            && project
                .join("node_modules/artoken-demo/package.json")
                .exists()
        {
            Outcome::Ok("`npm install artoken-demo` installed with an .npmrc from `artoken url --tool npmrc` (0600)".into())
        } else {
            Outcome::Failed(last_line(&text))
        },
    )
}

/// On SIGINT, SIGTERM or SIGHUP: removes `dir` and exits with 128 + the signal's number.
fn remove_on_signal(dir: PathBuf) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    // Registered here, before the demo goes on, so no signal is missed.
    let registered = rt.block_on(async {
        Some((
            signal(SignalKind::interrupt()).ok()?,
            signal(SignalKind::terminate()).ok()?,
            signal(SignalKind::hangup()).ok()?,
        ))
    });
    let Some((mut int, mut term, mut hup)) = registered else {
        return;
    };
    std::thread::spawn(move || {
        let number = rt.block_on(async move {
            tokio::select! {
                _ = int.recv() => 2,
                _ = term.recv() => 15,
                _ = hup.recv() => 1,
            }
        });
        let _ = std::fs::remove_dir_all(&dir);
        std::process::exit(128 + number);
    });
}
