//! Documents -> YAML text, laid out as sops writes them with go-yaml v3 (block style,
//! `SetIndent(indent)`, comments as full lines).

use super::scalar::{string_style, write_scalar, Style};
use crate::tree::{format_float_g, Map, MapItem, Value};
use base64::Engine;

pub struct Emitter {
    pub out: String,
    /// The configured indentation (`best_indent`).
    pub b: usize,
}

/// Indentation of a block nested in a mapping at `indent` (go-yaml v3 aligns to multiples of
/// the configured indentation).
fn nested(indent: usize, b: usize) -> usize {
    b * ((indent + b) / b)
}

impl Emitter {
    pub fn new(b: usize) -> Self {
        Emitter {
            out: String::new(),
            b: b.max(2),
        }
    }

    fn spaces(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
    }

    fn comment_lines(&mut self, lines: &[&str], indent: usize) {
        for l in lines {
            self.spaces(indent);
            self.out.push('#');
            self.out.push_str(l);
            self.out.push('\n');
        }
    }

    pub fn document(&mut self, m: &Map) {
        if !m.items.iter().any(|i| matches!(i, MapItem::Pair(..))) {
            let cs: Vec<&str> = m
                .items
                .iter()
                .filter_map(|i| match i {
                    MapItem::Comment(c) => Some(c.as_str()),
                    _ => None,
                })
                .collect();
            self.comment_lines(&cs, 0);
            self.out.push_str("{}\n");
            return;
        }
        self.map(m, 0, false);
    }

    /// A block mapping at `indent`. With `inline_first`, the cursor is already placed where the
    /// first key goes (after `- `) and the mapping's leading comments were written by the caller.
    fn map(&mut self, m: &Map, indent: usize, inline_first: bool) {
        self.map_items(&m.items, indent, inline_first)
    }

    fn map_items(&mut self, items: &[MapItem], indent: usize, inline_first: bool) {
        let mut pending: Vec<&str> = Vec::new();
        let mut first = true;
        let n_pairs = items
            .iter()
            .filter(|i| matches!(i, MapItem::Pair(..)))
            .count();
        let mut seen = 0;
        for (idx, item) in items.iter().enumerate() {
            match item {
                MapItem::Comment(c) => pending.push(c),
                MapItem::Pair(k, v) => {
                    seen += 1;
                    if first && inline_first {
                        pending.clear();
                    } else {
                        self.comment_lines(&pending, indent);
                        pending.clear();
                        self.spaces(indent);
                    }
                    first = false;
                    if needs_explicit_key(k) {
                        // As yaml.v3 writes a key it cannot write as a simple key (over 128
                        // bytes, or several lines): `? key` then `: value` on the next line.
                        // A simple key over 1024 characters would not even parse again.
                        self.out.push_str("? ");
                        self.key(k);
                        self.out.push('\n');
                        self.spaces(indent);
                        self.out.push(':');
                        self.explicit_key_value(v, indent);
                    } else {
                        self.key(k);
                        self.out.push(':');
                        self.value_after_key(v, indent);
                    }
                    if seen == n_pairs {
                        // Trailing comments are foot comments of the last key.
                        let rest: Vec<&str> = items[idx + 1..]
                            .iter()
                            .filter_map(|i| match i {
                                MapItem::Comment(c) => Some(c.as_str()),
                                _ => None,
                            })
                            .collect();
                        self.comment_lines(&rest, indent);
                        return;
                    }
                }
            }
        }
    }

    fn key(&mut self, k: &str) {
        if k == "<<" {
            self.out.push_str("!!merge <<");
            return;
        }
        let style = string_style(k, true);
        write_scalar(&mut self.out, k, style, 0, self.b);
    }

    /// After the `:` of an explicit key: a collection starts on the same line, at the nested
    /// indent (`:   a: 1`, `:   - 1`), as yaml.v3 lays it out; one that starts with a comment
    /// goes below, so the comment keeps its place.
    fn explicit_key_value(&mut self, v: &Value, indent: usize) {
        let ni = nested(indent, self.b);
        match v {
            Value::Map(m) if matches!(m.items.first(), Some(MapItem::Pair(..))) => {
                self.spaces(ni - indent - 1);
                self.map(m, ni, true);
            }
            Value::List(l)
                if l.first().is_some_and(|i| {
                    !matches!(i, Value::Comment(_)) && Self::leading_comments(i).is_empty()
                }) =>
            {
                self.spaces(ni - indent - 1);
                self.seq_at(l, ni, true);
            }
            _ => self.value_after_key(v, indent),
        }
    }

