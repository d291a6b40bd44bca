//! `spx rotate FILE`: a new data key, every value re-encrypted, recipients optionally changed.

use super::{open, pick_format, read_input, write_output, Global};
use crate::crypt::DataKey;
use crate::document::{seal, wrap_data_key};
use crate::error::{Error, Result};
use crate::fsutil::FileLock;
use crate::keys::{split_list, Identities};
use std::path::Path;

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx rotate -i secrets/shared.sops.yaml\n  spx rotate -i --rm-age age1old… secrets/shared.sops.yaml"
)]
pub struct RotateArgs {
    /// Write the result over the file (default: print it)
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Write the result to this file
    #[arg(long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Add these age recipients (comma-separated) to the first key group
    #[arg(long, value_name = "RECIPIENTS")]
    pub add_age: Option<String>,
    /// Add the recipients listed in this file (one per line, as age's -R)
    #[arg(short = 'R', long = "recipients-file", value_name = "FILE")]
    pub recipients_file: Vec<std::path::PathBuf>,
    /// Remove these age recipients (comma-separated) from every key group
    #[arg(long, value_name = "RECIPIENTS")]
    pub rm_age: Option<String>,
    /// Do not verify the file's MAC (a fresh MAC is written)
    #[arg(long)]
    pub ignore_mac: bool,
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Why (recorded in the rotation log; default: $SPX_REASON, else asked on a terminal)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The sops file
    pub file: String,
}

pub struct Rotated {
    pub before_recipients: Vec<String>,
    pub after_recipients: Vec<String>,
    pub plain: Vec<crate::tree::Document>,
}

pub fn run(g: &Global, a: &RotateArgs) -> Result<i32> {
    rotate(g, a).map(|_| 0)
}

pub fn rotate(g: &Global, a: &RotateArgs) -> Result<Rotated> {
    let p = Path::new(&a.file);
    if !p.exists() {
        return Err(Error::NotFound {
            path: a.file.clone().into(),
        });
    }
    let fmt = pick_format(a.input_type.as_deref(), &a.file)?;
    let _lock = if a.in_place {
        Some(FileLock::acquire(p)?)
    } else {
        None
    };
    let bytes = read_input(&a.file)?;
    let ids = Identities::discover();
    let o = open(&bytes, fmt, &a.file, &ids, a.ignore_mac)?;
    let mut groups = o.file.metadata.recipient_groups();
    let before_recipients = o.file.metadata.all_recipients();
    if let Some(add) = super::encrypt::recipients_arg(a.add_age.as_deref(), &a.recipients_file)? {
        for r in split_list(&add) {
            crate::keys::Recipient::parse(&r)?;
            groups[0].push(r);
        }
    }
    if let Some(rm) = &a.rm_age {
        let rm = split_list(rm);
        for r in &rm {
            if !before_recipients.contains(r) {
                return Err(Error::Recipient(format!(
                    "{}: {} is not a recipient of this file",
                    a.file,
                    crate::keys::short(r)
                )));
            }
        }
        for g in groups.iter_mut() {
            g.retain(|x| !rm.contains(x));
        }
    }
    if groups.iter().any(|g| g.is_empty()) {
        return Err(Error::Recipient(format!(
            "{}: removing these recipients would leave a key group empty; nobody could decrypt the file",
            a.file
        )));
    }
    let key = DataKey::generate();
    let mut md = o.file.metadata.clone();
    let threshold = if groups.len() >= 2 {
        md.shamir_threshold
    } else {
        0
    };
    let (new_groups, threshold) = wrap_data_key(&key, &groups, threshold)?;
    md.groups = new_groups;
    md.shamir_threshold = threshold;
    md.key_groups_layout = md.key_groups_layout || md.groups.len() >= 2;
    let after_recipients = md.all_recipients();
    // A new key: no IV is reused.
    let sealed = seal(o.plain.clone(), &key, md, None, None, fmt, &a.file)?;
    let out = sealed.into_bytes(&g.emit_options(), &a.file)?;
    if a.in_place {
        let mut changes = vec![crate::log::Change {
            key: crate::log::WHOLE_FILE_KEY.into(),
            action: crate::log::Action::DataKeyRotated,
        }];
        let added: Vec<String> = after_recipients
            .iter()
            .filter(|r| !before_recipients.contains(r))
            .cloned()
            .collect();
        let removed: Vec<String> = before_recipients
            .iter()
            .filter(|r| !after_recipients.contains(r))
            .cloned()
            .collect();
        if !added.is_empty() || !removed.is_empty() {
            changes.push(crate::log::Change {
                key: crate::log::WHOLE_FILE_KEY.into(),
                action: crate::log::Action::RecipientsChanged { added, removed },
            });
        }
        super::save_logged(g, p, &out, &changes, a.reason.as_deref())?;
    } else {
        write_output(a.output.as_deref(), &out)?;
    }
    Ok(Rotated {
        before_recipients,
        after_recipients,
        plain: o.plain,
    })
}
