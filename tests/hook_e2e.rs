//! The pre-commit hook through real `git commit`: installed by `spx hook install`, it blocks a
//! plaintext secrets file and lets a sops-made one through.

mod common;
use common::*;
use std::process::Command;

fn git(fx: &Fx, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .current_dir(fx.dir.path())
        .env("SPX", env!("CARGO_BIN_EXE_spx"))
        .env("HOME", fx.path("home"))
        .env("SOPS_AGE_KEY_FILE", &fx.key_file)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn git_commit_is_blocked_for_plaintext_and_passes_for_sops_files() {
    let fx = Fx::new();
    assert!(git(&fx, &["init", "-q"]).status.success());
    git(&fx, &["config", "user.name", "T"]);
    git(&fx, &["config", "user.email", "t@example"]);
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {}\n",
            fx.public
        ),
    );
    // The fixture's own identity lives in the work tree: keep it out of git (the hook would
    // rightly refuse it).
    fx.write(".gitignore", "key.txt\nhome/\n");
    let o = fx.spx(&["hook", "install"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fx.path(".git/hooks/pre-commit").exists());

    // Plaintext secrets file: blocked, and the secret is not printed in full.
    fx.write(
        "secrets/test.sops.yaml",
        "smtp_password: hunter2-but-longer\n",
    );
    git(&fx, &["add", "-A"]);
    let o = git(&fx, &["commit", "-qm", "plaintext"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    assert!(
        !o.status.success(),
        "commit of a plaintext secret went through"
    );
    assert!(err.contains("secrets/test.sops.yaml"), "{err}");
    assert!(!err.contains("hunter2-but-longer"), "secret printed: {err}");

    // Encrypted with real sops: the commit passes.
    let enc = fx.sops_ok(&["encrypt", "secrets/test.sops.yaml"]);
    std::fs::write(fx.path("secrets/test.sops.yaml"), enc).unwrap();
    git(&fx, &["add", "-A"]);
    let o = git(&fx, &["commit", "-qm", "encrypted"]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // A .env file with a real-looking secret anywhere: blocked.
    fx.write(
        "monitoring/.env",
        "GRAFANA_ADMIN_PASSWORD=correct-horse-battery\n",
    );
    git(&fx, &["add", "-A", "-f"]);
    assert!(!git(&fx, &["commit", "-qm", "env"]).status.success());
}
