//! The rotation log: an append-only Markdown table, `docs/secrets-rotation-log.md` by default,
//! that gains one row per secret changed by every mutating command — date (UTC), file, key
//! path, action, reason, rotator and a chained digest — and never holds a value nor a hash of
//! one.
//!
//! - [`diff_documents`] computes which keys changed from the decrypted trees before and after.
//! - [`Rotation`], [`rotator`], [`resolve_reason`] say who and why.
//! - [`prepare_append`] / [`PendingAppend::commit`] write rows atomically, under a lock, in two
//!   phases around the secrets file's own write; [`append`] does both at once.
//! - [`verify`] checks the chain and that the file is a pure append of its committed version.
//! - [`stale`] lists secrets by the date they last changed.
//!
//! The file layout and the chain are described in [`table`].

mod append;
mod diff;
mod rotation;
mod stale;
pub mod table;
pub mod verify;

pub use append::{append, lock_path, prepare_append, render_append, PendingAppend};
pub use diff::{diff_documents, leaf_paths, with_names, Action, Change, WHOLE_FILE_KEY};
pub use rotation::{ask_reason, read_reason, resolve_reason, rotator, Rotation};
pub use stale::{keys_from_log, parse_duration, parse_since, stale, StaleEntry};
pub use table::{parse, parse_bytes, Entry, ParsedLog};
pub use verify::{verify, HeadCheck, Problem, VerifyReport};

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the log lives when `.sops.yaml` says nothing, relative to the repository root.
pub const DEFAULT_LOG_PATH: &str = "docs/secrets-rotation-log.md";

/// One row to append.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub date: DateTime<Utc>,
    /// The secrets file, relative to the repository root, `/`-separated.
    pub file: String,
    /// Dotted key path (see [`Change::key`]).
    pub key: String,
    pub action: Action,
    pub reason: String,
    pub rotator: String,
}

impl Row {
    /// The six escaped cells the chain covers, in order.
    pub fn cells(&self) -> [String; 6] {
        [
            table::format_date(&self.date),
            table::escape_cell(&self.file),
            table::escape_cell(&self.key),
            table::escape_cell(&self.action.label()),
            table::escape_cell(&self.reason),
            table::escape_cell(&self.rotator),
        ]
    }
}

/// The rows for one file's changes, all stamped with the same time.
pub fn rows_for(
    file: &str,
    changes: &[Change],
    rotation: &Rotation,
    date: DateTime<Utc>,
) -> Vec<Row> {
    changes
        .iter()
        .map(|c| Row {
            date,
            file: file.to_string(),
            key: c.key.clone(),
            action: c.action.clone(),
            reason: rotation.reason.clone(),
            rotator: rotation.rotator.clone(),
        })
        .collect()
}

/// The current time, to the second (from `SystemTime`; chrono's clock feature is not used).
pub fn now() -> DateTime<Utc> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Run git in `dir`; its stdout when it exits 0.
pub(crate) fn git(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// The top of the git work tree containing `start`, else `start` itself.
pub fn repo_root(start: &Path) -> PathBuf {
    git(start, &["rev-parse", "--show-toplevel"])
        .and_then(|o| String::from_utf8(o).ok())
        .map(|s| PathBuf::from(s.trim_end_matches(['\n', '\r'])))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| start.to_path_buf())
}

/// `path` relative to `repo_root`, `/`-separated, as the log's `file` cell writes it. Paths
/// outside the repository are returned as given.
pub fn repo_relative(repo_root: &Path, path: &Path) -> String {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let canon_file = match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => parent.canonicalize().ok().map(|p| p.join(name)),
        _ => None,
    };
    let root = repo_root.canonicalize().ok();
    if let (Some(f), Some(r)) = (canon_file, root) {
        if let Ok(rel) = f.strip_prefix(&r) {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            return parts.join("/");
        }
    }
    path.to_string_lossy().into_owned()
}

/// Entries matching the listing filters of `spx log`.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Exact file (a leading `./` is ignored).
    pub file: Option<String>,
    /// A key path; also matches keys below it (`smtp` matches `smtp.password`, `hosts[0]`
    /// matches `hosts[0].name`).
    pub key: Option<String>,
    /// Rows dated at or after this instant (rows without a readable date are left out).
    pub since: Option<DateTime<Utc>>,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        if let Some(f) = &self.file {
            let want = f.strip_prefix("./").unwrap_or(f);
            match &e.file {
                Some(have) if have.strip_prefix("./").unwrap_or(have) == want => {}
                _ => return false,
            }
        }
        if let Some(k) = &self.key {
            match &e.key {
                Some(have)
                    if have == k
                        || have
                            .strip_prefix(k.as_str())
                            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('[')) => {
                }
                _ => return false,
            }
        }
        if let Some(since) = &self.since {
            match &e.date {
                Some(d) if d >= since => {}
                _ => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file: &str, key: &str, date: &str) -> Entry {
        Entry {
            line: 1,
            raw: String::new(),
            cells: vec![],
            spx_table: true,
            chain: None,
            date: table::parse_date(date),
            file: Some(file.into()),
            key: Some(key.into()),
            action: Some("changed".into()),
            reason: None,
            rotator: None,
        }
    }

    #[test]
    fn filter_by_file_key_prefix_and_since() {
        let e = entry("secrets/a.yaml", "smtp.password", "2026-05-01T00:00:00Z");
        assert!(Filter::default().matches(&e));
        let f = |file: Option<&str>, key: Option<&str>, since: Option<&str>| Filter {
            file: file.map(Into::into),
            key: key.map(Into::into),
            since: since.and_then(table::parse_date),
        };
        assert!(f(Some("./secrets/a.yaml"), None, None).matches(&e));
        assert!(!f(Some("secrets/b.yaml"), None, None).matches(&e));
        assert!(f(None, Some("smtp"), None).matches(&e));
        assert!(f(None, Some("smtp.password"), None).matches(&e));
        assert!(!f(None, Some("smt"), None).matches(&e));
        assert!(f(None, None, Some("2026-05-01")).matches(&e));
        assert!(!f(None, None, Some("2026-05-02")).matches(&e));
    }

    #[test]
    fn rows_carry_no_value_only_labels() {
        let rot = Rotation {
            reason: "quarterly | rotation\nsecond line".into(),
            rotator: "Ann <ann@example.com>".into(),
        };
        let rows = rows_for(
            "secrets/s.yaml",
            &[Change {
                key: "smtp.password".into(),
                action: Action::Changed,
            }],
            &rot,
            table::parse_date("2026-11-23T10:00:00Z").unwrap(),
        );
        let cells = rows[0].cells();
        assert_eq!(cells[0], "2026-11-23T10:00:00Z");
        assert_eq!(cells[4], "quarterly \\| rotation<br>second line");
        assert_eq!(cells[5], "Ann &lt;ann@example.com&gt;");
    }
}
