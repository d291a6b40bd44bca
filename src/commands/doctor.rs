//! `spx doctor`: checks and explains — identities found (where, and their public keys; never
//! the secret), identity file permissions, `.sops.yaml` validity (every recipient a valid key,
//! every rule naming someone), sops files whose recipients drifted from their rule, files no
//! identity here can open, and plaintext files where a rule expects encrypted ones.
//! Exit 0 when healthy, 1 with problems.

use super::recipients::sops_files;
use super::Global;
use crate::config::Config;
use crate::document::recover_data_key;
use crate::error::Result;
use crate::keys::Identities;
use crate::ui::{paint, Stream::Stdout, Style};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(clap::Args, Debug, Default)]
#[command(after_help = "Examples:\n  spx doctor   # exit 0 when healthy, 1 with problems")]
pub struct DoctorArgs {}

/// A remark that is not a problem (left out with `--quiet`).
fn note(msg: &str) {
    if !crate::ui::quiet() {
        println!("  {} {msg}", paint(Stdout, Style::Yellow, "note:"));
    }
}

/// More unencrypted files than this under one rule: the rule is broad, not the files leaked.
const BROAD_RULE: usize = 10;

struct Report {
    problems: usize,
}

impl Report {
    fn problem(&mut self, msg: impl AsRef<str>) {
        self.problems += 1;
        println!(
            "  {} {}",
            paint(Stdout, Style::Red, "PROBLEM:"),
            msg.as_ref()
        );
    }
}

/// The public keys of the age identities in an identity file (derived in memory; the secret is
/// never printed).
fn file_public_keys(path: &Path) -> std::result::Result<Vec<String>, String> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| e.to_string())?);
    if text.contains("-----BEGIN AGE ENCRYPTED FILE-----") {
        return Err("passphrase-protected (public keys shown once it is opened)".into());
    }
    let mut out = Vec::new();
    for l in text.lines().map(str::trim) {
        if l.starts_with("AGE-SECRET-KEY-1") {
            match age::x25519::Identity::from_str(l) {
                Ok(id) => out.push(id.to_public().to_string()),
                Err(_) => return Err("holds a malformed AGE-SECRET-KEY line".into()),
            }
        }
    }
    Ok(out)
}

fn identity_files() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let env = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("SOPS_AGE_KEY_FILE") {
        out.push(("SOPS_AGE_KEY_FILE".to_string(), p));
    }
    if let Some(p) = crate::keys::default_key_file() {
        out.push(("default identity file".to_string(), p));
    }
    if let Some(p) = env("SOPS_AGE_SSH_PRIVATE_KEY_FILE") {
        out.push(("SOPS_AGE_SSH_PRIVATE_KEY_FILE".to_string(), p));
    }
    if let Some(h) = env("HOME") {
        for n in ["id_ed25519", "id_rsa"] {
            out.push(("ssh key".to_string(), h.join(".ssh").join(n)));
        }
    }
    out
}

fn identities(r: &mut Report) -> Identities {
    let ids = Identities::discover();
    println!("Identities:");
    for s in &ids.sources {
        println!("  {}: {}", s.name, s.outcome);
        if s.outcome.starts_with("error") {
            r.problem(format!("{}: {}", s.name, s.outcome));
        }
    }
    for (what, p) in identity_files() {
        let Ok(md) = std::fs::metadata(&p) else {
            continue;
        };
        if what != "ssh key" {
            match file_public_keys(&p) {
                Ok(keys) => {
                    for k in keys {
                        println!("  {} ({what}): public key {k}", p.display());
                    }
                }
                Err(e) => println!("  {} ({what}): {e}", p.display()),
            }
        }
        let mode = md.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            r.problem(format!(
                "{} is readable by group or others (mode {mode:o}): run `chmod 600 {}`",
                p.display(),
                p.display()
            ));
        }
    }
    if ids.is_empty() {
        r.problem("no identity found: run `spx keygen`, or set SOPS_AGE_KEY_FILE");
    } else {
        println!(
            "  {} identit{} in all; public keys: {}",
            ids.len(),
            if ids.len() == 1 { "y" } else { "ies" },
            ids.public_keys.join(", ")
        );
    }
    ids
}

fn check_config(c: &Config, r: &mut Report) {
    println!(
        ".sops.yaml: {} ({} creation rule(s))",
        c.path().display(),
        c.rules.len()
    );
    if c.rules.is_empty() {
        r.problem(".sops.yaml has no creation rules: new files need --age");
    }
    for rule in &c.rules {
        if rule.key_groups.is_empty() || rule.key_groups.iter().any(|g| g.is_empty()) {
            r.problem(format!(
                "creation rule {} names no age recipient (in some key group): files it matches cannot be encrypted",
                rule.index
            ));
        }
        for k in rule.key_groups.iter().flatten() {
            if let Err(e) = crate::keys::Recipient::parse(k) {
                r.problem(format!("creation rule {}: {e}", rule.index));
            }
        }
        if let Some(t) = rule.shamir_threshold {
            if rule.key_groups.len() >= 2 && t > rule.key_groups.len() {
                r.problem(format!(
                    "creation rule {}: shamir_threshold {t} is more than its {} key groups",
                    rule.index,
                    rule.key_groups.len()
                ));
            }
        }
    }
}

