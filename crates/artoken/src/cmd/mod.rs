//! Commands that live in modules of their own (one per feature area).

pub mod aws;
pub mod cargo_credential;
pub mod demo;
pub mod keyring;
pub mod login;
pub mod pnpm_token_helper;
pub mod render;
pub mod serve;
