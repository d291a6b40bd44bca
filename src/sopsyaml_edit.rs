//! Text-level edits of `.sops.yaml` that keep everything else byte for byte (comments, order,
//! quoting, indentation): add or remove one recipient in every creation rule, and keep the
//! names of recipients in spx's own `spx: recipients:` section (sops ignores it).
//!
//! The layouts sops users write are understood: `age:` as a comma-separated string (plain,
//! quoted, or a folded `>-` block), as a block list or a flow list, in a rule or in its
//! `key_groups`, and keys named by YAML anchors in a top-level `keys:` list (`- &bob age1…`,
//! referenced as `*bob`). A key added to a block list gets a `# name` comment; in a file with
//! a `keys:` list of anchors it gets an anchor named after the person.
//!
//! Every edit is then verified by parsing both texts ([`verify`]): the new file must say exactly
//! what was meant — each rule's key groups changed by that one key, the names section changed by
//! that one name, everything else identical. An unusual layout gives an error and the caller
//! leaves the file alone; it never gives a wrong file.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::tree::{Map, MapItem, Value};
use std::path::Path;

fn indent_of(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

/// Where the trailing ` # comment` of a line starts (outside quotes), if any.
fn comment_start(l: &str) -> Option<usize> {
    let b = l.as_bytes();
    let (mut sq, mut dq) = (false, false);
    for i in 0..b.len() {
        match b[i] {
            b'\'' if !dq => sq = !sq,
            b'"' if !sq => dq = !dq,
            b'#' if !sq && !dq && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') => {
                return Some(i)
            }
            _ => {}
        }
    }
    None
}

/// The line without its trailing comment and trailing spaces.
fn content(l: &str) -> &str {
    match comment_start(l) {
        Some(i) => l[..i].trim_end(),
        None => l.trim_end(),
    }
}

/// The trailing comment with the spaces before it (kept when a line is rewritten).
fn trailing_comment(l: &str) -> &str {
    match comment_start(l) {
        Some(i) => {
            let before = l[..i].trim_end().len();
            &l[before..]
        }
        None => "",
    }
}

fn is_content(l: &str) -> bool {
    !content(l).trim().is_empty()
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Anchors defined on a single scalar in the text: `&name value` → (name, value).
pub fn anchors(text: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r"&([A-Za-z0-9_.\-]+)[ \t]+(\S[^#]*)").expect("valid regex");
    let mut out = Vec::new();
    for l in text.lines() {
        let c = content(l);
        if let Some(m) = re.captures(c) {
            let v = unquote(m[2].trim());
            if !v.is_empty() && !v.starts_with('[') && !v.starts_with('{') {
                out.push((m[1].to_string(), v.to_string()));
            }
        }
    }
    out
}

fn resolve<'a>(token: &'a str, anchors: &'a [(String, String)]) -> &'a str {
    let t = unquote(token);
    if let Some(name) = t.strip_prefix('*') {
        anchors
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or(t)
    } else {
        t
    }
}

fn alias_used(lines: &[String], name: &str) -> bool {
    let re = regex::Regex::new(&format!(r"\*{}([^A-Za-z0-9_.\-]|$)", regex::escape(name)))
        .expect("valid regex");
    lines.iter().any(|l| re.is_match(content(l)))
}

/// The line of a top-level key (`name:` at column 0, comments allowed after it).
fn top_key(lines: &[String], key: &str) -> Option<usize> {
    lines.iter().position(|l| {
        indent_of(l) == 0 && {
            let c = content(l);
            c == format!("{key}:") || c.starts_with(&format!("{key}: "))
        }
    })
}

/// The end (exclusive) of the block that starts at top-level line `start`.
fn top_block_end(lines: &[String], start: usize) -> usize {
    (start + 1..lines.len())
        .find(|&i| is_content(&lines[i]) && indent_of(&lines[i]) == 0 && !lines[i].starts_with('-'))
        .unwrap_or(lines.len())
}

/// Line ranges of each rule under `creation_rules:` (start inclusive, end exclusive).
fn rule_ranges(lines: &[String]) -> Vec<(usize, usize)> {
    let Some(cr) = top_key(lines, "creation_rules") else {
        return Vec::new();
    };
    let end = top_block_end(lines, cr);
    let Some(d) = lines[cr + 1..end]
        .iter()
        .find(|l| content(l).trim_start().starts_with("- "))
        .map(|l| indent_of(l))
    else {
        return Vec::new();
    };
    let starts: Vec<usize> = (cr + 1..end)
        .filter(|&i| indent_of(&lines[i]) == d && content(&lines[i]).trim_start().starts_with("- "))
        .collect();
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).copied().unwrap_or(end);
        // Comment lines before the next rule belong to it, not to this one.
        while e > s + 1 && !is_content(&lines[e - 1]) {
            e -= 1;
        }
        out.push((s, e));
    }
    out
}

/// Text after `- ` markers and spaces: (column where it starts, the text).
fn after_dashes(l: &str) -> (usize, &str) {
    let mut t = l.trim_start_matches(' ');
    while let Some(r) = t.strip_prefix("- ") {
        t = r.trim_start_matches(' ');
    }
    (l.len() - t.len(), t)
}

