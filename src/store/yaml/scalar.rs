//! Scalar typing and scalar styles, as go-yaml v3 does them.
//!
//! `resolve` is yaml.v3's `resolve("", s)` for a plain scalar (YAML 1.2 core schema plus its
//! timestamp rule); `write_scalar` picks and writes the style go-yaml v3's encoder + emitter
//! would use for a string (plain, single-quoted, double-quoted, literal block).

/// What a plain scalar means.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer in (i64::MAX, u64::MAX]: yaml.v3 decodes it as uint64, which sops cannot walk.
    Uint(u64),
    Float(f64),
    /// RFC 3339 text as Go's `time.Time.MarshalText` writes it.
    Time(String),
    /// The merge key `<<`.
    Merge,
    Str,
}

/// yaml.v3 `resolve("", s)` for a plain (untagged, unquoted) scalar.
pub fn resolve(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        "<<" => return Resolved::Merge,
        _ => {}
    }
    let first = s.as_bytes()[0];
    match first {
        b'.' => match go_parse_float(s) {
            Some(f) => Resolved::Float(f),
            None => Resolved::Str,
        },
        b'0'..=b'9' | b'+' | b'-' => {
            if let Some(t) = parse_timestamp(s) {
                return Resolved::Time(t);
            }
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Resolved::Uint(u);
            }
            if is_yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return Resolved::Float(f);
                }
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go `strconv.ParseFloat(s, 64)` restricted to decimal syntax; `None` on error or overflow.
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let body = s.trim_start_matches(['+', '-']);
    if body.len() + 1 < s.len() || body.is_empty() {
        return None;
    }
    // Only decimal digits, one dot, an exponent: what Rust accepts too, minus inf/nan words.
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    if !body.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let _ = b;
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() {
        return None;
    }
    Some(f)
}

/// Parse digits of `s` in `base`; None if empty or invalid or overflowing u64.
fn parse_digits(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for c in s.chars() {
        let d = c.to_digit(base)?;
        v = v.checked_mul(base as u64)?.checked_add(d as u64)?;
    }
    Some(v)
}

/// Go base-0 unsigned magnitude: `0x`, `0o`, `0b`, leading `0` = octal, else decimal.
fn parse_base0(s: &str) -> Option<u64> {
    let lower = |p: &str| s.len() > 2 && s.as_bytes()[..2].eq_ignore_ascii_case(p.as_bytes());
    if lower("0x") {
        parse_digits(&s[2..], 16)
    } else if lower("0o") {
        parse_digits(&s[2..], 8)
    } else if lower("0b") {
        parse_digits(&s[2..], 2)
    } else if s.len() > 1 && s.starts_with('0') {
        parse_digits(&s[1..], 8)
    } else {
        parse_digits(s, 10)
    }
}

