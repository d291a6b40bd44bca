//! The pre-commit verifier against temp git repositories built with the real `git` CLI, and
//! sops files made by the real `sops` binary.
//!
//! These call the library (`spx::verify::run`); the CLI-level tests (`git commit` blocked through
//! the installed hook) need `spx verify` wired into the binary's command enum and live at the end
//! of this file once that lands.

mod common;

use common::{tool, Fx};
use spx::verify::hook::{install, InstallOptions, Installed};
use spx::verify::{report, run, Finding, Options, Scope};
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new(tool("git"))
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn repo() -> Fx {
    let fx = Fx::new();
    git(fx.dir.path(), &["init", "-q", "-b", "main"]);
    // The fixture's key file and home live in the same temp dir: keep them out of scans.
    fx.write(".git/info/exclude", "key.txt\nhome/\n");
    fx
}

fn verify(fx: &Fx, scope: Scope) -> Vec<Finding> {
    run(&Options {
        scope,
        cwd: fx.dir.path().to_path_buf(),
    })
    .expect("verify runs")
    .findings
}

fn rules_for<'a>(findings: &'a [Finding], path: &str) -> Vec<&'a str> {
    findings
        .iter()
        .filter(|f| f.path == path)
        .map(|f| f.rule)
        .collect()
}

const PLANTED: &[(&str, &str)] = &[
    ("config/aws.py", "AWS_ACCESS_KEY_ID = \"AKIAQQQQQQQQQQQQQQQQ\"\n"),
    ("scripts/deploy.sh", "export GH_TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8i9J0\n"),
    (
        "notes/age.txt",
        "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
    ),
    (
        "keys/id_rsa",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    ),
    ("secrets/plain.yaml", "smtp_password: hunter2-but-longer\n"),
    ("monitoring/.env", "GRAFANA_ADMIN_PASSWORD=correct-horse-battery\n"),
];

#[test]
fn staged_scan_catches_each_planted_secret() {
    let fx = repo();
    fx.write("README.md", "hello\n");
    git(fx.dir.path(), &["add", "-A"]);
    git(fx.dir.path(), &["commit", "-qm", "base"]);
    for (p, text) in PLANTED {
        fx.write(p, text);
    }
    git(fx.dir.path(), &["add", "-A", "-f"]);
    let f = verify(&fx, Scope::Staged);
    assert!(
        rules_for(&f, "config/aws.py").contains(&"aws-access-key-id"),
        "{f:#?}"
    );
    assert!(rules_for(&f, "scripts/deploy.sh").contains(&"github-pat"));
    assert!(rules_for(&f, "notes/age.txt").contains(&"age-secret-key"));
    assert!(rules_for(&f, "keys/id_rsa").contains(&"openssh-private-key"));
    assert!(rules_for(&f, "secrets/plain.yaml").contains(&"sops-not-encrypted"));
    assert!(rules_for(&f, "monitoring/.env").contains(&"sops-not-encrypted"));
    assert!(f.iter().all(|f| f.path != "README.md"));
}

#[test]
fn no_output_shows_more_than_the_masked_form() {
    let fx = repo();
    for (p, text) in PLANTED {
        fx.write(p, text);
    }
    git(fx.dir.path(), &["add", "-A", "-f"]);
    let out = run(&Options {
        scope: Scope::Staged,
        cwd: fx.dir.path().to_path_buf(),
    })
    .unwrap();
    let secrets = [
        "AKIAQQQQQQQQQQQQQQQQ",
        "ghp_a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8i9J0",
        "AGE-SECRET-KEY-1QQQQ",
        "hunter2-but-longer",
        "correct-horse-battery",
        "b3BlbnNzaC1rZXktdjEAAAAA",
    ];
    for text in [
        report::text(&out, "staged"),
        report::json(&out, "staged"),
        report::sarif(&out),
    ] {
        for s in secrets {
            assert!(
                !text.contains(&s[..5]),
                "output shows more than 4 characters of a secret:\n{text}"
            );
        }
    }
    assert!(report::text(&out, "staged").contains("AKIA… (20 chars)"));
}

