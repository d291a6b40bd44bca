//! INI store: go-ini (gopkg.in/ini.v1) semantics as sops 3.11 uses them, measured against the
//! real binary.
//!
//! Reading: keys before the first header belong to the section `DEFAULT`; every `[name]`
//! header starts a new section (a repeated name gives a second section, not a merge); inside a
//! section a repeated key replaces the earlier value in place. Values: `key = value` or
//! `key: value`, trimmed; an unquoted `#` or `;` starts an inline comment; one pair of
//! surrounding `"` or `'` is removed; `"""…"""` and `` `…` `` quote (possibly multi-line) raw
//! values; a trailing `\` continues the value on the next line. Comment lines above a key and
//! its inline comment become one comment entry stored *after* the key; comments above a
//! header become the section's first entry. Leading `;`/`#`/spaces are stripped from comments.
//! Writing: go-ini's pretty format: `=` aligned per section, a blank line between sections,
//! a first `DEFAULT` section written without header, comments as `; text` above their key.

use crate::error::{Error, Result};
use crate::store::dotenv::value_to_string;
use crate::store::json::go_lossy_utf8;
use crate::tree::{Document, Map, MapItem, Value};

const DEFAULT_SECTION: &str = "DEFAULT";

struct Key {
    name: String,
    value: String,
    comment: String,
}

struct Section {
    name: String,
    comment: String,
    keys: Vec<Key>,
}

impl Section {
    fn new(name: String) -> Self {
        Section {
            name,
            comment: String::new(),
            keys: Vec::new(),
        }
    }

    /// go-ini `NewKey`: a repeated name replaces the value of the existing key.
    fn key(&mut self, name: String, value: String) -> &mut Key {
        if let Some(pos) = self.keys.iter().position(|k| k.name == name) {
            self.keys[pos].value = value;
            &mut self.keys[pos]
        } else {
            self.keys.push(Key {
                name,
                value,
                comment: String::new(),
            });
            self.keys.last_mut().expect("just pushed")
        }
    }
}

/// Reads lines the way go-ini's `bufio.Reader.ReadBytes('\n')` loop does: each line with its
/// `\n`, the last one possibly without.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
    line_no: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<&'a str> {
        if self.pos >= self.text.len() {
            return None;
        }
        let rest = &self.text[self.pos..];
        let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        self.pos += end;
        self.line_no += 1;
        Some(&rest[..end])
    }
}

struct Parser<'a> {
    lines: Lines<'a>,
    comment: String,
    file: &'a str,
}

impl<'a> Parser<'a> {
    fn err(&self, msg: impl std::fmt::Display) -> Error {
        Error::parse(self.file, format!("line {}: {msg}", self.lines.line_no))
    }

    fn read_value(&mut self, input: &str) -> Result<String> {
        let line = input.trim_start();
        if line.is_empty() {
            return Ok(String::new());
        }
        let quote = if line.len() > 3 && line.starts_with("\"\"\"") {
            Some("\"\"\"")
        } else if line.starts_with('`') {
            Some("`")
        } else {
            None
        };
        if let Some(q) = quote {
            let body = &line[q.len()..];
            return match body.rfind(q) {
                Some(pos) => Ok(body[..pos].to_string()),
                None => self.read_multilines(body.to_string(), q),
            };
        }
        let line = line.trim();
        if let Some(stripped) = line.strip_suffix('\\') {
            return self.read_continuation_lines(stripped.to_string());
        }
        let mut line = line;
        if let Some(i) = line.find(['#', ';']) {
            self.comment.push_str(&line[i..]);
            line = line[..i].trim();
        }
        if has_surrounded_quote(line, b'\'') || has_surrounded_quote(line, b'"') {
            line = &line[1..line.len() - 1];
        }
        Ok(line.to_string())
    }

    fn read_multilines(&mut self, mut val: String, quote: &str) -> Result<String> {
        loop {
            let Some(next) = self.lines.next_line() else {
                return Err(self.err(format!(
                    "missing closing quote {quote} of a multi-line value"
                )));
            };
            if let Some(pos) = next.rfind(quote) {
                val.push_str(&next[..pos]);
                if let Some(c) = clean_comment(&next[pos..]) {
                    self.comment.push_str(c.trim());
                }
                return Ok(val);
            }
            val.push_str(next);
        }
    }

