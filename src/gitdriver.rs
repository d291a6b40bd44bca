//! Git integration: a textconv driver that shows a sops file as masked key-level lines, a
//! three-way merge of decrypted trees (for the `spx merge` driver and `--resolve`), and the
//! merge of rotation logs appended on both sides.

use crate::crypt::DataKey;
use crate::document::{wrap_data_key, IvCache, SopsFile};
use crate::error::{Error, Result};
use crate::keys::Identities;
use crate::metadata::Metadata;
use crate::store::Format;
use crate::tree::{Document, Map, MapItem, Value};
use sha2::{Digest, Sha256};

/// `sha256:1a2b3c4d (str)`.
pub fn mask(v: &Value) -> String {
    crate::commands::decrypt::mask_value(v)
}

fn hex8(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The textconv view: one `key.path = masked` line per value, then the recipients. Without an
/// identity: "cannot decrypt" and the fingerprint of each value's ciphertext, which is stable
/// for unchanged values, so a diff still names the keys that changed.
pub fn textconv(
    bytes: &[u8],
    format: Format,
    name: &str,
    ids: &Identities,
    show_values: bool,
) -> String {
    let mut out = String::new();
    let file = match SopsFile::parse(bytes, format, name) {
        Ok(f) => f,
        Err(_) => return String::from_utf8_lossy(bytes).into_owned(),
    };
    let mut lines = Vec::new();
    match file.decrypt(ids, false, None, name) {
        Ok((docs, _)) => {
            out.push_str(&format!(
                "# {name}: decrypted view, values {}\n",
                if show_values {
                    "shown"
                } else {
                    "masked (sha256 prefix)"
                }
            ));
            leaves(&docs, &mut |path, v| {
                let shown = if show_values { v.to_string() } else { mask(v) };
                lines.push(format!("{path} = {shown}"));
            });
        }
        Err(e) => {
            let why = e.to_string().lines().next().unwrap_or("").to_string();
            out.push_str(&format!(
                "# cannot decrypt: {why}\n# values shown as the fingerprint of their ciphertext\n"
            ));
            leaves(&file.docs, &mut |path, v| {
                lines.push(format!("{path} = enc:{}", hex8(&v.plaintext_bytes())));
            });
        }
    }
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str("# recipients\n");
    for (gi, g) in file.metadata.recipient_groups().iter().enumerate() {
        for r in g {
            out.push_str(&format!("recipient[{gi}] = {r}\n"));
        }
    }
    out
}

fn leaves(docs: &[Document], f: &mut dyn FnMut(&str, &Value)) {
    fn walk(v: &Value, path: String, f: &mut dyn FnMut(&str, &Value)) {
        match v {
            Value::Map(m) => walk_map(m, &path, f),
            Value::List(l) => {
                for (i, x) in l
                    .iter()
                    .filter(|x| !matches!(x, Value::Comment(_)))
                    .enumerate()
                {
                    walk(x, format!("{path}[{i}]"), f);
                }
            }
            Value::Comment(_) => {}
            other => f(&path, other),
        }
    }
    fn walk_map(m: &Map, prefix: &str, f: &mut dyn FnMut(&str, &Value)) {
        for item in &m.items {
            if let MapItem::Pair(k, v) = item {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(v, p, f);
            }
        }
    }
    for d in docs {
        walk_map(d, "", f);
    }
}

/// A conflict: the key path, and ours' and theirs' values (None = deleted on that side).
#[derive(Debug, Clone)]
pub struct Conflict {
    pub path: Vec<String>,
    pub ours: Option<Value>,
    pub theirs: Option<Value>,
}

impl Conflict {
    pub fn display(&self) -> String {
        let m = |v: &Option<Value>| {
            v.as_ref()
                .map(|v| match v {
                    Value::Map(_) | Value::List(_) => format!("({})", v.type_name()),
                    other => mask(other),
                })
                .unwrap_or_else(|| "(deleted)".into())
        };
        format!(
            "{}: ours {} / theirs {}",
            self.path.join("."),
            m(&self.ours),
            m(&self.theirs)
        )
    }
}

fn comments_before(m: &Map) -> Vec<(String, Option<String>)> {
    // Each comment with the key that follows it (None at the end).
    let mut out = Vec::new();
    let mut pending = Vec::new();
    for item in &m.items {
        match item {
            MapItem::Comment(c) => pending.push(c.clone()),
            MapItem::Pair(k, _) => {
                for c in pending.drain(..) {
                    out.push((c, Some(k.clone())));
                }
            }
        }
    }
    for c in pending {
        out.push((c, None));
    }
    out
}

/// Three-way merge of mappings, key by key (comments too); conflicts are collected.
pub fn merge_map(
    base: Option<&Map>,
    ours: &Map,
    theirs: &Map,
    path: &mut Vec<String>,
    conflicts: &mut Vec<Conflict>,
) -> Map {
    let empty = Map::new();
    let b = base.unwrap_or(&empty);
    let base_comments: Vec<String> = comments_before(b).into_iter().map(|(c, _)| c).collect();
    let our_comments: Vec<String> = comments_before(ours).into_iter().map(|(c, _)| c).collect();
    let their_comments = comments_before(theirs);
    let removed_by_theirs: Vec<&String> = base_comments
        .iter()
        .filter(|c| our_comments.contains(c) && !their_comments.iter().any(|(t, _)| &t == c))
        .collect();
    let mut out = Map::new();
    for item in &ours.items {
        match item {
            MapItem::Comment(c) => {
                if !removed_by_theirs.contains(&c) {
                    out.items.push(item.clone());
                }
            }
            MapItem::Pair(k, ov) => {
                path.push(k.clone());
                let bv = b.get(k);
                match theirs.get(k) {
                    None => match bv {
                        None => out.push(k.clone(), ov.clone()),
                        Some(bv) if bv == ov => {} // deleted by theirs
                        Some(_) => {
                            conflicts.push(Conflict {
                                path: path.clone(),
                                ours: Some(ov.clone()),
                                theirs: None,
                            });
                            out.push(k.clone(), ov.clone());
                        }
                    },
                    Some(tv) => {
                        let v = merge_value(bv, ov, tv, path, conflicts);
                        out.push(k.clone(), v);
                    }
                }
                path.pop();
            }
        }
    }
    for item in &theirs.items {
        if let MapItem::Pair(k, tv) = item {
            if ours.get(k).is_some() {
                continue;
            }
            path.push(k.clone());
            match b.get(k) {
                None => out.push(k.clone(), tv.clone()),
                Some(bv) if bv == tv => {} // deleted by ours
                Some(_) => conflicts.push(Conflict {
                    path: path.clone(),
                    ours: None,
                    theirs: Some(tv.clone()),
                }),
            }
            path.pop();
        }
    }
    // Comments theirs added: before the key they precede.
    for (c, key) in their_comments {
        if base_comments.contains(&c) || our_comments.contains(&c) {
            continue;
        }
        let at = key
            .and_then(|k| {
                out.items
                    .iter()
                    .position(|i| matches!(i, MapItem::Pair(x, _) if *x == k))
            })
            .unwrap_or(out.items.len());
        out.items.insert(at, MapItem::Comment(c));
    }
    out
}

fn merge_value(
    b: Option<&Value>,
    o: &Value,
    t: &Value,
    path: &mut Vec<String>,
    conflicts: &mut Vec<Conflict>,
) -> Value {
    if o == t {
        return o.clone();
    }
    if b == Some(o) {
        return t.clone();
    }
    if b == Some(t) {
        return o.clone();
    }
    if let (Value::Map(om), Value::Map(tm)) = (o, t) {
        let bm = b.and_then(Value::as_map);
        return Value::Map(merge_map(bm, om, tm, path, conflicts));
    }
    conflicts.push(Conflict {
        path: path.clone(),
        ours: Some(o.clone()),
        theirs: Some(t.clone()),
    });
    o.clone()
}

/// Three-way merge of recipient sets: ours, plus what theirs added, minus what theirs removed.
pub fn merge_recipients(base: &[String], ours: &[String], theirs: &[String]) -> Vec<String> {
    let removed_by_theirs = |r: &String| base.contains(r) && !theirs.contains(r);
    let mut out: Vec<String> = ours
        .iter()
        .filter(|r| !removed_by_theirs(r))
        .cloned()
        .collect();
    for r in theirs {
        if !base.contains(r) && !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// The three sides of a merge, decrypted.
pub struct Sides {
    pub base: Option<(Vec<Document>, Metadata)>,
    pub ours: (Vec<Document>, SopsFile, DataKey, IvCache),
    pub theirs: (Vec<Document>, Metadata),
}

pub fn open_sides(
    base: Option<&[u8]>,
    ours: &[u8],
    theirs: &[u8],
    format: Format,
    name: &str,
    ids: &Identities,
) -> Result<Sides> {
    let side = |b: &[u8], which: &str| -> Result<(Vec<Document>, Metadata)> {
        let f = SopsFile::parse(b, format, name)
            .map_err(|e| Error::Other(format!("{name} ({which}): {e}")))?;
        let (docs, _) = f
            .decrypt(ids, false, None, name)
            .map_err(|e| Error::Other(format!("{name} ({which}): {e}")))?;
        Ok((docs, f.metadata))
    };
    let base = match base {
        Some(b) if !b.is_empty() => Some(side(b, "base")?),
        _ => None,
    };
    let mut of = SopsFile::parse(ours, format, name)
        .map_err(|e| Error::Other(format!("{name} (ours): {e}")))?;
    let mut cache = IvCache::default();
    let (odocs, okey) = of
        .decrypt_in_place(ids, false, Some(&mut cache), name)
        .map_err(|e| Error::Other(format!("{name} (ours): {e}")))?;
    let theirs = side(theirs, "theirs")?;
    Ok(Sides {
        base,
        ours: (odocs, of, okey, cache),
        theirs,
    })
}

/// Merge the documents (first document: sops's set/unset semantics) and the recipients.
pub fn merge(sides: &Sides) -> (Vec<Document>, Vec<Conflict>) {
    let mut conflicts = Vec::new();
    let bdoc = sides.base.as_ref().and_then(|b| b.0.first());
    let o = sides.ours.0.first().cloned().unwrap_or_default();
    let t = sides.theirs.0.first().cloned().unwrap_or_default();
    let merged = merge_map(bdoc, &o, &t, &mut Vec::new(), &mut conflicts);
    let mut docs = sides.ours.0.clone();
    if docs.is_empty() {
        docs.push(merged);
    } else {
        docs[0] = merged;
    }
    (docs, conflicts)
}

/// Ours' metadata with the recipient changes of both sides; new recipients get ours' data key.
pub fn merged_metadata(sides: &Sides) -> Result<Metadata> {
    let mut md = sides.ours.1.metadata.clone();
    let og = md.recipient_groups();
    let tg = sides.theirs.1.recipient_groups();
    let bg = sides
        .base
        .as_ref()
        .map(|b| b.1.recipient_groups())
        .unwrap_or_else(|| og.clone());
    if og.len() != tg.len() || og.len() != bg.len() {
        return Ok(md); // group structure changed on a side: keep ours'; updatekeys fixes it
    }
    let groups: Vec<Vec<String>> = (0..og.len())
        .map(|i| merge_recipients(&bg[i], &og[i], &tg[i]))
        .collect();
    if groups == og {
        return Ok(md);
    }
    if groups.len() == 1 {
        let added: Vec<String> = groups[0]
            .iter()
            .filter(|r| !og[0].contains(r))
            .cloned()
            .collect();
        let fresh = if added.is_empty() {
            Vec::new()
        } else {
            wrap_data_key(&sides.ours.2, std::slice::from_ref(&added), 0)?.0
        };
        let mut keys = Vec::new();
        for r in &groups[0] {
            if let Some(k) = md.groups[0].age.iter().find(|k| &k.recipient == r) {
                keys.push(k.clone());
            } else if let Some(k) = fresh
                .first()
                .and_then(|g| g.age.iter().find(|k| &k.recipient == r))
            {
                keys.push(k.clone());
            }
        }
        md.groups[0].age = keys;
    } else {
        let (g, t) = wrap_data_key(&sides.ours.2, &groups, md.shamir_threshold)?;
        md.groups = g;
        md.shamir_threshold = t;
    }
    Ok(md)
}

/// Find the lines of `path` (mapping keys) in emitted YAML: (first line, one past the last).
pub fn key_range(lines: &[&str], path: &[String]) -> Option<(usize, usize)> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') || t.starts_with("- ") {
            continue;
        }
        let ind = l.len() - t.len();
        let Some(colon) = t.find(':') else { continue };
        let key = t[..colon].trim_matches(['"', '\'']).to_string();
        while stack.last().is_some_and(|(d, _)| *d >= ind) {
            stack.pop();
        }
        stack.push((ind, key));
        if stack.len() == path.len() && stack.iter().map(|(_, k)| k).eq(path.iter()) {
            let end = (i + 1..lines.len())
                .find(|&j| {
                    let tj = lines[j].trim_start();
                    !tj.is_empty() && lines[j].len() - tj.len() <= ind
                })
                .unwrap_or(lines.len());
            return Some((i, end));
        }
    }
    None
}

