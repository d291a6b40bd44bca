//! spx: a native, sops-compatible secrets tool for teams that keep their secrets in git.
//!
//! Layout (dependencies point down): `cli` → `commands` → `edit`, `document` → `config`,
//! `keys`, `crypt`, `shamir`, `metadata` → `store` → `tree`; `error` everywhere.

pub mod cli;
pub mod commands;
pub mod config;
pub mod crypt;
pub mod document;
pub mod edit;
pub mod error;
pub mod fsutil;
pub mod gitdriver;
pub mod keys;
pub mod log;
pub mod metadata;
pub mod path;
pub mod shamir;
pub mod sopsyaml_edit;
pub mod store;
pub mod sync;
pub mod tree;
pub mod ui;
pub mod verify;

pub use error::{Error, Result};
