//! Flattening of sops metadata for the stores that cannot nest (dotenv, INI), as sops does it:
//! nested mapping keys are joined with `__map_`, list indices with `__list_<i>`, so
//! `{age: [{recipient: r}]}` becomes `age__list_0__map_recipient = r`. Null values and empty
//! lists/mappings produce no entry. Values are kept as plain strings (newlines included); the
//! caller escapes newlines for the file format and adds/strips the `sops_` prefix.

use crate::tree::{format_float_plain, Map, MapItem, Value};

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";

/// Flatten a metadata mapping into `(key, value)` pairs, in the mapping's order.
pub fn flatten(metadata: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match metadata {
        Value::Map(m) => {
            for item in &m.items {
                if let MapItem::Pair(k, v) = item {
                    flatten_into(&mut out, k.clone(), v);
                }
            }
        }
        other => flatten_into(&mut out, String::new(), other),
    }
    out
}

fn flatten_into(out: &mut Vec<(String, String)>, prefix: String, v: &Value) {
    match v {
        Value::Null | Value::Comment(_) => {}
        Value::Map(m) => {
            for item in &m.items {
                if let MapItem::Pair(k, x) = item {
                    flatten_into(out, format!("{prefix}{MAP_SEP}{k}"), x);
                }
            }
        }
        Value::List(l) => {
            for (i, x) in l.iter().enumerate() {
                flatten_into(out, format!("{prefix}{LIST_SEP}{i}"), x);
            }
        }
        scalar => out.push((prefix, scalar_string(scalar))),
    }
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format_float_plain(*f),
        Value::Time(t) => t.0.clone(),
        Value::Null | Value::Comment(_) | Value::Map(_) | Value::List(_) => String::new(),
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Key(String),
    Index(usize),
}

