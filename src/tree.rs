//! The format-neutral document every store reads into and writes from.
//!
//! It mirrors sops's own tree: a document is an ordered mapping whose items are key/value pairs
//! or comments; lists hold values or comments; scalars carry the type sops records in `type:`.
//! Keeping comments as items (not attached to nodes) is what lets us encrypt them exactly as
//! sops does (each comment is its own `ENC[…,type:comment]`) and put them back where they were.

use std::fmt;

/// One document of a file (YAML can hold several; the other stores hold one).
pub type Document = Map;

/// An ordered mapping. Duplicate keys are kept as they are (the JSON store can produce them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    pub items: Vec<MapItem>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapItem {
    Pair(String, Value),
    Comment(String),
}

/// A timestamp as YAML writes it unquoted (`2024-01-15`, `2001-12-14t21:59:43.10-05:00`).
/// Held as its RFC 3339 text with nanoseconds trimmed (Go's `time.Time.MarshalText`), which is
/// both how sops serialises it for encryption and how it prints it on decrypt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp(pub String);

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A `str` whose bytes are not valid UTF-8 (binary store, YAML `!!binary`), or a legacy
    /// `type:bytes` value.
    Bytes(Vec<u8>),
    Time(Timestamp),
    Map(Map),
    List(Vec<Value>),
    /// Only inside a `List`: a comment line among the items.
    Comment(String),
}

impl Map {
    pub fn new() -> Self {
        Map { items: Vec::new() }
    }

    /// The value of the first pair with this key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items.iter().find_map(|i| match i {
            MapItem::Pair(k, v) if k == key => Some(v),
            _ => None,
        })
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.items.iter_mut().find_map(|i| match i {
            MapItem::Pair(k, v) if k == key => Some(v),
            _ => None,
        })
    }

    /// Replace the value of `key`, or append the pair at the end.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        if let Some(v) = self.get_mut(&key) {
            *v = value;
        } else {
            self.items.push(MapItem::Pair(key, value));
        }
    }

    /// Remove every pair with this key; returns the first removed value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let mut out = None;
        self.items.retain_mut(|i| match i {
            MapItem::Pair(k, v) if k == key => {
                if out.is_none() {
                    out = Some(std::mem::replace(v, Value::Null));
                }
                false
            }
            _ => true,
        });
        out
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.items.iter().filter_map(|i| match i {
            MapItem::Pair(k, v) => Some((k.as_str(), v)),
            MapItem::Comment(_) => None,
        })
    }

    pub fn push(&mut self, key: impl Into<String>, value: Value) {
        self.items.push(MapItem::Pair(key.into(), value));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is a scalar leaf (what sops encrypts and hashes).
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Value::Map(_) | Value::List(_) | Value::Comment(_))
    }

    /// The sops `type:` label of a scalar.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) | Value::Bytes(_) => "str",
            Value::Time(_) => "time",
            Value::Comment(_) => "comment",
            Value::Map(_) => "map",
            Value::List(_) => "list",
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest digits that round-trip, never an
/// exponent. This is the plaintext sops encrypts and hashes for a float. Rust's `Display` for
/// `f64` has exactly these semantics for finite values.
pub fn format_float_plain(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        let s = format!("{f}");
        if s == "-0" {
            "-0".into()
        } else {
            s
        }
    }
}

