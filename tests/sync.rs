//! `spx sync` end to end: a real OpenSSH `sshd` (Debian openssh-server) started on 127.0.0.1
//! with a temp host key and authorized key stands in for the VPS; a Python stand-in for the
//! GitHub API (tests/helpers/fake_github.py) opens every sealed box with PyNaCl (libsodium).
//! Sources are encrypted by the real `sops`. A missing sshd, ssh-keygen, python3 or PyNaCl is a
//! failure, never a skip. Nothing leaves loopback.

mod common;
#[path = "common/github.rs"]
mod github;
use github::FakeGitHub;

use common::{tool, Fx};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

/// The user the tests log in as: whoever runs them (sshd checks their authorized key).
fn user() -> String {
    let o = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real sshd on 127.0.0.1, killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    log: PathBuf,
    host_pub: String,
    client_key: PathBuf,
}

impl Sshd {
    fn start(dir: &Path) -> Sshd {
        assert!(
            Path::new(SSHD).is_file(),
            "{SSHD} is missing: run `bash scripts/test.sh`, which installs openssh-server"
        );
        std::fs::create_dir_all(dir).unwrap();
        // As root, sshd insists on its privilege-separation directory.
        if user() == "root" {
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        let keygen = tool("ssh-keygen");
        for name in ["host", "client"] {
            let p = dir.join(name);
            let _ = std::fs::remove_file(&p);
            let _ = std::fs::remove_file(p.with_extension("pub"));
            let o = Command::new(&keygen)
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(&p)
                .output()
                .unwrap();
            assert!(o.status.success(), "ssh-keygen: {o:?}");
        }
        std::fs::copy(dir.join("client.pub"), dir.join("authorized_keys")).unwrap();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nHostKey {host}\nPidFile none\nUsePAM no\nStrictModes no\n\
                 AuthorizedKeysFile {ak}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nPermitRootLogin prohibit-password\n\
                 Subsystem sftp internal-sftp\nLogLevel VERBOSE\nMaxStartups 100:30:200\nMaxSessions 50\n",
                host = dir.join("host").display(),
                ak = dir.join("authorized_keys").display(),
            ),
        )
        .unwrap();
        let log = dir.join("sshd.log");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let port = free_port();
            let child = Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .args(["-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("start sshd");
            let mut sshd = Sshd {
                child,
                port,
                log: log.clone(),
                host_pub: std::fs::read_to_string(dir.join("host.pub")).unwrap(),
                client_key: dir.join("client"),
            };
            while Instant::now() < deadline {
                if sshd.log_text().contains("Server listening") {
                    return sshd;
                }
                if let Ok(Some(_)) = sshd.child.try_wait() {
                    break; // port taken between the probe and sshd's bind: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let text = sshd.log_text();
            assert!(
                Instant::now() < deadline,
                "sshd did not start listening: {text}"
            );
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The known_hosts line for this server.
    fn known_hosts_line(&self) -> String {
        let mut f = self.host_pub.split_whitespace();
        let (t, k) = (f.next().unwrap(), f.next().unwrap());
        format!("[127.0.0.1]:{} {t} {k}\n", self.port)
    }

    /// How many exec sessions ("command") the server has started so far.
    fn commands_started(&self) -> usize {
        self.log_text().matches("Starting session: command").count()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Awkward values: quotes, `$`, `#`, spaces, newlines, backslashes, a backtick, unicode.
fn awkward() -> serde_json::Value {
    serde_json::json!({
        "smtp": {
            "host": "mail.example.net",
            "password": "it's a \"quoted\" $HOME #not-a-comment"
        },
        "multi": "line1\nline2\n  indented # too\n",
        "dollar": "$$ ${X} $1 \\$ $",
        "back": "C:\\path\\",
        "spaces": "  padded  ",
        "tick": "`id` stays",
        "empty": "",
        "hash": "#start",
        "unicode": "é ✓",
        "port": 587
    })
}

fn expected_awkward() -> Vec<(&'static str, String)> {
    vec![
        ("smtp_host", "mail.example.net".into()),
        (
            "smtp_password",
            "it's a \"quoted\" $HOME #not-a-comment".into(),
        ),
        ("multi", "line1\nline2\n  indented # too\n".into()),
        ("dollar", "$$ ${X} $1 \\$ $".into()),
        ("back", "C:\\path\\".into()),
        ("spaces", "  padded  ".into()),
        ("tick", "`id` stays".into()),
        ("empty", "".into()),
        ("hash", "#start".into()),
        ("unicode", "é ✓".into()),
        ("port", "587".into()),
    ]
}

/// A repository with a `.sops.yaml` whose `spx: sync:` section is `targets` (indented by the
/// caller at 4 spaces), and helpers to write encrypted sources with the real sops.
struct Repo {
    fx: Fx,
}

impl Repo {
    fn new() -> Repo {
        Repo { fx: Fx::new() }
    }

    fn config(&self, targets: &str) {
        self.fx.write(
            ".sops.yaml",
            &format!(
                "creation_rules:\n  - path_regex: secrets/.*\n    age: {}\nspx:\n  sync:\n{targets}",
                self.fx.public
            ),
        );
    }

    /// Write `secrets/<name>` encrypted by the real sops (JSON text is valid YAML).
    fn secret(&self, name: &str, value: &serde_json::Value) {
        let rel = format!("secrets/{name}");
        self.fx
            .write(&rel, &serde_json::to_string_pretty(value).unwrap());
        self.fx
            .sops_ok(&["encrypt", "-i", "--age", &self.fx.public.clone(), &rel]);
    }

    fn spx(&self, sshd: Option<&Sshd>, args: &[&str]) -> Output {
        let mut c = self.fx.spx_cmd(args);
        c.env_remove("SSH_AUTH_SOCK")
            .env_remove("SPX_SSH_KEY")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_API_URL")
            .env_remove("GITHUB_REPOSITORY");
        if let Some(s) = sshd {
            c.env("SPX_SSH_KEY_FILE", &s.client_key);
        }
        c.output().unwrap()
    }

    fn remote(&self, rel: &str) -> PathBuf {
        self.fx.path(&format!("remote/{rel}"))
    }

    /// A restart script that counts its runs in `remote/<name>.count` and fails while
    /// `remote/<name>.fail` exists.
    fn restart_script(&self, name: &str) -> String {
        let count = self.remote(&format!("{name}.count"));
        let fail = self.remote(&format!("{name}.fail"));
        let p = self.fx.write(
            &format!("remote/{name}.restart.sh"),
            &format!(
                "#!/bin/sh\necho run >> '{}'\nif [ -e '{}' ]; then echo 'compose: service failed' >&2; exit 3; fi\nexit 0\n",
                count.display(),
                fail.display()
            ),
        );
        format!("sh {}", p.display())
    }

    fn restarts(&self, name: &str) -> usize {
        std::fs::read_to_string(self.remote(&format!("{name}.count")))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn ssh_target(&self, name: &str, sshd: &Sshd, sources: &[&str]) -> String {
        std::fs::create_dir_all(self.remote(name)).unwrap();
        format!(
            "    {name}:\n      ssh: {user}@127.0.0.1:{port}\n      known_hosts: ops/known_hosts\n      env_file: {env}\n      sources: [{src}]\n      restart: {restart}\n      age_key: {age}\n",
            user = user(),
            port = sshd.port,
            env = self.remote(&format!("{name}/.env")).display(),
            src = sources.join(", "),
            restart = self.restart_script(name),
            age = self.remote(&format!("{name}/age.key")).display(),
        )
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Read a variable back through `sh`: `. file; printf %s "$NAME"`.
fn sh_read(file: &Path, name: &str) -> String {
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg("set -e; . \"$1\"; eval \"v=\\${$2}\"; printf %s \"$v\"")
        .arg("sh")
        .arg(file)
        .arg(name)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sh could not source {}: {o:?}",
        file.display()
    );
    String::from_utf8(o.stdout).unwrap()
}

fn assert_no_values(out: &str, values: &[(&str, String)]) {
    for (name, v) in values {
        if v.len() >= 4 {
            assert!(!out.contains(v.as_str()), "value of {name} printed:\n{out}");
        }
    }
}

fn trusted(repo: &Repo, sshd: &Sshd) {
    repo.fx.write("ops/known_hosts", &sshd.known_hosts_line());
}

#[test]
fn first_sync_writes_env_exactly_then_resync_changes_nothing() {
    let repo = Repo::new();
    let sshd = Sshd::start(&repo.fx.path("sshd"));
    trusted(&repo, &sshd);
    repo.secret("shared.sops.yaml", &awkward());
    let t = repo.ssh_target("vps", &sshd, &["secrets/shared.sops.yaml"]);
    repo.config(&t);
    let env = repo.remote("vps/.env");
    let values = expected_awkward();

    // Dry run: a plan of additions, nothing written, no restart.
    let o = repo.spx(Some(&sshd), &["sync", "--dry-run"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for (name, v) in &values {
        let fp = common::sha256_prefix(v);
        assert!(
            out.contains(&format!("+ {name}  sha256:{fp}")),
            "{name} missing from plan:\n{out}"
        );
    }
    assert!(!env.exists());
    assert_eq!(repo.restarts("vps"), 0);
    assert_no_values(&out, &values);

    // First sync: written 0600, every value exact through sh, restart once.
    let o = repo.spx(Some(&sshd), &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("updated (+11 ~0 -0)"), "{out}");
    assert_no_values(&out, &values);
    let md = std::fs::metadata(&env).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o600);
    for (name, v) in &values {
        assert_eq!(&sh_read(&env, name), v, "{name} through sh");
    }
    assert_eq!(repo.restarts("vps"), 1);
    assert!(!repo.remote("vps/.env.bak").exists());

    // Second sync: nothing to do, no write, no command run on the host, no restart.
    let before = (md.ino(), md.mtime_nsec(), md.ctime_nsec());
    let commands = sshd.commands_started();
    let o = repo.spx(Some(&sshd), &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("no changes (11 unchanged)"), "{out}");
    let md = std::fs::metadata(&env).unwrap();
    assert_eq!((md.ino(), md.mtime_nsec(), md.ctime_nsec()), before);
    assert_eq!(
        sshd.commands_started(),
        commands,
        "a command ran on the host"
    );
    assert_eq!(repo.restarts("vps"), 1);
    assert!(!repo.remote("vps/.env.bak").exists());
    let leftovers: Vec<_> = std::fs::read_dir(repo.remote("vps"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("spx"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn changed_value_updates_only_the_target_that_uses_it() {
    let repo = Repo::new();
    let sshd = Sshd::start(&repo.fx.path("sshd"));
    trusted(&repo, &sshd);
    repo.secret(
        "shared.sops.yaml",
        &serde_json::json!({"smtp_host": "mail", "webhook": "https://h/1"}),
    );
    repo.secret(
        "a.sops.yaml",
        &serde_json::json!({"db_password": "alpha-1"}),
    );
    repo.secret("b.sops.yaml", &serde_json::json!({"api_key": "bravo-1"}));
    let ta = repo.ssh_target(
        "a",
        &sshd,
        &["secrets/shared.sops.yaml", "secrets/a.sops.yaml"],
    );
    let tb = repo.ssh_target(
        "b",
        &sshd,
        &["secrets/shared.sops.yaml", "secrets/b.sops.yaml"],
    );
    repo.config(&format!("{ta}{tb}"));
    let o = repo.spx(Some(&sshd), &["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!((repo.restarts("a"), repo.restarts("b")), (1, 1));
    let b_before = std::fs::metadata(repo.remote("b/.env")).unwrap().ino();

    repo.fx.sops_ok(&[
        "set",
        "secrets/a.sops.yaml",
        "[\"db_password\"]",
        "\"alpha-2\"",
    ]);
    let o = repo.spx(Some(&sshd), &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "~ db_password  sha256:{} -> sha256:{}",
            common::sha256_prefix("alpha-1"),
            common::sha256_prefix("alpha-2")
        )),
        "{out}"
    );
    assert!(
        out.contains("1 updated") && out.contains("1 unchanged"),
        "{out}"
    );
    assert!(!out.contains("alpha-2"));
    assert_eq!(sh_read(&repo.remote("a/.env"), "db_password"), "alpha-2");
    assert_eq!(
        sh_read(&repo.remote("a/.env.bak"), "db_password"),
        "alpha-1"
    );
    assert_eq!((repo.restarts("a"), repo.restarts("b")), (2, 1));
    assert_eq!(
        std::fs::metadata(repo.remote("b/.env")).unwrap().ino(),
        b_before
    );
    assert!(!repo.remote("b/.env.bak").exists());

    // A key removed from the sources is removed from the file: `- NAME`.
    repo.fx
        .sops_ok(&["unset", "secrets/shared.sops.yaml", "[\"webhook\"]"]);
    let o = repo.spx(Some(&sshd), &["sync", "b"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "- webhook  sha256:{}",
            common::sha256_prefix("https://h/1")
        )),
        "{out}"
    );
    assert!(!out.contains("\na ("), "only target b runs: {out}");
    assert_eq!(sh_read(&repo.remote("b/.env"), "webhook"), "");
    assert!(!std::fs::read_to_string(repo.remote("b/.env"))
        .unwrap()
        .contains("webhook"));
}

#[test]
fn unknown_or_changed_host_key_is_refused_and_the_file_untouched() {
    let repo = Repo::new();
    let sshd = Sshd::start(&repo.fx.path("sshd"));
    repo.secret("s.sops.yaml", &serde_json::json!({"token": "tok-123456"}));
    let t = repo.ssh_target("vps", &sshd, &["secrets/s.sops.yaml"]);
    repo.config(&t);
    let env = repo.remote("vps/.env");
    std::fs::write(&env, "token='deployed-before'\n").unwrap();

    // Changed key: another key recorded for this host.
    let other = repo.fx.path("other");
    let o = Command::new(tool("ssh-keygen"))
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(o.status.success());
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let mut f = other_pub.split_whitespace();
    let line = format!(
        "[127.0.0.1]:{} {} {}\n",
        sshd.port,
        f.next().unwrap(),
        f.next().unwrap()
    );
    repo.fx.write("ops/known_hosts", &line);
    let o = repo.spx(Some(&sshd), &["sync", "--accept-new-host-key"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(
        out.contains("REFUSED") && out.contains("does not match"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&env).unwrap(),
        "token='deployed-before'\n"
    );
    assert_eq!(
        repo.fx.read("ops/known_hosts"),
        line,
        "a changed key is never replaced"
    );
    assert_eq!(repo.restarts("vps"), 0);

    // Unknown host: refused without the flag...
    repo.fx.write("ops/known_hosts", "");
    let o = repo.spx(Some(&sshd), &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(
        out.contains("REFUSED") && out.contains("--accept-new-host-key"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&env).unwrap(),
        "token='deployed-before'\n"
    );
    assert_eq!(repo.fx.read("ops/known_hosts"), "");

    // ...and recorded with it.
    let o = repo.spx(Some(&sshd), &["sync", "--accept-new-host-key"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("recorded"), "{out}");
    assert_eq!(repo.fx.read("ops/known_hosts"), sshd.known_hosts_line());
    assert_eq!(sh_read(&env, "token"), "tok-123456");
    assert!(out.contains(&format!(
        "~ token  sha256:{}",
        common::sha256_prefix("deployed-before")
    )));
}

#[test]
fn failing_restart_restores_the_previous_file() {
    let repo = Repo::new();
    let sshd = Sshd::start(&repo.fx.path("sshd"));
    trusted(&repo, &sshd);
    repo.secret(
        "s.sops.yaml",
        &serde_json::json!({"db_password": "first-pass"}),
    );
    let t = repo.ssh_target("vps", &sshd, &["secrets/s.sops.yaml"]);
    repo.config(&t);
    let env = repo.remote("vps/.env");

    // No file before and the restart fails: the new file is taken away again.
    std::fs::write(repo.remote("vps.fail"), "").unwrap();
    let o = repo.spx(Some(&sshd), &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(out.contains("new .env was removed"), "{out}");
    assert!(!env.exists());
    std::fs::remove_file(repo.remote("vps.fail")).unwrap();

    let o = repo.spx(Some(&sshd), &["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let good = std::fs::read(&env).unwrap();

    repo.fx.sops_ok(&[
        "set",
        "secrets/s.sops.yaml",
        "[\"db_password\"]",
        "\"second-pass\"",
    ]);
    std::fs::write(repo.remote("vps.fail"), "").unwrap();
    let o = repo.spx(Some(&sshd), &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(out.contains("restart exited with status 3"), "{out}");
    assert!(
        out.contains("compose: service failed"),
        "restart output shown: {out}"
    );
    assert!(out.contains("previous .env was restored"), "{out}");
    assert!(!out.contains("second-pass") && !out.contains("first-pass"));
    assert_eq!(std::fs::read(&env).unwrap(), good);
    assert_eq!(
        std::fs::metadata(&env).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(repo.restarts("vps"), 3);

    // Once the service is fixed, the next sync applies the change.
    std::fs::remove_file(repo.remote("vps.fail")).unwrap();
    let o = repo.spx(Some(&sshd), &["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(sh_read(&env, "db_password"), "second-pass");
}

#[test]
fn check_reports_missing_identity_drift_and_unreachable_with_distinct_codes() {
    let repo = Repo::new();
    let sshd = Sshd::start(&repo.fx.path("sshd"));
    trusted(&repo, &sshd);
    repo.secret("s.sops.yaml", &serde_json::json!({"k": "v1-value"}));
    let t = repo.ssh_target("vps", &sshd, &["secrets/s.sops.yaml"]);
    repo.config(&t);
    let o = repo.spx(Some(&sshd), &["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let commands = sshd.commands_started();

    // No identity file on the host: AgeKeyMissing, exit 16+2.
    let o = repo.spx(Some(&sshd), &["sync", "--check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(18), "{out}");
    assert!(
        out.contains("MISSING (AgeKeyMissing)") && out.contains("reachable"),
        "{out}"
    );

    // Present but readable by others: still a problem.
    let key = repo.remote("vps/age.key");
    std::fs::write(&key, "AGE-SECRET-KEY-1TEST\n").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = repo.spx(Some(&sshd), &["sync", "--check"]);
    assert_eq!(o.status.code(), Some(18), "{}", text(&o));
    assert!(text(&o).contains("0644"));

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = repo.spx(Some(&sshd), &["sync", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The key's contents in SPX_SSH_KEY, as CI passes it (without its final newline).
    let contents = std::fs::read_to_string(&sshd.client_key).unwrap();
    let o = repo
        .fx
        .spx_cmd(&["sync", "--check"])
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("SPX_SSH_KEY_FILE")
        .env("SPX_SSH_KEY", contents.trim_end())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // No key at all: unreachable, with what to set.
    let o = repo.spx(None, &["sync", "--check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(out.contains("SPX_SSH_KEY_FILE"), "{out}");

    // Drift: exit 16+1, nothing written.
    repo.fx
        .sops_ok(&["set", "secrets/s.sops.yaml", "[\"k\"]", "\"v2-value\""]);
    let o = repo.spx(Some(&sshd), &["sync", "--check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(17), "{out}");
    assert!(out.contains("drift"), "{out}");
    assert_eq!(sh_read(&repo.remote("vps/.env"), "k"), "v1-value");
    assert_eq!(sshd.commands_started(), commands, "--check ran a command");
    assert_eq!(repo.restarts("vps"), 1);

    // Unreachable: 16+4 (and the others' bits still counted).
    std::fs::remove_file(&key).unwrap();
    let dead = free_port();
    let t2 = repo
        .ssh_target("vps", &sshd, &["secrets/s.sops.yaml"])
        .replace(
            &format!("127.0.0.1:{}", sshd.port),
            &format!("127.0.0.1:{dead}"),
        );
    let t2 = t2.replace("    vps:", "    gone:");
    repo.config(&format!("{t}{t2}"));
    let o = repo.spx(Some(&sshd), &["sync", "--check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(16 + 4 + 2 + 1), "{out}");
    assert!(out.contains("unreachable"), "{out}");
}

#[test]
fn invalid_names_and_unquotable_values_name_the_file_and_key() {
    let repo = Repo::new();
    repo.secret(
        "s.sops.yaml",
        &serde_json::json!({"db": {"pass-word": "secret-value-1"}}),
    );
    repo.config("    vps:\n      ssh: root@127.0.0.1:1\n      env_file: /nonexistent/.env\n      sources: [secrets/s.sops.yaml]\n");
    let o = repo.spx(None, &["sync", "--dry-run"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(
        out.contains("secrets/s.sops.yaml") && out.contains("db.pass-word"),
        "{out}"
    );
    assert!(!out.contains("secret-value-1"));

    repo.secret("s.sops.yaml", &serde_json::json!({"x": "it's `here`"}));
    let o = repo.spx(None, &["sync", "--dry-run"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(
        out.contains("secrets/s.sops.yaml: key x") && out.contains("backtick"),
        "{out}"
    );

    let o = repo.spx(None, &["sync", "nosuch"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).contains("known: vps"));
}

fn gh_spx(repo: &Repo, gh: &FakeGitHub, token: &str, args: &[&str]) -> Output {
    let mut c = repo.fx.spx_cmd(args);
    c.env_remove("SSH_AUTH_SOCK")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env("GITHUB_API_URL", gh.url())
        .env("GITHUB_TOKEN", token);
    c.output().unwrap()
}

#[test]
fn github_secrets_are_sealed_sent_once_and_pruned() {
    let repo = Repo::new();
    let gh = FakeGitHub::start();
    let values = serde_json::json!({
        "deploy_token": "ghp-deploy-0001",
        "api": {"key": "k-12345 with spaces"},
        "multi": "line1\nline2 'q' \"d\" $x `t`"
    });
    repo.secret("github-actions.sops.yaml", &values);
    repo.config(
        "    gh:\n      github: acme/app\n      sources: [secrets/github-actions.sops.yaml]\n",
    );
    let expected = [
        ("DEPLOY_TOKEN", "ghp-deploy-0001"),
        ("API_KEY", "k-12345 with spaces"),
        ("MULTI", "line1\nline2 'q' \"d\" $x `t`"),
    ];

    let o = gh_spx(&repo, &gh, "test-token", &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("updated (+3 ~0 -0)"), "{out}");
    for (_, v) in &expected {
        assert!(!out.contains(v), "value printed: {out}");
    }
    let st = gh.state();
    let secrets = &st["secrets"]["acme/app"];
    for (n, v) in &expected {
        assert_eq!(secrets[n], *v, "{n} as opened by PyNaCl");
    }
    let recorded: serde_json::Value = serde_json::from_str(
        st["variables"]["acme/app"]["SPX_SYNC_STATE"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(recorded["secrets"].as_object().unwrap().len(), 3);
    for (_, v) in &expected {
        assert!(!st["variables"].to_string().contains(v));
    }
    assert_eq!(gh.count("PUT", "/secrets/"), 3);

    // Unchanged: nothing re-sent, no variable written.
    let o = gh_spx(&repo, &gh, "test-token", &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("no changes (3 unchanged)"), "{out}");
    assert_eq!(gh.count("PUT", "/secrets/"), 3);
    assert_eq!(gh.count("PATCH", "/variables/"), 0);

    // One change: one PUT. A key gone: shown, kept without --prune, deleted with it.
    repo.fx.sops_ok(&[
        "set",
        "secrets/github-actions.sops.yaml",
        "[\"deploy_token\"]",
        "\"ghp-deploy-0002\"",
    ]);
    repo.fx
        .sops_ok(&["unset", "secrets/github-actions.sops.yaml", "[\"multi\"]"]);
    let o = gh_spx(&repo, &gh, "test-token", &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "~ DEPLOY_TOKEN  (hidden) -> sha256:{}",
            common::sha256_prefix("ghp-deploy-0002")
        )),
        "{out}"
    );
    assert!(
        out.contains("- MULTI") && out.contains("--prune deletes it"),
        "{out}"
    );
    assert_eq!(gh.count("PUT", "/secrets/"), 4);
    assert_eq!(
        gh.state()["secrets"]["acme/app"]["DEPLOY_TOKEN"],
        "ghp-deploy-0002"
    );
    assert_eq!(gh.count("DELETE", "/secrets/"), 0);

    // A secret spx never pushed is left alone by --prune.
    ureq::post(&format!("{}/_secret", gh.url()))
        .header("Content-Type", "application/json")
        .send(
            serde_json::json!({"scope": "acme/app", "name": "HAND_MADE", "value": "by-hand"})
                .to_string(),
        )
        .unwrap();
    let o = gh_spx(
        &repo,
        &gh,
        "test-token",
        &[
            "sync",
            "--prune",
            "--comment-commit",
            "0123abcd",
            "--comment-repo",
            "acme/app",
        ],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(gh.count("DELETE", "/secrets/MULTI"), 1);
    let st = gh.state();
    assert!(st["secrets"]["acme/app"].get("MULTI").is_none());
    assert_eq!(st["secrets"]["acme/app"]["HAND_MADE"], "by-hand");
    assert!(out.contains("1 other secret(s)"), "{out}");
    assert_eq!(gh.count("PUT", "/secrets/"), 4);
    let comment = &st["comments"][0];
    assert_eq!(comment["sha"], "0123abcd");
    let body = comment["body"].as_str().unwrap();
    assert!(body.contains("`MULTI`") && body.contains("gh"), "{body}");
    for (_, v) in &expected {
        assert!(!body.contains(v));
    }

    // Drift shows in --check.
    repo.fx.sops_ok(&[
        "set",
        "secrets/github-actions.sops.yaml",
        "[\"api\"][\"key\"]",
        "\"k-2\"",
    ]);
    let o = gh_spx(&repo, &gh, "test-token", &["sync", "--check"]);
    assert_eq!(o.status.code(), Some(17), "{}", text(&o));
}

#[test]
fn github_environment_scope_and_unmanaged_secrets() {
    let repo = Repo::new();
    let gh = FakeGitHub::start();
    repo.secret("g.sops.yaml", &serde_json::json!({"a": "value-a"}));
    repo.config("    prod:\n      github: acme/app\n      environment: production\n      sources: [secrets/g.sops.yaml]\n      case: upper\n");
    let o = gh_spx(&repo, &gh, "test-token", &["sync", "--prune"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let st = gh.state();
    assert_eq!(st["secrets"]["acme/app@production"]["A"], "value-a");
    assert!(st["variables"]["acme/app@production"]["SPX_SYNC_STATE"].is_string());
    assert!(gh.count("GET", "/environments/production/secrets/public-key") >= 1);
}

#[test]
fn github_403_says_which_permission_is_missing() {
    let repo = Repo::new();
    let gh = FakeGitHub::start();
    repo.secret("g.sops.yaml", &serde_json::json!({"a": "value-a"}));
    repo.config("    gh:\n      github: acme/app\n      sources: [secrets/g.sops.yaml]\n");
    let o = gh_spx(&repo, &gh, "readonly-token", &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(out.contains("forbidden (403"), "{out}");
    assert!(out.contains("Secrets: read and write"), "{out}");
    assert!(
        out.contains("X-Accepted-GitHub-Permissions: secrets=write"),
        "{out}"
    );
    assert!(
        out.contains("GITHUB_TOKEN cannot write Actions secrets"),
        "{out}"
    );

    let o = gh_spx(&repo, &gh, "wrong-token", &["sync"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(
        out.contains("401") && out.contains("rejected the token"),
        "{out}"
    );
}

#[test]
fn github_server_errors_and_rate_limits_are_retried() {
    let repo = Repo::new();
    let gh = FakeGitHub::start();
    repo.secret("g.sops.yaml", &serde_json::json!({"a": "value-a"}));
    repo.config("    gh:\n      github: acme/app\n      sources: [secrets/g.sops.yaml]\n");
    gh.fail(serde_json::json!({"method": "PUT", "path_contains": "/secrets/A", "status": 502, "times": 1}));
    gh.fail(serde_json::json!({"method": "GET", "path_contains": "public-key", "status": 403, "times": 1,
                               "headers": {"Retry-After": "1", "X-RateLimit-Remaining": "0"}}));
    let o = gh_spx(&repo, &gh, "test-token", &["sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(gh.count("PUT", "/secrets/A"), 2);
    assert_eq!(gh.count("GET", "public-key"), 2);
    assert_eq!(gh.state()["secrets"]["acme/app"]["A"], "value-a");
}

#[test]
fn targets_run_in_parallel_and_one_failure_does_not_stop_the_others() {
    let repo = Repo::new();
    let sshd = Sshd::start(&repo.fx.path("sshd"));
    trusted(&repo, &sshd);
    repo.secret("s.sops.yaml", &serde_json::json!({"k": "value-k"}));
    let mut cfg = String::new();
    for i in 0..4 {
        cfg.push_str(&repo.ssh_target(&format!("h{i}"), &sshd, &["secrets/s.sops.yaml"]));
    }
    // A target whose directory does not exist fails; the others are still done.
    cfg.push_str(
        &repo
            .ssh_target("bad", &sshd, &["secrets/s.sops.yaml"])
            .replace("remote/bad/.env", "remote/missing-dir/.env"),
    );
    // A target whose source this identity cannot open fails alone too.
    let (_, other_pub) = common::keygen(&repo.fx.path("other-key.txt"));
    repo.fx
        .write("secrets/locked.sops.yaml", "k: locked-value\n");
    repo.fx.sops_ok(&[
        "encrypt",
        "-i",
        "--age",
        &other_pub,
        "secrets/locked.sops.yaml",
    ]);
    cfg.push_str(&repo.ssh_target("locked", &sshd, &["secrets/locked.sops.yaml"]));
    repo.config(&cfg);
    let o = repo.spx(Some(&sshd), &["sync", "--jobs", "3"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(20), "{out}");
    assert!(
        out.contains("4 updated") && out.contains("2 failed"),
        "{out}"
    );
    assert!(out.contains("no identity can decrypt"), "{out}");
    assert!(!repo.remote("locked/.env").exists());
    for i in 0..4 {
        assert_eq!(sh_read(&repo.remote(&format!("h{i}/.env")), "k"), "value-k");
    }
}

#[test]
fn workflows_pass_actionlint_and_zizmor() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wf = root.join(".github/workflows");
    for f in ["secrets-sync.yml", "ci.yml"] {
        assert!(wf.join(f).is_file(), "{f} missing");
    }
    let actionlint = tool("actionlint");
    let o = Command::new(actionlint)
        .current_dir(root)
        .arg("-no-color")
        .arg(wf.join("secrets-sync.yml"))
        .arg(wf.join("ci.yml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "actionlint:\n{}", text(&o));
    let zizmor = tool("zizmor");
    let o = Command::new(zizmor)
        .current_dir(root)
        .args(["--offline", "--no-progress"])
        .arg(&wf)
        .output()
        .unwrap();
    assert!(o.status.success(), "zizmor:\n{}", text(&o));
    let _ = std::io::stdout().flush();
}
