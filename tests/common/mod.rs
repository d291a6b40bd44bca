//! Shared test fixture: a temp directory with its own HOME, an age identity made by the real
//! `age-keygen`, and helpers to run the real `sops` and the `spx` binary side by side.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Find a reference tool; its absence is a test failure, never a skip.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "reference tool `{name}` is not installed: run `bash scripts/test.sh`, which installs it"
    );
}

pub struct Fx {
    pub dir: tempfile::TempDir,
    pub key_file: PathBuf,
    pub public: String,
}

impl Fx {
    pub fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let key_file = dir.path().join("key.txt");
        let (key_file, public) = keygen(&key_file);
        Fx {
            dir,
            key_file,
            public,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    fn env(&self, c: &mut Command) {
        c.current_dir(self.dir.path())
            .env("HOME", self.dir.path().join("home"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_CMD")
            .env_remove("SOPS_AGE_RECIPIENTS")
            .env_remove("SOPS_AGE_SSH_PRIVATE_KEY_FILE")
            .env_remove("SOPS_CONFIG")
            .env_remove("EDITOR")
            .env_remove("SOPS_EDITOR")
            .env("SOPS_AGE_KEY_FILE", &self.key_file)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .stdin(Stdio::null());
    }

    pub fn spx_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_spx"));
        self.env(&mut c);
        c.args(args);
        c
    }

    pub fn sops_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(tool("sops"));
        self.env(&mut c);
        c.args(args);
        c
    }

    pub fn spx(&self, args: &[&str]) -> Output {
        self.spx_cmd(args).output().unwrap()
    }

    pub fn sops(&self, args: &[&str]) -> Output {
        self.sops_cmd(args).output().unwrap()
    }

    /// Run and require success; returns stdout.
    pub fn spx_ok(&self, args: &[&str]) -> Vec<u8> {
        ok(self.spx(args), "spx", args)
    }

    pub fn sops_ok(&self, args: &[&str]) -> Vec<u8> {
        ok(self.sops(args), "sops", args)
    }

    /// An editor script: a shell snippet run with the file path as $1.
    pub fn editor(&self, name: &str, body: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.display().to_string()
    }
}

pub fn ok(o: Output, who: &str, args: &[&str]) -> Vec<u8> {
    assert!(
        o.status.success(),
        "{who} {args:?} failed with {}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// A new identity from the real age-keygen: (file, public key).
pub fn keygen(path: &Path) -> (PathBuf, String) {
    let o = Command::new(tool("age-keygen"))
        .arg("-o")
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "age-keygen failed");
    let text = std::fs::read_to_string(path).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("age-keygen writes the public key")
        .to_string();
    (path.to_path_buf(), public)
}

/// The `sh` code blocks of a Markdown text, in order (README.md and the operator guide are
/// run by tests).
pub fn sh_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match (&mut cur, line.trim_end()) {
            (None, "```sh") => cur = Some(String::new()),
            (Some(b), "```") => {
                out.push(std::mem::take(b));
                cur = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// The masked form spx shows for a value: the first 8 hex characters of its sha256, computed
/// here independently of spx's own code.
pub fn sha256_prefix(v: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(v.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}
