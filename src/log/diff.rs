//! Which secrets changed: a structural diff of two decrypted trees, by key path.
//!
//! Values are compared, never copied into the result: a [`Change`] holds only a path and an
//! action. Comments (map items and list items) are ignored, so editing a comment logs nothing.
//! Leaves are scalars and empty containers; adding or removing a subtree yields one change per
//! leaf, so each secret gets its own row.
//!
//! Paths: keys joined with `.`, list items as `[i]` (`smtp.password`, `hosts[1]`,
//! `users[0].token`). A key that is empty or contains `.`, `[`, `]` or `"` is written quoted,
//! `["a.b"]`. When either side holds more than one document, each path is prefixed with the
//! document's index, `[1].key`. For a removed list item the index is its position before the
//! change; for an added or changed one, its position after.

use crate::tree::{Document, Map, MapItem, Value};

/// The `key` of a row about a whole file rather than one secret (e.g. `recipients changed`
/// when the caller logs one row per file instead of one per key from [`leaf_paths`]).
pub const WHOLE_FILE_KEY: &str = "*";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Dotted key path, e.g. `smtp.password` or `hosts[1]`.
    pub key: String,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Added,
    Changed,
    Removed,
    /// The value is unchanged but re-encrypted under a new data key (`rotate`).
    DataKeyRotated,
    /// Who can decrypt changed (`updatekeys`, recipient edits); recipients as written in
    /// `.sops.yaml` (age public keys).
    RecipientsChanged {
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// An action as read from an existing row (kept verbatim when rows are re-chained, e.g. by
    /// the log merge driver).
    Recorded(String),
}

impl Action {
    /// The action as written in the log's `action` cell.
    pub fn label(&self) -> String {
        match self {
            Action::Added => "added".into(),
            Action::Changed => "changed".into(),
            Action::Removed => "removed".into(),
            Action::DataKeyRotated => "data key rotated".into(),
            Action::Recorded(text) => text.clone(),
            Action::RecipientsChanged { added, removed } => {
                let mut parts: Vec<String> = added.iter().map(|r| format!("+{r}")).collect();
                parts.extend(removed.iter().map(|r| format!("-{r}")));
                if parts.is_empty() {
                    "recipients changed".into()
                } else {
                    format!("recipients changed: {}", parts.join(", "))
                }
            }
        }
    }
}

/// Recipients for a `recipients changed` cell: `name (key)` where `.sops.yaml` names the key
/// (`names` as (name, key) pairs), else the key alone.
pub fn with_names(keys: &[String], names: &[(String, String)]) -> Vec<String> {
    keys.iter()
        .map(|k| match names.iter().find(|(_, key)| key == k) {
            Some((n, _)) => format!("{n} ({k})"),
            None => k.clone(),
        })
        .collect()
}

/// The changes from `before` to `after` (empty when nothing but comments or nothing at all
/// changed).
pub fn diff_documents(before: &[Document], after: &[Document]) -> Vec<Change> {
    let mut out = Vec::new();
    let multi = before.len() > 1 || after.len() > 1;
    let n = before.len().max(after.len());
    for i in 0..n {
        let prefix = if multi {
            format!("[{i}]")
        } else {
            String::new()
        };
        match (before.get(i), after.get(i)) {
            (Some(b), Some(a)) => diff_maps(&prefix, b, a, &mut out),
            (Some(b), None) => leaves_map(&prefix, b, &Action::Removed, &mut out),
            (None, Some(a)) => leaves_map(&prefix, a, &Action::Added, &mut out),
            (None, None) => {}
        }
    }
    out
}

/// Every leaf path of the documents (for rows that concern every secret of a file, like
/// `data key rotated`), in document order.
pub fn leaf_paths(docs: &[Document]) -> Vec<String> {
    let mut out = Vec::new();
    let multi = docs.len() > 1;
    for (i, d) in docs.iter().enumerate() {
        let prefix = if multi {
            format!("[{i}]")
        } else {
            String::new()
        };
        leaves_map(&prefix, d, &Action::Added, &mut out);
    }
    out.into_iter().map(|c| c.key).collect()
}

