//! Interoperability with the real sops 3.11 and age 1.1.1 binaries, in both directions, for
//! every store; and sops's exit codes for broken inputs.

mod common;
use common::*;

const YAML: &str = r#"# top comment
smtp:
    host: smtp.example.net # inline
    port: 587
    # rotated quarterly
    password: "hunter2: the sequel"
    enabled: true
    ratio: 0.25
    big: 1e10
    started: 2024-01-15
hosts:
    - a.example
    # a list comment
    - b.example
nested:
    - name: x
      token: abc
    - - 1
      - 2
multi: |
    line one
    line two
empty: ""
nothing: null
emptymap: {}
emptylist: []
yes_string: yes
quoted_number: "0755"
emoji: "🔑 key"
public_unencrypted: visible
"#;

const JSON: &str = r#"{
	"db": {
		"password": "p<a>&ss\"word",
		"port": 5432,
		"ratio": 1.5e-7,
		"flags": [true, false, null],
		"empty": {}
	},
	"list": [],
	"unicode": "héllo ✓ \u2028",
	"big": 12345678901234567890
}
"#;

const DOTENV: &str = "# comment line\nDB_PASSWORD=hunter2\nQUOTED=\"x y\"\nEQ=a=b=c\nexport EXPORTED=1\nMULTI=line1\\nline2\n";

const INI: &str = "[database]\nuser = admin\npassword = s3cret\n\n[api]\ntoken = abc123\n";

/// Encrypt `plain` with sops and decrypt with both: spx's output must equal sops's byte for byte.
fn sops_to_spx(name: &str, plain: &str, extra: &[&str]) {
    let fx = Fx::new();
    fx.write(name, plain);
    let mut args = vec!["encrypt", "--age", &fx.public];
    args.extend_from_slice(extra);
    args.push(name);
    let enc = fx.sops_ok(&args);
    let enc_name = format!("enc-{name}");
    std::fs::write(fx.path(&enc_name), &enc).unwrap();
    let by_sops = fx.sops_ok(&["decrypt", &enc_name]);
    let by_spx = fx.spx_ok(&["decrypt", &enc_name]);
    assert_eq!(
        String::from_utf8_lossy(&by_spx),
        String::from_utf8_lossy(&by_sops),
        "spx and sops decrypt {name} differently"
    );
}

/// Encrypt with spx, decrypt with sops and spx: equal, and equal to sops's own round trip.
fn spx_to_sops(name: &str, plain: &str, extra: &[&str]) {
    let fx = Fx::new();
    fx.write(name, plain);
    let mut args = vec!["encrypt", "--age", &fx.public];
    args.extend_from_slice(extra);
    args.push(name);
    let enc = fx.spx_ok(&args);
    let enc_name = format!("enc-{name}");
    std::fs::write(fx.path(&enc_name), &enc).unwrap();
    let by_sops = fx.sops_ok(&["decrypt", &enc_name]);
    let by_spx = fx.spx_ok(&["decrypt", &enc_name]);
    assert_eq!(
        String::from_utf8_lossy(&by_sops),
        String::from_utf8_lossy(&by_spx)
    );
    // And the same plaintext as sops's own encrypt → decrypt.
    let sops_enc = fx.sops_ok(&args);
    std::fs::write(fx.path("sops-enc"), &sops_enc).unwrap();
    let mut dargs = vec!["decrypt"];
    if let Some(t) = type_of(name) {
        dargs.extend(["--input-type", t, "--output-type", t]);
    }
    dargs.push("sops-enc");
    let reference = fx.sops_ok(&dargs);
    assert_eq!(
        String::from_utf8_lossy(&by_sops),
        String::from_utf8_lossy(&reference)
    );
}

fn type_of(name: &str) -> Option<&'static str> {
    if name.ends_with(".yaml") {
        Some("yaml")
    } else if name.ends_with(".json") {
        Some("json")
    } else if name.ends_with(".env") {
        Some("dotenv")
    } else if name.ends_with(".ini") {
        Some("ini")
    } else {
        Some("binary")
    }
}

#[test]
fn yaml_sops_encrypted_spx_decrypts_byte_for_byte() {
    sops_to_spx("a.yaml", YAML, &[]);
}