/// Files git ignores among `paths` (empty outside a repository).
fn git_ignored(dir: &Path, paths: &[PathBuf]) -> Vec<PathBuf> {
    use std::io::Write;
    if paths.is_empty() {
        return Vec::new();
    }
    let child = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["check-ignore", "--stdin", "-z"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return Vec::new();
    };
    if let Some(mut stdin) = child.stdin.take() {
        for p in paths {
            let _ = stdin.write_all(p.as_os_str().as_encoded_bytes());
            let _ = stdin.write_all(b"\0");
        }
    }
    let Ok(out) = child.wait_with_output() else {
        return Vec::new();
    };
    out.stdout
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| PathBuf::from(String::from_utf8_lossy(s).to_string()))
        .collect()
}

/// Files a rule with a `path_regex` matches that are not sops files.
fn plaintext_candidates(c: &Config, encrypted: &[PathBuf]) -> Vec<(PathBuf, usize)> {
    crate::fsutil::repository_walk(c.dir())
        .into_iter()
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            name != crate::config::CONFIG_NAME
                && !name.ends_with(".spx-lock")
                && !encrypted.contains(p)
        })
        .filter_map(|p| {
            let rule = c.rule_for(&p).filter(|r| r.path_regex.is_some())?.index;
            Some((p, rule))
        })
        .collect()
}

pub fn run(g: &Global, _a: &DoctorArgs) -> Result<i32> {
    let mut r = Report { problems: 0 };
    let ids = identities(&mut r);
    let config = match g.config() {
        Ok(Some(c)) => c,
        Ok(None) => {
            r.problem("no .sops.yaml found from here upwards: run `spx init`");
            println!("{} problem(s) found.", r.problems);
            return Ok(1);
        }
        Err(e) => {
            r.problem(format!(".sops.yaml: {e}"));
            println!("{} problem(s) found.", r.problems);
            return Ok(1);
        }
    };
    check_config(&config, &mut r);
    let files = sops_files(config.dir());
    println!("Sops files: {}", files.len());
    let shown = |p: &Path| {
        p.strip_prefix(config.dir())
            .unwrap_or(p)
            .display()
            .to_string()
    };
    for f in &files {
        let name = shown(&f.path);
        match config.rule_for(&f.path) {
            Some(rule) if !rule.key_groups.is_empty() => {
                let groups = f.metadata.recipient_groups();
                let threshold = |n: usize, t: usize| if n >= 2 { t.min(n) } else { 0 };
                let want_t = threshold(
                    rule.key_groups.len(),
                    rule.shamir_threshold.unwrap_or(rule.key_groups.len()),
                );
                let have_t = threshold(groups.len(), f.metadata.shamir_threshold);
                if groups != rule.key_groups || want_t != have_t {
                    let have: Vec<String> = groups.iter().flatten().cloned().collect();
                    let want: Vec<String> = rule.key_groups.iter().flatten().cloned().collect();
                    let plus: Vec<String> = want
                        .iter()
                        .filter(|k| !have.contains(k))
                        .map(|k| crate::keys::short(k))
                        .collect();
                    let minus: Vec<String> = have
                        .iter()
                        .filter(|k| !want.contains(k))
                        .map(|k| crate::keys::short(k))
                        .collect();
                    r.problem(format!(
                        "{name}: recipients differ from its creation rule {} (missing: {}; extra: {}): run `spx updatekeys {name}`",
                        rule.index,
                        if plus.is_empty() { "none".into() } else { plus.join(", ") },
                        if minus.is_empty() { "none".into() } else { minus.join(", ") },
                    ));
                }
            }
            Some(_) => {}
            None => note(&format!(
                "{name}: no creation rule matches it (updatekeys leaves it alone)"
            )),
        }
        if let Err(e) = recover_data_key(&f.metadata, &ids, &name) {
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            r.problem(format!("no identity found here can open {name}: {first}"));
        }
    }
    let encrypted: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let candidates = plaintext_candidates(&config, &encrypted);
    let ignored = git_ignored(
        config.dir(),
        &candidates
            .iter()
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>(),
    );
    let candidates: Vec<&(PathBuf, usize)> = candidates
        .iter()
        .filter(|(p, _)| !ignored.contains(p))
        .collect();
    for rule in &config.rules {
        let mine: Vec<&PathBuf> = candidates
            .iter()
            .filter(|(_, i)| *i == rule.index)
            .map(|(p, _)| p)
            .collect();
        if mine.len() > BROAD_RULE {
            // A rule like `.*` matches the whole repository: not a list of leaks.
            note(&format!(
                "creation rule {} matches {} files that are not encrypted (e.g. {}); is its path_regex broader than the secrets?",
                rule.index,
                mine.len(),
                shown(mine[0])
            ));
            continue;
        }
        for p in mine {
            r.problem(format!(
                "{}: creation rule {} matches it but it is not encrypted: run `spx encrypt -i {}` (or move it)",
                shown(p),
                rule.index,
                shown(p)
            ));
        }
    }
    if r.problems == 0 {
        println!("{}", paint(Stdout, Style::Green, "No problems found."));
        Ok(0)
    } else {
        println!(
            "{}",
            paint(
                Stdout,
                Style::Red,
                &format!("{} problem(s) found.", r.problems)
            )
        );
        Ok(1)
    }
}
