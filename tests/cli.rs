//! The command-line surface: help for every subcommand, completions, the man page.

mod common;
use common::*;

const SUBCOMMANDS: &[&str] = &[
    "encrypt",
    "decrypt",
    "edit",
    "set",
    "unset",
    "rotate",
    "updatekeys",
    "exec-env",
    "exec-file",
    "filestatus",
    "keygen",
    "init",
    "recipients",
    "doctor",
    "status",
    "diff",
    "merge",
    "merge-log",
    "git",
    "log",
    "verify",
    "hook",
    "completions",
    "man",
    "sync",
];

#[test]
fn every_subcommand_has_help_with_a_summary_and_options() {
    let fx = Fx::new();
    let top = String::from_utf8(fx.spx_ok(&["--help"])).unwrap();
    // The grouped list in `spx --help` is written by hand: it must name every real subcommand.
    use clap::CommandFactory;
    for sc in spx::cli::Cli::command().get_subcommands() {
        let name = sc.get_name();
        assert!(
            top.contains(&format!("\n  {name} ")),
            "spx --help does not list {name}"
        );
        assert!(
            SUBCOMMANDS.contains(&name) || name == "help",
            "{name} missing from this test's list"
        );
    }
    for sc in SUBCOMMANDS {
        assert!(top.contains(sc), "spx --help does not list {sc}");
        let h = String::from_utf8(fx.spx_ok(&[sc, "--help"])).unwrap();
        assert!(
            h.lines().next().is_some_and(|l| !l.trim().is_empty()),
            "{sc}: no summary line"
        );
        assert!(h.contains("Usage: spx"), "{sc}: no usage");
    }
}

#[test]
fn completions_for_three_shells() {
    let fx = Fx::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = String::from_utf8(fx.spx_ok(&["completions", shell])).unwrap();
        for sc in ["encrypt", "decrypt", "updatekeys", "verify"] {
            assert!(out.contains(sc), "{shell} completions lack {sc}");
        }
    }
    // The bash script is valid bash.
    let script = fx.spx_ok(&["completions", "bash"]);
    std::fs::write(fx.path("spx.bash"), script).unwrap();
    let o = std::process::Command::new("bash")
        .arg("-n")
        .arg(fx.path("spx.bash"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn man_page_renders() {
    let fx = Fx::new();
    let out = String::from_utf8(fx.spx_ok(&["man"])).unwrap();
    assert!(out.contains(".TH spx 1"));
    assert!(out.contains("encrypt") && out.contains("updatekeys"));
}

#[test]
fn spx_file_means_edit_and_unknown_flags_fail_clearly() {
    let fx = Fx::new();
    let o = fx.spx(&["decrypt", "--no-such-flag", "x.yaml"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--no-such-flag"));
    // `spx FILE` on a missing file without a rule: the edit path's clear error.
    let o = fx.spx(&["missing.sops.yaml"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.sops.yaml"));
}
