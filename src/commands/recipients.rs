//! `spx recipients list | add NAME KEY | remove NAME`: named recipients in `.sops.yaml`, the
//! creation rules edited without losing comments or layout (see [`crate::sopsyaml_edit`]), then
//! every affected file updated.
//!
//! `remove` is offboarding: the key leaves every rule, and every sops file under the repository
//! that the person could open — matched by a rule or not — gets a new data key wrapped for the
//! remaining recipients only. The names (never the values) of the secrets in those files are
//! printed: they were seen, so they must now be rotated at their vendors.

use super::rotate::{rotate, RotateArgs};
use super::updatekeys::{updatekeys, UpdatekeysArgs};
use super::Global;
use crate::config::Config;
use crate::document::SopsFile;
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::sopsyaml_edit as ed;
use std::path::{Path, PathBuf};

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
    /// Named recipients, their keys, the rules and files they appear in (-v: the files)
    #[command(
        after_help = "Examples:\n  spx recipients list\n  spx recipients list -v              # also the files each can open"
    )]
    List,
    /// Name an age public key and add it to every creation rule, then update every file
    #[command(
        after_help = "Examples:\n  spx recipients add bob age1…\n  spx recipients add ci \"$(age-keygen -y ci-key.txt)\" --reason 'CI deploys'"
    )]
    Add {
        /// A short name for the person or machine (letters, digits, _ - .)
        name: String,
        /// Their public key: age1… (from `spx keygen` / `age-keygen -y`) or an ssh-ed25519 line
        key: String,
    },
    /// Remove a recipient (by name, or by key) from every rule; rotate the files they could read
    #[command(
        after_help = "Examples:\n  spx recipients remove bob --reason 'left the team'\n  spx recipients remove age1…        # by key, when it has no name"
    )]
    Remove {
        /// The recipient's name (as `spx recipients list` shows it), or their age1… key
        name: String,
    },
}

/// A sops file found under the repository and its metadata.
pub struct Found {
    pub path: PathBuf,
    pub metadata: Metadata,
}

/// Every sops file under `dir` (matched by a creation rule or not): files that mention `sops`
/// and parse as a sops file of the format their name implies.
pub fn sops_files(dir: &Path) -> Vec<Found> {
    let mut out = Vec::new();
    for p in crate::fsutil::repository_walk(dir) {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name == crate::config::CONFIG_NAME
            || std::fs::metadata(&p)
                .map(|m| m.len() > 64 << 20)
                .unwrap_or(true)
        {
            continue;
        }
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        if !bytes.windows(4).any(|w| w == b"sops") {
            continue;
        }
        let fmt = crate::store::Format::from_path(&p);
        if let Ok(f) = SopsFile::parse(&bytes, fmt, &name) {
            out.push(Found {
                path: p,
                metadata: f.metadata,
            });
        }
    }
    out
}

fn shown(p: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    p.strip_prefix(&cwd).unwrap_or(p).display().to_string()
}

fn load(g: &Global) -> Result<(PathBuf, Config, String)> {
    let c = g
        .config()?
        .ok_or_else(|| Error::Config("no .sops.yaml found: run `spx init` first".into()))?;
    let path = c.path().to_path_buf();
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    Ok((path, c, text))
}

pub fn run(g: &Global, a: &RecipientsArgs) -> Result<i32> {
    match &a.command {
        RecipientsCommand::List => list(g),
        RecipientsCommand::Add { name, key } => add(g, name, key, a.reason.as_deref()),
        RecipientsCommand::Remove { name } => remove(g, name, a.reason.as_deref()),
    }
}

/// One line per recipient: name, shortened key, the rules naming it, the files wrapped for it.
pub fn list(g: &Global) -> Result<i32> {
    let (_, config, text) = load(g)?;
    let files = sops_files(config.dir());
    let mut entries: Vec<(String, String)> = ed::all_names(&text, &config);
    let in_rules = config
        .rules
        .iter()
        .flat_map(|r| r.key_groups.iter().flatten());
    let in_files = files.iter().flat_map(|f| f.metadata.all_recipients());
    for k in in_rules.cloned().chain(in_files).collect::<Vec<_>>() {
        if !entries.iter().any(|(_, e)| *e == k) {
            entries.push(("(unnamed)".into(), k));
        }
    }
    if entries.is_empty() {
        println!("No recipients in {}.", config.path().display());
        return Ok(0);
    }
    for (name, key) in &entries {
        let rules: Vec<String> = config
            .rules
            .iter()
            .filter(|r| r.key_groups.iter().flatten().any(|k| k == key))
            .map(|r| r.index.to_string())
            .collect();
        let readable: Vec<&Found> = files
            .iter()
            .filter(|f| f.metadata.all_recipients().contains(key))
            .collect();
        let rules = if rules.is_empty() {
            "in no rule".to_string()
        } else {
            format!("rule(s) {}", rules.join(","))
        };
        println!(
            "{name:<16} {:<24} {rules}; {} file(s)",
            crate::keys::short(key),
            readable.len()
        );
        if g.verbose {
            for f in readable {
                println!("    {}", shown(&f.path));
            }
        }
    }
    Ok(0)
}

fn valid_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.starts_with(['-', '.'])
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::Usage(format!(
            "recipient name {name:?}: use letters, digits, _ - . (e.g. bob or ci-deploy)"
        )));
    }
    Ok(())
}

