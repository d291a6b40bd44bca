//! `spx doctor`: checks and explains — identities found (never the secret), their file
//! permissions, `.sops.yaml` validity, files whose recipients drifted from their rule, and
//! files no identity here can open.

use super::updatekeys::repository_files;
use super::Global;
use crate::document::{recover_data_key, SopsFile};
use crate::error::Result;
use crate::keys::Identities;
use std::os::unix::fs::PermissionsExt;

#[derive(clap::Args, Debug, Default)]
#[command(after_help = "Example:\n  spx doctor   # exit 0 when healthy, 1 with problems")]
pub struct DoctorArgs {}

pub fn run(g: &Global, _a: &DoctorArgs) -> Result<i32> {
    let mut problems = 0;
    let ids = Identities::discover();
    println!("Identities:");
    for s in &ids.sources {
        println!("  {}: {}", s.name, s.outcome);
        if s.outcome.starts_with("error") {
            problems += 1;
        }
    }
    for k in &ids.public_keys {
        println!("  public key: {k}");
    }
    if ids.is_empty() {
        println!("  PROBLEM: no identity found: run `spx keygen`, or set SOPS_AGE_KEY_FILE");
        problems += 1;
    }
    for p in [
        std::env::var_os("SOPS_AGE_KEY_FILE").map(std::path::PathBuf::from),
        crate::keys::default_key_file(),
    ]
    .into_iter()
    .flatten()
    {
        if let Ok(md) = std::fs::metadata(&p) {
            let mode = md.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                println!(
                    "  PROBLEM: {} is readable by others (mode {mode:o}): run `chmod 600 {}`",
                    p.display(),
                    p.display()
                );
                problems += 1;
            }
        }
    }
    let config = match g.config() {
        Ok(Some(c)) => {
            println!(
                ".sops.yaml: {} ({} creation rule(s)) valid",
                c.path().display(),
                c.rules.len()
            );
            c
        }
        Ok(None) => {
            println!(".sops.yaml: none found (run `spx init`)");
            return Ok(1);
        }
        Err(e) => {
            println!("PROBLEM: .sops.yaml: {e}");
            return Ok(1);
        }
    };
    let files = repository_files(&config);
    println!("Sops files: {}", files.len());
    for f in &files {
        let shown = f
            .strip_prefix(config.dir())
            .unwrap_or(f)
            .display()
            .to_string();
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let Ok(file) = SopsFile::parse(&bytes, crate::store::Format::from_path(f), &shown) else {
            continue;
        };
        if let Some(rule) = config.rule_for(f) {
            if file.metadata.recipient_groups() != rule.key_groups {
                println!("  PROBLEM: {shown}: recipients differ from its creation rule: run `spx updatekeys {shown}`");
                problems += 1;
            }
        }
        if let Err(e) = recover_data_key(&file.metadata, &ids, &shown) {
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            println!("  PROBLEM: {first}");
            problems += 1;
        }
    }
    if problems == 0 {
        println!("No problems found.");
        Ok(0)
    } else {
        println!("{problems} problem(s) found.");
        Ok(1)
    }
}
