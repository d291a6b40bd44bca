//! `spx updatekeys [-y] [FILE…]`: re-wrap each file's data key for exactly the recipients its
//! creation rule names now. Values, IVs, `lastmodified` and the MAC are untouched, and the
//! `enc` of a recipient who stays is kept as it is, so the diff shows only who changed.

use super::{pick_format, read_input, Global};
use crate::config::Config;
use crate::document::{recover_data_key, wrap_data_key, SopsFile};
use crate::error::{Error, Result};
use crate::fsutil::FileLock;
use crate::keys::Identities;
use crate::metadata::Metadata;
use crate::ui::{paint, Stream::Stdout, Style};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx updatekeys -y                 # every sops file a creation rule matches\n  spx updatekeys secrets/shared.sops.yaml"
)]
pub struct UpdatekeysArgs {
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Why (recorded in the rotation log; default: $SPX_REASON, else asked on a terminal)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Files to update (default: every sops file under the repository matched by a creation rule)
    pub files: Vec<String>,
}

/// The change made to one file (for the log and for callers such as `recipients`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysChange {
    pub file: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

pub fn run(g: &Global, a: &UpdatekeysArgs) -> Result<i32> {
    let (_changes, failed) = updatekeys(g, a)?;
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Every sops file under the config's directory that a creation rule matches.
pub fn repository_files(config: &Config) -> Vec<PathBuf> {
    crate::fsutil::repository_walk(config.dir())
        .into_iter()
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            name != ".sops.yaml"
                && config.rule_for(p).is_some()
                && std::fs::read(p).is_ok_and(|bytes| {
                    SopsFile::parse(&bytes, crate::store::Format::from_path(p), &name).is_ok()
                })
        })
        .collect()
}

fn rel(p: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    p.strip_prefix(&cwd).unwrap_or(p).display().to_string()
}

pub fn updatekeys(g: &Global, a: &UpdatekeysArgs) -> Result<(Vec<KeysChange>, usize)> {
    let config = g.config()?.ok_or_else(|| {
        Error::Config("no .sops.yaml found (searched from the current directory upwards): updatekeys needs the creation rules".into())
    })?;
    let files: Vec<PathBuf> = if a.files.is_empty() {
        repository_files(&config)
    } else {
        a.files.iter().map(PathBuf::from).collect()
    };
    let ids = Identities::discover();
    let mut changes = Vec::new();
    let mut failed = 0;
    // A bar only when nothing is asked: a prompt under a redrawn bar is unreadable.
    let bar = if a.yes {
        crate::ui::progress(files.len(), "updatekeys")
    } else {
        crate::ui::progress(0, "updatekeys")
    };
    for f in &files {
        bar.working_on(&rel(f));
        match update_one(g, a, &config, &ids, f, &bar) {
            Ok(Some(c)) => changes.push(c),
            Ok(None) => {}
            Err(e) => {
                bar.suspend(|| eprintln!("{} {e}", crate::ui::error_prefix()));
                failed += 1;
            }
        }
        bar.step(&rel(f));
    }
    bar.finish();
    if failed > 0 {
        eprintln!(
            "spx: updatekeys: {failed} of {} file(s) could not be updated",
            files.len()
        );
    }
    Ok((changes, failed))
}

