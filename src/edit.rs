//! The editor session: plaintext in a 0600 file inside a private 0700 directory (tmpfs when
//! there is one), `$SOPS_EDITOR`/`$EDITOR`/vim/nano/vi, and validation of what comes back, with
//! the chance to re-open the editor on the same text when it does not parse.

use crate::error::{Error, Result};
use crate::fsutil::PrivateDir;
use crate::tree::Document;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use zeroize::Zeroizing;

/// The editor command line: `SOPS_EDITOR`, else `EDITOR` (split shell-style), else the first
/// of vim, nano, vi on PATH.
pub fn editor_command() -> Result<Vec<String>> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                let words = shell_words::split(&v)
                    .map_err(|e| Error::Editor(format!("cannot parse ${var} ({v:?}): {e}")))?;
                if !words.is_empty() {
                    return Ok(words);
                }
            }
        }
    }
    for cand in ["vim", "nano", "vi"] {
        if which(cand) {
            return Ok(vec![cand.to_string()]);
        }
    }
    Err(Error::Editor(
        "no editor found: set $EDITOR (e.g. EDITOR=nano)".into(),
    ))
}

fn which(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

/// Flags that stop vim/nvim from writing swap, backup, undo or viminfo files next to (or
/// about) the plaintext.
fn hygiene_args(program: &str) -> Vec<String> {
    let base = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    match base.as_str() {
        "vim" | "nvim" | "gvim" | "vim.basic" | "vim.tiny" => vec![
            "-n".into(),
            "-i".into(),
            "NONE".into(),
            "--cmd".into(),
            "set nobackup nowritebackup noundofile noswapfile".into(),
        ],
        _ => Vec::new(),
    }
}

/// Run the editor on `initial` and return the parsed result. `Err(Unchanged)` when the text
/// was not modified; the editor failing or a parse error without a terminal leave nothing
/// written.
pub fn edit_text(
    initial: &[u8],
    basename: &str,
    display_name: &str,
    verbose: bool,
    parse: &dyn Fn(&[u8]) -> Result<Vec<Document>>,
) -> Result<Vec<Document>> {
    let dir = PrivateDir::new()?;
    let path = dir.write_file(basename, initial)?;
    if verbose {
        eprintln!(
            "spx: plaintext is in {} ({}; mode 0600, directory 0700; removed when the editor closes)",
            path.display(),
            if dir.on_tmpfs { "memory-backed tmpfs" } else { "disk: no tmpfs available" }
        );
    }
    let original_hash = Sha256::digest(initial);
    let cmd = editor_command()?;
    loop {
        let mut c = Command::new(&cmd[0]);
        c.args(hygiene_args(&cmd[0])).args(&cmd[1..]).arg(&path);
        let status = c.status().map_err(|e| {
            Error::Editor(format!(
                "could not run editor {:?}: {e}; nothing written",
                cmd[0]
            ))
        })?;
        if !status.success() {
            return Err(Error::Editor(format!(
                "{display_name}: editor exited with {status}; nothing written"
            )));
        }
        let edited = Zeroizing::new(std::fs::read(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?);
        if Sha256::digest(&edited[..]) == original_hash {
            return Err(Error::Unchanged {
                file: display_name.into(),
            });
        }
        let problem = if edited.iter().all(|b| b.is_ascii_whitespace()) {
            "the editor left the file empty; refusing to write an empty secrets file".to_string()
        } else {
            match parse(&edited) {
                Ok(docs) => {
                    if docs
                        .first()
                        .map(|d| d.get("sops").is_some())
                        .unwrap_or(false)
                    {
                        "the edited file has a top-level `sops` key, which is reserved for metadata"
                            .to_string()
                    } else {
                        return Ok(docs);
                    }
                }
                Err(e) => e.to_string(),
            }
        };
        if !crate::commands::interactive() {
            return Err(Error::Parse {
                file: display_name.into(),
                msg: format!("{problem}; nothing written"),
            });
        }
        eprintln!("spx: {problem}");
        eprint!(
            "Press Enter to re-open the editor on your text, or Ctrl-C to abort without writing: "
        );
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
            return Err(Error::Parse {
                file: display_name.into(),
                msg: format!("{problem}; nothing written"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vim_gets_hygiene_flags_others_do_not() {
        assert!(hygiene_args("/usr/bin/vim").contains(&"-n".to_string()));
        assert!(hygiene_args("nvim").contains(&"NONE".to_string()));
        assert!(hygiene_args("nano").is_empty());
    }
}
