//! `spx sync`: the sops files are the source of truth, and what runs elsewhere is derived from
//! them. This module reads the targets from `.sops.yaml` (`spx: sync:`), renders what each one
//! should hold, compares it with what is deployed (a plan whose values are only ever shown as
//! the first 8 hex characters of their sha256), and applies the changes, targets in parallel.
//!
//! ```yaml
//! spx:
//!   sync:
//!     vps-i1:
//!       ssh: deploy@vps-i1.example.net:22
//!       known_hosts: ops/known_hosts        # default ~/.ssh/known_hosts
//!       env_file: /opt/monitoring/.env
//!       sources: [secrets/shared.sops.yaml, secrets/vps-i1.sops.yaml]
//!       restart: docker compose -f /opt/monitoring/docker-compose.yml up -d
//!       age_key: /root/.age/secrets.key     # checked by --check (default shown)
//!       keys: [SMTP_*, DB_PASSWORD]         # optional: names or globs to include
//!       case: upper                         # optional
//!     github:
//!       github: owner/repo
//!       environment: production             # optional
//!       sources: [secrets/github-actions.sops.yaml]
//! ```
//!
//! The transports live in `ssh.rs` and `github.rs`; rendering and quoting in `render.rs`.

pub mod github;
pub mod render;
pub mod ssh;

use crate::error::{Error, Result};
use crate::tree::{Map, Value};
use render::{fingerprint, NameRule, Shape, Var};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Exit codes of `spx sync` (documented in `spx sync --help`). `--check` combines the three
/// bits over 16, so each problem stays visible when several hosts have different ones:
/// 17 drift, 18 age identity missing, 20 unreachable or failed, and their sums up to 23.
pub mod exit {
    pub const OK: i32 = 0;
    /// Bit base: every sync-specific code is 16 plus one or more of the bits below.
    pub const BASE: i32 = 16;
    /// `--check`: a deployed `.env` or secret set differs from the sops files.
    pub const DRIFT: i32 = 1;
    /// `--check`: a host's age identity file is missing or readable by others.
    pub const AGE_KEY_MISSING: i32 = 2;
    /// A target could not be reached, or applying to it failed.
    pub const FAILED: i32 = 4;
}

pub const DEFAULT_AGE_KEY: &str = "/root/.age/secrets.key";
pub const DEFAULT_STATE_VARIABLE: &str = "SPX_SYNC_STATE";

/// Where a target's content goes.
#[derive(Clone, Debug)]
pub enum Kind {
    Ssh(ssh::SshTarget),
    GitHub(github::GitHubTarget),
}

/// One entry of `spx: sync:`.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    /// Sources as written in `.sops.yaml` (labels) and resolved against its directory.
    pub sources: Vec<(String, PathBuf)>,
    pub shape: Shape,
    pub kind: Kind,
}

impl Target {
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Ssh(s) => format!("ssh {} {}", s.address(), s.env_file),
            Kind::GitHub(g) => g.describe(),
        }
    }
}

fn field_str(m: &Map, key: &str, origin: &str) -> Result<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(Value::Int(i)) => Ok(Some(i.to_string())),
        Some(other) => Err(Error::Config(format!(
            "{origin}: {key} must be a string, found a {}",
            other.type_name()
        ))),
    }
}

fn field_list(m: &Map, key: &str, origin: &str) -> Result<Vec<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Str(s)) => Ok(vec![s.clone()]),
        Some(Value::List(items)) => items
            .iter()
            .filter(|i| !matches!(i, Value::Comment(_)))
            .map(|i| match i {
                Value::Str(s) => Ok(s.clone()),
                other => Err(Error::Config(format!(
                    "{origin}: {key} must list strings, found a {}",
                    other.type_name()
                ))),
            })
            .collect(),
        Some(other) => Err(Error::Config(format!(
            "{origin}: {key} must be a list of strings, found a {}",
            other.type_name()
        ))),
    }
}

