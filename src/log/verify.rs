//! `spx log verify`: the chain holds, and the file is a pure append of its committed version.
//!
//! Checks, each reported as one line naming the row's line number:
//! - every row after the first chained row is itself chained (an unchained row there was
//!   inserted); rows before it are hand-written history and only the git check covers them;
//! - each chained row's digest equals `sha256(prev ‖ row)` (see [`super::table`]): a mismatch
//!   means that row was edited, or a row before it was removed, reordered or inserted;
//! - spx rows have seven cells and an ISO 8601 UTC date;
//! - if the log is tracked at git `HEAD`: HEAD's rows are, in order and unchanged, the first
//!   rows of the file (cells compared after trimming spaces, so re-aligning the table is fine).
//!
//! Limits: the chain has no key, so someone who rewrites rows can recompute every digest after
//! them; the comparison with `HEAD` is what catches that for committed rows. Removing the last
//! uncommitted rows is not detectable by either.

use super::table::{self, Entry, CHAIN_LEN, GENESIS};
use crate::error::{Error, Result};
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the working file, when the problem is about one row there.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What the comparison with git `HEAD` found possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadCheck {
    /// HEAD holds the log; this many of its rows were compared.
    Compared { head_rows: usize },
    /// The repository has a HEAD but the log is not in it (new log, or not committed yet).
    NotTracked,
    /// Not inside a git repository with at least one commit.
    NoRepository,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Table rows in the file.
    pub rows: usize,
    pub chained: usize,
    /// Hand-written rows before the chain starts.
    pub unchained: usize,
    pub head: HeadCheck,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verify the log at `log_path` (which need not exist: a missing log that HEAD does not hold
/// is fine, one that HEAD holds is a problem).
pub fn verify(log_path: &Path, repo_root: &Path) -> Result<VerifyReport> {
    let text = match std::fs::read(log_path) {
        Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::Read {
                path: log_path.to_path_buf(),
                source: e,
            })
        }
    };
    let parsed = table::parse(text.as_deref().unwrap_or(""));
    let mut problems = check_chain(&parsed.entries);

    let head = head_version(log_path, repo_root);
    let head_check = match &head {
        Head::NoRepository => HeadCheck::NoRepository,
        Head::NotTracked => HeadCheck::NotTracked,
        Head::Text(head_text) => {
            let head_rows = table::parse(head_text).entries;
            if text.is_none() {
                problems.push(Problem {
                    line: None,
                    message: format!(
                        "the log is missing, but HEAD holds it with {} row(s)",
                        head_rows.len()
                    ),
                });
            } else {
                problems.extend(check_prefix(&head_rows, &parsed.entries));
            }
            HeadCheck::Compared {
                head_rows: head_rows.len(),
            }
        }
    };
    let chained = parsed.entries.iter().filter(|e| e.chain.is_some()).count();
    Ok(VerifyReport {
        rows: parsed.entries.len(),
        chained,
        unchained: parsed.entries.len() - chained,
        head: head_check,
        problems,
    })
}

fn describe(e: &Entry) -> String {
    let date = e.cells.first().map(String::as_str).unwrap_or("");
    match (&e.file, &e.key) {
        (Some(f), Some(k)) => format!("{date} {f} {k}"),
        (None, Some(k)) => format!("{date} {k}"),
        _ => date.trim().to_string(),
    }
}

/// The chain and shape checks, on the rows of one file.
pub(crate) fn check_chain(entries: &[Entry]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut prev: Option<String> = None; // None until the first chained row
    for e in entries {
        let p = |message: String| Problem {
            line: Some(e.line),
            message,
        };
        match &e.chain {
            None => {
                if prev.is_some() {
                    problems.push(p(format!(
                        "row ({}) has no chain digest after chained rows: it was inserted or its digest removed",
                        describe(e)
                    )));
                }
            }
            Some(chain) => {
                if e.cells.len() != 7 {
                    problems.push(p(format!(
                        "row has {} cells, expected 7 (date, file, key, action, reason, rotator, chain)",
                        e.cells.len()
                    )));
                }
                if e.date.is_none() || !e.cells.first().is_some_and(|d| d.ends_with('Z')) {
                    problems.push(p(
                        "date is not ISO 8601 UTC (like 2026-11-23T10:00:00Z)".into()
                    ));
                }
                let prev_chain = prev.clone().unwrap_or_else(|| GENESIS.to_string());
                if !table::is_chain_cell(chain) {
                    problems.push(p(format!(
                        "chain cell is not {CHAIN_LEN} lowercase hex digits"
                    )));
                } else if table::chain_digest(&prev_chain, &e.canonical()) != *chain {
                    problems.push(p(format!(
                        "chain digest does not match: this row ({}) was edited, or a row before it was removed, reordered or inserted",
                        describe(e)
                    )));
                }
                // Continue from the digest as written, so one edit reports one row.
                prev = Some(chain.clone());
            }
        }
    }
    problems
}

