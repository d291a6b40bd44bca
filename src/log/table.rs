//! The log file's text: Markdown table cells (escaping), rows, the chain digest, and a parser
//! that reads any text without panicking (hand-written history, garbage, half-written files).
//!
//! Layout written by spx:
//!
//! ```text
//! # Secrets rotation log
//!
//! <one paragraph saying what this is>
//!
//! | date (UTC) | file | key | action | reason | rotator | chain |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | 2026-11-23T10:00:00Z | secrets/shared.sops.yaml | smtp.password | changed | quarterly | Ann &lt;ann@example.com&gt; | 3f2a9c0b1d4e |
//! ```
//!
//! **Chain.** A row's `chain` cell is the first 12 hex digits of
//! `sha256(prev ‖ canonical_row)`, where `prev` is the `chain` cell of the previous chained row
//! (or [`GENESIS`] for the first one) and `canonical_row` is the row's first six cells exactly as
//! written in the file (escaped, trimmed of surrounding spaces), rendered as
//! `| c1 | c2 | c3 | c4 | c5 | c6 |`. Re-aligning the table's spaces therefore keeps the chain
//! valid; changing any character of a cell does not. Anyone can recompute a chain (there is no
//! key), so the chain proves internal consistency; the comparison with the committed version
//! in git (`verify`) is what proves that committed rows were only appended to.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

/// The `prev` value of the first chained row: twelve zeros.
pub const GENESIS: &str = "000000000000";

/// Length (hex digits) of a chain cell.
pub const CHAIN_LEN: usize = 12;

/// The header cells spx writes (compared case-insensitively when reading).
pub const HEADER: [&str; 7] = [
    "date (UTC)",
    "file",
    "key",
    "action",
    "reason",
    "rotator",
    "chain",
];

/// The text spx writes at the top of a new log file.
pub const INTRO: &str = "# Secrets rotation log\n\n\
This file is appended to by `spx` each time a secret changes: one row per secret key, with the \
date (UTC), the file, the key path, what happened, why, and who did it. It never holds a value \
nor a hash of one. Rows are only ever appended; the `chain` column links each row to the one \
before it, and `spx log verify` checks the chain and that the committed rows are unchanged.\n";