const SSH_FIELDS: &[&str] = &[
    "ssh",
    "known_hosts",
    "env_file",
    "sources",
    "restart",
    "keys",
    "case",
    "age_key",
];
const GITHUB_FIELDS: &[&str] = &[
    "github",
    "environment",
    "sources",
    "keys",
    "case",
    "state_variable",
];

/// Read the targets from the raw `spx:` section of `.sops.yaml`; `dir` is the directory of
/// `.sops.yaml` (relative `sources` and `known_hosts` are resolved against it).
pub fn targets_from(spx: Option<&Value>, dir: &Path, origin: &str) -> Result<Vec<Target>> {
    let Some(Value::Map(spx)) = spx else {
        return Ok(Vec::new());
    };
    let sync = match spx.get("sync") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Map(m)) => m,
        Some(_) => {
            return Err(Error::Config(format!(
                "{origin}: spx: sync: must map target names to settings"
            )))
        }
    };
    let mut out = Vec::new();
    for (name, v) in sync.pairs() {
        let o = format!("{origin}: spx: sync: {name}");
        let m = v
            .as_map()
            .ok_or_else(|| Error::Config(format!("{o}: expected a mapping of settings")))?;
        let is_ssh = m.get("ssh").is_some();
        let is_github = m.get("github").is_some();
        let allowed = match (is_ssh, is_github) {
            (true, false) => SSH_FIELDS,
            (false, true) => GITHUB_FIELDS,
            (true, true) => {
                return Err(Error::Config(format!(
                    "{o}: a target is either ssh: or github:, not both"
                )))
            }
            (false, false) => {
                return Err(Error::Config(format!(
                    "{o}: say where it goes: ssh: user@host[:port] or github: owner/repo"
                )))
            }
        };
        for (k, _) in m.pairs() {
            if !allowed.contains(&k) {
                return Err(Error::Config(format!(
                    "{o}: unknown setting {k:?} (known: {})",
                    allowed.join(", ")
                )));
            }
        }
        let sources: Vec<(String, PathBuf)> = field_list(m, "sources", &o)?
            .into_iter()
            .map(|s| {
                let p = dir.join(&s);
                (s, p)
            })
            .collect();
        if sources.is_empty() {
            return Err(Error::Config(format!(
                "{o}: sources: name at least one sops file"
            )));
        }
        let upper = match field_str(m, "case", &o)?.as_deref() {
            None | Some("keep") | Some("preserve") => false,
            Some("upper") => true,
            Some(other) => {
                return Err(Error::Config(format!(
                    "{o}: case: {other:?} is not known; use upper (or leave it out)"
                )))
            }
        };
        let patterns = field_list(m, "keys", &o)?;
        let keys = if patterns.is_empty() {
            None
        } else {
            let mut b = globset::GlobSetBuilder::new();
            for p in &patterns {
                b.add(
                    globset::Glob::new(p)
                        .map_err(|e| Error::Config(format!("{o}: keys: {p:?}: {e}")))?,
                );
            }
            Some(
                b.build()
                    .map_err(|e| Error::Config(format!("{o}: keys: {e}")))?,
            )
        };
        let (kind, rule) = if is_ssh {
            let addr = field_str(m, "ssh", &o)?.unwrap_or_default();
            let env_file = field_str(m, "env_file", &o)?
                .ok_or_else(|| Error::Config(format!("{o}: env_file: is required")))?;
            if !env_file.starts_with('/') {
                return Err(Error::Config(format!(
                    "{o}: env_file: {env_file:?} must be an absolute path on the host"
                )));
            }
            let known_hosts = match field_str(m, "known_hosts", &o)? {
                Some(p) => dir.join(expand_home(&p)),
                None => expand_home("~/.ssh/known_hosts"),
            };
            let t = ssh::SshTarget::new(
                &addr,
                known_hosts,
                env_file,
                field_str(m, "restart", &o)?,
                field_str(m, "age_key", &o)?.unwrap_or_else(|| DEFAULT_AGE_KEY.into()),
            )
            .map_err(|e| Error::Config(format!("{o}: {e}")))?;
            (Kind::Ssh(t), NameRule::Shell)
        } else {
            let repo = field_str(m, "github", &o)?.unwrap_or_default();
            let t = github::GitHubTarget::new(
                &repo,
                field_str(m, "environment", &o)?,
                field_str(m, "state_variable", &o)?
                    .unwrap_or_else(|| DEFAULT_STATE_VARIABLE.into()),
            )
            .map_err(|e| Error::Config(format!("{o}: {e}")))?;
            (Kind::GitHub(t), NameRule::GitHub)
        };
        out.push(Target {
            name: name.to_string(),
            sources,
            shape: Shape { upper, keys, rule },
            kind,
        });
    }
    Ok(out)
}

fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    PathBuf::from(p)
}

/// One line of a plan. Values appear only as fingerprints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Add {
        name: String,
        new: String,
    },
    Modify {
        name: String,
        old: Option<String>,
        new: String,
    },
    /// `applies`: whether this run removes it (a `.env` line always goes; a GitHub secret only
    /// with `--prune`).
    Remove {
        name: String,
        old: Option<String>,
        applies: bool,
    },
}

impl Change {
    pub fn name(&self) -> &str {
        match self {
            Change::Add { name, .. }
            | Change::Modify { name, .. }
            | Change::Remove { name, .. } => name,
        }
    }

    /// The action for machine-readable output: `added`, `changed` or `removed`.
    pub fn action(&self) -> &'static str {
        match self {
            Change::Add { .. } => "added",
            Change::Modify { .. } => "changed",
            Change::Remove { .. } => "removed",
        }
    }

    /// [`Change::line`] with `+` green, `~` yellow and `-` red when `color`.
    fn styled_line(&self, color: bool) -> String {
        use crate::ui::{paint_if, Style};
        let (sign, style) = match self {
            Change::Add { .. } => ("+", Style::Green),
            Change::Modify { .. } => ("~", Style::Yellow),
            Change::Remove { .. } => ("-", Style::Red),
        };
        let line = self.plain_line();
        let rest = line.strip_prefix(sign).unwrap_or(&line);
        format!("{}{rest}", paint_if(color, style, sign))
    }

    fn plain_line(&self) -> String {
        let fp = |f: &Option<String>| match f {
            Some(f) => format!("sha256:{f}"),
            // GitHub never shows a secret's value.
            None => "(hidden)".to_string(),
        };
        match self {
            Change::Add { name, new } => format!("+ {name}  sha256:{new}"),
            Change::Modify { name, old, new } => {
                format!("~ {name}  {} -> sha256:{new}", fp(old))
            }
            Change::Remove { name, old, applies } => {
                let tail = if *applies {
                    String::new()
                } else {
                    "  (kept: --prune deletes it)".to_string()
                };
                format!("- {name}  {}{tail}", fp(old))
            }
        }
    }
}

/// What a target would change.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unchanged: usize,
    /// Remarks without values (a missing file, a layout difference, unmanaged secrets).
    pub notes: Vec<String>,
    /// Whether applying writes anything (for `.env`: the bytes differ).
    pub writes: bool,
}

impl Plan {
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for ch in &self.changes {
            match ch {
                Change::Add { .. } => c.0 += 1,
                Change::Modify { .. } => c.1 += 1,
                Change::Remove { applies: true, .. } => c.2 += 1,
                Change::Remove { .. } => {}
            }
        }
        c
    }
}

/// Compare wanted variables with deployed ones (name → value).
pub fn diff(wanted: &[Var], deployed: &[(String, zeroize::Zeroizing<String>)]) -> Plan {
    let mut plan = Plan::default();
    let old: HashMap<&str, &str> = deployed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for v in wanted {
        match old.get(v.name.as_str()) {
            None => plan.changes.push(Change::Add {
                name: v.name.clone(),
                new: fingerprint(&v.value),
            }),
            Some(o) if *o != v.value.as_str() => plan.changes.push(Change::Modify {
                name: v.name.clone(),
                old: Some(fingerprint(o)),
                new: fingerprint(&v.value),
            }),
            Some(_) => plan.unchanged += 1,
        }
    }
    for (k, val) in deployed {
        if !wanted.iter().any(|v| &v.name == k) {
            plan.changes.push(Change::Remove {
                name: k.clone(),
                old: Some(fingerprint(val)),
                applies: true,
            });
        }
    }
    plan
}

