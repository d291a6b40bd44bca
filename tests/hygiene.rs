//! No command prints a secret value unless the user asked for it (decrypt, exec-env): every
//! command runs against a file holding a sentinel, and all of its output is searched for it.

mod common;
use common::*;
use std::io::Write;
use std::process::Stdio;

const SENTINEL: &str = "SENTINEL-5b1f0c2e";

fn check(fx: &Fx, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) {
    let mut c = fx.spx_cmd(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !all.contains(SENTINEL),
        "spx {args:?} printed the secret:\n{all}"
    );
    assert!(
        !all.contains(&SENTINEL[..12]),
        "spx {args:?} printed part of the secret:\n{all}"
    );
}

#[test]
fn no_command_prints_a_value_it_was_not_asked_for() {
    let fx = Fx::new();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n",
            fx.public
        ),
    );
    fx.write(
        "p.yaml",
        &format!("token: {SENTINEL}\nlist:\n    - {SENTINEL}\n"),
    );
    check(&fx, &["encrypt", "p.yaml"], &[], None);
    check(&fx, &["encrypt", "--output", "s.yaml", "p.yaml"], &[], None);
    check(&fx, &["-v", "filestatus", "s.yaml"], &[], None);
    check(&fx, &["set", "s.yaml", r#"["other"]"#, r#""x""#], &[], None);
    check(
        &fx,
        &["set", "--value-stdin", "s.yaml", r#"["again"]"#],
        &[],
        Some(&format!("\"{SENTINEL}\"")),
    );
    // Bad JSON holding the secret: the error must not echo it.
    check(
        &fx,
        &["set", "--value-stdin", "s.yaml", r#"["bad"]"#],
        &[],
        Some(&format!("{SENTINEL} not json")),
    );
    check(&fx, &["unset", "s.yaml", r#"["other"]"#], &[], None);
    check(&fx, &["rotate", "-i", "s.yaml"], &[], None);
    check(&fx, &["-v", "updatekeys", "-y"], &[], None);
    check(
        &fx,
        &["decrypt", "--extract", r#"["nope"]"#, "s.yaml"],
        &[],
        None,
    );
    check(&fx, &["exec-env", "s.yaml", "true"], &[], None);
    check(&fx, &["exec-file", "s.yaml", "true {}"], &[], None);
    // Editor sessions: a normal one (verbose), one that breaks the YAML around the secret,
    // one whose editor fails.
    let ed = fx.editor("ed.sh", "sed -i 's/other/renamed/' \"$1\"");
    check(&fx, &["-v", "edit", "s.yaml"], &[("EDITOR", &ed)], None);
    let ed = fx.editor(
        "bad.sh",
        &format!("printf 'token: [{SENTINEL}\\n  : :\\n' > \"$1\""),
    );
    check(&fx, &["edit", "s.yaml"], &[("EDITOR", &ed)], None);
    let ed = fx.editor(
        "dup.sh",
        &format!("printf 'token: {SENTINEL}\\ntoken: {SENTINEL}\\n' > \"$1\""),
    );
    check(&fx, &["edit", "s.yaml"], &[("EDITOR", &ed)], None);
    let ed = fx.editor("fail.sh", "exit 1");
    check(&fx, &["edit", "s.yaml"], &[("EDITOR", &ed)], None);
    // Failures: wrong key, tampered value, tampered MAC.
    let (other, _) = keygen(&fx.path("other.txt"));
    check(
        &fx,
        &["decrypt", "s.yaml"],
        &[("SOPS_AGE_KEY_FILE", other.to_str().unwrap())],
        None,
    );
    let text = fx.read("s.yaml");
    let re = regex::Regex::new(r#"lastmodified: "(\d{4})"#).unwrap();
    fx.write("t.yaml", &re.replace(&text, r#"lastmodified: "1999"#));
    check(&fx, &["decrypt", "t.yaml"], &[], None);
    check(&fx, &["log"], &[], None);
    // Decrypt does print it: the test can tell.
    let o = fx.spx_ok(&["decrypt", "s.yaml"]);
    assert!(String::from_utf8_lossy(&o).contains(SENTINEL));
}

#[test]
fn decrypt_mask_shows_hash_prefix_and_type_only() {
    let fx = Fx::new();
    fx.write(
        "p.yaml",
        &format!("token: {SENTINEL}\nport: 587\nempty: \"\"\n"),
    );
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
    let out = String::from_utf8(fx.spx_ok(&["decrypt", "--mask", "s.yaml"])).unwrap();
    assert!(!out.contains(SENTINEL));
    use sha2::Digest;
    let h = sha2::Sha256::digest(SENTINEL.as_bytes());
    let hex: String = h.iter().take(4).map(|b| format!("{b:02x}")).collect();
    assert!(out.contains(&format!("token: sha256:{hex} (str)")), "{out}");
    assert!(
        out.contains("(int)") && out.contains("empty: \"\""),
        "{out}"
    );
}

#[test]
fn an_identity_file_readable_by_others_gives_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fx::new();
    fx.write("p.yaml", "a: 1\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
    for (mode, warned) in [(0o600, false), (0o640, true), (0o644, true), (0o400, false)] {
        std::fs::set_permissions(&fx.key_file, std::fs::Permissions::from_mode(mode)).unwrap();
        let o = fx.spx(&["decrypt", "s.yaml"]);
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            err.contains("readable by others") && err.contains("chmod 600"),
            warned,
            "mode {mode:o}: {err}"
        );
        assert!(!err.contains("AGE-SECRET-KEY"));
    }
}

#[test]
fn verbose_edit_says_where_the_plaintext_is_and_whether_that_is_tmpfs() {
    let fx = Fx::new();
    fx.write("p.yaml", "a: 1\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
    let ed = fx.editor("ed.sh", "sed -i 's/1/2/' \"$1\"");
    let tmpfs = std::process::Command::new("stat")
        .args(["-f", "-c", "%T", "/dev/shm"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "tmpfs")
        .unwrap_or(false);
    let disk = fx.path("disk-tmp");
    std::fs::create_dir_all(&disk).unwrap();
    let disk_is_tmpfs = std::process::Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(&disk)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "tmpfs")
        .unwrap();
    for (dir, on_tmpfs) in [(None, tmpfs), (Some(&disk), disk_is_tmpfs)] {
        let mut c = fx.spx_cmd(&["-v", "edit", "s.yaml"]);
        c.env("EDITOR", &ed).env_remove("XDG_RUNTIME_DIR");
        if let Some(d) = dir {
            c.env("SPX_TMPDIR", d);
        }
        let o = c.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let line = err
            .lines()
            .find(|l| l.contains("plaintext is in"))
            .unwrap_or_else(|| panic!("no location line: {err}"));
        match dir {
            Some(d) => assert!(line.contains(&d.display().to_string()), "{line}"),
            None if on_tmpfs => assert!(line.contains("/dev/shm/"), "{line}"),
            None => {}
        }
        assert_eq!(line.contains("memory-backed tmpfs"), on_tmpfs, "{line}");
        assert!(line.contains("0600") && line.contains("0700"), "{line}");
    }
}

#[test]
fn core_dumps_are_off_while_plaintext_is_held() {
    // The editor inherits spx's limits: while the plaintext is open, a core dump is refused.
    let fx = Fx::new();
    fx.write("p.yaml", "a: 1\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), enc).unwrap();
    let out = fx.path("limits.txt");
    let ed = fx.editor(
        "ed.sh",
        &format!("grep -i 'core file' /proc/$$/limits > '{}'", out.display()),
    );
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(200),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let limits = std::fs::read_to_string(&out).unwrap();
    let fields: Vec<&str> = limits.split_whitespace().collect();
    // "Max core file size  <soft>  <hard>  bytes"
    assert_eq!(&fields[4..6], ["0", "0"], "{limits}");
}
