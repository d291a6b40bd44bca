//! What the verifier reads: the staged index (blob content, not the work tree), paths given on
//! the command line, every tracked file, or every blob reachable from HEAD. Files are checked in
//! parallel; git objects are read through libgit2, one repository handle per worker.

use super::{check_file, finish, Allowlist, Context, Finding, Policy, RawFinding};
use crate::error::{Error, Result};
use git2::{Delta, DiffOptions, ObjectType, Oid, Repository, Sort};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The staged changes: blobs in the index that differ from HEAD.
    Staged,
    /// Files and directories (walked with .gitignore respected), read from disk.
    Paths(Vec<PathBuf>),
    /// Every tracked file, read from the work tree.
    All,
    /// Every blob of every commit reachable from HEAD, each blob once.
    History,
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Scope::Staged => "staged",
            Scope::Paths(_) => "paths",
            Scope::All => "all",
            Scope::History => "history",
        }
    }
}

pub struct Options {
    pub scope: Scope,
    /// Where to look for the repository (and relative paths' base).
    pub cwd: PathBuf,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files_scanned: usize,
}

/// Run the verifier. Usage problems (not a git repository, a path that does not exist) are
/// `Error::Usage`.
pub fn run(opts: &Options) -> Result<Report> {
    // Objects come from the repository's own store: re-hashing every tree and blob read (as
    // libgit2 does by default) costs more than the scan itself and guards against nothing here.
    git2::opts::strict_hash_verification(false);
    match &opts.scope {
        Scope::Staged => staged(&open_repo(&opts.cwd, "--staged")?),
        Scope::All => match Repository::discover(&opts.cwd) {
            Ok(repo) => all(&repo),
            Err(_) => paths(&opts.cwd, std::slice::from_ref(&opts.cwd)),
        },
        Scope::History => history(&open_repo(&opts.cwd, "--history")?),
        Scope::Paths(p) => paths(&opts.cwd, p),
    }
}

fn open_repo(cwd: &Path, flag: &str) -> Result<Repository> {
    let repo = Repository::discover(cwd).map_err(|_| {
        Error::Usage(format!(
            "{}: not inside a git repository; {flag} needs one",
            cwd.display()
        ))
    })?;
    if repo.workdir().is_none() {
        return Err(Error::Usage(format!(
            "{}: a bare repository has no work tree; {flag} needs one",
            repo.path().display()
        )));
    }
    Ok(repo)
}

fn git_err(e: git2::Error) -> Error {
    Error::Other(format!("git: {}", e.message()))
}

/// Where a file's bytes come from.
enum Content {
    File(PathBuf),
    Blob(Oid),
}

struct Item {
    path: String,
    commit: Option<String>,
    content: Content,
}

/// Build the context: the policy from `.sops.yaml` and the allowlist from `.spx-allow`, each read
/// by `read` (index or work tree). A `.sops.yaml` that does not parse is a finding, not a failure.
fn context(
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    root: &Path,
    drift: bool,
    findings: &mut Vec<Finding>,
) -> Result<Context> {
    let policy = match read(".sops.yaml") {
        None => None,
        Some(bytes) => match Policy::parse(&bytes, root, ".sops.yaml") {
            Ok(p) => Some(p),
            Err(e) => {
                findings.push(finish(
                    ".sops.yaml",
                    None,
                    RawFinding {
                        line: 1,
                        rule: "sops-config-invalid",
                        message: format!("does not parse, so sops and spx cannot use it: {e}"),
                        secret: None,
                    },
                ));
                None
            }
        },
    };
    let allow = match read(".spx-allow") {
        Some(b) => Allowlist::parse(&String::from_utf8_lossy(&b))?,
        None => Allowlist::default(),
    };
    Ok(Context {
        policy,
        allow,
        drift,
    })
}

