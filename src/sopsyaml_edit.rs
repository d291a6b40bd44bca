//! Text-level edits of `.sops.yaml` that keep everything else byte for byte (comments, order,
//! quoting, indentation): add or remove one recipient in every creation rule, and keep the
//! names of recipients in spx's own `spx: recipients:` section (sops ignores it).
//!
//! Every edit is checked by re-parsing the result: if the file does not say what was meant
//! (an unusual layout), the caller gets an error and the file is left alone.

use crate::config::Config;
use crate::error::{Error, Result};
use std::path::Path;

fn indent_of(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

/// The ` # comment` at the end of a line, kept when the line is rewritten.
fn trailing_comment(l: &str) -> &str {
    l.find(" #").map(|i| &l[i..]).unwrap_or("")
}

fn is_content(l: &str) -> bool {
    let t = l.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// Line ranges of each rule under `creation_rules:` (start inclusive, end exclusive).
fn rule_ranges(lines: &[String]) -> Vec<(usize, usize)> {
    let Some(cr) = lines.iter().position(|l| l.trim_end() == "creation_rules:") else {
        return Vec::new();
    };
    let mut end = lines.len();
    for (i, l) in lines.iter().enumerate().skip(cr + 1) {
        if is_content(l) && indent_of(l) == 0 && !l.starts_with('-') {
            end = i;
            break;
        }
    }
    let dash_indent = lines[cr + 1..end]
        .iter()
        .find(|l| l.trim_start().starts_with("- "))
        .map(|l| indent_of(l));
    let Some(d) = dash_indent else {
        return Vec::new();
    };
    let starts: Vec<usize> = (cr + 1..end)
        .filter(|&i| indent_of(&lines[i]) == d && lines[i].trim_start().starts_with("- "))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| (s, starts.get(k + 1).copied().unwrap_or(end)))
        .collect()
}

/// The first `age:` line of a rule: (line index, column of `age`).
fn age_line(lines: &[String], (s, e): (usize, usize)) -> Option<(usize, usize)> {
    (s..e).find_map(|i| {
        let l = &lines[i];
        let t = l.trim_start().trim_start_matches("- ");
        if t.starts_with("age:") {
            Some((i, l.len() - t.len()))
        } else {
            None
        }
    })
}

/// Items of the block list under an `age:` line: (line index, item text).
fn block_items(lines: &[String], age_i: usize, age_col: usize, end: usize) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate().take(end).skip(age_i + 1) {
        if !is_content(l) {
            continue;
        }
        let t = l.trim_start();
        if indent_of(l) >= age_col && t.starts_with("- ") {
            let item = t[2..]
                .split(" #")
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\'']);
            out.push((i, item.to_string()));
        } else {
            break;
        }
    }
    out
}

/// Add `key` to the first `age:` of every creation rule (a rule's first key group).
pub fn add_recipient(text: &str, key: &str, name: &str) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let ranges = rule_ranges(&lines);
    if ranges.is_empty() {
        return Err(Error::Config(
            ".sops.yaml has no creation_rules to add the recipient to".into(),
        ));
    }
    // Edit from the last rule up so line numbers stay valid.
    for &(s, e) in ranges.iter().rev() {
        let Some((ai, col)) = age_line(&lines, (s, e)) else {
            continue;
        };
        let rest = lines[ai][col + 4..].trim().to_string();
        let value = rest.split(" #").next().unwrap_or("").trim().to_string();
        if value.is_empty() {
            let items = block_items(&lines, ai, col, e);
            if items.iter().any(|(_, k)| k == key) {
                continue;
            }
            let Some(&(last, _)) = items.last() else {
                return Err(Error::Config(format!(
                    ".sops.yaml line {}: an empty `age:`; add the key by hand",
                    ai + 1
                )));
            };
            let ind = indent_of(&lines[last]);
            lines.insert(last + 1, format!("{}- {key} # {name}", " ".repeat(ind)));
        } else if value.starts_with('[') && value.ends_with(']') {
            if value.contains(key) {
                continue;
            }
            let inner = value[1..value.len() - 1].trim();
            let new = if inner.is_empty() {
                format!("[{key}]")
            } else {
                format!("[{inner}, {key}]")
            };
            let tc = trailing_comment(&lines[ai]).to_string();
            lines[ai] = format!("{}age: {new}{tc}", &lines[ai][..col]);
        } else {
            let (q, bare) = match value.chars().next() {
                Some(c @ ('"' | '\'')) => (Some(c), value.trim_matches(c).to_string()),
                _ => (None, value.clone()),
            };
            if crate::keys::split_list(&bare).iter().any(|k| k == key) {
                continue;
            }
            let joined = format!("{bare},{key}");
            let v = match q {
                Some(c) => format!("{c}{joined}{c}"),
                None => joined,
            };
            let tc = trailing_comment(&lines[ai]).to_string();
            lines[ai] = format!("{}age: {v}{tc}", &lines[ai][..col]);
        }
    }
    Ok(finish(text, lines))
}

