//! Forged and downgraded files are refused, each with its own clear error, and nothing
//! plaintext is printed.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn encrypted(fx: &Fx, name: &str, text: &str) -> String {
    fx.write(&format!("{name}.plain.yaml"), text);
    let out = fx.spx_ok(&[
        "encrypt",
        "--age",
        &fx.public,
        &format!("{name}.plain.yaml"),
    ]);
    let s = String::from_utf8(out).unwrap();
    fx.write(name, &s);
    s
}

fn refuse(fx: &Fx, name: &str, code: i32, needle: &str) {
    let o = fx.spx(&["decrypt", name]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{name}: {err}");
    assert!(err.contains(needle), "{name}: expected {needle:?} in {err}");
    assert!(o.stdout.is_empty());
    assert!(!err.contains("correct-horse"));
}

fn age_encrypt(recipient: &str, payload: &[u8]) -> String {
    let mut child = Command::new(tool("age"))
        .args(["-e", "-a", "-r", recipient])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(payload).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

fn replace_enc(file: &str, armor: &str) -> String {
    let start = file.find("enc: |\n").unwrap() + "enc: |\n".len();
    let end = file.find("-----END AGE ENCRYPTED FILE-----\n").unwrap()
        + "-----END AGE ENCRYPTED FILE-----\n".len();
    let indented: String = armor
        .lines()
        .map(|l| format!("            {l}\n"))
        .collect();
    format!("{}{}{}", &file[..start], indented, &file[end..])
}

#[test]
fn mac_recomputed_without_the_data_key_is_refused() {
    let fx = Fx::new();
    let a = encrypted(&fx, "a.yaml", "secret: correct-horse\n");
    // An attacker changes a value to one encrypted under their own key and writes a MAC with
    // that key too: the MAC no longer opens under the file's data key.
    let b = encrypted(&fx, "b.yaml", "secret: other-value\n");
    let mac_b = b
        .lines()
        .find(|l| l.trim_start().starts_with("mac:"))
        .unwrap();
    let mac_a = a
        .lines()
        .find(|l| l.trim_start().starts_with("mac:"))
        .unwrap();
    fx.write("forged.yaml", &a.replace(mac_a, mac_b));
    refuse(&fx, "forged.yaml", 51, "MAC");
}

#[test]
fn value_swapped_in_from_another_file_is_refused() {
    let fx = Fx::new();
    let a = encrypted(&fx, "a.yaml", "secret: correct-horse\n");
    let b = encrypted(&fx, "b.yaml", "secret: other-value\n");
    let line = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("secret:"))
            .unwrap()
            .to_string()
    };
    fx.write("forged.yaml", &a.replace(&line(&a), &line(&b)));
    refuse(&fx, "forged.yaml", 25, "secret");
}

#[test]
fn enc_that_unwraps_to_a_wrong_length_key_is_refused() {
    let fx = Fx::new();
    let a = encrypted(&fx, "a.yaml", "secret: correct-horse\n");
    let forged = replace_enc(&a, &age_encrypt(&fx.public, &[7u8; 16]));
    fx.write("forged.yaml", &forged);
    refuse(&fx, "forged.yaml", 1, "16 bytes instead of 32");
}

#[test]
fn enc_for_another_key_is_no_identity() {
    let fx = Fx::new();
    let a = encrypted(&fx, "a.yaml", "secret: correct-horse\n");
    let (_k, other) = keygen(&fx.path("other.txt"));
    fx.write(
        "forged.yaml",
        &replace_enc(&a, &age_encrypt(&other, &[7u8; 32])),
    );
    refuse(&fx, "forged.yaml", 128, "no identity");
}

#[test]
fn relabelled_type_is_caught_or_harmless() {
    // The `type:` label is outside GCM's authentication in sops's format; relabelling int→str
    // yields the same text, so the MAC (over text) still matches — exactly as sops behaves.
    let fx = Fx::new();
    let a = encrypted(&fx, "a.yaml", "port: 587\n");
    fx.write("r.yaml", &a.replace("type:int]", "type:str]"));
    assert_eq!(fx.spx_ok(&["decrypt", "r.yaml"]), b"port: \"587\"\n");
    assert_eq!(fx.sops_ok(&["decrypt", "r.yaml"]), b"port: \"587\"\n");
}