fn staged(repo: &Repository) -> Result<Report> {
    let workdir = repo.workdir().expect("checked by open_repo").to_path_buf();
    // While git lists the staged changes, the other core compiles the secret patterns.
    let warm = std::thread::spawn(super::patterns::warm);
    let head_tree = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    // What is staged, from git's cache-tree-aware diff; a path it does not list is in the
    // index as in HEAD. Loading the whole index (20,000 entries, SHA-1 checked) would cost more
    // than the rest of a staged scan, so it is loaded only when a rule needs it (or git is
    // absent).
    let changes = spawn_staged_diff(&workdir).and_then(read_staged_diff);
    let index_cell: std::cell::OnceCell<Option<git2::Index>> = std::cell::OnceCell::new();
    let index = || index_cell.get_or_init(|| repo.index().ok()).as_ref();
    let from_index = |p: &str| -> Option<Vec<u8>> {
        let id = match &changes {
            Some(ch) => match ch.iter().find(|c| c.path == p) {
                Some(c) => c.id?,
                None => head_tree.as_ref()?.get_path(Path::new(p)).ok()?.id(),
            },
            None => index()?.get_path(Path::new(p), 0)?.id,
        };
        repo.find_blob(id).ok().map(|b| b.content().to_vec())
    };
    // What will be committed: a file not in the index is not read from the work tree (only
    // without git's listing is the work tree the fallback).
    let read = |p: &str| match &changes {
        Some(_) => from_index(p),
        None => from_index(p).or_else(|| std::fs::read(workdir.join(p)).ok()),
    };
    let mut findings = Vec::new();
    let ctx = context(&read, &workdir, true, &mut findings)?;

    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let staged_list = match &changes {
        Some(ch) => ch
            .iter()
            .filter(|c| !c.submodule && matches!(c.status, 'A' | 'M' | 'C' | 'R' | 'T'))
            .filter_map(|c| Some((c.path.clone(), c.id?)))
            .collect(),
        None => staged_changes_libgit2(repo, head_tree.as_ref(), &index)?,
    };
    for (path, id) in staged_list {
        seen.insert(path.clone());
        items.push(Item {
            path,
            commit: None,
            content: Content::Blob(id),
        });
    }
    // A changed `.sops.yaml` can make committed sops files drift: check every file its rules cover.
    if seen.contains(".sops.yaml") {
        if let Some(policy) = &ctx.policy {
            for entry in index().into_iter().flat_map(|i| i.iter()) {
                let path = String::from_utf8_lossy(&entry.path).into_owned();
                if entry.mode == 0o160000 || seen.contains(&path) {
                    continue;
                }
                if policy
                    .rule_for(&path)
                    .is_some_and(|r| r.path_regex.is_some())
                {
                    items.push(Item {
                        path,
                        commit: None,
                        content: Content::Blob(entry.id),
                    });
                }
            }
        }
    }
    // Rule 4: the rotation log (append-only, chained, rows for every changed key).
    let head_blob = |p: &str| -> Option<Vec<u8>> {
        let entry = head_tree.as_ref()?.get_path(Path::new(p)).ok()?;
        repo.find_blob(entry.id())
            .ok()
            .map(|b| b.content().to_vec())
    };
    let log_path = crate::log::DEFAULT_LOG_PATH;
    let changed = items
        .iter()
        .filter(|i| !ctx.allow.path_allowed(&i.path))
        .filter_map(|i| {
            match &i.content {
                Content::Blob(id) => repo.find_blob(*id).ok().map(|b| b.content().to_vec()),
                _ => None,
            }
            .map(|staged| (i, staged))
        })
        // HEAD's version only for sops files: a tree lookup per staged file was a third of
        // the time of `verify --staged` on a 20,000-file repository.
        .filter(|(_, staged)| looks_like_sops_bytes(staged))
        .map(|(i, staged)| (i.path.clone(), head_blob(&i.path), staged))
        .collect();
    findings.extend(super::logcheck::check(&super::logcheck::Inputs {
        log_path,
        staged_log: from_index(log_path),
        head_log: head_blob(log_path),
        changed,
    }));
    let files = items.len();
    let _ = warm.join();
    findings.extend(check_parallel(&ctx, items, Some(repo)));
    if ctx
        .policy
        .as_ref()
        .is_some_and(|p| !p.derived_env_files.is_empty())
    {
        if let Some(ix) = index() {
            derived_env_files(repo, ix, &ctx, &mut findings);
        }
    }
    Ok(done(findings, files))
}

