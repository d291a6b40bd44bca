//! `spx encrypt`: a plaintext file → a sops file (new data key, wrapped for the recipients).

use super::{choose_keys, pick_format, read_input, write_output, Global};
use crate::crypt::DataKey;
use crate::document::{seal, wrap_data_key};
use crate::error::{Error, Result};
use crate::metadata::{Metadata, Selection, SOPS_VERSION};
use crate::store::{self, Format};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx encrypt --age age1… secrets/new.yaml > secrets/new.sops.yaml\n  spx encrypt -i secrets/shared.sops.yaml"
)]
pub struct EncryptArgs {
    /// Comma-separated age recipients (age1…, ssh-ed25519 …, ssh-rsa …); default: the creation rule
    #[arg(short = 'a', long = "age", value_name = "RECIPIENTS")]
    pub age: Option<String>,
    /// Write the result over the input file
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Write the result to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Input format: yaml, json, dotenv, ini or binary (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Output format (default: the input format)
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Leave keys ending with this suffix unencrypted (default _unencrypted)
    #[arg(long, value_name = "SUFFIX", group = "selection")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only keys ending with this suffix
    #[arg(long, value_name = "SUFFIX", group = "selection")]
    pub encrypted_suffix: Option<String>,
    /// Leave keys matching this regex unencrypted
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only keys matching this regex
    #[arg(long, value_name = "REGEX", group = "selection")]
    pub encrypted_regex: Option<String>,
    /// Read recipients from this file, one per line (`#` comments and blank lines allowed), as
    /// age's -R; may be repeated and combined with --age
    #[arg(short = 'R', long = "recipients-file", value_name = "FILE")]
    pub recipients_file: Vec<PathBuf>,
    /// Re-encrypt the plaintext over this existing sops file with its data key, keeping the
    /// ciphertext of every unchanged value (minimal git diff); writes the sops file in place
    #[arg(long, value_name = "SOPS_FILE", conflicts_with_all = ["in_place", "output", "age", "recipients_file"])]
    pub update: Option<PathBuf>,
    /// Number of key groups needed to decrypt (Shamir)
    #[arg(long = "shamir-secret-sharing-threshold", value_name = "N")]
    pub shamir_threshold: Option<usize>,
    /// Use this name to pick the store and the creation rule (needed for stdin)
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<String>,
    /// Why (recorded in the rotation log; default: $SPX_REASON, else asked on a terminal)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The plaintext file ('-' or /dev/stdin for standard input)
    pub file: String,
}

impl EncryptArgs {
    fn selection_flag(&self) -> Result<Option<Selection>> {
        let pairs = [
            ("unencrypted_suffix", &self.unencrypted_suffix),
            ("encrypted_suffix", &self.encrypted_suffix),
            ("unencrypted_regex", &self.unencrypted_regex),
            ("encrypted_regex", &self.encrypted_regex),
        ];
        for (f, v) in pairs {
            if let Some(t) = v {
                return Selection::from_field(f, t).map(Some).map_err(Error::Usage);
            }
        }
        Ok(None)
    }
}

pub fn run(g: &Global, a: &EncryptArgs) -> Result<i32> {
    if a.in_place && a.output.is_some() {
        return Err(Error::ConflictingParameters(
            "--in-place and --output cannot be used together".into(),
        ));
    }
    let stdin = super::is_stdin(&a.file);
    if stdin && a.in_place {
        return Err(Error::ConflictingParameters(
            "cannot encrypt standard input in place".into(),
        ));
    }
    if stdin && a.filename_override.is_none() && a.input_type.is_none() {
        return Err(Error::ConflictingParameters(
            "encrypting standard input needs --filename-override NAME (or --input-type) to choose the format and creation rule".into(),
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
    let bytes = read_input(&a.file)?;
    if let Some(target) = &a.update {
        return update(g, a, target, &bytes, in_fmt, &name);
    }
    let age = recipients_arg(a.age.as_deref(), &a.recipients_file)?;
    let (docs, key, md) = prepare(
        g,
        &bytes,
        in_fmt,
        &name,
        age.as_deref(),
        a.selection_flag()?,
        a.shamir_threshold,
    )?;
    let dest = if a.in_place {
        Some(Path::new(&a.file).to_path_buf())
    } else {
        a.output.clone()
    };
    // A new encrypted file in a repository: every key is logged as added.
    let changes = match &dest {
        Some(_) => crate::log::diff_documents(&[], &docs),
        None => Vec::new(),
    };
    let sealed = seal(docs, &key, md, None, None, out_fmt, &name)?;
    let out = sealed.into_bytes(&g.emit_options(), &name)?;
    match dest {
        Some(d) => super::save_logged(g, &d, &out, &changes, a.reason.as_deref())?,
        None => write_output(None, &out)?,
    }
    Ok(0)
}

/// `--age` and `-R` files combined into one comma-separated list (None when neither is given).
pub fn recipients_arg(age: Option<&str>, files: &[PathBuf]) -> Result<Option<String>> {
    let mut list: Vec<String> = age.map(crate::keys::split_list).unwrap_or_default();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|source| Error::Read {
            path: f.clone(),
            source,
        })?;
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            crate::keys::Recipient::parse(l)
                .map_err(|e| Error::Recipient(format!("{}:{}: {e}", f.display(), i + 1)))?;
            list.push(l.to_string());
        }
    }
    Ok(if list.is_empty() {
        None
    } else {
        Some(list.join(","))
    })
}

/// `encrypt --update SOPS_FILE PLAIN`: the plaintext replaces the file's data; values whose
/// path and plaintext are unchanged keep their exact ciphertext, changed or moved ones get
/// fresh IVs.
fn update(
    g: &Global,
    a: &EncryptArgs,
    target: &Path,
    bytes: &[u8],
    in_fmt: Format,
    name: &str,
) -> Result<i32> {
    let tname = target.display().to_string();
    let tfmt = Format::from_path(target);
    let _lock = crate::fsutil::FileLock::acquire(target)?;
    let tbytes = super::read_input(&tname)?;
    let ids = crate::keys::Identities::discover();
    let o = super::open(&tbytes, tfmt, &tname, &ids, false)?;
    let docs = store::load_plain(in_fmt, bytes, name)?;
    if store::has_metadata(in_fmt, &docs) {
        return Err(Error::AlreadyEncrypted { file: name.into() });
    }
    if docs == o.plain {
        crate::ui::info(format!(
            "spx: {tname}: already up to date with {name}; nothing written"
        ));
        return Ok(0);
    }
    let prev = o.file.metadata.mac.clone();
    let sealed = seal(
        docs.clone(),
        &o.key,
        o.file.metadata.clone(),
        Some(&o.cache),
        Some(&prev),
        tfmt,
        &tname,
    )?;
    let out = sealed.into_bytes(&g.emit_options(), &tname)?;
    let changes = crate::log::diff_documents(&o.plain, &docs);
    super::save_logged(g, target, &out, &changes, a.reason.as_deref())?;
    Ok(0)
}

/// Parse a plaintext and choose its keys and metadata; shared with `edit` of a new file.
pub fn prepare(
    g: &Global,
    bytes: &[u8],
    format: Format,
    name: &str,
    age: Option<&str>,
    selection_flag: Option<Selection>,
    threshold_flag: Option<usize>,
) -> Result<(Vec<crate::tree::Document>, DataKey, Metadata)> {
    if bytes.is_empty() && format != Format::Binary {
        return Err(Error::EmptyDocument { file: name.into() });
    }
    let docs = store::load_plain(format, bytes, name)?;
    if store::has_metadata(format, &docs) {
        return Err(Error::AlreadyEncrypted { file: name.into() });
    }
    let choice = choose_keys(g, age, Path::new(name))?;
    let key = DataKey::generate();
    let threshold = threshold_flag.unwrap_or(choice.threshold);
    let (groups, threshold) = wrap_data_key(&key, &choice.groups, threshold)?;
    let selection = if format == Format::Binary {
        None
    } else {
        Some(
            selection_flag
                .or(choice.selection)
                .unwrap_or_else(Selection::default_rule),
        )
    };
    let md = Metadata {
        key_groups_layout: groups.len() >= 2,
        groups,
        shamir_threshold: threshold,
        lastmodified: String::new(),
        mac: String::new(),
        selection,
        mac_only_encrypted: choice.mac_only_encrypted && format != Format::Binary,
        version: SOPS_VERSION.into(),
    };
    Ok((docs, key, md))
}
