//! JSON store: a hand-written parser that keeps key order and duplicate keys (as sops's token
//! walk does), and an emitter that writes exactly what sops writes (Go `encoding/json` escaping
//! followed by `json.Indent`).
//!
//! Parsing rules (sops 3.11, measured): the top level must be an object; every number is a
//! float64 (`Value::Float`); strings are unescaped like Go (a lone surrogate escape and every
//! byte of invalid UTF-8 become U+FFFD); anything after the closing `}` of the top-level object
//! is ignored. Unlike sops, a truncated file (`{"a":`) is an error rather than a silently
//! shortened document.

use crate::error::{Error, Result};
use crate::tree::{format_float_json, Document, Map, MapItem, Value};

/// Deeper nesting than this is refused, so that no recursive walk of the tree (here or in the
/// crypto and emit code) can exhaust a thread stack. sops allows 10000; real files nest < 20.
const MAX_DEPTH: usize = 256;

/// Parse a JSON file whose top level is an object.
pub fn parse(bytes: &[u8], file: &str) -> Result<Document> {
    let mut p = Parser {
        b: bytes,
        i: 0,
        file,
    };
    p.skip_ws();
    match p.peek() {
        None => Err(p.err_at("the file is empty: expected a JSON object")),
        Some(b'{') => {
            p.i += 1;
            p.object(0)
        }
        Some(_) => Err(Error::parse(
            file,
            "SOPS only supports JSON files with a top-level object (starting with '{'); wrap the content in an object, e.g. {\"data\": [...]}",
        )),
    }
}

/// Emit a document as sops writes a JSON file (`indent`: `None` = one tab per level, `Some(n)`
/// = n spaces), with the final newline.
pub fn emit(doc: &Document, indent: Option<usize>, file: &str) -> Result<String> {
    let unit = indent_unit(indent);
    let mut out = String::with_capacity(4096);
    write_map(&mut out, doc, &unit, 0, file)?;
    out.push('\n');
    Ok(out)
}

/// Emit a single value (sops's `EmitValue`, used by `--extract`): no trailing newline.
pub fn emit_value(v: &Value, indent: Option<usize>, file: &str) -> Result<String> {
    let unit = indent_unit(indent);
    let mut out = String::new();
    write_value(&mut out, v, &unit, 0, file)?;
    Ok(out)
}

fn indent_unit(indent: Option<usize>) -> String {
    match indent {
        None => "\t".to_string(),
        Some(n) => " ".repeat(n),
    }
}