    fn read_continuation_lines(&mut self, mut val: String) -> Result<String> {
        while let Some(data) = self.lines.next_line() {
            let next = data.trim();
            if next.is_empty() {
                break;
            }
            val.push_str(next);
            if !val.ends_with('\\') {
                break;
            }
            val.pop();
        }
        Ok(val)
    }
}

/// go-ini `hasSurroundedQuote`: first and last bytes are the quote and it appears nowhere else.
fn has_surrounded_quote(s: &str, q: u8) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == q && b[b.len() - 1] == q && !b[1..b.len() - 1].contains(&q)
}

/// go-ini `cleanComment`: the text from the first `#` or `;`.
fn clean_comment(s: &str) -> Option<&str> {
    s.find(['#', ';']).map(|i| &s[i..])
}

/// go-ini `readKeyName` with the delimiters `=` and `:`; returns the key and the byte offset
/// just after the delimiter.
fn read_key_name(line: &str) -> std::result::Result<(String, usize), String> {
    let quote = if line.starts_with('"') {
        if line.len() > 6 && line.starts_with("\"\"\"") {
            Some("\"\"\"")
        } else {
            Some("\"")
        }
    } else if line.starts_with('`') {
        Some("`")
    } else {
        None
    };
    if let Some(q) = quote {
        let start = q.len();
        let Some(rel) = line[start..].find(q) else {
            return Err("missing closing key quote".into());
        };
        let pos = rel + start;
        let Some(i) = line[pos + start..].find(['=', ':']) else {
            return Err("key-value delimiter not found (expected `key = value`)".into());
        };
        return Ok((line[start..pos].trim().to_string(), pos + i + start + 1));
    }
    match line.find(['=', ':']) {
        Some(end) => Ok((line[..end].trim().to_string(), end + 1)),
        None => Err("key-value delimiter not found (expected `key = value`)".into()),
    }
}

/// sops's comment clean-up: leading `;` or `#` and any following `;`/`#`/spaces go.
fn strip_comment_char(c: &str) -> String {
    if c.starts_with(';') {
        c.trim_start_matches([';', ' ']).to_string()
    } else if c.starts_with('#') {
        c.trim_start_matches(['#', ' ']).to_string()
    } else {
        c.to_string()
    }
}

/// Parse an INI file: one top-level entry per section, each a mapping of strings.
pub fn parse(bytes: &[u8], file: &str) -> Result<Document> {
    let bytes = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        &bytes[3..]
    } else if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        &bytes[2..]
    } else {
        bytes
    };
    let text = go_lossy_utf8(bytes.to_vec());
    let mut p = Parser {
        lines: Lines {
            text: &text,
            pos: 0,
            line_no: 0,
        },
        comment: String::new(),
        file,
    };
    let mut sections = vec![Section::new(DEFAULT_SECTION.to_string())];
    let mut auto_count = 1usize;
    while let Some(raw) = p.lines.next_line() {
        let line = raw.trim_start();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') || line.starts_with(';') {
            p.comment.push_str(line);
            continue;
        }
        if line.starts_with('[') {
            let Some(close) = line.rfind(']') else {
                return Err(p.err("unclosed section header (missing `]`)"));
            };
            let name = &line[1..close];
            if name.is_empty() {
                return Err(p.err("empty section name `[]`"));
            }
            if let Some(c) = clean_comment(&line[close + 1..]) {
                p.comment.push_str(c);
            }
            let mut section = Section::new(name.to_string());
            section.comment = p.comment.trim().to_string();
            p.comment.clear();
            sections.push(section);
            auto_count = 1;
            continue;
        }
        let (mut name, offset) = read_key_name(line).map_err(|m| p.err(m))?;
        if name.is_empty() {
            return Err(p.err("empty key name"));
        }
        if name == "-" {
            name = format!("#{auto_count}");
            auto_count += 1;
        }
        let value = p.read_value(&line[offset..])?;
        let comment = p.comment.trim().to_string();
        p.comment.clear();
        let section = sections.last_mut().expect("DEFAULT exists");
        section.key(name, value).comment = comment;
    }

    let mut doc = Map::new();
    for s in sections {
        let mut items = Map::new();
        if !s.comment.is_empty() {
            items
                .items
                .push(MapItem::Comment(strip_comment_char(&s.comment)));
        }
        for k in s.keys {
            items.items.push(MapItem::Pair(k.name, Value::Str(k.value)));
            if !k.comment.is_empty() {
                items
                    .items
                    .push(MapItem::Comment(strip_comment_char(&k.comment)));
            }
        }
        doc.items.push(MapItem::Pair(s.name, Value::Map(items)));
    }
    Ok(doc)
}