/// What the command asked for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub dry_run: bool,
    pub check: bool,
    pub prune: bool,
    pub accept_new_host_key: bool,
    pub jobs: usize,
    pub verbose: bool,
    /// The caller prints a JSON report at the end: no block per target as it completes.
    pub json: bool,
}

/// How a target ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Unchanged,
    /// Dry run: changes found, nothing written.
    Planned,
    Updated,
    /// `--check` found something (bits of `exit`).
    CheckProblems(i32),
    CheckOk,
    Failed(String),
}

/// The outcome of one target, printed as a block and summarised at the end.
#[derive(Clone, Debug)]
pub struct Report {
    pub target: String,
    pub describe: String,
    pub plan: Option<Plan>,
    pub status: Status,
    /// Further lines for the block (restart result, check findings), never values.
    pub lines: Vec<String>,
}

impl Report {
    pub fn new(t: &Target) -> Report {
        Report {
            target: t.name.clone(),
            describe: t.describe(),
            plan: None,
            status: Status::Unchanged,
            lines: Vec::new(),
        }
    }

    pub fn fail(mut self, msg: impl Into<String>) -> Report {
        self.status = Status::Failed(msg.into());
        self
    }

    /// The exit bits this outcome contributes.
    pub fn bits(&self) -> i32 {
        match &self.status {
            Status::Failed(_) => exit::FAILED,
            Status::CheckProblems(b) => *b,
            _ => 0,
        }
    }

    pub fn block(&self) -> String {
        self.styled_block(false)
    }

    /// [`Report::block`], the plan's signs coloured when `color`.
    pub fn styled_block(&self, color: bool) -> String {
        let mut s = format!("{} ({})\n", self.target, self.describe);
        if let Some(p) = &self.plan {
            for c in &p.changes {
                s.push_str(&format!("  {}\n", c.styled_line(color)));
            }
            for n in &p.notes {
                s.push_str(&format!("  note: {n}\n"));
            }
            if p.changes.is_empty() && !p.writes {
                s.push_str(&format!("  no changes ({} unchanged)\n", p.unchanged));
            } else if p.unchanged > 0 {
                s.push_str(&format!("  {} unchanged\n", p.unchanged));
            }
        }
        for l in &self.lines {
            s.push_str(&format!("  {l}\n"));
        }
        s.push_str(&format!("  => {}\n", self.summary()));
        s
    }

    pub fn summary(&self) -> String {
        let counts = self
            .plan
            .as_ref()
            .map(|p| {
                let (a, m, r) = p.counts();
                format!(" (+{a} ~{m} -{r})")
            })
            .unwrap_or_default();
        match &self.status {
            Status::Unchanged => "unchanged".into(),
            Status::Planned => format!("would change{counts} (dry run)"),
            Status::Updated => format!("updated{counts}"),
            Status::CheckOk => "ok".into(),
            Status::CheckProblems(b) => {
                let mut parts = Vec::new();
                if b & exit::FAILED != 0 {
                    parts.push("unreachable");
                }
                if b & exit::AGE_KEY_MISSING != 0 {
                    parts.push("age identity missing");
                }
                if b & exit::DRIFT != 0 {
                    parts.push("drift");
                }
                parts.join(", ")
            }
            Status::Failed(m) => format!("FAILED: {m}"),
        }
    }