#[test]
fn yaml_spx_encrypted_sops_decrypts_byte_for_byte() {
    spx_to_sops("a.yaml", YAML, &[]);
}

#[test]
fn json_both_directions() {
    sops_to_spx("a.json", JSON, &[]);
    spx_to_sops("a.json", JSON, &[]);
}

#[test]
fn dotenv_both_directions() {
    sops_to_spx("a.env", DOTENV, &[]);
    spx_to_sops("a.env", DOTENV, &[]);
}

#[test]
fn ini_both_directions() {
    sops_to_spx("a.ini", INI, &[]);
    spx_to_sops("a.ini", INI, &[]);
}

#[test]
fn binary_both_directions() {
    let data = "-----BEGIN CERT-----\nnot a yaml file: {[\n-----END CERT-----\n";
    sops_to_spx("cert.pem", data, &[]);
    spx_to_sops("cert.pem", data, &[]);
}

#[test]
fn selection_options_both_directions() {
    for extra in [
        &["--encrypted-regex", "^(password|token)$"][..],
        &["--unencrypted-regex", "^host$"][..],
        &["--encrypted-suffix", "word"][..],
        &["--unencrypted-suffix", "_plain"][..],
    ] {
        sops_to_spx("a.yaml", YAML, extra);
        spx_to_sops("a.yaml", YAML, extra);
    }
}

#[test]
fn multi_document_yaml_both_directions() {
    let plain = "a: 1\n---\nb: two\n";
    sops_to_spx("m.yaml", plain, &[]);
    spx_to_sops("m.yaml", plain, &[]);
}

#[test]
fn spx_encrypted_yaml_layout_is_sops_layout() {
    // spx's encrypted file, once its random parts are masked, looks like sops's.
    let fx = Fx::new();
    fx.write("a.yaml", YAML);
    let ours = String::from_utf8(fx.spx_ok(&["encrypt", "--age", &fx.public, "a.yaml"])).unwrap();
    let theirs =
        String::from_utf8(fx.sops_ok(&["encrypt", "--age", &fx.public, "a.yaml"])).unwrap();
    let mask = |s: &str| {
        let re = regex::Regex::new(r"ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,").unwrap();
        let s = re.replace_all(s, "ENC[…,").to_string();
        let mut out = Vec::new();
        let mut in_armor = false;
        for l in s.lines() {
            if l.contains("-----BEGIN AGE") {
                in_armor = true;
                out.push(l.to_string());
            } else if l.contains("-----END AGE") {
                in_armor = false;
                out.push(l.to_string());
            } else if !in_armor
                && !l.contains("lastmodified")
                && !l.trim_start().starts_with("mac:")
            {
                out.push(l.to_string());
            }
        }
        out.join("\n")
    };
    assert_eq!(mask(&ours), mask(&theirs));
}

