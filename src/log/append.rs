//! Appending rows: under an exclusive lock, atomically (temp file, fsync, rename), in two
//! phases so a command can tie the log's write to the secrets file's write.
//!
//! Use from a mutating command:
//!
//! ```text
//! let pending = log::prepare_append(&log_path, &rows)?;  // lock + new log in a temp file
//! write_secrets_file_atomically(...)?;                   // on error: `pending` drops, no row
//! pending.commit()?;                                     // rename the log into place
//! ```
//!
//! What this guarantees: every failure *before* the secrets file is renamed into place (log
//! unreadable, disk full, lock timeout) happens in `prepare_append` and stops the command before
//! the secret is written; a failure to write the secret drops the `PendingAppend`, which deletes
//! its temp file, so no row claims it. What it does not: the two renames are not one atomic
//! step. If the process dies (SIGKILL, power loss) after the secrets file is renamed and before
//! the log is, the secret is changed and its rows are missing; `commit` failing at that point
//! (a rename in the same directory, with the temp file already written and fsynced) is the
//! same window. Callers can narrow it by blocking SIGINT/SIGTERM across the two renames.
//!
//! The lock is `.<log file name>.lock` beside the log, held with `File::lock` (flock) from
//! `prepare_append` until commit or drop, so concurrent spx processes append one after another,
//! each reading the log after the previous one's rename (the chain stays linear). The lock file
//! is left in place (removing it would race with a waiting process); add it to `.gitignore`.
//! One process must not hold two `PendingAppend`s for the same log at once: the second waits for
//! the lock and fails with `Error::Locked` after [`LOCK_TIMEOUT`].

use super::table::{self, render_cells, HEADER, INTRO};
use super::Row;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to wait for another writer's lock.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The log's new content, prepared and locked, not yet in place.
#[must_use = "a PendingAppend writes nothing until commit()"]
pub struct PendingAppend {
    log_path: PathBuf,
    tmp: Option<tempfile::NamedTempFile>,
    // Held until commit or drop; closing the file releases the flock.
    _lock: File,
}

impl PendingAppend {
    /// Rename the new log into place and fsync its directory. Consumes the lock.
    pub fn commit(mut self) -> Result<()> {
        let Some(tmp) = self.tmp.take() else {
            return Ok(());
        };
        tmp.persist(&self.log_path).map_err(|e| Error::Write {
            path: self.log_path.clone(),
            source: e.error,
        })?;
        sync_dir(&self.log_path);
        Ok(())
    }

    /// Give up: remove the temp file and release the lock (what dropping does).
    pub fn abort(self) {}
}

/// `.<name>.lock` beside the log.
pub fn lock_path(log_path: &Path) -> PathBuf {
    let name = log_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secrets-rotation-log.md".into());
    log_path.with_file_name(format!(".{name}.lock"))
}