/// An `age:` key on this line: the column of `age`.
fn age_key(l: &str) -> Option<usize> {
    let (col, t) = after_dashes(l);
    let c = content(t);
    (c == "age:" || c.starts_with("age: ")).then_some(col)
}

/// What an `age:` holds, as written.
enum AgeValue {
    /// A block list: (line, item text) for each item.
    Block(Vec<(usize, String)>),
    /// `[a, b]` on the `age:` line.
    Flow,
    /// `a,b` (plain or quoted) on the `age:` line.
    Scalar,
    /// `>-` / `|` and the lines of its content.
    BlockScalar(Vec<usize>),
    /// `*alias`: edited where the anchor is.
    Alias,
    Empty,
}

/// The value after `age:` on line `i` (anchor stripped): (anchor prefix, value text).
fn inline_value(l: &str, col: usize) -> (&str, &str) {
    let rest = content(l)[col + 4..].trim_start();
    if rest.starts_with('&') {
        let end = rest.find(' ').unwrap_or(rest.len());
        (&rest[..end], rest[end..].trim_start())
    } else {
        ("", rest)
    }
}

fn age_value(lines: &[String], i: usize, col: usize, end: usize) -> AgeValue {
    let (_, v) = inline_value(&lines[i], col);
    if v.starts_with('[') {
        return AgeValue::Flow;
    }
    if v.starts_with('*') {
        return AgeValue::Alias;
    }
    if v.starts_with('>') || v.starts_with('|') {
        let mut body = Vec::new();
        for (j, l) in lines.iter().enumerate().take(end).skip(i + 1) {
            if l.trim().is_empty() {
                continue;
            }
            if indent_of(l) <= col {
                break;
            }
            body.push(j);
        }
        return AgeValue::BlockScalar(body);
    }
    if !v.is_empty() {
        return AgeValue::Scalar;
    }
    let mut items = Vec::new();
    for (j, l) in lines.iter().enumerate().take(end).skip(i + 1) {
        if !is_content(l) {
            continue;
        }
        let c = content(l);
        let t = c.trim_start();
        if indent_of(l) >= col && t.starts_with("- ") {
            items.push((j, t[2..].trim().to_string()));
        } else {
            break;
        }
    }
    if items.is_empty() {
        AgeValue::Empty
    } else {
        AgeValue::Block(items)
    }
}

/// A line and a column.
type At = (usize, usize);

/// Every `age:` line of a rule, and the first one of its first key group (or of the rule).
fn age_lines(lines: &[String], (s, e): (usize, usize)) -> (Vec<At>, Option<At>) {
    let all: Vec<(usize, usize)> = (s..e)
        .filter(|&i| is_content(&lines[i]))
        .filter_map(|i| age_key(&lines[i]).map(|c| (i, c)))
        .collect();
    let rule_col = after_dashes(&lines[s]).0;
    let kg = (s..e).find(|&i| {
        let (c, t) = after_dashes(&lines[i]);
        (i == s || indent_of(&lines[i]) == rule_col)
            && c == rule_col
            && content(t).starts_with("key_groups:")
    });
    let first = match kg {
        Some(k) => {
            // The first group starts at the first `- ` after `key_groups:`; its `age:` is the
            // first one before the second group's dash.
            let dash = (k + 1..e)
                .find(|&i| content(&lines[i]).trim_start().starts_with("- "))
                .map(|i| (i, indent_of(&lines[i])));
            dash.and_then(|(d, di)| {
                let next_group = (d + 1..e)
                    .find(|&i| {
                        indent_of(&lines[i]) == di
                            && content(&lines[i]).trim_start().starts_with("- ")
                    })
                    .unwrap_or(e);
                all.iter().copied().find(|&(i, _)| i >= d && i < next_group)
            })
        }
        None => all
            .iter()
            .copied()
            .find(|&(i, c)| c == rule_col && (i == s || indent_of(&lines[i]) == rule_col)),
    };
    (all, first)
}