    /// The outcome as JSON: names, actions and sha256 prefixes, never a value.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let status = match &self.status {
            Status::Unchanged => "unchanged",
            Status::Planned => "planned",
            Status::Updated => "updated",
            Status::CheckOk => "ok",
            Status::CheckProblems(_) => "problems",
            Status::Failed(_) => "failed",
        };
        let mut v = json!({
            "target": self.target,
            "describe": self.describe,
            "status": status,
            "summary": self.summary(),
            "lines": self.lines,
        });
        if let Status::Failed(m) = &self.status {
            v["error"] = json!(m);
        }
        if let Status::CheckProblems(b) = &self.status {
            v["problems"] = json!({
                "unreachable": b & exit::FAILED != 0,
                "age_identity_missing": b & exit::AGE_KEY_MISSING != 0,
                "drift": b & exit::DRIFT != 0,
            });
        }
        if let Some(p) = &self.plan {
            let changes: Vec<serde_json::Value> = p
                .changes
                .iter()
                .map(|c| {
                    let mut e = json!({"name": c.name(), "action": c.action()});
                    match c {
                        Change::Add { new, .. } => e["sha256"] = json!(new),
                        Change::Modify { old, new, .. } => {
                            e["old_sha256"] = json!(old);
                            e["sha256"] = json!(new);
                        }
                        Change::Remove { old, applies, .. } => {
                            e["old_sha256"] = json!(old);
                            e["applies"] = json!(applies);
                        }
                    }
                    e
                })
                .collect();
            let (added, changed, removed) = p.counts();
            v["plan"] = json!({
                "changes": changes,
                "added": added,
                "changed": changed,
                "removed": removed,
                "unchanged": p.unchanged,
                "notes": p.notes,
            });
        }
        v
    }

    /// Names touched, for the commit comment (names only).
    pub fn changed_names(&self) -> Vec<String> {
        match (&self.status, &self.plan) {
            (Status::Updated, Some(p)) => p
                .changes
                .iter()
                .filter(|c| !matches!(c, Change::Remove { applies: false, .. }))
                .map(|c| c.name().to_string())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Decrypted sources, shared by every target: each file is opened once. A file that cannot be
/// opened fails only the targets that use it.
pub struct Decrypted {
    docs: HashMap<PathBuf, std::result::Result<Map, String>>,
}

fn open_source(label: &str, path: &Path, ids: &crate::keys::Identities) -> Result<Map> {
    let fmt = crate::store::Format::from_path(path);
    if fmt == crate::store::Format::Binary {
        return Err(Error::Config(format!(
            "{label}: a binary sops file has no keys to sync; use a YAML, JSON, dotenv or INI file"
        )));
    }
    let bytes = std::fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                path: PathBuf::from(label),
            }
        } else {
            Error::Read {
                path: PathBuf::from(label),
                source,
            }
        }
    })?;
    let o = crate::commands::open_readonly(&bytes, fmt, label, ids, false)?;
    Ok(o.plain.into_iter().next().unwrap_or_default())
}

impl Decrypted {
    /// Open every source the targets name (each once).
    pub fn open(targets: &[&Target], ids: &crate::keys::Identities) -> Decrypted {
        let mut docs = HashMap::new();
        for t in targets {
            for (label, path) in &t.sources {
                if !docs.contains_key(path) {
                    let doc = open_source(label, path, ids).map_err(|e| e.to_string());
                    docs.insert(path.clone(), doc);
                }
            }
        }
        Decrypted { docs }
    }

    /// The sources that could not be opened, with why.
    pub fn failures(&self) -> Vec<&str> {
        self.docs
            .values()
            .filter_map(|d| d.as_ref().err().map(|e| e.as_str()))
            .collect()
    }

    /// The variables a target should hold.
    pub fn render(&self, t: &Target) -> Result<Vec<Var>> {
        let mut sources = Vec::new();
        for (label, path) in &t.sources {
            match self.docs.get(path) {
                Some(Ok(doc)) => sources.push(render::Source { label, doc }),
                Some(Err(e)) => return Err(Error::Other(e.clone())),
                None => return Err(Error::Other(format!("{label}: not opened"))),
            }
        }
        render::render(&sources, &t.shape, &t.name)
    }
}

/// Run one target: render, plan, and (unless dry run or check) apply.
fn run_target(t: &Target, dec: &Decrypted, opts: &Options) -> Report {
    let report = Report::new(t);
    let vars = match dec.render(t) {
        Ok(v) => v,
        Err(e) => return report.fail(e.to_string()),
    };
    let labels: Vec<String> = t.sources.iter().map(|(l, _)| l.clone()).collect();
    match &t.kind {
        Kind::Ssh(s) => ssh::run(s, t, &vars, &labels, opts, report),
        Kind::GitHub(g) => github::run(g, t, &vars, opts, report),
    }
}

