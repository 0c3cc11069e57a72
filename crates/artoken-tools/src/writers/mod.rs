//! The config writers behind `artoken login TOOL [REPO]` and `artoken logout TOOL [REPO]`.
//!
//! Every writer is a pair of pure functions `login(text, ...) -> text` and
//! `logout(text, name) -> text`, one module per file format or tool. What login adds is
//! marked ([`lines`]), so logout gives back the original bytes, a second login only replaces
//! the token, and several repositories live side by side. [`plan`] picks the files, and
//! shows (`--dry-run`, tokens masked) or writes (atomically, 0600 with a token) the result.

// Line numbers index both a file's lines and their tags.
#![allow(clippy::needless_range_loop)]

pub mod bun;
pub mod cargo;
pub mod diff;
pub mod dotenv;
pub mod fsio;
pub mod gradle_init;
#[cfg(test)]
mod hand_edits;
pub mod helper;
pub mod ini;
pub mod lines;
pub mod maven;
pub mod netrc;
pub mod npmrc;
pub mod nuget;
pub mod pip;
pub mod pipfile;
pub mod plan;
pub mod poetry;
pub mod properties;
pub mod pypirc;
pub mod restore;
pub mod toml;
pub mod toml_entry;
pub mod tool;
pub mod uv;
pub mod xml;
pub mod yarnrc;

pub use plan::{Change, Context, Helper, Options, Plan, Target, WriteError, login, logout};
pub use tool::Tool;
