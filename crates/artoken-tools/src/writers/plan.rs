//! What `artoken login`/`logout` change: which files (chosen by tool and flags), their text
//! before and after, then the diff (`--dry-run`) or the atomic writes.

use std::path::{Path, PathBuf};

use super::lines::{HASH, Style, XML};
use super::restore;
use super::tool::Tool;
use super::{
    bun, cargo, diff, dotenv, fsio, gradle_init, helper, maven, netrc, npmrc, nuget, pip, pipfile,
    poetry, properties, pypirc, uv, yarnrc,
};

/// What went wrong: a flag, or a file (named, with the flag that chose it).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

/// The flags of `login`/`logout`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// pip, uv, poetry: an extra index rather than the default one.
    pub extra: bool,
    /// npm, pnpm, yarn: `@scope` (the `@` is optional).
    pub scope: Option<String>,
    /// This file instead of the tool's default one.
    pub file: Option<PathBuf>,
    /// pip: the active virtual environment's pip.conf.
    pub site: bool,
    /// uv: also write the credential variables to this dotenv file.
    pub env_file: Option<PathBuf>,
    /// pnpm: a `tokenHelper` line that runs artoken instead of a token.
    pub helper: Option<Helper>,
    /// yarn: yarn 1's .npmrc (with `always-auth`) instead of yarn berry's .yarnrc.yml.
    pub classic: bool,
    /// maven: a `<mirror>` to `artoken serve` at this URL instead of a token.
    pub serve: Option<String>,
    /// gradle: an init script that runs this artoken (`artoken token`) instead of
    /// gradle.properties with a token.
    pub init_script: Option<Helper>,
}

/// The artoken a tool's helper setting runs.
#[derive(Debug, Clone, Default)]
pub struct Helper {
    /// The executable (absolute).
    pub exe: PathBuf,
    /// The config files it reads (`--config`, so it decides the same wherever the tool runs).
    pub config: Vec<PathBuf>,
}

/// Where the process runs: its environment and current directory.
pub struct Context<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub cwd: PathBuf,
}

/// The repository login configures.
pub struct Target<'a> {
    /// The repository's name in artoken.yml (names the blocks, sections, sources).
    pub name: &'a str,
    /// GetRepositoryEndpoint's URL.
    pub endpoint: &'a str,
    /// `None` for tools that never write it ([`Tool::needs_token`]).
    pub token: Option<&'a str>,
}

/// One file a command changes.
#[derive(Debug, Clone)]
pub struct Change {
    /// As shown to the user.
    pub path: PathBuf,
    /// What is written (a symlink's target).
    pub real: PathBuf,
    pub before: Option<String>,
    /// `None`: the file goes (logout emptied it).
    pub after: Option<String>,
    /// Holds a token: written 0600.
    pub secret: bool,
    /// The file's mode when it was read.
    pub mode_before: Option<u32>,
    /// The mode to write it with; `None`: 0600 with a token, else the file's own.
    pub mode: Option<u32>,
}

impl Change {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    pub fn action(&self) -> &'static str {
        match (&self.before, &self.after) {
            _ if !self.changed() => "unchanged",
            (None, Some(_)) => "created",
            (Some(_), None) => "removed",
            _ => "updated",
        }
    }
}

/// The outcome of planning a command.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// uv: the variables that carry the credentials (to print, or written to `--env-file`).
    pub env: Vec<(String, String)>,
    /// logout: an entry of the repository's name it left in place and why, one line each.
    pub notes: Vec<String>,
}

impl Plan {
    /// The diff of every change, tokens masked.
    pub fn diff(&self, secrets: &[&str]) -> String {
        self.changes
            .iter()
            .map(|c| {
                diff::unified(
                    &c.path.display().to_string(),
                    c.before.as_deref(),
                    c.after.as_deref(),
                    secrets,
                )
            })
            .collect()
    }

    /// Writes every changed file.
    pub fn apply(&self) -> Result<(), WriteError> {
        for c in self.changes.iter().filter(|c| c.changed()) {
            fsio::write_as(&c.real, c.after.as_deref(), c.secret, c.mode)
                .map_err(|m| file_err(&c.path, None, m))?;
        }
        Ok(())
    }