fn split_items(inner: &str) -> Vec<String> {
    inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// How a file names keys: through anchors in a top-level `keys:` list, or literally.
struct AnchorList {
    /// Line after which a new `- &name key` goes, and its indentation.
    insert_after: usize,
    indent: usize,
}

fn anchor_list(lines: &[String]) -> Option<AnchorList> {
    let k = top_key(lines, "keys")?;
    let cr = top_key(lines, "creation_rules")?;
    if k > cr || content(&lines[k]) != "keys:" {
        return None;
    }
    let end = top_block_end(lines, k);
    let items: Vec<usize> = (k + 1..end)
        .filter(|&i| content(&lines[i]).trim_start().starts_with("- &"))
        .collect();
    let last = *items.last()?;
    Some(AnchorList {
        insert_after: last,
        indent: indent_of(&lines[last]),
    })
}

fn split_lines(text: &str) -> Vec<String> {
    text.split('\n').map(String::from).collect()
}

/// Add `key` (named `name`) to every creation rule that names age recipients and does not have
/// it yet: to the rule's `age:`, or to the `age:` of its first key group.
pub fn add_recipient(text: &str, key: &str, name: &str) -> Result<String> {
    let mut lines = split_lines(text);
    let ranges = rule_ranges(&lines);
    if ranges.is_empty() {
        return Err(Error::Config(
            ".sops.yaml has no creation_rules to add the recipient to; add a rule first (or run `spx init`)".into(),
        ));
    }
    let mut known = anchors(text);
    // In a file that names keys by anchors, the new key gets one too.
    let mut alias: Option<String> = known
        .iter()
        .find(|(_, v)| v == key)
        .map(|(n, _)| format!("*{n}"));
    let mut new_anchor: Option<(usize, String)> = None;
    if alias.is_none() {
        if let Some(al) = anchor_list(&lines) {
            let mut anchor = name.to_string();
            let mut n = 2;
            while known.iter().any(|(a, _)| *a == anchor) {
                anchor = format!("{name}_{n}");
                n += 1;
            }
            let line = format!("{}- &{anchor} {key}", " ".repeat(al.indent));
            known.push((anchor.clone(), key.to_string()));
            alias = Some(format!("*{anchor}"));
            new_anchor = Some((al.insert_after, line));
        }
    }
    let list_token = alias.clone().unwrap_or_else(|| key.to_string());
    // Edit from the last rule up so line numbers stay valid.
    for &(s, e) in ranges.iter().rev() {
        let (all, first) = age_lines(&lines, (s, e));
        let has = all.iter().any(|&(i, col)| {
            age_tokens(&lines, i, col, e)
                .iter()
                .any(|t| resolve(t, &known) == key)
        });
        if has {
            continue;
        }
        let Some((ai, col)) = first else { continue };
        let l = lines[ai].clone();
        match age_value(&lines, ai, col, e) {
            AgeValue::Block(items) => {
                let &(last, _) = items.last().expect("non-empty");
                let ind = indent_of(&lines[last]);
                let item = if alias.is_some() {
                    format!("{}- {list_token}", " ".repeat(ind))
                } else {
                    format!("{}- {key} # {name}", " ".repeat(ind))
                };
                lines.insert(last + 1, item);
            }
            AgeValue::Flow => {
                let (anchor, v) = inline_value(&l, col);
                let Some(inner) = v.strip_prefix('[').and_then(|x| x.strip_suffix(']')) else {
                    return Err(layout_error(ai, "a flow list over several lines"));
                };
                let inner = inner.trim();
                let new = if inner.is_empty() {
                    format!("[{list_token}]")
                } else {
                    format!("[{inner}, {list_token}]")
                };
                lines[ai] = rewrite(&l, col, anchor, &new);
            }
            AgeValue::Scalar => {
                let (anchor, v) = inline_value(&l, col);
                let (q, bare) = match v.chars().next() {
                    Some(c @ ('"' | '\'')) => (c.to_string(), unquote(v).to_string()),
                    _ => (String::new(), v.to_string()),
                };
                let sep = if bare.contains(", ") { ", " } else { "," };
                let new = format!("{q}{bare}{sep}{key}{q}");
                lines[ai] = rewrite(&l, col, anchor, &new);
            }
            AgeValue::BlockScalar(body) => {
                let Some(&last) = body.last() else {
                    return Err(layout_error(ai, "an empty block scalar"));
                };
                let ind = indent_of(&lines[last]);
                let c = content(&lines[last]).to_string();
                if !c.ends_with(',') {
                    let tc = trailing_comment(&lines[last]).to_string();
                    lines[last] = format!("{c},{tc}");
                }
                lines.insert(last + 1, format!("{}{key}", " ".repeat(ind)));
            }
            AgeValue::Alias => {
                // Edited where the anchor is defined (another rule), or refused by verify.
            }
            AgeValue::Empty => {
                return Err(layout_error(ai, "an empty `age:`"));
            }
        }
    }
    if let Some((after, line)) = new_anchor {
        lines.insert(after + 1, line);
    }
    Ok(lines.join("\n"))
}

fn rewrite(l: &str, col: usize, anchor: &str, value: &str) -> String {
    let anchor = if anchor.is_empty() {
        String::new()
    } else {
        format!("{anchor} ")
    };
    format!("{}age: {anchor}{value}{}", &l[..col], trailing_comment(l))
}

fn layout_error(line: usize, what: &str) -> Error {
    Error::Config(format!(
        ".sops.yaml line {}: {what} is not a layout spx edits; change the recipients by hand, then run `spx updatekeys`",
        line + 1
    ))
}

/// The recipient tokens (as written: keys or `*aliases`) of the `age:` on line `i`.
fn age_tokens(lines: &[String], i: usize, col: usize, end: usize) -> Vec<String> {
    let (_, v) = inline_value(&lines[i], col);
    match age_value(lines, i, col, end) {
        AgeValue::Block(items) => items.into_iter().map(|(_, t)| t).collect(),
        AgeValue::Flow => split_items(v.trim_start_matches('[').trim_end_matches(']')),
        AgeValue::Scalar => split_items(unquote(v)),
        AgeValue::BlockScalar(body) => body
            .iter()
            .flat_map(|&j| split_items(content(&lines[j])))
            .collect(),
        AgeValue::Alias => vec![v.to_string()],
        AgeValue::Empty => Vec::new(),
    }
}

/// Remove `key` from every creation rule (every key group), and the anchor that named it when
/// nothing refers to it any more.
pub fn remove_recipient(text: &str, key: &str) -> Result<String> {
    let mut lines = split_lines(text);
    let known = anchors(text);
    let is_key = |t: &str| resolve(t, &known) == key;
    for &(s, e) in rule_ranges(&lines).iter().rev() {
        let (all, _) = age_lines(&lines, (s, e));
        for &(ai, col) in all.iter().rev() {
            let l = lines[ai].clone();
            match age_value(&lines, ai, col, e) {
                AgeValue::Block(items) => {
                    for (li, t) in items.into_iter().rev() {
                        if is_key(&t) {
                            lines.remove(li);
                        }
                    }
                }
                AgeValue::Flow => {
                    let (anchor, v) = inline_value(&l, col);
                    let inner = v.trim_start_matches('[').trim_end_matches(']');
                    let kept: Vec<String> = split_items(inner)
                        .into_iter()
                        .filter(|t| !is_key(t))
                        .collect();
                    lines[ai] = rewrite(&l, col, anchor, &format!("[{}]", kept.join(", ")));
                }
                AgeValue::Scalar => {
                    let (anchor, v) = inline_value(&l, col);
                    let q = match v.chars().next() {
                        Some(c @ ('"' | '\'')) => c.to_string(),
                        _ => String::new(),
                    };
                    let bare = unquote(v);
                    let sep = if bare.contains(", ") { ", " } else { "," };
                    let kept: Vec<String> = split_items(bare)
                        .into_iter()
                        .filter(|t| !is_key(t))
                        .collect();
                    if kept.len() != split_items(bare).len() {
                        let new = format!("{q}{}{q}", kept.join(sep));
                        lines[ai] = rewrite(&l, col, anchor, &new);
                    }
                }
                AgeValue::BlockScalar(body) => {
                    let mut changed = false;
                    for &j in body.iter().rev() {
                        let c = content(&lines[j]).to_string();
                        let toks = split_items(&c);
                        if !toks.iter().any(|t| t == key) {
                            continue;
                        }
                        changed = true;
                        let kept: Vec<&String> = toks.iter().filter(|t| *t != key).collect();
                        if kept.is_empty() {
                            lines.remove(j);
                        } else {
                            let ind = indent_of(&lines[j]);
                            let tail = if c.ends_with(',') { "," } else { "" };
                            let tc = trailing_comment(&lines[j]).to_string();
                            let joined: Vec<&str> = kept.iter().map(|s| s.as_str()).collect();
                            lines[j] =
                                format!("{}{}{tail}{tc}", " ".repeat(ind), joined.join(", "));
                        }
                    }
                    if changed {
                        // No trailing comma on the last line left (sops would read an empty key).
                        if let AgeValue::BlockScalar(body) = age_value(&lines, ai, col, e) {
                            if let Some(&last) = body.last() {
                                let c = content(&lines[last]).to_string();
                                if let Some(stripped) = c.strip_suffix(',') {
                                    let tc = trailing_comment(&lines[last]).to_string();
                                    lines[last] = format!("{stripped}{tc}");
                                }
                            }
                        }
                    }
                }
                AgeValue::Alias | AgeValue::Empty => {}
            }
        }
    }
    // The anchor definition in `keys:` goes too once no alias refers to it.
    if let Some(k) = top_key(&lines, "keys") {
        let end = top_block_end(&lines, k);
        for i in (k + 1..end).rev() {
            let c = content(&lines[i]).trim_start().to_string();
            if let Some(rest) = c.strip_prefix("- &") {
                let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
                if unquote(value) == key && !alias_used(&lines, name) {
                    lines.remove(i);
                }
            }
        }
    }
    Ok(lines.join("\n"))
}

/// The indentation unit of the file (the first indented content line), 2 by default.
fn indent_unit(lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| is_content(l))
        .map(|l| indent_of(l))
        .find(|&i| i > 0)
        .unwrap_or(2)
}