/// Start `git diff --cached --raw` (None when git is absent); [`staged_changes`] reads it.
fn spawn_staged_diff(workdir: &Path) -> Option<std::process::Child> {
    std::process::Command::new("git")
        .arg("-C")
        .arg(workdir)
        .args([
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--no-ext-diff",
            "--ignore-submodules",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

/// One line of `git diff --cached --raw`: a path whose index entry differs from HEAD.
struct StagedChange {
    path: String,
    /// `A`dded, `M`odified, `D`eleted, `T`ype-changed, `U`nmerged, …
    status: char,
    /// The staged blob (None when deleted or unmerged: nothing at stage 0).
    id: Option<Oid>,
    submodule: bool,
}

/// The staged changes against HEAD (None when git failed). `git diff --cached --raw` uses the
/// index's cache-tree to skip unchanged directories, which makes it several times faster than
/// libgit2's tree-to-index diff on a large repository.
fn read_staged_diff(child: std::process::Child) -> Option<Vec<StagedChange>> {
    let o = child
        .wait_with_output()
        .ok()
        .filter(|o| o.status.success())?;
    let mut res = Vec::new();
    let mut parts = o.stdout.split(|b| *b == 0);
    while let Some(meta) = parts.next() {
        if meta.is_empty() {
            continue;
        }
        let path = parts.next()?;
        // ":100644 100644 <old> <new> M"
        let meta = String::from_utf8_lossy(meta);
        let f: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        if f.len() < 5 {
            return None;
        }
        let status = f[4].chars().next().unwrap_or('?');
        let id = Oid::from_str(f[3]).ok().filter(|id| !id.is_zero());
        res.push(StagedChange {
            path: String::from_utf8_lossy(path).into_owned(),
            status,
            id: if matches!(status, 'D' | 'U') {
                None
            } else {
                id
            },
            submodule: f[1] == "160000",
        });
    }
    Some(res)
}

/// Added, modified, copied, renamed or type-changed paths in the index against HEAD, with their
/// staged blob ids (submodules skipped), by libgit2: the fallback when git is absent.
fn staged_changes_libgit2<'i>(
    repo: &Repository,
    head_tree: Option<&git2::Tree>,
    index: &dyn Fn() -> Option<&'i git2::Index>,
) -> Result<Vec<(String, Oid)>> {
    let mut dopts = DiffOptions::new();
    dopts.include_typechange(true).ignore_submodules(true);
    let diff = repo
        .diff_tree_to_index(head_tree, index(), Some(&mut dopts))
        .map_err(git_err)?;
    let mut res = Vec::new();
    for delta in diff.deltas() {
        if !matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) {
            continue;
        }
        let file = delta.new_file();
        if file.mode() == git2::FileMode::Commit {
            continue;
        }
        if let Some(path) = file.path().map(slash_path) {
            res.push((path, file.id()));
        }
    }
    Ok(res)
}

fn looks_like_sops_bytes(b: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&b[..b.len().min(1 << 20)]);
    text.contains("ENC[AES256_GCM,") || text.contains("sops")
}

fn all(repo: &Repository) -> Result<Report> {
    let workdir = repo.workdir().map(Path::to_path_buf).ok_or_else(|| {
        Error::Usage(format!(
            "{}: a bare repository has no work tree; --all needs one",
            repo.path().display()
        ))
    })?;
    let index = repo.index().map_err(git_err)?;
    let read = |p: &str| std::fs::read(workdir.join(p)).ok();
    let mut findings = Vec::new();
    let ctx = context(&read, &workdir, true, &mut findings)?;
    let items: Vec<Item> = index
        .iter()
        .filter(|e| e.mode != 0o160000 && e.mode != 0o120000)
        .map(|e| {
            let path = String::from_utf8_lossy(&e.path).into_owned();
            Item {
                content: Content::File(workdir.join(&path)),
                path,
                commit: None,
            }
        })
        .collect();
    let files = items.len();
    findings.extend(check_parallel(&ctx, items, None));
    derived_env_files(repo, &index, &ctx, &mut findings);
    Ok(done(findings, files))
}