// ----------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    file: &'a str,
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\t' || c == b'\r' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// Line and column (1-based, column in bytes) of the current position.
    fn position(&self) -> (usize, usize) {
        let upto = &self.b[..self.i.min(self.b.len())];
        let line = upto.iter().filter(|&&c| c == b'\n').count() + 1;
        let col = upto.iter().rev().take_while(|&&c| c != b'\n').count() + 1;
        (line, col)
    }

    fn err_at(&self, msg: &str) -> Error {
        let (line, col) = self.position();
        Error::parse(
            self.file,
            format!("invalid JSON at line {line}, column {col}: {msg}"),
        )
    }

    /// Go's wording for an unexpected byte (or the end of the input).
    fn unexpected(&self, context: &str) -> Error {
        match self.peek() {
            None => self.err_at("unexpected end of input: the file is truncated"),
            Some(c) => self.err_at(&format!(
                "invalid character {} {context}",
                quote_char(self.b, self.i, c)
            )),
        }
    }

    /// After the opening `{`.
    fn object(&mut self, depth: usize) -> Result<Map> {
        if depth >= MAX_DEPTH {
            return Err(self.err_at(&format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(map);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("looking for beginning of object key string"));
            }
            self.i += 1;
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("after object key"));
            }
            self.i += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            map.items.push(MapItem::Pair(key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(map);
                }
                _ => return Err(self.unexpected("after object key:value pair")),
            }
        }
    }

    /// After the opening `[`.
    fn array(&mut self, depth: usize) -> Result<Vec<Value>> {
        if depth >= MAX_DEPTH {
            return Err(self.err_at(&format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let mut list = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(list);
        }
        loop {
            self.skip_ws();
            list.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(list);
                }
                _ => return Err(self.unexpected("after array element")),
            }
        }
    }

    /// At the first byte of a value (whitespace already skipped).
    fn value(&mut self, depth: usize) -> Result<Value> {
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                Ok(Value::Map(self.object(depth + 1)?))
            }
            Some(b'[') => {
                self.i += 1;
                Ok(Value::List(self.array(depth + 1)?))
            }
            Some(b'"') => {
                self.i += 1;
                Ok(Value::Str(self.string()?))
            }
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected("looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &'static [u8], v: Value) -> Result<Value> {
        let name = std::str::from_utf8(word).expect("ASCII literal");
        for (k, &expect) in word.iter().enumerate() {
            match self.b.get(self.i + k) {
                Some(&c) if c == expect => {}
                _ => {
                    self.i += k;
                    return Err(self.unexpected(&format!(
                        "in literal {name} (expecting {})",
                        quote_ascii(expect)
                    )));
                }
            }
        }
        self.i += word.len();
        Ok(v)
    }

    /// JSON number grammar, converted like Go's `strconv.ParseFloat` (correctly rounded).
    fn number(&mut self) -> Result<Value> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected("in numeric literal")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected("after decimal point in numeric literal"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected("in exponent of numeric literal"));
            }
            self.digits();
        }
        let text = std::str::from_utf8(&self.b[start..self.i]).expect("number is ASCII");
        let f: f64 = text
            .parse()
            .map_err(|_| self.err_at(&format!("cannot read number {text}")))?;
        if f.is_infinite() {
            let i = self.i;
            self.i = start;
            let e = self.err_at(&format!("number {text} is out of the float64 range"));
            self.i = i;
            return Err(e);
        }
        Ok(Value::Float(f))
    }

    #[inline]
    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    /// After the opening quote; consumes the closing quote.
    fn string(&mut self) -> Result<String> {
        let b = self.b;
        let start = self.i;
        // Fast path: no escapes, valid UTF-8.
        let mut j = start;
        while j < b.len() {
            let c = b[j];
            if c == b'"' {
                if let Ok(s) = std::str::from_utf8(&b[start..j]) {
                    self.i = j + 1;
                    return Ok(s.to_string());
                }
                break;
            }
            if c == b'\\' || c < 0x20 {
                break;
            }
            j += 1;
        }
        // Slow path: unescape into a byte buffer, then make it UTF-8 the way Go does.
        let mut buf: Vec<u8> = Vec::with_capacity(j - start + 16);
        buf.extend_from_slice(&b[start..j]);
        self.i = j;
        loop {
            let Some(c) = self.peek() else {
                return Err(
                    self.err_at("unexpected end of input in string literal: the file is truncated")
                );
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(go_lossy_utf8(buf));
                }
                b'\\' => {
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err_at("unexpected end of input in string escape code"));
                    };
                    self.i += 1;
                    match e {
                        b'"' => buf.push(b'"'),
                        b'\\' => buf.push(b'\\'),
                        b'/' => buf.push(b'/'),
                        b'b' => buf.push(0x08),
                        b'f' => buf.push(0x0c),
                        b'n' => buf.push(b'\n'),
                        b'r' => buf.push(b'\r'),
                        b't' => buf.push(b'\t'),
                        b'u' => {
                            let r = self.hex4()?;
                            let ch = if (0xD800..0xE000).contains(&r) {
                                // A surrogate: valid only as a high+low pair of escapes.
                                let low = if r < 0xDC00
                                    && self.b.get(self.i) == Some(&b'\\')
                                    && self.b.get(self.i + 1) == Some(&b'u')
                                {
                                    parse_hex4(&self.b[self.i + 2..])
                                } else {
                                    None
                                };
                                match low {
                                    Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                        self.i += 6;
                                        let cp = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
                                        char::from_u32(cp).unwrap_or('\u{FFFD}')
                                    }
                                    _ => '\u{FFFD}',
                                }
                            } else {
                                char::from_u32(r).unwrap_or('\u{FFFD}')
                            };
                            let mut tmp = [0u8; 4];
                            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.unexpected("in string escape code"));
                        }
                    }
                }
                c if c < 0x20 => return Err(self.unexpected("in string literal")),
                _ => {
                    // Copy a run of ordinary bytes.
                    let run_start = self.i;
                    let mut k = self.i;
                    while k < b.len() && b[k] != b'"' && b[k] != b'\\' && b[k] >= 0x20 {
                        k += 1;
                    }
                    buf.extend_from_slice(&b[run_start..k]);
                    self.i = k;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        for k in 0..4 {
            match self.b.get(self.i + k) {
                Some(c) if c.is_ascii_hexdigit() => {}
                _ => {
                    self.i += k;
                    return Err(self.unexpected("in \\u hexadecimal character escape"));
                }
            }
        }
        let v = parse_hex4(&self.b[self.i..]).expect("checked hex digits");
        self.i += 4;
        Ok(v)
    }
}

