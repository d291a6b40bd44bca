//! One small module per subcommand; this file holds what they share: reading input, picking the
//! store, finding `.sops.yaml`, opening and saving sops files.

pub mod completions;
pub mod decrypt;
pub mod doctor;
pub mod edit;
pub mod encrypt;
pub mod exec;
pub mod filestatus;
pub mod git;
pub mod hook;
pub mod init;
pub mod keygen;
pub mod log;
pub mod recipients;
pub mod rotate;
pub mod set;
pub mod status;
pub mod sync;
pub mod updatekeys;
pub mod verify;

pub use log::OutputFormat;

use crate::config::Config;
use crate::crypt::DataKey;
use crate::document::{IvCache, SopsFile};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::keys::Identities;
use crate::store::{EmitOptions, Format};
use crate::tree::Document;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Options every command may need.
#[derive(Clone, Debug, Default)]
pub struct Global {
    pub config: Option<PathBuf>,
    pub verbose: bool,
    /// `--quiet`: informational messages are left out (see `crate::ui::quiet`).
    pub quiet: bool,
}

impl Global {
    /// `.sops.yaml`: `--config`, else `SOPS_CONFIG`, else found walking up from the cwd.
    pub fn config(&self) -> Result<Option<Config>> {
        if let Some(p) = &self.config {
            return Config::load(p).map(Some);
        }
        let cwd = std::env::current_dir().map_err(|e| {
            Error::Other(format!(
                "cannot read the current directory: {e}; cd to an existing directory"
            ))
        })?;
        Config::discover(&cwd)
    }

    /// Formatting options from the config, without failing a read-only command on a broken
    /// config (sops fails even `decrypt` then; we only warn).
    pub fn emit_options(&self) -> EmitOptions {
        match self.config() {
            Ok(Some(c)) => c.stores,
            Ok(None) => EmitOptions::default(),
            Err(e) => {
                eprintln!("spx: warning: ignoring .sops.yaml: {e}");
                EmitOptions::default()
            }
        }
    }

    /// An informational line on stderr (`spx: msg`), left out with `--quiet`.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet && !crate::ui::quiet() {
            eprintln!("spx: {}", msg.as_ref());
        }
    }

    pub fn verbose(&self, msg: impl AsRef<str>) {
        if self.verbose {
            eprintln!("spx: {}", msg.as_ref());
        }
    }
}

/// Whether a path argument means standard input.
pub fn is_stdin(p: &str) -> bool {
    p == "-" || p == "/dev/stdin"
}

/// Read a whole input file (or stdin).
pub fn read_input(path: &str) -> Result<Vec<u8>> {
    if is_stdin(path) {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|source| Error::Read {
                path: "<stdin>".into(),
                source,
            })?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound { path: path.into() }
        } else {
            Error::Read {
                path: path.into(),
                source,
            }
        }
    })
}

/// The store for a file: `--input-type` wins, then the name (or `--filename-override`).
pub fn pick_format(type_flag: Option<&str>, name: &str) -> Result<Format> {
    match type_flag {
        Some(t) => Format::from_name(t).ok_or_else(|| {
            Error::Usage(format!(
                "unknown type {t:?}: expected yaml, json, dotenv, ini or binary (e.g. --input-type yaml)"
            ))
        }),
        None => Ok(Format::from_path(Path::new(name))),
    }
}

/// Write output: to a file atomically, or to stdout.
pub fn write_output(dest: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match dest {
        Some(p) => fsutil::atomic_write(p, bytes),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|_| out.flush())
                .or_else(|e| {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|source| Error::Write {
                    path: "<stdout>".into(),
                    source,
                })
        }
    }
}

/// A decrypted sops file, ready to be changed and saved (`file.docs` is empty: the plaintext
/// is in `plain`).
pub struct Opened {
    pub file: SopsFile,
    pub plain: Vec<Document>,
    pub key: DataKey,
    pub cache: IvCache,
}

/// Load and decrypt a sops file (MAC verified unless `ignore_mac`), remembering each value's IV
/// so that a later save keeps the ciphertext of unchanged values.
pub fn open(
    bytes: &[u8],
    format: Format,
    name: &str,
    ids: &Identities,
    ignore_mac: bool,
) -> Result<Opened> {
    open_inner(bytes, format, name, ids, ignore_mac, true)
}

/// Like `open`, for commands that only read (decrypt, exec-env): no IV bookkeeping.
pub fn open_readonly(
    bytes: &[u8],
    format: Format,
    name: &str,
    ids: &Identities,
    ignore_mac: bool,
) -> Result<Opened> {
    open_inner(bytes, format, name, ids, ignore_mac, false)
}

fn open_inner(
    bytes: &[u8],
    format: Format,
    name: &str,
    ids: &Identities,
    ignore_mac: bool,
    keep_ivs: bool,
) -> Result<Opened> {
    fsutil::disable_core_dumps();
    let mut file = SopsFile::parse(bytes, format, name)?;
    let mut cache = IvCache::default();
    let (plain, key) =
        file.decrypt_in_place(ids, ignore_mac, keep_ivs.then_some(&mut cache), name)?;
    Ok(Opened {
        file,
        plain,
        key,
        cache,
    })
}