#[test]
fn the_index_is_checked_not_the_work_tree() {
    let fx = repo();
    // Bad in the index, fixed in the work tree: still caught.
    fx.write("app.py", "key = \"AKIAQQQQQQQQQQQQQQQQ\"\n");
    git(fx.dir.path(), &["add", "app.py"]);
    fx.write("app.py", "key = os.environ[\"AWS_ACCESS_KEY_ID\"]\n");
    let f = verify(&fx, Scope::Staged);
    assert_eq!(rules_for(&f, "app.py"), vec!["aws-access-key-id"]);

    // Clean in the index, bad in the work tree only: not part of the commit.
    fx.write("app.py", "key = os.environ[\"AWS_ACCESS_KEY_ID\"]\n");
    git(fx.dir.path(), &["add", "app.py"]);
    fx.write("app.py", "key = \"AKIAQQQQQQQQQQQQQQQQ\"\n");
    assert!(verify(&fx, Scope::Staged).is_empty());
    // ...but `--all` reads the work tree and sees it.
    assert_eq!(
        rules_for(&verify(&fx, Scope::All), "app.py"),
        vec!["aws-access-key-id"]
    );
}

#[test]
fn history_finds_a_secret_deleted_three_commits_ago() {
    let fx = repo();
    let d = fx.dir.path();
    fx.write("src/main.rs", "fn main() {}\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "one"]);
    fx.write(
        "deploy/token.txt",
        "ghp_a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8i9J0\n",
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "oops"]);
    let bad = git(d, &["rev-parse", "HEAD"]).trim().to_string();
    git(d, &["rm", "-q", "deploy/token.txt"]);
    git(d, &["commit", "-qm", "remove"]);
    for i in 0..2 {
        fx.write("src/main.rs", &format!("fn main() {{ let _ = {i}; }}\n"));
        git(d, &["commit", "-qam", "more"]);
    }
    assert!(verify(&fx, Scope::All).is_empty());
    let f = verify(&fx, Scope::History);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].path, "deploy/token.txt");
    assert_eq!(f[0].rule, "github-pat");
    assert_eq!(f[0].commit.as_deref(), Some(&bad[..12]));
    assert!(
        report::line(&f[0]).starts_with(&format!("{}:deploy/token.txt:1: github-pat:", &bad[..12]))
    );
}