fn parse_hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Go's `%q` of the offending byte, as its JSON errors print it.
fn quote_char(b: &[u8], i: usize, c: u8) -> String {
    if c < 0x80 {
        return quote_ascii(c);
    }
    let end = (i + 4).min(b.len());
    match std::str::from_utf8(&b[i..end])
        .or_else(|e| std::str::from_utf8(&b[i..i + e.valid_up_to()]))
    {
        Ok(s) if !s.is_empty() => format!("'{}'", s.chars().next().expect("non-empty")),
        _ => format!("'\\x{c:02x}'"),
    }
}

fn quote_ascii(c: u8) -> String {
    match c {
        b'\t' => "'\\t'".into(),
        b'\n' => "'\\n'".into(),
        b'\r' => "'\\r'".into(),
        b'\'' => "'\\''".into(),
        b'\\' => "'\\\\'".into(),
        0x20..=0x7e => format!("'{}'", c as char),
        _ => format!("'\\x{c:02x}'"),
    }
}

/// Bytes to a string the way Go's JSON decoder (and `utf8.DecodeRune`) repairs them: every
/// byte that is not part of a valid UTF-8 sequence becomes one U+FFFD.
pub(crate) fn go_lossy_utf8(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let mut out = String::with_capacity(bytes.len() + 8);
            let mut rest = &bytes[..];
            loop {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        out.push_str(s);
                        break;
                    }
                    Err(e) => {
                        let good = e.valid_up_to();
                        out.push_str(std::str::from_utf8(&rest[..good]).expect("valid prefix"));
                        let bad = e.error_len().unwrap_or(rest.len() - good);
                        for _ in 0..bad {
                            out.push('\u{FFFD}');
                        }
                        rest = &rest[good + bad..];
                    }
                }
            }
            out
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Emitter

fn write_map(out: &mut String, m: &Map, unit: &str, level: usize, file: &str) -> Result<()> {
    let mut first = true;
    for item in &m.items {
        let MapItem::Pair(k, v) = item else { continue };
        out.push_str(if first { "{\n" } else { ",\n" });
        first = false;
        push_indent(out, unit, level + 1);
        write_str(out, k.as_bytes());
        out.push_str(": ");
        write_value(out, v, unit, level + 1, file)?;
    }
    if first {
        out.push_str("{}");
    } else {
        out.push('\n');
        push_indent(out, unit, level);
        out.push('}');
    }
    Ok(())
}

fn write_list(out: &mut String, l: &[Value], unit: &str, level: usize, file: &str) -> Result<()> {
    let mut first = true;
    for v in l {
        if matches!(v, Value::Comment(_)) {
            continue;
        }
        out.push_str(if first { "[\n" } else { ",\n" });
        first = false;
        push_indent(out, unit, level + 1);
        write_value(out, v, unit, level + 1, file)?;
    }
    if first {
        out.push_str("[]");
    } else {
        out.push('\n');
        push_indent(out, unit, level);
        out.push(']');
    }
    Ok(())
}