#[test]
fn extract_matches_sops() {
    let fx = Fx::new();
    fx.write("a.yaml", YAML);
    let enc = fx.sops_ok(&["encrypt", "--age", &fx.public, "a.yaml"]);
    std::fs::write(fx.path("e.yaml"), enc).unwrap();
    for p in [
        r#"["smtp"]["password"]"#,
        r#"["smtp"]["port"]"#,
        r#"["hosts"][0]"#,
        r#"["smtp"]"#,
        r#"["smtp"]["enabled"]"#,
    ] {
        assert_eq!(
            fx.spx_ok(&["decrypt", "--extract", p, "e.yaml"]),
            fx.sops_ok(&["decrypt", "--extract", p, "e.yaml"]),
            "extract {p}"
        );
    }
    // A missing key and a syntax error give sops's exit codes.
    for (p, code) in [(r#"["nope"]"#, 1), ("nested", 91)] {
        let a = fx.spx(&["decrypt", "--extract", p, "e.yaml"]);
        let b = fx.sops(&["decrypt", "--extract", p, "e.yaml"]);
        assert_eq!(
            a.status.code(),
            Some(code),
            "{p}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_eq!(b.status.code(), Some(code));
    }
}

/// Break a sops-made file in a way, then check spx and sops agree on the exit code, print no
/// plaintext and leave the file untouched.
fn broken(mutate: &dyn Fn(&str) -> String, expected: i32, what: &str) {
    let fx = Fx::new();
    fx.write("a.yaml", "secret_value: correct-horse-battery\nother: 42\n");
    let enc = String::from_utf8(fx.sops_ok(&["encrypt", "--age", &fx.public, "a.yaml"])).unwrap();
    let bad = mutate(&enc);
    fx.write("bad.yaml", &bad);
    let ours = fx.spx(&["decrypt", "bad.yaml"]);
    let theirs = fx.sops(&["decrypt", "bad.yaml"]);
    assert_eq!(
        theirs.status.code(),
        Some(expected),
        "sops on {what}: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert_eq!(
        ours.status.code(),
        Some(expected),
        "spx on {what}: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&ours.stderr)
    );
    assert!(!all.contains("correct-horse"), "{what}: plaintext leaked");
    assert!(ours.stdout.is_empty(), "{what}: stdout not empty");
    assert!(!ours.stderr.is_empty(), "{what}: no error message");
    assert!(
        String::from_utf8_lossy(&ours.stderr).contains("bad.yaml"),
        "{what}: error does not name the file"
    );
    assert_eq!(fx.read("bad.yaml"), bad, "{what}: file changed");
}

#[test]
fn tampered_value_is_exit_25() {
    broken(
        &|s| {
            let re = regex::Regex::new(r"(secret_value: ENC\[AES256_GCM,data:)(.)").unwrap();
            re.replace(s, |c: &regex::Captures| {
                format!("{}{}", &c[1], if &c[2] == "A" { "B" } else { "A" })
            })
            .to_string()
        },
        25,
        "tampered value",
    );
}

#[test]
fn changed_lastmodified_is_exit_51() {
    broken(
        &|s| {
            let re = regex::Regex::new(r#"lastmodified: "(\d{4})"#).unwrap();
            re.replace(s, r#"lastmodified: "1999"#).to_string()
        },
        51,
        "changed lastmodified",
    );
}

#[test]
fn removed_mac_is_exit_51() {
    broken(
        &|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("mac:"))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        },
        51,
        "removed MAC",
    );
}

#[test]
fn swapped_values_are_exit_25() {
    broken(
        &|s| {
            let re = regex::Regex::new(r"secret_value: (ENC\[[^\]]*\])\nother: (ENC\[[^\]]*\])")
                .unwrap();
            re.replace(s, "secret_value: $2\nother: $1").to_string()
        },
        25,
        "values moved between keys",
    );
}

#[test]
fn not_a_sops_file_is_exit_1() {
    broken(&|_| "just: plaintext\n".to_string(), 1, "not a sops file");
}

#[test]
fn truncated_file_fails_like_sops() {
    let fx = Fx::new();
    fx.write("a.yaml", "secret_value: correct-horse-battery\n");
    let enc = String::from_utf8(fx.sops_ok(&["encrypt", "--age", &fx.public, "a.yaml"])).unwrap();
    let cut = &enc[..enc.len() / 2];
    fx.write("bad.yaml", cut);
    let ours = fx.spx(&["decrypt", "bad.yaml"]);
    let theirs = fx.sops(&["decrypt", "bad.yaml"]);
    assert!(!ours.status.success() && !theirs.status.success());
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    assert!(ours.stdout.is_empty());
}

#[test]
fn wrong_key_is_exit_128_and_lists_recipients() {
    let fx = Fx::new();
    fx.write("a.yaml", "secret_value: correct-horse-battery\n");
    let enc = fx.sops_ok(&["encrypt", "--age", &fx.public, "a.yaml"]);
    std::fs::write(fx.path("e.yaml"), enc).unwrap();
    let (other, _) = keygen(&fx.path("other.txt"));
    let o = fx
        .spx_cmd(&["decrypt", "e.yaml"])
        .env("SOPS_AGE_KEY_FILE", &other)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(128));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("e.yaml") && err.contains("no identity"),
        "{err}"
    );
    assert!(err.contains(&fx.public[..20]), "recipients listed: {err}");
    assert!(err.contains("SOPS_AGE_KEY_FILE"), "sources listed: {err}");
    let s = fx
        .sops_cmd(&["decrypt", "e.yaml"])
        .env("SOPS_AGE_KEY_FILE", &other)
        .output()
        .unwrap();
    assert_eq!(s.status.code(), Some(128));
}

