//! The command line: every command, flag and its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
{usage-heading} {usage}

Tokens:
  token        Print a CodeArtifact token for a repository's domain
  url          Print the URL a tool wants (pip, uv, twine, npm, cargo...)
  exec         Run a command with the configured variables (replaces `wev`)
  env          Print the configured variables (sh, fish, powershell, dotenv, docker, json, sam, github)
  render       Print a whole config file for a build secret (pip.conf, npmrc, netrc, uv.toml, k8s-secret...)

Package managers:
  login        Write a package manager's config for a repository (pip, uv, poetry, npm, cargo...)
  logout       Remove exactly what `login` wrote
  keyring, cargo-credential, pnpm-token-helper
               Helpers pip/uv, cargo and pnpm run for a fresh token (no token on disk)
  serve        Local auth proxy: tools use a token-free URL, artoken adds a fresh token

AWS:
  glue         Start a Glue job run with a fresh index URL
  s3           Refresh the token inside a requirements file in S3 (MWAA)
  refresh      Refresh the token in S3 objects, files, Secrets Manager, SSM: once or on a schedule

Inspect:
  status       Show repositories, where each is configured, and cached token expiry
  doctor       Check config, region, credentials, IAM permissions, endpoint and cache
  cache        Manage the shared token cache (`cache clear`)

Setup:
  demo         Run the whole flow on an embedded emulator with the tools on PATH
  completions, man  Print shell completions, the man page

Options:
{options}{after-help}";

/// Keeps AWS CodeArtifact tokens fresh for pip, uv, npm, twine, cargo, CI, Glue and MWAA.
#[derive(Debug, Parser)]
#[command(
    name = "artoken",
    version = crate::VERSION,
    help_template = HELP_TEMPLATE,
    after_help = "Config: artoken.yml / artoken.user.yml (and wev.yml files) in $HOME, then / down to the current directory.\nRun `artoken COMMAND --help` for details."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Use these config files instead of discovering them (repeatable)
    #[arg(long = "config", short = 'c', value_name = "FILE", global = true)]
    pub config: Vec<PathBuf>,
    /// Send CodeArtifact calls here (or AWS_ENDPOINT_URL_CODEARTIFACT)
    #[arg(long, value_name = "URL", global = true)]
    pub endpoint_url: Option<String>,
    /// Fetch a new token even if the cached one is still fresh
    #[arg(long, global = true)]
    pub refresh: bool,
    /// Do not read or write the token cache
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Cache directory [default: $XDG_CACHE_HOME/artoken or ~/.cache/artoken]
    #[arg(long, value_name = "DIR", global = true, env = "ARTOKEN_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Use the token in this file, never fetch one (no AWS call; also ARTOKEN_TOKEN_FILE, ARTOKEN_TOKEN)
    #[arg(long, value_name = "FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// More detail on stderr (-vv: the AWS SDK's too); tokens always redacted
    #[arg(long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a CodeArtifact token for a repository's domain
    Token(TokenArgs),
    /// Print the URL a tool wants for a repository, with the token where the tool needs it
    Url(UrlArgs),
    /// Run a command with the configured variables (a drop-in for `wev CMD`)
    #[command(disable_help_flag = false)]
    Exec(ExecArgs),
    /// Print the configured variables for a shell, a dotenv file, JSON or $GITHUB_ENV
    Env(EnvArgs),
    /// Print a whole config file, token included, for a build secret or a secret store
    Render(crate::cmd::render::RenderArgs),
    /// Show each repository, where it is configured, and its cached token's expiry
    Status(StatusArgs),
    /// Check config, region, credentials, IAM permissions, endpoint and cache, and say what to fix
    Doctor(DoctorArgs),
    /// Manage the shared token cache
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Write a package manager's config for a repository
    Login(crate::cmd::login::LoginArgs),
    /// Remove exactly what `login` wrote
    Logout(crate::cmd::login::LogoutArgs),
    /// pip/uv keyring helper (also answers when invoked as `keyring`)
    Keyring(crate::cmd::keyring::KeyringArgs),
    /// cargo credential provider (cargo runs `artoken cargo-credential --cargo-plugin`)
    #[command(name = "cargo-credential")]
    CargoCredential(crate::cmd::cargo_credential::CargoCredentialArgs),
    /// pnpm's tokenHelper: prints the token for a registry URL (pnpm runs it; see `login pnpm --helper`)
    #[command(name = "pnpm-token-helper")]
    PnpmTokenHelper(crate::cmd::pnpm_token_helper::PnpmTokenHelperArgs),
    /// Local auth proxy that keeps tokens fresh under long builds
    Serve(crate::cmd::serve::ServeArgs),
    /// AWS Glue: start a job run with a fresh index URL
    #[command(subcommand)]
    Glue(crate::cmd::aws::GlueCommand),
    /// Amazon S3: refresh the token inside a requirements file
    #[command(subcommand)]
    S3(crate::cmd::aws::S3Command),
    /// Refresh the token in the `targets:` of the config (S3 objects, local files), once or on a schedule
    Refresh(crate::cmd::aws::RefreshArgs),
    /// Run the whole flow on an embedded CodeArtifact emulator with the tools found on PATH
    Demo(crate::cmd::demo::DemoArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Repository name from the config [default: `default:` or the only one]
    pub repo: Option<String>,
    /// Print JSON: token, expiration (UTC) and seconds left
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UrlArgs {
    /// Repository name from the config [default: `default:` or the only one]
    pub repo: Option<String>,
    /// The tool whose URL to print: endpoint, pip, uv, poetry, pipenv, twine, npm, npmrc, cargo
    #[arg(long, short = 't', default_value = "pip")]
    pub tool: String,
    /// Print JSON: url, endpoint, expiration
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EnvFormat {
    /// `export NAME='value'` (bash, zsh, sh)
    Sh,
    /// `set -gx NAME 'value';`
    Fish,
    /// `$Env:NAME = 'value'`
    Powershell,
    /// `NAME="value"` with backslash escapes (docker compose `env_file:`, python-dotenv)
    Dotenv,
    /// `NAME=value`, no quotes, no line breaks (`docker run --env-file`)
    Docker,
    /// `{"NAME": "value"}`
    Json,
    /// `{"Parameters": {...}}` for `sam build --container-env-var-file`
    Sam,
    /// `NAME<<DELIM` blocks for `>> "$GITHUB_ENV"`
    Github,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "sh")]
    pub format: EnvFormat,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Repository to check [default: all]
    pub repo: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Remove every cached token and endpoint
    Clear,
    /// Print the cache directory
    Dir,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_help_names_every_env_format() {
        let line = HELP_TEMPLATE
            .lines()
            .find(|l| l.trim_start().starts_with("env "))
            .unwrap();
        for f in EnvFormat::value_variants() {
            let name = f.to_possible_value().unwrap().get_name().to_string();
            assert!(
                line.contains(&format!(" {name},"))
                    || line.contains(&format!(" {name})"))
                    || line.contains(&format!("({name},")),
                "`artoken --help` does not name the env format {name}: {line}"
            );
        }
    }
}
