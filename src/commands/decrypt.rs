//! `spx decrypt`: print (or write) the plaintext of one or more sops files.

use super::{open, pick_format, read_input, write_output, Global};
use crate::error::{code, Error, Result};
use crate::keys::Identities;
use crate::store;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx decrypt secrets/shared.sops.yaml\n  spx decrypt --extract '[\"smtp\"][\"password\"]' secrets/shared.sops.yaml"
)]
pub struct DecryptArgs {
    /// Print only the value at this path, e.g. '["smtp"]["password"]' or '["hosts"][0]'
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// Replace the file with its plaintext
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Write the plaintext to this file (mode kept; new files 0600) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Input format: yaml, json, dotenv, ini or binary (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Output format (default: the input format)
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Do not verify the file's MAC (only for files you trust)
    #[arg(long)]
    pub ignore_mac: bool,
    /// Use this name to pick the store (for stdin)
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<String>,
    /// The sops file ('-' or /dev/stdin for standard input)
    pub file: String,
}

pub fn run(g: &Global, a: &DecryptArgs) -> Result<i32> {
    if a.in_place && a.output.is_some() {
        return Err(Error::ConflictingParameters(
            "--in-place and --output cannot be used together".into(),
        ));
    }
    let name = a
        .filename_override
        .clone()
        .unwrap_or_else(|| a.file.clone());
    let in_fmt = pick_format(a.input_type.as_deref(), &name)?;
    let out_fmt = match &a.output_type {
        Some(t) => pick_format(Some(t), &name)?,
        None => in_fmt,
    };
    let steps = a
        .extract
        .as_deref()
        .map(|p| crate::path::parse(p, code::INVALID_TREE_PATH_FORMAT))
        .transpose()?;
    let bytes = read_input(&a.file)?;
    let ids = Identities::discover();
    let opened = open(&bytes, in_fmt, &name, &ids, a.ignore_mac)?;
    let opts = g.emit_options();
    let out = match steps {
        Some(steps) => {
            let doc = opened.plain.first().cloned().unwrap_or_default();
            let v = crate::path::get(&doc, &steps).map_err(|e| {
                Error::NotInTree(format!(
                    "{name}: {e} (path {})",
                    a.extract.as_deref().unwrap_or("")
                ))
            })?;
            store::emit_value(out_fmt, v, &opts, &name)?
        }
        None => store::emit_plain(out_fmt, &opened.plain, &opts, &name)?,
    };
    let dest = if a.in_place {
        Some(Path::new(&a.file).to_path_buf())
    } else {
        a.output.clone()
    };
    if let Some(d) = &dest {
        if !d.exists() {
            // A new plaintext file is private by default.
            crate::fsutil::atomic_write_mode(d, &out, 0o600)?;
            return Ok(0);
        }
    }
    write_output(dest.as_deref(), &out)?;
    Ok(0)
}