/// Remove `key` from every creation rule.
pub fn remove_recipient(text: &str, key: &str) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for &(s, e) in rule_ranges(&lines).iter().rev() {
        // Every `age:` of the rule (all key groups).
        let mut i = s;
        while i < e.min(lines.len()) {
            let l = lines[i].clone();
            let t = l.trim_start().trim_start_matches("- ");
            if !t.starts_with("age:") {
                i += 1;
                continue;
            }
            let col = l.len() - t.len();
            let value = l[col + 4..]
                .split(" #")
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if value.is_empty() {
                for (li, k) in block_items(&lines, i, col, e).into_iter().rev() {
                    if k == key {
                        lines.remove(li);
                    }
                }
            } else {
                let (open, close, inner) = if value.starts_with('[') && value.ends_with(']') {
                    ("[", "]", value[1..value.len() - 1].to_string())
                } else if let Some(c @ ('"' | '\'')) = value.chars().next() {
                    let q = if c == '"' { "\"" } else { "'" };
                    (q, q, value.trim_matches(c).to_string())
                } else {
                    ("", "", value.clone())
                };
                let kept: Vec<String> = crate::keys::split_list(&inner)
                    .into_iter()
                    .filter(|k| k != key)
                    .collect();
                let sep = if open == "[" { ", " } else { "," };
                lines[i] = format!(
                    "{}age: {open}{}{close}{}",
                    &l[..col],
                    kept.join(sep),
                    trailing_comment(&l)
                );
            }
            i += 1;
        }
    }
    Ok(finish(text, lines))
}

/// Record `name: key` under `spx: recipients:`, creating the section if needed.
pub fn set_name(text: &str, name: &str, key: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let spx = lines.iter().position(|l| l.trim_end() == "spx:");
    match spx {
        None => {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push(
                "# Who is who among the recipients (spx's own section; sops ignores it).".into(),
            );
            lines.push("spx:".into());
            lines.push("    recipients:".into());
            lines.push(format!("        {name}: {key}"));
        }
        Some(si) => {
            let end = (si + 1..lines.len())
                .find(|&i| is_content(&lines[i]) && indent_of(&lines[i]) == 0)
                .unwrap_or(lines.len());
            let child = (si + 1..end)
                .find(|&i| is_content(&lines[i]))
                .map(|i| indent_of(&lines[i]))
                .unwrap_or(4);
            let rec = (si + 1..end)
                .find(|&i| lines[i].trim_end() == format!("{}recipients:", " ".repeat(child)));
            match rec {
                Some(ri) => {
                    let gend = (ri + 1..end)
                        .find(|&i| is_content(&lines[i]) && indent_of(&lines[i]) <= child)
                        .unwrap_or(end);
                    let gi = (ri + 1..gend)
                        .find(|&i| is_content(&lines[i]))
                        .map(|i| indent_of(&lines[i]))
                        .unwrap_or(child * 2);
                    let existing = (ri + 1..gend)
                        .find(|&i| lines[i].trim_start().starts_with(&format!("{name}:")));
                    match existing {
                        Some(ei) => lines[ei] = format!("{}{name}: {key}", " ".repeat(gi)),
                        None => lines.insert(gend, format!("{}{name}: {key}", " ".repeat(gi))),
                    }
                }
                None => {
                    lines.insert(si + 1, format!("{}recipients:", " ".repeat(child)));
                    lines.insert(si + 2, format!("{}{name}: {key}", " ".repeat(child * 2)));
                }
            }
        }
    }
    finish(text, lines)
}