/// Phase one: take the lock, read the log, and write the log with `rows` appended to a temp
/// file beside it (fsynced). Creates the log's directory if needed. With no rows, nothing is
/// written and `commit` does nothing (the lock is still taken, harmlessly).
pub fn prepare_append(log_path: &Path, rows: &[Row]) -> Result<PendingAppend> {
    let dir = match log_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::Write {
        path: dir.clone(),
        source: e,
    })?;
    let lock = take_lock(log_path)?;
    if rows.is_empty() {
        return Ok(PendingAppend {
            log_path: log_path.to_path_buf(),
            tmp: None,
            _lock: lock,
        });
    }
    let existing = match std::fs::read(log_path) {
        Ok(b) => String::from_utf8(b).map_err(|_| {
            Error::Other(format!(
                "{}: the rotation log is not UTF-8 text; fix it by hand before spx appends to it",
                log_path.display()
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::Read {
                path: log_path.to_path_buf(),
                source: e,
            })
        }
    };
    let content = render_append(&existing, rows);
    let werr = |e| Error::Write {
        path: log_path.to_path_buf(),
        source: e,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".spx-log-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(werr)?;
    tmp.write_all(content.as_bytes()).map_err(werr)?;
    // Keep the log's mode; a new log is 0644 (NamedTempFile would leave it 0600).
    match std::fs::metadata(log_path) {
        Ok(m) => tmp
            .as_file()
            .set_permissions(m.permissions())
            .map_err(werr)?,
        Err(_) => set_default_permissions(tmp.as_file()).map_err(werr)?,
    }
    tmp.as_file().sync_all().map_err(werr)?;
    Ok(PendingAppend {
        log_path: log_path.to_path_buf(),
        tmp: Some(tmp),
        _lock: lock,
    })
}

/// Both phases at once, for changes that have no secrets file write to pair with.
pub fn append(log_path: &Path, rows: &[Row]) -> Result<()> {
    prepare_append(log_path, rows)?.commit()
}

/// The log's text with `rows` appended: after the last row when the file ends in an spx table,
/// else after a new spx table header (a new file also gets the intro paragraph). Everything
/// already in the file is kept byte for byte, except trailing blank lines after an spx table.
pub fn render_append(existing: &str, rows: &[Row]) -> String {
    let mut out = String::with_capacity(existing.len() + rows.len() * 160);
    let header_lines = || {
        let sep = vec!["---"; HEADER.len()];
        format!("{}\n{}\n", render_cells(&HEADER), render_cells(&sep))
    };
    if existing.trim().is_empty() {
        out.push_str(INTRO);
        out.push('\n');
        out.push_str(&header_lines());
    } else {
        let trimmed = existing.trim_end();
        if table::parse(trimmed).ends_in_spx_table {
            out.push_str(trimmed);
            out.push('\n');
        } else {
            out.push_str(trimmed);
            out.push_str("\n\n");
            out.push_str(&header_lines());
        }
    }
    let mut prev = table::parse(existing).last_chain();
    for row in rows {
        let cells = row.cells();
        let chain = table::chain_digest(&prev, &render_cells(&cells));
        let mut seven: Vec<&str> = cells.iter().map(String::as_str).collect();
        seven.push(&chain);
        out.push_str(&render_cells(&seven));
        out.push('\n');
        prev = chain;
    }
    out
}

fn take_lock(log_path: &Path) -> Result<File> {
    let lp = lock_path(log_path);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lp)
        .map_err(|e| Error::Write {
            path: lp.clone(),
            source: e,
        })?;
    let start = Instant::now();
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(f),
            Err(TryLockError::WouldBlock) => {
                if start.elapsed() >= LOCK_TIMEOUT {
                    return Err(Error::Locked {
                        file: log_path.display().to_string(),
                        lock: lp.display().to_string(),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::Write {
                    path: lp,
                    source: e,
                })
            }
        }
    }
}

#[cfg(unix)]
fn set_default_permissions(f: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_default_permissions(_f: &File) -> std::io::Result<()> {
    Ok(())
}

/// fsync the directory so the rename survives a crash (best effort: not all systems allow it).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{table, Action, Row};
    use super::*;

    fn row(key: &str) -> Row {
        Row {
            date: table::parse_date("2026-11-23T10:00:00Z").unwrap(),
            file: "secrets/s.yaml".into(),
            key: key.into(),
            action: Action::Changed,
            reason: "r".into(),
            rotator: "me".into(),
        }
    }

    #[test]
    fn new_file_gets_intro_header_and_chained_rows() {
        let text = render_append("", &[row("a"), row("b")]);
        assert!(text.starts_with("# Secrets rotation log\n\n"));
        let p = table::parse(&text);
        assert_eq!(p.entries.len(), 2);
        let c0 = table::chain_digest(table::GENESIS, &p.entries[0].canonical());
        assert_eq!(p.entries[0].chain.as_deref(), Some(c0.as_str()));
        let c1 = table::chain_digest(&c0, &p.entries[1].canonical());
        assert_eq!(p.entries[1].chain.as_deref(), Some(c1.as_str()));
        // appending again continues the same table and chain
        let more = render_append(&format!("{text}\n\n"), &[row("c")]);
        assert!(more.starts_with(text.trim_end()));
        let p2 = table::parse(&more);
        assert_eq!(p2.entries.len(), 3);
        assert_eq!(more.matches("| date (UTC) |").count(), 1);
        let c2 = table::chain_digest(&c1, &p2.entries[2].canonical());
        assert_eq!(p2.entries[2].chain.as_deref(), Some(c2.as_str()));
    }

    #[test]
    fn hand_written_history_is_kept_and_a_new_table_starts_after_it() {
        let legacy = "# Rotations\n\n| Date | Secret | Reason | Who |\n|---|---|---|---|\n| 2025-01-02 | smtp_password | quarterly | bob |\n";
        let text = render_append(legacy, &[row("a")]);
        assert!(text.starts_with(legacy.trim_end()));
        let p = table::parse(&text);
        assert_eq!(p.entries.len(), 2);
        assert!(!p.entries[0].spx_table);
        assert!(p.entries[1].spx_table);
        let c = table::chain_digest(table::GENESIS, &p.entries[1].canonical());
        assert_eq!(p.entries[1].chain.as_deref(), Some(c.as_str()));
    }

    #[test]
    fn lock_file_sits_beside_the_log() {
        assert_eq!(
            lock_path(Path::new("docs/secrets-rotation-log.md")),
            Path::new("docs/.secrets-rotation-log.md.lock")
        );
    }
}