pub fn add(g: &Global, name: &str, key: &str, reason: Option<&str>) -> Result<i32> {
    valid_name(name)?;
    let key = key.trim();
    crate::keys::Recipient::parse(key)?;
    let (path, config, text) = load(g)?;
    if let Some((_, k)) = ed::all_names(&text, &config)
        .into_iter()
        .find(|(n, k)| n == name && k != key)
    {
        return Err(Error::Usage(format!(
            "{name} already names {} in {}; remove it first (`spx recipients remove {name}`) or choose another name",
            crate::keys::short(&k),
            path.display()
        )));
    }
    let (new, new_config) = ed::with_recipient(&text, config.dir(), key, name)?;
    if new == text {
        g.info(format!(
            "{name} ({}) is already named and in every creation rule",
            crate::keys::short(key)
        ));
    } else {
        crate::fsutil::atomic_write(&path, new.as_bytes())?;
        g.info(format!(
            "added {name} ({}) to {}",
            crate::keys::short(key),
            path.display()
        ));
    }
    // The files whose rule now names the key.
    let files: Vec<String> = super::updatekeys::repository_files(&new_config)
        .into_iter()
        .filter(|f| {
            new_config
                .rule_for(f)
                .is_some_and(|r| r.key_groups.iter().flatten().any(|k| k == key))
        })
        .map(|f| shown(&f))
        .collect();
    if files.is_empty() {
        g.info("no sops file to update yet");
        return Ok(0);
    }
    let reason = reason
        .map(String::from)
        .unwrap_or_else(|| format!("recipient {name} added"));
    let (changes, failed) = updatekeys(
        g,
        &UpdatekeysArgs {
            yes: true,
            input_type: None,
            reason: Some(reason),
            files,
        },
    )?;
    g.info(format!(
        "{} file(s) re-encrypted for {name}{}",
        changes.len(),
        if failed > 0 {
            format!("; {failed} could not be (run `spx updatekeys` where they can be opened)")
        } else {
            String::new()
        }
    ));
    Ok(if failed > 0 { 1 } else { 0 })
}

pub fn remove(g: &Global, who: &str, reason: Option<&str>) -> Result<i32> {
    let (path, config, text) = load(g)?;
    let named = ed::all_names(&text, &config);
    let files = sops_files(config.dir());
    let (name, key) = match named.iter().find(|(n, _)| n == who) {
        Some((n, k)) => (n.clone(), k.clone()),
        None => {
            let known = config
                .rules
                .iter()
                .flat_map(|r| r.key_groups.iter().flatten())
                .any(|k| k == who)
                || files
                    .iter()
                    .any(|f| f.metadata.all_recipients().iter().any(|k| k == who));
            if !known {
                return Err(Error::Usage(format!(
                    "no recipient named {who:?} in {} and no file wrapped for it (see `spx recipients list`)",
                    path.display()
                )));
            }
            let name = named
                .iter()
                .find(|(_, k)| k == who)
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| who.to_string());
            (name, who.to_string())
        }
    };
    // Refuses (before anything is written) to leave a rule or key group with nobody.
    let (new, _) = ed::without_recipient(&text, config.dir(), &key, &name)?;
    let readable: Vec<&Found> = files
        .iter()
        .filter(|f| f.metadata.all_recipients().contains(&key))
        .collect();
    if crate::keys::Identities::discover()
        .public_keys
        .contains(&key)
    {
        eprintln!("spx: warning: {name} is one of your own identities; after this you cannot open these files with it");
    }
    if new != text {
        crate::fsutil::atomic_write(&path, new.as_bytes())?;
        g.info(format!(
            "removed {name} ({}) from {}",
            crate::keys::short(&key),
            path.display()
        ));
    }
    let reason = reason
        .map(String::from)
        .unwrap_or_else(|| format!("recipient {name} removed"));
    // Every file they could open: a new data key, wrapped without them. (Rotating first and
    // then re-wrapping by the rule works even when you remove yourself.)
    let mut failed = 0;
    let mut rotated: Vec<(String, Vec<String>)> = Vec::new();
    for f in &readable {
        let file = shown(&f.path);
        let r = rotate(
            g,
            &RotateArgs {
                in_place: true,
                rm_age: Some(key.clone()),
                reason: Some(reason.clone()),
                file: file.clone(),
                ..Default::default()
            },
        );
        match r {
            Ok(r) => rotated.push((file, crate::log::leaf_paths(&r.plain))),
            Err(e) => {
                failed += 1;
                eprintln!("spx: {file}: NOT rotated, {name} can still open it: {e}");
            }
        }
    }
    let new_config = g.config()?.unwrap_or(config);
    let in_rules: Vec<String> = rotated
        .iter()
        .map(|(f, _)| f.clone())
        .filter(|f| new_config.rule_for(Path::new(f)).is_some())
        .collect();
    if !in_rules.is_empty() {
        let (_, uk_failed) = updatekeys(
            g,
            &UpdatekeysArgs {
                yes: true,
                input_type: None,
                reason: Some(reason.clone()),
                files: in_rules,
            },
        )?;
        failed += uk_failed;
    }
    println!(
        "{name} could open {} file(s); {} got a new data key without {name}.",
        readable.len(),
        rotated.len()
    );
    if !rotated.is_empty() {
        println!("{name} saw these secrets; rotate them at their vendors:");
        for (file, keys) in &rotated {
            for k in keys {
                println!("  {file}: {k}");
            }
        }
    }
    println!("Copies in git history stay readable to {name}: rotating at the vendors is what protects you.");
    Ok(if failed > 0 { 1 } else { 0 })
}
