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

/// The armored `enc` block wrapped for `recipient` in a YAML sops file.
fn enc_block(text: &str, recipient: &str) -> String {
    let start = text
        .find(&format!("recipient: {recipient}"))
        .expect("recipient present");
    let rest = &text[start..];
    let b = rest.find("-----BEGIN AGE ENCRYPTED FILE-----").unwrap();
    let e = rest.find("-----END AGE ENCRYPTED FILE-----").unwrap();
    rest[b..e].to_string()
}

fn ciphertexts(text: &str) -> Vec<String> {
    text.split("ENC[AES256_GCM,data:")
        .skip(1)
        .map(|s| s.split(',').next().unwrap().to_string())
        .collect()
}

fn decrypts_with(fx: &Fx, key: &std::path::Path, file: &str) -> bool {
    fx.sops_cmd(&["decrypt", file])
        .env("SOPS_AGE_KEY_FILE", key)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn sops_yaml_edits_keep_every_other_byte_and_real_sops_reads_them() {
    let fx = repo();
    let (_ck, carol) = keygen(&fx.path("carol.txt"));
    let (bob_key, bob) = keygen(&fx.path("bob.txt"));
    let alice = fx.public.clone();
    let original = format!(
        "# Team secrets: who reads what.\n\
         # Keep rules from most to least specific.\n\
         creation_rules:\n    \
             # production: alice and carol\n    \
             - path_regex: secrets/prod/.*\\.sops\\.yaml$\n      \
               age: >-\n        \
                 {alice},\n        \
                 {carol}\n\n    \
             # shamir between ops and dev\n    \
             - path_regex: secrets/split/.*\\.sops\\.yaml$\n      \
               shamir_threshold: 2\n      \
               key_groups:\n          \
                   - age:\n                \
                         - {alice} # alice\n          \
                   - age: [{carol}, {alice}]\n    \
             - path_regex: secrets/flow/.*   # flow style\n      \
               age: [{alice}, {carol}]\n    \
             - path_regex: secrets/.*\\.sops\\.(yaml|json|env)$\n      \
               age: \"{alice},{carol}\" # the default\n\
         stores:\n    \
             yaml:\n        \
                 indent: 4\n"
    );
    fx.write(".sops.yaml", &original);
    let files = [
        "secrets/prod/db.sops.yaml",
        "secrets/split/s.sops.yaml",
        "secrets/flow/f.sops.yaml",
        "secrets/app.sops.yaml",
        "secrets/app.sops.json",
    ];
    for f in files {
        if f.ends_with(".json") {
            fx.write(f, "{\"token\": \"json-token-1\"}");
        } else {
            fx.write(f, "token: value-of-token\nnested:\n    pw: nested-pw\n");
        }
        fx.spx_ok(&["encrypt", "-i", "--reason", "setup", f]);
    }

    let o = fx.spx(&["recipients", "add", "bob", &bob]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names = "\n# Who is who among the recipients (spx's own section; sops ignores it).\nspx:\n    recipients:\n";
    let expected = original
        .replace(
            &format!("        {carol}\n"),
            &format!("        {carol},\n        {bob}\n"),
        )
        .replace(
            &format!("                - {alice} # alice\n"),
            &format!("                - {alice} # alice\n                - {bob} # bob\n"),
        )
        .replace(
            &format!("      age: [{alice}, {carol}]\n"),
            &format!("      age: [{alice}, {carol}, {bob}]\n"),
        )
        .replace(
            &format!("\"{alice},{carol}\" # the default"),
            &format!("\"{alice},{carol},{bob}\" # the default"),
        )
        + names
        + &format!("        bob: {bob}\n");
    assert_eq!(fx.read(".sops.yaml"), expected);

    for f in files {
        // Shamir: bob is in the first group only, so he alone cannot open the split file.
        let alone = !f.contains("split");
        assert_eq!(decrypts_with(&fx, &bob_key, f), alone, "bob and {f}");
        assert!(fx.read(f).contains(&bob), "{f} not wrapped for bob");
        // Real sops reads the edited rules the same way: nothing left to update.
        let before = fx.read(f);
        fx.sops_ok(&["updatekeys", "-y", f]);
        assert_eq!(fx.read(f), before, "sops sees different recipients for {f}");
    }
    // And real sops encrypts a new file for bob from the edited rules.
    fx.write("secrets/prod/new.sops.yaml", "a: b\n");
    let out = String::from_utf8(fx.sops_ok(&["encrypt", "secrets/prod/new.sops.yaml"])).unwrap();
    assert!(
        out.contains(&bob),
        "sops did not read bob from the folded rule"
    );

    // Bob leaves: the file is what it was, plus an empty names section.
    let o = fx.spx(&["recipients", "remove", "bob"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fx.read(".sops.yaml"), original.clone() + names);
    for f in files {
        assert!(!decrypts_with(&fx, &bob_key, f), "bob can still open {f}");
        assert!(fx.sops(&["decrypt", f]).status.success(), "alice lost {f}");
        let before = fx.read(f);
        fx.sops_ok(&["updatekeys", "-y", f]);
        assert_eq!(fx.read(f), before, "sops sees different recipients for {f}");
    }
}

#[test]
fn anchored_keys_get_an_anchor_and_aliases() {
    let fx = repo();
    let (bob_key, bob) = keygen(&fx.path("bob.txt"));
    let alice = fx.public.clone();
    let original = format!(
        "keys:\n  - &alice {alice} # laptop\ncreation_rules:\n  - path_regex: secrets/.*\n    key_groups:\n      - age:\n          - *alice\n"
    );
    fx.write(".sops.yaml", &original);
    fx.write("secrets/a.sops.yaml", "k: v1\n");
    fx.spx_ok(&["encrypt", "-i", "--reason", "setup", "secrets/a.sops.yaml"]);
    fx.spx_ok(&["recipients", "add", "bob", &bob]);
    let cfg = fx.read(".sops.yaml");
    assert!(
        cfg.starts_with(&format!(
            "keys:\n  - &alice {alice} # laptop\n  - &bob {bob}\ncreation_rules:\n  - path_regex: secrets/.*\n    key_groups:\n      - age:\n          - *alice\n          - *bob\n"
        )),
        "{cfg}"
    );
    assert!(decrypts_with(&fx, &bob_key, "secrets/a.sops.yaml"));
    fx.write("secrets/b.sops.yaml", "k: v2\n");
    let out = String::from_utf8(fx.sops_ok(&["encrypt", "secrets/b.sops.yaml"])).unwrap();
    assert!(out.contains(&bob), "sops did not expand *bob");
    let list = String::from_utf8(fx.spx_ok(&["recipients", "list"])).unwrap();
    assert!(list.contains("alice") && list.contains("bob"), "{list}");
    fx.spx_ok(&["recipients", "remove", "bob"]);
    assert!(fx.read(".sops.yaml").starts_with(&original));
    assert!(!fx.read(".sops.yaml").contains("&bob"));
    assert!(!decrypts_with(&fx, &bob_key, "secrets/a.sops.yaml"));
}

#[test]
fn offboarding_changes_the_data_key_of_every_file_bob_could_open() {
    let fx = repo();
    fx.spx_ok(&["init"]);
    let (bob_key, bob) = keygen(&fx.path("bob.txt"));
    fx.spx_ok(&["recipients", "add", "bob", &bob]);
    fx.write(
        "secrets/vps.sops.yaml",
        "db_password: vps-db-pass\napi:\n    token: tok-123\n",
    );
    fx.spx_ok(&["encrypt", "-i", "--reason", "t", "secrets/vps.sops.yaml"]);
    // A file no rule matches, encrypted by hand for alice and bob.
    fx.write("ops/extra.sops.yaml", "smtp_password: smtp-pass\n");
    let both = format!("{},{bob}", fx.public);
    fx.spx_ok(&[
        "encrypt",
        "--age",
        &both,
        "-i",
        "--reason",
        "t",
        "ops/extra.sops.yaml",
    ]);
    // A file bob never had.
    fx.write("ops/alice-only.sops.yaml", "mine: only-mine\n");
    fx.spx_ok(&[
        "encrypt",
        "--age",
        &fx.public,
        "-i",
        "--reason",
        "t",
        "ops/alice-only.sops.yaml",
    ]);
    let files = [
        "secrets/shared.sops.yaml",
        "secrets/vps.sops.yaml",
        "ops/extra.sops.yaml",
    ];
    for f in files {
        assert!(decrypts_with(&fx, &bob_key, f), "bob should read {f} first");
    }
    let before: Vec<String> = files.iter().map(|f| fx.read(f)).collect();
    let untouched = fx.read("ops/alice-only.sops.yaml");

    // Unknown names change nothing.
    let cfg = fx.read(".sops.yaml");
    let o = fx.spx(&["recipients", "remove", "mallory"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no recipient named"));
    assert_eq!(fx.read(".sops.yaml"), cfg);

    let o = fx.spx(&["recipients", "remove", "bob"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    for line in [
        "bob could open 3 file(s)",
        "secrets/vps.sops.yaml: db_password",
        "secrets/vps.sops.yaml: api.token",
        "ops/extra.sops.yaml: smtp_password",
        "secrets/shared.sops.yaml: example_service.api_key",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    for secret in ["vps-db-pass", "tok-123", "smtp-pass", "change-me"] {
        assert!(!out.contains(secret), "a value was printed");
    }
    assert!(!out.contains("alice-only"), "{out}");
    assert_eq!(fx.read("ops/alice-only.sops.yaml"), untouched);
    for (f, old) in files.iter().zip(&before) {
        let new = fx.read(f);
        assert!(!decrypts_with(&fx, &bob_key, f), "bob can still open {f}");
        assert!(!new.contains(&bob), "{f} still names bob");
        assert!(fx.sops(&["decrypt", f]).status.success(), "alice lost {f}");
        // Every value re-encrypted.
        let (o, n) = (ciphertexts(old), ciphertexts(&new));
        assert_eq!(o.len(), n.len());
        assert!(
            o.iter().all(|c| !n.contains(c)),
            "{f}: a ciphertext survived"
        );
        // The data key itself changed: alice's old wrapped key cannot open the new file.
        let old_enc = enc_block(old, &fx.public);
        let new_enc = enc_block(&new, &fx.public);
        assert_ne!(old_enc, new_enc);
        let spliced = new.replace(&new_enc, &old_enc);
        fx.write("spliced.sops.yaml", &spliced);
        assert!(
            !fx.sops(&["decrypt", "spliced.sops.yaml"]).status.success(),
            "{f}: the old data key still opens it"
        );
    }
    let log = fx.read("docs/secrets-rotation-log.md");
    assert!(log.contains("recipient bob removed"), "{log}");
}

#[test]
fn removing_the_last_recipient_or_adding_a_bad_key_changes_nothing() {
    let fx = repo();
    fx.spx_ok(&["init"]);
    let cfg = fx.read(".sops.yaml");
    let shared = fx.read("secrets/shared.sops.yaml");
    let o = fx.spx(&["recipients", "remove", "alice-admin"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only recipient"), "{err}");
    let o = fx.spx(&["recipients", "add", "bob", "age1notakey"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid age recipient"));
    let (_k, other) = keygen(&fx.path("o.txt"));
    let o = fx.spx(&["recipients", "add", "alice-admin", &other]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already names"));
    let o = fx.spx(&["recipients", "add", "-bad", &other]);
    assert!(!o.status.success());
    assert_eq!(fx.read(".sops.yaml"), cfg);
    assert_eq!(fx.read("secrets/shared.sops.yaml"), shared);
}

#[test]
fn list_names_rules_and_files() {
    let fx = repo();
    fx.spx_ok(&["init"]);
    let (_k, old) = keygen(&fx.path("old.txt"));
    fx.write("secrets/legacy.sops.yaml", "a: 1\n");
    let both = format!("{},{old}", fx.public);
    fx.spx_ok(&[
        "encrypt",
        "--age",
        &both,
        "-i",
        "--reason",
        "t",
        "secrets/legacy.sops.yaml",
    ]);
    let out = String::from_utf8(fx.spx_ok(&["-v", "recipients", "list"])).unwrap();
    let alice = out.lines().find(|l| l.starts_with("alice-admin")).unwrap();
    assert!(alice.contains("rule(s) 0; 2 file(s)"), "{out}");
    assert!(!out.contains(&fx.public), "keys are shortened: {out}");
    let stray = out.lines().find(|l| l.starts_with("(unnamed)")).unwrap();
    assert!(stray.contains("in no rule; 1 file(s)"), "{out}");
    assert!(out.contains("    secrets/legacy.sops.yaml"), "{out}");
}

#[test]
fn doctor_flags_permissions_bad_keys_and_plaintext() {
    use std::os::unix::fs::PermissionsExt;
    let fx = repo();
    fx.spx_ok(&["init"]);
    let o = fx.spx(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "{} (SOPS_AGE_KEY_FILE): public key {}",
            fx.key_file.display(),
            fx.public
        )),
        "{out}"
    );
    assert!(out.contains("No problems found."), "{out}");
    // A plaintext file where the rule expects an encrypted one (unless git ignores it).
    fx.write("secrets/plain.sops.yaml", "password: hunter2\n");
    fx.write("secrets/local.sops.yaml", "password: local\n");
    let mut gi = fx.read(".gitignore");
    gi.push_str("secrets/local.sops.yaml\n");
    fx.write(".gitignore", &gi);
    std::fs::set_permissions(&fx.key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = fx.spx(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("secrets/plain.sops.yaml: creation rule 0 matches it but it is not encrypted"),
        "{out}"
    );
    assert!(!out.contains("local.sops.yaml"), "{out}");
    assert!(
        out.contains("readable by group or others (mode 644)"),
        "{out}"
    );
    assert!(
        !out.contains("hunter2") && !out.contains("AGE-SECRET-KEY"),
        "{out}"
    );
    std::fs::set_permissions(&fx.key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(fx.path("secrets/plain.sops.yaml")).unwrap();
    // An invalid key in .sops.yaml.
    let cfg = fx
        .read(".sops.yaml")
        .replace("    - age1", "    - age1broken\n      - age1");
    fx.write(".sops.yaml", &cfg);
    let o = fx.spx(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("creation rule 0: invalid age recipient"),
        "{out}"
    );
}

#[test]
fn init_leaves_an_existing_sops_yaml_alone() {
    let fx = repo();
    let cfg = format!(
        "# ours\ncreation_rules:\n  - path_regex: config/.*\\.enc\\.yaml$\n    age: {}\n",
        fx.public
    );
    fx.write(".sops.yaml", &cfg);
    let o = fx.spx(&["init"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fx.read(".sops.yaml"), cfg);
    assert!(!fx.path("secrets/shared.sops.yaml").exists());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no creation rule in .sops.yaml matches it")
    );
    let out = String::from_utf8(fx.spx_ok(&["init"])).unwrap();
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(fx.read(".sops.yaml"), cfg);
}

#[test]
fn doctor_notes_a_broad_rule_instead_of_flagging_every_file() {
    let fx = repo();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: .*\n    age: {}\n",
            fx.public
        ),
    );
    for i in 0..12 {
        fx.write(&format!("src/f{i}.txt"), "not a secret\n");
    }
    fx.write("app.sops.yaml", "k: v\n");
    fx.spx_ok(&["encrypt", "-i", "--reason", "t", "app.sops.yaml"]);
    let o = fx.spx(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("note: creation rule 0 matches 1") && out.contains("broader than the secrets"),
        "{out}"
    );
    // The fixture's own key files count among the matches too (12 sources + key.txt + …).
    assert_eq!(o.status.code(), Some(0), "{out}");
}
