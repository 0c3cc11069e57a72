//! The commands, one module per area (`commands.rs` dispatches to them).

pub mod aws;
pub mod cache;
pub mod cargo_credential;
pub mod demo;
pub mod doctor;
pub mod keyring;
pub mod login;
pub mod pnpm_token_helper;
pub mod render;
pub mod serve;
pub mod status;
pub mod token;
