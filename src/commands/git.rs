//! `spx diff` (git textconv), `spx merge` (git merge driver, and `--resolve`), `spx merge-log`
//! (the rotation log's merge driver) and `spx git setup`.

use super::Global;
use crate::error::{Error, Result};
use crate::gitdriver as gd;
use crate::keys::Identities;
use crate::store::Format;
use std::io::IsTerminal;
use std::path::Path;
use std::process::Command;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Used by git as a textconv driver (see `spx git setup`).\n\nExamples:\n  spx diff secrets/shared.sops.yaml   # keys with values masked\n  git diff secrets/shared.sops.yaml   # the same, through git, after `spx git setup`"
)]
pub struct DiffArgs {
    /// Show the values themselves (only when stdout is a terminal)
    #[arg(long)]
    pub show_values: bool,
    /// Treat the file as this format (git passes a temp file name)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// The sops file
    pub file: String,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Used by git as a merge driver (`spx git setup` writes the config):\n  merge.spx.driver = spx merge %O %A %B %P\n\nExamples:\n  spx merge --resolve secrets/shared.sops.yaml   # both sides changed a key: pick in $EDITOR\n  spx merge --resolve secrets/shared.sops.yaml --reason 'keep the new SMTP password'"
)]
pub struct MergeArgs {
    /// Resolve the conflicts of FILE (during a conflicted git merge) in $EDITOR
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    pub resolve: Option<String>,
    /// Why (recorded in the rotation log when resolving)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// %O %A %B %P: base, ours (the result is written here), theirs, and the path in the tree
    #[arg(num_args = 4, value_names = ["BASE", "OURS", "THEIRS", "PATH"])]
    pub files: Vec<String>,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Used by git as the rotation log's merge driver (`spx git setup` writes the config):\n  merge.spx-log.driver = spx merge-log %O %A %B\n\nExamples:\n  spx merge-log base.md ours.md theirs.md   # as git runs it: the merged log replaces ours.md"
)]
pub struct MergeLogArgs {
    /// %O %A %B: base, ours (the result is written here), theirs
    #[arg(num_args = 3, required = true, value_names = ["BASE", "OURS", "THEIRS"])]
    pub files: Vec<String>,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  spx git setup\n  git diff secrets/shared.sops.yaml   # afterwards: key-level, values masked"
)]
pub struct GitArgs {
    #[command(subcommand)]
    pub command: GitCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum GitCommand {
    /// Write .gitattributes and the local git config for spx's diff and merge drivers
    #[command(
        after_help = "Examples:\n  spx git setup && git add .gitattributes\n  git log -p secrets/shared.sops.yaml   # afterwards: key-level history, values masked"
    )]
    Setup,
}

fn read(p: &str) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|source| Error::Read {
        path: p.into(),
        source,
    })
}

pub fn diff(_g: &Global, a: &DiffArgs) -> Result<i32> {
    let fmt = super::pick_format(a.input_type.as_deref(), &a.file)?;
    let bytes = read(&a.file)?;
    let show = a.show_values && std::io::stdout().is_terminal();
    if a.show_values && !show {
        eprintln!("spx diff: --show-values only on a terminal; values stay masked");
    }
    print!(
        "{}",
        gd::textconv(&bytes, fmt, &a.file, &Identities::discover(), show)
    );
    Ok(0)
}

pub fn merge(g: &Global, a: &MergeArgs) -> Result<i32> {
    if let Some(f) = &a.resolve {
        return resolve(g, f, a.reason.as_deref());
    }
    if a.files.len() != 4 {
        return Err(Error::Usage(
            "spx merge BASE OURS THEIRS PATH (as git's %O %A %B %P), or spx merge --resolve FILE"
                .into(),
        ));
    }
    let (o, ours_path, t, name) = (&a.files[0], &a.files[1], &a.files[2], &a.files[3]);
    let fmt = Format::from_path(Path::new(name));
    let ids = Identities::discover();
    let sides = match gd::open_sides(
        Some(&read(o)?),
        &read(ours_path)?,
        &read(t)?,
        fmt,
        name,
        &ids,
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("spx merge: {e}\nspx merge: refusing to merge {name}; resolve by hand (nothing plaintext was written)");
            return Ok(1);
        }
    };
    let (docs, conflicts) = gd::merge(&sides);
    if !conflicts.is_empty() {
        eprintln!("spx merge: {name}: both sides changed the same keys:");
        for c in &conflicts {
            eprintln!("  {}", c.display());
        }
        eprintln!("spx merge: nothing plaintext was written; run `spx merge --resolve {name}` to choose in $EDITOR");
        return Ok(1);
    }
    let md = gd::merged_metadata(&sides)?;
    check_rule(g, name, &md);
    let (_, ofile, key, cache) = &sides.ours;
    let sealed = crate::document::seal(
        docs,
        key,
        md,
        Some(cache),
        Some(&ofile.metadata.mac),
        fmt,
        name,
    )?;
    let out = sealed.into_bytes(&g.emit_options(), name)?;
    crate::fsutil::atomic_write(Path::new(ours_path), &out)?;
    Ok(0)
}