fn history(repo: &Repository) -> Result<Report> {
    let workdir = repo.workdir().expect("checked by open_repo").to_path_buf();
    let read = |p: &str| std::fs::read(workdir.join(p)).ok();
    let mut findings = Vec::new();
    let ctx = context(&read, &workdir, false, &mut findings)?;
    if repo.head().is_err() {
        return Ok(done(findings, 0));
    }
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.push_head().map_err(git_err)?;
    // Oldest first, so each blob is reported with the commit that introduced it.
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err)?;
    let mut seen_trees = HashSet::new();
    let mut seen_blobs = HashSet::new();
    let mut items = Vec::new();
    let oids = walk
        .collect::<std::result::Result<Vec<Oid>, _>>()
        .map_err(git_err)?;
    let bar = crate::ui::progress(oids.len(), "verify --history");
    for oid in oids {
        let commit = repo.find_commit(oid).map_err(git_err)?;
        let tree = commit.tree().map_err(git_err)?;
        let short = oid.to_string()[..12].to_string();
        collect_tree(
            repo,
            &tree,
            "",
            &short,
            &mut seen_trees,
            &mut seen_blobs,
            &mut items,
        )?;
        bar.step(&short);
    }
    bar.finish();
    let files = items.len();
    findings.extend(check_parallel(&ctx, items, Some(repo)));
    Ok(done(findings, files))
}