#[inline]
fn push_indent(out: &mut String, unit: &str, level: usize) {
    for _ in 0..level {
        out.push_str(unit);
    }
}

fn write_value(out: &mut String, v: &Value, unit: &str, level: usize, file: &str) -> Result<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(Error::Dump {
                    file: file.into(),
                    format: "json",
                    msg: format!(
                        "json: unsupported value: {}",
                        crate::tree::format_float_plain(*f)
                    ),
                });
            }
            out.push_str(&format_float_json(*f));
        }
        Value::Str(s) => write_str(out, s.as_bytes()),
        Value::Bytes(b) => write_str(out, b),
        Value::Time(t) => write_str(out, t.0.as_bytes()),
        // A comment outside a list is not representable; sops drops comments in JSON.
        Value::Comment(_) => out.push_str("null"),
        Value::Map(m) => write_map(out, m, unit, level, file)?,
        Value::List(l) => write_list(out, l, unit, level, file)?,
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Go `encoding/json` string encoding with HTML escaping (what `json.Marshal` does).
fn write_str(out: &mut String, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            if c >= 0x20 && c != b'"' && c != b'\\' && c != b'<' && c != b'>' && c != b'&' {
                i += 1;
                continue;
            }
            push_valid(out, &s[start..i]);
            match c {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                0x08 => out.push_str("\\b"),
                0x0c => out.push_str("\\f"),
                _ => {
                    out.push_str("\\u00");
                    out.push(HEX[(c >> 4) as usize] as char);
                    out.push(HEX[(c & 0xf) as usize] as char);
                }
            }
            i += 1;
            start = i;
            continue;
        }
        // Non-ASCII: find the length of a valid sequence, if any.
        let len = utf8_seq_len(&s[i..]);
        if len == 0 {
            push_valid(out, &s[start..i]);
            out.push_str("\\ufffd");
            i += 1;
            start = i;
            continue;
        }
        if len == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9) {
            push_valid(out, &s[start..i]);
            out.push_str(if s[i + 2] == 0xA8 {
                "\\u2028"
            } else {
                "\\u2029"
            });
            i += 3;
            start = i;
            continue;
        }
        i += len;
    }
    push_valid(out, &s[start..]);
    out.push('"');
}

#[inline]
fn push_valid(out: &mut String, b: &[u8]) {
    out.push_str(std::str::from_utf8(b).expect("span checked as valid UTF-8"));
}

