//! The YAML fast path (src/store/yaml/fast.rs) must give exactly what the full parser gives —
//! documents or error — on everything it accepts, and it must accept what sops writes.

use proptest::prelude::*;
use spx::store::yaml;
use spx::tree::{Map, MapItem, Value};

#[path = "common/yaml_corpus.rs"]
mod yaml_corpus;

fn same(text: &str) {
    let fast = yaml::parse(text.as_bytes(), "t.yaml");
    let full = yaml::parse_full(text.as_bytes(), "t.yaml");
    match (&fast, &full) {
        // Compared through Debug so that NaN equals NaN.
        (Ok(a), Ok(b)) => assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "fast and full parsers differ on:\n{text}"
        ),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "errors differ on:\n{text}"),
        _ => panic!("fast {fast:?} vs full {full:?} on:\n{text}"),
    }
}

#[test]
fn corpus_parses_identically() {
    for (name, text) in yaml_corpus::CORPUS {
        same(text);
        let _ = name;
    }
}

#[test]
fn tricky_inputs_parse_identically() {
    for t in [
        "a: 1\n",
        "# top\na: 1\n# before b\nb: two\n",
        "a:\n    # in a\n    b: 1\n    c: 2\n# after a\nd: 3\n",
        "a:\n    b: 1\n    # foot of a\nd: 3\n",
        "a:\n    - x\n    # before y\n    - y\n",
        "a:\n    - x\n    # foot\n",
        "a:\n    - k: 1\n      j: 2\n    - k: 3\n",
        "a:\n    - - 1\n      - 2\n",
        "key:value\n",
        "a: b#c\n",
        "a: b #c\n",
        "a: \"x # y\"\n",
        "\"quoted key\": 1\n",
        "a: 'it''s'\n",
        "a: \"\\u00e9\\t\\\\\"\n",
        "a: |\n    line1\n    line2\n",
        "a: |-\n    line1\n",
        "a: |+\n    line1\n",
        "a: |\n    # not a comment\n    x\nb: 1\n",
        "a: >\n    folded\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: {b: 1}\n",
        "a: {}\nb: []\n",
        "a:\nb: 1\n",
        "a:\n- x\n",
        "a: 1\na: 2\n",
        "1: x\n",
        "true: x\n",
        "a: yes\nb: 0x1F\nc: 1e10\nd: 2024-01-15\ne: ~\nf: null\ng: .inf\n",
        "a: 9223372036854775808\n",
        "a: 1\n---\nb: 2\n",
        "---\na: 1\n",
        "a: 1\n---\n",
        "a: 1",
        "a: 1\r\n",
        "a:\n\tb: 1\n",
        "a: 1\n\nb: 2\n",
        "a: plain\n    continued\n",
        "a: -1\nb: -x\n",
        "a: 'unterminated\n",
        "  a: 1\n",
        "# only a comment\n",
        "a: 1 # inline\n",
        "a:\n    b:\n        c: 1\n    # about d\n    d: 2\n",
        "_:\n    - A:\n        - \"\"\n    # A\n    - \"\"\n",
        // Found by fuzzing: control characters YAML does not allow, in a literal block and in
        // plain, quoted and comment text (the fast path accepted them, yaml.v3 and the full
        // parser do not).
        "a: |\n    x\0\0y\n",
        "a: x\0y\n",
        "a: \"x\u{1}\"\n",
        "# c\u{7f}\na: 1\n",
        "a: x\u{85}y\n",
        "a: x\u{9f}y\n",
        "a: x\u{feff}y\n",
        "a: x\u{fffe}y\n",
        // Found by fuzzing: lone CRs (line breaks in YAML) inside what looked like one comment.
        "#c\r\r#d\rk: 1\n",
        "a: 1\rb: 2\n",
        "a: \"x\ry\"\n",
    ] {
        same(t);
    }
}