fn check_rule(g: &Global, name: &str, md: &crate::metadata::Metadata) {
    if let Ok(Some(c)) = g.config() {
        if let Some(rule) = c.rule_for(Path::new(name)) {
            if md.recipient_groups() != rule.key_groups {
                eprintln!("spx merge: {name}: the merged recipients differ from its creation rule; run `spx updatekeys {name}`");
            }
        }
    }
}

fn git_show(spec: &str) -> Option<Vec<u8>> {
    let o = Command::new("git")
        .args(["show", spec])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    o.status.success().then_some(o.stdout)
}

fn resolve(g: &Global, file: &str, reason: Option<&str>) -> Result<i32> {
    let rel = {
        let o = Command::new("git")
            .args(["ls-files", "--full-name", "--", file])
            .output();
        o.ok()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| file.to_string())
    };
    let (Some(ours), Some(theirs)) = (
        git_show(&format!(":2:{rel}")),
        git_show(&format!(":3:{rel}")),
    ) else {
        return Err(Error::Usage(format!(
            "{file}: not in a conflicted merge (no index stages 2 and 3); nothing to resolve"
        )));
    };
    let base = git_show(&format!(":1:{rel}"));
    let fmt = Format::from_path(Path::new(file));
    let ids = Identities::discover();
    let sides = gd::open_sides(base.as_deref(), &ours, &theirs, fmt, file, &ids)?;
    let (docs, conflicts) = gd::merge(&sides);
    let opts = g.emit_options();
    let text = String::from_utf8(crate::store::emit_plain(fmt, &docs, &opts, file)?)
        .map_err(|_| {
            Error::Other(format!(
                "{file}: the merged content is not UTF-8 text and cannot be resolved in an editor; pick a side with `git checkout --ours {file}` or `--theirs`"
            ))
        })?;
    let theirs_text =
        String::from_utf8(crate::store::emit_plain(fmt, &sides.theirs.0, &opts, file)?)
            .unwrap_or_default();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let tl: Vec<&str> = theirs_text.lines().collect();
    // Markers around each conflicting key, last first so line numbers stay valid.
    let mut spans: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for c in &conflicts {
        let ol: Vec<&str> = lines.iter().map(String::as_str).collect();
        let ours_r = gd::key_range(&ol, &c.path);
        let theirs_lines: Vec<String> = gd::key_range(&tl, &c.path)
            .map(|(s, e)| tl[s..e].iter().map(|x| x.to_string()).collect())
            .unwrap_or_default();
        let (s, e) = ours_r.unwrap_or((lines.len(), lines.len()));
        spans.push((s, e, theirs_lines));
    }
    spans.sort_by_key(|x| std::cmp::Reverse(x.0));
    for (s, e, theirs_lines) in spans {
        let mut block = vec!["<<<<<<< ours".to_string()];
        block.extend(lines[s..e].iter().cloned());
        block.push("=======".into());
        block.extend(theirs_lines);
        block.push(">>>>>>> theirs".into());
        lines.splice(s..e, block);
    }
    let mut initial = lines.join("\n");
    initial.push('\n');
    let basename = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "merge.yaml".into());
    let name = file.to_string();
    let parse = move |b: &[u8]| -> Result<Vec<crate::tree::Document>> {
        if String::from_utf8_lossy(b)
            .lines()
            .any(|l| l.starts_with("<<<<<<<") || l.starts_with(">>>>>>>") || l == "=======")
        {
            return Err(Error::Parse {
                file: name.clone(),
                msg: "conflict markers are still in the file".into(),
            });
        }
        crate::store::load_plain(fmt, b, &name)
    };
    let resolved =
        match crate::edit::edit_text(initial.as_bytes(), &basename, file, g.verbose, &parse) {
            Err(Error::Unchanged { .. }) => {
                return Err(Error::Parse {
                    file: file.into(),
                    msg: "conflict markers are still in the file; nothing written".into(),
                })
            }
            other => other?,
        };
    let md = gd::merged_metadata(&sides)?;
    check_rule(g, file, &md);
    let (odocs, ofile, key, cache) = &sides.ours;
    let changes = crate::log::diff_documents(odocs, &resolved);
    let sealed = crate::document::seal(
        resolved,
        key,
        md,
        Some(cache),
        Some(&ofile.metadata.mac),
        fmt,
        file,
    )?;
    let out = sealed.into_bytes(&opts, file)?;
    super::save_logged(
        g,
        Path::new(file),
        &out,
        &changes,
        Some(reason.unwrap_or("merge conflict resolved")),
    )?;
    eprintln!("spx merge: {file} resolved and encrypted; `git add {file}` and commit the merge");
    Ok(0)
}

