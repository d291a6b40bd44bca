//! What a target receives: the decrypted documents flattened to `NAME=value` pairs (nested keys
//! joined with `_`, later sources overriding earlier ones), filtered by `keys`, shaped by `case`,
//! checked against the target's naming rules, and written as `.env` text that docker compose
//! (compose-go v2's dotenv parser) and POSIX `sh` (`. file`) both read back byte for byte.
//!
//! Quoting. A value is written in single quotes when it holds no `'` and does not end in an odd
//! run of backslashes: `sh` takes single-quoted text literally, and compose-go keeps it literally
//! except that `\'` is an escaped quote (so a trailing lone `\` would swallow the closing quote).
//! Otherwise it is written in double quotes with `\`, `$` and `"` escaped: `sh` undoes exactly
//! those escapes, and compose-go turns `\\` into `\`, `\"` into `"` and `\$` into a literal `$`.
//! A raw newline is kept as is in both forms. The one value neither form can carry is one with a
//! backtick (which `sh` needs escaped in double quotes and compose does not unescape) that also
//! needs double quotes; it is refused with the file and key named, as is a NUL byte.

use crate::error::{Error, Result};
use crate::tree::{Map, MapItem, Value};
use globset::GlobSet;
use zeroize::Zeroizing;

/// One variable of a target. `Debug` never shows the value.
pub struct Var {
    pub name: String,
    pub value: Zeroizing<String>,
    /// Where it came from (file and key path), for messages.
    pub origin: String,
}

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var({} = {})", self.name, fingerprint(&self.value))
    }
}

/// The first 8 hex characters of a value's sha256: what logs may show of a secret.
pub fn fingerprint(value: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(value.as_bytes());
    d.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Which names a target accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// A shell variable: `[A-Za-z_][A-Za-z0-9_]*`.
    Shell,
    /// A GitHub Actions secret: `[A-Za-z0-9_]`, not starting with a digit or `GITHUB_`;
    /// stored upper-case.
    GitHub,
}

/// How a target shapes the flattened keys.
#[derive(Clone, Debug)]
pub struct Shape {
    pub upper: bool,
    pub keys: Option<GlobSet>,
    pub rule: NameRule,
}

/// A decrypted source: its label (path as written in `.sops.yaml`) and first document.
pub struct Source<'a> {
    pub label: &'a str,
    pub doc: &'a Map,
}

fn scalar_text(v: &Value, origin: &str) -> Result<Option<Zeroizing<String>>> {
    Ok(Some(Zeroizing::new(match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => crate::tree::format_float_plain(*f),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => {
                return Err(Error::Config(format!(
                "{origin}: the value is not UTF-8 text and cannot go into an environment variable"
            )))
            }
        },
        Value::Time(t) => t.0.clone(),
        Value::Map(_) | Value::List(_) | Value::Comment(_) => return Ok(None),
    })))
}