/// Ask a yes/no question on the terminal.
pub fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "{question}: no terminal to ask on; pass -y to proceed without asking"
        )));
    }
    eprint!("{question} (y/n): ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|source| Error::Read {
            path: "<stdin>".into(),
            source,
        })?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// The recipients for a new file: `--age`, else `SOPS_AGE_RECIPIENTS`, else the creation rule.
pub struct KeyChoice {
    pub groups: Vec<Vec<String>>,
    pub threshold: usize,
    pub selection: Option<crate::metadata::Selection>,
    pub mac_only_encrypted: bool,
}

pub fn choose_keys(global: &Global, age_flag: Option<&str>, target: &Path) -> Result<KeyChoice> {
    let from_flag = age_flag.map(String::from).or_else(|| {
        std::env::var("SOPS_AGE_RECIPIENTS")
            .ok()
            .filter(|s| !s.trim().is_empty())
    });
    let config = global.config()?;
    if let Some(list) = from_flag {
        let rule = config.as_ref().and_then(|c| c.rule_for(target));
        let recips = crate::keys::split_list(&list);
        if recips.is_empty() {
            return Err(Error::Usage(
                "--age is empty: give at least one age1… recipient".into(),
            ));
        }
        return Ok(KeyChoice {
            groups: vec![recips],
            threshold: 0,
            selection: rule.and_then(|r| r.selection.clone()),
            mac_only_encrypted: rule.map(|r| r.mac_only_encrypted).unwrap_or(false),
        });
    }
    let config = config.ok_or_else(|| {
        Error::Config(format!(
            "{}: no .sops.yaml found (searched from the current directory upwards) and no --age given; run `spx init` or pass --age age1…",
            target.display()
        ))
    })?;
    let rule = config.rule_for(target).ok_or_else(|| {
        Error::Config(format!(
            "{}: no creation rule in {} matches {:?}; add a rule whose path_regex matches it, or pass --age age1…",
            target.display(),
            config.path().display(),
            config.match_path(target)
        ))
    })?;
    if rule.key_groups.is_empty() {
        return Err(Error::Config(format!(
            "{}: creation rule {} in {} names no age recipients",
            target.display(),
            rule.index,
            config.path().display()
        )));
    }
    Ok(KeyChoice {
        groups: rule.key_groups.clone(),
        threshold: rule.shamir_threshold.unwrap_or(0),
        selection: rule.selection.clone(),
        mac_only_encrypted: rule.mac_only_encrypted,
    })
}

/// Whether stdin and stderr are a terminal (interactive prompts are allowed).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Where the rotation log of a file lives: `spx: log: path` in `.sops.yaml` (relative to the
/// repository root), else `docs/secrets-rotation-log.md` at the root of the git repository
/// holding the file. `None` outside a git repository, with `spx: log: false`, or with
/// `SPX_NO_LOG=1`.
pub fn log_location(g: &Global, file: &Path) -> Option<(PathBuf, PathBuf)> {
    if std::env::var_os("SPX_NO_LOG").is_some_and(|v| v == "1") {
        return None;
    }
    let abs = crate::config::absolute(file);
    let dir = abs.parent()?.to_path_buf();
    if !dir.ancestors().any(|d| d.join(".git").exists()) {
        return None;
    }
    let root = crate::log::repo_root(&dir);
    let mut rel = PathBuf::from(crate::log::DEFAULT_LOG_PATH);
    if let Ok(Some(c)) = g.config() {
        if let Some(crate::tree::Value::Map(spx)) = &c.spx {
            match spx.get("log") {
                Some(crate::tree::Value::Bool(false)) => return None,
                Some(crate::tree::Value::Map(l)) => {
                    if let Some(crate::tree::Value::Str(p)) = l.get("path") {
                        rel = PathBuf::from(p);
                    }
                }
                _ => {}
            }
        }
    }
    Some((root.join(rel), root))
}

/// Write a changed secrets file and its rotation-log rows together: the log's new content is
/// prepared (under its lock) before the secrets file is renamed into place, and committed right
/// after, so a failed write leaves no row claiming it.
pub fn save_logged(
    g: &Global,
    path: &Path,
    bytes: &[u8],
    changes: &[crate::log::Change],
    reason: Option<&str>,
) -> Result<()> {
    let target = if changes.is_empty() {
        None
    } else {
        log_location(g, path)
    };
    let Some((log_path, root)) = target else {
        return fsutil::atomic_write(path, bytes);
    };
    let rotation = crate::log::Rotation {
        reason: crate::log::resolve_reason(reason)?,
        rotator: crate::log::rotator(&root),
    };
    let rel = crate::log::repo_relative(&root, path);
    let rows = crate::log::rows_for(&rel, changes, &rotation, crate::log::now());
    let pending = crate::log::prepare_append(&log_path, &rows)?;
    fsutil::atomic_write(path, bytes)?;
    pending.commit()?;
    g.verbose(format!(
        "{}: {} row(s) appended to {}",
        path.display(),
        rows.len(),
        log_path.display()
    ));
    Ok(())
}