#[test]
fn ordinary_code_gives_no_findings() {
    let fx = repo();
    fx.write(
        "app/settings.py",
        "import os\nSECRET_KEY = os.environ[\"SECRET_KEY\"]\nDB_PASSWORD = os.getenv(\"DB_PASSWORD\", \"\")\n\
         REQUEST_ID = \"123e4567-e89b-12d3-a456-426614174000\"\n\
         CHECKSUM = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"\n\
         FIXTURE = base64.b64decode(\"SGVsbG8sIHdvcmxkISBUaGlzIGlzIHRlc3QgZGF0YQ==\")\n",
    );
    fx.write(
        "web/src/api.ts",
        "const token = process.env.GITHUB_TOKEN;\nconst apiKey = import.meta.env.VITE_API_KEY;\n\
         export const PASSWORD_MIN_LENGTH = 12;\nfunction setPassword(password: string) { return password; }\n",
    );
    fx.write(
        "src/config.rs",
        "let token = std::env::var(\"TOKEN\")?;\nlet secret = env::var(\"APP_SECRET\").unwrap_or_default();\n\
         const SHA: &str = \"4b825dc642cb6eb9a060e54bf8d69288fbee4904\";\n",
    );
    fx.write(
        "deploy/compose.yaml",
        "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n      \
         API_TOKEN: $API_TOKEN\n    image: postgres@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
    );
    fx.write(
        ".env.example",
        "DB_PASSWORD=\nAPI_TOKEN=changeme\nSMTP_PASSWORD=<smtp password>\nPORT=3000\n",
    );
    fx.write("package-lock.json", "{\"integrity\": \"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\"}\n");
    git(fx.dir.path(), &["add", "-A"]);
    let f = verify(&fx, Scope::Staged);
    assert!(f.is_empty(), "{f:#?}");
    assert!(verify(&fx, Scope::All).is_empty());
}

#[test]
fn a_template_with_a_real_value_is_caught() {
    let fx = repo();
    fx.write(".env.example", "PORT=3000\nDB_PASSWORD=Tr0ub4dor&3x\n");
    git(fx.dir.path(), &["add", "-A"]);
    let f = verify(&fx, Scope::Staged);
    assert_eq!(rules_for(&f, ".env.example"), vec!["template-value"]);
    assert_eq!(f[0].line, 2);
}

#[test]
fn allowlist_file_and_inline_comment() {
    let fx = repo();
    fx.write(
        "tests/fixtures/key.pem",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
    );
    fx.write(
        "docs/example.md",
        "token: ghp_a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8i9J0 <!-- spx:allow -->\n",
    );
    fx.write("src/a.py", "KEY = \"AKIAQQQQQQQQQQQQQQQQ\"\n");
    git(fx.dir.path(), &["add", "-A"]);
    let f = verify(&fx, Scope::Staged);
    assert_eq!(f.len(), 2, "{f:#?}");
    let aws = f
        .iter()
        .find(|f| f.path == "src/a.py")
        .unwrap()
        .fingerprint
        .clone();
    fx.write(
        ".spx-allow",
        &format!("# test fixtures\ntests/fixtures/\n{aws}  # documented example key\n"),
    );
    git(fx.dir.path(), &["add", "-A"]);
    assert!(verify(&fx, Scope::Staged).is_empty());
}

/// A file encrypted by the real sops in the dotenv store, with a matching `.sops.yaml`.
fn sops_dotenv(fx: &Fx, rel: &str, plain: &str) {
    fx.write(rel, plain);
    fx.sops_ok(&[
        "encrypt",
        "--age",
        &fx.public,
        "--input-type",
        "dotenv",
        "--output-type",
        "dotenv",
        "-i",
        rel,
    ]);
}

#[test]
fn a_sops_made_env_file_passes_and_a_hand_added_plaintext_value_is_caught() {
    let fx = repo();
    sops_dotenv(
        &fx,
        "monitoring/prod.env",
        "GRAFANA_ADMIN_PASSWORD=correct-horse-battery\nPORT_unencrypted=3000\n",
    );
    git(fx.dir.path(), &["add", "-f", "monitoring/prod.env"]);
    let f = verify(&fx, Scope::Staged);
    assert!(f.is_empty(), "{f:#?}");

    let mut text = fx.read("monitoring/prod.env");
    text = text.replacen(
        "PORT_unencrypted=3000\n",
        "PORT_unencrypted=3000\nSMTP_PASSWORD=Xk9mQ2vL7pZ4wR\n",
        1,
    );
    fx.write("monitoring/prod.env", &text);
    git(fx.dir.path(), &["add", "-f", "monitoring/prod.env"]);
    let f = verify(&fx, Scope::Staged);
    assert_eq!(
        rules_for(&f, "monitoring/prod.env"),
        vec!["sops-plaintext-value"],
        "{f:#?}"
    );
    assert!(f[0].message.contains("`SMTP_PASSWORD`"));
    assert!(!f[0].message.contains("Xk9mQ2vL"));
}

#[test]
fn a_sops_binary_store_env_file_passes() {
    // `sops encrypt .env.production` without types uses the binary store (JSON document).
    let fx = repo();
    fx.write(".env.production", "API_TOKEN=Xk9mQ2vL7pZ4wR\n");
    fx.sops_ok(&["encrypt", "--age", &fx.public, "-i", ".env.production"]);
    git(fx.dir.path(), &["add", "-f", ".env.production"]);
    let f = verify(&fx, Scope::Staged);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn a_sops_json_file_without_mac_is_incomplete() {
    let fx = repo();
    fx.write("secrets/db.json", "{\"password\": \"Xk9mQ2vL7pZ4wR\"}\n");
    fx.sops_ok(&["encrypt", "--age", &fx.public, "-i", "secrets/db.json"]);
    let text = fx.read("secrets/db.json");
    let mac_line = text
        .lines()
        .find(|l| l.contains("\"mac\":"))
        .unwrap()
        .to_string();
    fx.write(
        "secrets/db.json",
        &text.replace(&mac_line, "\t\t\"mac\": \"\","),
    );
    git(fx.dir.path(), &["add", "-A"]);
    let f = verify(&fx, Scope::Staged);
    assert_eq!(
        rules_for(&f, "secrets/db.json"),
        vec!["sops-incomplete"],
        "{f:#?}"
    );
}

#[test]
fn hook_install_honours_hooks_path_and_refuses_to_clobber() {
    let fx = repo();
    let d = fx.dir.path();
    // Default: .git/hooks
    let got = install(d, InstallOptions::default()).unwrap();
    let hook = d.join(".git/hooks/pre-commit");
    assert_eq!(got, Installed::New(hook.clone()));
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("verify --staged"));
    assert_eq!(
        install(d, InstallOptions::default()).unwrap(),
        Installed::AlreadyInstalled(hook)
    );

    // core.hooksPath, with someone else's hook there.
    git(d, &["config", "core.hooksPath", "githooks"]);
    fx.write("githooks/pre-commit", "#!/bin/sh\necho other\n");
    let err = install(d, InstallOptions::default()).unwrap_err();
    assert!(err.to_string().contains("--chain"), "{err}");
    assert_eq!(fx.read("githooks/pre-commit"), "#!/bin/sh\necho other\n");

    let chained = install(
        d,
        InstallOptions {
            chain: true,
            force: false,
        },
    )
    .unwrap();
    let prev = d.join("githooks/pre-commit.before-spx");
    assert_eq!(
        chained,
        Installed::Chained {
            hook: d.join("githooks/pre-commit"),
            previous: prev.clone()
        }
    );
    assert_eq!(
        std::fs::read_to_string(&prev).unwrap(),
        "#!/bin/sh\necho other\n"
    );
    let script = fx.read("githooks/pre-commit");
    assert!(
        script.find("pre-commit.before-spx").unwrap() < script.find("verify --staged").unwrap()
    );

    fx.write("githooks/pre-commit", "#!/bin/sh\necho mine\n");
    assert_eq!(
        install(
            d,
            InstallOptions {
                force: true,
                chain: false
            }
        )
        .unwrap(),
        Installed::Replaced(d.join("githooks/pre-commit"))
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("githooks/pre-commit"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "hook is executable");
}

#[test]
fn the_repository_hook_script_calls_verify_staged() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/hooks/pre-commit")).unwrap();
    assert!(text.starts_with("#!/bin/sh"));
    assert!(text.contains("verify --staged"));
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .unwrap();
    assert!(yaml.contains("id: spx-verify") && yaml.contains("verify --staged"));
}

#[test]
fn usage_errors_outside_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    for scope in [Scope::Staged, Scope::History] {
        let e = run(&Options {
            scope,
            cwd: dir.path().to_path_buf(),
        })
        .unwrap_err();
        assert!(matches!(e, spx::Error::Usage(_)), "{e}");
    }
    let e = run(&Options {
        scope: Scope::Paths(vec!["missing.txt".into()]),
        cwd: dir.path().to_path_buf(),
    })
    .unwrap_err();
    assert!(matches!(e, spx::Error::Usage(_)), "{e}");
}

