//! The real clients as the end-to-end tests run them: pip and uv installs into a target dir,
//! quiet, no retries, no keyring, no config of the machine's, the index by environment (so no
//! token is ever on a command line the leak check samples).

use std::path::Path;
use std::process::Output;

use crate::{Sandbox, run, tool};

/// `pip install --target TARGET PACKAGE` from `index` (`PIP_INDEX_URL`).
pub fn pip_install(sb: &Sandbox, index: &str, target: &Path, package: &str) -> Output {
    run(sb
        .command(tool("pip"))
        .args([
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--keyring-provider",
            "disabled",
            "--retries",
            "0",
            "--timeout",
            "20",
            "--target",
        ])
        .arg(target)
        .arg(package)
        .env("PIP_INDEX_URL", index))
}

/// `uv pip install --target TARGET PACKAGE` from `index` (`UV_DEFAULT_INDEX`).
pub fn uv_install(sb: &Sandbox, index: &str, target: &Path, package: &str) -> Output {
    run(sb
        .command(tool("uv"))
        .env("UV_CACHE_DIR", sb.cache_home().join("uv"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_CONFIG", "1")
        .env("UV_KEYRING_PROVIDER", "disabled")
        .args(["pip", "install", "--no-cache", "--python"])
        .arg(tool("python"))
        .arg("--target")
        .arg(target)
        .arg(package)
        .env("UV_DEFAULT_INDEX", index))
}
