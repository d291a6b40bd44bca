//! The rotation log as the commands write it: every mutating command in a git repository adds
//! exact rows (key paths, action, reason, rotator from git config), never a value.

mod common;
use common::*;
use std::process::Command;

const SENTINEL: &str = "Sentinel-Value-8f3a91";

fn git(fx: &Fx, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(fx.dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn repo() -> Fx {
    let fx = Fx::new();
    git(&fx, &["init", "-q"]);
    git(&fx, &["config", "user.name", "Ada Lovelace"]);
    git(&fx, &["config", "user.email", "ada@example.net"]);
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}\n",
            fx.public
        ),
    );
    fx.write(
        "secrets/shared.sops.yaml",
        &format!("smtp:\n    password: {SENTINEL}\n    host: smtp.example\nhosts:\n    - a\n"),
    );
    fx
}

fn log(fx: &Fx) -> String {
    std::fs::read_to_string(fx.path("docs/secrets-rotation-log.md")).unwrap_or_default()
}

fn rows(fx: &Fx) -> Vec<String> {
    log(fx)
        .lines()
        .filter(|l| l.starts_with("| 20"))
        .map(String::from)
        .collect()
}

fn assert_no_value(fx: &Fx) {
    let text = log(fx);
    for v in [SENTINEL, "smtp.example", "tok-123456"] {
        assert!(!text.contains(v), "log contains a value: {v}\n{text}");
    }
    for w in SENTINEL.as_bytes().windows(6) {
        assert!(
            !text.contains(std::str::from_utf8(w).unwrap()),
            "log contains part of a value"
        );
    }
}

