//! `spx sync`: regenerate each target (a host's `.env` over SSH, a repository's Actions secrets)
//! from the sops files, showing a masked plan first. The work is in `crate::sync`.

use super::Global;
use crate::error::{Error, Result};
use crate::keys::Identities;
use crate::sync::{self, Options, Report, Status};

#[derive(clap::Args, Debug, Default)]
#[command(after_help = "\
Targets are read from `spx: sync:` in .sops.yaml (see docs/secrets-management.md). Values never
appear: plans show `+ NAME` (added), `~ NAME` (changed), `- NAME` (removed) with the first 8 hex
characters of each value's sha256.

Environment:
  SPX_SSH_KEY_FILE     SSH private key file    SPX_SSH_KEY  the key's contents (as CI passes it)
  SPX_SSH_KEY_PASSPHRASE  for an encrypted key; otherwise ssh-agent, then ~/.ssh/id_*
  GITHUB_TOKEN / GH_TOKEN  token for GitHub targets (Secrets and Variables: read and write)
  GITHUB_API_URL       API base (GitHub Enterprise Server); default https://api.github.com

Exit status:
  0    every target is in sync (or was brought in sync)
  20   one or more targets failed (the others were still done)
  --check: 16 plus the sum of: 1 drift (deployed differs from the sops files),
       2 a host's age identity file is missing or readable by others (AgeKeyMissing),
       4 a target is unreachable (so 17 drift, 18 key missing, 19 both, 20 unreachable, ...)
  other codes are spx's usual ones (a file that cannot be decrypted, a bad .sops.yaml)

Examples:
  spx sync --dry-run                 # show what would change on every target
  spx sync vps-i1                    # apply to one target
  spx sync --check                   # reachable? age key present? drift?
  spx sync --prune --comment-commit \"$GITHUB_SHA\"")]
pub struct SyncArgs {
    /// Targets to sync (names under `spx: sync:`); all when none are given
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Show the plan and stop; nothing is written
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Report per target: reachable, age identity present (mode 0600), drift; writes nothing
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,
    /// GitHub: delete secrets spx pushed earlier that are no longer in the sops files
    #[arg(long)]
    pub prune: bool,
    /// SSH: record the key of a host not yet in known_hosts (a changed key is still refused)
    #[arg(long)]
    pub accept_new_host_key: bool,
    /// How many targets to work on at once
    #[arg(long, short = 'j', value_name = "N", default_value_t = 8)]
    pub jobs: usize,
    /// After syncing, comment on this commit with the time and the per-target summary (names only)
    #[arg(long, value_name = "SHA")]
    pub comment_commit: Option<String>,
    /// Repository for --comment-commit [default: $GITHUB_REPOSITORY, else the one github target]
    #[arg(long, value_name = "OWNER/REPO", requires = "comment_commit")]
    pub comment_repo: Option<String>,
    /// Output format: json prints one document (targets, per-name actions with sha256
    /// prefixes, status) at the end instead of the blocks
    #[arg(long, value_enum, default_value_t = super::OutputFormat::Text)]
    pub format: super::OutputFormat,
}