/// The shortest round-trip digits of a finite, non-zero `f` and its decimal exponent `e`
/// (value = 0.d1d2d3… × 10^(e+1), i.e. `e` is the exponent of the first digit).
pub fn float_digits(f: f64) -> (String, i32) {
    // `{:e}` gives the shortest round-trip digits in scientific form, e.g. `1.5e6`, `-1e-7`.
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s
        .split_once('e')
        .expect("scientific format has an exponent");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().expect("exponent is an integer"))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` as used by go-yaml for floats (without the YAML
/// special spellings; callers handle inf/nan).
pub fn format_float_g(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (digits, e) = float_digits(f);
    let sign = if f < 0.0 { "-" } else { "" };
    // strconv: with the shortest precision, %e is used when the exponent is < -4 or >= 6.
    if !(-4..6).contains(&e) {
        sci(sign, &digits, e)
    } else {
        plain(sign, &digits, e)
    }
}

fn sci(sign: &str, digits: &str, e: i32) -> String {
    let mut s = String::from(sign);
    s.push_str(&digits[..1]);
    if digits.len() > 1 {
        s.push('.');
        s.push_str(&digits[1..]);
    }
    s.push('e');
    s.push(if e < 0 { '-' } else { '+' });
    let a = e.unsigned_abs();
    if a < 10 {
        s.push('0');
    }
    s.push_str(&a.to_string());
    s
}

fn plain(sign: &str, digits: &str, e: i32) -> String {
    let mut s = String::from(sign);
    if e < 0 {
        s.push_str("0.");
        for _ in 0..(-e - 1) {
            s.push('0');
        }
        s.push_str(digits);
    } else {
        let int_len = (e + 1) as usize;
        if digits.len() <= int_len {
            s.push_str(digits);
            for _ in digits.len()..int_len {
                s.push('0');
            }
        } else {
            s.push_str(&digits[..int_len]);
            s.push('.');
            s.push_str(&digits[int_len..]);
        }
    }
    s
}

/// JavaScript-style number formatting, as Go's `encoding/json` writes a float64: plain
/// shortest digits when 1e-6 <= |x| < 1e21, else exponent form with a minimal exponent.
pub fn format_float_json(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let a = f.abs();
    if (1e-6..1e21).contains(&a) {
        return format!("{f}");
    }
    let (digits, e) = float_digits(f);
    let sign = if f < 0.0 { "-" } else { "" };
    let mut s = String::from(sign);
    s.push_str(&digits[..1]);
    if digits.len() > 1 {
        s.push('.');
        s.push_str(&digits[1..]);
    }
    s.push('e');
    s.push(if e < 0 { '-' } else { '+' });
    s.push_str(&e.unsigned_abs().to_string());
    s
}

impl fmt::Display for Value {
    /// The plaintext sops encrypts and hashes for a scalar (§1.4 of the format reference).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float_plain(*x)),
            Value::Str(s) => f.write_str(s),
            Value::Bytes(b) => f.write_str(&String::from_utf8_lossy(b)),
            Value::Time(t) => f.write_str(&t.0),
            Value::Comment(c) => f.write_str(c),
            Value::Map(_) | Value::List(_) => Ok(()),
        }
    }
}

impl Value {
    /// The exact plaintext bytes of a scalar, as sops encrypts and hashes them.
    pub fn plaintext_bytes(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.clone(),
            other => other.to_string().into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_serialise_capitalised() {
        assert_eq!(Value::Bool(true).to_string(), "True");
        assert_eq!(Value::Bool(false).to_string(), "False");
    }

    #[test]
    fn floats_have_no_exponent_in_plaintext() {
        assert_eq!(format_float_plain(0.1), "0.1");
        assert_eq!(format_float_plain(1e10), "10000000000");
        assert_eq!(format_float_plain(1.5e-7), "0.00000015");
        assert_eq!(format_float_plain(1.0), "1");
        assert_eq!(
            format_float_plain(123456789012345678901234567890.0),
            "123456789012345680000000000000"
        );
        assert_eq!(format_float_plain(f64::INFINITY), "+Inf");
        assert_eq!(format_float_plain(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float_plain(f64::NAN), "NaN");
    }

    #[test]
    fn yaml_float_formatting_matches_go_g() {
        for (f, s) in [
            (0.1, "0.1"),
            (1.0, "1"),
            (100000.0, "100000"),
            (1500000.0, "1.5e+06"),
            (1e10, "1e+10"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789012345678901234567890.0, "1.2345678901234568e+29"),
            (6.02e-23, "6.02e-23"),
            (-2.5, "-2.5"),
            (1234.56789, "1234.56789"),
        ] {
            assert_eq!(format_float_g(f), s, "{f}");
        }
    }

    #[test]
    fn json_float_formatting_matches_go() {
        for (f, s) in [
            (5432.0, "5432"),
            (3.0, "3"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (1234.56789, "1234.56789"),
            (12345678901234567890.0, "12345678901234567000"),
        ] {
            assert_eq!(format_float_json(f), s, "{f}");
        }
    }

    #[test]
    fn map_insert_get_remove_keep_order() {
        let mut m = Map::new();
        m.push("a", Value::Int(1));
        m.items.push(MapItem::Comment(" c".into()));
        m.push("b", Value::Int(2));
        m.insert("a", Value::Int(3));
        assert_eq!(m.get("a"), Some(&Value::Int(3)));
        assert_eq!(m.remove("b"), Some(Value::Int(2)));
        assert_eq!(m.items.len(), 2);
    }
}
