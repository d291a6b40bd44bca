//! README.md, followed literally: the first set-up command (decrypting the demo secrets with the
//! demo key) and the five-minute tour, run as a new user would in a scratch directory, with spx
//! and the real `age` on PATH. Only `cargo run --release --` is replaced by the built binary.

mod common;
#[path = "common/github.rs"]
mod github;
use common::*;
use std::path::Path;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

fn path_with_spx() -> String {
    let dir = Path::new(env!("CARGO_BIN_EXE_spx")).parent().unwrap();
    let age = tool("age");
    let age_dir = age.parent().unwrap();
    format!(
        "{}:{}:{}",
        dir.display(),
        age_dir.display(),
        std::env::var("PATH").unwrap()
    )
}

#[test]
fn the_first_setup_command_decrypts_the_demo_secrets() {
    let blocks = sh_blocks(&readme());
    let first = blocks[0].trim();
    assert!(
        first.starts_with("SOPS_AGE_KEY_FILE=demo/demo-age-key.txt cargo run --release -- "),
        "README's first command changed: {first}"
    );
    assert_eq!(
        blocks[1].trim(),
        "bash scripts/test.sh",
        "README's second set-up command"
    );
    let cmd = first.replace("cargo run --release -- ", "spx ");
    let o = Command::new("sh")
        .arg("-ec")
        .arg(&cmd)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path_with_spx())
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_CMD")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(!out.contains("ENC[") && !out.contains("sops:"), "{out}");
    assert!(out.lines().count() >= 3, "{out}");
}

#[test]
fn the_five_minute_tour_runs_as_written() {
    let blocks = sh_blocks(&readme());
    let tour = blocks
        .iter()
        .find(|b| b.starts_with("mkdir team-secrets"))
        .expect("the tour block");
    let fx = Fx::new();
    let home = fx.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let gh = github::FakeGitHub::start();
    // The editor adds a key, as the user would.
    let editor = fx.editor(
        "editor.sh",
        "printf 'smtp:\\n    password: hunter2-smtp\\n' >> \"$1\"",
    );
    let o = Command::new("sh")
        .arg("-ec")
        .arg(tour)
        .current_dir(fx.dir.path())
        .env("PATH", path_with_spx())
        .env("HOME", &home)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SOPS_AGE_KEY_CMD")
        .env_remove("SOPS_AGE_SSH_PRIVATE_KEY_FILE")
        .env_remove("XDG_CONFIG_HOME")
        .env("GIT_AUTHOR_NAME", "Alice")
        .env("GIT_AUTHOR_EMAIL", "alice@example.net")
        .env("GIT_COMMITTER_NAME", "Alice")
        .env("GIT_COMMITTER_EMAIL", "alice@example.net")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("EDITOR", &editor)
        .env("NEW_TOKEN", "tok-rotated-42")
        .env("GITHUB_API_URL", gh.url())
        .env("GITHUB_TOKEN", "test-token")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        o.status.success(),
        "the tour failed ({}):\n{stdout}\n{stderr}",
        o.status
    );
    let repo = fx.path("team-secrets");
    // The hook refused the plaintext .env file: two commits, and not the third.
    let log = Command::new("git")
        .args(["log", "--format=%s"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let subjects = String::from_utf8(log.stdout).unwrap();
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        ["Add the SMTP password", "Set up spx"]
    );
    assert!(stdout.contains("refused by the hook"), "{stdout}");
    assert!(stderr.contains(".env.production"), "{stderr}");
    // The tour's values are where the tour put them; the dry run pushed nothing.
    let plain = Command::new(env!("CARGO_BIN_EXE_spx"))
        .args(["decrypt", "secrets/shared.sops.yaml"])
        .current_dir(&repo)
        .env("HOME", &home)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(
        plain.contains("api_key: tok-rotated-42") && plain.contains("password: hunter2-smtp"),
        "{plain}"
    );
    let state = gh.state();
    assert!(
        state["secrets"].as_object().is_none_or(|m| m
            .values()
            .all(|s| s.as_object().is_none_or(|s| s.is_empty()))),
        "dry run wrote secrets: {state}"
    );
    let plan = format!("{stdout}{stderr}").to_lowercase();
    assert!(plan.contains("example_service_api_key"), "no plan shown");
    // The rotation log has the tour's changes, with who and why, and no value.
    let rotation = std::fs::read_to_string(repo.join("docs/secrets-rotation-log.md")).unwrap();
    for want in [
        "vendor rotation",
        "onboarding bob",
        "Alice &lt;alice@example.net&gt;",
    ] {
        assert!(
            rotation.contains(want),
            "no {want:?} in the log:\n{rotation}"
        );
    }
    for value in ["tok-rotated-42", "hunter2-smtp", "abc123"] {
        assert!(!stdout.contains(value), "{value} printed on stdout");
        assert!(!stderr.contains(value), "{value} printed on stderr");
        assert!(!rotation.contains(value), "{value} in the log");
    }
}
