//! What `.sops.yaml` tells the verifier: which paths a creation rule covers (those files must be
//! encrypted), which recipients each rule names (for drift), and which local `.env` files the
//! sync targets render (those must be ignored by git).
//!
//! The file is read through the YAML store into the format-neutral tree, so the verifier can read
//! the `.sops.yaml` blob staged in the index, not only the one on disk.

use crate::error::{Error, Result};
use crate::store::{self, Format};
use crate::tree::{Map, Value};
use regex::Regex;

/// One creation rule, as far as the verifier needs it.
#[derive(Clone, Debug)]
pub struct PolicyRule {
    /// `None` when the rule has no (or an empty) `path_regex`: it matches every file.
    pub path_regex: Option<Regex>,
    /// age recipients per key group (one group when the rule uses top-level `age`).
    pub key_groups: Vec<Vec<String>>,
}

/// A sync target's locally rendered env file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedEnvFile {
    pub target: String,
    /// Relative to the directory of `.sops.yaml`, `/`-separated.
    pub path: String,
}

#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub rules: Vec<PolicyRule>,
    pub derived_env_files: Vec<DerivedEnvFile>,
}

impl Policy {
    /// Parse the text of a `.sops.yaml`. `origin` names it in errors (`.sops.yaml`, `:0:.sops.yaml`).
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Policy> {
        let docs = store::load_plain(Format::Yaml, bytes, origin)?;
        let Some(doc) = docs.first() else {
            return Ok(Policy::default());
        };
        let mut policy = Policy::default();
        if let Some(Value::List(rules)) = doc.get("creation_rules") {
            for (i, rule) in rules.iter().enumerate() {
                let Some(rule) = rule.as_map() else {
                    return Err(Error::Config(format!(
                        "{origin}: creation_rules[{i}] is not a mapping"
                    )));
                };
                policy.rules.push(parse_rule(rule, origin, i)?);
            }
        }
        if let Some(Value::Map(sync)) = doc
            .get("spx")
            .and_then(Value::as_map)
            .and_then(|s| s.get("sync"))
        {
            for (target, spec) in sync.pairs() {
                let Some(env_file) = spec
                    .as_map()
                    .and_then(|m| m.get("env_file"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                if let Some(path) = local_relative(env_file) {
                    policy.derived_env_files.push(DerivedEnvFile {
                        target: target.to_string(),
                        path,
                    });
                }
            }
        }
        Ok(policy)
    }

    /// The first rule matching `rel_path` (relative to the config's directory), as sops picks it.
    pub fn rule_for(&self, rel_path: &str) -> Option<&PolicyRule> {
        self.rules
            .iter()
            .find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(rel_path)))
    }
}

fn parse_rule(rule: &Map, origin: &str, i: usize) -> Result<PolicyRule> {
    let path_regex = match rule.get("path_regex") {
        Some(Value::Str(s)) if !s.is_empty() => Some(Regex::new(s).map_err(|e| {
            Error::Config(format!(
                "{origin}: creation_rules[{i}].path_regex does not compile: {e}"
            ))
        })?),
        _ => None,
    };
    let mut key_groups = Vec::new();
    if let Some(Value::List(groups)) = rule.get("key_groups") {
        for g in groups {
            if let Some(g) = g.as_map() {
                let mut out = Vec::new();
                group_recipients(g, &mut out);
                dedup(&mut out);
                key_groups.push(out);
            }
        }
    }
    if key_groups.iter().all(Vec::is_empty) {
        key_groups.clear();
        let mut out = Vec::new();
        if let Some(v) = rule.get("age") {
            recipients_of(v, &mut out);
        }
        if !out.is_empty() {
            key_groups.push(out);
        }
    }
    Ok(PolicyRule {
        path_regex,
        key_groups,
    })
}

fn group_recipients(group: &Map, out: &mut Vec<String>) {
    if let Some(v) = group.get("age") {
        recipients_of(v, out);
    }
    if let Some(Value::List(merged)) = group.get("merge") {
        for m in merged {
            if let Some(m) = m.as_map() {
                group_recipients(m, out);
            }
        }
    }
}

/// `age: "a, b"` or `age: [a, "b,c"]`: comma lists split and trimmed, empties skipped.
fn recipients_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Str(s) => out.extend(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        ),
        Value::List(items) => items.iter().for_each(|i| recipients_of(i, out)),
        _ => {}
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

/// A local, relative path (`monitoring/.env`, `./.env.local`), normalised; `None` for absolute
/// paths (remote files on a host) and anything leaving the directory.
fn local_relative(p: &str) -> Option<String> {
    if p.starts_with('/') || p.starts_with('~') || p.contains("://") || p.contains(':') {
        return None;
    }
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_only() {
        assert_eq!(
            local_relative("./monitoring/.env").as_deref(),
            Some("monitoring/.env")
        );
        assert_eq!(local_relative("/opt/monitoring/.env"), None);
        assert_eq!(local_relative("../x/.env"), None);
        assert_eq!(local_relative("host:/x/.env"), None);
    }

    #[test]
    fn rule_recipients_from_tree() {
        let mut rule = Map::new();
        rule.push("path_regex", Value::str(r"^secrets/.*\.yaml$"));
        rule.push("age", Value::str("age1aaa, age1bbb,"));
        let r = parse_rule(&rule, ".sops.yaml", 0).unwrap();
        assert_eq!(
            r.key_groups,
            vec![vec!["age1aaa".to_string(), "age1bbb".to_string()]]
        );

        let mut g1 = Map::new();
        g1.push(
            "age",
            Value::List(vec![Value::str("age1x"), Value::str("age1x,age1y")]),
        );
        let mut inner = Map::new();
        inner.push("age", Value::str("age1z"));
        g1.push("merge", Value::List(vec![Value::Map(inner)]));
        let mut rule = Map::new();
        rule.push("key_groups", Value::List(vec![Value::Map(g1)]));
        rule.push("age", Value::str("age1ignored"));
        let r = parse_rule(&rule, ".sops.yaml", 0).unwrap();
        assert!(r.path_regex.is_none());
        assert_eq!(
            r.key_groups,
            vec![vec!["age1x".to_string(), "age1y".into(), "age1z".into()]]
        );
    }
}
