//! `spx edit FILE` (and `spx FILE`): decrypt into a private temp file, run the editor,
//! re-encrypt with the same data key, keeping the ciphertext of every unchanged value.

use super::{choose_keys, open, pick_format, Global};
use crate::crypt::DataKey;
use crate::document::{seal, wrap_data_key, IvCache};
use crate::error::{Error, Result};
use crate::fsutil::FileLock;
use crate::keys::Identities;
use crate::metadata::{Metadata, Selection, SOPS_VERSION};
use crate::store::{self, Format};
use crate::tree::Document;
use std::path::Path;

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx edit secrets/shared.sops.yaml\n  EDITOR='code --wait' spx edit secrets/vps-i1.sops.yaml"
)]
pub struct EditArgs {
    /// Do not verify the file's MAC before editing (a fresh MAC is written)
    #[arg(long)]
    pub ignore_mac: bool,
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Recipients for a new file (default: the creation rule)
    #[arg(short = 'a', long = "age", value_name = "RECIPIENTS")]
    pub age: Option<String>,
    /// Why (recorded in the rotation log; default: $SPX_REASON, else asked on a terminal)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The sops file to edit (created if it does not exist)
    pub file: String,
}

/// What an edit did, for the rotation log.
pub struct EditResult {
    pub before: Vec<Document>,
    pub after: Vec<Document>,
}

pub fn run(g: &Global, a: &EditArgs) -> Result<i32> {
    edit(g, a).map(|_| 0)
}

pub fn edit(g: &Global, a: &EditArgs) -> Result<EditResult> {
    let path = Path::new(&a.file);
    let fmt = pick_format(a.input_type.as_deref(), &a.file)?;
    let _lock = FileLock::try_acquire(path)?;
    let opts = g.emit_options();
    let (before, key, mut md, cache, previous_mac) = if path.exists() {
        let bytes = super::read_input(&a.file)?;
        let ids = Identities::discover();
        let o = open(&bytes, fmt, &a.file, &ids, a.ignore_mac)?;
        let prev = o.file.metadata.mac.clone();
        (o.plain, o.key, o.file.metadata, o.cache, Some(prev))
    } else {
        let docs = template(fmt, &a.file)?;
        let choice = choose_keys(g, a.age.as_deref(), path)?;
        let key = DataKey::generate();
        let (groups, threshold) = wrap_data_key(&key, &choice.groups, choice.threshold)?;
        let md = Metadata {
            key_groups_layout: groups.len() >= 2,
            groups,
            shamir_threshold: threshold,
            lastmodified: String::new(),
            mac: String::new(),
            selection: if fmt == Format::Binary {
                None
            } else {
                Some(choice.selection.unwrap_or_else(Selection::default_rule))
            },
            mac_only_encrypted: choice.mac_only_encrypted,
            version: SOPS_VERSION.into(),
        };
        (docs, key, md, IvCache::default(), None)
    };
    let initial = zeroize::Zeroizing::new(store::emit_plain(fmt, &before, &opts, &a.file)?);
    let basename = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "secrets".into());
    let name = a.file.clone();
    let parse = move |b: &[u8]| store::load_plain(fmt, b, &name);
    let after = crate::edit::edit_text(&initial, &basename, &a.file, g.verbose, &parse)?;
    if after == before && previous_mac.is_some() {
        return Err(Error::Unchanged {
            file: a.file.clone(),
        });
    }
    if older_than_ours(&md.version) {
        md.version = SOPS_VERSION.into();
    }
    let sealed = seal(
        after.clone(),
        &key,
        md,
        Some(&cache),
        previous_mac.as_deref(),
        fmt,
        &a.file,
    )?;
    let out = sealed.into_bytes(&opts, &a.file)?;
    let changes = crate::log::diff_documents(&before, &after);
    super::save_logged(g, path, &out, &changes, a.reason.as_deref())?;
    g.verbose(format!("{}: written", a.file));
    Ok(EditResult { before, after })
}

fn older_than_ours(v: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> {
        s.split(['-', '+'])
            .next()
            .unwrap_or("")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parse(v) < parse(SOPS_VERSION)
}

/// The document a new file starts from (sops's example, so users of sops feel at home).
fn template(fmt: Format, name: &str) -> Result<Vec<Document>> {
    let text: &str = match fmt {
        Format::Yaml => "# New secrets file: replace these examples with your own keys.\nhello: Welcome to spx! Edit this file as you please!\nexample_key: example_value\n# Example comment\nexample_array:\n    - example_value1\n    - example_value2\nexample_number: 1234.56789\nexample_booleans:\n    - true\n    - false\n",
        Format::Json => "{\n\t\"hello\": \"Welcome to spx! Edit this file as you please!\",\n\t\"example_key\": \"example_value\",\n\t\"example_array\": [\"example_value1\", \"example_value2\"],\n\t\"example_number\": 1234.56789,\n\t\"example_booleans\": [true, false]\n}\n",
        Format::Dotenv => "# New secrets file: replace these examples with your own keys.\nHELLO=Welcome to spx! Edit this file as you please!\nEXAMPLE_KEY=example_value\n",
        Format::Ini => "[example]\nhello = Welcome to spx! Edit this file as you please!\nexample_key = example_value\n",
        Format::Binary => "Welcome to spx! Edit this file as you please!\n",
    };
    store::load_plain(fmt, text.as_bytes(), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comparison() {
        assert!(older_than_ours("3.7.3"));
        assert!(!older_than_ours("3.11.0"));
        assert!(!older_than_ours("3.12.0"));
    }
}
