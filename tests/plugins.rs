//! Hardware and plugin keys: an age plugin (tests/helpers/age-plugin-spxtest, speaking the age
//! plugin protocol) wraps and unwraps a data key, interoperably with real sops; and a
//! passphrase-protected identity file is opened with a passphrase typed on a terminal.

mod common;
use common::*;
use std::process::Command;

fn with_plugin_path(c: &mut Command) -> &mut Command {
    let helpers = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helpers");
    c.env(
        "PATH",
        format!("{helpers}:{}", std::env::var("PATH").unwrap()),
    )
}

fn plugin_keys() -> (String, String) {
    let o = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/helpers/age-plugin-spxtest"
    ))
    .arg("--keys")
    .output()
    .expect("python3 runs the test plugin");
    let out = String::from_utf8(o.stdout).unwrap();
    let mut l = out.lines();
    (l.next().unwrap().to_string(), l.next().unwrap().to_string())
}

#[test]
fn age_plugin_recipient_and_identity_interoperate_with_sops() {
    let fx = Fx::new();
    let (recipient, identity) = plugin_keys();
    assert!(recipient.starts_with("age1spxtest1"));
    fx.write(
        "plugin-id.txt",
        &format!("# test plugin identity\n{identity}\n"),
    );
    fx.write("p.yaml", "secret: plugged-in\n");
    for maker in ["spx", "sops"] {
        let args = ["encrypt", "--age", recipient.as_str(), "p.yaml"];
        let mut c = if maker == "spx" {
            fx.spx_cmd(&args)
        } else {
            fx.sops_cmd(&args)
        };
        let o = with_plugin_path(&mut c).output().unwrap();
        assert!(
            o.status.success(),
            "{maker} encrypt: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::write(fx.path("e.yaml"), &o.stdout).unwrap();
        assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("recipient: {recipient}")));
        for reader in ["spx", "sops"] {
            let mut c = if reader == "spx" {
                fx.spx_cmd(&["decrypt", "e.yaml"])
            } else {
                fx.sops_cmd(&["decrypt", "e.yaml"])
            };
            let o = with_plugin_path(&mut c)
                .env("SOPS_AGE_KEY_FILE", fx.path("plugin-id.txt"))
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{maker}→{reader}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(o.stdout, b"secret: plugged-in\n");
        }
    }
    // The plugin binary missing: a clear error, not a crash.
    let o = fx.spx(&["decrypt", "e.yaml"]);
    assert_eq!(o.status.code(), Some(128));
}

#[test]
fn passphrase_protected_identity_file_asks_on_the_terminal() {
    let fx = Fx::new();
    fx.write("p.yaml", "k: v\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    std::fs::write(fx.path("e.yaml"), enc).unwrap();
    // Encrypt the identity with the real `age -p`, typing the passphrase on a pseudo-terminal.
    let sh = |cmd: &str, input: &str| {
        let o = Command::new("sh")
            .current_dir(fx.dir.path())
            .arg("-c")
            .arg(format!("({input}) | script -qec \"{cmd}\" /dev/null"))
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .env("HOME", fx.path("home"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    sh(
        &format!(
            "{} -p -a -o id.age {}",
            tool("age").display(),
            fx.key_file.display()
        ),
        "sleep 1; printf 'correct horse\\n'; sleep 1; printf 'correct horse\\n'",
    );
    assert!(fx
        .read("id.age")
        .starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let spx = env!("CARGO_BIN_EXE_spx");
    let out = sh(
        &format!("SOPS_AGE_KEY_FILE=id.age {spx} decrypt e.yaml"),
        "sleep 1; printf 'correct horse\\n'",
    );
    assert!(out.contains("passphrase") && out.contains("k: v"), "{out}");
    assert!(!out.contains("correct horse"), "passphrase echoed: {out}");
    // Without a terminal the passphrase cannot be asked: a clear failure.
    let o = fx
        .spx_cmd(&["decrypt", "e.yaml"])
        .env("SOPS_AGE_KEY_FILE", fx.path("id.age"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(128),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
