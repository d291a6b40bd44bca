//! sops's tree-path syntax (`["a"]["b"][0]`) for `--extract`, `set` and `unset`, and lookups,
//! insertions and removals along such a path.

use crate::error::{Error, Result};
use crate::tree::{Map, MapItem, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Parse `["key"]['key'][3]` exactly as sops does: split on `[`, each piece must end with `]`,
/// quoted pieces are keys (no escapes), others decimal indices. `code` is the exit code sops uses
/// for a syntax error in this context (91 for --extract, 7 for set/unset).
pub fn parse(s: &str, code: i32) -> Result<Vec<Step>> {
    let err = |msg: String| Error::TreePath {
        path: s.to_string(),
        msg,
        code,
    };
    let mut pieces = s.split('[');
    let first = pieces.next().unwrap_or("");
    if !first.is_empty() {
        return Err(err(format!("component {first} doesn't start with [")));
    }
    let mut out = Vec::new();
    for piece in pieces {
        let inner = piece
            .strip_suffix(']')
            .ok_or_else(|| err(format!("component {piece} doesn't end with ]")))?;
        if inner.len() >= 2
            && ((inner.starts_with('"') && inner.ends_with('"'))
                || (inner.starts_with('\'') && inner.ends_with('\'')))
        {
            out.push(Step::Key(inner[1..inner.len() - 1].to_string()));
        } else {
            let i = inner.parse::<usize>().map_err(|_| {
                err(format!(
                    "component [{inner}] is neither a quoted key nor an index"
                ))
            })?;
            out.push(Step::Index(i));
        }
    }
    if out.is_empty() {
        return Err(err("empty path".into()));
    }
    Ok(out)
}

/// `smtp.password`, `hosts[1]`: how a key path is shown to people (and in the log).
pub fn display_path(keys: &[String]) -> String {
    keys.join(".")
}

pub fn display_steps(steps: &[Step]) -> String {
    let mut s = String::new();
    for st in steps {
        match st {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn list_values(l: &[Value]) -> Vec<usize> {
    // Indices count real items only (comments are not addressable).
    l.iter()
        .enumerate()
        .filter(|(_, v)| !matches!(v, Value::Comment(_)))
        .map(|(i, _)| i)
        .collect()
}

/// The value at `steps` in a document.
pub fn get<'a>(doc: &'a Map, steps: &[Step]) -> Result<&'a Value> {
    let mut cur: Option<&Value> = None;
    let mut map = Some(doc);
    for st in steps {
        let next = match (st, map, cur) {
            (Step::Key(k), Some(m), _) => m.get(k),
            (Step::Index(i), None, Some(Value::List(l))) => list_values(l).get(*i).map(|&j| &l[j]),
            _ => None,
        };
        let next =
            next.ok_or_else(|| Error::NotInTree(format!("component {} not found", step_text(st))))?;
        map = next.as_map();
        cur = Some(next);
    }
    cur.ok_or_else(|| Error::NotInTree("empty path".into()))
}

fn step_text(st: &Step) -> String {
    match st {
        Step::Key(k) => format!("['{k}']"),
        Step::Index(i) => format!("[{i}]"),
    }
}

/// Set the value at `steps`, creating missing keys (appended at the end of their mapping), and
/// appending to a list when the index is past its end; a scalar in the way is replaced.
pub fn set(doc: &mut Map, steps: &[Step], value: Value) -> Result<()> {
    let (first, rest) = steps
        .split_first()
        .ok_or_else(|| Error::NotInTree("empty path".into()))?;
    match first {
        Step::Key(k) => {
            if rest.is_empty() {
                doc.insert(k.clone(), value);
                return Ok(());
            }
            if doc.get(k).is_none() {
                doc.push(k.clone(), Value::Null);
            }
            set_value(doc.get_mut(k).expect("just inserted"), rest, value)
        }
        Step::Index(_) => Err(Error::NotInTree(
            "the top level is a mapping: the path must start with a key".into(),
        )),
    }
}

fn set_value(cur: &mut Value, steps: &[Step], value: Value) -> Result<()> {
    let Some((first, rest)) = steps.split_first() else {
        *cur = value;
        return Ok(());
    };
    match first {
        Step::Key(_) => {
            if !matches!(cur, Value::Map(_)) {
                *cur = Value::Map(Map::new());
            }
            let Value::Map(m) = cur else { unreachable!() };
            set(m, steps, value)
        }
        Step::Index(i) => {
            if !matches!(cur, Value::List(_)) {
                *cur = Value::List(Vec::new());
            }
            let Value::List(l) = cur else { unreachable!() };
            let idx = list_values(l);
            let target = match idx.get(*i) {
                Some(&j) => &mut l[j],
                None => {
                    l.push(Value::Null);
                    l.last_mut().expect("just pushed")
                }
            };
            set_value(target, rest, value)
        }
    }
}

/// Remove the key or list item at `steps`; errors like sops when it is absent.
pub fn unset(doc: &mut Map, steps: &[Step]) -> Result<()> {
    let (last, parents) = steps
        .split_last()
        .ok_or_else(|| Error::NotInTree("empty path".into()))?;
    if parents.is_empty() {
        return match last {
            Step::Key(k) => doc
                .remove(k)
                .map(|_| ())
                .ok_or_else(|| Error::NotInTree(format!("Key not found: {k}"))),
            Step::Index(_) => Err(Error::NotInTree(
                "the top level is a mapping: the path must start with a key".into(),
            )),
        };
    }
    // Walk to the parent.
    let mut cur: &mut Value = match &parents[0] {
        Step::Key(k) => doc
            .get_mut(k)
            .ok_or_else(|| Error::NotInTree(format!("Key not found: {k}")))?,
        Step::Index(_) => {
            return Err(Error::NotInTree(
                "the top level is a mapping: the path must start with a key".into(),
            ))
        }
    };
    for st in &parents[1..] {
        cur = match (st, cur) {
            (Step::Key(k), Value::Map(m)) => m
                .get_mut(k)
                .ok_or_else(|| Error::NotInTree(format!("Key not found: {k}")))?,
            (Step::Index(i), Value::List(l)) => {
                let idx = list_values(l);
                let j = *idx
                    .get(*i)
                    .ok_or_else(|| Error::NotInTree(format!("Index {i} out of bounds")))?;
                &mut l[j]
            }
            (st, other) => {
                return Err(Error::NotInTree(format!(
                    "Unsupported type: {} for item {}",
                    other.type_name(),
                    step_text(st)
                )))
            }
        };
    }
    match (last, cur) {
        (Step::Key(k), Value::Map(m)) => m
            .remove(k)
            .map(|_| ())
            .ok_or_else(|| Error::NotInTree(format!("Key not found: {k}"))),
        (Step::Index(i), Value::List(l)) => {
            let idx = list_values(l);
            let j = *idx
                .get(*i)
                .ok_or_else(|| Error::NotInTree(format!("Index {i} out of bounds")))?;
            l.remove(j);
            Ok(())
        }
        (st, other) => Err(Error::NotInTree(format!(
            "Unsupported type: {} for item {}",
            other.type_name(),
            step_text(st)
        ))),
    }
}

/// Leave only the comment-free path skeleton? No: helpers for callers that need all leaf paths.
pub fn leaf_paths(doc: &Map) -> Vec<String> {
    fn walk(v: &Value, prefix: &str, out: &mut Vec<String>) {
        match v {
            Value::Map(m) => walk_map(m, prefix, out),
            Value::List(l) => {
                let mut i = 0;
                for item in l {
                    if matches!(item, Value::Comment(_)) {
                        continue;
                    }
                    walk(item, &format!("{prefix}[{i}]"), out);
                    i += 1;
                }
            }
            Value::Comment(_) => {}
            _ => out.push(prefix.to_string()),
        }
    }
    fn walk_map(m: &Map, prefix: &str, out: &mut Vec<String>) {
        for item in &m.items {
            if let MapItem::Pair(k, v) = item {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(v, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk_map(doc, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sops_syntax() {
        assert_eq!(
            parse(r#"["a"]['b'][0]"#, 91).unwrap(),
            vec![Step::Key("a".into()), Step::Key("b".into()), Step::Index(0)]
        );
        let e = parse("nested", 91).unwrap_err();
        assert_eq!(e.exit_code(), 91);
        assert_eq!(parse(r#"["a""#, 7).unwrap_err().exit_code(), 7);
        assert!(parse("[x]", 7).is_err());
        assert!(parse("", 7).is_err());
    }

    #[test]
    fn set_creates_and_unset_removes() {
        let mut m = Map::new();
        set(&mut m, &parse(r#"["a"]["b"]"#, 7).unwrap(), Value::Int(1)).unwrap();
        set(&mut m, &parse(r#"["l"][5]"#, 7).unwrap(), Value::str("x")).unwrap();
        assert_eq!(
            get(&m, &parse(r#"["a"]["b"]"#, 7).unwrap()).unwrap(),
            &Value::Int(1)
        );
        assert_eq!(
            get(&m, &parse(r#"["l"][0]"#, 7).unwrap()).unwrap(),
            &Value::str("x")
        );
        unset(&mut m, &parse(r#"["a"]["b"]"#, 7).unwrap()).unwrap();
        assert!(unset(&mut m, &parse(r#"["a"]["b"]"#, 7).unwrap())
            .unwrap_err()
            .to_string()
            .contains("Key not found"));
        assert!(unset(&mut m, &parse(r#"["l"][9]"#, 7).unwrap())
            .unwrap_err()
            .to_string()
            .contains("out of bounds"));
        assert_eq!(leaf_paths(&m), vec!["l[0]".to_string()]);
    }
}
