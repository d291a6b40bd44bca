//! A fast path for the block-style YAML that sops writes and people usually write: block
//! mappings and sequences, one-line plain / quoted scalars, literal blocks, `{}` / `[]`, and
//! full-line comments placed right above the key or item they describe.
//!
//! It reads line by line with no event stream and no second copy of the text, which is what
//! makes a 100,000-key file cheap. It never guesses: anything outside that subset (flow
//! collections, anchors, tags, multi-line plain or quoted scalars, folded blocks, inline or
//! foot comments, blank lines, tabs, CR, duplicate keys, keys that are not plain strings…)
//! returns `None`, and the full parser (`parse.rs`, yaml.v3 semantics) reads the whole file.
//! A differential test holds the two paths to identical results.

use super::parse::plain_scalar;
use crate::error::Result;
use crate::tree::{Document, Map, MapItem, Value};
use std::collections::HashSet;

#[derive(Clone, Copy)]
struct Line<'a> {
    /// 0-based line number.
    no: usize,
    indent: usize,
    /// The line after its indentation.
    text: &'a str,
    comment: bool,
}

struct P<'a> {
    lines: Vec<Line<'a>>,
    raw: Vec<&'a str>,
    i: usize,
    file: &'a str,
}

type Fast<T> = Option<Result<T>>;

macro_rules! bail {
    () => {
        return None
    };
}

/// YAML 1.2's `c-printable` (outside ASCII, which the caller checks bytewise), less the byte
/// order mark, which the full parser accepts only at the start of a document.
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..)
}