/// Emit a document as an INI file: every top-level entry must be a mapping (a section).
pub fn emit(doc: &Document, file: &str) -> Result<String> {
    let dump = |msg: String| Error::Dump {
        file: file.into(),
        format: "ini",
        msg,
    };
    // Build go-ini sections from the tree the way sops's encodeTree does.
    let mut sections: Vec<Section> = Vec::new();
    for item in &doc.items {
        let MapItem::Pair(name, value) = item else {
            continue;
        };
        if name.is_empty() {
            return Err(dump("a section has an empty name".into()));
        }
        let Value::Map(m) = value else {
            return Err(dump(format!(
                "top-level entry {name:?} is not a mapping: INI sections must be mappings of key/value pairs"
            )));
        };
        let mut section = Section::new(name.clone());
        let mut items = m.items.iter().peekable();
        if let Some(MapItem::Comment(c)) = items.peek() {
            section.comment = c.clone();
            items.next();
        }
        let mut last: Option<usize> = None;
        for it in items {
            match it {
                MapItem::Comment(c) => {
                    if let Some(i) = last {
                        section.keys[i].comment = c.clone();
                    }
                }
                MapItem::Pair(k, v) => {
                    if k.is_empty() {
                        return Err(dump(format!(
                            "section [{name}] has a key with an empty name"
                        )));
                    }
                    let value = value_to_string(v);
                    section.key(k.clone(), value);
                    last = section.keys.iter().position(|x| x.name == *k);
                }
            }
        }
        sections.push(section);
    }

    let mut out = String::new();
    let count = sections.len();
    for (i, sec) in sections.iter().enumerate() {
        if !sec.comment.is_empty() {
            for line in sec.comment.split('\n') {
                if line.starts_with('#') || line.starts_with(';') {
                    out.push_str(&line[..1]);
                    out.push(' ');
                    out.push_str(line[1..].trim());
                } else {
                    out.push_str("; ");
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        if i > 0 || !sec.name.eq_ignore_ascii_case(DEFAULT_SECTION) {
            out.push('[');
            out.push_str(&sec.name);
            out.push_str("]\n");
        } else if sec.keys.is_empty() {
            continue;
        }
        let align = sec
            .keys
            .iter()
            .map(|k| quoted_key(&k.name).len())
            .max()
            .unwrap_or(0);
        for k in &sec.keys {
            if !k.comment.is_empty() {
                for line in k.comment.split('\n') {
                    if line.starts_with('#') || line.starts_with(';') {
                        out.push_str(&line[..1]);
                        out.push(' ');
                        out.push_str(line[1..].trim());
                    } else {
                        out.push_str("; ");
                        out.push_str(line.trim());
                    }
                    out.push('\n');
                }
            }
            let name = quoted_key(&k.name);
            out.push_str(&name);
            for _ in name.len()..align {
                out.push(' ');
            }
            out.push_str(" = ");
            let v = &k.value;
            if v.contains(['\n', '`']) {
                out.push_str("\"\"\"");
                out.push_str(v);
                out.push_str("\"\"\"");
            } else if v.contains(['#', ';']) {
                out.push('`');
                out.push_str(v);
                out.push('`');
            } else if v.trim().len() != v.len() {
                out.push('"');
                out.push_str(v);
                out.push('"');
            } else {
                out.push_str(v);
            }
            out.push('\n');
        }
        if i + 1 < count {
            out.push('\n');
        }
    }
    Ok(out)
}

/// How go-ini writes a key name: quoted when it holds a quote or a delimiter.
fn quoted_key(k: &str) -> String {
    if k.contains(['"', '=', ':']) {
        format!("`{k}`")
    } else if k.contains('`') {
        format!("\"\"\"{k}\"\"\"")
    } else {
        k.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section<'a>(d: &'a Document, name: &str) -> &'a Map {
        d.get(name)
            .and_then(Value::as_map)
            .unwrap_or_else(|| panic!("no section {name}"))
    }

    #[test]
    fn default_section_and_values() {
        let src = "app_name = demo\nlong_key_name=1\n[database]\nhost = \"localhost\"\n\
                   user='admin'\nempty =\nspaced = \"  padded  \"\n  indented = yes\nk: colon\n";
        let d = parse(src.as_bytes(), "a.ini").unwrap();
        let names: Vec<&str> = d.pairs().map(|(k, _)| k).collect();
        assert_eq!(names, ["DEFAULT", "database"]);
        assert_eq!(
            section(&d, "DEFAULT").get("long_key_name"),
            Some(&Value::str("1"))
        );
        let db = section(&d, "database");
        assert_eq!(db.get("host"), Some(&Value::str("localhost")));
        assert_eq!(db.get("user"), Some(&Value::str("admin")));
        assert_eq!(db.get("empty"), Some(&Value::str("")));
        assert_eq!(db.get("spaced"), Some(&Value::str("  padded  ")));
        assert_eq!(db.get("indented"), Some(&Value::str("yes")));
        assert_eq!(db.get("k"), Some(&Value::str("colon")));
        assert_eq!(
            emit(&d, "a.ini").unwrap(),
            "app_name      = demo\nlong_key_name = 1\n\n[database]\nhost     = localhost\n\
             user     = admin\nempty    = \nspaced   = \"  padded  \"\nindented = yes\nk        = colon\n"
        );
    }

    #[test]
    fn inline_comments_cut_values_even_inside_quotes() {
        let d = parse(
            b"[s]\npassword = \"p@ss word;with=chars\"\ne = \"q\" ; c2\ng = x # y ; z\n",
            "a",
        )
        .unwrap();
        let s = section(&d, "s");
        assert_eq!(
            s.items,
            vec![
                MapItem::Pair("password".into(), Value::str("\"p@ss word")),
                MapItem::Comment("with=chars\"".into()),
                MapItem::Pair("e".into(), Value::str("q")),
                MapItem::Comment("c2".into()),
                MapItem::Pair("g".into(), Value::str("x")),
                MapItem::Comment("y ; z".into()),
            ]
        );
        assert_eq!(
            emit(&d, "a").unwrap(),
            "[s]\n; with=chars\"\npassword = \"p@ss word\n; c2\ne        = q\n; y ; z\ng        = x\n"
        );
    }

    #[test]
    fn quoted_and_multiline_values() {
        let src = "[s]\n`quoted=key` = v\ntick = a`b\nhashy = `a#b`\nx = \"\"\"multi\nline\"\"\"\n\
                   d = `x\ny` ; tail\nc = foo \\\n  bar\n\"qk\" = 1\n";
        let d = parse(src.as_bytes(), "a").unwrap();
        let s = section(&d, "s");
        assert_eq!(s.get("quoted=key"), Some(&Value::str("v")));
        assert_eq!(s.get("tick"), Some(&Value::str("a`b")));
        assert_eq!(s.get("hashy"), Some(&Value::str("a#b")));
        assert_eq!(s.get("x"), Some(&Value::str("multi\nline")));
        assert_eq!(s.get("d"), Some(&Value::str("x\ny")));
        assert_eq!(s.get("c"), Some(&Value::str("foo bar")));
        assert_eq!(s.get("qk"), Some(&Value::str("1")));
        assert_eq!(
            emit(&d, "a").unwrap(),
            "[s]\n`quoted=key` = v\ntick         = \"\"\"a`b\"\"\"\nhashy        = `a#b`\n\
             x            = \"\"\"multi\nline\"\"\"\n; tail\nd            = \"\"\"x\ny\"\"\"\n\
             c            = foo bar\nqk           = 1\n"
        );
    }

    #[test]
    fn comments_attach_to_keys_and_sections() {
        let src =
            "app = demo\n; top comment\n# second\nlong = 1\n\n; section comment\n[database]\n\
                   host = h\n; trailing\n[t] ; sec inline\n";
        let d = parse(src.as_bytes(), "a").unwrap();
        assert_eq!(
            section(&d, "DEFAULT").items,
            vec![
                MapItem::Pair("app".into(), Value::str("demo")),
                MapItem::Pair("long".into(), Value::str("1")),
                MapItem::Comment("top comment\n# second".into()),
            ]
        );
        assert_eq!(
            section(&d, "database").items[0],
            MapItem::Comment("section comment".into())
        );
        assert_eq!(
            section(&d, "t").items,
            vec![MapItem::Comment("trailing\n; sec inline".into())]
        );
        assert_eq!(
            emit(&d, "a").unwrap(),
            "app  = demo\n; top comment\n# second\nlong = 1\n\n; section comment\n[database]\n\
             host = h\n\n; trailing\n; sec inline\n[t]\n"
        );
    }

    #[test]
    fn repeated_sections_stay_separate_and_repeated_keys_replace() {
        let src = "x = 1\n[DEFAULT]\ny = 2\n[s]\n; c-a\nd = 1\nd = 2\n[s]\nh = 3\n";
        let d = parse(src.as_bytes(), "a").unwrap();
        let names: Vec<&str> = d.pairs().map(|(k, _)| k).collect();
        assert_eq!(names, ["DEFAULT", "DEFAULT", "s", "s"]);
        let s = d.pairs().nth(2).unwrap().1.as_map().unwrap();
        assert_eq!(s.items, vec![MapItem::Pair("d".into(), Value::str("2"))]);
        assert_eq!(
            emit(&d, "a").unwrap(),
            "x = 1\n\n[DEFAULT]\ny = 2\n\n[s]\nd = 2\n\n[s]\nh = 3\n"
        );
    }

    #[test]
    fn empty_sections_and_files() {
        let d = parse(b"[s]\na = 1\n[e]\n", "a").unwrap();
        assert_eq!(section(&d, "DEFAULT").items, vec![]);
        assert_eq!(emit(&d, "a").unwrap(), "[s]\na = 1\n\n[e]\n");
        let d = parse(b"", "a").unwrap();
        assert_eq!(d.items.len(), 1);
        assert_eq!(emit(&d, "a").unwrap(), "");
    }

    #[test]
    fn crlf_and_bom() {
        let d = parse(b"\xEF\xBB\xBFa = 1\r\n[s]\r\nb = \"x\"\r\n", "a").unwrap();
        assert_eq!(section(&d, "DEFAULT").get("a"), Some(&Value::str("1")));
        assert_eq!(section(&d, "s").get("b"), Some(&Value::str("x")));
    }

    #[test]
    fn auto_increment_keys() {
        let d = parse(b"[s]\n- = a\n- = b\n", "a").unwrap();
        let keys: Vec<&str> = section(&d, "s").pairs().map(|(k, _)| k).collect();
        assert_eq!(keys, ["#1", "#2"]);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        for (src, what) in [
            (
                &b"a = 1\nnoequals\n"[..],
                "line 2: key-value delimiter not found",
            ),
            (b"[open\n", "line 1: unclosed section"),
            (b"[]\n", "empty section name"),
            (b"= x\n", "empty key name"),
            (b"x = \"\"\"never closed\nmore\n", "missing closing quote"),
            (b"\"k = v\n", "missing closing key quote"),
        ] {
            let e = parse(src, "f.ini").unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(what), "{e} / {what}");
        }
    }

    #[test]
    fn emit_non_string_values_and_refuse_non_sections() {
        let mut s = Map::new();
        s.push("i", Value::Float(3.0));
        s.push("b", Value::Bool(true));
        s.push("n", Value::Null);
        s.push("l", Value::List(vec![Value::Float(1.0), Value::str("a")]));
        s.items.push(MapItem::Comment(" c".into()));
        let mut d = Map::new();
        d.push("s", Value::Map(s.clone()));
        d.push("DEFAULT", Value::Map(Map::new()));
        assert_eq!(
            emit(&d, "a").unwrap(),
            "[s]\ni = 3.0\nb = true\nn = <nil>\n; c\nl = [1 a]\n\n[DEFAULT]\n"
        );
        // A section comment is written untrimmed.
        let mut t = Map::new();
        t.items.push(MapItem::Comment(" c1".into()));
        t.push("k", Value::str("v"));
        let mut d = Map::new();
        d.push("t", Value::Map(t));
        assert_eq!(emit(&d, "a").unwrap(), ";  c1\n[t]\nk = v\n");
        let mut d = Map::new();
        d.push("x", Value::str("scalar"));
        let e = emit(&d, "a.ini").unwrap_err();
        assert_eq!(e.exit_code(), 4);
    }
}