/// Every blob under `tree` not seen before; subtrees already walked (unchanged between commits)
/// are skipped whole.
fn collect_tree(
    repo: &Repository,
    tree: &git2::Tree,
    prefix: &str,
    commit: &str,
    seen_trees: &mut HashSet<Oid>,
    seen_blobs: &mut HashSet<Oid>,
    items: &mut Vec<Item>,
) -> Result<()> {
    if !seen_trees.insert(tree.id()) {
        return Ok(());
    }
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes());
        let path = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id()).map_err(git_err)?;
                collect_tree(repo, &sub, &path, commit, seen_trees, seen_blobs, items)?;
            }
            Some(ObjectType::Blob)
                if entry.filemode() != 0o120000 && seen_blobs.insert(entry.id()) =>
            {
                items.push(Item {
                    path,
                    commit: Some(commit.to_string()),
                    content: Content::Blob(entry.id()),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

fn paths(cwd: &Path, given: &[PathBuf]) -> Result<Report> {
    let repo = Repository::discover(cwd).ok();
    let root = match repo.as_ref().and_then(|r| r.workdir()) {
        Some(w) => w.to_path_buf(),
        None => discover_config_dir(cwd).unwrap_or_else(|| cwd.to_path_buf()),
    };
    let root_canon = root.canonicalize().unwrap_or_else(|_| root.clone());
    let read = |p: &str| std::fs::read(root.join(p)).ok();
    let mut findings = Vec::new();
    let ctx = context(&read, &root_canon, true, &mut findings)?;
    let mut items = Vec::new();
    for p in given {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        let meta = std::fs::metadata(&abs).map_err(|_| {
            Error::Usage(format!(
                "{}: no such file or directory; check the path",
                p.display()
            ))
        })?;
        let files: Vec<PathBuf> = if meta.is_dir() {
            ignore::WalkBuilder::new(&abs)
                .hidden(false)
                .require_git(false)
                .filter_entry(|e| e.file_name() != ".git")
                .build()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                .map(|e| e.into_path())
                .collect()
        } else {
            vec![abs.clone()]
        };
        for f in files {
            let canon = f.canonicalize().unwrap_or_else(|_| f.clone());
            let rel = match canon.strip_prefix(&root_canon) {
                Ok(r) => slash_path(r),
                Err(_) => slash_path(&f),
            };
            items.push(Item {
                path: rel,
                commit: None,
                content: Content::File(f),
            });
        }
    }
    let files = items.len();
    findings.extend(check_parallel(&ctx, items, None));
    Ok(done(findings, files))
}

/// The nearest directory at or above `start` holding a `.sops.yaml`.
fn discover_config_dir(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .take(100)
        .find(|d| d.join(".sops.yaml").is_file())
        .map(Path::to_path_buf)
}

/// Rule 5: each local `.env` a sync target renders is ignored by git and not tracked.
fn derived_env_files(
    repo: &Repository,
    index: &git2::Index,
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    let Some(policy) = &ctx.policy else { return };
    for d in &policy.derived_env_files {
        let tracked = index.get_path(Path::new(&d.path), 0).is_some();
        let raw = if tracked {
            RawFinding {
                line: 1,
                rule: "derived-env-tracked",
                message: format!(
                    "rendered by sync target `{}` but tracked by git; run `git rm --cached {}` and list it in .gitignore",
                    d.target, d.path
                ),
                secret: None,
            }
        } else if !repo.is_path_ignored(Path::new(&d.path)).unwrap_or(false) {
            RawFinding {
                line: 1,
                rule: "derived-env-not-ignored",
                message: format!(
                    "rendered by sync target `{}` but not ignored by git; add `{}` to .gitignore",
                    d.target, d.path
                ),
                secret: None,
            }
        } else {
            continue;
        };
        if !ctx.allow.path_allowed(&d.path) {
            let f = finish(&d.path, None, raw);
            if !ctx.allow.fingerprint_allowed(&f.fingerprint) {
                findings.push(f);
            }
        }
    }
}

fn done(mut findings: Vec<Finding>, files_scanned: usize) -> Report {
    findings.sort_by(|a, b| {
        (a.commit.as_deref(), &a.path, a.line, a.rule).cmp(&(
            b.commit.as_deref(),
            &b.path,
            b.line,
            b.rule,
        ))
    });
    Report {
        findings,
        files_scanned,
    }
}

fn slash_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    s.replace('\\', "/")
}

/// Check items on every core. Workers read their own content (files from disk, blobs through
/// their own repository handle: libgit2 handles are not shared across threads). A handful of
/// items (a typical commit) are checked right here, with the handle already open.
fn check_parallel(ctx: &Context, items: Vec<Item>, repo: Option<&Repository>) -> Vec<Finding> {
    if items.len() <= 64 {
        return check_items(ctx, items, repo);
    }
    let git_dir = repo.map(|r| r.path().to_path_buf());
    let git_dir = git_dir.as_deref();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .max(1);
    let chunk = items.len().div_ceil(workers);
    let mut chunks: Vec<Vec<Item>> = Vec::new();
    let mut it = items.into_iter();
    loop {
        let c: Vec<Item> = it.by_ref().take(chunk).collect();
        if c.is_empty() {
            break;
        }
        chunks.push(c);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    let repo = git_dir.and_then(|d| Repository::open(d).ok());
                    check_items(ctx, chunk, repo.as_ref())
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("verifier worker panicked"))
            .collect()
    })
}

fn check_items(ctx: &Context, items: Vec<Item>, repo: Option<&Repository>) -> Vec<Finding> {
    let mut out = Vec::new();
    for item in items {
        let bytes = match item.content {
            Content::File(p) => match std::fs::read(&p) {
                Ok(b) => b,
                Err(_) => continue, // deleted from the work tree
            },
            Content::Blob(oid) => match repo.and_then(|r| r.find_blob(oid).ok()) {
                Some(b) => b.content().to_vec(),
                None => continue,
            },
        };
        out.extend(check_file(ctx, &item.path, &bytes, item.commit.as_deref()));
    }
    out
}