/// Split a flattened key into its path, as sops's tokenizer does: the text before the first
/// separator is a key, then each `__map_<k>` is a key and each `__list_<i>` an index.
fn tokenize(path: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    // (start of the current token's text, whether it is a list index)
    let mut start = 0;
    let mut is_index = false;
    let mut i = 0;
    let finish = |tokens: &mut Vec<Token>, text: &str, is_index: bool| {
        if is_index {
            tokens.push(Token::Index(text.parse().unwrap_or(0)));
        } else {
            tokens.push(Token::Key(text.to_string()));
        }
    };
    while i < path.len() {
        let rest = &path[i..];
        if rest.starts_with(MAP_SEP) {
            finish(&mut tokens, &path[start..i], is_index);
            i += MAP_SEP.len();
            start = i;
            is_index = false;
        } else if rest.starts_with(LIST_SEP) {
            finish(&mut tokens, &path[start..i], is_index);
            i += LIST_SEP.len();
            start = i;
            is_index = true;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    finish(&mut tokens, &path[start..], is_index);
    tokens
}

/// Rebuild the metadata mapping from flattened pairs: mappings in first-seen key order, lists
/// by index (a missing index is `Null`), every leaf a `Value::Str`.
///
/// sops writes dense indices. The gaps filled with `Null` are bounded by the number of pairs
/// (plus a little): an index past that budget goes after the list's last item instead of
/// allocating up to it (fuzzing found `sops_age__list_9999999999999999999` exhausting memory).
pub fn unflatten(flat: &[(String, String)]) -> Value {
    let mut root = Value::Map(Map::new());
    let mut gap_budget = flat.len() + 64;
    for (k, v) in flat {
        let tokens = tokenize(k);
        insert(&mut root, &tokens, Value::Str(v.clone()), &mut gap_budget);
    }
    root
}

fn insert(node: &mut Value, path: &[Token], leaf: Value, gap_budget: &mut usize) {
    let Some((first, rest)) = path.split_first() else {
        *node = leaf;
        return;
    };
    let child = match first {
        Token::Key(k) => {
            if !matches!(node, Value::Map(_)) {
                *node = Value::Map(Map::new());
            }
            let Value::Map(m) = node else {
                unreachable!("just made a map")
            };
            if m.get(k).is_none() {
                m.push(k.clone(), Value::Null);
            }
            m.get_mut(k).expect("key present")
        }
        Token::Index(i) => {
            if !matches!(node, Value::List(_)) {
                *node = Value::List(Vec::new());
            }
            let Value::List(l) = node else {
                unreachable!("just made a list")
            };
            let gap = i.saturating_sub(l.len());
            let i = if gap > *gap_budget {
                l.len()
            } else {
                *gap_budget -= gap;
                *i
            };
            if l.len() <= i {
                l.resize(i + 1, Value::Null);
            }
            &mut l[i]
        }
    };
    insert(child, rest, leaf, gap_budget);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_index_does_not_allocate_up_to_it() {
        let flat = vec![
            ("age__list_0__map_recipient".to_string(), "a".to_string()),
            (
                "age__list_9999999999999999999__map_recipient".to_string(),
                "b".to_string(),
            ),
        ];
        let Value::Map(m) = unflatten(&flat) else {
            panic!("not a map")
        };
        let Some(Value::List(l)) = m.get("age") else {
            panic!("no list")
        };
        assert_eq!(l.len(), 2);
    }

    fn age(recipient: &str, enc: &str) -> Value {
        let mut m = Map::new();
        m.push("recipient", Value::str(recipient));
        m.push("enc", Value::str(enc));
        Value::Map(m)
    }

    fn sample() -> Value {
        let mut g0 = Map::new();
        g0.push("hc_vault", Value::Null);
        g0.push(
            "age",
            Value::List(vec![age("age1a", "-----BEGIN\nA\n-----END\n")]),
        );
        let mut g1 = Map::new();
        g1.push("hc_vault", Value::List(vec![]));
        g1.push(
            "age",
            Value::List(vec![age("age1b", "B\n"), age("age1c", "C\n")]),
        );
        let mut m = Map::new();
        m.push("shamir_threshold", Value::Int(2));
        m.push(
            "key_groups",
            Value::List(vec![Value::Map(g0), Value::Map(g1)]),
        );
        m.push("kms", Value::Null);
        m.push("lastmodified", Value::str("2024-01-01T00:00:00Z"));
        m.push("mac", Value::str("ENC[x]"));
        m.push("unencrypted_suffix", Value::str("_unencrypted"));
        m.push("mac_only_encrypted", Value::Bool(true));
        m.push("version", Value::str("3.11.0"));
        Value::Map(m)
    }

    #[test]
    fn flattens_like_sops() {
        let flat = flatten(&sample());
        let got: Vec<(&str, &str)> = flat.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("shamir_threshold", "2"),
                (
                    "key_groups__list_0__map_age__list_0__map_recipient",
                    "age1a"
                ),
                (
                    "key_groups__list_0__map_age__list_0__map_enc",
                    "-----BEGIN\nA\n-----END\n"
                ),
                (
                    "key_groups__list_1__map_age__list_0__map_recipient",
                    "age1b"
                ),
                ("key_groups__list_1__map_age__list_0__map_enc", "B\n"),
                (
                    "key_groups__list_1__map_age__list_1__map_recipient",
                    "age1c"
                ),
                ("key_groups__list_1__map_age__list_1__map_enc", "C\n"),
                ("lastmodified", "2024-01-01T00:00:00Z"),
                ("mac", "ENC[x]"),
                ("unencrypted_suffix", "_unencrypted"),
                ("mac_only_encrypted", "true"),
                ("version", "3.11.0"),
            ]
        );
    }

    #[test]
    fn unflatten_inverts_flatten_with_string_leaves() {
        let flat = flatten(&sample());
        let back = unflatten(&flat);
        let m = back.as_map().unwrap();
        assert_eq!(m.get("shamir_threshold"), Some(&Value::str("2")));
        assert_eq!(m.get("mac_only_encrypted"), Some(&Value::str("true")));
        let Some(Value::List(groups)) = m.get("key_groups") else {
            panic!("{back:?}")
        };
        assert_eq!(groups.len(), 2);
        let g1 = groups[1].as_map().unwrap();
        assert_eq!(
            g1.get("age"),
            Some(&Value::List(vec![age("age1b", "B\n"), age("age1c", "C\n")]))
        );
        // Null and empty entries are gone; flattening again gives the same pairs.
        assert!(g1.get("hc_vault").is_none());
        assert!(m.get("kms").is_none());
        assert_eq!(flatten(&back), flat);
    }

    #[test]
    fn unflatten_accepts_any_order_and_fills_lists_by_index() {
        let flat: Vec<(String, String)> = [
            ("age__list_1__map_enc", "E1"),
            ("version", "3.11.0"),
            ("age__list_0__map_recipient", "R0"),
            ("age__list_1__map_recipient", "R1"),
            ("age__list_0__map_enc", "E0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let back = unflatten(&flat);
        let m = back.as_map().unwrap();
        let Some(Value::List(l)) = m.get("age") else {
            panic!()
        };
        assert_eq!(
            l[0].as_map().unwrap().get("recipient"),
            Some(&Value::str("R0"))
        );
        assert_eq!(l[0].as_map().unwrap().get("enc"), Some(&Value::str("E0")));
        assert_eq!(l[1].as_map().unwrap().get("enc"), Some(&Value::str("E1")));
        // A gap in the indices is a null item.
        let back = unflatten(&[("a__list_2".to_string(), "x".to_string())]);
        assert_eq!(
            back.as_map().unwrap().get("a"),
            Some(&Value::List(vec![
                Value::Null,
                Value::Null,
                Value::str("x")
            ]))
        );
    }

    #[test]
    fn tokenizer_splits_on_separators() {
        assert_eq!(
            tokenize("key_groups__list_10__map_age__list_0__map_enc"),
            vec![
                Token::Key("key_groups".into()),
                Token::Index(10),
                Token::Key("age".into()),
                Token::Index(0),
                Token::Key("enc".into()),
            ]
        );
        assert_eq!(
            tokenize("mac_only_encrypted"),
            vec![Token::Key("mac_only_encrypted".into())]
        );
    }
}