/// HEAD's rows must be the first rows of the working file, unchanged and in order.
pub(crate) fn check_prefix(head: &[Entry], now: &[Entry]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, h) in head.iter().enumerate() {
        match now.get(i) {
            Some(n) if n.cells == h.cells => {}
            other => {
                let message = match other {
                    Some(_) if now.iter().any(|n| n.cells == h.cells) => format!(
                        "committed row {} (HEAD line {}: {}) is out of place: rows were reordered, removed or inserted before it",
                        i + 1,
                        h.line,
                        describe(h)
                    ),
                    Some(_) => format!(
                        "committed row {} (HEAD line {}: {}) was changed or removed",
                        i + 1,
                        h.line,
                        describe(h)
                    ),
                    None => format!(
                        "committed row {} (HEAD line {}: {}) was removed",
                        i + 1,
                        h.line,
                        describe(h)
                    ),
                };
                problems.push(Problem {
                    line: other.map(|n| n.line),
                    message: format!("not a pure append of HEAD: {message}"),
                });
            }
        }
    }
    problems
}

enum Head {
    Text(String),
    NotTracked,
    NoRepository,
}

fn head_version(log_path: &Path, repo_root: &Path) -> Head {
    if super::git(
        repo_root,
        &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
    )
    .is_none()
    {
        return Head::NoRepository;
    }
    let toplevel = super::repo_root(repo_root);
    let rel = super::repo_relative(&toplevel, log_path);
    if Path::new(&rel).is_absolute() {
        return Head::NotTracked;
    }
    let spec = format!("HEAD:{rel}");
    if super::git(&toplevel, &["cat-file", "-e", &spec]).is_none() {
        return Head::NotTracked;
    }
    match super::git(&toplevel, &["cat-file", "blob", &spec]) {
        Some(b) => Head::Text(String::from_utf8_lossy(&b).into_owned()),
        None => Head::NotTracked,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{render_append, table, Action, Row};
    use super::*;

    fn rows(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                date: table::parse_date("2026-11-23T10:00:00Z").unwrap(),
                file: "secrets/s.yaml".into(),
                key: format!("k{i}"),
                action: Action::Changed,
                reason: "r".into(),
                rotator: "me".into(),
            })
            .collect()
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    fn problems(text: &str) -> Vec<Problem> {
        check_chain(&table::parse(text).entries)
    }

    #[test]
    fn fresh_log_verifies() {
        assert!(problems(&render_append("", &rows(4))).is_empty());
    }

    #[test]
    fn edited_removed_reordered_inserted_rows_fail() {
        let text = render_append("", &rows(4));
        let l = lines(&text);
        let first_row = l.iter().position(|x| x.starts_with("| 2026")).unwrap();
        // edited
        let mut e = l.clone();
        e[first_row + 1] = e[first_row + 1].replace("| r |", "| R |");
        assert_eq!(problems(&e.join("\n")).len(), 1);
        // removed
        let mut d = l.clone();
        d.remove(first_row + 1);
        assert!(!problems(&d.join("\n")).is_empty());
        // reordered
        let mut r = l.clone();
        r.swap(first_row + 1, first_row + 2);
        assert!(!problems(&r.join("\n")).is_empty());
        // inserted without chain
        let mut i = l.clone();
        i.insert(
            first_row + 2,
            "| 2026-11-23T10:00:00Z | s | x | added | r | me | |".into(),
        );
        assert!(!problems(&i.join("\n")).is_empty());
        // inserted with a made-up chain
        let mut j = l.clone();
        j.insert(
            first_row + 2,
            "| 2026-11-23T10:00:00Z | s | x | added | r | me | 0123456789ab |".into(),
        );
        assert!(!problems(&j.join("\n")).is_empty());
        // re-aligning spaces is fine
        let a: Vec<String> = l.iter().map(|x| x.replace(" | ", "  |  ")).collect();
        assert!(problems(&a.join("\n")).is_empty());
    }

    #[test]
    fn prefix_check() {
        let head = render_append("", &rows(2));
        let now = render_append(&head, &rows(1));
        let hp = table::parse(&head).entries;
        assert!(check_prefix(&hp, &table::parse(&now).entries).is_empty());
        let mut l = lines(&now);
        let n = l.len();
        l.swap(n - 2, n - 3);
        assert!(!check_prefix(&hp, &table::parse(&l.join("\n")).entries).is_empty());
    }
}
