//! `spx edit`, driven non-interactively with `EDITOR` set to a script; and set/unset/rotate/
//! updatekeys/exec-env checked against the real sops.

mod common;
use common::*;
use std::process::Stdio;

fn enc_line<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(&format!("{key}:")))
        .unwrap()
}

/// A sops-made file with a few values.
fn sops_file(fx: &Fx) {
    fx.write("p.yaml", "# team secrets\nsmtp:\n    host: smtp.example.net\n    password: old-password\nport: 587\n");
    let enc = fx.sops_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
}

#[test]
fn edit_changes_one_value_and_keeps_other_ciphertext() {
    let fx = Fx::new();
    sops_file(&fx);
    let before = fx.read("s.yaml");
    let ed = fx.editor("ed.sh", "sed -i 's/old-password/new-password/' \"$1\"");
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = fx.read("s.yaml");
    // Unchanged values keep their exact ciphertext; the changed one does not.
    assert_eq!(enc_line(&before, "host"), enc_line(&after, "host"));
    assert_eq!(enc_line(&before, "port"), enc_line(&after, "port"));
    assert_ne!(enc_line(&before, "password"), enc_line(&after, "password"));
    // The comment's ciphertext is stable too.
    assert_eq!(before.lines().next(), after.lines().next());
    // Real sops reads what spx wrote.
    assert_eq!(
        String::from_utf8(fx.sops_ok(&["decrypt", "s.yaml"])).unwrap(),
        "# team secrets\nsmtp:\n    host: smtp.example.net\n    password: new-password\nport: 587\n"
    );
    // And only the changed line, lastmodified (unless within the same second) and mac differ.
    let changed: Vec<&str> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.trim_start().split(':').next().unwrap())
        .collect();
    assert!(
        changed.contains(&"password") && changed.contains(&"mac"),
        "{changed:?}"
    );
    assert!(
        changed
            .iter()
            .all(|k| ["password", "mac", "lastmodified"].contains(k)),
        "{changed:?}"
    );
}

#[test]
fn sops_edits_a_file_spx_made() {
    let fx = Fx::new();
    fx.write("p.yaml", "a: 1\nb: two\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
    let ed = fx.editor("ed.sh", "sed -i 's/two/three/' \"$1\"");
    let o = fx
        .sops_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fx.spx_ok(&["decrypt", "s.yaml"]), b"a: 1\nb: three\n");
}

#[test]
fn edit_without_change_exits_200_and_does_not_rewrite() {
    let fx = Fx::new();
    sops_file(&fx);
    let before = std::fs::metadata(fx.path("s.yaml"))
        .unwrap()
        .modified()
        .unwrap();
    let bytes = fx.read("s.yaml");
    let ed = fx.editor("ed.sh", "true");
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(200));
    assert_eq!(fx.read("s.yaml"), bytes);
    assert_eq!(
        std::fs::metadata(fx.path("s.yaml"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    // A whitespace-only change is no change either.
    let ed = fx.editor("ed2.sh", "printf '\\n' >> \"$1\"");
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(200));
    assert_eq!(fx.read("s.yaml"), bytes);
}

#[test]
fn editor_failure_exits_201_and_writes_nothing() {
    let fx = Fx::new();
    sops_file(&fx);
    let bytes = fx.read("s.yaml");
    let ed = fx.editor("ed.sh", "sed -i 's/old-password/x/' \"$1\"; exit 3");
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(201));
    assert_eq!(fx.read("s.yaml"), bytes);
}

#[test]
fn invalid_result_without_terminal_fails_and_writes_nothing() {
    let fx = Fx::new();
    sops_file(&fx);
    let bytes = fx.read("s.yaml");
    for body in [
        "printf 'a: [unclosed\\n' > \"$1\"",
        ": > \"$1\"",
        "printf 'sops: 1\\n' > \"$1\"",
    ] {
        let ed = fx.editor("ed.sh", body);
        let o = fx
            .spx_cmd(&["edit", "s.yaml"])
            .env("EDITOR", &ed)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{body}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("s.yaml") && err.contains("nothing written"),
            "{body}: {err}"
        );
        assert_eq!(fx.read("s.yaml"), bytes, "{body}");
    }
}