/// Run the targets, at most `opts.jobs` at a time; each block is printed as it completes,
/// the reports come back in the targets' order.
pub fn run_all(targets: &[&Target], dec: &Decrypted, opts: &Options) -> Vec<Report> {
    let jobs = opts.jobs.max(1).min(targets.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Report>>> = targets.iter().map(|_| Mutex::new(None)).collect();
    let bar = crate::ui::progress(targets.len(), "sync");
    let color = crate::ui::color(crate::ui::Stream::Stdout);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(t) = targets.get(i) else { break };
                let r = run_target(t, dec, opts);
                if !opts.json {
                    bar.suspend(|| {
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(r.styled_block(color).as_bytes());
                        let _ = out.flush();
                    });
                }
                bar.step(&t.name);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    bar.finish();
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every target ran")
        })
        .collect()
}

/// Replace any of the values in `text` by its fingerprint: remote command output is shown only
/// after this, in case a restart command echoes its environment.
pub fn redact(text: &str, vars: &[Var]) -> String {
    let mut out = text.to_string();
    let mut vals: Vec<&Var> = vars.iter().filter(|v| v.value.len() >= 4).collect();
    vals.sort_by_key(|v| std::cmp::Reverse(v.value.len()));
    for v in vals {
        if out.contains(v.value.as_str()) {
            out = out.replace(
                v.value.as_str(),
                &format!("[{} sha256:{}]", v.name, fingerprint(&v.value)),
            );
        }
    }
    out
}

