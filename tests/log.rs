//! The rotation log against real git repositories: rows appended and verified, tampering
//! detected (chain and comparison with HEAD), stale ordering, concurrent appenders, and no value
//! ever reaching the log. Needs the `git` CLI (fails, does not skip, without it).

use spx::commands::log::{run_at, ListArgs, LogArgs, LogCommand, OutputFormat, StaleArgs};
use spx::log::{self, table, Action, Change, HeadCheck, Rotation, Row};
use spx::tree::{Document, Map, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const LOG: &str = "docs/secrets-rotation-log.md";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("the git CLI must be installed to run these tests");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh repository with a committed README and a set identity.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["config", "user.name", "Test Rotator"]);
    git(&root, &["config", "user.email", "rotator@example.com"]);
    git(&root, &["config", "commit.gpgsign", "false"]);
    std::fs::write(root.join("README.md"), "repo\n").unwrap();
    git(&root, &["add", "README.md"]);
    git(&root, &["commit", "-q", "-m", "init"]);
    (dir, root)
}

fn commit_log(root: &Path, msg: &str) {
    git(root, &["add", LOG]);
    git(root, &["commit", "-q", "-m", msg]);
}

fn doc(pairs: Vec<(&str, Value)>) -> Document {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.push(k, v);
    }
    m
}

fn rows(root: &Path, file: &str, keys: &[&str], reason: &str) -> Vec<Row> {
    let rot = Rotation {
        reason: reason.into(),
        rotator: log::rotator(root),
    };
    let changes: Vec<Change> = keys
        .iter()
        .map(|k| Change {
            key: k.to_string(),
            action: Action::Changed,
        })
        .collect();
    log::rows_for(file, &changes, &rot, log::now())
}

fn read(root: &Path) -> String {
    std::fs::read_to_string(root.join(LOG)).unwrap()
}

fn write(root: &Path, text: &str) {
    std::fs::write(root.join(LOG), text).unwrap()
}

/// The log's lines, and the index of the first table row (after header and separator).
fn lines(root: &Path) -> (Vec<String>, usize) {
    let l: Vec<String> = read(root).lines().map(String::from).collect();
    let first = l.iter().position(|x| x.starts_with("| 20")).unwrap();
    (l, first)
}

fn verify(root: &Path) -> log::VerifyReport {
    log::verify(&root.join(LOG), root).unwrap()
}

/// A log with `n` rows, committed.
fn committed_log(n: usize) -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = repo();
    let keys: Vec<String> = (0..n).map(|i| format!("key{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    log::append(
        &root.join(LOG),
        &rows(&root, "secrets/shared.sops.yaml", &keys, "setup"),
    )
    .unwrap();
    commit_log(&root, "log");
    (dir, root)
}

#[test]
fn rows_from_a_tree_diff_are_appended_with_git_rotator_and_verify() {
    let (_d, root) = repo();
    let before = doc(vec![(
        "smtp",
        Value::Map(doc(vec![
            ("host", Value::str("mail")),
            ("password", Value::str("old")),
        ])),
    )]);
    let after = doc(vec![
        (
            "smtp",
            Value::Map(doc(vec![
                ("host", Value::str("mail")),
                ("password", Value::str("new")),
            ])),
        ),
        ("hosts", Value::List(vec![Value::str("a"), Value::str("b")])),
    ]);
    let changes = log::diff_documents(&[before], &[after]);
    let rot = Rotation {
        reason: "quarterly rotation".into(),
        rotator: log::rotator(&root),
    };
    assert_eq!(rot.rotator, "Test Rotator <rotator@example.com>");
    let rows = log::rows_for("secrets/shared.sops.yaml", &changes, &rot, log::now());
    log::append(&root.join(LOG), &rows).unwrap();

    let text = read(&root);
    assert!(text.contains("| smtp.password | changed | quarterly rotation | Test Rotator &lt;rotator@example.com&gt; |"));
    assert!(text.contains("| hosts[0] | added |"));
    assert!(text.contains("| hosts[1] | added |"));
    let parsed = table::parse(&text);
    assert_eq!(parsed.entries.len(), 3);
    assert_eq!(
        parsed.entries[0].rotator.as_deref(),
        Some("Test Rotator <rotator@example.com>")
    );

    let r = verify(&root);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!(r.head, HeadCheck::NotTracked);
    assert_eq!((r.rows, r.chained), (3, 3));

    // commit, append more: a pure append of HEAD passes
    commit_log(&root, "log");
    log::append(&root.join(LOG), &rows_again(&root)).unwrap();
    let r = verify(&root);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!(r.head, HeadCheck::Compared { head_rows: 3 });
    assert_eq!(r.rows, 4);
}

