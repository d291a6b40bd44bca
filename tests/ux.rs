//! Progress and output: `--quiet`, `--color` (and `NO_COLOR`), progress bars on a terminal only,
//! and `--format json` where a command reports a list. Terminal cases run spx under util-linux
//! `script`, which gives it a pseudo-terminal.

mod common;
#[path = "common/github.rs"]
mod github;
use github::FakeGitHub;

use common::{tool, Fx};
use std::process::{Command, Output, Stdio};

const SGR: &str = "\x1b\\[[0-9;]*m";

fn has_sgr(s: &str) -> bool {
    regex::Regex::new(SGR).unwrap().is_match(s)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

/// A `.sops.yaml` naming `recipients` for `*.sops.yaml`, and `n` files encrypted for the
/// fixture's own key (so that adding a recipient makes updatekeys rewrite each).
fn files_for_updatekeys(fx: &Fx, n: usize) {
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: .*\\.sops\\.yaml$\n    age: {}\n",
            fx.public
        ),
    );
    for i in 0..n {
        let name = format!("f{i}.sops.yaml");
        fx.write(&name, &format!("k: value-{i}\n"));
        fx.spx_ok(&["encrypt", "-i", &name]);
    }
    let (_, second) = common::keygen(&fx.path("second.txt"));
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: .*\\.sops\\.yaml$\n    age: {},{second}\n",
            fx.public
        ),
    );
}

fn recipients_of(fx: &Fx, rel: &str) -> usize {
    fx.read(rel).matches("recipient: age1").count()
}

/// Run spx with `args` on a pseudo-terminal (stdout and stderr both on it); returns all the
/// terminal received.
fn on_terminal(fx: &Fx, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut words = vec![env!("CARGO_BIN_EXE_spx").to_string()];
    words.extend(args.iter().map(|a| a.to_string()));
    let cmdline = shell_words::join(&words);
    let mut c = Command::new(tool("script"));
    c.current_dir(fx.dir.path())
        .args(["-qec", &cmdline, "/dev/null"])
        .env("HOME", fx.path("home"))
        .env("SOPS_AGE_KEY_FILE", &fx.key_file)
        .env("SPX_NO_LOG", "1")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_CONFIG")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    stdout(&o)
}

