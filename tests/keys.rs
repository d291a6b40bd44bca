//! Key management end to end in a temp git repository, held to the real sops: init,
//! onboarding (`recipients add`), offboarding (`recipients remove`), doctor.

mod common;
use common::*;
use std::process::Command;

fn git(fx: &Fx, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(fx.dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}");
}

fn repo() -> Fx {
    let fx = Fx::new();
    git(&fx, &["init", "-q"]);
    git(&fx, &["config", "user.name", "Alice Admin"]);
    git(&fx, &["config", "user.email", "alice@example.net"]);
    fx
}

#[test]
fn init_sets_everything_up_and_is_idempotent() {
    let fx = repo();
    let out = String::from_utf8(fx.spx_ok(&["init"])).unwrap();
    for what in [
        ".sops.yaml",
        "secrets/shared.sops.yaml",
        "pre-commit hook",
        "docs/secrets-rotation-log.md",
        ".gitignore",
    ] {
        assert!(out.contains(what), "{what} not reported: {out}");
    }
    // The identity already existed (SOPS_AGE_KEY_FILE): it is the recipient.
    assert!(fx.read(".sops.yaml").contains(&fx.public));
    assert!(fx.read(".sops.yaml").contains("alice-admin: age1"));
    assert!(fx
        .sops_ok(&["decrypt", "secrets/shared.sops.yaml"])
        .starts_with(b"# Shared secrets"));
    assert!(fx.read(".gitignore").contains("!.env.example"));
    assert!(fx.path(".git/hooks/pre-commit").exists());
    assert!(fx
        .read(".gitattributes")
        .contains("secrets/*.sops.* diff=spx merge=spx"));
    let before: Vec<String> = [
        ".sops.yaml",
        "secrets/shared.sops.yaml",
        ".gitignore",
        "docs/secrets-rotation-log.md",
    ]
    .iter()
    .map(|f| fx.read(f))
    .collect();
    let out = String::from_utf8(fx.spx_ok(&["init"])).unwrap();
    assert!(out.contains("nothing changed"), "{out}");
    let after: Vec<String> = [
        ".sops.yaml",
        "secrets/shared.sops.yaml",
        ".gitignore",
        "docs/secrets-rotation-log.md",
    ]
    .iter()
    .map(|f| fx.read(f))
    .collect();
    assert_eq!(before, after);
    // Outside a git repository: a clear error.
    let elsewhere = tempfile::tempdir().unwrap();
    let o = fx
        .spx_cmd(&["init"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("git init"));
}

#[test]
fn init_creates_an_identity_when_there_is_none() {
    let fx = repo();
    let o = fx
        .spx_cmd(&["init"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let key = fx.path("home/.config/sops/age/keys.txt");
    assert!(key.exists());
    let o = fx
        .sops_cmd(&["decrypt", "secrets/shared.sops.yaml"])
        .env("SOPS_AGE_KEY_FILE", &key)
        .output()
        .unwrap();
    assert!(o.status.success());
}

#[test]
fn onboarding_and_offboarding_end_to_end() {
    let fx = repo();
    fx.spx_ok(&["init"]);
    // A second file with its own secrets.
    fx.write("secrets/vps-i1.sops.yaml", "db_password: vps-db-pass\n");
    fx.spx_ok(&["encrypt", "-i", "secrets/vps-i1.sops.yaml"]);
    let cfg_before = fx.read(".sops.yaml");

    // Bob joins.
    let (bob_key, bob) = keygen(&fx.path("bob.txt"));
    let o = fx.spx(&["recipients", "add", "bob", &bob]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg = fx.read(".sops.yaml");
    assert!(cfg.contains("bob: ") && cfg.contains(&bob));
    // Everything that was there is still there (comments, layout).
    for line in cfg_before
        .lines()
        .filter(|l| !l.contains("age:"))
        .chain([" # alice-admin"])
    {
        assert!(cfg.contains(line), "lost line {line:?} in:\n{cfg}");
    }
    for f in ["secrets/shared.sops.yaml", "secrets/vps-i1.sops.yaml"] {
        let o = fx
            .sops_cmd(&["decrypt", f])
            .env("SOPS_AGE_KEY_FILE", &bob_key)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "bob cannot read {f}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let list = String::from_utf8(fx.spx_ok(&["recipients", "list"])).unwrap();
    assert!(list.contains("bob") && list.contains("2 file(s)"), "{list}");
    let vps_before = fx.read("secrets/vps-i1.sops.yaml");

    // Bob leaves: re-encrypted without him, data keys rotated, names of what to rotate shown.
    let o = fx.spx(&["recipients", "remove", "bob"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("secrets/vps-i1.sops.yaml: db_password"),
        "{out}"
    );
    assert!(!out.contains("vps-db-pass"), "a value was printed");
    for f in ["secrets/shared.sops.yaml", "secrets/vps-i1.sops.yaml"] {
        let o = fx
            .sops_cmd(&["decrypt", f])
            .env("SOPS_AGE_KEY_FILE", &bob_key)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(128), "bob can still read {f}");
        assert!(
            fx.sops(&["decrypt", f]).status.success(),
            "alice lost access to {f}"
        );
    }
    let vps_after = fx.read("secrets/vps-i1.sops.yaml");
    let line = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("db_password:"))
            .unwrap()
            .to_string()
    };
    assert_ne!(line(&vps_before), line(&vps_after), "data key not rotated");
    assert!(!fx.read(".sops.yaml").contains(&bob));
    // Removing the last recipient of a rule is refused, file untouched.
    let cfg = fx.read(".sops.yaml");
    let o = fx.spx(&["recipients", "remove", "alice-admin"]);
    assert!(!o.status.success());
    assert_eq!(fx.read(".sops.yaml"), cfg);
    // The log recorded it all.
    let log = fx.read("docs/secrets-rotation-log.md");
    assert!(
        log.contains("recipient bob added")
            && log.contains("recipient bob removed")
            && log.contains("data key rotated")
    );
}

#[test]
fn doctor_reports_drift_and_unreadable_files() {
    let fx = repo();
    fx.spx_ok(&["init"]);
    let o = fx.spx(&["doctor"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&fx.public));
    // A file encrypted for someone else only: unreadable here and drifted from its rule.
    let (_k, other) = keygen(&fx.path("other.txt"));
    fx.write("secrets/x.sops.yaml", "a: 1\n");
    fx.spx_ok(&["encrypt", "--age", &other, "-i", "secrets/x.sops.yaml"]);
    let o = fx.spx(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("secrets/x.sops.yaml: recipients differ"),
        "{out}"
    );
    assert!(out.contains("no identity can decrypt"), "{out}");
    assert!(!out.contains("AGE-SECRET-KEY"), "secret printed");
}

#[test]
fn status_reports_recipients_identity_drift_and_last_change() {
    let fx = repo();
    fx.spx_ok(&["init"]);
    let out = String::from_utf8(fx.spx_ok(&["status"])).unwrap();
    assert!(
        out.contains("secrets/shared.sops.yaml: encrypted, 1 recipient(s)"),
        "{out}"
    );
    assert!(
        out.contains("recipient alice-admin") && out.contains("opens with your identity"),
        "{out}"
    );
    assert!(
        out.contains("example_service.api_key: last changed 20"),
        "{out}"
    );
    let (_k, other) = keygen(&fx.path("other.txt"));
    fx.write("secrets/x.sops.yaml", "a: 1\n");
    fx.spx_ok(&["encrypt", "--age", &other, "-i", "secrets/x.sops.yaml"]);
    let json = String::from_utf8(fx.spx_ok(&["status", "--format", "json"])).unwrap();
    assert!(
        json.starts_with('[')
            && json.contains("\"drift\":true")
            && json.contains("\"opened_by\":null"),
        "{json}"
    );
    assert!(
        json.contains(&format!(
            "\"recipient\":\"{}\",\"name\":\"alice-admin\"",
            fx.public
        )),
        "{json}"
    );
}