pub fn merge_log(_g: &Global, a: &MergeLogArgs) -> Result<i32> {
    let text = |p: &str| String::from_utf8_lossy(&read(p).unwrap_or_default()).into_owned();
    match gd::merge_logs(&text(&a.files[0]), &text(&a.files[1]), &text(&a.files[2])) {
        Ok(merged) => {
            crate::fsutil::atomic_write(Path::new(&a.files[1]), merged.as_bytes())?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("spx merge-log: {e}");
            Ok(1)
        }
    }
}

const ATTRS: &[&str] = &[
    "secrets/*.sops.* diff=spx merge=spx",
    "docs/secrets-rotation-log.md merge=spx-log",
];

pub fn git(_g: &Global, a: &GitArgs) -> Result<i32> {
    match a.command {
        GitCommand::Setup => {
            let root = crate::log::repo_root(&std::env::current_dir().unwrap_or_default());
            if !root.join(".git").exists() {
                return Err(Error::Usage(
                    "spx git setup works in a git repository: cd into one, or run `git init` first"
                        .into(),
                ));
            }
            let done = setup(&root)?;
            if done.is_empty() {
                println!("spx git setup: already set up; nothing changed");
            } else {
                for d in done {
                    println!("{d}");
                }
                println!("git diff now shows sops files key by key (values masked); git merge merges them key by key.");
            }
            Ok(0)
        }
    }
}

/// Write the `.gitattributes` lines and the local git config for the drivers; returns what
/// was changed (empty when everything was already there).
pub fn setup(root: &Path) -> Result<Vec<String>> {
    let mut done = Vec::new();
    let ga = root.join(".gitattributes");
    let cur = std::fs::read_to_string(&ga).unwrap_or_default();
    let missing: Vec<&str> = ATTRS
        .iter()
        .copied()
        .filter(|l| !cur.lines().any(|c| c.trim() == *l))
        .collect();
    if !missing.is_empty() {
        let mut t = cur.clone();
        if !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
        t.push_str("# spx: readable diffs and merges of sops files, and of the rotation log\n");
        for l in &missing {
            t.push_str(l);
            t.push('\n');
        }
        crate::fsutil::atomic_write(&ga, t.as_bytes())?;
        done.push(format!("wrote to .gitattributes: {}", missing.join("; ")));
    }
    for (k, v) in [
        ("diff.spx.textconv", "spx diff"),
        ("diff.spx.cachetextconv", "false"),
        (
            "merge.spx.name",
            "spx: three-way merge of decrypted sops files",
        ),
        ("merge.spx.driver", "spx merge %O %A %B %P"),
        (
            "merge.spx-log.name",
            "spx: merge of the append-only rotation log",
        ),
        ("merge.spx-log.driver", "spx merge-log %O %A %B"),
    ] {
        let cur = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["config", "--local", "--get", k])
            .output()
            .ok();
        if cur
            .as_ref()
            .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == v)
        {
            continue;
        }
        let o = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["config", "--local", k, v])
            .output()
            .map_err(|e| Error::Other(format!("cannot run git config: {e}; is git installed?")))?;
        if !o.status.success() {
            return Err(Error::Other(format!(
                "git config --local {k} failed in {}: {}; check that .git/config is writable",
                root.display(),
                String::from_utf8_lossy(&o.stderr).trim().replace('\n', " ")
            )));
        }
        done.push(format!("git config {k} = {v}"));
    }
    Ok(done)
}