/// Length of the valid UTF-8 sequence at the start of `b` (which starts with a byte >= 0x80),
/// or 0 when it is not valid.
fn utf8_seq_len(b: &[u8]) -> usize {
    let c = b[0];
    let need = match c {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return 0,
    };
    if b.len() < need {
        return 0;
    }
    match std::str::from_utf8(&b[..need]) {
        Ok(_) => need,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Timestamp;

    fn p(s: &str) -> Document {
        parse(s.as_bytes(), "t.json").unwrap()
    }

    fn perr(s: &[u8]) -> String {
        match parse(s, "t.json") {
            Err(Error::Parse { msg, .. }) => msg,
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn keeps_order_and_duplicate_keys() {
        let d = p(r#"{"b": 1, "a": 2, "b": 3}"#);
        let keys: Vec<&str> = d.pairs().map(|(k, _)| k).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        assert_eq!(
            emit(&d, None, "t").unwrap(),
            "{\n\t\"b\": 1,\n\t\"a\": 2,\n\t\"b\": 3\n}\n"
        );
    }

    #[test]
    fn every_number_is_a_float() {
        let d =
            p(r#"{"i": 5432, "neg": -0, "e": 1E5, "big": 12345678901234567890, "tiny": 1e-400}"#);
        assert_eq!(d.get("i"), Some(&Value::Float(5432.0)));
        assert_eq!(d.get("e"), Some(&Value::Float(100000.0)));
        assert_eq!(d.get("tiny"), Some(&Value::Float(0.0)));
        let out = emit(&d, None, "t").unwrap();
        assert!(out.contains("\"i\": 5432,"), "{out}");
        assert!(out.contains("\"neg\": -0,"), "{out}");
        assert!(out.contains("\"big\": 12345678901234567000,"), "{out}");
    }

    #[test]
    fn scalars_and_empty_containers() {
        let d = p(r#"{"t": true, "f": false, "n": null, "o": {}, "l": [], "s": ""}"#);
        assert_eq!(d.get("t"), Some(&Value::Bool(true)));
        assert_eq!(d.get("n"), Some(&Value::Null));
        assert_eq!(
            emit(&d, None, "t").unwrap(),
            "{\n\t\"t\": true,\n\t\"f\": false,\n\t\"n\": null,\n\t\"o\": {},\n\t\"l\": [],\n\t\"s\": \"\"\n}\n"
        );
        assert_eq!(emit(&Map::new(), None, "t").unwrap(), "{}\n");
    }

    #[test]
    fn escapes_like_go() {
        let d = p(r#"{"<&>": "\b\f\n\r\t\u0001\u001f\u007f\u2028\u2029\"\\\/é😀\ud83d\ude00"}"#);
        let out = emit(&d, None, "t").unwrap();
        assert_eq!(
            out,
            "{\n\t\"\\u003c\\u0026\\u003e\": \"\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\\u2028\\u2029\\\"\\\\/é😀😀\"\n}\n"
        );
    }

    #[test]
    fn lone_surrogates_and_invalid_utf8_become_replacement_chars() {
        let d = parse(
            b"{\"a\": \"\\ud800x\\udc00\", \"b\": \"\xe2\x82A\xff\"}",
            "t",
        )
        .unwrap();
        assert_eq!(d.get("a"), Some(&Value::str("\u{FFFD}x\u{FFFD}")));
        // Go replaces each byte of an invalid sequence, not the maximal subpart.
        assert_eq!(d.get("b"), Some(&Value::str("\u{FFFD}\u{FFFD}A\u{FFFD}")));
        // A high surrogate followed by a non-surrogate escape keeps the second one.
        let d = p(r#"{"c": "\ud800\u0041"}"#);
        assert_eq!(d.get("c"), Some(&Value::str("\u{FFFD}A")));
    }

    #[test]
    fn bytes_are_escaped_per_invalid_byte() {
        let mut m = Map::new();
        m.push("data", Value::Bytes(b"ab\xe2\x82A\xff<\x00>\n".to_vec()));
        assert_eq!(
            emit(&m, None, "t").unwrap(),
            "{\n\t\"data\": \"ab\\ufffd\\ufffdA\\ufffd\\u003c\\u0000\\u003e\\n\"\n}\n"
        );
    }

    #[test]
    fn indentation_options() {
        let d = p(r#"{"a": {"b": [1, {}]}}"#);
        assert_eq!(
            emit(&d, Some(0), "t").unwrap(),
            "{\n\"a\": {\n\"b\": [\n1,\n{}\n]\n}\n}\n"
        );
        assert_eq!(
            emit(&d, Some(2), "t").unwrap(),
            "{\n  \"a\": {\n    \"b\": [\n      1,\n      {}\n    ]\n  }\n}\n"
        );
    }

    #[test]
    fn emit_value_has_no_trailing_newline() {
        assert_eq!(emit_value(&Value::Float(42.0), None, "t").unwrap(), "42");
        assert_eq!(emit_value(&Value::Bool(true), None, "t").unwrap(), "true");
        assert_eq!(emit_value(&Value::Null, None, "t").unwrap(), "null");
        assert_eq!(
            emit_value(
                &Value::List(vec![Value::Float(1.0), Value::List(vec![])]),
                None,
                "t"
            )
            .unwrap(),
            "[\n\t1,\n\t[]\n]"
        );
    }

    #[test]
    fn other_scalar_types() {
        let mut m = Map::new();
        m.push("i", Value::Int(-7));
        m.push(
            "t",
            Value::Time(Timestamp("2001-12-14T21:59:43.1-05:00".into())),
        );
        m.items.push(MapItem::Comment(" dropped".into()));
        m.push("l", Value::List(vec![Value::Comment("x".into())]));
        m.push("f", Value::Float(1e21));
        assert_eq!(
            emit(&m, None, "t").unwrap(),
            "{\n\t\"i\": -7,\n\t\"t\": \"2001-12-14T21:59:43.1-05:00\",\n\t\"l\": [],\n\t\"f\": 1e+21\n}\n"
        );
    }

    #[test]
    fn nan_and_inf_cannot_be_emitted() {
        let mut m = Map::new();
        m.push("x", Value::Float(f64::NAN));
        let e = emit(&m, None, "f.json").unwrap_err();
        assert_eq!(e.exit_code(), 4);
        m.items.clear();
        m.push("x", Value::List(vec![Value::Float(f64::INFINITY)]));
        assert!(matches!(emit(&m, None, "f.json"), Err(Error::Dump { .. })));
    }

    #[test]
    fn top_level_must_be_an_object() {
        assert!(perr(b"[1, 2]").contains("top-level object"));
        assert!(perr(b"42").contains("top-level object"));
        assert!(perr(b"").contains("empty"));
        assert!(perr(b"  \n").contains("empty"));
    }

    #[test]
    fn trailing_content_after_the_object_is_ignored_like_sops() {
        let d = p(r#"{"a": 1} x {"b": 2}"#);
        assert_eq!(d.items.len(), 1);
    }

    #[test]
    fn syntax_errors_name_the_cause_and_position() {
        let m = perr(br#"{"a":1,}"#);
        assert!(
            m.contains("invalid character '}' looking for beginning of object key string"),
            "{m}"
        );
        assert!(m.contains("line 1, column 8"), "{m}");
        assert!(perr(br#"{"a" 1}"#).contains("after object key"));
        assert!(perr(br#"{"a":1 "b":2}"#).contains("after object key:value pair"));
        assert!(perr(br#"{"a":[1 2]}"#).contains("after array element"));
        assert!(perr(br#"{"a":tru}"#).contains("in literal true (expecting 'e')"));
        assert!(perr(br#"{"a":"\q"}"#).contains("in string escape code"));
        assert!(perr(b"{\"a\":\"tab\tin\"}").contains("invalid character '\\t' in string literal"));
        assert!(perr(br#"{"a":01}"#).contains("after object key:value pair"));
        assert!(perr(br#"{"a":.5}"#).contains("looking for beginning of value"));
        assert!(perr(br#"{"a":1.}"#).contains("after decimal point"));
        assert!(perr(br#"{"a":1e}"#).contains("in exponent"));
        assert!(perr(br#"{"a":-}"#).contains("in numeric literal"));
        assert!(perr(br#"{"a":1e400}"#).contains("out of the float64 range"));
        assert!(perr(br#"{"a":"\u12x4"}"#).contains("hexadecimal"));
    }

    #[test]
    fn truncated_input_is_an_error() {
        for s in [
            &b"{"[..],
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":1,",
            b"{\"a\":[1",
            b"{\"a\":\"x",
        ] {
            let m = perr(s);
            assert!(m.contains("truncated") || m.contains("end of input"), "{m}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let mut s = String::from("{\"a\":");
        s.push_str(&"[".repeat(5000));
        assert!(perr(s.as_bytes()).contains("nesting deeper"));
        // Just below the limit parses, and emits.
        let n = MAX_DEPTH - 1;
        let s = format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        let d = p(&s);
        let out = emit(&d, Some(0), "t").unwrap();
        assert_eq!(parse(out.as_bytes(), "t").unwrap(), d);
    }

    #[test]
    fn go_lossy_matches_go_decode_rune() {
        assert_eq!(
            go_lossy_utf8(b"a\xed\xa0\x80b".to_vec()),
            "a\u{FFFD}\u{FFFD}\u{FFFD}b"
        );
        assert_eq!(
            go_lossy_utf8(b"\xf0\x9f\x98".to_vec()),
            "\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(go_lossy_utf8("é".as_bytes().to_vec()), "é");
    }
}
