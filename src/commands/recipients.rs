//! `spx recipients list | add NAME KEY | remove NAME`: named recipients in `.sops.yaml`, the
//! creation rules edited without losing comments or layout, then every affected file updated.
//! `remove` also rotates the data key of every file the person could read and prints the names
//! of the secrets in them: the values they saw, to rotate at the vendors.

use super::updatekeys::{repository_files, updatekeys, UpdatekeysArgs};
use super::Global;
use crate::document::SopsFile;
use crate::error::{Error, Result};
use crate::sopsyaml_edit as ed;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  spx recipients add bob age1…        # onboarding: bob can read every file\n  spx recipients remove bob           # offboarding: re-encrypt, rotate, list what to rotate\n  spx recipients list"
)]
pub struct RecipientsArgs {
    #[command(subcommand)]
    pub command: RecipientsCommand,
    /// Why (recorded in the rotation log)
    #[arg(long, global = true, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum RecipientsCommand {
    /// Named recipients, the rules and files they appear in
    List,
    /// Name an age public key and add it to every creation rule, then update every file
    Add { name: String, key: String },
    /// Remove a named recipient from every rule, update the files, rotate their data keys
    Remove { name: String },
}

fn config_path(g: &Global) -> Result<(PathBuf, crate::config::Config)> {
    let c = g
        .config()?
        .ok_or_else(|| Error::Config("no .sops.yaml found: run `spx init` first".into()))?;
    Ok((c.path().to_path_buf(), c))
}

pub fn run(g: &Global, a: &RecipientsArgs) -> Result<i32> {
    let (path, config) = config_path(g)?;
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let dir = config.dir().to_path_buf();
    match &a.command {
        RecipientsCommand::List => {
            let files = repository_files(&config);
            let mut named = ed::names(&config);
            for r in config
                .rules
                .iter()
                .flat_map(|r| r.key_groups.iter().flatten())
            {
                if !named.iter().any(|(_, k)| k == r) {
                    named.push(("(unnamed)".into(), r.clone()));
                }
            }
            for (name, key) in named {
                let rules = config
                    .rules
                    .iter()
                    .filter(|r| r.key_groups.iter().flatten().any(|k| k == &key))
                    .count();
                let nfiles = files
                    .iter()
                    .filter(|f| {
                        std::fs::read(f)
                            .ok()
                            .and_then(|b| {
                                SopsFile::parse(&b, crate::store::Format::from_path(f), "f").ok()
                            })
                            .is_some_and(|s| s.metadata.all_recipients().contains(&key))
                    })
                    .count();
                println!(
                    "{name:<16} {:<24} {rules} rule(s), {nfiles} file(s)",
                    crate::keys::short(&key)
                );
            }
            Ok(0)
        }
        RecipientsCommand::Add { name, key } => {
            crate::keys::Recipient::parse(key)?;
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                return Err(Error::Usage(format!(
                    "recipient name {name:?}: use letters, digits, _ - ."
                )));
            }
            let new = ed::set_name(&ed::add_recipient(&text, key, name)?, name, key);
            ed::check(&new, &dir, key, true)?;
            crate::fsutil::atomic_write(&path, new.as_bytes())?;
            eprintln!(
                "spx: added {name} ({}) to every creation rule in {}",
                crate::keys::short(key),
                path.display()
            );
            let (changes, failed) = updatekeys(
                g,
                &UpdatekeysArgs {
                    yes: true,
                    input_type: None,
                    reason: a.reason.clone().or(Some(format!("recipient {name} added"))),
                    files: vec![],
                },
            )?;
            eprintln!("spx: {} file(s) re-encrypted for {name}", changes.len());
            Ok(if failed > 0 { 1 } else { 0 })
        }
        RecipientsCommand::Remove { name } => {
            let key = ed::names(&config)
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, k)| k)
                .or_else(|| name.starts_with("age1").then(|| name.clone()))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "no recipient named {name:?} in {} (see `spx recipients list`)",
                        path.display()
                    ))
                })?;
            let new = ed::remove_name(&ed::remove_recipient(&text, &key)?, name);
            ed::check(&new, &dir, &key, false)?;
            // The files this person could read, before they are re-encrypted.
            let readable: Vec<PathBuf> = repository_files(&config)
                .into_iter()
                .filter(|f| {
                    std::fs::read(f)
                        .ok()
                        .and_then(|b| {
                            SopsFile::parse(&b, crate::store::Format::from_path(f), "f").ok()
                        })
                        .is_some_and(|s| s.metadata.all_recipients().contains(&key))
                })
                .collect();
            crate::fsutil::atomic_write(&path, new.as_bytes())?;
            let reason = a
                .reason
                .clone()
                .unwrap_or_else(|| format!("recipient {name} removed"));
            let (_, failed) = updatekeys(
                g,
                &UpdatekeysArgs {
                    yes: true,
                    input_type: None,
                    reason: Some(reason.clone()),
                    files: vec![],
                },
            )?;
            let mut failed = failed;
            println!("{name} could read {} file(s); their data keys were rotated. Rotate these secrets at their vendors:", readable.len());
            for f in &readable {
                let shown = f
                    .strip_prefix(std::env::current_dir().unwrap_or_default())
                    .unwrap_or(f)
                    .display()
                    .to_string();
                match super::rotate::rotate(
                    g,
                    &super::rotate::RotateArgs {
                        in_place: true,
                        file: shown.clone(),
                        reason: Some(reason.clone()),
                        ..Default::default()
                    },
                ) {
                    Ok(r) => {
                        for k in crate::log::leaf_paths(&r.plain) {
                            println!("  {shown}: {k}");
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("spx: {shown}: could not rotate: {e}");
                    }
                }
            }
            Ok(if failed > 0 { 1 } else { 0 })
        }
    }
}