/// Rotation-log merge: ours kept byte for byte, then the rows only theirs appended after the
/// common base (in time order), chained after ours. Ours stays a prefix, so the merge commit
/// passes the verifier's append-only check against HEAD.
pub fn merge_logs(base: &str, ours: &str, theirs: &str) -> Result<String> {
    use crate::log::{self, table};
    let b = log::parse(base);
    let o = log::parse(ours);
    let t = log::parse(theirs);
    for (side, p) in [("ours", &o), ("theirs", &t)] {
        let problems = log::verify::check_prefix(&b.entries, &p.entries);
        if !problems.is_empty() {
            return Err(Error::Other(format!(
                "rotation log ({side}) is not an append of the common base: {}; merge it by hand, then check it with `spx log verify`",
                problems[0].message
            )));
        }
    }
    let ours_new = &o.entries[b.entries.len()..];
    let mut new: Vec<&table::Entry> = Vec::new();
    for e in &t.entries[b.entries.len()..] {
        let same =
            |x: &&table::Entry| x.cells[..6.min(x.cells.len())] == e.cells[..6.min(e.cells.len())];
        if !ours_new.iter().any(|x| same(&x)) && !new.iter().any(same) {
            new.push(e);
        }
    }
    new.sort_by_key(|e| e.date);
    let rows: Vec<log::Row> = new
        .iter()
        .map(|e| log::Row {
            date: e.date.unwrap_or_else(log::now),
            file: e.file.clone().unwrap_or_default(),
            key: e.key.clone().unwrap_or_default(),
            action: log::Action::Recorded(e.action.clone().unwrap_or_default()),
            reason: e.reason.clone().unwrap_or_default(),
            rotator: e.rotator.clone().unwrap_or_default(),
        })
        .collect();
    let ours_text = if ours.trim().is_empty() { "" } else { ours };
    Ok(log::render_append(ours_text, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(items: &[(&str, i64)]) -> Map {
        let mut m = Map::new();
        for (k, v) in items {
            m.push(*k, Value::Int(*v));
        }
        m
    }

    #[test]
    fn merges_key_by_key() {
        let b = m(&[("a", 1), ("b", 1), ("c", 1)]);
        let o = m(&[("a", 2), ("b", 1), ("c", 1), ("d", 1)]);
        let t = m(&[("a", 1), ("b", 3), ("e", 1)]);
        let mut c = Vec::new();
        let r = merge_map(Some(&b), &o, &t, &mut Vec::new(), &mut c);
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(r, m(&[("a", 2), ("b", 3), ("d", 1), ("e", 1)]));
    }

    #[test]
    fn both_changed_is_a_conflict() {
        let b = m(&[("a", 1)]);
        let mut c = Vec::new();
        merge_map(
            Some(&b),
            &m(&[("a", 2)]),
            &m(&[("a", 3)]),
            &mut Vec::new(),
            &mut c,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path, vec!["a".to_string()]);
        let mut c = Vec::new();
        merge_map(Some(&b), &m(&[]), &m(&[("a", 3)]), &mut Vec::new(), &mut c);
        assert_eq!(c.len(), 1, "deleted vs modified");
    }

    #[test]
    fn recipients_merge_three_way() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            merge_recipients(&s(&["a", "b"]), &s(&["a", "b", "c"]), &s(&["a"])),
            s(&["a", "c"])
        );
    }

    #[test]
    fn key_range_finds_nested_keys() {
        let text = "a: 1\nsmtp:\n    host: x\n    password: |\n        l1\n        l2\nz: 2\n";
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            key_range(&lines, &["smtp".into(), "password".into()]),
            Some((3, 6))
        );
        assert_eq!(key_range(&lines, &["z".into()]), Some((6, 7)));
    }
}