/// Parse `src` if it is in the fast subset; `None` means "use the full parser".
pub fn try_parse(src: &str, file: &str) -> Fast<Vec<Document>> {
    // Tabs and CRs change layout rules; characters YAML does not allow in a stream (NUL and
    // other controls, found by fuzzing) are for the full parser to reject with its error.
    if src.bytes().any(|b| (b < 0x20 && b != b'\n') || b == 0x7f)
        || (!src.is_ascii() && src.chars().any(|c| !yaml_printable(c)))
    {
        bail!();
    }
    let body = src.strip_suffix('\n')?;
    let raw: Vec<&str> = body.split('\n').collect();
    // Documents: separated by lines that are exactly `---`.
    let mut docs = Vec::new();
    let mut start = 0;
    let mut bounds = Vec::new();
    for (n, l) in raw.iter().enumerate() {
        if *l == "---" {
            if n > 0 {
                bounds.push((start, n));
            }
            start = n + 1;
        } else if l.starts_with("...") || l.starts_with('%') || l.starts_with("--- ") {
            bail!();
        }
    }
    bounds.push((start, raw.len()));
    for (a, b) in bounds {
        if a >= b {
            bail!();
        }
        let mut lines = Vec::with_capacity(b - a);
        for (no, l) in raw.iter().enumerate().take(b).skip(a) {
            let text = l.trim_start_matches(' ');
            if text.is_empty() || text.ends_with(' ') {
                bail!(); // blank lines and trailing spaces change comment placement
            }
            lines.push(Line {
                no,
                indent: l.len() - text.len(),
                text,
                comment: text.starts_with('#'),
            });
        }
        let mut p = P {
            lines,
            raw: raw.clone(),
            i: 0,
            file,
        };
        let first = p.lines.iter().find(|l| !l.comment)?;
        if first.indent != 0 {
            bail!();
        }
        let map = match p.map(0, None)? {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        if p.i != p.lines.len() {
            bail!(); // trailing comments (foot comments) or stray lines
        }
        docs.push(map);
    }
    Some(Ok(docs))
}

/// A plain key we are sure is a string, and its value text (after `: `; empty after `:`).
fn split_key(text: &str) -> Option<(&str, &str)> {
    let (k, rest) = match text.find(": ") {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => (text.strip_suffix(':')?, ""),
    };
    if k.is_empty()
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        || !k.as_bytes()[0].is_ascii_alphabetic() && k.as_bytes()[0] != b'_'
    {
        return None;
    }
    Some((k, rest.trim_start_matches(' ')))
}

impl<'a> P<'a> {
    fn peek_content(&self) -> Option<(usize, Line<'a>)> {
        let mut j = self.i;
        while j < self.lines.len() {
            if !self.lines[j].comment {
                return Some((j, self.lines[j]));
            }
            j += 1;
        }
        None
    }

    /// Comments from `self.i` up to `upto`, all at `indent` (else not in the subset).
    fn take_comments(&mut self, upto: usize, indent: usize) -> Option<Vec<String>> {
        let mut out = Vec::new();
        while self.i < upto {
            let l = self.lines[self.i];
            if l.indent != indent {
                return None;
            }
            out.push(l.text[1..].to_string());
            self.i += 1;
        }
        Some(out)
    }

    /// A block mapping at `indent`. `first` is a key line already split off a `- ` item.
    fn map(&mut self, indent: usize, first: Option<&'a str>) -> Fast<Map> {
        let mut m = Map::new();
        let mut seen: HashSet<&'a str> = HashSet::new();
        let mut pending_first = first;
        loop {
            let (text, line_no) = if let Some(t) = pending_first.take() {
                (t, self.lines[self.i - 1].no)
            } else {
                let Some((j, l)) = self.peek_content() else {
                    // Only comments (foot comments) or nothing left.
                    return Some(Ok(m));
                };
                if l.indent < indent {
                    return Some(Ok(m));
                }
                if l.indent > indent || l.text.starts_with('-') {
                    bail!();
                }
                for c in self.take_comments(j, indent)? {
                    m.items.push(MapItem::Comment(c));
                }
                self.i = j + 1;
                (l.text, l.no)
            };
            let (key, rest) = split_key(text)?;
            if !matches!(plain_scalar(self.file, key, line_no), Ok(Value::Str(_)))
                || !seen.insert(key)
            {
                bail!();
            }
            let value = if rest.is_empty() {
                match self.peek_content() {
                    Some((_, l)) if l.indent > indent => {
                        let child = l.indent;
                        if l.text == "-" || l.text.starts_with("- ") {
                            match self.seq(child)? {
                                Ok(v) => Value::List(v),
                                Err(e) => return Some(Err(e)),
                            }
                        } else {
                            match self.map(child, None)? {
                                Ok(v) => Value::Map(v),
                                Err(e) => return Some(Err(e)),
                            }
                        }
                    }
                    Some((_, l)) if l.indent == indent && l.text.starts_with('-') => bail!(),
                    _ => Value::Null,
                }
            } else {
                match self.scalar(rest, indent, line_no)? {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e)),
                }
            };
            m.items.push(MapItem::Pair(key.to_string(), value));
        }
    }

    /// A block sequence whose dashes are at `indent`.
    fn seq(&mut self, indent: usize) -> Fast<Vec<Value>> {
        let mut out = Vec::new();
        loop {
            let Some((j, l)) = self.peek_content() else {
                return Some(Ok(out));
            };
            if l.indent < indent {
                return Some(Ok(out));
            }
            if l.indent > indent || !l.text.starts_with("- ") {
                bail!();
            }
            for c in self.take_comments(j, indent)? {
                out.push(Value::Comment(c));
            }
            self.i = j + 1;
            let rest = &l.text[2..];
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            let rest = &rest[spaces..];
            let col = indent + 2 + spaces;
            if rest.starts_with('-') || rest.starts_with('#') || rest.is_empty() {
                bail!();
            }
            if split_key(rest).is_some() && !rest.starts_with(['"', '\'']) {
                match self.map(col, Some(rest))? {
                    Ok(m) => out.push(Value::Map(m)),
                    Err(e) => return Some(Err(e)),
                }
            } else {
                match self.scalar(rest, indent, l.no)? {
                    Ok(v) => out.push(v),
                    Err(e) => return Some(Err(e)),
                }
            }
        }
    }

    /// A scalar on its key's or item's line; `parent` is the key's (or dash's) column.
    fn scalar(&mut self, text: &'a str, parent: usize, line_no: usize) -> Fast<Value> {
        let v = match text.as_bytes()[0] {
            b'"' => Value::Str(double_quoted(text)?),
            b'\'' => Value::Str(single_quoted(text)?),
            b'|' => return self.literal(text, parent).map(|s| Ok(Value::Str(s))),
            b'{' if text == "{}" => Value::Map(Map::new()),
            b'[' if text == "[]" => Value::List(Vec::new()),
            b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!'
            | b'>' | b'%' | b'@' | b'`' => bail!(),
            _ => {
                if text.contains(" #") || text.contains(": ") || text.ends_with(':') {
                    bail!();
                }
                match plain_scalar(self.file, text, line_no) {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e)),
                }
            }
        };
        // A scalar must end on its line: anything more indented below would continue it.
        if let Some((_, l)) = self.peek_content() {
            if l.indent > parent {
                bail!();
            }
        }
        Some(Ok(v))
    }

    /// `|`, `|-` or `|+` followed by lines indented deeper than `parent`.
    fn literal(&mut self, header: &str, parent: usize) -> Option<String> {
        let chomp = match header {
            "|" => 'c',
            "|-" => 's',
            "|+" => 'k',
            _ => return None,
        };
        let first = *self.lines.get(self.i)?;
        if first.indent <= parent {
            return None;
        }
        let block = first.indent;
        let mut s = String::new();
        while let Some(l) = self.lines.get(self.i) {
            if l.indent < block {
                break;
            }
            s.push_str(&self.raw[l.no][block..]);
            s.push('\n');
            self.i += 1;
        }
        if chomp == 's' {
            s.pop();
        }
        Some(s)
    }
}

fn double_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => {
                let e = chars.next()?;
                match e {
                    '0' => out.push('\0'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    't' => out.push('\t'),
                    'n' => out.push('\n'),
                    'v' => out.push('\x0b'),
                    'f' => out.push('\x0c'),
                    'r' => out.push('\r'),
                    'e' => out.push('\x1b'),
                    ' ' => out.push(' '),
                    '"' => out.push('"'),
                    '/' => out.push('/'),
                    '\\' => out.push('\\'),
                    'N' => out.push('\u{85}'),
                    '_' => out.push('\u{a0}'),
                    'L' => out.push('\u{2028}'),
                    'P' => out.push('\u{2029}'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String =
                            (0..n).map(|_| chars.next()).collect::<Option<String>>()?;
                        let cp = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(cp)?);
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn single_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        out.push(c);
    }
    Some(out)
}