fn rows_again(root: &Path) -> Vec<Row> {
    rows(
        root,
        "secrets/vps-i1.sops.yaml",
        &["db.password"],
        "offboarding",
    )
}

#[test]
fn an_edit_that_changes_nothing_writes_no_row() {
    let (_d, root) = repo();
    let d = doc(vec![("a", Value::str("v"))]);
    let changes = log::diff_documents(std::slice::from_ref(&d), std::slice::from_ref(&d));
    assert!(changes.is_empty());
    let rows = log::rows_for(
        "s.yaml",
        &changes,
        &Rotation {
            reason: "r".into(),
            rotator: "me".into(),
        },
        log::now(),
    );
    log::append(&root.join(LOG), &rows).unwrap();
    assert!(!root.join(LOG).exists(), "no rows, no log file");
}

#[test]
fn verify_fails_on_a_changed_row() {
    let (_d, root) = committed_log(4);
    let (mut l, first) = lines(&root);
    l[first + 1] = l[first + 1].replace("| setup |", "| cover-up |");
    write(&root, &(l.join("\n") + "\n"));
    let r = verify(&root);
    assert!(!r.is_ok());
    let msgs: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("chain digest does not match")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("not a pure append of HEAD")),
        "{msgs:?}"
    );
    // the edited row's line is named
    assert!(
        r.problems.iter().any(|p| p.line == Some(first + 2)),
        "{msgs:?}"
    );
}

#[test]
fn verify_fails_on_a_deleted_row() {
    let (_d, root) = committed_log(4);
    let (mut l, first) = lines(&root);
    l.remove(first + 1);
    write(&root, &(l.join("\n") + "\n"));
    let r = verify(&root);
    assert!(!r.is_ok());
    assert!(r
        .problems
        .iter()
        .any(|p| p.message.contains("chain digest")));
    assert!(r.problems.iter().any(|p| p.message.contains("HEAD")));
}

#[test]
fn verify_fails_on_deleting_the_last_committed_row() {
    // the chain cannot see a truncated tail; the comparison with HEAD does
    let (_d, root) = committed_log(3);
    let (mut l, _) = lines(&root);
    l.pop();
    write(&root, &(l.join("\n") + "\n"));
    let r = verify(&root);
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(r.problems[0].message.contains("was removed"));
}

#[test]
fn verify_fails_on_reordered_rows() {
    let (_d, root) = committed_log(4);
    let (mut l, first) = lines(&root);
    l.swap(first + 1, first + 2);
    write(&root, &(l.join("\n") + "\n"));
    let r = verify(&root);
    assert!(!r.is_ok());
    assert!(r
        .problems
        .iter()
        .any(|p| p.message.contains("chain digest")));
    assert!(r
        .problems
        .iter()
        .any(|p| p.message.contains("out of place")));
}