#[test]
fn plaintext_temp_file_is_private_and_removed() {
    let fx = Fx::new();
    sops_file(&fx);
    let tmp = fx.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // The editor records where the plaintext is and its permissions.
    let ed = fx.editor(
        "ed.sh",
        &format!(
            "echo \"$1\" > {0}/where; stat -c %a \"$1\" > {0}/mode; stat -c %a \"$(dirname \"$1\")\" > {0}/dirmode; sed -i 's/old/new/' \"$1\"",
            fx.dir.path().display()
        ),
    );
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .env("SPX_TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let where_ = fx.read("where");
    assert!(where_.starts_with(&tmp.display().to_string()), "{where_}");
    assert_eq!(fx.read("mode").trim(), "600");
    assert_eq!(fx.read("dirmode").trim(), "700");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "plaintext left behind"
    );
    // After an editor failure too.
    let ed = fx.editor("ed2.sh", "exit 1");
    fx.spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .env("SPX_TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "plaintext left behind after failure"
    );
}

#[test]
fn sigterm_sigint_or_sighup_during_edit_removes_plaintext_and_keeps_file() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        signal_during_edit(sig);
    }
}

fn signal_during_edit(sig: i32) {
    let fx = Fx::new();
    sops_file(&fx);
    let bytes = fx.read("s.yaml");
    let tmp = fx.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let flag = fx.path("started");
    let ed = fx.editor(
        "ed.sh",
        &format!(
            "sed -i 's/old/new/' \"$1\"; touch {}; sleep 30",
            flag.display()
        ),
    );
    let mut child = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .env("SPX_TMPDIR", &tmp)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !flag.exists() {
        assert!(start.elapsed().as_secs() < 20, "editor never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        1,
        "plaintext dir exists while editing"
    );
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "plaintext left after signal {sig}"
    );
    assert_eq!(fx.read("s.yaml"), bytes);
}

#[test]
fn second_edit_of_the_same_file_fails_at_once() {
    let fx = Fx::new();
    sops_file(&fx);
    let flag = fx.path("started");
    let ed = fx.editor("ed.sh", &format!("touch {}; sleep 3", flag.display()));
    let mut first = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !flag.exists() {
        assert!(start.elapsed().as_secs() < 20, "editor never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ed2 = fx.editor("ed2.sh", "sed -i 's/old/new/' \"$1\"");
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed2)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another spx process"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    first.wait().unwrap();
}