#[test]
fn verify_decrypt_checks_files_without_printing_values() {
    let fx = Fx::new();
    let a = encrypted(&fx, "a.yaml", "secret: correct-horse\n");
    let re = regex::Regex::new(r#"lastmodified: "(\d{4})"#).unwrap();
    fx.write("bad.yaml", &re.replace(&a, r#"lastmodified: "1999"#));
    let o = fx.spx(&["verify", "--decrypt", "a.yaml", "bad.yaml"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("a.yaml: ok: 1 values decrypt, MAC verified"),
        "{out}"
    );
    assert!(
        out.contains("bad.yaml: FAILED") && out.contains("MAC"),
        "{out}"
    );
    assert!(!out.contains("correct-horse"));
    assert!(fx.spx(&["verify", "--decrypt", "a.yaml"]).status.success());
}

/// Inserts an `age:` entry (recipient + armored enc) as the first or the last of the list.
fn add_entry(file: &str, recipient: &str, armor: &str, first: bool) -> String {
    let enc: String = armor
        .lines()
        .map(|l| format!("            {l}\n"))
        .collect();
    let entry = format!("        - recipient: {recipient}\n          enc: |\n{enc}");
    let at = if first {
        file.find("        - recipient:").unwrap()
    } else {
        file.rfind("-----END AGE ENCRYPTED FILE-----\n").unwrap()
            + "-----END AGE ENCRYPTED FILE-----\n".len()
    };
    format!("{}{}{}", &file[..at], entry, &file[at..])
}

#[test]
fn an_added_entry_for_my_key_with_another_data_key_is_refused() {
    // Anyone can encrypt to a public key: an attacker adds an entry for the victim's own key
    // that wraps a key they chose. Whichever entry comes first, the disagreement is caught.
    let fx = Fx::new();
    let a = encrypted(&fx, "a.yaml", "secret: correct-horse\n");
    let armor = age_encrypt(&fx.public, &[9u8; 32]);
    for first in [true, false] {
        fx.write("forged.yaml", &add_entry(&a, &fx.public, &armor, first));
        refuse(&fx, "forged.yaml", 1, "hold different data keys");
    }
    // The same key wrapped twice for one recipient is not a forgery (sops writes that when a
    // rule lists a key twice).
    let o = fx.spx(&["decrypt", "a.yaml"]);
    assert!(o.status.success());
}

#[test]
fn an_added_entry_for_a_stranger_is_drift_that_verify_reports() {
    // An entry for a key the creation rule does not name opens nothing of ours (the file still
    // decrypts) but gives that key's holder the data key if it wraps the real one: spx verify
    // and updatekeys report it, and updatekeys removes it.
    let fx = Fx::new();
    fx.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: .*\\.yaml$\n    age: {}\n",
            fx.public
        ),
    );
    let a = encrypted(&fx, "s.yaml", "secret: correct-horse\n");
    let (_k, stranger) = keygen(&fx.path("stranger.txt"));
    fx.write(
        "s.yaml",
        &add_entry(&a, &stranger, &age_encrypt(&stranger, &[7u8; 32]), false),
    );
    let o = fx.spx(&["verify", "s.yaml"]);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&stranger[..12]) || out.contains("recipient"),
        "{out}"
    );
    let o = fx.spx(&["updatekeys", "-y", "s.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(shown.contains(&format!("--- {stranger}")), "{shown}");
    assert!(!fx.read("s.yaml").contains(&stranger));
    assert_eq!(
        fx.spx_ok(&["decrypt", "s.yaml"]),
        b"secret: correct-horse\n"
    );
}

#[test]
fn a_value_moved_to_another_key_is_refused() {
    // The path is GCM's additional data: a ciphertext copied to another key of the same file
    // does not open there, with sops's error code 25 naming the key.
    let fx = Fx::new();
    let a = encrypted(
        &fx,
        "a.yaml",
        "db:\n    password: correct-horse\n    user: admin\n",
    );
    let val = |k: &str| {
        a.lines()
            .find(|l| l.trim_start().starts_with(k))
            .unwrap()
            .split_once(": ")
            .unwrap()
            .1
            .to_string()
    };
    let forged = a.replace(&val("user:"), &val("password:"));
    fx.write("forged.yaml", &forged);
    refuse(&fx, "forged.yaml", 25, "db.user");
    let o = fx.sops(&["decrypt", "forged.yaml"]);
    assert!(!o.status.success(), "sops accepted a moved value too?");
}