/// A recipient as a YAML scalar (ssh keys hold spaces: quoted).
fn yaml_scalar(key: &str) -> String {
    if key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=._-".contains(c))
    {
        key.to_string()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The `spx:` section and its `recipients:` mapping.
struct SpxSection {
    line: usize,
    /// `recipients:` line and the end of its entries.
    recipients: Option<(usize, usize)>,
    /// Indentation of the section's keys.
    child: usize,
}

fn spx_section(lines: &[String]) -> Result<Option<SpxSection>> {
    let Some(si) = top_key(lines, "spx") else {
        return Ok(None);
    };
    if content(&lines[si]) != "spx:" {
        return Err(Error::Config(format!(
            ".sops.yaml line {}: `spx:` is written inline; make it a block mapping to let spx add names",
            si + 1
        )));
    }
    let end = top_block_end(lines, si);
    let child = (si + 1..end)
        .find(|&i| is_content(&lines[i]))
        .map(|i| indent_of(&lines[i]))
        .unwrap_or_else(|| indent_unit(lines));
    let rec = (si + 1..end).find(|&i| {
        indent_of(&lines[i]) == child
            && content(&lines[i]).starts_with(&format!("{}recipients:", " ".repeat(child)))
    });
    let rec = match rec {
        None => None,
        Some(ri) => {
            if content(&lines[ri]).trim() != "recipients:" {
                return Err(Error::Config(format!(
                    ".sops.yaml line {}: `recipients:` is written inline; make it a block mapping to let spx add names",
                    ri + 1
                )));
            }
            let rend = (ri + 1..end)
                .find(|&i| is_content(&lines[i]) && indent_of(&lines[i]) <= child)
                .unwrap_or(end);
            let mut rend = rend;
            while rend > ri + 1 && !is_content(&lines[rend - 1]) {
                rend -= 1;
            }
            Some((ri, rend))
        }
    };
    Ok(Some(SpxSection {
        line: si,
        recipients: rec,
        child,
    }))
}

/// Record `name: key` under `spx: recipients:`, creating the section if needed.
pub fn set_name(text: &str, name: &str, key: &str) -> Result<String> {
    let mut lines = split_lines(text);
    let unit = indent_unit(&lines);
    let entry = |ind: usize| format!("{}{name}: {}", " ".repeat(ind), yaml_scalar(key));
    match spx_section(&lines)? {
        None => {
            // Before the final newline, after a blank line.
            let mut at = lines.len();
            while at > 0 && lines[at - 1].trim().is_empty() {
                at -= 1;
            }
            let block = [
                String::new(),
                "# Who is who among the recipients (spx's own section; sops ignores it).".into(),
                "spx:".into(),
                format!("{}recipients:", " ".repeat(unit)),
                entry(unit * 2),
            ];
            for (k, l) in block.into_iter().enumerate() {
                lines.insert(at + k, l);
            }
        }
        Some(SpxSection {
            line: si,
            recipients: None,
            child,
        }) => {
            lines.insert(si + 1, format!("{}recipients:", " ".repeat(child)));
            lines.insert(si + 2, entry(child * 2));
        }
        Some(SpxSection {
            recipients: Some((ri, rend)),
            child,
            ..
        }) => {
            let gi = (ri + 1..rend)
                .find(|&i| is_content(&lines[i]))
                .map(|i| indent_of(&lines[i]))
                .unwrap_or(child * 2);
            let existing = (ri + 1..rend).find(|&i| {
                indent_of(&lines[i]) == gi
                    && content(&lines[i])
                        .trim_start()
                        .starts_with(&format!("{name}:"))
            });
            match existing {
                Some(ei) => {
                    let tc = trailing_comment(&lines[ei]).to_string();
                    lines[ei] = format!("{}{tc}", entry(gi));
                }
                None => lines.insert(rend, entry(gi)),
            }
        }
    }
    Ok(lines.join("\n"))
}

/// Remove `name` from `spx: recipients:` (nothing else in the file is touched).
pub fn remove_name(text: &str, name: &str) -> Result<String> {
    let mut lines = split_lines(text);
    if let Some(SpxSection {
        recipients: Some((ri, rend)),
        ..
    }) = spx_section(&lines)?
    {
        let gi = (ri + 1..rend)
            .find(|&i| is_content(&lines[i]))
            .map(|i| indent_of(&lines[i]));
        if let Some(gi) = gi {
            if let Some(i) = (ri + 1..rend).find(|&i| {
                indent_of(&lines[i]) == gi
                    && content(&lines[i])
                        .trim_start()
                        .starts_with(&format!("{name}:"))
            }) {
                lines.remove(i);
            }
        }
    }
    Ok(lines.join("\n"))
}

/// Named recipients from the config's `spx: recipients:` section.
pub fn names(config: &Config) -> Vec<(String, String)> {
    let Some(Value::Map(spx)) = &config.spx else {
        return Vec::new();
    };
    let Some(Value::Map(r)) = spx.get("recipients") else {
        return Vec::new();
    };
    r.pairs()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.to_string(), s.to_string())))
        .collect()
}

