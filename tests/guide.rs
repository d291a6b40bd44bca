//! Runs every `sh` block of docs/secrets-management.md, in order, in a scratch repository, so
//! the operator guide cannot rot.

mod common;
#[path = "common/github.rs"]
mod github;
use common::*;
use std::process::Command;

#[test]
fn every_command_in_the_operator_guide_runs() {
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/secrets-management.md"
    ))
    .unwrap();
    let blocks = sh_blocks(&guide);
    assert!(blocks.len() >= 10, "guide blocks found: {}", blocks.len());
    let fx = Fx::new();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .current_dir(fx.dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["config", "user.name", "Operator"]);
    git(&["config", "user.email", "ops@example.net"]);
    fx.write(".gitignore", "key.txt\nhome/\n*.sh\nnew-password.json\n");
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.sops\\.yaml$\n    age: {}\n",
            fx.public
        ),
    );
    fx.write(
        "secrets/shared.sops.yaml",
        "smtp:\n    host: smtp.example.net\n    password: first\n",
    );
    fx.spx_ok(&[
        "encrypt",
        "-i",
        "--reason",
        "setup",
        "secrets/shared.sops.yaml",
    ]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "setup"]);
    fx.write("new-password.json", "\"second-password\"");
    let editor = fx.editor(
        "editor.sh",
        "printf 'pdf_service_api_key: pdf-123\\n' >> \"$1\"",
    );
    let spx_dir = std::path::Path::new(env!("CARGO_BIN_EXE_spx"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", spx_dir.display(), std::env::var("PATH").unwrap());
    let key_text = fx.read("key.txt");
    // The sync section's GitHub target goes to the stand-in for the GitHub API (loopback).
    let gh = github::FakeGitHub::start();
    for (i, block) in blocks.iter().enumerate() {
        let o = Command::new("sh")
            .arg("-ec")
            .arg(block)
            .current_dir(fx.dir.path())
            .env("PATH", &path)
            .env("HOME", fx.path("home"))
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY", &key_text)
            .env("EDITOR", &editor)
            .env("NEW_API_KEY", "api-key-from-env")
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .env("GITHUB_API_URL", gh.url())
            .env("GITHUB_TOKEN", "test-token")
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_REPOSITORY")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "guide block {i} failed ({}):\n{block}\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The guide's steps really happened.
    let log = fx.read("docs/secrets-rotation-log.md");
    for reason in [
        "new PDF service",
        "vendor rotation",
        "quarterly rotation",
        "incident: leaked laptop",
    ] {
        assert!(log.contains(reason), "no row for {reason:?}");
    }
    // `spx sync` pushed the shared secrets (as they were then) to the repository's secrets.
    let state = gh.state();
    let pushed = &state["secrets"]["acme/app"];
    assert!(
        pushed.as_object().is_some_and(|m| m.len() >= 2),
        "sync pushed: {pushed}"
    );
    let plain = String::from_utf8(fx.spx_ok(&["decrypt", "secrets/shared.sops.yaml"])).unwrap();
    assert!(
        plain.contains("password: second-password")
            && plain.contains("pdf_service_api_key: api-key-from-env")
    );
}
