//! YAML store: parse (yaml.v3 semantics, comments kept as tree items) and emit (go-yaml v3
//! layout as sops writes it).
//!
//! * `parse` reads every document of a YAML stream into a `Document` (the root must be a
//!   mapping), typing scalars as yaml.v3 does (`scalar`), expanding anchors and aliases, and
//!   keeping comments as `MapItem::Comment` / `Value::Comment` items where sops puts them
//!   (`parse`).
//! * `emit` writes documents back byte for byte as sops 3.11 does (`emit`).
mod emit;
mod fast;
mod parse;
mod scalar;

use crate::error::Result;
use crate::tree::{Document, Value};

/// Parse a YAML stream: one `Document` per YAML document.
pub fn parse(bytes: &[u8], file: &str) -> Result<Vec<Document>> {
    if let Ok(src) = std::str::from_utf8(bytes) {
        if !src.starts_with('\u{feff}') {
            if let Some(r) = fast::try_parse(src, file) {
                return r;
            }
        }
    }
    parse::parse(bytes, file)
}

/// The full parser alone (no fast path): for the differential test that holds the two equal.
#[doc(hidden)]
pub fn parse_full(bytes: &[u8], file: &str) -> Result<Vec<Document>> {
    parse::parse(bytes, file)
}

/// Whether the fast path accepts this text (for tests and benchmarks).
#[doc(hidden)]
pub fn fast_path_accepts(src: &str) -> bool {
    fast::try_parse(src, "-").is_some()
}

/// Emit documents separated by `---`, with the given indentation (sops's default is 4).
pub fn emit(docs: &[Document], indent: usize) -> String {
    let mut e = emit::Emitter::new(indent);
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            e.out.push_str("---\n");
        }
        e.document(d);
    }
    e.out
}

/// Emit a lone value (scalar or list) as a YAML document, e.g. `42\n`.
pub fn emit_value(v: &Value, indent: usize) -> String {
    let mut e = emit::Emitter::new(indent);
    e.lone_value(v);
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::tree::{Map, MapItem, Timestamp};

    fn rt(s: &str) -> String {
        emit(&parse(s.as_bytes(), "t.yaml").unwrap(), 4)
    }

    #[test]
    fn typed_values() {
        let d = &parse(b"a: 1\nb: 1.5\nc: true\nd: ~\ne: 2024-01-01\nf: 'x'\ng: !!binary aGVsbG8=\nh: !!str 123\ni: yes\n", "t").unwrap()[0];
        assert_eq!(d.get("a"), Some(&Value::Int(1)));
        assert_eq!(d.get("b"), Some(&Value::Float(1.5)));
        assert_eq!(d.get("c"), Some(&Value::Bool(true)));
        assert_eq!(d.get("d"), Some(&Value::Null));
        assert_eq!(
            d.get("e"),
            Some(&Value::Time(Timestamp("2024-01-01T00:00:00Z".into())))
        );
        assert_eq!(d.get("f"), Some(&Value::str("x")));
        assert_eq!(d.get("g"), Some(&Value::str("hello")));
        assert_eq!(d.get("h"), Some(&Value::str("123")));
        assert_eq!(d.get("i"), Some(&Value::str("yes")));
    }

    #[test]
    fn comments_are_items() {
        let d = &parse(
            b"# top\na: 1 # inline\nl:\n  - x\n  # in list\n  - y\n",
            "t",
        )
        .unwrap()[0];
        assert_eq!(d.items[0], MapItem::Comment(" top".into()));
        assert_eq!(d.items[1], MapItem::Comment(" inline".into()));
        assert_eq!(
            d.get("l"),
            Some(&Value::List(vec![
                Value::str("x"),
                Value::Comment(" in list".into()),
                Value::str("y")
            ]))
        );
    }

    #[test]
    fn emit_layout() {
        assert_eq!(
            rt("a:\n  b: [1, 2]\n  c: {}\nl:\n- k: v\n  k2: v2\n- - 1\n"),
            "a:\n    b:\n        - 1\n        - 2\n    c: {}\nl:\n    - k: v\n      k2: v2\n    - - 1\n"
        );
        assert_eq!(
            rt("x: 1.0\nw: 1e10\nz: .inf\n"),
            "x: 1\nw: 1e+10\nz: .inf\n"
        );
        assert_eq!(rt("<<: {a: 1}\n"), "!!merge <<:\n    a: 1\n");
        assert_eq!(rt("a: 1\n---\nb: 2\n"), "a: 1\n---\nb: 2\n");
        assert_eq!(rt("---\n"), "{}\n");
    }

    #[test]
    fn bytes_and_lone_values() {
        let mut m = Map::new();
        m.push("b", Value::Bytes(vec![0xff, 0x00]));
        assert_eq!(emit(&[m], 4), "b: !!binary /wA=\n");
        assert_eq!(emit_value(&Value::Int(42), 4), "42\n");
        assert_eq!(emit_value(&Value::Bool(true), 4), "true\n");
        assert_eq!(
            emit_value(&Value::List(vec![Value::Int(1), Value::str("a")]), 4),
            "- 1\n- a\n"
        );
    }

    #[test]
    fn errors_like_sops() {
        assert!(matches!(parse(b"", "f"), Err(Error::EmptyDocument { .. })));
        assert!(matches!(parse(b"# only\n", "f"), Err(Error::Parse { .. })));
        assert!(matches!(parse(b"  \n", "f"), Err(Error::Parse { .. })));
        assert!(matches!(parse(b"- a\n", "f"), Err(Error::Parse { .. })));
        assert!(matches!(
            parse(b"just a scalar\n", "f"),
            Err(Error::Parse { .. })
        ));
        assert!(matches!(parse(b"a: [\n", "f"), Err(Error::Parse { .. })));
        let e = parse(b"a: 1\na: 2\n", "f").unwrap_err().to_string();
        assert!(
            e.contains("mapping key \"a\" already defined at line 1"),
            "{e}"
        );
        assert!(matches!(
            parse(b"1: x\n", "f"),
            Err(Error::EncryptTree { .. })
        ));
        assert!(matches!(
            parse(b"true: x\n", "f"),
            Err(Error::EncryptTree { .. })
        ));
        assert!(matches!(
            parse(b"a: 18446744073709551615\n", "f"),
            Err(Error::EncryptTree { .. })
        ));
        assert_eq!(
            parse(b"\"1\": x\n", "f").unwrap()[0].get("1"),
            Some(&Value::str("x"))
        );
    }
}