#[test]
fn verify_fails_on_a_row_inserted_in_the_middle_even_with_recomputed_chain() {
    let (_d, root) = committed_log(3);
    let (mut l, first) = lines(&root);
    // a forger inserts a row and recomputes every digest after it
    l.insert(
        first + 1,
        "| 2026-01-01T00:00:00Z | secrets/shared.sops.yaml | key9 | changed | backdated | someone | |".into(),
    );
    let mut prev = table::GENESIS.to_string();
    for line in l.iter_mut().skip(first) {
        let cells = table::split_cells(line).unwrap();
        let canonical = table::render_cells(&cells[..6]);
        let chain = table::chain_digest(&prev, &canonical);
        let mut seven: Vec<&str> = cells[..6].iter().map(String::as_str).collect();
        seven.push(&chain);
        *line = table::render_cells(&seven);
        prev = chain;
    }
    write(&root, &(l.join("\n") + "\n"));
    let r = verify(&root);
    // the chain is consistent again, but HEAD's rows are no longer the prefix
    assert!(
        !r.problems
            .iter()
            .any(|p| p.message.contains("chain digest")),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems
            .iter()
            .any(|p| p.message.contains("not a pure append of HEAD")),
        "{:?}",
        r.problems
    );

    // and an uncommitted insertion without recomputing fails the chain too
    let (_d2, root2) = repo();
    log::append(
        &root2.join(LOG),
        &rows(&root2, "s.yaml", &["a", "b", "c"], "x"),
    )
    .unwrap();
    let (mut l, first) = lines(&root2);
    l.insert(
        first + 1,
        "| 2026-01-01T00:00:00Z | s.yaml | z | changed | x | me | |".into(),
    );
    write(&root2, &(l.join("\n") + "\n"));
    let r = verify(&root2);
    assert!(
        r.problems
            .iter()
            .any(|p| p.message.contains("no chain digest")),
        "{:?}",
        r.problems
    );
}

#[test]
fn verify_fails_when_heads_rows_are_not_a_prefix() {
    let (_d, root) = committed_log(2);
    // replace the whole file with a freshly chained, internally valid log
    std::fs::remove_file(root.join(LOG)).unwrap();
    log::append(
        &root.join(LOG),
        &rows(&root, "other.yaml", &["x", "y", "z"], "rewrite"),
    )
    .unwrap();
    let r = verify(&root);
    assert!(!r
        .problems
        .iter()
        .any(|p| p.message.contains("chain digest")));
    assert_eq!(
        r.problems
            .iter()
            .filter(|p| p.message.contains("not a pure append of HEAD"))
            .count(),
        2,
        "{:?}",
        r.problems
    );
    // a deleted log that HEAD holds fails too
    std::fs::remove_file(root.join(LOG)).unwrap();
    let r = verify(&root);
    assert!(r
        .problems
        .iter()
        .any(|p| p.message.contains("log is missing")));
}

#[test]
fn verify_passes_on_a_pure_append_of_several_commits() {
    let (_d, root) = committed_log(2);
    for i in 0..3 {
        log::append(
            &root.join(LOG),
            &rows(&root, "a.yaml", &[&format!("k{i}")], "r"),
        )
        .unwrap();
        commit_log(&root, &format!("more {i}"));
    }
    log::append(
        &root.join(LOG),
        &rows(&root, "a.yaml", &["uncommitted"], "r"),
    )
    .unwrap();
    let r = verify(&root);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!(r.head, HeadCheck::Compared { head_rows: 5 });
    assert_eq!(r.rows, 6);
}

#[test]
fn hand_written_history_is_kept_and_the_chain_starts_after_it() {
    let (_d, root) = repo();
    let legacy = "# Secrets rotation log\n\n| Date | Secret | Reason | Rotator |\n|------|--------|--------|---------|\n| 2025-03-01 | smtp_password | quarterly | alice |\n| 2025-06-01 | db_password | leak | bob |\n";
    std::fs::create_dir_all(root.join("docs")).unwrap();
    write(&root, legacy);
    commit_log(&root, "legacy");
    log::append(
        &root.join(LOG),
        &rows(
            &root,
            "secrets/shared.sops.yaml",
            &["smtp_password"],
            "quarterly",
        ),
    )
    .unwrap();
    let text = read(&root);
    assert!(
        text.starts_with(legacy.trim_end()),
        "legacy text kept byte for byte"
    );
    let r = verify(&root);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!((r.rows, r.chained, r.unchained), (3, 1, 2));
    // editing the committed hand-written history is caught by the HEAD comparison
    write(&root, &text.replace("| leak |", "| routine |"));
    let r = verify(&root);
    assert!(
        r.problems
            .iter()
            .any(|p| p.message.contains("not a pure append")),
        "{:?}",
        r.problems
    );
}

