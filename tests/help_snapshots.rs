//! Snapshots of `spx --help` and of `spx CMD --help` for every subcommand, nested ones included
//! (`spx log stale --help`), stored as plain text under tests/snapshots/help/<name>.txt, where
//! <name> is the command path joined with `_` (`log_stale.txt`; the top level is `spx.txt`).
//!
//! The list of commands comes from clap (`spx::cli::Cli::command()`), so a new subcommand without
//! a snapshot fails, as does a snapshot left behind by a removed one. Help is rendered with
//! COLUMNS=100 and no colour.
//!
//! After an intended change to the help text, regenerate the snapshots and review the diff:
//!
//!     SPX_UPDATE_SNAPSHOTS=1 cargo test --test help_snapshots
//!     git diff tests/snapshots/help
//!
//! Besides matching its snapshot, every subcommand's help must have a summary line, a `Usage:`
//! line, at least one option and an `Examples:` section, and every example that starts with
//! `spx` must parse with spx's own argument parser.

use clap::CommandFactory;
use std::path::{Path, PathBuf};
use std::process::Command;

const UPDATE_VAR: &str = "SPX_UPDATE_SNAPSHOTS";

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help")
}

/// Every command path below `spx` (clap's generated `help` subcommands excluded), depth first.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sc in cmd.get_subcommands() {
            if sc.get_name() == "help" {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(sc.get_name().to_string());
            out.push(path.clone());
            walk(sc, &path, out);
        }
    }
    let mut out = vec![Vec::new()];
    walk(&spx::cli::Cli::command(), &[], &mut out);
    out
}

fn snapshot_name(path: &[String]) -> String {
    if path.is_empty() {
        "spx".to_string()
    } else {
        path.join("_")
    }
}

/// `spx PATH… --help` as a user at a 100-column terminal without colour sees it.
fn render_help(path: &[String]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_spx"))
        .args(path)
        .arg("--help")
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "spx {} --help failed: {}",
        path.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        !out.contains('\x1b'),
        "spx {} --help contains escape sequences with NO_COLOR set",
        path.join(" ")
    );
    out
}

/// A line diff (longest common subsequence): `-` lines only in the snapshot, `+` lines only in
/// the actual help, with one line of context around each change.
fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change =
        |k: usize| (k.saturating_sub(1)..=(k + 1).min(ops.len() - 1)).any(|n| ops[n].0 != ' ');
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push_str(&format!("{op} {line}\n"));
        } else {
            skipped = true;
        }
    }
    if skipped && !out.is_empty() {
        out.push_str("  ...\n");
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the final newline differs)\n");
    }
    out
}

#[test]
fn line_diff_marks_removed_and_added_lines() {
    let d = line_diff("a\nb\nc\nd\ne\n", "a\nb\nX\nd\ne\n");
    assert_eq!(d, "  ...\n  b\n- c\n+ X\n  d\n  ...\n");
    assert_eq!(line_diff("same\n", "same\n"), "");
    assert!(line_diff("x", "x\n").contains("final newline"));
}