#[test]
fn edit_keeps_file_mode_and_creates_new_files_from_rule() {
    let fx = Fx::new();
    sops_file(&fx);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(fx.path("s.yaml"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let ed = fx.editor("ed.sh", "sed -i 's/old/new/' \"$1\"");
    fx.spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(
        std::fs::metadata(fx.path("s.yaml"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
    // A new file takes its recipients from the creation rule; `spx FILE` means edit.
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}\n",
            fx.public
        ),
    );
    std::fs::create_dir_all(fx.path("secrets")).unwrap();
    let ed = fx.editor("new.sh", "printf 'api_token: t0k3n\\n' > \"$1\"");
    let o = fx
        .spx_cmd(&["secrets/new.sops.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        fx.sops_ok(&["decrypt", "secrets/new.sops.yaml"]),
        b"api_token: t0k3n\n"
    );
}

#[test]
fn set_and_unset_interoperate_with_sops() {
    let fx = Fx::new();
    sops_file(&fx);
    let before = fx.read("s.yaml");
    fx.spx_ok(&["set", "s.yaml", r#"["smtp"]["user"]"#, r#""alerts""#]);
    fx.spx_ok(&["set", "s.yaml", r#"["port"]"#, "2525"]);
    let after = fx.read("s.yaml");
    assert_eq!(enc_line(&before, "host"), enc_line(&after, "host"));
    assert_eq!(
        String::from_utf8(fx.sops_ok(&["decrypt", "s.yaml"])).unwrap(),
        "# team secrets\nsmtp:\n    host: smtp.example.net\n    password: old-password\n    user: alerts\nport: 2525\n"
    );
    // The same operations by sops give the same plaintext.
    sops_file(&fx);
    fx.sops_ok(&["set", "s.yaml", r#"["smtp"]["user"]"#, r#""alerts""#]);
    fx.sops_ok(&["set", "s.yaml", r#"["port"]"#, "2525"]);
    std::fs::write(fx.path("t.yaml"), after).unwrap();
    assert_eq!(
        fx.spx_ok(&["decrypt", "t.yaml"]),
        fx.sops_ok(&["decrypt", "s.yaml"])
    );
    // --value-stdin keeps the value out of argv.
    let mut c = fx.spx_cmd(&["set", "--value-stdin", "s.yaml", r#"["token"]"#]);
    c.stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\"from-stdin\"")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        fx.sops_ok(&["decrypt", "--extract", r#"["token"]"#, "s.yaml"]),
        b"from-stdin"
    );
    fx.spx_ok(&["unset", "s.yaml", r#"["smtp"]["user"]"#]);
    let o = fx.spx(&["unset", "s.yaml", r#"["smtp"]["user"]"#]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        fx.sops(&["unset", "s.yaml", r#"["smtp"]["user"]"#])
            .status
            .code(),
        Some(1)
    );
    for (args, code) in [
        (vec!["set", "s.yaml", "nope", "1"], 7),
        (vec!["set", "s.yaml", r#"["a"]"#, "not json"], 1),
        (vec!["unset", "s.yaml", "[x]"], 7),
    ] {
        let before = fx.read("s.yaml");
        let o = fx.spx(&args);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(fx.read("s.yaml"), before);
    }
}

#[test]
fn rotate_changes_data_key_and_sops_still_reads() {
    let fx = Fx::new();
    sops_file(&fx);
    let before = fx.read("s.yaml");
    let (k2, p2) = keygen(&fx.path("k2.txt"));
    fx.spx_ok(&["rotate", "-i", "--add-age", &p2, "s.yaml"]);
    let after = fx.read("s.yaml");
    assert_ne!(enc_line(&before, "host"), enc_line(&after, "host"));
    let plain = fx.sops_ok(&["decrypt", "s.yaml"]);
    assert!(String::from_utf8_lossy(&plain).contains("old-password"));
    let o = fx
        .sops_cmd(&["decrypt", "s.yaml"])
        .env("SOPS_AGE_KEY_FILE", &k2)
        .output()
        .unwrap();
    assert!(o.status.success(), "new recipient can decrypt");
    fx.spx_ok(&["rotate", "-i", "--rm-age", &p2, "s.yaml"]);
    let o = fx
        .sops_cmd(&["decrypt", "s.yaml"])
        .env("SOPS_AGE_KEY_FILE", &k2)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(128),
        "removed recipient cannot decrypt"
    );
    // spx handles a file sops rotated.
    fx.sops_ok(&["rotate", "-i", "s.yaml"]);
    assert!(String::from_utf8_lossy(&fx.spx_ok(&["decrypt", "s.yaml"])).contains("old-password"));
}

#[test]
fn updatekeys_follows_the_creation_rule() {
    let fx = Fx::new();
    let (k2, p2) = keygen(&fx.path("k2.txt"));
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}\n",
            fx.public
        ),
    );
    fx.write("secrets/a.yaml", "k: v\n");
    fx.write("secrets/b.yaml", "k: w\n");
    fx.spx_ok(&["encrypt", "-i", "secrets/a.yaml"]);
    fx.sops_ok(&["encrypt", "-i", "secrets/b.yaml"]);
    let a0 = fx.read("secrets/a.yaml");
    // Up to date: byte for byte unchanged.
    fx.spx_ok(&["updatekeys", "-y"]);
    assert_eq!(fx.read("secrets/a.yaml"), a0);
    // Onboard k2.
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}, {p2}\n",
            fx.public
        ),
    );
    // Without a terminal and without -y: refused, nothing changed.
    let o = fx.spx(&["updatekeys", "secrets/a.yaml"]);
    assert!(!o.status.success());
    assert_eq!(fx.read("secrets/a.yaml"), a0);
    let out = String::from_utf8(fx.spx_ok(&["updatekeys", "-y"])).unwrap();
    assert!(out.contains(&format!("+++ {p2}")), "{out}");
    for f in ["secrets/a.yaml", "secrets/b.yaml"] {
        let o = fx
            .sops_cmd(&["decrypt", f])
            .env("SOPS_AGE_KEY_FILE", &k2)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Values untouched: same data key and ciphertext, same lastmodified/mac.
    let a1 = fx.read("secrets/a.yaml");
    assert_eq!(enc_line(&a0, "k"), enc_line(&a1, "k"));
    assert_eq!(enc_line(&a0, "lastmodified"), enc_line(&a1, "lastmodified"));
    // sops agrees the file is up to date.
    let o = fx.sops(&["updatekeys", "-y", "secrets/a.yaml"]);
    assert!(o.status.success());
    assert_eq!(fx.read("secrets/a.yaml"), a1);
    // A file nobody here can decrypt is reported; the others still proceed.
    fx.write("secrets/c.yaml", "k: x\n");
    let (_k3, p3) = keygen(&fx.path("k3.txt"));
    fx.spx_ok(&["encrypt", "--age", &p3, "-i", "secrets/c.yaml"]);
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/\n    age: {}\n",
            fx.public
        ),
    );
    let o = fx.spx(&["updatekeys", "-y"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("secrets/c.yaml"));
    let o = fx
        .sops_cmd(&["decrypt", "secrets/a.yaml"])
        .env("SOPS_AGE_KEY_FILE", &k2)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(128),
        "offboarded key no longer opens a.yaml"
    );
}

#[test]
fn exec_env_passes_values_in_environment_not_argv() {
    let fx = Fx::new();
    fx.write("p.yaml", "smtp:\n    password: s3cr3t-value\nPORT: 587\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
    let out = fx.spx_ok(&[
        "exec-env",
        "s.yaml",
        "--",
        "sh",
        "-c",
        "cat /proc/$$/cmdline; echo; echo \"$smtp_password:$PORT\"",
    ]);
    let out = String::from_utf8(out).unwrap();
    let mut lines = out.lines();
    assert!(!lines.next().unwrap().contains("s3cr3t"), "value in argv");
    assert_eq!(lines.next().unwrap(), "s3cr3t-value:587");
    // The child's exit code is spx's.
    assert_eq!(
        fx.spx(&["exec-env", "s.yaml", "exit 7"]).status.code(),
        Some(7)
    );
    // exec-file: a private file, removed afterwards.
    let out = String::from_utf8(fx.spx_ok(&[
        "exec-file",
        "s.yaml",
        "--",
        "sh",
        "-c",
        "stat -c %a {}; cat {}; echo {}",
    ]))
    .unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next().unwrap(), "600");
    assert!(out.contains("password: s3cr3t-value"));
    let path = out.lines().last().unwrap();
    assert!(!std::path::Path::new(path).exists(), "temp file removed");
}

#[test]
fn keygen_writes_private_identity_and_never_overwrites() {
    let fx = Fx::new();
    let o = fx
        .spx_cmd(&["keygen"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let public = String::from_utf8(o.stdout).unwrap();
    assert!(public.starts_with("age1") && !public.contains("SECRET"));
    let p = fx.path("home/.config/sops/age/keys.txt");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(p.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let text = std::fs::read_to_string(&p).unwrap();
    let o = fx
        .spx_cmd(&["keygen"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
    // The real age accepts the identity.
    let o = std::process::Command::new(tool("age-keygen"))
        .arg("-y")
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(o.stdout).unwrap(), public);
}

#[test]
fn encrypt_update_keeps_ciphertext_of_unchanged_values() {
    let fx = Fx::new();
    sops_file(&fx);
    let before = fx.read("s.yaml");
    fx.write("new.yaml", "# team secrets\nsmtp:\n    host: smtp.example.net\n    password: rotated\nport: 587\nadded: yes-string\n");
    fx.spx_ok(&["encrypt", "--update", "s.yaml", "new.yaml"]);
    let after = fx.read("s.yaml");
    assert_eq!(enc_line(&before, "host"), enc_line(&after, "host"));
    assert_eq!(enc_line(&before, "port"), enc_line(&after, "port"));
    assert_ne!(enc_line(&before, "password"), enc_line(&after, "password"));
    assert_eq!(
        String::from_utf8(fx.sops_ok(&["decrypt", "s.yaml"])).unwrap(),
        "# team secrets\nsmtp:\n    host: smtp.example.net\n    password: rotated\nport: 587\nadded: yes-string\n"
    );
    // Same content again: nothing written.
    let again = fx.read("s.yaml");
    fx.spx_ok(&["encrypt", "--update", "s.yaml", "new.yaml"]);
    assert_eq!(fx.read("s.yaml"), again);
}

#[test]
fn recipients_file_like_age() {
    let fx = Fx::new();
    let (k2, p2) = keygen(&fx.path("k2.txt"));
    fx.write(
        "recipients.txt",
        &format!("# the team\n{}\n\n{p2}\n", fx.public),
    );
    fx.write("p.yaml", "k: v\n");
    let enc = fx.spx_ok(&["encrypt", "-R", "recipients.txt", "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
    for key in [fx.key_file.clone(), k2] {
        let o = fx
            .sops_cmd(&["decrypt", "s.yaml"])
            .env("SOPS_AGE_KEY_FILE", &key)
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    fx.write("bad.txt", "age1notakey\n");
    let o = fx.spx(&["encrypt", "-R", "bad.txt", "p.yaml"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.txt:1"));
}

#[test]
fn exec_env_with_several_files_later_ones_override() {
    let fx = Fx::new();
    for (name, text) in [
        ("a", "SHARED: from-a\nONLY_A: a\n"),
        ("b", "SHARED: from-b\n"),
    ] {
        fx.write(&format!("{name}.plain.yaml"), text);
        let enc = fx.spx_ok(&[
            "encrypt",
            "--age",
            &fx.public,
            &format!("{name}.plain.yaml"),
        ]);
        std::fs::write(fx.path(&format!("{name}.yaml")), enc).unwrap();
    }
    let o = fx.spx(&[
        "-v",
        "exec-env",
        "-f",
        "a.yaml",
        "-f",
        "b.yaml",
        "--",
        "sh",
        "-c",
        "echo $SHARED $ONLY_A",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "from-b a\n");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("SHARED from b.yaml") && !err.contains("from-b"),
        "{err}"
    );
}

#[test]
fn vim_is_started_without_swap_backup_or_undo_files() {
    let fx = Fx::new();
    sops_file(&fx);
    let bin = fx.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // A fake vim: records its arguments, then edits the file (the last argument).
    let fake = bin.join("vim");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {}/vim-args\nfor f; do :; done\nsed -i 's/old-password/new-password/' \"$f\"\n", fx.dir.path().display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let o = fx
        .spx_cmd(&["-v", "edit", "s.yaml"])
        .env("PATH", &path)
        .env("EDITOR", "vim")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args = fx.read("vim-args");
    for want in [
        "-n",
        "-i",
        "NONE",
        "set nobackup nowritebackup noundofile noswapfile",
    ] {
        assert!(
            args.lines().any(|l| l == want),
            "vim did not get {want:?}: {args}"
        );
    }
    // --verbose says where the plaintext lives.
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("plaintext is in"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
