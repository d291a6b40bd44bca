//! dotenv store, as sops 3.11 reads and writes it (measured against the real binary).
//!
//! Reading: the file is split on `\n`; empty lines are dropped; a line starting with `#` is a
//! comment (its text is everything after the `#`); every other line must contain `=`: the key
//! is what precedes the first `=`, the value everything after it, verbatim (no trimming, no
//! unquoting, no `export` handling), except that the two characters `\n` become a newline.
//! Every value is a string. Writing: `KEY=value` / `#comment` lines, newlines in values written
//! as `\n`, other scalars through sops's `ValueToString`.

use crate::error::{Error, Result};
use crate::store::json::go_lossy_utf8;
use crate::tree::{format_float_g, Document, Map, MapItem, Timestamp, Value};

/// Parse a dotenv file.
pub fn parse(bytes: &[u8], file: &str) -> Result<Document> {
    let mut doc = Map::new();
    for (n, line) in bytes.split(|&c| c == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if line[0] == b'#' {
            doc.items
                .push(MapItem::Comment(go_lossy_utf8(line[1..].to_vec())));
            continue;
        }
        let Some(eq) = line.iter().position(|&c| c == b'=') else {
            return Err(Error::parse(
                file,
                format!(
                    "line {}: invalid dotenv input line: expected KEY=value or a #comment",
                    n + 1
                ),
            ));
        };
        let key = go_lossy_utf8(line[..eq].to_vec());
        let raw = replace_bytes(&line[eq + 1..], b"\\n", b"\n");
        let value = match String::from_utf8(raw) {
            Ok(s) => Value::Str(s),
            Err(e) => Value::Bytes(e.into_bytes()),
        };
        doc.items.push(MapItem::Pair(key, value));
    }
    Ok(doc)
}

/// Emit a document as a dotenv file.
pub fn emit(doc: &Document, file: &str) -> Result<String> {
    let mut out = String::new();
    for item in &doc.items {
        match item {
            MapItem::Comment(c) => {
                out.push('#');
                out.push_str(c);
                out.push('\n');
            }
            MapItem::Pair(k, v) => {
                if matches!(v, Value::Map(_) | Value::List(_)) {
                    return Err(Error::Dump {
                        file: file.into(),
                        format: "dotenv",
                        msg: format!("cannot use complex value in dotenv file; offending key {k}; keep nested values out of dotenv files, or use --output-type yaml or json"),
                    });
                }
                if let Value::Comment(c) = v {
                    out.push('#');
                    out.push_str(c);
                    out.push('\n');
                    continue;
                }
                out.push_str(k);
                out.push('=');
                out.push_str(&value_to_string(v).replace('\n', "\\n"));
                out.push('\n');
            }
        }
    }
    Ok(out)
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// sops's `ValueToString` (used by the dotenv and INI stores and by exec-env): strings verbatim,
/// bools `true`/`false`, ints decimal, floats `%G` with `.0` added when the result has neither
/// a point nor an exponent, null `<nil>`, times RFC 3339 without fractional seconds, and
/// mappings/sequences in Go's `%v` form.
pub(crate) fn value_to_string(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => go_lossy_utf8(b.clone()),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if !f.is_finite() {
                return crate::tree::format_float_plain(*f);
            }
            let s = format_float_g(*f).to_uppercase();
            if s.contains('.') || s.contains('E') {
                s
            } else {
                s + ".0"
            }
        }
        Value::Null => "<nil>".into(),
        Value::Time(t) => rfc3339_seconds(t),
        Value::Comment(c) => c.clone(),
        Value::Map(_) | Value::List(_) => go_fmt_v(v),
    }
}

