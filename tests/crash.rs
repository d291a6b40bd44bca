//! Crash safety: `spx set` / `spx updatekeys` / `spx edit` killed with SIGKILL at many points
//! leave the secrets file either as it was or as it would be — it always parses, decrypts and
//! its MAC holds — and no plaintext file survives outside the private temp directory.
//! Concurrency: two writers on one file never interleave.

mod common;
use common::*;
use std::time::Duration;

fn big_file(fx: &Fx) -> String {
    let mut s = String::new();
    for i in 0..3000 {
        s.push_str(&format!("key_{i}: value-{i}-abcdefghijklmnopqrstuvwxyz\n"));
    }
    fx.write("p.yaml", &s);
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("s.yaml"), &enc).unwrap();
    s
}

fn kill9(pid: u32) {
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
}

fn assert_consistent(fx: &Fx, round: usize) -> String {
    let o = fx.spx(&["decrypt", "s.yaml"]);
    assert!(
        o.status.success(),
        "round {round}: file broken: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Next to the secrets file there is the lock file and at most the temp file of a writer
    // killed before its rename: ciphertext only (the next writer removes it).
    for e in std::fs::read_dir(fx.dir.path()).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        if name.contains(".spx-") && !name.ends_with(".spx-lock") {
            assert!(
                name.starts_with(".s.yaml.spx-"),
                "round {round}: leftover {name}"
            );
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            assert!(
                !text.contains("abcdefghijklmnopqrstuvwxyz") && !text.contains("round-"),
                "round {round}: plaintext in leftover {name}"
            );
        }
    }
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn sigkill_during_set_never_corrupts_the_file() {
    let fx = Fx::new();
    big_file(&fx);
    // How long one uninterrupted set takes here; kills are spread over 0..1.2× that.
    let t = std::time::Instant::now();
    fx.spx_ok(&["set", "s.yaml", r#"["key_0"]"#, "\"timed\""]);
    let full = t.elapsed().as_micros() as u64;
    let mut prev = assert_consistent(&fx, 0);
    let mut changed = 0;
    let mut unchanged = 0;
    // 25 kills spread over 0..1.2× the calibrated time; on a loaded machine a set can take far
    // longer than the calibration run, so the window widens (×2, ×4) until a kill has landed
    // both before and after the write.
    for round in 0..75 {
        if round >= 25 && changed > 0 && unchanged > 0 {
            break;
        }
        let scale = 1u64 << (round / 25);
        let mut child = fx
            .spx_cmd(&[
                "set",
                "s.yaml",
                r#"["key_1"]"#,
                &format!("\"round-{round}\""),
            ])
            .spawn()
            .unwrap();
        let step = (round % 25) as u64;
        std::thread::sleep(Duration::from_micros(full * scale * 12 * step / 250));
        kill9(child.id());
        let _ = child.wait();
        let now = assert_consistent(&fx, round);
        if now != prev {
            changed += 1;
        } else {
            unchanged += 1;
        }
        assert!(
            now.lines().count() == 3000,
            "round {round}: wrong number of keys"
        );
        prev = now;
    }
    // Whatever a killed writer left, the next writer (holding the lock) removes.
    fx.spx_ok(&["set", "s.yaml", r#"["key_2"]"#, "\"after\""]);
    for e in std::fs::read_dir(fx.dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            !name.contains(".spx-") || name.ends_with(".spx-lock"),
            "leftover {name} after a clean set"
        );
    }
    // Some kills landed after the write and some before: both outcomes were exercised.
    assert!(
        changed > 0 && unchanged > 0,
        "kills landed only {} the write ({changed} changed, {unchanged} unchanged): the kill window is wrong",
        if changed == 0 { "before" } else { "after" }
    );
}

#[test]
fn sigkill_during_edit_leaves_old_or_new_and_no_plaintext_outside_private_dir() {
    let fx = Fx::new();
    big_file(&fx);
    let tmp = fx.path("private");
    std::fs::create_dir_all(&tmp).unwrap();
    let ed = fx.editor("ed.sh", "sed -i 's/value-1-/VALUE-1-/' \"$1\"");
    for round in 0..10 {
        let mut child = fx
            .spx_cmd(&["edit", "s.yaml"])
            .env("EDITOR", &ed)
            .env("SPX_TMPDIR", &tmp)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros((round as u64 * 3331) % 40_000));
        kill9(child.id());
        let _ = child.wait();
        assert_consistent(&fx, round);
        // SIGKILL cannot be caught: a private dir may remain, but only inside SPX_TMPDIR
        // (tmpfs in real use), 0700, and nowhere else.
        for e in std::fs::read_dir(&tmp).unwrap() {
            let p = e.unwrap().path();
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o700
            );
            std::fs::remove_dir_all(&p).unwrap();
        }
    }
}

#[test]
fn two_concurrent_setters_never_interleave() {
    let fx = Fx::new();
    big_file(&fx);
    let a = fx
        .spx_cmd(&["set", "s.yaml", r#"["a"]"#, r#""from-a""#])
        .spawn()
        .unwrap();
    let b = fx
        .spx_cmd(&["set", "s.yaml", r#"["b"]"#, r#""from-b""#])
        .spawn()
        .unwrap();
    assert!(a.wait_with_output().unwrap().status.success());
    assert!(b.wait_with_output().unwrap().status.success());
    // Both writes happened: the second waited for the first instead of overwriting it.
    let out = assert_consistent(&fx, 0);
    assert!(
        out.contains("a: from-a") && out.contains("b: from-b"),
        "a write was lost"
    );
}

fn git(fx: &Fx, args: &[&str]) {
    let o = std::process::Command::new("git")
        .args(args)
        .current_dir(fx.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}");
}

fn log_rows(fx: &Fx) -> Vec<String> {
    std::fs::read_to_string(fx.path("docs/secrets-rotation-log.md"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("| 2"))
        .map(str::to_string)
        .collect()
}

#[test]
fn sigkill_during_updatekeys_leaves_old_or_new_recipients() {
    let fx = Fx::new();
    big_file(&fx);
    let (_bk, bob) = keygen(&fx.path("bob.txt"));
    let rule = |with_bob: bool| {
        let keys = if with_bob {
            format!("{},{bob}", fx.public)
        } else {
            fx.public.clone()
        };
        fx.write(
            ".sops.yaml",
            &format!("creation_rules:\n  - path_regex: s\\.yaml$\n    age: {keys}\n"),
        );
    };
    let t = std::time::Instant::now();
    rule(true);
    fx.spx_ok(&["updatekeys", "-y", "s.yaml"]);
    let full = t.elapsed().as_micros() as u64;
    let mut outcomes = (0, 0);
    for round in 0..40 {
        // Each round asks for the other recipient set, so every run has work to do.
        let before = fx.read("s.yaml").contains(&bob);
        rule(!before);
        let mut child = fx.spx_cmd(&["updatekeys", "-y", "s.yaml"]).spawn().unwrap();
        let scale = 1 + round as u64 / 20;
        std::thread::sleep(Duration::from_micros(
            full * scale * (round as u64 % 20) / 16,
        ));
        kill9(child.id());
        let _ = child.wait();
        assert_consistent(&fx, round);
        let after = fx.read("s.yaml").contains(&bob);
        if after == before {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
    }
    assert!(
        outcomes.0 > 0 && outcomes.1 > 0,
        "kills landed only on one side of the write: {outcomes:?}"
    );
}

#[test]
fn concurrent_setters_log_exactly_their_writes() {
    let fx = Fx::new();
    git(&fx, &["init", "-q"]);
    git(&fx, &["config", "user.name", "Writer"]);
    git(&fx, &["config", "user.email", "w@example.net"]);
    big_file(&fx);
    let before = log_rows(&fx).len();
    let kids: Vec<_> = (0..4)
        .map(|i| {
            fx.spx_cmd(&[
                "set",
                "--reason",
                &format!("writer {i}"),
                "s.yaml",
                &format!(r#"["w{i}"]"#),
                &format!(r#""v{i}""#),
            ])
            .spawn()
            .unwrap()
        })
        .collect();
    for k in kids {
        assert!(k.wait_with_output().unwrap().status.success());
    }
    let out = assert_consistent(&fx, 0);
    let rows = log_rows(&fx);
    assert_eq!(rows.len() - before, 4, "{rows:#?}");
    for i in 0..4 {
        assert!(out.contains(&format!("w{i}: v{i}")), "write {i} lost");
        assert_eq!(
            rows.iter()
                .filter(|r| r.contains(&format!("| w{i} | added | writer {i} |")))
                .count(),
            1,
            "{rows:#?}"
        );
    }
    let o = fx.spx(&["log", "verify"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn set_waits_for_an_open_editor_and_both_changes_land_and_are_logged() {
    let fx = Fx::new();
    git(&fx, &["init", "-q"]);
    git(&fx, &["config", "user.name", "Writer"]);
    git(&fx, &["config", "user.email", "w@example.net"]);
    big_file(&fx);
    let marker = fx.path("editor-open");
    let ed = fx.editor(
        "slow.sh",
        &format!(
            "touch '{}'; sleep 1; sed -i 's/value-7-/EDITED-7-/' \"$1\"",
            marker.display()
        ),
    );
    let edit = fx
        .spx_cmd(&["edit", "--reason", "by editor", "s.yaml"])
        .env("EDITOR", &ed)
        .spawn()
        .unwrap();
    while !marker.exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The editor is open and holds the file: set waits for it rather than overwriting.
    let set = fx.spx_ok(&[
        "set",
        "--reason",
        "by set",
        "s.yaml",
        r#"["key_9"]"#,
        r#""SET-9""#,
    ]);
    assert!(set.is_empty());
    assert!(edit.wait_with_output().unwrap().status.success());
    let out = assert_consistent(&fx, 0);
    assert!(
        out.contains("key_7: EDITED-7-") && out.contains("key_9: SET-9"),
        "a write was lost"
    );
    let rows = log_rows(&fx);
    assert!(rows
        .iter()
        .any(|r| r.contains("| key_7 | changed | by editor |")));
    assert!(rows
        .iter()
        .any(|r| r.contains("| key_9 | changed | by set |")));
    // A second editor is refused at once, clearly, with sops's code for a locked file.
    let ed2 = fx.editor(
        "slow2.sh",
        &format!("touch '{}.2'; sleep 1", marker.display()),
    );
    let first = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed2)
        .spawn()
        .unwrap();
    let m2 = fx.path("editor-open.2");
    while !m2.exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let o = fx
        .spx_cmd(&["edit", "s.yaml"])
        .env("EDITOR", &ed2)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(75));
    assert!(String::from_utf8_lossy(&o.stderr).contains("s.yaml"));
    let _ = first.wait_with_output();
}