/// Flatten a document: nested keys joined with `_`, list items by index, comments skipped.
/// Returns (name, value, key path for messages) in document order.
pub fn flatten(doc: &Map, file: &str) -> Result<Vec<(String, Zeroizing<String>, String)>> {
    fn walk(
        v: &Value,
        name: String,
        path: String,
        file: &str,
        out: &mut Vec<(String, Zeroizing<String>, String)>,
    ) -> Result<()> {
        match v {
            Value::Map(m) => {
                for item in &m.items {
                    if let MapItem::Pair(k, v) = item {
                        walk(v, format!("{name}_{k}"), format!("{path}.{k}"), file, out)?;
                    }
                }
            }
            Value::List(l) => {
                for (i, item) in l
                    .iter()
                    .filter(|x| !matches!(x, Value::Comment(_)))
                    .enumerate()
                {
                    walk(
                        item,
                        format!("{name}_{i}"),
                        format!("{path}[{i}]"),
                        file,
                        out,
                    )?;
                }
            }
            other => {
                let origin = format!("{file}: key {path}");
                if let Some(s) = scalar_text(other, &origin)? {
                    out.push((name, s, path));
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for item in &doc.items {
        if let MapItem::Pair(k, v) = item {
            walk(v, k.clone(), k.clone(), file, &mut out)?;
        }
    }
    Ok(out)
}

/// Why a name is not acceptable under a rule, if it is not.
pub fn name_problem(name: &str, rule: NameRule) -> Option<&'static str> {
    let first = name.chars().next()?;
    if first.is_ascii_digit() {
        return Some("it starts with a digit");
    }
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match rule {
        NameRule::Shell => {
            if !ok_chars {
                return Some("a variable name holds only letters, digits and _");
            }
        }
        NameRule::GitHub => {
            if !ok_chars {
                return Some("GitHub secret names hold only letters, digits and _");
            }
            if name.to_ascii_uppercase().starts_with("GITHUB_") {
                return Some("GitHub reserves names starting with GITHUB_");
            }
        }
    }
    None
}

/// Render a target's variables from its sources (later sources override earlier ones; a
/// variable keeps the position where it first appeared).
pub fn render(sources: &[Source<'_>], shape: &Shape, target: &str) -> Result<Vec<Var>> {
    let mut vars: Vec<Var> = Vec::new();
    for src in sources {
        let mut seen_here: std::collections::HashMap<String, String> = Default::default();
        for (raw, value, path) in flatten(src.doc, src.label)? {
            let mut name = raw;
            if shape.upper || shape.rule == NameRule::GitHub {
                name = name.to_ascii_uppercase();
            }
            if let Some(keys) = &shape.keys {
                if !keys.is_match(&name) {
                    continue;
                }
            }
            if name.is_empty() {
                return Err(Error::Config(format!(
                    "{}: key {path:?} gives an empty variable name (target {target})",
                    src.label
                )));
            }
            if let Some(why) = name_problem(&name, shape.rule) {
                return Err(Error::Config(format!(
                    "{}: key {path} becomes {name:?}, which is not a valid name for target {target}: {why}",
                    src.label
                )));
            }
            if let Some(other) = seen_here.insert(name.clone(), path.clone()) {
                return Err(Error::Config(format!(
                    "{}: keys {other} and {path} both become {name} (target {target}); rename one",
                    src.label
                )));
            }
            let origin = format!("{}: key {path}", src.label);
            match vars.iter_mut().find(|v| v.name == name) {
                Some(v) => {
                    v.value = value;
                    v.origin = origin;
                }
                None => vars.push(Var {
                    name,
                    value,
                    origin,
                }),
            }
        }
    }
    Ok(vars)
}

fn odd_trailing_backslashes(v: &str) -> bool {
    v.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// Quote a value for a `.env` line, or say why it cannot be.
pub fn quote(value: &str) -> std::result::Result<String, &'static str> {
    if value.contains('\0') {
        return Err("it contains a NUL byte, which no environment variable can hold");
    }
    if !value.contains('\'') && !odd_trailing_backslashes(value) {
        let mut s = String::with_capacity(value.len() + 2);
        s.push('\'');
        s.push_str(value);
        s.push('\'');
        return Ok(s);
    }
    if value.contains('`') {
        return Err("it holds a backtick together with a single quote or a trailing backslash, which no quoting reads back the same in both docker compose and sh");
    }
    let mut s = String::with_capacity(value.len() + 8);
    s.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '$' | '"') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    Ok(s)
}

/// The `.env` text for a target: a header naming the sources, then one `NAME=value` per line.
pub fn env_file(vars: &[Var], sources: &[String]) -> Result<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::new());
    out.push_str("# Generated by spx sync from ");
    out.push_str(&sources.join(", "));
    out.push_str(".\n# Do not edit: the next sync overwrites it. Change the sops files instead.\n");
    for v in vars {
        let q = quote(&v.value).map_err(|why| {
            Error::Config(format!(
                "{}: the value of {} cannot be written to a .env file: {why}",
                v.origin, v.name
            ))
        })?;
        out.push_str(&v.name);
        out.push('=');
        out.push_str(&q);
        out.push('\n');
    }
    Ok(out)
}

/// Read a `.env` file back into (name, value) pairs, with compose-go v2's dotenv rules for the
/// forms spx writes (and plain unquoted lines). Variable references are not expanded: this is
/// only used to show which names changed on a host. `None` when the text does not parse.
pub fn parse_env(text: &str) -> Option<Vec<(String, Zeroizing<String>)>> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out: Vec<(String, Zeroizing<String>)> = Vec::new();
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c);
    while i < b.len() {
        while i < b.len() && (is_space(b[i]) || b[i] == b'\n') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if text[i..].starts_with("export") && b.get(i + 6).is_some_and(|c| is_space(*c)) {
            i += 6;
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b'\n' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return None;
        }
        let name = text[start..i].trim().to_string();
        if name.is_empty() {
            return None;
        }
        i += 1;
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let value = match b.get(i) {
            Some(&q) if q == b'\'' || q == b'"' => {
                let mut raw = Vec::new();
                let mut esc = false;
                i += 1;
                let mut closed = false;
                while i < b.len() {
                    let c = b[i];
                    i += 1;
                    if esc {
                        esc = false;
                        if c != q {
                            raw.push(b'\\');
                        }
                        raw.push(c);
                        continue;
                    }
                    if c == b'\\' {
                        esc = true;
                    } else if c == q {
                        closed = true;
                        break;
                    } else {
                        raw.push(c);
                    }
                }
                if !closed {
                    return None;
                }
                let raw = String::from_utf8(raw).ok()?;
                if q == b'"' {
                    unescape_double(&raw)
                } else {
                    raw
                }
            }
            _ => {
                let end = text[i..].find('\n').map(|n| i + n).unwrap_or(b.len());
                let line = &text[i..end];
                i = end;
                let line = line.split(" #").next().unwrap_or("");
                line.trim_end().to_string()
            }
        };
        out.retain(|(n, _)| n != &name);
        out.push((name, Zeroizing::new(value)));
    }
    Some(out)
}

