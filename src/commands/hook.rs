//! `spx hook install`: install the pre-commit hook that runs `spx verify --staged`.

use crate::error::Error;
use crate::verify::hook::{install, InstallOptions, Installed};
use std::path::PathBuf;

/// Manage the git pre-commit hook.
#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  spx hook install\n  spx hook install --chain            # keep an existing pre-commit hook, run it first"
)]
pub struct HookArgs {
    #[command(subcommand)]
    pub action: HookAction,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum HookAction {
    /// Write the pre-commit hook into the repository's hooks directory (honours core.hooksPath).
    #[command(
        after_help = "Examples:\n  spx hook install\n  spx hook install --force            # replace a different pre-commit hook"
    )]
    Install {
        /// Replace a different existing pre-commit hook.
        #[arg(long, conflicts_with = "chain")]
        force: bool,
        /// Keep a different existing pre-commit hook and run it before spx.
        #[arg(long)]
        chain: bool,
    },
}

/// Exit 0 when installed (or already installed), 2 on a usage error (not a repository, a
/// different hook in the way).
pub fn run(args: &HookArgs) -> crate::Result<i32> {
    let HookAction::Install { force, chain } = args.action;
    let cwd = std::env::current_dir().map_err(|source| Error::Read {
        path: PathBuf::from("."),
        source,
    })?;
    match install(&cwd, InstallOptions { force, chain }) {
        Ok(Installed::New(p)) => crate::ui::info(format!("spx: installed {}", p.display())),
        Ok(Installed::AlreadyInstalled(p)) => {
            crate::ui::info(format!("spx: {} is already spx's hook", p.display()))
        }
        Ok(Installed::Replaced(p)) => crate::ui::info(format!("spx: replaced {}", p.display())),
        Ok(Installed::Chained { hook, previous }) => crate::ui::info(format!(
            "spx: installed {}; the previous hook, now {}, runs first",
            hook.display(),
            previous.display()
        )),
        Err(Error::Usage(msg)) => {
            eprintln!("spx hook install: {msg}");
            return Ok(2);
        }
        Err(e) => return Err(e),
    }
    Ok(0)
}
