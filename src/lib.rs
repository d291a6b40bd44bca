//! spx: a native, sops-compatible secrets tool for teams that keep their secrets in git.

pub mod commands;
pub mod error;
pub mod log;
pub mod store;
pub mod tree;

pub use error::{Error, Result};