fn key_segment(prefix: &str, key: &str) -> String {
    let needs_quote = key.is_empty() || key.contains(['.', '[', ']', '"']);
    if needs_quote {
        let escaped = key.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{prefix}[\"{escaped}\"]")
    } else if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn index_segment(prefix: &str, i: usize) -> String {
    format!("{prefix}[{i}]")
}

/// Pairs with their occurrence number, so duplicate keys match the same occurrence.
fn keyed_pairs(m: &Map) -> Vec<((&str, usize), &Value)> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut out = Vec::new();
    for item in &m.items {
        if let MapItem::Pair(k, v) = item {
            let n = match seen.iter_mut().find(|(s, _)| *s == k.as_str()) {
                Some((_, c)) => {
                    *c += 1;
                    *c
                }
                None => {
                    seen.push((k.as_str(), 0));
                    0
                }
            };
            out.push(((k.as_str(), n), v));
        }
    }
    out
}

fn diff_maps(prefix: &str, before: &Map, after: &Map, out: &mut Vec<Change>) {
    let b = keyed_pairs(before);
    let a = keyed_pairs(after);
    for (k, bv) in &b {
        let path = key_segment(prefix, k.0);
        match a.iter().find(|(ak, _)| ak == k) {
            Some((_, av)) => diff_values(&path, bv, av, out),
            None => leaves(&path, bv, &Action::Removed, out),
        }
    }
    for (k, av) in &a {
        if !b.iter().any(|(bk, _)| bk == k) {
            leaves(&key_segment(prefix, k.0), av, &Action::Added, out);
        }
    }
}

fn items(list: &[Value]) -> Vec<&Value> {
    list.iter()
        .filter(|v| !matches!(v, Value::Comment(_)))
        .collect()
}

