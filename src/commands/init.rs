//! `spx init`: everything a repository needs, in one idempotent command — an identity if you
//! have none, `.sops.yaml`, an encrypted `secrets/shared.sops.yaml`, the pre-commit hook, the
//! rotation log, and `.gitignore` entries. Re-running changes nothing and says so.

use super::Global;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  cd my-repo && spx init && git add -A && git commit -m 'Secrets managed by spx'"
)]
pub struct InitArgs {}

const GITIGNORE: &[&str] = &[
    ".env",
    ".env.*",
    "!.env.example",
    ".*.spx-lock",
    "docs/.secrets-rotation-log.md.lock",
];

fn repo_root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| {
        Error::Other(format!(
            "cannot read the current directory: {e}; cd to an existing directory"
        ))
    })?;
    cwd.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Error::Usage("spx init works in a git repository: run `git init` first".into())
        })
}

fn git_user(root: &Path) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["config", "user.name"])
        .output();
    let name = out
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let name = if name.is_empty() {
        std::env::var("USER").unwrap_or_else(|_| "me".into())
    } else {
        name
    };
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let slug = slug.trim_matches('-').to_string();
    if slug.is_empty() {
        "me".into()
    } else {
        slug
    }
}

pub fn run(g: &Global, _a: &InitArgs) -> Result<i32> {
    let root = repo_root()?;
    let mut did = Vec::new();
    let mut had = Vec::new();

    // 1. An identity.
    let ids = crate::keys::Identities::discover();
    let public = match ids.public_keys.iter().find(|k| k.starts_with("age1")) {
        Some(k) => {
            had.push(format!("age identity ({})", crate::keys::short(k)));
            k.clone()
        }
        None => {
            let path = std::env::var_os("SOPS_AGE_KEY_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(crate::keys::default_key_file)
                .ok_or_else(|| {
                    Error::Other(
                        "no home directory for a new identity: set HOME, or SOPS_AGE_KEY_FILE to where the identity should go".into(),
                    )
                })?;
            if path.exists() {
                return Err(Error::Other(format!(
                    "{}: exists but holds no usable age identity; fix it (`age-keygen -y` on it must print a key) or move it away, then run `spx init` again",
                    path.display()
                )));
            }
            let public = super::keygen::write_identity(&path)?;
            did.push(format!(
                "new age identity {} (public key {public})",
                path.display()
            ));
            public
        }
    };

    // 2. .sops.yaml
    let cfg = root.join(".sops.yaml");
    if cfg.exists() {
        had.push(".sops.yaml".into());
    } else {
        let user = git_user(&root);
        let text = format!(
            "# Which age keys can read which secrets file (spx and sops both read this).\n\
             # Add a colleague with `spx recipients add NAME age1…`, then commit.\n\
             creation_rules:\n\
             \x20 - path_regex: secrets/.*\\.sops\\.(yaml|json|env)$\n\
             \x20   age:\n\
             \x20     - {public} # {user}\n\
             \n\
             # Who is who among the recipients (spx's own section; sops ignores it).\n\
             spx:\n\
             \x20 recipients:\n\
             \x20   {user}: {public}\n"
        );
        crate::fsutil::atomic_write(&cfg, text.as_bytes())?;
        did.push(".sops.yaml".into());
    }

    // 3. secrets/shared.sops.yaml
    let shared = root.join("secrets/shared.sops.yaml");
    let has_rule = crate::config::Config::load(&cfg)
        .map(|c| {
            c.rule_for(&shared)
                .is_some_and(|r| !r.key_groups.is_empty())
        })
        .unwrap_or(false);
    if shared.exists() {
        had.push("secrets/shared.sops.yaml".into());
    } else if !has_rule {
        eprintln!("spx: secrets/shared.sops.yaml not created: no creation rule in .sops.yaml matches it (or it names no recipients)");
    } else {
        std::fs::create_dir_all(root.join("secrets")).map_err(|source| Error::Write {
            path: root.join("secrets"),
            source,
        })?;
        let example = "# Shared secrets: edit with `spx edit secrets/shared.sops.yaml`.\n# Values are encrypted; keys and comments stay readable in review (comments are encrypted too).\nexample_service:\n    # replace with a real key\n    api_key: change-me\n";
        let name = "secrets/shared.sops.yaml";
        let cwd_rel = shared.display().to_string();
        let g2 = Global {
            config: Some(cfg.clone()),
            verbose: g.verbose,
            quiet: g.quiet,
        };
        let (docs, key, md) = super::encrypt::prepare(
            &g2,
            example.as_bytes(),
            crate::store::Format::Yaml,
            &cwd_rel,
            None,
            None,
            None,
        )?;
        let changes = crate::log::diff_documents(&[], &docs);
        let sealed =
            crate::document::seal(docs, &key, md, None, None, crate::store::Format::Yaml, name)?;
        let out = sealed.into_bytes(&g2.emit_options(), name)?;
        super::save_logged(&g2, &shared, &out, &changes, Some("spx init"))?;
        did.push(name.into());
    }

    // 4. The pre-commit hook.
    match crate::verify::hook::install(&root, Default::default()) {
        Ok(crate::verify::hook::Installed::AlreadyInstalled(_)) => {
            had.push("pre-commit hook".into())
        }
        Ok(_) => did.push("pre-commit hook (spx verify --staged)".into()),
        Err(e) => eprintln!("spx: pre-commit hook not installed: {e}"),
    }

    // 4b. Git drivers: masked diffs and key-by-key merges.
    match super::git::setup(&root) {
        Ok(d) if d.is_empty() => had.push("git diff/merge drivers".into()),
        Ok(_) => did.push("git diff/merge drivers (.gitattributes, local git config)".into()),
        Err(e) => eprintln!("spx: git drivers not set up: {e}"),
    }

    // 5. The rotation log.
    let log = root.join(crate::log::DEFAULT_LOG_PATH);
    if log.exists() {
        had.push(crate::log::DEFAULT_LOG_PATH.into());
    } else {
        // An empty log: the intro and the table header, no rows.
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        crate::fsutil::atomic_write(&log, crate::log::render_append("", &[]).as_bytes())?;
        did.push(crate::log::DEFAULT_LOG_PATH.into());
    }

    // 6. .gitignore
    let gi = root.join(".gitignore");
    let current = std::fs::read_to_string(&gi).unwrap_or_default();
    let missing: Vec<&str> = GITIGNORE
        .iter()
        .copied()
        .filter(|l| !current.lines().any(|c| c.trim() == *l))
        .collect();
    if missing.is_empty() {
        had.push(".gitignore entries".into());
    } else {
        let mut text = current.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# spx: derived .env files and lock files stay out of git\n");
        for l in &missing {
            text.push_str(l);
            text.push('\n');
        }
        crate::fsutil::atomic_write(&gi, text.as_bytes())?;
        did.push(format!(".gitignore ({})", missing.join(" ")));
    }

    if did.is_empty() {
        println!("spx init: everything is already set up; nothing changed.");
    } else {
        println!("spx init: created:");
        for d in &did {
            println!("  + {d}");
        }
        if !had.is_empty() {
            println!("already present: {}", had.join(", "));
        }
        println!("Next: `git add -A && git commit`, then `spx edit secrets/shared.sops.yaml`.");
    }
    Ok(0)
}