    /// After `key:` — the value on the same line, or nested below.
    fn value_after_key(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Map(m) if m.items.iter().any(|i| matches!(i, MapItem::Pair(..))) => {
                self.out.push('\n');
                let ni = nested(indent, self.b);
                self.map(m, ni, false);
            }
            Value::List(l) if l.iter().any(|i| !matches!(i, Value::Comment(_))) => {
                self.out.push('\n');
                let ni = nested(indent, self.b);
                self.seq(l, ni);
            }
            _ => {
                self.out.push(' ');
                let ni = nested(indent, self.b);
                self.scalar(v, ni, ni - indent);
            }
        }
    }

    /// A scalar (or empty collection) at the cursor, followed by a line break. `block_indent`
    /// is where literal-block lines go.
    /// `indicator`: how far `block_indent` is from the parent node's indentation, written as a
    /// literal block's indentation indicator when one is needed.
    fn scalar(&mut self, v: &Value, block_indent: usize, indicator: usize) {
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(true) => self.out.push_str("true"),
            Value::Bool(false) => self.out.push_str("false"),
            Value::Int(i) => self.out.push_str(&i.to_string()),
            Value::Float(f) => {
                if f.is_nan() {
                    self.out.push_str(".nan")
                } else if f.is_infinite() {
                    self.out.push_str(if *f > 0.0 { ".inf" } else { "-.inf" })
                } else {
                    self.out.push_str(&format_float_g(*f))
                }
            }
            Value::Time(t) => self.out.push_str(&t.0),
            Value::Str(s) => {
                let style = string_style(s, false);
                write_scalar(&mut self.out, s, style, block_indent, indicator);
                if style == Style::Literal {
                    return; // the block writer ends its own lines
                }
            }
            Value::Bytes(bytes) => {
                self.out.push_str("!!binary ");
                self.out
                    .push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
            }
            Value::Map(_) => self.out.push_str("{}"),
            Value::List(_) => self.out.push_str("[]"),
            Value::Comment(c) => {
                // A comment where a value is expected cannot be written as a value; keep it.
                self.out.push('#');
                self.out.push_str(c);
            }
        }
        self.out.push('\n');
    }

    /// Leading comments of a collection that starts on a dash line (written before the dash).
    fn leading_comments(v: &Value) -> Vec<&str> {
        match v {
            Value::Map(m) if m.items.iter().any(|i| matches!(i, MapItem::Pair(..))) => m
                .items
                .iter()
                .map_while(|i| match i {
                    MapItem::Comment(c) => Some(c.as_str()),
                    _ => None,
                })
                .collect(),
            Value::List(l) if l.iter().any(|i| !matches!(i, Value::Comment(_))) => l
                .iter()
                .map_while(|i| match i {
                    Value::Comment(c) => Some(c.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A block sequence with its dashes at `indent`; with `inline_first` the cursor is already
    /// where the first dash goes.
    fn seq_at(&mut self, items: &[Value], indent: usize, inline_first: bool) {
        let mut pending: Vec<&str> = Vec::new();
        let last_value = items.iter().rposition(|i| !matches!(i, Value::Comment(_)));
        let mut first = true;
        for (idx, item) in items.iter().enumerate() {
            if let Value::Comment(c) = item {
                pending.push(c);
                continue;
            }
            let lead = Self::leading_comments(item);
            if first && inline_first {
                pending.clear();
            } else {
                pending.extend(lead.iter().copied());
                self.comment_lines(&pending, indent);
                pending.clear();
                self.spaces(indent);
            }
            first = false;
            self.out.push_str("- ");
            let inner = indent + 2;
            match item {
                Value::Map(m) if m.items.iter().any(|i| matches!(i, MapItem::Pair(..))) => {
                    let skip = lead.len();
                    self.map_items(&m.items[skip..], inner, true);
                }
                Value::List(l) if l.iter().any(|i| !matches!(i, Value::Comment(_))) => {
                    let skip = lead.len();
                    self.seq_at(&l[skip..], inner, true);
                }
                other => self.scalar(other, inner, inner - indent),
            }
            if Some(idx) == last_value {
                let rest: Vec<&str> = items[idx + 1..]
                    .iter()
                    .filter_map(|i| match i {
                        Value::Comment(c) => Some(c.as_str()),
                        _ => None,
                    })
                    .collect();
                self.comment_lines(&rest, indent);
                return;
            }
        }
    }

    fn seq(&mut self, items: &[Value], indent: usize) {
        self.seq_at(items, indent, false);
    }

    /// A lone value as its own YAML document (`decrypt --extract` of a non-string scalar/list).
    pub fn lone_value(&mut self, v: &Value) {
        match v {
            Value::Map(m) => self.document(m),
            Value::List(l) if l.iter().any(|i| !matches!(i, Value::Comment(_))) => self.seq(l, 0),
            other => self.scalar(other, self.b, self.b),
        }
    }
}

/// Whether yaml.v3 would write `k` as an explicit (`? k`) key: longer than 128 bytes, or on
/// several lines.
fn needs_explicit_key(k: &str) -> bool {
    k.len() > 128 || k.contains('\n')
}