#[test]
fn already_encrypted_is_exit_203() {
    let fx = Fx::new();
    fx.write("a.yaml", "x: 1\n");
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "a.yaml"]);
    std::fs::write(fx.path("e.yaml"), enc).unwrap();
    assert_eq!(
        fx.spx(&["encrypt", "--age", &fx.public, "e.yaml"])
            .status
            .code(),
        Some(203)
    );
    assert_eq!(
        fx.sops(&["encrypt", "--age", &fx.public, "e.yaml"])
            .status
            .code(),
        Some(203)
    );
}

#[test]
fn ignore_mac_reads_a_file_with_a_bad_mac() {
    let fx = Fx::new();
    fx.write("a.yaml", "x: 1\n");
    let enc = String::from_utf8(fx.sops_ok(&["encrypt", "--age", &fx.public, "a.yaml"])).unwrap();
    let re = regex::Regex::new(r#"lastmodified: "(\d{4})"#).unwrap();
    fx.write("e.yaml", &re.replace(&enc, r#"lastmodified: "1999"#));
    assert_eq!(fx.spx(&["decrypt", "e.yaml"]).status.code(), Some(51));
    assert_eq!(fx.spx_ok(&["decrypt", "--ignore-mac", "e.yaml"]), b"x: 1\n");
}

#[test]
fn shamir_key_groups_both_directions() {
    let fx = Fx::new();
    let (k2, p2) = keygen(&fx.path("k2.txt"));
    let (k3, p3) = keygen(&fx.path("k3.txt"));
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: .*\\.yaml$\n    shamir_threshold: 2\n    key_groups:\n      - age: [{}]\n      - age: [{p2}]\n      - age: [{p3}]\n",
            fx.public
        ),
    );
    fx.write("a.yaml", "secret: value\nnum: 3\n");
    let keys12 = format!(
        "{}{}",
        fx.read("key.txt"),
        std::fs::read_to_string(&k2).unwrap()
    );
    let keys3 = std::fs::read_to_string(&k3).unwrap();
    std::fs::write(fx.path("k12.txt"), &keys12).unwrap();
    for (maker, reader) in [("sops", "spx"), ("spx", "sops")] {
        let enc = if maker == "sops" {
            fx.sops_ok(&["encrypt", "a.yaml"])
        } else {
            fx.spx_ok(&["encrypt", "a.yaml"])
        };
        let text = String::from_utf8(enc.clone()).unwrap();
        assert!(
            text.contains("shamir_threshold: 2") && text.contains("hc_vault: []"),
            "{maker}: {text}"
        );
        std::fs::write(fx.path("e.yaml"), &enc).unwrap();
        let run = |who: &str, key: &std::path::Path| {
            let mut c = if who == "sops" {
                fx.sops_cmd(&["decrypt", "e.yaml"])
            } else {
                fx.spx_cmd(&["decrypt", "e.yaml"])
            };
            c.env("SOPS_AGE_KEY_FILE", key).output().unwrap()
        };
        let o = run(reader, &fx.path("k12.txt"));
        assert!(
            o.status.success(),
            "{maker}→{reader}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.stdout, b"secret: value\nnum: 3\n");
        // One group is not enough.
        std::fs::write(fx.path("k3only.txt"), &keys3).unwrap();
        assert_eq!(
            run(reader, &fx.path("k3only.txt")).status.code(),
            Some(128),
            "{maker}→{reader}"
        );
    }
}

#[test]
fn ssh_ed25519_recipient_both_directions() {
    let fx = Fx::new();
    let key = fx.path("id_ed25519");
    let o = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "dev@example", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (openssh-client) is installed");
    assert!(o.status.success());
    let public = std::fs::read_to_string(fx.path("id_ed25519.pub"))
        .unwrap()
        .trim()
        .to_string();
    fx.write("a.yaml", "secret: value\n");
    for (maker, reader) in [("sops", "spx"), ("spx", "sops")] {
        let args = ["encrypt", "--age", public.as_str(), "a.yaml"];
        let enc = if maker == "sops" {
            fx.sops_ok(&args)
        } else {
            fx.spx_ok(&args)
        };
        std::fs::write(fx.path("e.yaml"), enc).unwrap();
        let mut c = if reader == "sops" {
            fx.sops_cmd(&["decrypt", "e.yaml"])
        } else {
            fx.spx_cmd(&["decrypt", "e.yaml"])
        };
        let o = c
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &key)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{maker}→{reader}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.stdout, b"secret: value\n");
    }
}

