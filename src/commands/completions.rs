//! `spx completions SHELL` and `spx man`: generated from the clap definition, so they never
//! drift from the real flags.

use crate::error::{Error, Result};
use clap::CommandFactory;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  spx completions bash > ~/.local/share/bash-completion/completions/spx\n  spx completions zsh > \"${fpath[1]}/_spx\"\n  spx completions fish > ~/.config/fish/completions/spx.fish"
)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  spx man > spx.1 && man ./spx.1")]
pub struct ManArgs {}

pub fn completions(a: &CompletionsArgs) -> Result<i32> {
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "spx", &mut std::io::stdout());
    Ok(0)
}

pub fn man(_a: &ManArgs) -> Result<i32> {
    let cmd = crate::cli::Cli::command();
    clap_mangen::Man::new(cmd)
        .render(&mut std::io::stdout())
        .map_err(|source| Error::Write {
            path: "<stdout>".into(),
            source,
        })?;
    Ok(0)
}