fn looks_like_recipient(s: &str) -> bool {
    s.starts_with("age1") || s.starts_with("ssh-")
}

/// Every name the file gives a recipient: `spx: recipients:` first, then anchors
/// (`&bob age1…`), then a one-word comment after a single key (`- age1… # bob`).
pub fn all_names(text: &str, config: &Config) -> Vec<(String, String)> {
    let mut out = names(config);
    let push = |out: &mut Vec<(String, String)>, n: String, k: String| {
        if !out.iter().any(|(a, b)| *a == n || *b == k) {
            out.push((n, k));
        }
    };
    for (n, k) in anchors(text) {
        if looks_like_recipient(&k) {
            push(&mut out, n, k);
        }
    }
    for l in text.lines() {
        let Some(ci) = comment_start(l) else { continue };
        let comment = l[ci + 1..].trim();
        if comment.is_empty()
            || !comment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            continue;
        }
        let (col, t) = after_dashes(l);
        let c = content(t);
        let value = if age_key(l).is_some() {
            inline_value(l, col).1.to_string()
        } else if content(l).trim_start().starts_with("- ") {
            c.to_string()
        } else {
            continue;
        };
        let toks = split_items(unquote(&value));
        if toks.len() == 1 && looks_like_recipient(unquote(&toks[0])) {
            push(&mut out, comment.to_string(), unquote(&toks[0]).to_string());
        }
    }
    out
}

/// What an edit was meant to do (for [`verify`]).
pub enum Change<'a> {
    Add { key: &'a str, name: &'a str },
    Remove { key: &'a str, name: &'a str },
}