#[test]
fn quiet_conflicts_with_verbose() {
    let fx = Fx::new();
    let o = fx.spx(&["--quiet", "--verbose", "doctor"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", show(&o));
}

#[test]
fn quiet_keeps_errors_and_the_data_asked_for() {
    let fx = Fx::new();
    fx.write("s.yaml", "token: hello-there\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "s.yaml"]);
    std::fs::write(fx.path("e.yaml"), enc).unwrap();
    let o = fx.spx(&["-q", "decrypt", "e.yaml"]);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(stdout(&o), "token: hello-there\n");
    let o = fx.spx(&["-q", "decrypt", "missing.yaml"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).starts_with("spx: ") && stderr(&o).contains("missing.yaml"),
        "{}",
        show(&o)
    );
}

#[test]
fn quiet_leaves_out_updatekeys_notices_and_plan_but_does_the_work() {
    let fx = Fx::new();
    files_for_updatekeys(&fx, 2);
    let o = fx
        .spx_cmd(&["updatekeys", "-y", "f0.sops.yaml"])
        .env("SPX_NO_LOG", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        stderr(&o).contains("f0.sops.yaml: recipients updated"),
        "{}",
        show(&o)
    );
    assert!(stdout(&o).contains("+++ age1"), "{}", show(&o));

    let o = fx
        .spx_cmd(&["--quiet", "updatekeys", "-y", "f1.sops.yaml"])
        .env("SPX_NO_LOG", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(stderr(&o), "", "{}", show(&o));
    assert_eq!(stdout(&o), "", "{}", show(&o));
    assert_eq!(recipients_of(&fx, "f1.sops.yaml"), 2);

    // Already up to date: said normally, not with -q.
    let o = fx.spx(&["updatekeys", "-y", "f1.sops.yaml"]);
    assert!(stderr(&o).contains("already up to date"), "{}", show(&o));
    let o = fx.spx(&["-q", "updatekeys", "-y", "f1.sops.yaml"]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "", "{}", show(&o));
}

#[test]
fn quiet_leaves_out_doctor_notes_not_problems() {
    let fx = Fx::new();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^secrets/\n    age: {}\n",
            fx.public
        ),
    );
    // A sops file no rule matches: a note.
    fx.write("other.yaml", "a: b\n");
    fx.spx_ok(&["encrypt", "-i", "--age", &fx.public, "other.yaml"]);
    let o = fx.spx(&["doctor"]);
    assert!(
        stdout(&o).contains("note: other.yaml: no creation rule matches it"),
        "{}",
        show(&o)
    );
    let o = fx.spx(&["-q", "doctor"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(!stdout(&o).contains("note:"), "{}", show(&o));
    assert!(stdout(&o).contains("No problems found."), "{}", show(&o));
}

#[test]
fn color_always_never_and_auto_without_a_terminal() {
    let fx = Fx::new();
    let run = |args: &[&str], no_color: Option<&str>| {
        let mut c = fx.spx_cmd(args);
        c.env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        stderr(&c.output().unwrap())
    };
    let e = run(&["--color", "always", "decrypt", "missing.yaml"], None);
    assert!(e.starts_with("\x1b[31mspx:\x1b[0m "), "{e:?}");
    // `always` is final: NO_COLOR only affects `auto`.
    let e = run(&["--color", "always", "decrypt", "missing.yaml"], Some("1"));
    assert!(e.starts_with("\x1b[31mspx:\x1b[0m "), "{e:?}");
    for args in [
        &["--color", "never", "decrypt", "missing.yaml"][..],
        &["--color", "auto", "decrypt", "missing.yaml"][..],
        &["decrypt", "missing.yaml"][..],
    ] {
        let e = run(args, None);
        assert!(e.starts_with("spx: ") && !has_sgr(&e), "{args:?}: {e:?}");
    }
    let o = fx.spx(&["--color", "sometimes", "doctor"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}

#[test]
fn color_auto_on_a_terminal_unless_no_color() {
    let fx = Fx::new();
    let out = on_terminal(&fx, &["decrypt", "missing.yaml"], &[]);
    assert!(out.contains("\x1b[31mspx:\x1b[0m "), "{out:?}");
    let out = on_terminal(&fx, &["decrypt", "missing.yaml"], &[("NO_COLOR", "1")]);
    assert!(out.contains("spx: ") && !has_sgr(&out), "{out:?}");
    // An empty NO_COLOR does not count.
    let out = on_terminal(&fx, &["decrypt", "missing.yaml"], &[("NO_COLOR", "")]);
    assert!(out.contains("\x1b[31mspx:\x1b[0m "), "{out:?}");
    let out = on_terminal(&fx, &["--color", "never", "decrypt", "missing.yaml"], &[]);
    assert!(out.contains("spx: ") && !has_sgr(&out), "{out:?}");
}

#[test]
fn no_progress_bar_without_a_terminal() {
    let fx = Fx::new();
    files_for_updatekeys(&fx, 3);
    let o = fx
        .spx_cmd(&["--color", "never", "updatekeys", "-y"])
        .env("SPX_NO_LOG", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let e = stderr(&o);
    assert_eq!(e.matches("recipients updated").count(), 3, "{}", show(&o));
    assert!(
        !e.contains("updatekeys [")
            && !e.contains("/3")
            && !e.contains('\r')
            && !e.contains('\x1b'),
        "bar drawn without a terminal: {e:?}"
    );
    for i in 0..3 {
        assert_eq!(recipients_of(&fx, &format!("f{i}.sops.yaml")), 2);
    }
}

#[test]
fn progress_bar_on_a_terminal_and_none_with_quiet() {
    let fx = Fx::new();
    files_for_updatekeys(&fx, 3);
    let out = on_terminal(&fx, &["--color", "never", "updatekeys", "-y"], &[]);
    assert!(
        out.contains("updatekeys [") && out.contains("/3"),
        "{out:?}"
    );
    assert!(!has_sgr(&out), "--color never, yet: {out:?}");
    for i in 0..3 {
        assert_eq!(recipients_of(&fx, &format!("f{i}.sops.yaml")), 2, "{out}");
    }

    // The same work again (a third recipient), quietly: no bar, no notices.
    let (_, third) = common::keygen(&fx.path("third.txt"));
    let config = fx.read(".sops.yaml").trim_end().to_string() + &format!(",{third}\n");
    fx.write(".sops.yaml", &config);
    let out = on_terminal(&fx, &["--quiet", "updatekeys", "-y"], &[]);
    assert!(
        !out.contains("updatekeys [") && !out.contains("/3") && !out.contains("recipients updated"),
        "{out:?}"
    );
    for i in 0..3 {
        assert_eq!(recipients_of(&fx, &format!("f{i}.sops.yaml")), 3, "{out}");
    }
}

#[test]
fn verify_history_progress_on_a_terminal_only() {
    let fx = Fx::new();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .current_dir(fx.dir.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.net")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.net")
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    };
    git(&["init", "-q"]);
    for i in 0..3 {
        fx.write(&format!("n{i}.txt"), &format!("note {i}\n"));
        git(&["add", &format!("n{i}.txt")]);
        git(&["commit", "-q", "-m", &format!("c{i}")]);
    }
    let out = on_terminal(&fx, &["--color", "never", "verify", "--history"], &[]);
    assert!(
        out.contains("verify --history [") && out.contains("/3") && out.contains("no findings"),
        "{out:?}"
    );
    let out = on_terminal(&fx, &["-q", "verify", "--history"], &[]);
    assert!(
        !out.contains("verify --history [") && out.contains("no findings"),
        "{out:?}"
    );
    let o = fx.spx(&["verify", "--history"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(stderr(&o), "", "{}", show(&o));
}

#[test]
fn filestatus_json_is_sops_output() {
    let fx = Fx::new();
    fx.write("p.yaml", "a: b\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("e.yaml"), enc).unwrap();
    for (file, want) in [("e.yaml", true), ("p.yaml", false)] {
        let sops = fx.sops_ok(&["filestatus", file]);
        let plain = fx.spx_ok(&["filestatus", file]);
        let json = fx.spx_ok(&["filestatus", "--format", "json", file]);
        assert_eq!(plain, json);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v, serde_json::json!({ "encrypted": want }));
        assert_eq!(
            v,
            serde_json::from_slice::<serde_json::Value>(&sops).unwrap()
        );
    }
}

#[test]
fn verify_json_findings_never_hold_the_secret() {
    let fx = Fx::new();
    let secret = "AKIAQQQQQQQQQQQQQQQQ";
    fx.write("config/aws.py", &format!("x = 1\nAWS_KEY = \"{secret}\"\n"));
    let o = fx.spx(&["verify", "--format", "json", "config"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(!show(&o).contains(secret), "{}", show(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["path"], "config/aws.py");
    assert_eq!(f["line"], 2);
    assert_eq!(f["rule"], "aws-access-key-id");
    assert!(f["message"].as_str().unwrap().contains("AKIA… (20 chars)"));
    assert!(stderr(&o).contains("1 finding"), "{}", show(&o));
    // --quiet: the same document, without the summary on stderr.
    let q = fx.spx(&["-q", "verify", "--format", "json", "config"]);
    assert_eq!(q.status.code(), Some(1));
    assert_eq!(q.stdout, o.stdout);
    assert_eq!(stderr(&q), "");
    // Text findings are coloured only when asked (no terminal here).
    let t = fx.spx(&["verify", "config"]);
    assert!(!has_sgr(&stdout(&t)), "{}", show(&t));
    let t = fx.spx(&["--color", "always", "verify", "config"]);
    assert!(
        stdout(&t).contains("\x1b[31maws-access-key-id\x1b[0m"),
        "{}",
        show(&t)
    );
}

#[test]
fn verify_decrypt_json_lists_each_file() {
    let fx = Fx::new();
    fx.write("p.yaml", "password: Sentinel-Value-42\nlist: [1, 2]\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("good.yaml"), &enc).unwrap();
    let (_, other) = common::keygen(&fx.path("other.txt"));
    let enc = fx.spx_ok(&["encrypt", "--age", &other, "p.yaml"]);
    std::fs::write(fx.path("foreign.yaml"), &enc).unwrap();
    let o = fx.spx(&[
        "verify",
        "--decrypt",
        "--format",
        "json",
        "good.yaml",
        "foreign.yaml",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(!show(&o).contains("Sentinel-Value-42"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["file"], "good.yaml");
    assert_eq!(files[0]["ok"], true);
    assert_eq!(files[0]["values"], 3);
    assert_eq!(files[0]["recipients"], 1);
    assert_eq!(files[1]["file"], "foreign.yaml");
    assert_eq!(files[1]["ok"], false);
    assert!(!files[1]["error"].as_str().unwrap().is_empty());
    // Text stays as it was; sarif does not apply.
    let t = fx.spx(&["verify", "--decrypt", "good.yaml"]);
    assert!(
        stdout(&t).starts_with("good.yaml: ok: 3 values decrypt"),
        "{}",
        show(&t)
    );
    let s = fx.spx(&["verify", "--decrypt", "--format", "sarif", "good.yaml"]);
    assert_eq!(s.status.code(), Some(2), "{}", show(&s));
}

#[test]
fn log_json_parses() {
    let fx = Fx::new();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .current_dir(fx.dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    };
    git(&["init", "-q"]);
    git(&["config", "user.name", "Ada Lovelace"]);
    git(&["config", "user.email", "ada@example.net"]);
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}\n",
            fx.public
        ),
    );
    fx.write("secrets/s.sops.yaml", "smtp:\n    password: Sentinel-77\n");
    fx.spx_ok(&["encrypt", "-i", "--reason", "import", "secrets/s.sops.yaml"]);
    let out = fx.spx_ok(&["log", "--format", "json"]);
    assert!(!String::from_utf8_lossy(&out).contains("Sentinel-77"));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let rows = v.as_array().expect("a list of rows");
    assert_eq!(rows.len(), 1, "{v:#}");
    assert_eq!(rows[0]["file"], "secrets/s.sops.yaml");
    assert_eq!(rows[0]["key"], "smtp.password");
    assert_eq!(rows[0]["reason"], "import");
    let out = fx.spx_ok(&["log", "stale", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v.is_array() || v.is_object(), "{v:#}");
}

#[test]
fn sync_plan_as_json() {
    let fx = Fx::new();
    let gh = FakeGitHub::start();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/.*\n    age: {}\nspx:\n  sync:\n    gh:\n      github: acme/app\n      sources: [secrets/gh.sops.yaml]\n",
            fx.public
        ),
    );
    fx.write(
        "secrets/gh.sops.yaml",
        "deploy_token: tok-0001-secret\nold_one: gone-soon-value\nsame: stays-the-same\n",
    );
    fx.sops_ok(&["encrypt", "-i", "--age", &fx.public, "secrets/gh.sops.yaml"]);
    let spx = |args: &[&str]| {
        fx.spx_cmd(args)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_REPOSITORY")
            .env("GITHUB_API_URL", gh.url())
            .env("GITHUB_TOKEN", "test-token")
            .output()
            .unwrap()
    };
    let values = [
        "tok-0001-secret",
        "gone-soon-value",
        "stays-the-same",
        "tok-0002-secret",
        "brand-new-value",
    ];
    let no_values = |o: &Output| {
        let all = show(o);
        for v in values {
            assert!(!all.contains(v), "value {v} printed:\n{all}");
        }
    };
    let o = spx(&["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));

    // Change one, remove one, add one; the plan as JSON.
    fx.sops_ok(&[
        "set",
        "secrets/gh.sops.yaml",
        "[\"deploy_token\"]",
        "\"tok-0002-secret\"",
    ]);
    fx.sops_ok(&["unset", "secrets/gh.sops.yaml", "[\"old_one\"]"]);
    fx.sops_ok(&[
        "set",
        "secrets/gh.sops.yaml",
        "[\"new_one\"]",
        "\"brand-new-value\"",
    ]);
    let o = spx(&["sync", "--dry-run", "--prune", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    no_values(&o);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&o)));
    assert_eq!(v["mode"], "dry-run");
    let t = &v["targets"][0];
    assert_eq!(v["targets"].as_array().unwrap().len(), 1);
    assert_eq!(t["target"], "gh");
    assert_eq!(t["status"], "planned");
    let plan = &t["plan"];
    let change = |name: &str| {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {plan:#}"))
            .clone()
    };
    let c = change("DEPLOY_TOKEN");
    assert_eq!(c["action"], "changed");
    assert_eq!(c["sha256"], common::sha256_prefix("tok-0002-secret"));
    let c = change("NEW_ONE");
    assert_eq!(c["action"], "added");
    assert_eq!(c["sha256"], common::sha256_prefix("brand-new-value"));
    let c = change("OLD_ONE");
    assert_eq!(c["action"], "removed");
    assert_eq!(c["applies"], true);
    assert_eq!(plan["unchanged"], 1);
    assert_eq!(
        (
            plan["added"].clone(),
            plan["changed"].clone(),
            plan["removed"].clone()
        ),
        (1.into(), 1.into(), 1.into())
    );

    // The text plan colours its signs when asked.
    let o = spx(&["--color", "always", "sync", "--dry-run", "--prune"]);
    let out = stdout(&o);
    assert!(out.contains("\x1b[32m+\x1b[0m NEW_ONE"), "{out:?}");
    assert!(out.contains("\x1b[33m~\x1b[0m DEPLOY_TOKEN"), "{out:?}");
    assert!(out.contains("\x1b[31m-\x1b[0m OLD_ONE"), "{out:?}");
    let o = spx(&["sync", "--dry-run", "--prune"]);
    assert!(
        !has_sgr(&stdout(&o)) && stdout(&o).contains("+ NEW_ONE"),
        "{}",
        show(&o)
    );

    // --check as JSON: drift.
    let o = spx(&["sync", "--check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(17), "{}", show(&o));
    no_values(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["mode"], "check");
    assert_eq!(v["targets"][0]["status"], "problems");
    assert_eq!(v["targets"][0]["problems"]["drift"], true);
    assert_eq!(v["targets"][0]["problems"]["unreachable"], false);
}