/// Escape text for one table cell: the result has no newline and no unescaped `|`, and renders
/// on GitHub as the original text (`<` and `>` are entities so `Ann <ann@x>` is not taken for
/// an HTML tag or an autolink).
pub fn escape_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape_cell`] (lenient: unknown escapes and entities are kept as written).
pub fn unescape_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let mut it = rest[1..].chars();
            match it.next() {
                Some(n) if n == '\\' || n == '|' => {
                    out.push(n);
                    rest = &rest[2..];
                }
                _ => {
                    out.push('\\');
                    rest = &rest[1..];
                }
            }
            continue;
        }
        if c == '&' || c == '<' {
            let mut matched = false;
            for (pat, rep) in [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("<br>", "\n")] {
                if rest.starts_with(pat) {
                    out.push_str(rep);
                    rest = &rest[pat.len()..];
                    matched = true;
                    break;
                }
            }
            if matched {
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Split a table line into its cells, raw (still escaped) and trimmed. `None` if the line is not
/// a table line (does not start with `|` after indentation).
pub fn split_cells(line: &str) -> Option<Vec<String>> {
    let body = line.trim().strip_prefix('|')?;
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = body.chars();
    let mut ended_with_pipe = false;
    while let Some(c) = chars.next() {
        ended_with_pipe = false;
        match c {
            '\\' => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '|' => {
                cells.push(cur.trim().to_string());
                cur.clear();
                ended_with_pipe = true;
            }
            c => cur.push(c),
        }
    }
    if !ended_with_pipe {
        cells.push(cur.trim().to_string());
    }
    Some(cells)
}

/// Whether cells form a header/body separator (`| --- | :-: |`).
pub fn is_separator(cells: &[String]) -> bool {
    !cells.is_empty()
        && cells.iter().all(|c| {
            let t = c.trim_matches(':');
            !t.is_empty() && t.chars().all(|ch| ch == '-')
        })
}

/// Whether cells are spx's header.
pub fn is_spx_header(cells: &[String]) -> bool {
    cells.len() == HEADER.len()
        && cells
            .iter()
            .zip(HEADER)
            .all(|(c, h)| unescape_cell(c).trim().eq_ignore_ascii_case(h))
}

/// `| c1 | c2 | … |`
pub fn render_cells<S: AsRef<str>>(cells: &[S]) -> String {
    let mut s = String::from("|");
    for c in cells {
        s.push(' ');
        s.push_str(c.as_ref());
        s.push_str(" |");
    }
    s
}

/// The chain cell of a row whose first six cells render as `canonical`.
pub fn chain_digest(prev: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical.as_bytes());
    let d = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in d {
        hex.push_str(&format!("{b:02x}"));
    }
    hex.truncate(CHAIN_LEN);
    hex
}

/// Whether `s` looks like a chain cell (12 lowercase hex digits).
pub fn is_chain_cell(s: &str) -> bool {
    s.len() == CHAIN_LEN
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The date format of the first cell: ISO 8601, UTC, seconds.
pub fn format_date(d: &DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parse a date as written in a log (spx's form, or the looser forms people write by hand:
/// `2025-03-01`, `2025-03-01 10:00`, `2025-03-01T10:00:00+02:00`).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let t = s.strip_suffix('Z').unwrap_or(s);
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Some(n.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
    }
    None
}

/// One row of a table in the log, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// 1-based line number in the file.
    pub line: usize,
    /// The line as written (without its newline).
    pub raw: String,
    /// Raw (escaped, trimmed) cells.
    pub cells: Vec<String>,
    /// Whether the row sits in a table with spx's header.
    pub spx_table: bool,
    /// The chain cell, if the row is in an spx table and its 7th cell is non-empty.
    pub chain: Option<String>,
    /// Fields, unescaped; from the spx layout, or mapped by header name in hand-written tables.
    pub date: Option<DateTime<Utc>>,
    pub file: Option<String>,
    pub key: Option<String>,
    pub action: Option<String>,
    pub reason: Option<String>,
    pub rotator: Option<String>,
}

impl Entry {
    /// The text the chain covers: the first six raw cells (missing cells are empty).
    pub fn canonical(&self) -> String {
        let six: Vec<&str> = (0..6)
            .map(|i| self.cells.get(i).map(String::as_str).unwrap_or(""))
            .collect();
        render_cells(&six)
    }
}

/// A whole log file, parsed.
#[derive(Clone, Debug, Default)]
pub struct ParsedLog {
    pub entries: Vec<Entry>,
    /// Whether the file's last non-blank line is part of an spx table, so new rows can be
    /// appended right after it.
    pub ends_in_spx_table: bool,
}

impl ParsedLog {
    /// The chain cell of the last chained row, or [`GENESIS`].
    pub fn last_chain(&self) -> String {
        self.entries
            .iter()
            .rev()
            .find_map(|e| e.chain.clone())
            .unwrap_or_else(|| GENESIS.to_string())
    }
}

/// Which column holds what, in a table's header.
#[derive(Clone, Debug, Default)]
struct Columns {
    spx: bool,
    date: Option<usize>,
    file: Option<usize>,
    key: Option<usize>,
    action: Option<usize>,
    reason: Option<usize>,
    rotator: Option<usize>,
}

fn columns_of(header: &[String]) -> Columns {
    if is_spx_header(header) {
        return Columns {
            spx: true,
            date: Some(0),
            file: Some(1),
            key: Some(2),
            action: Some(3),
            reason: Some(4),
            rotator: Some(5),
        };
    }
    let mut c = Columns::default();
    for (i, h) in header.iter().enumerate() {
        let h = unescape_cell(h).to_ascii_lowercase();
        let h = h.trim();
        let slot = if h.starts_with("date") || h == "when" {
            &mut c.date
        } else if h == "file" || h == "path" {
            &mut c.file
        } else if h == "key" || h.starts_with("secret") || h == "name" {
            &mut c.key
        } else if h == "action" || h == "change" {
            &mut c.action
        } else if h.starts_with("reason") || h == "why" {
            &mut c.reason
        } else if h.starts_with("rotator") || h == "who" || h == "by" || h == "author" {
            &mut c.rotator
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(i);
        }
    }
    c
}

/// [`parse`] for raw bytes (invalid UTF-8 is replaced, not rejected): the fuzzing entry point.
pub fn parse_bytes(bytes: &[u8]) -> ParsedLog {
    parse(&String::from_utf8_lossy(bytes))
}

/// Parse the text of a log. Never panics; lines that are not tables are ignored, a table is a
/// header line followed by a separator line and body lines.
pub fn parse(text: &str) -> ParsedLog {
    let lines: Vec<&str> = text.lines().collect();
    let mut entries = Vec::new();
    let mut cols: Option<Columns> = None;
    let mut last_nonblank_in_spx_table = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() {
            cols = None;
            i += 1;
            continue;
        }
        let cells = match split_cells(line) {
            Some(c) => c,
            None => {
                cols = None;
                last_nonblank_in_spx_table = false;
                i += 1;
                continue;
            }
        };
        match &cols {
            None => {
                // A table starts with a header followed by a separator.
                let next_sep = lines
                    .get(i + 1)
                    .and_then(|l| split_cells(l))
                    .map(|c| is_separator(&c))
                    .unwrap_or(false);
                if next_sep {
                    let c = columns_of(&cells);
                    last_nonblank_in_spx_table = c.spx;
                    cols = Some(c);
                    i += 2;
                } else {
                    last_nonblank_in_spx_table = false;
                    i += 1;
                }
                continue;
            }
            Some(c) => {
                let get =
                    |ix: Option<usize>| ix.and_then(|ix| cells.get(ix)).map(|s| unescape_cell(s));
                let chain = if c.spx {
                    cells.get(6).filter(|s| !s.is_empty()).cloned()
                } else {
                    None
                };
                entries.push(Entry {
                    line: i + 1,
                    raw: line.to_string(),
                    spx_table: c.spx,
                    chain,
                    date: get(c.date).and_then(|d| parse_date(&d)),
                    file: get(c.file).filter(|s| !s.is_empty()),
                    key: get(c.key).filter(|s| !s.is_empty()),
                    action: get(c.action),
                    reason: get(c.reason),
                    rotator: get(c.rotator),
                    cells,
                });
                last_nonblank_in_spx_table = c.spx;
                i += 1;
            }
        }
    }
    ParsedLog {
        entries,
        ends_in_spx_table: last_nonblank_in_spx_table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_cells_on_one_line_and_round_trips() {
        for s in [
            "plain",
            "a|b",
            "two\nlines",
            "crlf\r\nend",
            "back\\slash|pipe\\|",
            "Ann <ann@example.com>",
            "&amp; literal",
            "",
        ] {
            let e = escape_cell(s);
            assert!(!e.contains('\n') && !e.contains('\r'), "{e}");
            // every pipe is escaped
            let cells = split_cells(&render_cells(&[e.as_str(), "x"])).unwrap();
            assert_eq!(cells.len(), 2, "{s:?} -> {e:?}");
            assert_eq!(cells[0], e.trim());
            let back = unescape_cell(&e);
            assert_eq!(back, s.replace("\r\n", "\n"), "{s:?}");
        }
        assert_eq!(escape_cell("a|b\nc"), "a\\|b<br>c");
        assert_eq!(escape_cell("Ann <a@b>"), "Ann &lt;a@b&gt;");
    }

    #[test]
    fn split_cells_handles_trailing_pipe_or_not() {
        assert_eq!(split_cells("| a | b |").unwrap(), vec!["a", "b"]);
        assert_eq!(split_cells("| a | b").unwrap(), vec!["a", "b"]);
        assert_eq!(split_cells("|a\\|b|c|").unwrap(), vec!["a\\|b", "c"]);
        assert_eq!(split_cells("|").unwrap(), vec![""]);
        assert!(split_cells("not a table").is_none());
    }

    #[test]
    fn chain_is_12_hex_and_depends_on_prev_and_text() {
        let a = chain_digest(GENESIS, "| a |");
        assert!(is_chain_cell(&a));
        assert_ne!(a, chain_digest(GENESIS, "| b |"));
        assert_ne!(a, chain_digest("111111111111", "| a |"));
        // sha256("000000000000| a |"), computed independently with python3 hashlib
        assert_eq!(a, "aff1beb5a1fa");
    }

    #[test]
    fn dates_parse_strict_and_loose() {
        let d = parse_date("2026-11-23T10:00:00Z").unwrap();
        assert_eq!(format_date(&d), "2026-11-23T10:00:00Z");
        assert_eq!(
            format_date(&parse_date("2026-11-23").unwrap()),
            "2026-11-23T00:00:00Z"
        );
        assert_eq!(
            format_date(&parse_date("2026-11-23T12:00:00+02:00").unwrap()),
            "2026-11-23T10:00:00Z"
        );
        assert_eq!(
            format_date(&parse_date("2026-11-23 10:05").unwrap()),
            "2026-11-23T10:05:00Z"
        );
        assert!(parse_date("yesterday").is_none());
        assert!(parse_date("2026-13-45").is_none());
    }

    #[test]
    fn parse_reads_spx_and_hand_written_tables() {
        let text = "# Log\n\n| Date | Secret | Reason | Who |\n|---|---|---|---|\n| 2025-01-02 | smtp_password | quarterly | bob |\n\nsome prose\n\n| date (UTC) | file | key | action | reason | rotator | chain |\n| --- | --- | --- | --- | --- | --- | --- |\n| 2026-11-23T10:00:00Z | s.yaml | a.b | changed | r | Ann &lt;a@b&gt; | 0123456789ab |\n";
        let p = parse(text);
        assert_eq!(p.entries.len(), 2);
        let legacy = &p.entries[0];
        assert!(!legacy.spx_table);
        assert_eq!(legacy.key.as_deref(), Some("smtp_password"));
        assert_eq!(legacy.rotator.as_deref(), Some("bob"));
        assert_eq!(legacy.file, None);
        assert_eq!(legacy.line, 5);
        let row = &p.entries[1];
        assert!(row.spx_table);
        assert_eq!(row.chain.as_deref(), Some("0123456789ab"));
        assert_eq!(row.rotator.as_deref(), Some("Ann <a@b>"));
        assert!(p.ends_in_spx_table);
        assert_eq!(p.last_chain(), "0123456789ab");
    }

    #[test]
    fn parser_never_panics_on_garbage() {
        // A deterministic pseudo-random generator over an alphabet rich in table syntax.
        let alphabet: Vec<char> = "|\\-: \n\r\tab<>&;brZT0129é€\u{0}\u{202e}"
            .chars()
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..3000 {
            let len = (round % 200) + 1;
            let mut s = String::new();
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let p = parse(&s);
            for e in &p.entries {
                let _ = e.canonical();
            }
            let _ = p.last_chain();
            let _ = unescape_cell(&s);
            let _ = parse_date(&s);
            let _ = parse_bytes(s.as_bytes());
        }
        // Edge shapes.
        for s in [
            "|",
            "|\n|",
            "|\\",
            "| --- |",
            "|-|\n|-|\n|-|",
            "\\|\\",
            "|a|\n|:-:|\n|\\",
        ] {
            let _ = parse(s);
        }
    }
}
