//! One error type for the whole library. Each variant knows the exit code real sops uses for the
//! same failure, so scripts written against sops keep working, and its text says what failed,
//! where, and what to do next. No variant ever carries a secret value.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// sops's numeric exit codes (cmd/sops/codes), the ones spx produces.
pub mod code {
    pub const GENERIC: i32 = 1;
    pub const COULD_NOT_READ_INPUT: i32 = 2;
    pub const COULD_NOT_WRITE_OUTPUT: i32 = 3;
    pub const ERROR_DUMPING_TREE: i32 = 4;
    pub const INVALID_SET_FORMAT: i32 = 7;
    pub const CONFLICTING_PARAMETERS: i32 = 8;
    pub const ERROR_ENCRYPTING_TREE: i32 = 23;
    pub const ERROR_DECRYPTING_TREE: i32 = 25;
    pub const MAC_MISMATCH: i32 = 51;
    pub const INVALID_TREE_PATH_FORMAT: i32 = 91;
    pub const NEED_AT_LEAST_ONE_DOCUMENT: i32 = 92;
    pub const NO_FILE_SPECIFIED: i32 = 100;
    pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
    pub const FILE_HAS_NOT_BEEN_MODIFIED: i32 = 200;
    pub const NO_EDITOR_FOUND: i32 = 201;
    pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
    /// spx's own: a second writer holds the file's lock.
    pub const LOCKED: i32 = 75;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no such file. Check the path, or run `spx edit {path}` to create it.")]
    NotFound { path: PathBuf },
    /// The input does not parse in its store's format.
    #[error("{file}: {msg}")]
    Parse { file: String, msg: String },
    #[error("{file}: sops metadata not found: this is not a sops-encrypted file. Encrypt it with `spx encrypt -i {file}`.")]
    NotSops { file: String },
    #[error("{file}: invalid sops metadata: {msg}")]
    BadMetadata { file: String, msg: String },
    #[error("{file}: cannot encrypt: {msg}")]
    EncryptTree { file: String, msg: String },
    #[error("{file}: cannot emit as {format}: {msg}")]
    Dump {
        file: String,
        format: &'static str,
        msg: String,
    },
    #[error("{file}: value at {path} cannot be decrypted: {msg}. The file may have been tampered with or edited by hand.")]
    DecryptValue {
        file: String,
        path: String,
        msg: String,
    },
    #[error("{file}: {msg}. The file was modified outside sops/spx or has been tampered with; use --ignore-mac only if you trust its content.")]
    Mac { file: String, msg: String },
    #[error("{file}: no identity can decrypt the data key.\n{detail}")]
    NoIdentity { file: String, detail: String },
    #[error("{file}: the file already contains a top-level `sops` entry: it is already encrypted. Use `spx edit` to change it.")]
    AlreadyEncrypted { file: String },
    #[error("{file}: the file is empty: it must contain at least one document")]
    EmptyDocument { file: String },
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    ConflictingParameters(String),
    #[error("invalid path {path:?}: {msg}. Expected a form like '[\"key\"][\"sub\"][0]'.")]
    TreePath {
        path: String,
        msg: String,
        code: i32,
    },
    #[error("{0}")]
    NotInTree(String),
    #[error("{0}")]
    Recipient(String),
    #[error("{file}: file has not changed, nothing written")]
    Unchanged { file: String },
    #[error("{0}")]
    Editor(String),
    #[error("{file}: another spx process is writing this file (lock held on {lock}); try again when it has finished")]
    Locked { file: String, lock: String },
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Other(String),
    /// A child process's exit status, passed through (exec-env / exec-file).
    #[error("child exited with status {0}")]
    ChildStatus(i32),
}

impl Error {
    /// The process exit code, matching sops for the same failure.
    pub fn exit_code(&self) -> i32 {
        use code::*;
        match self {
            Error::Read { .. } => COULD_NOT_READ_INPUT,
            Error::Write { .. } => COULD_NOT_WRITE_OUTPUT,
            Error::NotFound { .. } => NO_FILE_SPECIFIED,
            Error::Parse { .. } => COULD_NOT_READ_INPUT,
            Error::NotSops { .. } => GENERIC,
            Error::BadMetadata { .. } => GENERIC,
            Error::EncryptTree { .. } => ERROR_ENCRYPTING_TREE,
            Error::Dump { .. } => ERROR_DUMPING_TREE,
            Error::DecryptValue { .. } => ERROR_DECRYPTING_TREE,
            Error::Mac { .. } => MAC_MISMATCH,
            Error::NoIdentity { .. } => COULD_NOT_RETRIEVE_KEY,
            Error::AlreadyEncrypted { .. } => FILE_ALREADY_ENCRYPTED,
            Error::EmptyDocument { .. } => NEED_AT_LEAST_ONE_DOCUMENT,
            Error::Config(_) => GENERIC,
            Error::Usage(_) => GENERIC,
            Error::ConflictingParameters(_) => CONFLICTING_PARAMETERS,
            Error::TreePath { code, .. } => *code,
            Error::NotInTree(_) => GENERIC,
            Error::Recipient(_) => GENERIC,
            Error::Unchanged { .. } => FILE_HAS_NOT_BEEN_MODIFIED,
            Error::Editor(_) => NO_EDITOR_FOUND,
            Error::Locked { .. } => LOCKED,
            Error::Interrupted => INTERRUPTED,
            Error::Other(_) => GENERIC,
            Error::ChildStatus(c) => *c,
        }
    }

    pub fn parse(file: impl Into<String>, msg: impl Into<String>) -> Error {
        Error::Parse {
            file: file.into(),
            msg: msg.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_sops() {
        assert_eq!(
            Error::Mac {
                file: "f".into(),
                msg: "MAC mismatch".into()
            }
            .exit_code(),
            51
        );
        assert_eq!(
            Error::NoIdentity {
                file: "f".into(),
                detail: String::new()
            }
            .exit_code(),
            128
        );
        assert_eq!(Error::NotSops { file: "f".into() }.exit_code(), 1);
        assert_eq!(
            Error::DecryptValue {
                file: "f".into(),
                path: "a".into(),
                msg: "x".into()
            }
            .exit_code(),
            25
        );
    }
}