/// Go's `time.Format(time.RFC3339)`: the stored RFC 3339 text without its fractional seconds.
fn rfc3339_seconds(t: &Timestamp) -> String {
    let s = &t.0;
    match s.find('.') {
        Some(dot) => {
            let end = s[dot + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(s.len(), |k| dot + 1 + k);
            format!("{}{}", &s[..dot], &s[end..])
        }
        None => s.clone(),
    }
}

/// Go's `time.Time.String()` for a time read from YAML: `2006-01-02 15:04:05.999999999 -0700 MST`
/// (UTC times print `+0000 UTC`, fixed offsets print the offset twice).
fn go_time_string(t: &Timestamp) -> String {
    let s = &t.0;
    let Some((date, rest)) = s.split_once('T') else {
        return s.clone();
    };
    let (clock, zone) = if let Some(c) = rest.strip_suffix('Z') {
        (c.to_string(), "+0000 UTC".to_string())
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let off = rest[pos..].replace(':', "");
        (rest[..pos].to_string(), format!("{off} {off}"))
    } else {
        (rest.to_string(), "+0000 UTC".to_string())
    };
    format!("{date} {clock} {zone}")
}

/// Go's `fmt.Sprintf("%v", v)` for the values of a sops tree.
fn go_fmt_v(v: &Value) -> String {
    let mut out = String::new();
    fmt_v(&mut out, v);
    out
}

fn fmt_v(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) => out.push_str(s),
        Value::Bytes(b) => out.push_str(&go_lossy_utf8(b.clone())),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if f.is_finite() {
                out.push_str(&format_float_g(*f))
            } else {
                out.push_str(&crate::tree::format_float_plain(*f))
            }
        }
        Value::Null => out.push_str("<nil>"),
        Value::Time(t) => out.push_str(&go_time_string(t)),
        // A comment in a list is a `sops.Comment{Value}` struct.
        Value::Comment(c) => {
            out.push('{');
            out.push_str(c);
            out.push('}');
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_v(out, x);
            }
            out.push(']');
        }
        // A TreeBranch is a slice of TreeItem{Key, Value} structs.
        Value::Map(m) => {
            out.push('[');
            for (i, item) in m.items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push('{');
                match item {
                    MapItem::Pair(k, x) => {
                        out.push_str(k);
                        out.push(' ');
                        fmt_v(out, x);
                    }
                    MapItem::Comment(c) => {
                        out.push('{');
                        out.push_str(c);
                        out.push_str("} <nil>");
                    }
                }
                out.push('}');
            }
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_verbatim_strings() {
        let d = parse(
            b"A=\"x y\"\nB=a=b=c\nexport C=1\nE=\n =sp\nF= trailing \r\nH=it's\nJ=ENC[x\n",
            "a.env",
        )
        .unwrap();
        let pairs: Vec<(&str, &Value)> = d.pairs().collect();
        assert_eq!(
            pairs,
            vec![
                ("A", &Value::str("\"x y\"")),
                ("B", &Value::str("a=b=c")),
                ("export C", &Value::str("1")),
                ("E", &Value::str("")),
                (" ", &Value::str("sp")),
                ("F", &Value::str(" trailing \r")),
                ("H", &Value::str("it's")),
                ("J", &Value::str("ENC[x")),
            ]
        );
    }

    #[test]
    fn comments_and_empty_lines() {
        let d = parse(b"# header\n\n\n#\nA=1\n#  two\n", "a.env").unwrap();
        assert_eq!(
            d.items,
            vec![
                MapItem::Comment(" header".into()),
                MapItem::Comment("".into()),
                MapItem::Pair("A".into(), Value::str("1")),
                MapItem::Comment("  two".into()),
            ]
        );
        // A `#` that is not the first byte is part of a key.
        let d = parse(b" #x=1\n", "a.env").unwrap();
        assert_eq!(d.get(" #x"), Some(&Value::str("1")));
    }

    #[test]
    fn backslash_n_is_a_newline_both_ways() {
        let src = b"D=multi\\nline\\\\nz\n";
        let d = parse(src, "a.env").unwrap();
        assert_eq!(d.get("D"), Some(&Value::str("multi\nline\\\nz")));
        assert_eq!(emit(&d, "a.env").unwrap().as_bytes(), src);
    }

    #[test]
    fn a_line_without_equals_is_an_error_naming_file_and_line() {
        let e = parse(b"A=1\n\nnoequals\n", "x.env").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            msg.starts_with("x.env: cannot parse: line 3: invalid dotenv input line"),
            "{msg}"
        );
        assert!(
            !msg.contains("noequals"),
            "the line may hold a secret: {msg}"
        );
    }

    #[test]
    fn round_trip_is_exact_for_normal_files() {
        let src = "# c\nA=1\nB=\"q\"\n#\nexport X=y z\n";
        assert_eq!(
            emit(&parse(src.as_bytes(), "f").unwrap(), "f").unwrap(),
            src
        );
        // Empty lines vanish, a missing final newline is added.
        assert_eq!(
            emit(&parse(b"A=1\n\nB=2", "f").unwrap(), "f").unwrap(),
            "A=1\nB=2\n"
        );
    }

    #[test]
    fn invalid_utf8_values_are_kept_as_bytes() {
        let d = parse(b"K=\xff\xfe\n", "f").unwrap();
        assert_eq!(d.get("K"), Some(&Value::Bytes(vec![0xff, 0xfe])));
    }

    #[test]
    fn non_string_values_use_sops_value_to_string() {
        let mut m = Map::new();
        for (k, v) in [
            ("i", Value::Float(1.5)),
            ("b", Value::Bool(true)),
            ("f", Value::Bool(false)),
            ("n", Value::Null),
            ("big", Value::Float(1e21)),
            ("small", Value::Float(1e-7)),
            ("t", Value::Float(3.0)),
            ("neg", Value::Float(-2.25)),
            ("huge", Value::Float(123456789012345678901234567890.0)),
            ("tiny", Value::Float(0.000001)),
            ("z", Value::Float(-0.0)),
            ("nan", Value::Float(f64::NAN)),
            ("inf", Value::Float(f64::INFINITY)),
            ("int", Value::Int(-3)),
            (
                "time",
                Value::Time(Timestamp("2001-12-14T21:59:43.1-05:00".into())),
            ),
            ("k=v", Value::str("1")),
        ] {
            m.push(k, v);
        }
        assert_eq!(
            emit(&m, "f").unwrap(),
            "i=1.5\nb=true\nf=false\nn=<nil>\nbig=1E+21\nsmall=1E-07\nt=3.0\nneg=-2.25\n\
             huge=1.2345678901234568E+29\ntiny=1E-06\nz=-0.0\nnan=NaN\ninf=+Inf\nint=-3\n\
             time=2001-12-14T21:59:43-05:00\nk=v=1\n"
        );
    }

    #[test]
    fn complex_values_cannot_be_emitted() {
        let mut m = Map::new();
        m.push("s", Value::Map(Map::new()));
        let e = emit(&m, "f.env").unwrap_err();
        assert_eq!(e.exit_code(), 4);
        assert!(e
            .to_string()
            .contains("cannot use complex value in dotenv file; offending key s"));
        let mut m = Map::new();
        m.push("l", Value::List(vec![]));
        assert!(emit(&m, "f.env").is_err());
    }

    #[test]
    fn go_v_formatting_of_nested_values() {
        let mut inner = Map::new();
        inner.push("q", Value::Float(2.5));
        inner.push("r", Value::List(vec![Value::Float(1.0)]));
        let l = Value::List(vec![
            Value::Float(1e21),
            Value::Float(1.5),
            Value::Float(2.0),
            Value::str("a b"),
            Value::Bool(true),
            Value::Null,
            Value::Map(inner),
            Value::List(vec![]),
            Value::Time(Timestamp("2024-01-01T00:00:00Z".into())),
            Value::Time(Timestamp("2001-12-14T21:59:43.1-05:00".into())),
        ]);
        assert_eq!(
            value_to_string(&l),
            "[1e+21 1.5 2 a b true <nil> [{q 2.5} {r [1]}] [] 2024-01-01 00:00:00 +0000 UTC \
             2001-12-14 21:59:43.1 -0500 -0500]"
        );
        assert_eq!(value_to_string(&Value::Map(Map::new())), "[]");
    }
}
