//! `spx decrypt`: print (or write) the plaintext of one or more sops files.

use super::{open_readonly, pick_format, read_input, write_output, Global};
use crate::error::{code, Error, Result};
use crate::keys::Identities;
use crate::store;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Default, Clone)]
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
    /// Print each value as the first 8 hex characters of its sha256 and its type, never the
    /// value itself (for reviews and CI logs)
    #[arg(long)]
    pub mask: bool,
    /// Do not verify the file's MAC (only for files you trust)
    #[arg(long)]
    pub ignore_mac: bool,
    /// Use this name to pick the store (for stdin)
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<String>,
    /// The sops file(s) ('-' or /dev/stdin for standard input); several files are printed one
    /// after the other (YAML as separate documents)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    #[arg(skip)]
    pub file: String,
}

pub fn run(g: &Global, a: &DecryptArgs) -> Result<i32> {
    if a.files.len() > 1 {
        if a.output.is_some() {
            return Err(Error::ConflictingParameters(
                "--output takes one input file; decrypt the others one by one".into(),
            ));
        }
        let mut all = Vec::new();
        for (i, f) in a.files.iter().enumerate() {
            let one = DecryptArgs {
                files: vec![f.clone()],
                file: f.clone(),
                extract: a.extract.clone(),
                in_place: a.in_place,
                output: None,
                input_type: a.input_type.clone(),
                output_type: a.output_type.clone(),
                mask: a.mask,
                ignore_mac: a.ignore_mac,
                filename_override: None,
            };
            let out = decrypt_one(g, &one)?;
            if !a.in_place {
                let yaml = pick_format(a.output_type.as_deref().or(a.input_type.as_deref()), f)?
                    == crate::store::Format::Yaml;
                if i > 0 && yaml && a.extract.is_none() {
                    all.extend_from_slice(b"---\n");
                }
                all.extend_from_slice(&out);
            }
        }
        if !a.in_place {
            write_output(None, &all)?;
        }
        return Ok(0);
    }
    let mut one = a.clone();
    one.file = a.files[0].clone();
    let out = decrypt_one(g, &one)?;
    let dest = if a.in_place {
        Some(Path::new(&one.file).to_path_buf())
    } else {
        a.output.clone()
    };
    if dest.is_none() {
        write_output(None, &out)?;
    }
    Ok(0)
}

/// Decrypt one file; writes it when in place or to --output, returns the plaintext bytes.
fn decrypt_one(g: &Global, a: &DecryptArgs) -> Result<Vec<u8>> {
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
    let mut opened = open_readonly(&bytes, in_fmt, &name, &ids, a.ignore_mac)?;
    if a.mask {
        for d in opened.plain.iter_mut() {
            mask_map(d);
        }
    }
    let opts = g.emit_options();
    let out = match steps {
        Some(steps) => {
            let doc = opened.plain.first().cloned().unwrap_or_default();
            let v = crate::path::get(&doc, &steps).map_err(|e| {
                Error::NotInTree(format!(
                    "{name}: {e} (path {}); list its keys with `spx decrypt --mask {name}`",
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
        } else {
            write_output(Some(d), &out)?;
        }
    }
    Ok(out)
}

/// `sha256:1a2b3c4d (str)`: enough to tell whether two values are equal, nothing more.
pub fn mask_value(v: &crate::tree::Value) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(v.plaintext_bytes());
    let hex: String = h.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex} ({})", v.type_name())
}

fn mask_value_in_place(v: &mut crate::tree::Value) {
    use crate::tree::Value;
    match v {
        Value::Map(m) => mask_map(m),
        Value::List(l) => l.iter_mut().for_each(mask_value_in_place),
        Value::Comment(_) | Value::Null => {}
        Value::Str(s) if s.is_empty() => {}
        other => *other = Value::Str(mask_value(other)),
    }
}

fn mask_map(m: &mut crate::tree::Map) {
    for item in m.items.iter_mut() {
        if let crate::tree::MapItem::Pair(_, v) = item {
            mask_value_in_place(v);
        }
    }
}