/// The parts of a `.sops.yaml` an edit must not change: comments, every rule's `age:`, the
/// top-level `keys:` list and `spx: recipients:` removed.
fn skeleton(text: &str, origin: &str) -> Result<Map> {
    let docs = crate::store::yaml::parse(text.as_bytes(), origin)
        .map_err(|e| Error::Config(format!("{origin}: not valid YAML: {e}")))?;
    let mut root = strip_comments_map(docs.into_iter().next().unwrap_or_default());
    root.remove("keys");
    if let Some(Value::List(rules)) = root.get_mut("creation_rules") {
        for r in rules.iter_mut() {
            if let Value::Map(m) = r {
                m.remove("age");
                if let Some(Value::List(groups)) = m.get_mut("key_groups") {
                    for g in groups.iter_mut() {
                        if let Value::Map(gm) = g {
                            gm.remove("age");
                        }
                    }
                }
            }
        }
    }
    let mut drop_spx = false;
    if let Some(Value::Map(spx)) = root.get_mut("spx") {
        spx.remove("recipients");
        drop_spx = spx.is_empty();
    }
    if drop_spx {
        root.remove("spx");
    }
    Ok(root)
}

fn strip_comments_map(m: Map) -> Map {
    Map {
        items: m
            .items
            .into_iter()
            .filter_map(|i| match i {
                MapItem::Pair(k, v) => Some(MapItem::Pair(k, strip_comments(v))),
                MapItem::Comment(_) => None,
            })
            .collect(),
    }
}

fn strip_comments(v: Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(strip_comments_map(m)),
        Value::List(l) => Value::List(
            l.into_iter()
                .filter(|x| !matches!(x, Value::Comment(_)))
                .map(strip_comments)
                .collect(),
        ),
        other => other,
    }
}

fn keys_list(text: &str) -> Vec<Value> {
    let docs = crate::store::yaml::parse(text.as_bytes(), ".sops.yaml").unwrap_or_default();
    match docs.first().and_then(|d| d.get("keys")) {
        Some(Value::List(l)) => strip_comments(Value::List(l.clone())).as_list().to_vec(),
        _ => Vec::new(),
    }
}

trait AsList {
    fn as_list(&self) -> &[Value];
}
impl AsList for Value {
    fn as_list(&self) -> &[Value] {
        match self {
            Value::List(l) => l,
            _ => &[],
        }
    }
}

/// Check that `new` is `old` changed exactly as meant, and return the new configuration. A
/// removal that would leave a rule or key group with nobody is refused here too.
pub fn verify(old: &str, new: &str, dir: &Path, change: &Change) -> Result<Config> {
    let origin = ".sops.yaml";
    let before = Config::parse(old, dir, origin)?;
    let after = Config::parse(new, dir, "the edited .sops.yaml").map_err(|e| {
        Error::Config(format!(
            "the edit would make .sops.yaml invalid ({e}); the file is left unchanged: edit it by hand"
        ))
    })?;
    let unexpected = |what: String| {
        Error::Config(format!(
            "could not edit .sops.yaml automatically ({what}); the file is left unchanged: edit it by hand, then run `spx updatekeys`"
        ))
    };
    if skeleton(old, origin)? != skeleton(new, origin)? {
        return Err(unexpected(
            "the edit changed more than the recipients".into(),
        ));
    }
    let (key, name) = match change {
        Change::Add { key, name } | Change::Remove { key, name } => (*key, *name),
    };
    let other = |l: Vec<Value>| -> Vec<Value> {
        l.into_iter().filter(|v| v.as_str() != Some(key)).collect()
    };
    if other(keys_list(old)) != other(keys_list(new)) {
        return Err(unexpected("the `keys:` list changed".into()));
    }
    if before.rules.len() != after.rules.len() {
        return Err(unexpected("the number of creation rules changed".into()));
    }
    for (b, a) in before.rules.iter().zip(&after.rules) {
        let mut expected = b.key_groups.clone();
        match change {
            Change::Add { .. } => {
                if !expected.iter().flatten().any(|k| k == key) {
                    if let Some(g) = expected.first_mut() {
                        g.push(key.to_string());
                    }
                }
            }
            Change::Remove { .. } => {
                for g in expected.iter_mut() {
                    g.retain(|k| k != key);
                }
                if b.key_groups.iter().flatten().any(|k| k == key)
                    && (expected.iter().all(|g| g.is_empty())
                        || expected.iter().any(|g| g.is_empty()))
                {
                    return Err(Error::Recipient(format!(
                        "creation rule {} would be left with a key group nobody can open: {} is its only recipient there; add another recipient first",
                        b.index,
                        crate::keys::short(key)
                    )));
                }
            }
        }
        if a.key_groups != expected {
            return Err(unexpected(format!(
                "creation rule {} does not come out as expected",
                b.index
            )));
        }
    }
    let mut expected_names = names(&before);
    match change {
        Change::Add { .. } => {
            if let Some(e) = expected_names.iter_mut().find(|(n, _)| n == name) {
                e.1 = key.to_string();
            } else {
                expected_names.push((name.to_string(), key.to_string()));
            }
        }
        Change::Remove { .. } => expected_names.retain(|(n, _)| n != name),
    }
    if names(&after) != expected_names {
        return Err(unexpected(
            "the `spx: recipients:` names do not come out as expected".into(),
        ));
    }
    Ok(after)
}