#[test]
fn stale_orders_by_last_change_never_logged_first() {
    let (_d, root) = repo();
    let path = root.join(LOG);
    let at = |d: &str| table::parse_date(d).unwrap();
    let rot = Rotation {
        reason: "r".into(),
        rotator: "me".into(),
    };
    let change = |k: &str| Change {
        key: k.into(),
        action: Action::Changed,
    };
    log::append(
        &path,
        &log::rows_for("a.yaml", &[change("old")], &rot, at("2026-01-01T00:00:00Z")),
    )
    .unwrap();
    log::append(
        &path,
        &log::rows_for("a.yaml", &[change("mid")], &rot, at("2026-06-01T00:00:00Z")),
    )
    .unwrap();
    log::append(
        &path,
        &log::rows_for("b.yaml", &[change("new")], &rot, at("2026-11-01T00:00:00Z")),
    )
    .unwrap();
    log::append(
        &path,
        &log::rows_for("a.yaml", &[change("old")], &rot, at("2025-12-01T00:00:00Z")),
    )
    .unwrap();
    let keys: Vec<(String, String)> = [
        ("a.yaml", "old"),
        ("b.yaml", "new"),
        ("a.yaml", "mid"),
        ("c.yaml", "never"),
    ]
    .iter()
    .map(|(f, k)| (f.to_string(), k.to_string()))
    .collect();
    let entries = table::parse(&read(&root)).entries;
    let now = at("2026-11-23T00:00:00Z");
    let out = log::stale(&entries, &keys, log::parse_duration("90d").unwrap(), now);
    let order: Vec<&str> = out.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(order, vec!["never", "old", "mid", "new"]);
    assert_eq!(
        out.iter().map(|e| e.stale).collect::<Vec<_>>(),
        vec![true, true, true, false]
    );
    assert_eq!(
        out[1].last_changed,
        Some(at("2026-01-01T00:00:00Z")),
        "newest row wins"
    );

    // through the command, as text and JSON
    let args = LogArgs {
        command: Some(LogCommand::Stale(StaleArgs {
            older_than: "90d".into(),
            format: OutputFormat::Text,
        })),
        log_path: None,
        list: ListArgs::default(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        run_at(&args, &root, &path, Some(&keys), &mut out, &mut err, now).unwrap(),
        0
    );
    let text = String::from_utf8(out).unwrap();
    let body: Vec<&str> = text.lines().skip(1).take(4).collect();
    assert!(
        body[0].starts_with("never")
            && body[0].contains("STALE")
            && body[0].ends_with("c.yaml  never"),
        "{text}"
    );
    assert!(
        body[3].contains("2026-11-01T00:00:00Z") && !body[3].contains("STALE"),
        "{text}"
    );
    assert!(
        text.contains("3 of 4 secret(s) not changed within 90 days"),
        "{text}"
    );
}

#[test]
fn listing_filters_and_json() {
    let (_d, root) = repo();
    let path = root.join(LOG);
    log::append(
        &path,
        &rows(
            &root,
            "secrets/a.yaml",
            &["smtp.password", "smtp.user"],
            "r1",
        ),
    )
    .unwrap();
    log::append(&path, &rows(&root, "secrets/b.yaml", &["api_key"], "r2")).unwrap();
    let run = |list: ListArgs| {
        let args = LogArgs {
            command: None,
            log_path: None,
            list,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_at(&args, &root, &path, None, &mut out, &mut err, log::now()).unwrap();
        assert_eq!(code, 0);
        String::from_utf8(out).unwrap()
    };
    let all = run(ListArgs::default());
    assert_eq!(all.lines().count(), 4, "{all}");
    let a = run(ListArgs {
        file: Some("secrets/a.yaml".into()),
        ..Default::default()
    });
    assert_eq!(a.lines().count(), 3, "{a}");
    let k = run(ListArgs {
        key: Some("smtp".into()),
        format: OutputFormat::Json,
        ..Default::default()
    });
    assert!(
        k.starts_with("[{") && k.matches("\"key\":").count() == 2,
        "{k}"
    );
    assert!(
        k.contains("\"rotator\":\"Test Rotator <rotator@example.com>\""),
        "{k}"
    );
    let none = run(ListArgs {
        since: Some("2999-01-01".into()),
        ..Default::default()
    });
    assert_eq!(none.lines().count(), 1, "header only: {none}");
}

#[test]
fn verify_command_exits_1_with_one_line_per_problem() {
    let (_d, root) = committed_log(3);
    let path = root.join(LOG);
    let args = LogArgs {
        command: Some(LogCommand::Verify),
        log_path: None,
        list: ListArgs::default(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        run_at(&args, &root, &path, None, &mut out, &mut err, log::now()).unwrap(),
        0
    );
    assert!(String::from_utf8(out).unwrap().starts_with("ok: "));

    let (mut l, first) = lines(&root);
    l[first] = l[first].replace("key0", "keyX");
    write(&root, &(l.join("\n") + "\n"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        run_at(&args, &root, &path, None, &mut out, &mut err, log::now()).unwrap(),
        1
    );
    let err = String::from_utf8(err).unwrap();
    let line_no = first + 1;
    assert!(
        err.contains(&format!(
            "{}:{line_no}: chain digest does not match",
            path.display()
        )),
        "{err}"
    );
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("FAILED: 2 problem(s)"),
        "{err}"
    );
}

#[test]
fn concurrent_appenders_in_threads_all_land_and_chain() {
    let (_d, root) = repo();
    let path = root.join(LOG);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let rot = Rotation {
                        reason: format!("thread {t}"),
                        rotator: "me".into(),
                    };
                    let change = Change {
                        key: format!("t{t}.k{i}"),
                        action: Action::Changed,
                    };
                    log::append(
                        &path,
                        &log::rows_for(&format!("f{t}.yaml"), &[change], &rot, log::now()),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let r = verify(&root);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!(r.chained, 40);
    let text = read(&root);
    for t in 0..4 {
        for i in 0..10 {
            assert!(text.contains(&format!("| t{t}.k{i} |")));
        }
    }
    assert_eq!(text.matches("| date (UTC) |").count(), 1);
}

/// Helper for the multi-process test: appends rows when run as a child with SPX_LOG_CHILD set.
#[test]
#[ignore = "helper: run only as a child process by concurrent_appenders_in_processes_all_land"]
fn child_appender() {
    let path = PathBuf::from(std::env::var("SPX_LOG_CHILD").expect("run by the parent test"));
    let id = std::env::var("SPX_LOG_CHILD_ID").unwrap();
    for i in 0..15 {
        let rot = Rotation {
            reason: "process".into(),
            rotator: format!("p{id}"),
        };
        let change = Change {
            key: format!("p{id}.k{i}"),
            action: Action::Changed,
        };
        log::append(
            &path,
            &log::rows_for(&format!("secrets/p{id}.yaml"), &[change], &rot, log::now()),
        )
        .unwrap();
    }
}

#[test]
fn concurrent_appenders_in_processes_all_land() {
    let (_d, root) = repo();
    let path = root.join(LOG);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|id| {
            Command::new(&exe)
                .args(["--exact", "child_appender", "--ignored", "--test-threads=1"])
                .env("SPX_LOG_CHILD", &path)
                .env("SPX_LOG_CHILD_ID", id.to_string())
                .output_spawn()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child ran the helper"
        );
    }
    let r = verify(&root);
    assert!(r.is_ok(), "{:?}", r.problems);
    assert_eq!(r.chained, 45);
}

trait SpawnPiped {
    fn output_spawn(&mut self) -> std::process::Child;
}
impl SpawnPiped for Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn two_phase_append_aborts_cleanly_and_holds_the_lock_until_commit() {
    let (_d, root) = repo();
    let path = root.join(LOG);
    log::append(&path, &rows(&root, "a.yaml", &["first"], "r")).unwrap();
    let before = read(&root);

    // the secrets write "fails": the pending rows vanish, no temp file is left
    let pending = log::prepare_append(&path, &rows(&root, "a.yaml", &["failed"], "r")).unwrap();
    drop(pending);
    assert_eq!(read(&root), before);
    let leftovers: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let aborted = log::prepare_append(&path, &rows(&root, "a.yaml", &["failed2"], "r")).unwrap();
    aborted.abort();
    assert_eq!(read(&root), before);

    // while one command holds a prepared append, another appender waits for it
    let pending = log::prepare_append(&path, &rows(&root, "a.yaml", &["held"], "r")).unwrap();
    assert_eq!(read(&root), before, "nothing visible before commit");
    let p2 = path.clone();
    let other = std::thread::spawn(move || {
        let rot = Rotation {
            reason: "r".into(),
            rotator: "other".into(),
        };
        let c = Change {
            key: "waited".into(),
            action: Action::Added,
        };
        log::append(&p2, &log::rows_for("b.yaml", &[c], &rot, log::now())).unwrap();
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        read(&root),
        before,
        "the other appender is blocked on the lock"
    );
    pending.commit().unwrap();
    other.join().unwrap();
    let text = read(&root);
    let held = text.find("| held |").unwrap();
    let waited = text.find("| waited |").unwrap();
    assert!(held < waited);
    assert!(!text.contains("failed"));
    assert!(verify(&root).is_ok());
    assert!(root.join("docs/.secrets-rotation-log.md.lock").exists());
}

#[test]
fn no_row_contains_any_part_of_a_value() {
    use sha2::Digest;
    let (_d, root) = repo();
    let sentinel = "S3ntinel-9f8e7d6c5b4a-value";
    let old = "0ldS3cret-a1b2c3d4e5f6";
    let before = doc(vec![
        ("smtp", Value::Map(doc(vec![("password", Value::str(old))]))),
        ("gone", Value::str(old)),
        ("hosts", Value::List(vec![Value::str(old)])),
    ]);
    let after = doc(vec![
        (
            "smtp",
            Value::Map(doc(vec![("password", Value::str(sentinel))])),
        ),
        ("fresh", Value::str(sentinel)),
        (
            "hosts",
            Value::List(vec![Value::str(sentinel), Value::str(old)]),
        ),
    ]);
    let changes = log::diff_documents(&[before], &[after]);
    assert_eq!(changes.len(), 4, "{changes:?}");
    let rot = Rotation {
        reason: "rotation".into(),
        rotator: log::rotator(&root),
    };
    log::append(
        &root.join(LOG),
        &log::rows_for("secrets/s.sops.yaml", &changes, &rot, log::now()),
    )
    .unwrap();
    let text = read(&root);
    for secret in [sentinel, old] {
        let chars: Vec<char> = secret.chars().collect();
        for w in chars.windows(6) {
            let part: String = w.iter().collect();
            assert!(
                !text.contains(&part),
                "log contains part of a value: {part:?}"
            );
        }
        let hash = sha2::Sha256::digest(secret.as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            !text.contains(&hex[..8]),
            "log contains a hash prefix of a value"
        );
    }
    assert!(text.contains("| smtp.password | changed |"));
    assert!(text.contains("| gone | removed |"));
    assert!(text.contains("| fresh | added |"));
    assert!(text.contains("| hosts[0] | added |"));
}