#[test]
fn sops_output_takes_the_fast_path() {
    // What spx and sops write: metadata, ENC values, comments, literal blocks.
    for f in [
        "secrets/shared.sops.yaml",
        "secrets/vps-i1.sops.yaml",
        "secrets/github-actions.sops.yaml",
    ] {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + f)
                .unwrap();
        assert!(
            yaml::fast_path_accepts(&text),
            "{f} falls back to the full parser"
        );
        same(&text);
    }
    // The benchmark workload, plaintext and re-emitted.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.yaml");
    let o = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/gen.py"))
        .args(["yaml", "500"])
        .arg(&out)
        .output()
        .expect("python3");
    assert!(o.status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(yaml::fast_path_accepts(&text));
    same(&text);
    let emitted = yaml::emit(&yaml::parse(text.as_bytes(), "w").unwrap(), 4);
    assert!(yaml::fast_path_accepts(&emitted));
    same(&emitted);
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[ -~]{0,12}".prop_map(Value::Str),
        "\\PC{0,8}".prop_map(Value::Str),
        Just(Value::Str("a\nb\n".into())),
        any::<i64>().prop_map(Value::Int),
        (-1e9f64..1e9).prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn value() -> impl Strategy<Value = Value> + Clone {
    scalar().prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(prop_oneof![3 => inner.clone(), 1 => "[!-~]{1,6}".prop_map(|c| Value::Comment(format!(" {c}")))], 0..4)
                .prop_map(Value::List),
            map(inner).prop_map(Value::Map),
        ]
    })
}

fn map(inner: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Map> {
    prop::collection::vec(
        prop_oneof![
            3 => ("[a-z_][a-z0-9_]{0,5}", inner).prop_map(|(k, v)| MapItem::Pair(k, v)),
            1 => "[!-~]{1,6}".prop_map(|c| MapItem::Comment(format!(" {c}"))),
        ],
        0..5,
    )
    .prop_map(|items| Map { items })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xfa57),
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn emitted_yaml_parses_identically(d in map(value())) {
        let text = yaml::emit(std::slice::from_ref(&d), 4);
        same(&text);
    }

    #[test]
    fn line_soup_parses_identically(lines in prop::collection::vec(prop_oneof![
        Just("a: 1"), Just("b:"), Just("    c: x"), Just("    - y"), Just("- z"), Just("# c"),
        Just("    # d"), Just("        e: 2"), Just("    - f: 3"), Just("      g: 4"), Just("k: |"),
        Just("    text"), Just("h: \"q\""), Just("---"),
    ], 1..10)) {
        let text = lines.join("\n") + "\n";
        same(&text);
    }
}

/// Inputs the fuzzer (fuzz/fuzz_targets/yaml.rs) found: whatever parses must emit YAML that
/// parses again to the same documents.
#[test]
fn fuzz_findings_round_trip() {
    for input in [
        &b".-[):\r #0\rA: AA"[..],
        b"#c\r\r#d\rk: 1\n",
        b"#ENC[AES#E\r\r#ENC[AES\r\rNC::\r\r-\r#EN256\n",
        b"a: 1\rb: 2\n",
        // A key whose escaped form is over 1024 characters was written as a simple key,
        // which YAML does not allow; now it is written `? key` as yaml.v3 does.
        format!(
            "? \"{}\"\n: 1\nb:\n    ? \"{}\"\n    : [1]\n",
            "\\x1a".repeat(400),
            "a\\x1a".repeat(300)
        )
        .as_bytes(),
    ] {
        let docs = yaml::parse(input, "f.yaml")
            .unwrap_or_else(|e| panic!("input of {} bytes should parse: {e}", input.len()));
        let text = yaml::emit(&docs, 4);
        let again = yaml::parse(text.as_bytes(), "f.yaml").unwrap_or_else(|e| {
            let head: String = text.chars().take(200).collect();
            panic!("emitted YAML does not parse: {e}; it starts {head:?}")
        });
        assert!(
            format!("{again:?}") == format!("{docs:?}"),
            "emit then parse changed the documents of an input of {} bytes",
            input.len()
        );
    }
}