#[test]
fn paths_scope_walks_directories_with_gitignore() {
    let fx = repo();
    fx.write(
        "conf/a.ini",
        "token = ghp_a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8i9J0\n",
    );
    fx.write("conf/ignored/b.txt", "AKIAQQQQQQQQQQQQQQQQ\n");
    fx.write(".gitignore", "conf/ignored/\n");
    let f = verify(&fx, Scope::Paths(vec![fx.path("conf")]));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].path, "conf/a.ini");
    // A file named explicitly is checked even if ignored.
    let f = verify(&fx, Scope::Paths(vec!["conf/ignored/b.txt".into()]));
    assert_eq!(
        rules_for(&f, "conf/ignored/b.txt"),
        vec!["aws-access-key-id"]
    );
}

// ---- Tests that read YAML (.sops.yaml, YAML sops files): they need the YAML store. ----

fn sops_config(fx: &Fx, rules: &str) {
    fx.write(".sops.yaml", rules);
}

#[test]
fn a_sops_made_yaml_file_passes_and_a_plaintext_one_is_rejected() {
    let fx = repo();
    sops_config(
        &fx,
        &format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {}\n",
            fx.public
        ),
    );
    fx.write(
        "secrets/test.sops.yaml",
        "smtp:\n    password: hunter2-but-longer\n    port_unencrypted: 25\n",
    );
    fx.sops_ok(&["encrypt", "-i", "secrets/test.sops.yaml"]);
    git(fx.dir.path(), &["add", ".sops.yaml", "secrets"]);
    let f = verify(&fx, Scope::Staged);
    assert!(f.is_empty(), "{f:#?}");

    // Partly encrypted: a value pasted in by hand after encryption.
    let text = fx.read("secrets/test.sops.yaml");
    let text = text.replacen("smtp:\n", "smtp:\n    api_token: Xk9mQ2vL7pZ4wR\n", 1);
    fx.write("secrets/test.sops.yaml", &text);
    git(fx.dir.path(), &["add", "secrets"]);
    let f = verify(&fx, Scope::Staged);
    assert!(
        rules_for(&f, "secrets/test.sops.yaml").contains(&"sops-plaintext-value"),
        "{f:#?}"
    );
    let pv = f.iter().find(|f| f.rule == "sops-plaintext-value").unwrap();
    assert_eq!(pv.line, 2);
    assert!(pv.message.contains("`smtp.api_token`"), "{}", pv.message);

    // Plaintext: no metadata at all.
    fx.write(
        "secrets/test.sops.yaml",
        "smtp:\n    password: hunter2-but-longer\n",
    );
    git(fx.dir.path(), &["add", "secrets"]);
    let f = verify(&fx, Scope::Staged);
    assert!(
        rules_for(&f, "secrets/test.sops.yaml").contains(&"sops-not-encrypted"),
        "{f:#?}"
    );
}