/// Go `strconv.ParseInt(s, 0, 64)` (underscores already removed).
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let m = parse_base0(body)?;
    if neg {
        if m <= i64::MAX as u64 + 1 {
            Some((m as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else if m <= i64::MAX as u64 {
        Some(m as i64)
    } else {
        None
    }
}

/// Go `strconv.ParseUint(s, 0, 64)`: no sign allowed.
fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    parse_base0(s)
}

/// yaml.v3 `parseTimestamp`: the layouts `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
/// `2006-1-2 15:4:5.999999999` and `2006-1-2`, as Go's `time.Parse` reads them. Returns the
/// `MarshalText` form.
pub fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year: i32 = s[..4].parse().ok()?;
    let mut i = 5;
    // Go getnum(value, false): one or two digits.
    let num = |i: &mut usize| -> Option<u32> {
        if *i >= b.len() || !b[*i].is_ascii_digit() {
            return None;
        }
        let mut v = (b[*i] - b'0') as u32;
        *i += 1;
        if *i < b.len() && b[*i].is_ascii_digit() {
            v = v * 10 + (b[*i] - b'0') as u32;
            *i += 1;
        }
        Some(v)
    };
    let month = num(&mut i)?;
    if i >= b.len() || b[i] != b'-' {
        return None;
    }
    i += 1;
    let day = num(&mut i)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let sep = b[i];
    let zoned = match sep {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    i += 1;
    let hour = num(&mut i)?;
    if i >= b.len() || b[i] != b':' {
        return None;
    }
    i += 1;
    let min = num(&mut i)?;
    if i >= b.len() || b[i] != b':' {
        return None;
    }
    i += 1;
    let sec = num(&mut i)?;
    if hour >= 24 || min >= 60 || sec >= 60 {
        return None;
    }
    let mut frac = String::new();
    if i + 1 < b.len() && (b[i] == b'.' || b[i] == b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            frac.push(b[i] as char);
            i += 1;
        }
    }
    frac.truncate(9);
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    let zone = if zoned {
        if i >= b.len() {
            return None;
        }
        if b[i] == b'Z' {
            i += 1;
            "Z".to_string()
        } else {
            // ±hh:mm
            if i + 6 > b.len() || !matches!(b[i], b'+' | b'-') || b[i + 3] != b':' {
                return None;
            }
            let hh = &s[i + 1..i + 3];
            let mm = &s[i + 4..i + 6];
            if !hh.bytes().all(|c| c.is_ascii_digit()) || !mm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (h, m): (u32, u32) = (hh.parse().ok()?, mm.parse().ok()?);
            if h > 24 || m > 59 {
                return None;
            }
            let sign = b[i] as char;
            i += 6;
            if h == 0 && m == 0 {
                "Z".to_string()
            } else {
                format!("{sign}{h:02}:{m:02}")
            }
        }
    } else {
        "Z".to_string()
    };
    if i != b.len() {
        return None;
    }
    Some(format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

fn days_in(month: u32, year: i32) -> u32 {
    match month {
        2 => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// yaml.v3 `isOldBool`.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// yaml.v3 `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        // [0-5]?[0-9]
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() && i - st < 2 {
            i += 1;
        }
        match i - st {
            1 => {}
            2 if b[st] <= b'5' => {}
            2 => {
                // Backtrack: "[0-5]?" fails, "[0-9]" takes one digit; the next char must then
                // continue the pattern, which a digit cannot.
                return false;
            }
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// yaml.v3 `is_printable` on one char.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml `yaml_emitter_analyze_scalar` (block context; unicode allowed).
fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let mut tabs = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_ws = true;
    let (mut prev_space, mut prev_break) = (false, false);
    let mut it = value.chars().peekable();
    let mut i = 0usize;
    while let Some(c) = it.next() {
        let nextc = it.peek().copied();
        let last = nextc.is_none();
        let followed_by_ws = match nextc {
            None => true,
            Some(n) => is_blank(n) || is_break(n),
        };
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_blank(c) || is_break(c);
        i += 1;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// The style go-yaml v3 writes a string in (`simple_key`: as a mapping key).
/// Bytes of an `ENC[…]` value (base64, and the `,:[]_` of its fields), as a table: the style
/// check runs once per value of a file, so it is a lookup, not a chain of comparisons.
const ENC_SAFE: [bool; 256] = byte_table(b"+/=,:[]_");
/// Bytes of a plain scalar that cannot need quoting once it starts with a safe letter.
const PLAIN_SAFE: [bool; 256] = byte_table(b"_./-");

const fn byte_table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

pub fn string_style(s: &str, simple_key: bool) -> Style {
    // Encrypted values (most of a sops file): `ENC[AES256_GCM,data:…]` has no space, no
    // leading indicator and resolves to a string, so it is always plain.
    if s.starts_with("ENC[AES256_GCM,")
        && s.ends_with(']')
        && s.bytes().all(|c| ENC_SAFE[c as usize])
    {
        return Style::Plain;
    }
    // Fast path: starts with a letter that cannot begin a special value, only safe chars.
    if let Some(&f) = s.as_bytes().first() {
        if f.is_ascii_alphabetic()
            && !b"yYnNtTfFoO".contains(&f)
            && s.bytes().all(|c| PLAIN_SAFE[c as usize])
        {
            return Style::Plain;
        }
    }
    let can_plain = resolve(s) == Resolved::Str && !is_base60_float(s) && !is_old_bool(s);
    let requested = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::Double
    };
    select_style(s, requested, simple_key)
}

/// libyaml `yaml_emitter_select_scalar_style`.
pub fn select_style(s: &str, requested: Style, simple_key: bool) -> Style {
    let a = analyze(s);
    let mut style = requested;
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain {
        if !a.block_plain_allowed {
            style = Style::Single;
        }
        if s.is_empty() && simple_key {
            style = Style::Single;
        }
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

/// Write a scalar in `style`. `indent` is the column block-scalar content is written at;
/// `indicator` is how far that is from the parent node's indentation (the block indentation
/// indicator, when the content starts with a space or a line break).
///
/// yaml.v3 always writes its configured indentation there (`|4`), which is wrong inside a
/// sequence item's mapping (`- k: |4` with content 2 columns short): sops then cannot read its
/// own file. spx writes the true distance, which sops and spx both read; elsewhere the two
/// agree byte for byte.
pub fn write_scalar(out: &mut String, s: &str, style: Style, indent: usize, indicator: usize) {
    match style {
        Style::Plain => out.push_str(s),
        Style::Single => {
            out.push('\'');
            let mut breaks = false;
            for c in s.chars() {
                if is_break(c) {
                    if !breaks && c == '\n' {
                        out.push('\n');
                    }
                    out.push(c);
                    breaks = true;
                } else {
                    if breaks {
                        for _ in 0..indent {
                            out.push(' ');
                        }
                    }
                    if c == '\'' {
                        out.push('\'');
                    }
                    out.push(c);
                    breaks = false;
                }
            }
            out.push('\'');
        }
        Style::Double => write_double(out, s),
        Style::Literal => write_literal(out, s, indent, indicator),
    }
}

fn write_double(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        let u = c as u32;
        if !is_printable(c) || u == 0xFEFF || is_break(c) || c == '"' || c == '\\' {
            out.push('\\');
            match u {
                0x00 => out.push('0'),
                0x07 => out.push('a'),
                0x08 => out.push('b'),
                0x09 => out.push('t'),
                0x0A => out.push('n'),
                0x0B => out.push('v'),
                0x0C => out.push('f'),
                0x0D => out.push('r'),
                0x1B => out.push('e'),
                0x22 => out.push('"'),
                0x5C => out.push('\\'),
                0x85 => out.push('N'),
                0xA0 => out.push('_'),
                0x2028 => out.push('L'),
                0x2029 => out.push('P'),
                _ => {
                    if u <= 0xFF {
                        out.push_str(&format!("x{u:02X}"));
                    } else if u <= 0xFFFF {
                        out.push_str(&format!("u{u:04X}"));
                    } else {
                        out.push_str(&format!("U{u:08X}"));
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

/// libyaml literal block: header `|` + indentation hint + chomping, then the lines at `indent`.
fn write_literal(out: &mut String, s: &str, indent: usize, best_indent: usize) {
    out.push('|');
    let first = s.chars().next();
    if matches!(first, Some(c) if c == ' ' || is_break(c)) {
        out.push_str(&best_indent.to_string());
    }
    let chars: Vec<char> = s.chars().collect();
    match chars.last() {
        None => out.push('-'),
        Some(&c) if !is_break(c) => out.push('-'),
        Some(_) => {
            if chars.len() == 1 || is_break(chars[chars.len() - 2]) {
                out.push('+');
            }
        }
    }
    let mut breaks = true;
    out.push('\n');
    let mut at_line_start = true;
    for c in chars {
        if is_break(c) {
            out.push(c);
            breaks = true;
            at_line_start = true;
        } else {
            if breaks && at_line_start {
                for _ in 0..indent {
                    out.push(' ');
                }
                at_line_start = false;
            }
            out.push(c);
            breaks = false;
        }
    }
    // The emitter leaves the cursor after the last line break; callers add a newline only if
    // the block did not end with one.
    if !s.ends_with(is_break) {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_of_plain_scalars() {
        assert_eq!(resolve("~"), Resolved::Null);
        assert_eq!(resolve("null"), Resolved::Null);
        assert_eq!(resolve(""), Resolved::Null);
        assert_eq!(resolve("True"), Resolved::Bool(true));
        assert_eq!(resolve("FALSE"), Resolved::Bool(false));
        assert_eq!(resolve("yes"), Resolved::Str);
        assert_eq!(resolve("off"), Resolved::Str);
        assert_eq!(resolve("42"), Resolved::Int(42));
        assert_eq!(resolve("-7"), Resolved::Int(-7));
        assert_eq!(resolve("+5"), Resolved::Int(5));
        assert_eq!(resolve("0x1F"), Resolved::Int(31));
        assert_eq!(resolve("0o17"), Resolved::Int(15));
        assert_eq!(resolve("1_000"), Resolved::Int(1000));
        assert_eq!(resolve("9223372036854775807"), Resolved::Int(i64::MAX));
        assert_eq!(resolve("-9223372036854775808"), Resolved::Int(i64::MIN));
        assert_eq!(resolve("18446744073709551615"), Resolved::Uint(u64::MAX));
        assert_eq!(
            resolve("123456789012345678901234567890"),
            Resolved::Float(123456789012345678901234567890.0)
        );
        assert_eq!(resolve("1.0"), Resolved::Float(1.0));
        assert_eq!(resolve("1e10"), Resolved::Float(1e10));
        assert_eq!(resolve(".5"), Resolved::Float(0.5));
        assert_eq!(resolve(".inf"), Resolved::Float(f64::INFINITY));
        assert_eq!(resolve("-.inf"), Resolved::Float(f64::NEG_INFINITY));
        assert!(matches!(resolve(".nan"), Resolved::Float(f) if f.is_nan()));
        assert_eq!(resolve("1e400"), Resolved::Str);
        assert_eq!(resolve("1.2.3"), Resolved::Str);
        assert_eq!(resolve("<<"), Resolved::Merge);
        assert_eq!(resolve("abc"), Resolved::Str);
    }

    #[test]
    fn timestamps_like_go() {
        assert_eq!(
            resolve("2024-01-01"),
            Resolved::Time("2024-01-01T00:00:00Z".into())
        );
        assert_eq!(
            resolve("2001-12-14t21:59:43.10-05:00"),
            Resolved::Time("2001-12-14T21:59:43.1-05:00".into())
        );
        assert_eq!(
            resolve("2001-12-14 21:59:43.10"),
            Resolved::Time("2001-12-14T21:59:43.1Z".into())
        );
        assert_eq!(
            resolve("2024-1-2T3:04:05+00:00"),
            Resolved::Time("2024-01-02T03:04:05Z".into())
        );
        assert_eq!(resolve("2024-02-30"), Resolved::Str);
        assert_eq!(resolve("2024-13-01"), Resolved::Str);
    }

    #[test]
    fn string_styles_like_go_yaml() {
        let s = |v: &str| string_style(v, false);
        assert_eq!(s("hello world"), Style::Plain);
        assert_eq!(s("yes"), Style::Double);
        assert_eq!(s("y"), Style::Double);
        assert_eq!(s("123"), Style::Double);
        assert_eq!(s("1.0"), Style::Double);
        assert_eq!(s("null"), Style::Double);
        assert_eq!(s("2024-01-01"), Style::Double);
        assert_eq!(s("1:20"), Style::Double);
        assert_eq!(s(""), Style::Double);
        assert_eq!(s("@at"), Style::Single);
        assert_eq!(s("*star"), Style::Single);
        assert_eq!(s("a: b"), Style::Single);
        assert_eq!(s("a #b"), Style::Single);
        assert_eq!(s("- a"), Style::Single);
        assert_eq!(s("abc "), Style::Single);
        assert_eq!(s("tab\there"), Style::Double);
        assert_eq!(s("\u{1F511} key"), Style::Double);
        assert_eq!(s("a\nb"), Style::Literal);
        assert_eq!(s("trailing \nspace"), Style::Double);
        assert_eq!(s("cr\r\nx"), Style::Double);
        assert_eq!(string_style("a\nb", true), Style::Double);
    }

    fn w(s: &str, st: Style) -> String {
        let mut o = String::new();
        write_scalar(&mut o, s, st, 4, 4);
        o
    }

    #[test]
    fn scalar_writing() {
        assert_eq!(w("it's", Style::Single), "'it''s'");
        assert_eq!(w("\u{1F511} key", Style::Double), "\"\\U0001F511 key\"");
        assert_eq!(w("a\"b\\c\t", Style::Double), "\"a\\\"b\\\\c\\t\"");
        assert_eq!(
            w("\u{85}\u{feff}\x01", Style::Double),
            "\"\\N\\uFEFF\\x01\""
        );
        assert_eq!(w("a\nb", Style::Literal), "|-\n    a\n    b\n");
        assert_eq!(w("a\nb\n", Style::Literal), "|\n    a\n    b\n");
        assert_eq!(w("a\n\n", Style::Literal), "|+\n    a\n\n");
        assert_eq!(w(" a\n\nb", Style::Literal), "|4-\n     a\n\n    b\n");
    }
}