    /// `updated /p/pip.conf, created /p/auth.toml` (or `unchanged ...`).
    pub fn summary(&self) -> String {
        self.changes
            .iter()
            .map(|c| format!("{} {}", c.action(), c.path.display()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn file_err(path: &Path, flag: Option<&str>, message: String) -> WriteError {
    let path = match flag {
        Some(f) => format!("{f} {}", path.display()),
        None => path.display().to_string(),
    };
    WriteError::File { path, message }
}

fn usage(m: impl Into<String>) -> WriteError {
    WriteError::Usage(m.into())
}

/// Checks the flags against the tool; returns the scope as `@name`.
pub fn check(tool: Tool, o: &Options, logout: bool) -> Result<Option<String>, WriteError> {
    if o.extra && !tool.takes_extra() {
        return Err(usage(format!(
            "--extra: only pip, uv and poetry have extra indexes, not {tool}"
        )));
    }
    if o.site && tool != Tool::Pip {
        return Err(usage(format!(
            "--site: only pip has a site config, not {tool}"
        )));
    }
    if o.site && o.file.is_some() {
        return Err(usage("--site: give either --site or --file"));
    }
    if o.env_file.is_some() && tool != Tool::Uv {
        return Err(usage(format!(
            "--env-file: only uv reads its credentials from variables, not {tool}"
        )));
    }
    if o.helper.is_some() && !matches!(tool, Tool::Pnpm | Tool::Pip | Tool::Uv) {
        return Err(usage(format!(
            "--helper: only pip and uv (keyring) and pnpm (tokenHelper) run a helper, not {tool} (npm, yarn: `artoken serve`; bun: `login bun`)"
        )));
    }
    if o.helper.is_some() && o.env_file.is_some() {
        return Err(usage(
            "--env-file: with --helper uv asks artoken for the token, so there are no variables to write",
        ));
    }
    if o.serve.is_some() && tool != Tool::Maven {
        return Err(usage(format!(
            "--serve: only maven gets a mirror to `artoken serve`, not {tool} (the others take serve's URL as their index or registry)"
        )));
    }
    if o.init_script.is_some() && tool != Tool::Gradle {
        return Err(usage(format!(
            "--init-script: only gradle runs init scripts, not {tool}"
        )));
    }
    if o.classic && tool != Tool::Yarn {
        return Err(usage(format!(
            "--classic: only yarn has a classic version, not {tool}"
        )));
    }
    let Some(s) = &o.scope else { return Ok(None) };
    if !tool.takes_scope() {
        return Err(usage(format!(
            "--scope: only npm, pnpm, yarn and bun have scopes, not {tool}"
        )));
    }
    if logout {
        return Ok(None);
    }
    let bare = s.strip_prefix('@').unwrap_or(s);
    let ok = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
        && !bare.starts_with(['.', '_']);
    if !ok {
        return Err(usage(format!(
            "--scope: {s:?} is not an npm scope (lowercase letters, digits, '-', '.', '_', like @corp)"
        )));
    }
    Ok(Some(format!("@{bare}")))
}

struct Files<'a> {
    ctx: &'a Context<'a>,
}

impl Files<'_> {
    fn var(&self, k: &str) -> Option<PathBuf> {
        (self.ctx.env)(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    fn home(&self) -> Result<PathBuf, WriteError> {
        self.var("HOME")
            .ok_or_else(|| usage("HOME is not set: give the file with --file"))
    }

    fn config_home(&self) -> Result<PathBuf, WriteError> {
        match self.var("XDG_CONFIG_HOME") {
            Some(p) if p.is_absolute() => Ok(p),
            _ => Ok(self.home()?.join(".config")),
        }
    }

    /// `login gradle --init-script`: `$GRADLE_USER_HOME/init.d/artoken-NAME.gradle` (or --file).
    fn gradle_init(
        &self,
        o: &Options,
        name: &str,
    ) -> Result<(PathBuf, Option<&'static str>), WriteError> {
        if let Some(f) = &o.file {
            return Ok((self.abs(f), Some("--file")));
        }
        let home = match self.var("GRADLE_USER_HOME") {
            Some(h) => h,
            None => self.home()?.join(".gradle"),
        };
        Ok((
            home.join("init.d").join(format!("artoken-{name}.gradle")),
            None,
        ))
    }

    fn abs(&self, p: &Path) -> PathBuf {
        self.ctx.cwd.join(p)
    }

    /// The tool's main file and the flag that chose it.
    fn main(&self, tool: Tool, o: &Options) -> Result<(PathBuf, Option<&'static str>), WriteError> {
        if let Some(f) = &o.file {
            return Ok((self.abs(f), Some("--file")));
        }
        let home = || self.home();
        let p = match tool {
            Tool::Pip if o.site => match self.var("VIRTUAL_ENV") {
                Some(v) => return Ok((v.join("pip.conf"), Some("--site"))),
                None => {
                    return Err(usage(
                        "--site: no virtual environment is active (VIRTUAL_ENV is not set); activate one, or give the file with --file",
                    ));
                }
            },
            Tool::Pip => self.config_home()?.join("pip/pip.conf"),
            Tool::Uv => self.config_home()?.join("uv/uv.toml"),
            Tool::Poetry | Tool::Pipenv => {
                let name = if tool == Tool::Poetry {
                    "pyproject.toml"
                } else {
                    "Pipfile"
                };
                let p = self.ctx.cwd.join(name);
                if !p.exists() {
                    return Err(usage(format!(
                        "no {name} in {}: run this in the project, or give the file with --file",
                        self.ctx.cwd.display()
                    )));
                }
                p
            }
            Tool::Twine => home()?.join(".pypirc"),
            Tool::Npm | Tool::Pnpm => self.npmrc()?,
            Tool::Yarn if o.classic => self.npmrc()?,
            Tool::Yarn => home()?.join(".yarnrc.yml"),
            // bun reads $XDG_CONFIG_HOME/.bunfig.toml when the variable is set, else ~/.bunfig.toml.
            Tool::Bun => self
                .var("XDG_CONFIG_HOME")
                .unwrap_or(home()?)
                .join(".bunfig.toml"),
            Tool::Maven => home()?.join(".m2/settings.xml"),
            Tool::Gradle => self
                .var("GRADLE_USER_HOME")
                .unwrap_or(home()?.join(".gradle"))
                .join("gradle.properties"),
            Tool::Nuget | Tool::Dotnet => home()?.join(".nuget/NuGet/NuGet.Config"),
            Tool::Cargo => {
                let dir = self.var("CARGO_HOME").unwrap_or(home()?.join(".cargo"));
                let legacy = dir.join("config");
                if legacy.is_file() && !dir.join("config.toml").exists() {
                    legacy
                } else {
                    dir.join("config.toml")
                }
            }
            Tool::Swift | Tool::Netrc => home()?.join(".netrc"),
        };
        Ok((p, None))
    }

    /// npm's user config (pnpm and yarn 1 read it too).
    fn npmrc(&self) -> Result<PathBuf, WriteError> {
        Ok(self
            .var("NPM_CONFIG_USERCONFIG")
            .or_else(|| self.var("npm_config_userconfig"))
            .map(|p| self.abs(&p))
            .unwrap_or(self.home()?.join(".npmrc")))
    }

    fn poetry_auth(&self) -> Result<PathBuf, WriteError> {
        Ok(match self.var("POETRY_CONFIG_DIR") {
            Some(d) => d.join("auth.toml"),
            None => self.config_home()?.join("pypoetry/auth.toml"),
        })
    }
}

/// Reads a file for editing.
fn open(
    path: PathBuf,
    flag: Option<&'static str>,
    secret: bool,
) -> Result<(Change, Option<&'static str>), WriteError> {
    let real = fsio::resolve(&path).map_err(|m| file_err(&path, flag, m))?;
    let before = fsio::read(&real).map_err(|m| file_err(&path, flag, m))?;
    let mode_before = std::fs::metadata(&real)
        .ok()
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777);
    Ok((
        Change {
            path,
            real,
            after: before.clone(),
            before,
            secret,
            mode_before,
            mode: None,
        },
        flag,
    ))
}

/// Runs `edit` on the file's text and records the result.
fn edit(
    opened: (Change, Option<&'static str>),
    edit: impl FnOnce(&str) -> Result<String, String>,
) -> Result<Change, WriteError> {
    let (mut c, flag) = opened;
    let out = edit(c.before.as_deref().unwrap_or("")).map_err(|m| file_err(&c.path, flag, m))?;
    // A file logout empties goes (unless it was an empty file to begin with).
    c.after = if out.is_empty() && c.before.as_deref() != Some("") {
        None
    } else {
        Some(out)
    };
    Ok(c)
}

/// True when the tool's main file holds the token (written 0600).
fn main_holds_token(tool: Tool) -> bool {
    !matches!(
        tool,
        Tool::Uv | Tool::Poetry | Tool::Pipenv | Tool::Cargo | Tool::Bun
    )
}

fn slash(endpoint: &str) -> String {
    if endpoint.ends_with('/') {
        endpoint.to_string()
    } else {
        format!("{endpoint}/")
    }
}

fn host(endpoint: &str) -> Result<String, WriteError> {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .ok_or_else(|| usage(format!("the endpoint {endpoint:?} has no host")))
}

/// Plans `artoken login TOOL NAME`.
pub fn login(
    tool: Tool,
    t: &Target<'_>,
    o: &Options,
    ctx: &Context<'_>,
) -> Result<Plan, WriteError> {
    let scope = check(tool, o, false)?;
    let files = Files { ctx };
    let base = slash(t.endpoint);
    let simple = format!("{base}simple/");
    let name = t.name;
    let token = || {
        t.token
            .ok_or_else(|| usage(format!("login {tool} needs a token")))
    };
    let (main, flag) = match o.init_script {
        Some(_) => files.gradle_init(o, name)?,
        None => files.main(tool, o)?,
    };
    let mut plan = Plan::default();
    let no_token = o.serve.is_some() || o.init_script.is_some();
    let f = open(main, flag, main_holds_token(tool) && !no_token)?;
    let change = match tool {
        Tool::Pip if o.helper.is_some() => {
            let url = helper::with_user(&simple).map_err(usage)?;
            edit(f, |s| pip::login_helper(s, name, &url, o.extra))?
        }
        Tool::Uv if o.helper.is_some() => {
            let pyproject = f.0.path.file_name().is_some_and(|n| n == "pyproject.toml");
            let url = helper::with_user(&simple).map_err(usage)?;
            edit(f, |s| uv::login_helper(s, name, &url, o.extra, pyproject))?
        }
        Tool::Pip => {
            let url =
                artoken_core::urls::with_userinfo(&simple, &artoken_core::Token::new(token()?))
                    .map_err(usage)?;
            edit(f, |s| pip::login(s, name, &url, o.extra))?
        }
        Tool::Uv => {
            let pyproject = f.0.path.file_name().is_some_and(|n| n == "pyproject.toml");
            plan.env = uv::env_vars(name, token()?);
            edit(f, |s| uv::login(s, name, &simple, o.extra, pyproject))?
        }
        Tool::Poetry => {
            let c = edit(f, |s| poetry::login_source(s, name, &simple, o.extra))?;
            let auth = open(files.poetry_auth()?, None, true)?;
            plan.changes.push(c);
            edit(auth, |s| {
                poetry::login_auth(s, name, token().map_err(|e| e.to_string())?)
            })?
        }
        Tool::Pipenv => edit(f, |s| pipfile::login(s, name, &simple))?,
        Tool::Twine => edit(f, |s| {
            pypirc::login(s, name, &base, token().map_err(|e| e.to_string())?)
        })?,
        Tool::Pnpm if o.helper.is_some() => {
            let h = o.helper.clone().unwrap_or_default();
            let command = npmrc::helper_command(&h.exe, &h.config, &base).map_err(usage)?;
            edit(f, |s| {
                npmrc::login_with(
                    s,
                    name,
                    &base,
                    npmrc::Auth::Helper(&command),
                    scope.as_deref(),
                )
            })?
        }
        Tool::Npm | Tool::Pnpm => edit(f, |s| {
            npmrc::login(
                s,
                name,
                &base,
                token().map_err(|e| e.to_string())?,
                scope.as_deref(),
            )
        })?,
        Tool::Yarn if o.classic => edit(f, |s| {
            npmrc::login_with(
                s,
                name,
                &base,
                npmrc::Auth::TokenAlwaysAuth(token().map_err(|e| e.to_string())?),
                scope.as_deref(),
            )
        })?,
        Tool::Bun => edit(f, |s| bun::login(s, name, &base, scope.as_deref()))?,
        Tool::Yarn => edit(f, |s| {
            yarnrc::login(
                s,
                name,
                &base,
                token().map_err(|e| e.to_string())?,
                scope.as_deref(),
            )
        })?,
        Tool::Maven if o.serve.is_some() => {
            let url =
                maven::serve_url(o.serve.as_deref().unwrap_or_default(), name).map_err(usage)?;
            edit(f, |s| maven::login_mirror(s, name, &url))?
        }
        Tool::Maven => edit(f, |s| {
            maven::login(s, name, token().map_err(|e| e.to_string())?)
        })?,
        Tool::Gradle if o.init_script.is_some() => {
            let h = o.init_script.clone().unwrap_or_default();
            let command = gradle_init::command(&h.exe, &h.config, name).map_err(usage)?;
            edit(f, |s| gradle_init::login(s, name, &base, &command))?
        }
        Tool::Gradle => edit(f, |s| {
            properties::login(s, name, &base, token().map_err(|e| e.to_string())?)
        })?,
        Tool::Nuget | Tool::Dotnet => {
            let feed = format!("{base}v3/index.json");
            edit(f, |s| {
                nuget::login(s, name, &feed, token().map_err(|e| e.to_string())?)
            })?
        }
        Tool::Cargo => edit(f, |s| cargo::login(s, name, &format!("sparse+{base}")))?,
        Tool::Swift | Tool::Netrc => {
            let h = host(&base)?;
            let user = if tool == Tool::Swift { "token" } else { "aws" };
            edit(f, |s| {
                netrc::login(s, name, &h, user, token().map_err(|e| e.to_string())?)
            })?
        }
    };
    plan.changes.push(change);
    if let Some(env_file) = &o.env_file {
        let f = open(files.abs(env_file), Some("--env-file"), true)?;
        let vars = plan.env.clone();
        plan.changes
            .push(edit(f, |s| dotenv::login(s, name, &vars))?);
    }
    for (i, c) in plan.changes.iter_mut().enumerate() {
        if let Some(s) = style(tool, i).filter(|_| o.init_script.is_none()) {
            restore::after_login(c, s);
        }
    }
    if let (Tool::Pip | Tool::Uv, Some(h)) = (tool, &o.helper) {
        keyring_shim(&mut plan, &files, tool, name, Some(h))?;
    }
    Ok(plan)
}

/// `login pip|uv --helper` and their logout: the `keyring` shim in ~/.local/bin that names
/// this login (see [`helper`]), after the tool's own file; login notes what would keep the
/// clients from running it. A logout changes it only when it names this login.
fn keyring_shim(
    plan: &mut Plan,
    files: &Files<'_>,
    tool: Tool,
    name: &str,
    helper: Option<&Helper>,
) -> Result<(), WriteError> {
    let Some(main) = plan.changes.first().map(|c| c.path.clone()) else {
        return Ok(());
    };
    let home = match (files.home(), helper) {
        (Ok(h), _) => h,
        (Err(_), None) => return Ok(()),
        (Err(_), Some(_)) => {
            return Err(usage(
                "--helper: HOME is not set, so there is no ~/.local/bin for the keyring shim",
            ));
        }
    };
    let dir = helper::shim_dir(&home);
    let rec = helper::record(tool.name(), name, &main).map_err(usage)?;
    let change = match helper {
        Some(h) => helper::login(&dir, &h.exe, &h.config, &rec),
        None => helper::logout(&dir, &rec),
    }
    .map_err(usage)?;
    if helper.is_some() {
        let path = (files.ctx.env)("PATH").unwrap_or_default();
        plan.notes.extend(helper::path_notes(&dir, &path));
    }
    plan.changes.extend(change);
    Ok(())
}

/// The comment style of change `i` of a plan (the tool's main file first, then poetry's
/// auth.toml, then a dotenv file), for the record [`restore`] keeps. `None` for the TOML files
/// whose entries carry no markers (found by shape: see `toml_entry`), where a marker count
/// cannot tell whether another repository's token is still in the file: those keep the old
/// behaviour (0600 stays, a file logout empties goes).
fn style(tool: Tool, i: usize) -> Option<Style> {
    match (tool, i) {
        (Tool::Maven | Tool::Nuget | Tool::Dotnet, 0) => Some(XML),
        (Tool::Uv | Tool::Poetry | Tool::Pipenv, 0) | (Tool::Poetry, 1) => None,
        _ => Some(HASH),
    }
}

/// Plans `artoken logout TOOL NAME`.
pub fn logout(tool: Tool, name: &str, o: &Options, ctx: &Context<'_>) -> Result<Plan, WriteError> {
    check(tool, o, true)?;
    let files = Files { ctx };
    let (main, flag) = match o.init_script {
        Some(_) => files.gradle_init(o, name)?,
        None => files.main(tool, o)?,
    };
    let mut plan = Plan::default();
    let f = open(
        main,
        flag,
        main_holds_token(tool) && o.init_script.is_none(),
    )?;
    let remove: fn(&str, &str) -> Result<String, String> = match tool {
        Tool::Pip => pip::logout,
        Tool::Uv => uv::logout,
        Tool::Poetry => poetry::logout,
        Tool::Pipenv => pipfile::logout,
        Tool::Twine => pypirc::logout,
        Tool::Npm | Tool::Pnpm => npmrc::logout,
        Tool::Yarn if o.classic => npmrc::logout,
        Tool::Yarn => yarnrc::logout,
        Tool::Bun => bun::logout,
        Tool::Maven => maven::logout,
        Tool::Gradle if o.init_script.is_some() => gradle_init::logout,
        Tool::Gradle => properties::logout,
        Tool::Nuget | Tool::Dotnet => nuget::logout,
        Tool::Cargo => cargo::logout,
        Tool::Swift | Tool::Netrc => netrc::logout,
    };
    plan.changes.push(edit(f, |s| remove(s, name))?);
    if tool == Tool::Poetry {
        let auth = open(files.poetry_auth()?, None, true)?;
        plan.changes.push(edit(auth, |s| poetry::logout(s, name))?);
    }
    note_kept(&mut plan, tool, name);
    if let Some(env_file) = &o.env_file {
        let f = open(files.abs(env_file), Some("--env-file"), true)?;
        plan.changes.push(edit(f, |s| dotenv::logout(s, name))?);
    }
    for (i, c) in plan.changes.iter_mut().enumerate() {
        if let Some(s) = style(tool, i).filter(|_| o.init_script.is_none()) {
            restore::after_logout(c, s);
        }
    }
    if matches!(tool, Tool::Pip | Tool::Uv) {
        keyring_shim(&mut plan, &files, tool, name, None)?;
    }
    Ok(plan)
}

/// Says what logout left of `name` in the files other tools rewrite, where artoken's entry is
/// found by its shape (see `toml_entry`): one that no longer looks like artoken's stays.
fn note_kept(plan: &mut Plan, tool: Tool, name: &str) {
    let kept: fn(&str, &str) -> Option<String> = match tool {
        Tool::Poetry => poetry::kept,
        Tool::Pipenv => pipfile::kept,
        Tool::Uv => uv::kept,
        _ => return,
    };
    let notes: Vec<String> = plan
        .changes
        .iter()
        .filter_map(|c| {
            let n = kept(c.before.as_deref()?, name)?;
            Some(format!("{}: {n}", c.path.display()))
        })
        .collect();
    plan.notes.extend(notes);
}