/// The exit code for a set of reports.
pub fn exit_code(reports: &[Report]) -> i32 {
    let bits = reports.iter().fold(0, |b, r| b | r.bits());
    if bits == 0 {
        exit::OK
    } else {
        exit::BASE | bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Result<Vec<Target>> {
        let c = crate::config::Config::parse(text, Path::new("/repo"), ".sops.yaml")?;
        targets_from(c.spx.as_ref(), Path::new("/repo"), ".sops.yaml")
    }

    #[test]
    fn targets_read_from_the_spx_section() {
        let t = cfg("creation_rules: []\nspx:\n  sync:\n    vps:\n      ssh: deploy@h.example:2222\n      env_file: /opt/app/.env\n      sources: [secrets/a.sops.yaml, secrets/b.sops.yaml]\n      restart: docker compose up -d\n      known_hosts: ops/known_hosts\n      case: upper\n    gh:\n      github: o/r\n      environment: production\n      sources: secrets/g.sops.yaml\n").unwrap();
        assert_eq!(t.len(), 2);
        let Kind::Ssh(s) = &t[0].kind else { panic!() };
        assert_eq!(
            (s.user.as_str(), s.host.as_str(), s.port),
            ("deploy", "h.example", 2222)
        );
        assert_eq!(s.known_hosts, PathBuf::from("/repo/ops/known_hosts"));
        assert_eq!(s.age_key, DEFAULT_AGE_KEY);
        assert_eq!(
            t[0].sources[1].1,
            PathBuf::from("/repo/secrets/b.sops.yaml")
        );
        assert!(t[0].shape.upper);
        let Kind::GitHub(g) = &t[1].kind else {
            panic!()
        };
        assert_eq!(g.environment.as_deref(), Some("production"));
    }

    #[test]
    fn target_mistakes_are_named() {
        let e = cfg("spx:\n  sync:\n    vps:\n      ssh: h\n      env_file: /x/.env\n      sources: [a.yaml]\n      restrat: x\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("vps") && e.contains("restrat"), "{e}");
        let e = cfg("spx:\n  sync:\n    vps:\n      env_file: /x\n      sources: [a]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ssh:"), "{e}");
        let e = cfg(
            "spx:\n  sync:\n    vps:\n      ssh: h\n      env_file: rel/.env\n      sources: [a]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("absolute"), "{e}");
        let e = cfg("spx:\n  sync:\n    g:\n      github: noslash\n      sources: [a]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("owner/repo"), "{e}");
    }

    #[test]
    fn report_json_has_actions_and_prefixes_only() {
        let r = Report {
            target: "gh".into(),
            describe: "GitHub acme/app".into(),
            plan: Some(Plan {
                changes: vec![
                    Change::Add {
                        name: "A".into(),
                        new: "1111aaaa".into(),
                    },
                    Change::Modify {
                        name: "B".into(),
                        old: None,
                        new: "2222bbbb".into(),
                    },
                    Change::Remove {
                        name: "C".into(),
                        old: Some("3333cccc".into()),
                        applies: false,
                    },
                ],
                unchanged: 4,
                notes: vec!["1 other secret(s)".into()],
                writes: true,
            }),
            status: Status::Planned,
            lines: vec![],
        };
        let v = r.json();
        assert_eq!(v["status"], "planned");
        let c = &v["plan"]["changes"];
        assert_eq!(c[0]["action"], "added");
        assert_eq!(c[0]["sha256"], "1111aaaa");
        assert_eq!(c[1]["action"], "changed");
        assert!(c[1]["old_sha256"].is_null());
        assert_eq!(c[2]["action"], "removed");
        assert_eq!(c[2]["applies"], false);
        // A removal kept without --prune is not counted as removed.
        assert_eq!(v["plan"]["removed"], 0);
        assert_eq!(v["plan"]["unchanged"], 4);
        let failed = r.clone().fail("boom");
        assert_eq!(failed.json()["status"], "failed");
        assert_eq!(failed.json()["error"], "boom");
    }

    #[test]
    fn styled_plan_lines_differ_only_by_colour() {
        let c = Change::Modify {
            name: "B".into(),
            old: Some("0000ffff".into()),
            new: "2222bbbb".into(),
        };
        assert_eq!(c.styled_line(false), c.plain_line());
        assert_eq!(
            c.styled_line(true),
            format!("\x1b[33m~\x1b[0m{}", &c.plain_line()[1..])
        );
    }

    #[test]
    fn diff_marks_added_changed_removed() {
        let wanted = vec![
            Var {
                name: "A".into(),
                value: "1".to_string().into(),
                origin: String::new(),
            },
            Var {
                name: "B".into(),
                value: "2".to_string().into(),
                origin: String::new(),
            },
            Var {
                name: "C".into(),
                value: "3".to_string().into(),
                origin: String::new(),
            },
        ];
        let deployed = vec![
            ("A".to_string(), "1".to_string().into()),
            ("B".to_string(), "x".to_string().into()),
            ("D".to_string(), "4".to_string().into()),
        ];
        let p = diff(&wanted, &deployed);
        let lines: Vec<String> = p.changes.iter().map(|c| c.plain_line()).collect();
        assert_eq!(p.unchanged, 1);
        assert!(lines[0].starts_with("~ B  sha256:"), "{lines:?}");
        assert!(lines[1].starts_with("+ C  sha256:"));
        assert!(lines[2].starts_with("- D  sha256:"));
        assert_eq!(p.counts(), (1, 1, 1));
        for l in &lines {
            assert!(!l.contains(" 2") && !l.contains(" x"), "value leaked: {l}");
        }
    }

    #[test]
    fn redact_hides_values_in_output() {
        let vars = vec![Var {
            name: "PW".into(),
            value: "hunter2-secret".to_string().into(),
            origin: String::new(),
        }];
        let r = redact("env: PW=hunter2-secret ok", &vars);
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("[PW sha256:"));
    }

    #[test]
    fn exit_codes_combine_bits() {
        let mut a = Report {
            target: "a".into(),
            describe: String::new(),
            plan: None,
            status: Status::CheckProblems(exit::DRIFT),
            lines: vec![],
        };
        let b = Report {
            status: Status::CheckProblems(exit::AGE_KEY_MISSING),
            ..a.clone()
        };
        assert_eq!(exit_code(&[a.clone(), b]), 19);
        a.status = Status::Failed("x".into());
        assert_eq!(exit_code(&[a]), 20);
    }
}