/// Remove `name` from `spx: recipients:`.
pub fn remove_name(text: &str, name: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !(indent_of(l) > 0 && l.trim_start().starts_with(&format!("{name}: age1"))))
        .map(String::from)
        .collect();
    finish(text, lines)
}

/// Named recipients from the config's `spx: recipients:` section.
pub fn names(config: &Config) -> Vec<(String, String)> {
    let Some(crate::tree::Value::Map(spx)) = &config.spx else {
        return Vec::new();
    };
    let Some(crate::tree::Value::Map(r)) = spx.get("recipients") else {
        return Vec::new();
    };
    r.pairs()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.to_string(), s.to_string())))
        .collect()
}

fn finish(original: &str, lines: Vec<String>) -> String {
    let mut s = lines.join("\n");
    if original.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Parse edited text and check every rule does (or does not) name `key`.
pub fn check(text: &str, dir: &Path, key: &str, present: bool) -> Result<Config> {
    let c = Config::parse(text, dir, ".sops.yaml (edited)")?;
    for r in &c.rules {
        let has = r.key_groups.iter().flatten().any(|k| k == key);
        if has != present || r.key_groups.is_empty() || r.key_groups.iter().any(|g| g.is_empty()) {
            return Err(Error::Config(format!(
                "could not {} the key in creation rule {} of .sops.yaml automatically (unusual layout, or the rule would be left with no recipient); edit it by hand",
                if present { "add" } else { "remove" },
                r.index
            )));
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "# team\ncreation_rules:\n  # shared\n  - path_regex: secrets/shared\\.sops\\.yaml$\n    age: age1aaa,age1bbb # alice, bob\n  - path_regex: secrets/vps\n    age:\n      - age1aaa\n      - age1ccc\n  - path_regex: x\n    age: [age1aaa]\n  - path_regex: groups\n    key_groups:\n      - age:\n          - age1aaa\n      - age: [age1ccc]\n    shamir_threshold: 2\n";

    #[test]
    fn add_and_remove_keep_the_rest_of_the_file() {
        let added = add_recipient(CFG, "age1new", "carol").unwrap();
        let c = check(&added, Path::new("/r"), "age1new", true).unwrap();
        assert_eq!(
            c.rules[3].key_groups[0],
            vec!["age1aaa".to_string(), "age1new".into()]
        );
        assert_eq!(c.rules[3].key_groups[1], vec!["age1ccc".to_string()]);
        assert!(added.starts_with("# team\ncreation_rules:\n  # shared\n"));
        assert!(added.contains("# alice, bob") || added.contains("age1bbb,age1new"));
        let removed = remove_recipient(&added, "age1new").unwrap();
        check(&removed, Path::new("/r"), "age1new", false).unwrap();
        let removed = remove_recipient(CFG, "age1bbb").unwrap();
        let c = check(&removed, Path::new("/r"), "age1bbb", false).unwrap();
        assert_eq!(c.rules[0].key_groups[0], vec!["age1aaa".to_string()]);
    }

    #[test]
    fn removing_the_only_key_of_a_rule_is_refused_by_check() {
        let removed = remove_recipient(CFG, "age1ccc").unwrap();
        assert!(check(&removed, Path::new("/r"), "age1ccc", false).is_err());
    }

    #[test]
    fn names_section_is_created_and_updated() {
        let t = set_name("creation_rules: []\n", "alice", "age1aaa");
        assert!(t.contains("spx:\n    recipients:\n        alice: age1aaa\n"));
        let t = set_name(&t, "bob", "age1bbb");
        assert!(
            t.contains("        alice: age1aaa\n        bob: age1bbb\n"),
            "{t}"
        );
        let t = remove_name(&t, "alice");
        assert!(!t.contains("alice") && t.contains("bob: age1bbb"));
    }
}
