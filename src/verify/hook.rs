//! `spx hook install`: put the pre-commit hook where git runs it (`core.hooksPath` if set, else
//! the repository's `hooks/`), without clobbering a hook someone else wrote.

use crate::error::{Error, Result};
use git2::Repository;
use std::path::{Path, PathBuf};

/// The marker line identifying a hook spx wrote.
pub const MARKER: &str = "# installed by spx: pre-commit verifier";

/// The hook script. `SPX` overrides the binary (e.g. a path in CI).
pub fn script(chained: Option<&str>) -> String {
    let mut s = String::from("#!/bin/sh\n");
    s.push_str(MARKER);
    s.push_str("\n# Refuses commits that would put a plaintext secret into git (see `spx verify --help`).\n");
    if let Some(old) = chained {
        s.push_str(&format!(
            "# The hook that was here before runs first.\n\"$(dirname \"$0\")/{old}\" \"$@\" || exit $?\n"
        ));
    }
    s.push_str("exec \"${SPX:-spx}\" verify --staged\n");
    s
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// Replace a different existing hook.
    pub force: bool,
    /// Keep a different existing hook and run it before spx.
    pub chain: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    New(PathBuf),
    AlreadyInstalled(PathBuf),
    Replaced(PathBuf),
    Chained { hook: PathBuf, previous: PathBuf },
}

/// Where git looks for hooks for the repository containing `start`.
pub fn hooks_dir(start: &Path) -> Result<PathBuf> {
    let repo = Repository::discover(start)
        .map_err(|_| Error::Usage(format!("{}: not inside a git repository", start.display())))?;
    let config = repo
        .config()
        .map_err(|e| Error::Other(format!("git config: {}", e.message())))?;
    if let Ok(p) = config.get_path("core.hooksPath") {
        // Relative hooksPath is relative to the work tree root (where hooks run), as git does.
        return Ok(if p.is_absolute() {
            p
        } else {
            repo.workdir().unwrap_or_else(|| repo.path()).join(p)
        });
    }
    // Linked worktrees share the main repository's hooks.
    Ok(repo.commondir().join("hooks"))
}

pub fn install(start: &Path, opts: InstallOptions) -> Result<Installed> {
    let dir = hooks_dir(start)?;
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let hook = dir.join("pre-commit");
    let wanted = script(None);
    let existing = match std::fs::read(&hook) {
        Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(Error::Read { path: hook, source }),
    };
    match existing {
        None => {
            write_hook(&hook, &wanted)?;
            Ok(Installed::New(hook))
        }
        Some(old) if old.contains(MARKER) && !opts.force => Ok(Installed::AlreadyInstalled(hook)),
        Some(_) if opts.chain => {
            let previous = dir.join("pre-commit.before-spx");
            if previous.exists() {
                return Err(Error::Usage(format!(
                    "{}: already exists; remove it or move it away before chaining again",
                    previous.display()
                )));
            }
            std::fs::rename(&hook, &previous).map_err(|source| Error::Write {
                path: previous.clone(),
                source,
            })?;
            write_hook(&hook, &script(Some("pre-commit.before-spx")))?;
            Ok(Installed::Chained { hook, previous })
        }
        Some(_) if opts.force => {
            write_hook(&hook, &wanted)?;
            Ok(Installed::Replaced(hook))
        }
        Some(_) => Err(Error::Usage(format!(
            "{}: a different pre-commit hook exists; keep it and run it first with `spx hook install --chain`, or replace it with `--force`",
            hook.display()
        ))),
    }
}

fn write_hook(path: &Path, text: &str) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(path, text).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_script_runs_the_old_hook_first() {
        let s = script(Some("pre-commit.before-spx"));
        let old = s.find("pre-commit.before-spx\"").unwrap();
        let spx = s.find("verify --staged").unwrap();
        assert!(old < spx);
        assert!(s.contains(MARKER));
    }
}