fn diff_lists(prefix: &str, before: &[Value], after: &[Value], out: &mut Vec<Change>) {
    let b = items(before);
    let a = items(after);
    // Longest common subsequence of equal items: those are unchanged. Between two matched
    // anchors, leftover items pair up positionally as changes; the rest are removals/additions.
    let (n, m) = (b.len(), a.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if same(b[i], a[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut gap_b: Vec<usize> = Vec::new();
    let mut gap_a: Vec<usize> = Vec::new();
    let flush = |gap_b: &mut Vec<usize>, gap_a: &mut Vec<usize>, out: &mut Vec<Change>| {
        let paired = gap_b.len().min(gap_a.len());
        for k in 0..paired {
            diff_values(
                &index_segment(prefix, gap_a[k]),
                b[gap_b[k]],
                a[gap_a[k]],
                out,
            );
        }
        for &bi in &gap_b[paired..] {
            leaves(&index_segment(prefix, bi), b[bi], &Action::Removed, out);
        }
        for &aj in &gap_a[paired..] {
            leaves(&index_segment(prefix, aj), a[aj], &Action::Added, out);
        }
        gap_b.clear();
        gap_a.clear();
    };
    while i < n || j < m {
        if i < n && j < m && same(b[i], a[j]) {
            flush(&mut gap_b, &mut gap_a, out);
            i += 1;
            j += 1;
        } else if j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            gap_b.push(i);
            i += 1;
        } else {
            gap_a.push(j);
            j += 1;
        }
    }
    flush(&mut gap_b, &mut gap_a, out);
}

fn diff_values(path: &str, before: &Value, after: &Value, out: &mut Vec<Change>) {
    match (before, after) {
        (Value::Map(b), Value::Map(a)) if !is_empty_map(b) && !is_empty_map(a) => {
            diff_maps(path, b, a, out)
        }
        (Value::List(b), Value::List(a)) if !items(b).is_empty() && !items(a).is_empty() => {
            diff_lists(path, b, a, out)
        }
        (b, a) if is_leaf(b) && is_leaf(a) => {
            if !same(b, a) {
                out.push(Change {
                    key: path.to_string(),
                    action: Action::Changed,
                });
            }
        }
        (b, a) => {
            // A leaf became a container or the reverse.
            leaves(path, b, &Action::Removed, out);
            leaves(path, a, &Action::Added, out);
        }
    }
}

fn is_empty_map(m: &Map) -> bool {
    m.pairs().next().is_none()
}

/// Scalars and empty containers are leaves.
fn is_leaf(v: &Value) -> bool {
    match v {
        Value::Map(m) => is_empty_map(m),
        Value::List(l) => items(l).is_empty(),
        _ => true,
    }
}

fn leaves(path: &str, v: &Value, action: &Action, out: &mut Vec<Change>) {
    match v {
        Value::Map(m) if !is_empty_map(m) => leaves_map(path, m, action, out),
        Value::List(l) if !items(l).is_empty() => {
            for (i, item) in items(l).into_iter().enumerate() {
                leaves(&index_segment(path, i), item, action, out);
            }
        }
        _ => out.push(Change {
            key: path.to_string(),
            action: action.clone(),
        }),
    }
}

fn leaves_map(prefix: &str, m: &Map, action: &Action, out: &mut Vec<Change>) {
    for (k, v) in m.pairs() {
        leaves(&key_segment(prefix, k), v, action, out);
    }
}

/// Structural equality ignoring comments; floats by bits (so NaN equals NaN and an unchanged
/// NaN is not reported), types must match (`1` and `"1"` differ).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits() || x == y,
        (Value::Map(x), Value::Map(y)) => {
            let (px, py) = (keyed_pairs(x), keyed_pairs(y));
            px.len() == py.len()
                && px
                    .iter()
                    .all(|(k, v)| py.iter().any(|(k2, v2)| k == k2 && same(v, v2)))
        }
        (Value::List(x), Value::List(y)) => {
            let (ix, iy) = (items(x), items(y));
            ix.len() == iy.len() && ix.iter().zip(iy).all(|(p, q)| same(p, q))
        }
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: Vec<(&str, Value)>) -> Value {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.push(k, v);
        }
        Value::Map(m)
    }
    fn doc(pairs: Vec<(&str, Value)>) -> Document {
        match map(pairs) {
            Value::Map(m) => m,
            _ => unreachable!(),
        }
    }
    fn s(x: &str) -> Value {
        Value::str(x)
    }
    fn ch(key: &str, action: Action) -> Change {
        Change {
            key: key.into(),
            action,
        }
    }

    #[test]
    fn nested_maps_give_dotted_paths() {
        let before = doc(vec![
            (
                "smtp",
                map(vec![("host", s("mail")), ("password", s("old"))]),
            ),
            ("gone", s("x")),
        ]);
        let after = doc(vec![
            (
                "smtp",
                map(vec![("host", s("mail")), ("password", s("new"))]),
            ),
            ("fresh", map(vec![("a", s("1")), ("b", Value::Int(2))])),
        ]);
        assert_eq!(
            diff_documents(&[before], &[after]),
            vec![
                ch("smtp.password", Action::Changed),
                ch("gone", Action::Removed),
                ch("fresh.a", Action::Added),
                ch("fresh.b", Action::Added),
            ]
        );
    }

    #[test]
    fn unchanged_and_comment_only_edits_yield_nothing() {
        let mut before = doc(vec![
            ("a", s("1")),
            ("l", Value::List(vec![s("x"), s("y")])),
        ]);
        let mut after = before.clone();
        assert!(diff_documents(&[before.clone()], &[after.clone()]).is_empty());
        after
            .items
            .insert(0, MapItem::Comment(" new comment".into()));
        if let Some(Value::List(l)) = after.get_mut("l") {
            l.insert(1, Value::Comment(" between".into()));
        }
        before.items.push(MapItem::Comment(" old comment".into()));
        assert!(diff_documents(&[before], &[after]).is_empty());
        let nan = doc(vec![("f", Value::Float(f64::NAN))]);
        assert!(diff_documents(std::slice::from_ref(&nan), std::slice::from_ref(&nan)).is_empty());
    }

    #[test]
    fn list_items_are_indexed_and_aligned() {
        let before = doc(vec![("hosts", Value::List(vec![s("a"), s("b"), s("c")]))]);
        // insert at front: only the new item is added
        let after = doc(vec![(
            "hosts",
            Value::List(vec![s("z"), s("a"), s("b"), s("c")]),
        )]);
        assert_eq!(
            diff_documents(std::slice::from_ref(&before), &[after]),
            vec![ch("hosts[0]", Action::Added)]
        );
        // change the middle item
        let after = doc(vec![("hosts", Value::List(vec![s("a"), s("B"), s("c")]))]);
        assert_eq!(
            diff_documents(std::slice::from_ref(&before), &[after]),
            vec![ch("hosts[1]", Action::Changed)]
        );
        // remove the last one
        let after = doc(vec![("hosts", Value::List(vec![s("a"), s("b")]))]);
        assert_eq!(
            diff_documents(&[before], &[after]),
            vec![ch("hosts[2]", Action::Removed)]
        );
    }

    #[test]
    fn maps_inside_lists_recurse() {
        let before = doc(vec![(
            "users",
            Value::List(vec![
                map(vec![("name", s("a")), ("token", s("t1"))]),
                map(vec![("name", s("b")), ("token", s("t2"))]),
            ]),
        )]);
        let after = doc(vec![(
            "users",
            Value::List(vec![
                map(vec![("name", s("a")), ("token", s("t1"))]),
                map(vec![("name", s("b")), ("token", s("t3"))]),
            ]),
        )]);
        assert_eq!(
            diff_documents(&[before], &[after]),
            vec![ch("users[1].token", Action::Changed)]
        );
    }

    #[test]
    fn type_changes_and_odd_keys() {
        let before = doc(vec![("a", s("1")), ("x.y", s("v")), ("n", Value::Int(1))]);
        let after = doc(vec![
            ("a", map(vec![("b", s("1"))])),
            ("x.y", s("w")),
            ("n", s("1")),
        ]);
        assert_eq!(
            diff_documents(&[before], &[after]),
            vec![
                ch("a", Action::Removed),
                ch("a.b", Action::Added),
                ch("[\"x.y\"]", Action::Changed),
                ch("n", Action::Changed),
            ]
        );
    }

    #[test]
    fn multiple_documents_are_prefixed() {
        let d0 = doc(vec![("a", s("1"))]);
        let d1 = doc(vec![("b", s("1"))]);
        let d1b = doc(vec![("b", s("2"))]);
        assert_eq!(
            diff_documents(&[d0.clone(), d1], &[d0.clone(), d1b]),
            vec![ch("[1].b", Action::Changed)]
        );
        assert_eq!(
            diff_documents(
                std::slice::from_ref(&d0),
                &[d0.clone(), doc(vec![("c", s("x"))])]
            ),
            vec![ch("[1].c", Action::Added)]
        );
    }

    #[test]
    fn recipients_are_named_where_sops_yaml_names_them() {
        let names = vec![("bob".to_string(), "age1bob".to_string())];
        let cell = Action::RecipientsChanged {
            added: with_names(&["age1bob".into()], &names),
            removed: with_names(&["age1old".into()], &names),
        }
        .label();
        assert_eq!(cell, "recipients changed: +bob (age1bob), -age1old");
    }

    #[test]
    fn leaf_paths_and_labels() {
        let d = doc(vec![
            ("smtp", map(vec![("password", s("p"))])),
            ("hosts", Value::List(vec![s("a"), s("b")])),
            ("empty", map(vec![])),
        ]);
        assert_eq!(
            leaf_paths(&[d]),
            vec!["smtp.password", "hosts[0]", "hosts[1]", "empty"]
        );
        assert_eq!(
            Action::RecipientsChanged {
                added: vec!["age1new".into()],
                removed: vec!["age1old".into()]
            }
            .label(),
            "recipients changed: +age1new, -age1old"
        );
        assert_eq!(Action::DataKeyRotated.label(), "data key rotated");
    }
}