#[test]
fn every_mutating_command_logs_exact_rows() {
    let fx = repo();
    fx.spx_ok(&[
        "encrypt",
        "-i",
        "--reason",
        "initial import",
        "secrets/shared.sops.yaml",
    ]);
    let r = rows(&fx);
    assert_eq!(r.len(), 3, "{r:#?}");
    assert!(
        r[0].contains("secrets/shared.sops.yaml")
            && r[0].contains("smtp.password")
            && r[0].contains("added")
    );
    assert!(
        r[0].contains("initial import") && r[0].contains("Ada Lovelace &lt;ada@example.net&gt;"),
        "{}",
        r[0]
    );

    let ed = fx.editor(
        "ed.sh",
        &format!("sed -i 's/{SENTINEL}/{SENTINEL}-2/' \"$1\""),
    );
    let o = fx
        .spx_cmd(&["edit", "secrets/shared.sops.yaml"])
        .env("EDITOR", &ed)
        .env("SPX_REASON", "vendor rotated it")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = rows(&fx);
    assert_eq!(r.len(), 4);
    assert!(
        r[3].contains("smtp.password")
            && r[3].contains("changed")
            && r[3].contains("vendor rotated it"),
        "{}",
        r[3]
    );

    // An edit that changes nothing writes no row.
    let ed = fx.editor("noop.sh", "true");
    fx.spx_cmd(&["edit", "secrets/shared.sops.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(rows(&fx).len(), 4);

    fx.spx_ok(&[
        "set",
        "secrets/shared.sops.yaml",
        r#"["api_token"]"#,
        r#""tok-123456""#,
    ]);
    let r = rows(&fx);
    assert!(
        r[4].contains("api_token") && r[4].contains("added") && r[4].contains("unspecified"),
        "{}",
        r[4]
    );

    fx.spx_ok(&[
        "unset",
        "--reason",
        "retired",
        "secrets/shared.sops.yaml",
        r#"["hosts"]"#,
    ]);
    let r = rows(&fx);
    assert!(
        r[5].contains("hosts[0]") && r[5].contains("removed") && r[5].contains("retired"),
        "{}",
        r[5]
    );

    fx.spx_ok(&["rotate", "-i", "secrets/shared.sops.yaml"]);
    let r = rows(&fx);
    assert!(r[6].contains("data key rotated"), "{}", r[6]);

    let (_k2, p2) = keygen(&fx.path("k2.txt"));
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}, {p2}\n",
            fx.public
        ),
    );
    fx.spx_ok(&["updatekeys", "-y", "--reason", "onboarding"]);
    let r = rows(&fx);
    assert!(
        r[7].contains("recipients changed")
            && r[7].contains(&p2[..12])
            && r[7].contains("onboarding"),
        "{}",
        r[7]
    );

    assert_no_value(&fx);
    // The chain verifies, and the log survives a commit + further append.
    let o = fx.spx(&["log", "verify"]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    git(&fx, &["add", "-A"]);
    git(&fx, &["commit", "-qm", "secrets"]);
    fx.spx_ok(&["set", "secrets/shared.sops.yaml", r#"["x"]"#, "1"]);
    assert!(fx.spx(&["log", "verify"]).status.success());
    // Listing filters by key.
    let out = String::from_utf8(fx.spx_ok(&["log", "--key", "smtp"])).unwrap();
    assert!(
        out.contains("smtp.password") && !out.contains("api_token"),
        "{out}"
    );
}

#[test]
fn a_failed_write_leaves_no_row() {
    let fx = repo();
    fx.spx_ok(&["encrypt", "-i", "secrets/shared.sops.yaml"]);
    let before = rows(&fx).len();
    // A tampered file cannot be changed, so nothing is logged.
    let text = fx.read("secrets/shared.sops.yaml");
    let re = regex::Regex::new(r#"lastmodified: "(\d{4})"#).unwrap();
    fx.write(
        "secrets/shared.sops.yaml",
        &re.replace(&text, r#"lastmodified: "1999"#),
    );
    let o = fx.spx(&["set", "secrets/shared.sops.yaml", r#"["a"]"#, "1"]);
    assert_eq!(o.status.code(), Some(51));
    assert_eq!(rows(&fx).len(), before);
}

#[test]
fn outside_a_git_repository_nothing_is_logged() {
    let fx = Fx::new();
    fx.write("s.yaml", "a: 1\n");
    fx.spx_ok(&["encrypt", "--age", &fx.public, "-i", "s.yaml"]);
    fx.spx_ok(&["set", "s.yaml", r#"["a"]"#, "2"]);
    assert!(!fx.path("docs").exists());
}

#[test]
fn stale_lists_every_key_of_every_sops_file_oldest_first() {
    let fx = repo();
    fx.spx_ok(&["encrypt", "-i", "secrets/shared.sops.yaml"]);
    // A second file made by sops: its keys were never logged.
    fx.write("secrets/other.sops.yaml", "legacy_token: x\n");
    fx.sops_ok(&["encrypt", "-i", "secrets/other.sops.yaml"]);
    let out = String::from_utf8(fx.spx_ok(&["log", "stale", "--older-than", "90d"])).unwrap();
    let legacy = out.find("legacy_token").expect("never-logged key listed");
    let pw = out.find("smtp.password").expect("logged key listed");
    assert!(legacy < pw, "never-logged keys come first:\n{out}");
    assert!(!out.contains("Sentinel"), "no values");
}

#[test]
fn verify_staged_requires_log_rows_and_an_append_only_log() {
    let fx = repo();
    fx.write(".gitignore", "key.txt\nhome/\n*.sh\n");
    fx.spx_ok(&["encrypt", "-i", "secrets/shared.sops.yaml"]);
    git(&fx, &["add", "-A"]);
    git(&fx, &["commit", "-qm", "initial"]);
    // A value changed by real sops: no row in the log → the verifier names the key.
    fx.sops_ok(&[
        "set",
        "secrets/shared.sops.yaml",
        r#"["smtp"]["host"]"#,
        r#""relay.example""#,
    ]);
    git(&fx, &["add", "-A"]);
    let o = fx.spx(&["verify", "--staged"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("rotation-log-missing-row") && out.contains("smtp.host"),
        "{out}"
    );
    assert!(
        !out.contains("smtp.password"),
        "unchanged keys are not reported: {out}"
    );
    // The same change through spx logs it: clean.
    git(&fx, &["checkout", "--", "."]);
    git(&fx, &["reset", "-q", "--hard"]);
    fx.spx_ok(&[
        "set",
        "secrets/shared.sops.yaml",
        r#"["smtp"]["host"]"#,
        r#""relay.example""#,
    ]);
    git(&fx, &["add", "-A"]);
    let o = fx.spx(&["verify", "--staged"]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    git(&fx, &["commit", "-qm", "host"]);
    // A committed row edited in the index: refused.
    let text = log(&fx);
    fx.write(
        "docs/secrets-rotation-log.md",
        &text.replacen("| added |", "| changed |", 1),
    );
    git(&fx, &["add", "-A"]);
    let o = fx.spx(&["verify", "--staged"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("docs/secrets-rotation-log.md") && out.contains("rotation-log"),
        "{out}"
    );
}