/// compose-go's `expandEscapes` for the escapes it knows, then `$$` → `$`.
fn unescape_double(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('\\') => out.push('\\'),
            Some('$') => out.push('$'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(pairs: &[(&str, Value)]) -> Map {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.push(*k, v.clone());
        }
        m
    }

    fn shape() -> Shape {
        Shape {
            upper: false,
            keys: None,
            rule: NameRule::Shell,
        }
    }

    const AWKWARD: &[&str] = &[
        "",
        "plain",
        "two words",
        "it's",
        "say \"hi\"",
        "$HOME and ${PATH} and $$",
        "# not a comment",
        "a #b",
        "line1\nline2\n",
        "back\\slash",
        "ends\\",
        "ends\\\\",
        "quote'and\\",
        "tab\there",
        "`uname`",
        "\\n literally",
        "\\$x '",
        "mixed '\"$`",
        "unicode é ✓",
        " leading and trailing ",
        "=",
        "'",
        "\"",
    ];

    #[test]
    fn quoting_round_trips_through_the_compose_rules() {
        for v in AWKWARD {
            let q = match quote(v) {
                Ok(q) => q,
                Err(_) => {
                    assert!(v.contains('`'), "only backtick cases may be refused: {v:?}");
                    continue;
                }
            };
            let text = format!("K={q}\nNEXT='x'\n");
            let parsed = parse_env(&text).unwrap_or_else(|| panic!("unparsable: {text:?}"));
            assert_eq!(parsed.len(), 2, "{text:?}");
            assert_eq!(parsed[0].1.as_str(), *v, "{text:?}");
            assert_eq!(parsed[1].1.as_str(), "x");
        }
    }

    #[test]
    fn quoting_picks_single_quotes_when_it_can() {
        assert_eq!(quote("a b$c").unwrap(), "'a b$c'");
        assert_eq!(quote("it's $x").unwrap(), "\"it's \\$x\"");
        assert_eq!(quote("end\\").unwrap(), "\"end\\\\\"");
        assert!(quote("it's `x`").is_err());
        assert!(quote("nul\0").is_err());
    }

    #[test]
    fn later_sources_override_and_nested_keys_flatten() {
        let a = doc(&[
            ("smtp", Value::Map(doc(&[("host", Value::str("a"))]))),
            ("x", Value::Int(1)),
        ]);
        let b = doc(&[("smtp_host", Value::str("b")), ("y", Value::Bool(true))]);
        let vars = render(
            &[
                Source {
                    label: "a.yaml",
                    doc: &a,
                },
                Source {
                    label: "b.yaml",
                    doc: &b,
                },
            ],
            &shape(),
            "t",
        )
        .unwrap();
        let got: Vec<(&str, &str)> = vars
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(got, vec![("smtp_host", "b"), ("x", "1"), ("y", "true")]);
        assert!(vars[0].origin.starts_with("b.yaml"));
    }

    #[test]
    fn invalid_names_name_the_file_and_key() {
        let a = doc(&[("db", Value::Map(doc(&[("pass-word", Value::str("v"))])))]);
        let e = render(
            &[Source {
                label: "s.yaml",
                doc: &a,
            }],
            &shape(),
            "vps",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("s.yaml") && e.contains("db.pass-word"), "{e}");
        assert!(!e.contains('v') || !e.contains("\"v\""));
    }

    #[test]
    fn github_rules_upper_case_and_reserved_prefix() {
        let a = doc(&[("github_token", Value::str("v"))]);
        let s = Shape {
            rule: NameRule::GitHub,
            ..shape()
        };
        let e = render(
            &[Source {
                label: "g.yaml",
                doc: &a,
            }],
            &s,
            "gh",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("GITHUB_"), "{e}");
        let b = doc(&[("deploy_key", Value::str("v"))]);
        let v = render(
            &[Source {
                label: "g.yaml",
                doc: &b,
            }],
            &s,
            "gh",
        )
        .unwrap();
        assert_eq!(v[0].name, "DEPLOY_KEY");
        assert!(name_problem("1ABC", NameRule::GitHub).is_some());
    }

    #[test]
    fn keys_filter_and_case() {
        let a = doc(&[
            ("smtp_host", Value::str("h")),
            ("smtp_pass", Value::str("p")),
            ("other", Value::str("o")),
        ]);
        let mut b = globset::GlobSetBuilder::new();
        b.add(globset::Glob::new("SMTP_*").unwrap());
        let s = Shape {
            upper: true,
            keys: Some(b.build().unwrap()),
            rule: NameRule::Shell,
        };
        let v = render(
            &[Source {
                label: "a",
                doc: &a,
            }],
            &s,
            "t",
        )
        .unwrap();
        let names: Vec<&str> = v.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, vec!["SMTP_HOST", "SMTP_PASS"]);
    }

    #[test]
    fn duplicate_flattened_names_in_one_file_are_an_error() {
        let a = doc(&[
            ("a_b", Value::str("1")),
            ("a", Value::Map(doc(&[("b", Value::str("2"))]))),
        ]);
        assert!(render(
            &[Source {
                label: "f",
                doc: &a
            }],
            &shape(),
            "t"
        )
        .is_err());
    }

    #[test]
    fn debug_never_shows_a_value() {
        let v = Var {
            name: "N".into(),
            value: Zeroizing::new("hunter2".into()),
            origin: "o".into(),
        };
        assert!(!format!("{v:?}").contains("hunter2"));
    }

    #[test]
    fn parse_env_reads_plain_lines_and_comments() {
        let p = parse_env("# c\nexport A=1 # note\nB = two words \n\nC=\"x\\ny\"\n").unwrap();
        let got: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, vec![("A", "1"), ("B", "two words"), ("C", "x\ny")]);
        assert!(parse_env("A='open\n").is_none());
    }
}
