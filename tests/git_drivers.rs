//! spx as git's diff (textconv) and merge drivers, in real repositories, held to real sops.

mod common;
use common::*;
use std::process::{Command, Output};

struct Repo {
    fx: Fx,
    path: String,
}

impl Repo {
    fn new() -> Repo {
        let fx = Fx::new();
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_spx"))
            .parent()
            .unwrap()
            .display()
            .to_string();
        let path = format!("{bin}:{}", std::env::var("PATH").unwrap());
        let r = Repo { fx, path };
        r.git_ok(&["init", "-q", "-b", "main"]);
        r.git_ok(&["config", "user.name", "T"]);
        r.git_ok(&["config", "user.email", "t@example"]);
        r.fx.write(".gitignore", "key.txt\nhome/\n*.sh\n*.txt\n");
        r.fx.write(
            ".sops.yaml",
            &format!(
                "creation_rules:\n  - path_regex: secrets/\n    age: {}\n",
                r.fx.public
            ),
        );
        r.fx.write(
            "secrets/s.sops.yaml",
            "# db\ndb_password: base-db\napi_token: base-token\nsmtp:\n    host: smtp.example\n",
        );
        r.spx_ok(&["encrypt", "-i", "--reason", "base", "secrets/s.sops.yaml"]);
        let o = r.spx(&["git", "setup"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        r.git_ok(&["add", "-A"]);
        r.git_ok(&["commit", "-qm", "base"]);
        r
    }

    fn cmd(&self, prog: &str, args: &[&str]) -> Command {
        let mut c = Command::new(prog);
        c.current_dir(self.fx.dir.path())
            .args(args)
            .env("PATH", &self.path)
            .env("HOME", self.fx.path("home"))
            .env("SOPS_AGE_KEY_FILE", &self.fx.key_file)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .env("GIT_PAGER", "cat")
            .env("SPX_REASON", "test")
            .stdin(std::process::Stdio::null());
        c
    }

    fn git(&self, args: &[&str]) -> Output {
        self.cmd("git", args).output().unwrap()
    }

    fn git_ok(&self, args: &[&str]) -> String {
        let o = self.git(args);
        assert!(
            o.status.success(),
            "git {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn spx(&self, args: &[&str]) -> Output {
        self.cmd(env!("CARGO_BIN_EXE_spx"), args).output().unwrap()
    }

    fn spx_ok(&self, args: &[&str]) -> String {
        let o = self.spx(args);
        assert!(
            o.status.success(),
            "spx {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn set(&self, path: &str, json: &str) {
        self.spx_ok(&["set", "secrets/s.sops.yaml", path, json]);
    }

    fn commit(&self, msg: &str) {
        self.git_ok(&["add", "-A"]);
        self.git_ok(&["commit", "-qm", msg]);
    }

    fn plain(&self) -> String {
        String::from_utf8(self.fx.sops_ok(&["decrypt", "secrets/s.sops.yaml"])).unwrap()
    }

    /// No plaintext value anywhere in the work tree or .git (except the test's own files).
    fn assert_no_plaintext(&self, values: &[&str]) {
        let o = Command::new("grep")
            .args(["-r", "-a", "-l", "-e"])
            .arg(values.join("\\|"))
            .arg(self.fx.dir.path())
            .output()
            .unwrap();
        let hits: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.ends_with(".sh") && !l.contains("/home/"))
            .map(String::from)
            .collect();
        assert!(hits.is_empty(), "plaintext found in {hits:?}");
    }
}

#[test]
fn different_keys_on_two_branches_merge_without_conflict() {
    let r = Repo::new();
    r.git_ok(&["checkout", "-q", "-b", "feature"]);
    r.set(r#"["api_token"]"#, r#""feature-token""#);
    r.commit("feature");
    r.git_ok(&["checkout", "-q", "main"]);
    // Main's row is a second later than feature's: in time order feature's would come first.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    r.set(r#"["db_password"]"#, r#""main-db""#);
    r.commit("main");
    let main_log = r.fx.read("docs/secrets-rotation-log.md");
    r.git_ok(&["merge", "-q", "--no-commit", "--no-ff", "feature"]);
    // Main's log is kept byte for byte with feature's row after it, so the merge commit passes
    // the pre-commit verifier's append-only check against HEAD.
    let merged_log = r.fx.read("docs/secrets-rotation-log.md");
    assert!(merged_log.starts_with(&main_log), "{merged_log}");
    let o = r.spx(&["verify", "--staged"]);
    assert!(
        o.status.success(),
        "verify --staged on the merge: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    r.git_ok(&["commit", "-q", "--no-edit"]);
    let plain = r.plain();
    assert!(
        plain.contains("db_password: main-db") && plain.contains("api_token: feature-token"),
        "{plain}"
    );
    assert!(plain.contains("# db"), "comment kept: {plain}");
    // The rotation log merged from both branches into one valid chain.
    let o = r.spx(&["log", "verify"]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let log = r.fx.read("docs/secrets-rotation-log.md");
    assert!(log.contains("api_token") && log.contains("db_password"));
}

#[test]
fn same_key_on_both_branches_stops_and_resolve_finishes() {
    let r = Repo::new();
    r.git_ok(&["checkout", "-q", "-b", "feature"]);
    r.set(r#"["api_token"]"#, r#""theirs-SECRETVALUE""#);
    r.commit("feature");
    r.git_ok(&["checkout", "-q", "main"]);
    r.set(r#"["api_token"]"#, r#""ours-SECRETVALUE""#);
    r.set(r#"["db_password"]"#, r#""main-db""#);
    r.commit("main");
    let o = r.git(&["merge", "--no-edit", "feature"]);
    assert!(!o.status.success(), "the merge should stop");
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        err.contains("api_token") && !err.contains("SECRETVALUE"),
        "{err}"
    );
    r.assert_no_plaintext(&["SECRETVALUE", "main-db"]);
    // Resolve: keep theirs.
    let ed = r.fx.editor(
        "resolve.sh",
        "awk '/^<<<<<<< /{skip=1; next} /^=======/{skip=0; next} /^>>>>>>> /{next} !skip' \"$1\" > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"",
    );
    let o = r
        .cmd(
            env!("CARGO_BIN_EXE_spx"),
            &["merge", "--resolve", "secrets/s.sops.yaml"],
        )
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plain = r.plain();
    assert!(
        plain.contains("api_token: theirs-SECRETVALUE") && plain.contains("db_password: main-db"),
        "{plain}"
    );
    r.git_ok(&["add", "-A"]);
    r.git_ok(&["commit", "-qm", "merged"]);
    r.assert_no_plaintext(&["SECRETVALUE", "main-db"]);
}

#[test]
fn recipient_change_merges_with_value_change() {
    let r = Repo::new();
    let (k2, p2) = keygen(&r.fx.path("k2.txt"));
    r.git_ok(&["checkout", "-q", "-b", "onboard"]);
    r.fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}, {p2}\n",
            r.fx.public
        ),
    );
    r.spx_ok(&["updatekeys", "-y"]);
    r.commit("onboard");
    r.git_ok(&["checkout", "-q", "main"]);
    r.set(r#"["db_password"]"#, r#""main-db""#);
    r.commit("main");
    r.git_ok(&["merge", "-q", "--no-edit", "onboard"]);
    let o =
        r.fx.sops_cmd(&["decrypt", "secrets/s.sops.yaml"])
            .env("SOPS_AGE_KEY_FILE", &k2)
            .output()
            .unwrap();
    assert!(
        o.status.success(),
        "new recipient cannot read the merge: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("db_password: main-db"));
}

#[test]
fn a_tampered_side_is_refused() {
    let r = Repo::new();
    r.git_ok(&["checkout", "-q", "-b", "evil"]);
    let text = r.fx.read("secrets/s.sops.yaml");
    let re = regex::Regex::new(r#"lastmodified: "(\d{4})"#).unwrap();
    r.fx.write(
        "secrets/s.sops.yaml",
        &re.replace(&text, r#"lastmodified: "1999"#),
    );
    r.git_ok(&["add", "-A"]);
    r.git_ok(&["commit", "-qm", "evil", "--no-verify"]);
    r.git_ok(&["checkout", "-q", "main"]);
    r.set(r#"["db_password"]"#, r#""main-db""#);
    r.commit("main");
    let o = r.git(&["merge", "--no-edit", "evil"]);
    assert!(!o.status.success());
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        err.contains("refusing to merge") && err.contains("MAC"),
        "{err}"
    );
}

#[test]
fn git_diff_shows_masked_key_level_changes_even_without_a_key() {
    let r = Repo::new();
    r.set(r#"["api_token"]"#, r#""new-DIFFSECRET""#);
    let d = r.git_ok(&["diff"]);
    assert!(
        d.contains("-api_token = sha256:") && d.contains("+api_token = sha256:"),
        "{d}"
    );
    assert!(
        !d.contains("DIFFSECRET") && !d.contains("+db_password") && !d.contains("-db_password"),
        "{d}"
    );
    r.commit("token");
    let d = r.git_ok(&["log", "-p", "-1"]);
    assert!(d.contains("+api_token = sha256:"), "{d}");
    // No identity at all: still names the changed key.
    let o = r
        .cmd("git", &["log", "-p", "-1"])
        .env("SOPS_AGE_KEY_FILE", "/nonexistent")
        .output()
        .unwrap();
    let d = String::from_utf8_lossy(&o.stdout);
    assert!(
        d.contains("cannot decrypt")
            && d.contains("+api_token = enc:")
            && !d.contains("+db_password"),
        "{d}"
    );
}
