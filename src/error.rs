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
    #[error("{path}: cannot read: {source}; check the path and that you may read it")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write: {source}; check that its directory exists, that you may write there and that the disk has room")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no such file; check the path, or run `spx edit {path}` to create it")]
    NotFound { path: PathBuf },
    /// The input does not parse in its store's format. `msg` says where (line, column) and, where
    /// there is one, what to change; it never quotes a value.
    #[error("{file}: cannot parse: {msg}")]
    Parse { file: String, msg: String },
    #[error("{file}: sops metadata not found: this is not a sops-encrypted file; encrypt it with `spx encrypt -i {file}`")]
    NotSops { file: String },
    #[error("{file}: invalid sops metadata: {msg}; restore the file from git (`git checkout -- {file}`) or re-encrypt it from its plaintext")]
    BadMetadata { file: String, msg: String },
    #[error("{file}: cannot encrypt: {msg}")]
    EncryptTree { file: String, msg: String },
    #[error("{file}: cannot write as {format}: {msg}")]
    Dump {
        file: String,
        format: &'static str,
        msg: String,
    },
    #[error("{file}: the value at {path} cannot be decrypted: {msg}; the file was tampered with or edited by hand: restore it from git (`git checkout -- {file}`)")]
    DecryptValue {
        file: String,
        path: String,
        msg: String,
    },
    #[error("{file}: {msg}; the file was modified outside sops/spx or has been tampered with: restore it from git, or use --ignore-mac only if you trust its content")]
    Mac { file: String, msg: String },
    /// `recipients`: the file's recipients, shortened and named where .sops.yaml names them;
    /// `detail`: where identities were looked for and why each failed, on one line.
    #[error("{file}: no identity can decrypt the data key: it is encrypted for {recipients}; {detail}; set SOPS_AGE_KEY_FILE to the identity file of one of them, or ask one of them to add your public key (`spx recipients add NAME KEY`); `spx doctor` checks your setup")]
    NoIdentity {
        file: String,
        recipients: String,
        detail: String,
    },
    #[error("{file}: the file already contains a top-level `sops` entry: it is already encrypted; use `spx edit {file}` to change it")]
    AlreadyEncrypted { file: String },
    #[error("{file}: the file is empty: it must contain at least one document; add a key first (e.g. `name: value`)")]
    EmptyDocument { file: String },
    /// .sops.yaml or another configuration is wrong. The text names the file (and line or
    /// rule) and says what to change.
    #[error("{0}")]
    Config(String),
    /// The command line asks for something impossible. The text names the argument or file
    /// and says what to pass instead.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    ConflictingParameters(String),
    #[error("invalid path {path:?}: {msg}; write it like '[\"key\"][\"sub\"][0]'")]
    TreePath {
        path: String,
        msg: String,
        code: i32,
    },
    /// A path names no value of the file: the text names the file and the path.
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
    #[error("interrupted by a signal")]
    Interrupted,
    #[error("{0}")]
    Other(String),
    /// A child process's exit status, passed through (exec-env / exec-file).
    #[error("the command exited with status {0}")]
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
                recipients: String::new(),
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

    /// Every variant, by name. The match has no wildcard: a new variant does not compile until
    /// it is named here, and `every_variant_says_what_where_and_what_next` then needs a sample.
    fn variant(e: &Error) -> &'static str {
        match e {
            Error::Read { .. } => "Read",
            Error::Write { .. } => "Write",
            Error::NotFound { .. } => "NotFound",
            Error::Parse { .. } => "Parse",
            Error::NotSops { .. } => "NotSops",
            Error::BadMetadata { .. } => "BadMetadata",
            Error::EncryptTree { .. } => "EncryptTree",
            Error::Dump { .. } => "Dump",
            Error::DecryptValue { .. } => "DecryptValue",
            Error::Mac { .. } => "Mac",
            Error::NoIdentity { .. } => "NoIdentity",
            Error::AlreadyEncrypted { .. } => "AlreadyEncrypted",
            Error::EmptyDocument { .. } => "EmptyDocument",
            Error::Config(_) => "Config",
            Error::Usage(_) => "Usage",
            Error::ConflictingParameters(_) => "ConflictingParameters",
            Error::TreePath { .. } => "TreePath",
            Error::NotInTree(_) => "NotInTree",
            Error::Recipient(_) => "Recipient",
            Error::Unchanged { .. } => "Unchanged",
            Error::Editor(_) => "Editor",
            Error::Locked { .. } => "Locked",
            Error::Interrupted => "Interrupted",
            Error::Other(_) => "Other",
            Error::ChildStatus(_) => "ChildStatus",
        }
    }

    const VARIANTS: &[&str] = &[
        "Read",
        "Write",
        "NotFound",
        "Parse",
        "NotSops",
        "BadMetadata",
        "EncryptTree",
        "Dump",
        "DecryptValue",
        "Mac",
        "NoIdentity",
        "AlreadyEncrypted",
        "EmptyDocument",
        "Config",
        "Usage",
        "ConflictingParameters",
        "TreePath",
        "NotInTree",
        "Recipient",
        "Unchanged",
        "Editor",
        "Locked",
        "Interrupted",
        "Other",
        "ChildStatus",
    ];

    /// A value that must never appear in an error.
    const SECRET: &str = "hunter2-s3cr3t";

    /// An error produced by spx's own code (not written for the test), where there is a
    /// function that produces that variant without a terminal, a network or a second process.
    fn real<T>(r: Result<T>) -> Error {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    /// A NoIdentity error from recovering a data key wrapped for two other recipients.
    fn no_identity() -> (Error, String) {
        use crate::metadata::{Metadata, Selection};
        let (_, p1) = crate::keys::generate();
        let (_, p2) = crate::keys::generate();
        let key = crate::crypt::DataKey::generate();
        let (groups, _) = crate::document::wrap_data_key(&key, &[vec![p1.clone(), p2]], 0).unwrap();
        let md = Metadata {
            groups,
            shamir_threshold: 0,
            key_groups_layout: false,
            lastmodified: "2026-11-22T17:18:46Z".into(),
            mac: String::new(),
            selection: Some(Selection::default_rule()),
            mac_only_encrypted: false,
            version: crate::metadata::SOPS_VERSION.into(),
        };
        let (mine, _) = crate::keys::generate();
        let ids = crate::keys::Identities::from_text(&mine).unwrap();
        let e = real(crate::document::recover_data_key(
            &md,
            &ids,
            "secrets/app.sops.yaml",
        ));
        (e, crate::keys::short(&p1))
    }

    /// (error, what it must name, its next step if it has one)
    fn samples() -> Vec<(Error, Vec<String>, Option<&'static str>)> {
        use crate::store::Format;
        let s = |x: &str| x.to_string();
        let io = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let (noid, recipient) = no_identity();
        let missing = std::env::temp_dir().join("spx-no-such-dir/.sops.yaml");
        let mut doc = crate::tree::Map::new();
        doc.push("smtp", crate::tree::Value::str(SECRET));
        vec![
            (
                real(crate::config::Config::load(&missing)),
                vec![missing.display().to_string()],
                Some("check the path"),
            ),
            (
                Error::Write {
                    path: "secrets/app.sops.yaml".into(),
                    source: io(),
                },
                vec![s("secrets/app.sops.yaml")],
                Some("check that its directory exists"),
            ),
            (
                Error::NotFound {
                    path: "secrets/new.sops.yaml".into(),
                },
                vec![s("secrets/new.sops.yaml")],
                Some("`spx edit secrets/new.sops.yaml`"),
            ),
            (
                real(crate::store::load_plain(
                    Format::Json,
                    format!("{{\"password\": \"{SECRET}\" \"port\": 1}}").as_bytes(),
                    "app.json",
                )),
                vec![s("app.json"), s("line 1")],
                None,
            ),
            (
                Error::NotSops { file: s("app.yaml") },
                vec![s("app.yaml")],
                Some("`spx encrypt -i app.yaml`"),
            ),
            (
                real(crate::metadata::Metadata::from_value(
                    &crate::tree::Value::str("x"),
                    "app.yaml",
                )),
                vec![s("app.yaml"), s("`sops`")],
                Some("restore the file from git"),
            ),
            (
                Error::EncryptTree {
                    file: s("app.yaml"),
                    msg: s("line 3: integer 18446744073709551615 is too large; quote it to keep it as a string"),
                },
                vec![s("app.yaml"), s("line 3")],
                Some("quote it"),
            ),
            (
                real(crate::store::emit_value(
                    Format::Dotenv,
                    &crate::tree::Value::List(vec![]),
                    &Default::default(),
                    "app.env",
                )),
                vec![s("app.env"), s("dotenv")],
                Some("--output-type yaml or json"),
            ),
            (
                Error::DecryptValue {
                    file: s("app.yaml"),
                    path: s("smtp.password"),
                    msg: s("authentication failed"),
                },
                vec![s("app.yaml"), s("smtp.password")],
                Some("git checkout -- app.yaml"),
            ),
            (
                Error::Mac {
                    file: s("app.yaml"),
                    msg: s("MAC mismatch: the values do not match the file's MAC"),
                },
                vec![s("app.yaml")],
                Some("restore it from git"),
            ),
            (
                noid,
                vec![s("secrets/app.sops.yaml"), recipient, s("given identities")],
                Some("set SOPS_AGE_KEY_FILE"),
            ),
            (
                Error::AlreadyEncrypted { file: s("app.yaml") },
                vec![s("app.yaml")],
                Some("`spx edit app.yaml`"),
            ),
            (
                real(crate::store::load_plain(Format::Yaml, b"", "app.yaml")),
                vec![s("app.yaml")],
                Some("add a key first"),
            ),
            (
                real(crate::config::Config::parse(
                    "creation_rules: 3\n",
                    std::path::Path::new("."),
                    "repo/.sops.yaml",
                )),
                vec![s("repo/.sops.yaml"), s("creation_rules")],
                Some("`- path_regex: …`"),
            ),
            (
                real(crate::commands::pick_format(Some("toml"), "app.toml")),
                vec![s("\"toml\"")],
                Some("expected yaml, json, dotenv, ini or binary"),
            ),
            (
                Error::ConflictingParameters(s(
                    "--in-place and --output cannot be used together",
                )),
                vec![s("--in-place"), s("--output")],
                None,
            ),
            (
                real(crate::path::parse("smtp.password", code::INVALID_SET_FORMAT)),
                vec![s("smtp.password")],
                Some("write it like '[\"key\"]"),
            ),
            (
                real(crate::path::get(
                    &doc,
                    &crate::path::parse("[\"imap\"]", code::INVALID_TREE_PATH_FORMAT).unwrap(),
                )),
                vec![s("imap")],
                None,
            ),
            (
                real(crate::keys::Recipient::parse("age1notakey")),
                vec![s("age1notakey")],
                Some("`spx keygen`"),
            ),
            (
                Error::Unchanged { file: s("app.yaml") },
                vec![s("app.yaml")],
                None,
            ),
            (
                Error::Editor(s("no editor found: set $EDITOR (e.g. EDITOR=nano)")),
                vec![s("$EDITOR")],
                Some("set $EDITOR"),
            ),
            (
                Error::Locked {
                    file: s("app.yaml"),
                    lock: s(".app.yaml.spx-lock"),
                },
                vec![s("app.yaml"), s(".app.yaml.spx-lock")],
                Some("try again"),
            ),
            (Error::Interrupted, vec![], None),
            (
                real(crate::keys::Identities::from_text(&format!(
                    "AGE-SECRET-KEY-1{SECRET}\n"
                ))),
                vec![s("given identities"), s("line 1")],
                Some("`spx keygen`"),
            ),
            (Error::ChildStatus(3), vec![s("status 3")], None),
        ]
    }

    #[test]
    fn every_variant_says_what_where_and_what_next() {
        let samples = samples();
        let covered: Vec<&str> = samples.iter().map(|(e, _, _)| variant(e)).collect();
        for v in VARIANTS {
            assert!(covered.contains(v), "no sample of Error::{v}");
        }
        for (e, names, next) in &samples {
            let text = e.to_string();
            let v = variant(e);
            assert!(!text.contains('\n'), "{v}: more than one line: {text}");
            assert!(!text.contains(SECRET), "{v}: shows a secret value: {text}");
            for n in names {
                assert!(
                    text.contains(n.as_str()),
                    "{v}: does not name {n:?}: {text}"
                );
            }
            if let Some(step) = next {
                assert!(text.contains(step), "{v}: no next step ({step:?}): {text}");
            }
        }
    }

    #[test]
    fn no_identity_names_the_recipients_and_where_identities_were_looked_for() {
        let (e, recipient) = no_identity();
        let text = e.to_string();
        assert_eq!(e.exit_code(), code::COULD_NOT_RETRIEVE_KEY);
        assert!(
            text.starts_with("secrets/app.sops.yaml: no identity can decrypt"),
            "{text}"
        );
        assert!(
            text.contains(&format!("encrypted for {recipient}")),
            "{text}"
        );
        assert!(
            text.contains("identities looked for in: given identities"),
            "{text}"
        );
        assert!(text.contains("`spx doctor`"), "{text}");
    }
}
