//! Rule 4: the rotation log. When the repository has one, the staged log must only append to
//! HEAD's and its chain must verify; and every staged sops file whose ciphertexts changed must
//! come with new log rows for the changed keys. Unchanged values keep their ciphertext, so the
//! changed keys are found by diffing the *encrypted* trees: no key is needed.

use super::{finish, Finding, RawFinding};
use crate::log::{self, Action};
use crate::store::{self, Format};
use crate::tree::Document;
use std::path::Path;

/// Staged and HEAD contents of the log and of the changed files, as the scan reads them.
pub struct Inputs<'a> {
    pub log_path: &'a str,
    pub staged_log: Option<Vec<u8>>,
    pub head_log: Option<Vec<u8>>,
    /// (path, HEAD blob if any, staged blob) of each staged file.
    pub changed: Vec<(String, Option<Vec<u8>>, Vec<u8>)>,
}

fn encrypted_docs(path: &str, bytes: &[u8]) -> Option<Vec<Document>> {
    let fmt = Format::from_path(Path::new(path));
    let mut docs = store::load_encrypted(fmt, bytes, path).ok()?;
    store::split_metadata(fmt, &mut docs)?;
    Some(docs)
}

fn finding(path: &str, line: usize, rule: &'static str, message: String) -> Finding {
    finish(
        path,
        None,
        RawFinding {
            line,
            rule,
            message,
            secret: None,
        },
    )
}

pub fn check(inp: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    if inp.staged_log.is_none() && inp.head_log.is_none() {
        return out;
    }
    let staged = log::parse_bytes(inp.staged_log.as_deref().unwrap_or_default());
    let head = log::parse_bytes(inp.head_log.as_deref().unwrap_or_default());
    if inp.head_log.is_some() && inp.staged_log.is_none() {
        out.push(finding(
            inp.log_path,
            1,
            "rotation-log",
            "the rotation log is deleted in the index; it is append-only".into(),
        ));
        return out;
    }
    for p in log::verify::check_chain(&staged.entries)
        .into_iter()
        .chain(log::verify::check_prefix(&head.entries, &staged.entries))
    {
        out.push(finding(
            inp.log_path,
            p.line.unwrap_or(1),
            "rotation-log",
            p.message,
        ));
    }
    // Rows added by this commit.
    let new_rows = &staged.entries[head.entries.len().min(staged.entries.len())..];
    for (path, head_blob, staged_blob) in &inp.changed {
        if path == inp.log_path {
            continue;
        }
        let Some(after) = encrypted_docs(path, staged_blob) else {
            continue;
        };
        let before = head_blob
            .as_deref()
            .and_then(|b| encrypted_docs(path, b))
            .unwrap_or_default();
        let rows: Vec<&log::Entry> = new_rows
            .iter()
            .filter(|e| e.file.as_deref() == Some(path.as_str()))
            .collect();
        if rows
            .iter()
            .any(|e| e.key.as_deref() == Some(log::WHOLE_FILE_KEY))
        {
            continue;
        }
        for c in log::diff_documents(&before, &after) {
            if c.action == Action::DataKeyRotated {
                continue;
            }
            if !rows
                .iter()
                .any(|e| e.key.as_deref() == Some(c.key.as_str()))
            {
                out.push(finding(
                    path,
                    1,
                    "rotation-log-missing-row",
                    format!(
                        "the ciphertext of `{}` changed but {} has no new row for it; edit with spx (it logs), or add the row",
                        c.key, inp.log_path
                    ),
                ));
            }
        }
    }
    out
}