#[test]
fn help_matches_snapshots() {
    let dir = snapshot_dir();
    let update = std::env::var_os(UPDATE_VAR).is_some_and(|v| v == "1");
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut expected_files = Vec::new();
    let mut failures = Vec::new();
    for path in command_paths() {
        let name = format!("{}.txt", snapshot_name(&path));
        let file = dir.join(&name);
        expected_files.push(name.clone());
        let actual = render_help(&path);
        let shown = format!(
            "spx {}--help",
            path.iter().map(|p| format!("{p} ")).collect::<String>()
        );
        if update {
            if std::fs::read_to_string(&file).ok().as_deref() != Some(actual.as_str()) {
                std::fs::write(&file, &actual).unwrap();
                eprintln!("updated {}", file.display());
            }
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(snap) if snap == actual => {}
            Ok(snap) => failures.push(format!(
                "`{shown}` differs from tests/snapshots/help/{name} (- snapshot, + actual):\n{}",
                line_diff(&snap, &actual)
            )),
            Err(e) => failures.push(format!(
                "`{shown}`: no snapshot tests/snapshots/help/{name} ({e})"
            )),
        }
    }
    // Snapshots of commands that no longer exist.
    let mut stale = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if !expected_files.contains(&n) {
                stale.push(n);
            }
        }
    }
    stale.sort();
    for n in stale {
        if update {
            std::fs::remove_file(dir.join(&n)).unwrap();
            eprintln!("removed tests/snapshots/help/{n}: no such command");
        } else {
            failures.push(format!(
                "tests/snapshots/help/{n}: no command has this name any more"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} help snapshot problem(s); if the change is intended, run `{UPDATE_VAR}=1 cargo test \
         --test help_snapshots` and review `git diff tests/snapshots/help`\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The clap-generated list of paths includes the nested commands, so a new one cannot hide.
#[test]
fn nested_subcommands_are_covered() {
    let names: Vec<String> = command_paths().iter().map(|p| snapshot_name(p)).collect();
    for n in [
        "spx",
        "log_verify",
        "log_stale",
        "recipients_add",
        "recipients_remove",
        "recipients_list",
        "git_setup",
        "hook_install",
        "merge-log",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} not among {names:?}");
    }
    assert!(!names.iter().any(|x| x.ends_with("help")), "{names:?}");
}

/// The lines of the section headed `heading` (up to the next unindented line).
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn every_subcommand_help_has_summary_usage_options_and_examples() {
    let option_re = regex::Regex::new(r"^\s+(-\w, )?--[a-z][a-z0-9-]*").unwrap();
    let root = spx::cli::Cli::command();
    let mut problems = Vec::new();
    for path in command_paths().into_iter().filter(|p| !p.is_empty()) {
        let cmd = path.join(" ");
        let h = render_help(&path);
        if h.lines().next().is_none_or(|l| l.trim().is_empty()) {
            problems.push(format!("{cmd}: no one-line summary first"));
        }
        if !h
            .lines()
            .any(|l| l.starts_with(&format!("Usage: spx {cmd}")))
        {
            problems.push(format!("{cmd}: no `Usage: spx {cmd}` line"));
        }
        let options = section(&h, "Options:");
        if !options.iter().any(|l| option_re.is_match(l)) {
            problems.push(format!("{cmd}: no option lines under `Options:`"));
        }
        // Each of the command's own visible flags is listed.
        let mut sc = &root;
        for name in &path {
            sc = sc.find_subcommand(name).unwrap();
        }
        for arg in sc.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                let flag = format!("--{long}");
                if !options.iter().any(|l| l.contains(&flag)) {
                    problems.push(format!("{cmd}: {flag} not listed under `Options:`"));
                }
            }
        }
        let examples = section(&h, "Examples:");
        if !examples
            .iter()
            .any(|l| l.trim_start().starts_with("spx ") || l.contains(" spx "))
        {
            problems.push(format!(
                "{cmd}: no `Examples:` section with a spx command line"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Parse one example line with spx's own parser: `None` when the line does not run spx itself
/// (a git command, spx fed by a pipe), else the parse result. Leading VAR=value assignments are
/// skipped; a `# comment`, a redirection, `|`, `&&` or `;` ends spx's arguments.
fn parse_example(line: &str) -> Option<Result<(), String>> {
    use clap::Parser;
    let words = match shell_words::split(line.trim()) {
        Ok(w) => w,
        Err(e) => return Some(Err(format!("does not split as shell words: {e}"))),
    };
    let mut words = words
        .into_iter()
        .skip_while(|w| w.contains('=') && w != "spx");
    if words.next().as_deref() != Some("spx") {
        return None;
    }
    let args = words.take_while(|w| {
        !w.starts_with('#') && !matches!(w.as_str(), ">" | ">>" | "|" | "&&" | ";")
    });
    Some(
        spx::cli::Cli::try_parse_from(std::iter::once("spx".to_string()).chain(args))
            .map(|_| ())
            .map_err(|e| e.to_string().lines().next().unwrap_or("").to_string()),
    )
}

#[test]
fn parse_example_rejects_unknown_flags_and_skips_other_commands() {
    assert!(matches!(
        parse_example("  spx log stale --older-than 1y"),
        Some(Ok(()))
    ));
    assert!(matches!(
        parse_example("  EDITOR='code --wait' spx edit s.yaml   # comment --bogus"),
        Some(Ok(()))
    ));
    assert!(matches!(
        parse_example("  spx log stale --no-such-flag"),
        Some(Err(_))
    ));
    assert!(matches!(
        parse_example("  spx no-such-command x"),
        Some(Err(_))
    ));
    assert!(parse_example("  git diff secrets/shared.sops.yaml").is_none());
}

/// Each example line that runs spx parses with spx's own parser: no example names a flag or
/// subcommand that does not exist.
#[test]
fn examples_parse() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in command_paths().into_iter().filter(|p| !p.is_empty()) {
        let h = render_help(&path);
        for line in section(&h, "Examples:") {
            match parse_example(line) {
                None => {}
                Some(Ok(())) => checked += 1,
                Some(Err(e)) => problems.push(format!(
                    "spx {}: example `{}`: {e}",
                    path.join(" "),
                    line.trim()
                )),
            }
        }
    }
    assert!(checked >= 30, "only {checked} examples found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
