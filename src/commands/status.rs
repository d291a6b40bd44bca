//! `spx status [FILE…]`: who can open what. Per file: encrypted or not, its recipients (with
//! their names from `.sops.yaml`), which of your identities opens it, drift against its rule,
//! and when each key last changed according to the rotation log.

use super::updatekeys::repository_files;
use super::Global;
use crate::document::{recover_data_key, SopsFile};
use crate::error::{Error, Result};
use crate::keys::Identities;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx status\n  spx status --format json secrets/shared.sops.yaml"
)]
pub struct StatusArgs {
    /// Output format: text or json
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Files (default: every sops file a creation rule matches)
    pub files: Vec<PathBuf>,
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn run(g: &Global, a: &StatusArgs) -> Result<i32> {
    let config = g.config()?;
    let files = if a.files.is_empty() {
        match &config {
            Some(c) => repository_files(c),
            None => return Err(Error::Config("no .sops.yaml found (searched from the current directory upwards): name the files (`spx status FILE…`) or run `spx init`".into())),
        }
    } else {
        a.files.clone()
    };
    let names = config
        .as_ref()
        .map(crate::sopsyaml_edit::names)
        .unwrap_or_default();
    let name_of = |r: &str| names.iter().find(|(_, k)| k == r).map(|(n, _)| n.clone());
    let ids = Identities::discover();
    let root = crate::log::repo_root(&std::env::current_dir().unwrap_or_default());
    let log_path = root.join(crate::log::DEFAULT_LOG_PATH);
    let entries = std::fs::read(&log_path)
        .map(|b| crate::log::parse_bytes(&b).entries)
        .unwrap_or_default();
    let mut json = Vec::new();
    for f in &files {
        let shown = f.display().to_string();
        let rel = crate::log::repo_relative(&root, f);
        let bytes = std::fs::read(f).map_err(|source| Error::Read {
            path: f.clone(),
            source,
        })?;
        let parsed = SopsFile::parse(&bytes, crate::store::Format::from_path(f), &shown);
        let Ok(file) = parsed else {
            if a.format == "json" {
                json.push(format!(
                    "{{\"file\":{},\"encrypted\":false}}",
                    json_str(&shown)
                ));
            } else {
                println!("{shown}: NOT ENCRYPTED");
            }
            continue;
        };
        let recipients: Vec<(String, Option<String>)> = file
            .metadata
            .all_recipients()
            .into_iter()
            .map(|r| {
                let n = name_of(&r);
                (r, n)
            })
            .collect();
        let opened_by = match recover_data_key(&file.metadata, &ids, &shown) {
            Ok(_) => ids
                .public_keys
                .iter()
                .find(|k| recipients.iter().any(|(r, _)| r == *k))
                .cloned()
                .or(Some("(an identity here)".into())),
            Err(_) => None,
        };
        let drift = config
            .as_ref()
            .and_then(|c| c.rule_for(f))
            .map(|r| r.key_groups != file.metadata.recipient_groups());
        let keys = crate::log::leaf_paths(&file.docs);
        let last = |k: &str| {
            entries
                .iter()
                .filter(|e| {
                    e.file.as_deref() == Some(rel.as_str())
                        && (e.key.as_deref() == Some(k) || e.key.as_deref() == Some("*"))
                })
                .filter_map(|e| e.date)
                .max()
                .map(|d| crate::log::table::format_date(&d))
        };
        if a.format == "json" {
            let rs: Vec<String> = recipients
                .iter()
                .map(|(r, n)| {
                    format!(
                        "{{\"recipient\":{},\"name\":{}}}",
                        json_str(r),
                        n.as_deref().map(json_str).unwrap_or("null".into())
                    )
                })
                .collect();
            let ks: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{{\"key\":{},\"last_changed\":{}}}",
                        json_str(k),
                        last(k).as_deref().map(json_str).unwrap_or("null".into())
                    )
                })
                .collect();
            json.push(format!(
                "{{\"file\":{},\"encrypted\":true,\"recipients\":[{}],\"opened_by\":{},\"drift\":{},\"keys\":[{}]}}",
                json_str(&shown),
                rs.join(","),
                opened_by.as_deref().map(json_str).unwrap_or("null".into()),
                drift.map(|d| d.to_string()).unwrap_or("null".into()),
                ks.join(",")
            ));
        } else {
            println!(
                "{shown}: encrypted, {} recipient(s){}",
                recipients.len(),
                if drift == Some(true) {
                    ", DRIFT from its rule (run `spx updatekeys`)"
                } else {
                    ""
                }
            );
            for (r, n) in &recipients {
                println!(
                    "  recipient {} {}",
                    n.as_deref().unwrap_or("-"),
                    crate::keys::short(r)
                );
            }
            match &opened_by {
                Some(k) => println!("  opens with your identity {}", crate::keys::short(k)),
                None => println!("  none of your identities opens it"),
            }
            for k in &keys {
                println!(
                    "  {k}: last changed {}",
                    last(k).unwrap_or_else(|| "never (not in the log)".into())
                );
            }
        }
    }
    if a.format == "json" {
        println!("[{}]", json.join(","));
    }
    Ok(0)
}