#[test]
fn recipient_drift_is_reported_and_a_staged_rule_change_checks_committed_files() {
    let fx = repo();
    let (_, other) = common::keygen(&fx.path("other-key.txt"));
    fx.write(".git/info/exclude", "key.txt\nhome/\nother-key.txt\n");
    sops_config(
        &fx,
        &format!(
            "creation_rules:\n  - path_regex: ^secrets/\n    age: {}\n",
            fx.public
        ),
    );
    fx.write("secrets/app.yaml", "db_password: Xk9mQ2vL7pZ4wR\n");
    fx.sops_ok(&["encrypt", "-i", "secrets/app.yaml"]);
    git(fx.dir.path(), &["add", "-A"]);
    assert!(verify(&fx, Scope::Staged).is_empty());
    git(fx.dir.path(), &["commit", "-qm", "secrets"]);

    // A new recipient in the rule, staged without `updatekeys`: the committed file drifted.
    sops_config(
        &fx,
        &format!(
            "creation_rules:\n  - path_regex: ^secrets/\n    age: {}, {other}\n",
            fx.public
        ),
    );
    git(fx.dir.path(), &["add", ".sops.yaml"]);
    let f = verify(&fx, Scope::Staged);
    assert_eq!(
        rules_for(&f, "secrets/app.yaml"),
        vec!["recipient-drift"],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("spx updatekeys secrets/app.yaml"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains(&other[..16]), "{}", f[0].message);
    // The same in a full scan.
    assert_eq!(
        rules_for(&verify(&fx, Scope::All), "secrets/app.yaml"),
        vec!["recipient-drift"]
    );

    // After updatekeys (real sops) the file agrees with the rule again.
    fx.sops_ok(&["updatekeys", "-y", "secrets/app.yaml"]);
    git(fx.dir.path(), &["add", "-A"]);
    let f = verify(&fx, Scope::Staged);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn derived_env_files_of_sync_targets_must_be_ignored() {
    let fx = repo();
    sops_config(
        &fx,
        &format!(
            "creation_rules:\n  - age: {}\nspx:\n  sync:\n    local:\n      env_file: monitoring/.env\n      sources: [secrets/a.yaml]\n    \
             vps:\n      ssh: deploy@vps.example.net\n      env_file: /opt/monitoring/.env\n      sources: [secrets/a.yaml]\n",
            fx.public
        ),
    );
    git(fx.dir.path(), &["add", ".sops.yaml"]);
    let f = verify(&fx, Scope::Staged);
    assert_eq!(
        rules_for(&f, "monitoring/.env"),
        vec!["derived-env-not-ignored"],
        "{f:#?}"
    );
    assert_eq!(f.len(), 1, "remote env_file paths are not checked: {f:#?}");

    fx.write(".gitignore", "monitoring/.env\n");
    git(fx.dir.path(), &["add", ".gitignore"]);
    assert!(verify(&fx, Scope::Staged).is_empty());

    // Ignored but force-added: tracked, still a finding.
    fx.write("monitoring/.env", "X=1\n");
    git(fx.dir.path(), &["add", "-f", "monitoring/.env"]);
    let f = verify(&fx, Scope::Staged);
    assert!(
        rules_for(&f, "monitoring/.env").contains(&"derived-env-tracked"),
        "{f:#?}"
    );
}

#[test]
fn a_broken_sops_yaml_is_a_finding() {
    let fx = repo();
    fx.write(
        ".sops.yaml",
        "creation_rules:\n  - path_regex: \"[unclosed\"\n",
    );
    git(fx.dir.path(), &["add", ".sops.yaml"]);
    let f = verify(&fx, Scope::Staged);
    assert_eq!(
        rules_for(&f, ".sops.yaml"),
        vec!["sops-config-invalid"],
        "{f:#?}"
    );
}

/// The benchmark workload: all six planted secrets, nothing among the 20,000 ordinary files.
#[test]
fn gen_repo_six_planted_caught_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let gen = std::env::var("SPX_GEN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/bench/gen.py").into());
    let o = Command::new(tool("python3"))
        .arg(&gen)
        .arg("repo")
        .arg(&repo)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gen.py: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let planted: Vec<String> = std::fs::read_to_string(repo.join("PLANTED"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    for scope in [Scope::Staged, Scope::All] {
        let all = scope == Scope::All;
        let out = run(&Options {
            scope,
            cwd: repo.clone(),
        })
        .unwrap();
        let mut paths: Vec<&str> = out.findings.iter().map(|f| f.path.as_str()).collect();
        paths.sort();
        paths.dedup();
        let mut want: Vec<&str> = planted.iter().map(String::as_str).collect();
        want.sort();
        assert_eq!(paths, want, "{:#?}", out.findings);
        assert_eq!(out.files_scanned, if all { 20_006 } else { 50 });
    }
}

#[test]
fn config_files_are_read_from_the_index_whether_committed_staged_changed_or_deleted() {
    // `.spx-allow` (like `.sops.yaml` and the log) is read as staged: from HEAD when the index
    // has it unchanged, from the index when staged, never from the work tree, and absent when
    // its deletion is staged.
    let fx = repo();
    git(fx.dir.path(), &["config", "user.name", "T"]);
    git(fx.dir.path(), &["config", "user.email", "t@example.net"]);
    fx.write(".spx-allow", "tests/fixtures/\n");
    fx.write("README.md", "hello\n");
    git(fx.dir.path(), &["add", "-A"]);
    git(fx.dir.path(), &["commit", "-qm", "allow fixtures"]);
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";
    fx.write("tests/fixtures/key.pem", pem);
    git(fx.dir.path(), &["add", "tests/fixtures/key.pem"]);
    // Committed and unchanged: allowed.
    assert!(verify(&fx, Scope::Staged).is_empty());
    // Emptied in the work tree only: still allowed (the index is what gets committed).
    fx.write(".spx-allow", "# nothing\n");
    assert!(verify(&fx, Scope::Staged).is_empty());
    // The emptied version staged: no longer allowed.
    git(fx.dir.path(), &["add", ".spx-allow"]);
    assert_eq!(
        rules_for(&verify(&fx, Scope::Staged), "tests/fixtures/key.pem"),
        ["private-key"]
    );
    // Restored in the work tree, deletion staged: not allowed either.
    fx.write(".spx-allow", "tests/fixtures/\n");
    git(fx.dir.path(), &["rm", "-q", "-f", "--cached", ".spx-allow"]);
    assert_eq!(
        rules_for(&verify(&fx, Scope::Staged), "tests/fixtures/key.pem"),
        ["private-key"]
    );
}