fn comment_body(reports: &[Report], when: &str) -> String {
    let mut s = format!("**spx sync** at {when} (rotation applied)\n\n");
    s.push_str("| target | result | names |\n| --- | --- | --- |\n");
    for r in reports {
        let names = r.changed_names();
        let names = if names.is_empty() {
            "-".to_string()
        } else {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let result = match &r.status {
            Status::Failed(_) => "FAILED (see the job log)".to_string(),
            _ => r.summary(),
        };
        s.push_str(&format!("| {} | {} | {} |\n", r.target, result, names));
    }
    s
}

pub fn run(g: &Global, a: &SyncArgs) -> Result<i32> {
    let config = g.config()?.ok_or_else(|| {
        Error::Config(
            "no .sops.yaml found (searched from the current directory upwards): sync targets live under `spx: sync:` in it".into(),
        )
    })?;
    let origin = config.path().display().to_string();
    let all = sync::targets_from(config.spx.as_ref(), config.dir(), &origin)?;
    if all.is_empty() {
        return Err(Error::Config(format!(
            "{origin}: no sync targets: add them under `spx: sync:` (see `spx sync --help`)"
        )));
    }
    let mut chosen = Vec::new();
    for name in &a.targets {
        match all.iter().find(|t| &t.name == name) {
            Some(t) => chosen.push(t),
            None => {
                return Err(Error::Usage(format!(
                    "no sync target named {name:?} in {origin}; known: {}",
                    all.iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
    }
    if chosen.is_empty() {
        chosen = all.iter().collect();
    }
    if a.jobs == 0 {
        return Err(Error::Usage("--jobs 0: give at least 1".into()));
    }
    let comment_repo = match &a.comment_commit {
        None => None,
        Some(_) => Some(match &a.comment_repo {
            Some(r) => r.clone(),
            None => match std::env::var("GITHUB_REPOSITORY")
                .ok()
                .filter(|r| !r.is_empty())
            {
                Some(r) => r,
                None => {
                    let repos: Vec<String> = all
                        .iter()
                        .filter_map(|t| match &t.kind {
                            sync::Kind::GitHub(gh) => Some(format!("{}/{}", gh.owner, gh.repo)),
                            _ => None,
                        })
                        .collect();
                    match repos.as_slice() {
                        [one] => one.clone(),
                        _ => {
                            return Err(Error::Usage(
                                "--comment-commit: which repository? pass --comment-repo OWNER/REPO (or set GITHUB_REPOSITORY)".into(),
                            ))
                        }
                    }
                }
            },
        }),
    };

    let ids = Identities::discover();
    let decrypted = sync::Decrypted::open(&chosen, &ids);
    for e in decrypted.failures() {
        eprintln!("{} {e}", crate::ui::error_prefix());
    }
    let json = a.format == super::OutputFormat::Json;
    g.verbose(format!(
        "{} target(s), {} at a time",
        chosen.len(),
        a.jobs.min(chosen.len())
    ));
    let opts = Options {
        dry_run: a.dry_run,
        check: a.check,
        prune: a.prune,
        accept_new_host_key: a.accept_new_host_key,
        jobs: a.jobs,
        verbose: g.verbose,
        json,
    };
    let reports = sync::run_all(&chosen, &decrypted, &opts);
    drop(decrypted);

    let failed = reports
        .iter()
        .filter(|r| matches!(r.status, Status::Failed(_)))
        .count();
    let count = |f: fn(&Status) -> bool| reports.iter().filter(|r| f(&r.status)).count();
    let summary = if a.check {
        format!(
            "check: {} target(s): {} ok, {} with problems",
            reports.len(),
            count(|s| *s == Status::CheckOk),
            count(|s| matches!(s, Status::CheckProblems(_)))
        )
    } else {
        format!(
            "sync{}: {} target(s): {} updated, {} would change, {} unchanged, {failed} failed",
            if a.dry_run { " (dry run)" } else { "" },
            reports.len(),
            count(|s| *s == Status::Updated),
            count(|s| *s == Status::Planned),
            count(|s| *s == Status::Unchanged),
        )
    };
    let mut code = sync::exit_code(&reports);
    if json {
        let mode = if a.check {
            "check"
        } else if a.dry_run {
            "dry-run"
        } else {
            "apply"
        };
        let doc = serde_json::json!({
            "mode": mode,
            "summary": summary,
            "targets": reports.iter().map(Report::json).collect::<Vec<_>>(),
        });
        println!("{doc:#}");
    } else {
        println!("{summary}");
        for r in &reports {
            println!("  {:<20} {}", r.target, r.summary());
        }
    }

    if let (Some(sha), Some(repo)) = (&a.comment_commit, &comment_repo) {
        if a.dry_run || a.check {
            eprintln!("spx: --comment-commit ignored with --dry-run / --check");
        } else {
            let body = comment_body(
                &reports,
                &crate::log::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            );
            match sync::github::comment_commit(repo, sha, &body) {
                // stdout holds the JSON document alone with --format json.
                Ok(()) if json => g.info(format!("commented on {repo}@{sha}")),
                Ok(()) => println!("commented on {repo}@{sha}"),
                Err(e) => {
                    eprintln!("spx: {e}");
                    code = sync::exit::BASE | sync::exit::FAILED;
                }
            }
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_names_only() {
        let r = Report {
            target: "gh".into(),
            describe: String::new(),
            plan: Some(sync::Plan {
                changes: vec![sync::Change::Add {
                    name: "API_KEY".into(),
                    new: "1234abcd".into(),
                }],
                ..Default::default()
            }),
            status: Status::Updated,
            lines: vec![],
        };
        let f = Report {
            target: "vps".into(),
            status: Status::Failed("vps: secret details".into()),
            plan: None,
            ..r.clone()
        };
        let body = comment_body(&[r, f], "2026-01-01T00:00:00Z");
        assert!(body.contains("`API_KEY`") && body.contains("2026-01-01T00:00:00Z"));
        assert!(
            !body.contains("1234abcd") && !body.contains("secret details"),
            "{body}"
        );
    }
}