#[test]
fn mac_only_encrypted_from_creation_rule_both_directions() {
    let fx = Fx::new();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - age: {}\n    mac_only_encrypted: true\n    encrypted_regex: ^secret$\n",
            fx.public
        ),
    );
    fx.write("a.yaml", "secret: value\npublic: 1\n");
    for maker in ["sops", "spx"] {
        let enc = if maker == "sops" {
            fx.sops_ok(&["encrypt", "a.yaml"])
        } else {
            fx.spx_ok(&["encrypt", "a.yaml"])
        };
        let text = String::from_utf8(enc).unwrap();
        assert!(text.contains("mac_only_encrypted: true"), "{maker}: {text}");
        // Editing a cleartext value does not break the MAC, for either tool.
        fx.write("e.yaml", &text.replace("public: 1", "public: 2"));
        assert_eq!(
            fx.sops_ok(&["decrypt", "e.yaml"]),
            b"secret: value\npublic: 2\n",
            "{maker}"
        );
        assert_eq!(
            fx.spx_ok(&["decrypt", "e.yaml"]),
            b"secret: value\npublic: 2\n",
            "{maker}"
        );
    }
}

#[test]
fn encrypted_comment_regex_from_creation_rule() {
    let fx = Fx::new();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - age: {}\n    encrypted_comment_regex: sops:enc\n",
            fx.public
        ),
    );
    fx.write(
        "a.yaml",
        "public: a\n# sops:enc\nsecret: b\nlist:\n    - x\n    # sops:enc\n    - y\n",
    );
    for maker in ["sops", "spx"] {
        let enc = if maker == "sops" {
            fx.sops_ok(&["encrypt", "a.yaml"])
        } else {
            fx.spx_ok(&["encrypt", "a.yaml"])
        };
        std::fs::write(fx.path("e.yaml"), &enc).unwrap();
        let text = String::from_utf8(enc).unwrap();
        assert!(
            text.contains("public: a") && !text.contains("secret: b"),
            "{maker}: {text}"
        );
        assert_eq!(
            fx.sops_ok(&["decrypt", "e.yaml"]),
            fx.spx_ok(&["decrypt", "e.yaml"]),
            "{maker}"
        );
    }
}

#[test]
fn creation_rules_pick_recipients_and_missing_rule_is_clear() {
    let fx = Fx::new();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {}\n",
            fx.public
        ),
    );
    fx.write("secrets/a.yaml", "k: v\n");
    fx.spx_ok(&["encrypt", "-i", "secrets/a.yaml"]);
    assert_eq!(fx.sops_ok(&["decrypt", "secrets/a.yaml"]), b"k: v\n");
    // The rule is found from a subdirectory too (paths relative to the config's directory).
    let o = fx
        .spx_cmd(&["decrypt", "a.yaml"])
        .current_dir(fx.path("secrets"))
        .output()
        .unwrap();
    assert_eq!(o.stdout, b"k: v\n");
    fx.write("other.yaml", "k: v\n");
    let o = fx.spx(&["encrypt", "other.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no creation rule") && err.contains("other.yaml"),
        "{err}"
    );
    assert_eq!(fx.read("other.yaml"), "k: v\n");
}

