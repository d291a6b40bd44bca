//! spx: a native, sops-compatible secrets tool for teams that keep their secrets in git.

pub mod commands;
pub mod error;
pub mod store;
pub mod tree;
pub mod verify;

pub use error::{Error, Result};