fn update_one(
    g: &Global,
    a: &UpdatekeysArgs,
    config: &Config,
    ids: &Identities,
    f: &Path,
    bar: &crate::ui::Progress,
) -> Result<Option<KeysChange>> {
    let name = rel(f);
    if !f.exists() {
        return Err(Error::NotFound {
            path: name.clone().into(),
        });
    }
    let rule = config.rule_for(f).ok_or_else(|| {
        Error::Config(format!(
            "{name}: no creation rule in {} matches this file",
            config.path().display()
        ))
    })?;
    if rule.key_groups.is_empty() {
        return Err(Error::Config(format!(
            "{name}: its creation rule names no recipients"
        )));
    }
    let fmt = pick_format(a.input_type.as_deref(), &name)?;
    let _lock = FileLock::acquire(f)?;
    let bytes = read_input(&f.to_string_lossy())?;
    let file = SopsFile::parse(&bytes, fmt, &name)?;
    let old_groups = file.metadata.recipient_groups();
    let new_groups = rule.key_groups.clone();
    let new_threshold = if new_groups.len() >= 2 {
        rule.shamir_threshold
            .unwrap_or(new_groups.len())
            .min(new_groups.len())
    } else {
        0
    };
    let old_threshold = if old_groups.len() >= 2 {
        file.metadata.shamir_threshold
    } else {
        0
    };
    if old_groups == new_groups && old_threshold == new_threshold {
        bar.suspend(|| g.info(format!("{name}: already up to date")));
        return Ok(None);
    }
    let old_all: Vec<String> = old_groups.iter().flatten().cloned().collect();
    let new_all: Vec<String> = new_groups.iter().flatten().cloned().collect();
    let added: Vec<String> = new_all
        .iter()
        .filter(|r| !old_all.contains(r))
        .cloned()
        .collect();
    let removed: Vec<String> = old_all
        .iter()
        .filter(|r| !new_all.contains(r))
        .cloned()
        .collect();
    // The plan is informational once nothing is asked (-y); before a question it is needed.
    if !(a.yes && g.quiet) {
        bar.suspend(|| {
            print_plan(
                &name,
                &old_groups,
                &new_groups,
                old_threshold,
                new_threshold,
            )
        });
    }
    if !a.yes && !super::confirm(&format!("Update the recipients of {name}?"))? {
        g.info(format!("{name}: left unchanged"));
        return Ok(None);
    }
    let key = recover_data_key(&file.metadata, ids, &name)?;
    let mut md: Metadata = file.metadata.clone();
    if new_groups.len() == 1 && old_groups.len() == 1 {
        // Same data key, one group: keep the enc of every recipient who stays.
        let fresh = if added.is_empty() {
            Vec::new()
        } else {
            wrap_data_key(&key, std::slice::from_ref(&added), 0)?.0
        };
        let mut kept = Vec::new();
        for r in &new_groups[0] {
            if let Some(k) = md.groups[0].age.iter().find(|k| &k.recipient == r) {
                kept.push(k.clone());
            } else if let Some(k) = fresh
                .first()
                .and_then(|g| g.age.iter().find(|k| &k.recipient == r))
            {
                kept.push(k.clone());
            }
        }
        md.groups[0].age = kept;
    } else {
        let (groups, t) = wrap_data_key(&key, &new_groups, new_threshold)?;
        md.groups = groups;
        md.shamir_threshold = t;
        md.key_groups_layout = md.groups.len() >= 2;
    }
    let updated = SopsFile {
        format: file.format,
        docs: file.docs.clone(),
        metadata: md,
    };
    let out = updated.emit(&g.emit_options(), &name)?;
    // Who, for the log: a recipient's name from .sops.yaml beside its key.
    let names = std::fs::read_to_string(config.path())
        .map(|t| crate::sopsyaml_edit::all_names(&t, config))
        .unwrap_or_default();
    let changes = vec![crate::log::Change {
        key: crate::log::WHOLE_FILE_KEY.into(),
        action: crate::log::Action::RecipientsChanged {
            added: crate::log::with_names(&added, &names),
            removed: crate::log::with_names(&removed, &names),
        },
    }];
    super::save_logged(g, f, &out, &changes, a.reason.as_deref())?;
    bar.suspend(|| {
        g.info(format!(
            "{name}: recipients updated (+{} −{})",
            added.len(),
            removed.len()
        ))
    });
    Ok(Some(KeysChange {
        file: name,
        added,
        removed,
    }))
}

fn print_plan(name: &str, old: &[Vec<String>], new: &[Vec<String>], old_t: usize, new_t: usize) {
    println!("{name}: the following changes will be made to the file's groups:");
    if old_t != new_t {
        if old_t > 0 {
            println!("--- shamir_threshold: {old_t}");
        }
        if new_t > 0 {
            println!("+++ shamir_threshold: {new_t}");
        }
    } else if new_t > 0 {
        println!("    shamir_threshold: {new_t}");
    }
    let n = old.len().max(new.len());
    for i in 0..n {
        println!("Group {}", i + 1);
        let o = old.get(i).cloned().unwrap_or_default();
        let w = new.get(i).cloned().unwrap_or_default();
        for r in &w {
            if o.contains(r) {
                println!("    {r}");
            } else {
                println!("{}", paint(Stdout, Style::Green, &format!("+++ {r}")));
            }
        }
        for r in &o {
            if !w.contains(r) {
                println!("{}", paint(Stdout, Style::Red, &format!("--- {r}")));
            }
        }
    }
}