#[test]
fn real_age_opens_the_data_key_spx_wraps() {
    let fx = Fx::new();
    fx.write("a.yaml", "k: v\n");
    let enc = String::from_utf8(fx.spx_ok(&["encrypt", "--age", &fx.public, "a.yaml"])).unwrap();
    let start = enc.find("-----BEGIN AGE ENCRYPTED FILE-----").unwrap();
    let end = enc.find("-----END AGE ENCRYPTED FILE-----").unwrap()
        + "-----END AGE ENCRYPTED FILE-----".len();
    let armor: String = enc[start..end]
        .lines()
        .map(|l| l.trim().to_string() + "\n")
        .collect();
    fx.write("dk.age", &armor);
    let o = std::process::Command::new(tool("age"))
        .arg("-d")
        .arg("-i")
        .arg(&fx.key_file)
        .arg(fx.path("dk.age"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        o.stdout.len(),
        32,
        "the payload is the raw 32-byte data key"
    );
}

#[test]
fn identities_from_sops_age_key_and_key_cmd() {
    let fx = Fx::new();
    fx.write("a.yaml", "k: v\n");
    let enc = fx.sops_ok(&["encrypt", "--age", &fx.public, "a.yaml"]);
    std::fs::write(fx.path("e.yaml"), enc).unwrap();
    let key_text = fx.read("key.txt");
    let o = fx
        .spx_cmd(&["decrypt", "e.yaml"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", &key_text)
        .output()
        .unwrap();
    assert_eq!(
        o.stdout,
        b"k: v\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = fx
        .spx_cmd(&["decrypt", "e.yaml"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY_CMD", format!("cat {}", fx.key_file.display()))
        .output()
        .unwrap();
    assert_eq!(
        o.stdout,
        b"k: v\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The default path under $HOME/.config.
    let dir = fx.path("home/.config/sops/age");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keys.txt"), &key_text).unwrap();
    let o = fx
        .spx_cmd(&["decrypt", "e.yaml"])
        .env_remove("SOPS_AGE_KEY_FILE")
        .output()
        .unwrap();
    assert_eq!(
        o.stdout,
        b"k: v\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn stdin_input_and_filestatus() {
    let fx = Fx::new();
    let o = fx
        .spx_cmd(&[
            "encrypt",
            "--age",
            &fx.public,
            "--filename-override",
            "x.yaml",
            "-",
        ])
        .stdin(std::fs::File::open(fx.write("p.yaml", "k: v\n")).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(fx.path("e.yaml"), &o.stdout).unwrap();
    assert_eq!(
        fx.spx_ok(&["filestatus", "e.yaml"]),
        b"{\"encrypted\":true}\n"
    );
    assert_eq!(
        fx.spx_ok(&["filestatus", "p.yaml"]),
        b"{\"encrypted\":false}\n"
    );
    assert_eq!(
        fx.sops_ok(&["filestatus", "e.yaml"]),
        b"{\"encrypted\":true}\n"
    );
    // Without a name, stdin cannot be encrypted (sops: exit 8).
    let o = fx
        .spx_cmd(&["encrypt", "--age", &fx.public, "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(8));
}

#[test]
fn in_place_encrypt_and_decrypt() {
    let fx = Fx::new();
    fx.write("a.yaml", "k: v\n");
    fx.spx_ok(&["encrypt", "--age", &fx.public, "-i", "a.yaml"]);
    assert!(fx.read("a.yaml").contains("ENC[AES256_GCM"));
    fx.spx_ok(&["decrypt", "-i", "a.yaml"]);
    assert_eq!(fx.read("a.yaml"), "k: v\n");
    assert_eq!(
        fx.spx(&["encrypt", "--age", &fx.public, "-i", "--output", "x", "a.yaml"])
            .status
            .code(),
        Some(8)
    );
}

#[test]
fn missing_file_is_exit_100() {
    let fx = Fx::new();
    assert_eq!(fx.spx(&["decrypt", "nope.yaml"]).status.code(), Some(100));
    assert_eq!(fx.sops(&["decrypt", "nope.yaml"]).status.code(), Some(100));
}

#[test]
fn decrypt_several_files_at_once() {
    let fx = Fx::new();
    for (n, t) in [("a", "x: 1\n"), ("b", "why: two\n")] {
        fx.write(&format!("{n}.plain.yaml"), t);
        let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, &format!("{n}.plain.yaml")]);
        std::fs::write(fx.path(&format!("{n}.yaml")), enc).unwrap();
    }
    assert_eq!(
        fx.spx_ok(&["decrypt", "a.yaml", "b.yaml"]),
        b"x: 1\n---\nwhy: two\n"
    );
    // One bad file fails the command with its name.
    fx.write("c.yaml", "plain: file\n");
    let o = fx.spx(&["decrypt", "a.yaml", "c.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("c.yaml"));
}

#[test]
fn comments_between_items_of_nested_lists_keep_their_container() {
    // Found by the yaml property test: a comment at the outer list's indentation after a
    // nested block belongs to the outer list (sops puts it there).
    for plain in [
        "_:\n    - A:\n        - \"\"\n    # A\n    - \"\"\n",
        "_:\n    - A:\n        - \"\"\n        # A\n    - \"\"\n",
        "a:\n    b:\n        c: 1\n    # about d\n    d: 2\n",
    ] {
        sops_to_spx("c.yaml", plain, &[]);
        spx_to_sops("c.yaml", plain, &[]);
    }
}

#[test]
fn inline_encrypted_comments_as_newer_sops_writes_them_are_read_and_kept() {
    // sops 3.13 writes `key: ENC[…] #ENC[…,type:comment]` (inline). Only 3.11 is installable
    // here, so the layout is made from a 3.11 file by moving each comment onto the next line.
    let fx = Fx::new();
    fx.write(
        "p.yaml",
        "smtp:\n    # relay host\n    host: smtp.example\n    port: 587\n",
    );
    let enc = String::from_utf8(fx.sops_ok(&["encrypt", "--age", &fx.public, "p.yaml"])).unwrap();
    let mut lines: Vec<String> = enc.lines().map(String::from).collect();
    let ci = lines
        .iter()
        .position(|l| l.trim_start().starts_with("#ENC["))
        .unwrap();
    let comment = lines.remove(ci);
    lines[ci] = format!("{} {}", lines[ci], comment.trim_start());
    fx.write("new.yaml", &(lines.join("\n") + "\n"));
    assert_eq!(
        fx.spx_ok(&["decrypt", "new.yaml"]),
        b"smtp:\n    # relay host\n    host: smtp.example\n    port: 587\n"
    );
    // An edit writes the 3.11 layout (comment on its own line), which sops 3.11 reads.
    fx.spx_ok(&["set", "new.yaml", r#"["smtp"]["port"]"#, "2525"]);
    assert!(fx
        .read("new.yaml")
        .lines()
        .any(|l| l.trim_start().starts_with("#ENC[")));
    assert_eq!(
        fx.sops_ok(&["decrypt", "new.yaml"]),
        b"smtp:\n    # relay host\n    host: smtp.example\n    port: 2525\n"
    );
}

#[test]
fn literal_blocks_in_sequence_items_get_the_right_indentation_indicator() {
    // yaml.v3 writes `|4` for a block scalar starting with a space or a line break even inside
    // a sequence item's mapping, where the content is only 2 columns in: sops cannot read that
    // file back. spx writes the true distance, and sops reads spx's file.
    let fx = Fx::new();
    fx.write(
        "p.yaml",
        "l:\n    - k: \"\\n  x\\n\"\n      j: \" y\\nz\"\n    - \" a\\nb\"\nm:\n    n: \" e\\nf\"\n",
    );
    let enc = fx.spx_ok(&["encrypt", "--age", &fx.public, "p.yaml"]);
    fx.write("s.yaml", &String::from_utf8(enc).unwrap());
    let json: serde_json::Value =
        serde_json::from_slice(&fx.sops_ok(&["decrypt", "--output-type", "json", "s.yaml"]))
            .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"l": [{"k": "\n  x\n", "j": " y\nz"}, " a\nb"], "m": {"n": " e\nf"}})
    );
    let plain = String::from_utf8(fx.spx_ok(&["decrypt", "s.yaml"])).unwrap();
    assert!(
        plain.contains("    - k: |2\n") && plain.contains("    \"n\": |4-\n"),
        "{plain}"
    );
    // And the decrypted text parses again to the same values.
    fx.write("again.yaml", &plain);
    let enc2 = fx.spx_ok(&["encrypt", "--age", &fx.public, "again.yaml"]);
    fx.write("s2.yaml", &String::from_utf8(enc2).unwrap());
    assert_eq!(fx.spx_ok(&["decrypt", "s2.yaml"]), plain.as_bytes());
}