/// The `.sops.yaml` text with `key` added (as `name`) everywhere, verified.
pub fn with_recipient(text: &str, dir: &Path, key: &str, name: &str) -> Result<(String, Config)> {
    let (lf, crlf) = to_lf(text);
    let new = set_name(&add_recipient(&lf, key, name)?, name, key)?;
    let c = verify(&lf, &new, dir, &Change::Add { key, name })?;
    Ok((from_lf(new, crlf), c))
}

/// Edits work on `\n` lines; a CRLF file gets CRLF back.
fn to_lf(text: &str) -> (String, bool) {
    if text.contains("\r\n") {
        (text.replace("\r\n", "\n"), true)
    } else {
        (text.to_string(), false)
    }
}

fn from_lf(text: String, crlf: bool) -> String {
    if crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

/// The `.sops.yaml` text with `key` (named `name`) removed everywhere, verified.
pub fn without_recipient(
    text: &str,
    dir: &Path,
    key: &str,
    name: &str,
) -> Result<(String, Config)> {
    let (lf, crlf) = to_lf(text);
    let new = remove_name(&remove_recipient(&lf, key)?, name)?;
    let c = verify(&lf, &new, dir, &Change::Remove { key, name })?;
    Ok((from_lf(new, crlf), c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "# team\ncreation_rules:\n  # shared\n  - path_regex: secrets/shared\\.sops\\.yaml$\n    age: age1aaa,age1bbb # alice, bob\n  - path_regex: secrets/vps\n    age:\n      - age1aaa # alice\n      - age1ccc # carol\n  - path_regex: x\n    age: [age1aaa]\n  - path_regex: groups\n    key_groups:\n      - age:\n          - age1aaa\n      - age: [age1ccc]\n    shamir_threshold: 2\n  - path_regex: folded\n    age: >-\n      age1aaa,\n      age1ccc\n";

    fn dir() -> &'static Path {
        Path::new("/r")
    }

    /// The lines of `b` that are not in `a` (and vice versa), in order.
    fn diff(a: &str, b: &str) -> (Vec<String>, Vec<String>) {
        let al: Vec<&str> = a.split('\n').collect();
        let bl: Vec<&str> = b.split('\n').collect();
        let gone = al
            .iter()
            .filter(|l| !bl.contains(l))
            .map(|s| s.to_string())
            .collect();
        let new = bl
            .iter()
            .filter(|l| !al.contains(l))
            .map(|s| s.to_string())
            .collect();
        (gone, new)
    }

    #[test]
    fn add_touches_only_the_recipient_lines() {
        let (added, c) = with_recipient(CFG, dir(), "age1new", "dave").unwrap();
        assert_eq!(
            c.rules[0].key_groups,
            vec![vec![
                "age1aaa".to_string(),
                "age1bbb".into(),
                "age1new".into()
            ]]
        );
        assert_eq!(
            c.rules[3].key_groups,
            vec![
                vec!["age1aaa".to_string(), "age1new".into()],
                vec!["age1ccc".into()]
            ]
        );
        assert_eq!(
            c.rules[4].key_groups,
            vec![vec![
                "age1aaa".to_string(),
                "age1ccc".into(),
                "age1new".into()
            ]]
        );
        let (gone, new) = diff(CFG, &added);
        assert_eq!(
            gone,
            vec![
                "    age: age1aaa,age1bbb # alice, bob",
                "    age: [age1aaa]",
                "      age1ccc"
            ]
        );
        assert!(
            new.contains(&"    age: age1aaa,age1bbb,age1new # alice, bob".to_string()),
            "{new:?}"
        );
        assert!(
            new.contains(&"      - age1new # dave".to_string()),
            "{new:?}"
        );
        assert!(
            new.contains(&"          - age1new # dave".to_string()),
            "{new:?}"
        );
        assert!(
            new.contains(&"    age: [age1aaa, age1new]".to_string()),
            "{new:?}"
        );
        assert!(new.contains(&"      age1ccc,".to_string()), "{new:?}");
        assert!(new.contains(&"    dave: age1new".to_string()), "{new:?}");
        // Adding again changes nothing but the name.
        let (again, _) = with_recipient(&added, dir(), "age1new", "dave").unwrap();
        assert_eq!(again, added);
        // And removing gives the original back, byte for byte (the names section stays).
        let (removed, c) = without_recipient(&added, dir(), "age1new", "dave").unwrap();
        assert!(c
            .rules
            .iter()
            .all(|r| !r.key_groups.iter().flatten().any(|k| k == "age1new")));
        let (gone, _) = diff(CFG, &removed);
        assert!(gone.is_empty(), "{gone:?}");
        assert!(removed.starts_with(CFG), "{removed}");
    }

    #[test]
    fn remove_from_every_layout() {
        // Every rule and group keeps someone once age1aaa is gone.
        let cfg = CFG
            .replace("age: [age1aaa]", "age: [age1aaa, age1bbb]")
            .replace(
                "          - age1aaa\n",
                "          - age1aaa\n          - age1bbb\n",
            );
        let (removed, c) = without_recipient(&cfg, dir(), "age1aaa", "alice").unwrap();
        let groups: Vec<_> = c.rules.iter().map(|r| r.key_groups.clone()).collect();
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            groups,
            vec![
                vec![g(&["age1bbb"])],
                vec![g(&["age1ccc"])],
                vec![g(&["age1bbb"])],
                vec![g(&["age1bbb"]), g(&["age1ccc"])],
                vec![g(&["age1ccc"])],
            ]
        );
        let (gone, new) = diff(&cfg, &removed);
        assert_eq!(
            gone,
            vec![
                "    age: age1aaa,age1bbb # alice, bob",
                "      - age1aaa # alice",
                "    age: [age1aaa, age1bbb]",
                "          - age1aaa",
                "      age1aaa,",
            ]
        );
        assert_eq!(
            new,
            vec!["    age: age1bbb # alice, bob", "    age: [age1bbb]"]
        );
    }

    #[test]
    fn removing_the_only_key_of_a_rule_is_refused() {
        let e = without_recipient(CFG, dir(), "age1ccc", "carol")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("creation rule 3") && e.contains("only recipient"),
            "{e}"
        );
        let one = "creation_rules:\n  - age: age1only\n";
        let e = without_recipient(one, dir(), "age1only", "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("only recipient"), "{e}");
    }

    #[test]
    fn anchors_layout_gets_an_anchor_and_aliases() {
        let cfg = "keys:\n  - &alice age1aaa\n  - &bob age1bbb\ncreation_rules:\n  - path_regex: a\n    key_groups:\n      - age:\n          - *alice\n          - *bob\n  - path_regex: b\n    age: [*alice]\n";
        let (added, c) = with_recipient(cfg, dir(), "age1new", "carol").unwrap();
        assert!(
            added.contains("  - &bob age1bbb\n  - &carol age1new\n"),
            "{added}"
        );
        assert!(
            added.contains("          - *bob\n          - *carol\n"),
            "{added}"
        );
        assert!(added.contains("    age: [*alice, *carol]"), "{added}");
        assert_eq!(
            c.rules[1].key_groups,
            vec![vec!["age1aaa".to_string(), "age1new".into()]]
        );
        let (removed, _) = without_recipient(&added, dir(), "age1bbb", "bob").unwrap();
        assert!(!removed.contains("bob"), "{removed}");
        // Names come from anchors when there is no spx section.
        let c = Config::parse(cfg, dir(), "x").unwrap();
        let n = all_names(cfg, &c);
        assert!(
            n.contains(&("bob".to_string(), "age1bbb".to_string())),
            "{n:?}"
        );
    }

    #[test]
    fn names_section_is_created_and_updated() {
        let t = set_name("creation_rules: []\n", "alice", "age1aaa").unwrap();
        assert!(
            t.ends_with("spx:\n  recipients:\n    alice: age1aaa\n"),
            "{t}"
        );
        let t = set_name(&t, "bob", "age1bbb").unwrap();
        assert!(t.contains("    alice: age1aaa\n    bob: age1bbb\n"), "{t}");
        let t = remove_name(&t, "alice").unwrap();
        assert!(!t.contains("alice") && t.contains("bob: age1bbb"));
        let t = set_name("spx:\n    log: false\n", "al", "age1aaa").unwrap();
        assert_eq!(
            t,
            "spx:\n    recipients:\n        al: age1aaa\n    log: false\n"
        );
        assert!(set_name("spx: {log: false}\n", "al", "age1aaa").is_err());
        let t = set_name("x: 1\n", "bo", "ssh-ed25519 AAAA bo@host").unwrap();
        assert!(t.contains("bo: \"ssh-ed25519 AAAA bo@host\""), "{t}");
    }

    #[test]
    fn comment_names_are_found() {
        let c = Config::parse(CFG, dir(), "x").unwrap();
        let n = all_names(CFG, &c);
        assert!(
            n.contains(&("alice".to_string(), "age1aaa".to_string())),
            "{n:?}"
        );
        assert!(
            n.contains(&("carol".to_string(), "age1ccc".to_string())),
            "{n:?}"
        );
        assert!(!n.iter().any(|(_, k)| k == "age1bbb"), "{n:?}");
    }

    #[test]
    fn a_layout_spx_does_not_understand_is_refused_not_mangled() {
        let cfg = "creation_rules:\n  - path_regex: a\n    age: [age1aaa,\n      age1bbb]\n";
        assert!(with_recipient(cfg, dir(), "age1new", "n").is_err());
        let cfg = "creation_rules:\n  - path_regex: a\n    age: *missing\n";
        assert!(with_recipient(cfg, dir(), "age1new", "n").is_err());
    }

    #[test]
    fn rules_at_column_zero_and_crlf_files() {
        let cfg = "creation_rules:\r\n- path_regex: a # first\r\n  age:\r\n  - age1aaa\r\n";
        let (added, c) = with_recipient(cfg, dir(), "age1new", "n").unwrap();
        assert_eq!(
            c.rules[0].key_groups,
            vec![vec!["age1aaa".to_string(), "age1new".into()]]
        );
        assert!(
            added.starts_with("creation_rules:\r\n- path_regex: a # first\r\n  age:\r\n  - age1aaa\r\n  - age1new # n\r\n"),
            "{added:?}"
        );
        assert!(!added.replace("\r\n", "").contains('\n'), "{added:?}");
        let (removed, _) = without_recipient(&added, dir(), "age1new", "n").unwrap();
        assert!(removed.starts_with(cfg), "{removed:?}");
    }
}
