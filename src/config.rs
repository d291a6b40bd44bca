//! `.sops.yaml`: creation rules (which recipients and options a new file gets), the `stores`
//! formatting options, and spx's own `spx:` section (which sops ignores).

use crate::error::{Error, Result};
use crate::keys::split_list;
use crate::metadata::{Selection, SELECTION_FIELDS};
use crate::store::EmitOptions;
use crate::tree::{Map, Value};
use regex::Regex;
use std::path::{Path, PathBuf};

pub const CONFIG_NAME: &str = ".sops.yaml";

#[derive(Clone, Debug)]
pub struct CreationRule {
    pub path_regex: Option<Regex>,
    /// Recipient strings per key group (one group unless `key_groups` is used).
    pub key_groups: Vec<Vec<String>>,
    pub shamir_threshold: Option<usize>,
    pub selection: Option<Selection>,
    pub mac_only_encrypted: bool,
    /// Index of the rule in the file (for messages).
    pub index: usize,
}

#[derive(Clone, Debug)]
pub struct Config {
    path: PathBuf,
    dir: PathBuf,
    pub rules: Vec<CreationRule>,
    pub stores: EmitOptions,
    /// The raw `spx:` section, for spx's own settings (sync targets, log path).
    pub spx: Option<Value>,
}

fn cfg_err(origin: &str, msg: impl std::fmt::Display) -> Error {
    Error::Config(format!("{origin}: {msg}"))
}

fn string_list(v: &Value, origin: &str, what: &str) -> Result<Vec<String>> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Str(s) => Ok(split_list(s)),
        Value::List(items) => {
            let mut out = Vec::new();
            for i in items {
                match i {
                    Value::Str(s) => out.extend(split_list(s)),
                    Value::Comment(_) => {}
                    other => {
                        return Err(cfg_err(
                            origin,
                            format!("{what}: expected strings, found a {}", other.type_name()),
                        ))
                    }
                }
            }
            Ok(out)
        }
        other => Err(cfg_err(
            origin,
            format!(
                "{what}: expected a string or a list, found a {}",
                other.type_name()
            ),
        )),
    }
}

fn group_from(m: &Map, origin: &str, what: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    if let Some(v) = m.get("age") {
        out.extend(string_list(v, origin, &format!("{what} age"))?);
    }
    if let Some(Value::List(merged)) = m.get("merge") {
        for g in merged {
            if let Value::Map(gm) = g {
                out.extend(group_from(gm, origin, what)?);
            }
        }
    }
    // Keys inside one key group are de-duplicated (sops does the same).
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert(r.clone()));
    Ok(out)
}

impl Config {
    /// Find `.sops.yaml` from `start` upwards (sops searches from the current directory).
    /// `SOPS_CONFIG` names the file directly.
    pub fn discover(start: &Path) -> Result<Option<Config>> {
        if let Some(p) = std::env::var_os("SOPS_CONFIG").filter(|p| !p.is_empty()) {
            return Config::load(Path::new(&p)).map(Some);
        }
        let mut dir = Some(start);
        let mut depth = 0;
        while let Some(d) = dir {
            let candidate = d.join(CONFIG_NAME);
            if candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
            depth += 1;
            if depth > 100 {
                break;
            }
            dir = d.parent();
        }
        Ok(None)
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let abs = absolute(path);
        let dir = abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let mut c = Config::parse(&text, &dir, &path.display().to_string())?;
        c.path = abs;
        Ok(c)
    }

    /// Parse config text; `dir` is the directory rules' paths are relative to.
    pub fn parse(text: &str, dir: &Path, origin: &str) -> Result<Config> {
        let docs = if text.trim().is_empty() {
            vec![Map::new()]
        } else {
            crate::store::yaml::parse(text.as_bytes(), origin)
                .map_err(|e| cfg_err(origin, format!("not valid YAML: {e}")))?
        };
        let root = docs.into_iter().next().unwrap_or_default();
        let mut rules = Vec::new();
        match root.get("creation_rules") {
            None | Some(Value::Null) => {}
            Some(Value::List(items)) => {
                for (index, item) in items
                    .iter()
                    .filter(|i| !matches!(i, Value::Comment(_)))
                    .enumerate()
                {
                    let m = item.as_map().ok_or_else(|| {
                        cfg_err(
                            origin,
                            format!("creation rule {index} is not a mapping; write it as `- path_regex: …` with `age: …` below it"),
                        )
                    })?;
                    rules.push(Self::rule(m, index, origin)?);
                }
            }
            Some(_) => return Err(cfg_err(
                    origin,
                    "creation_rules must be a list of rules, each `- path_regex: …` with `age: …` below it",
                )),
        }
        let mut stores = EmitOptions::default();
        if let Some(Value::Map(s)) = root.get("stores") {
            if let Some(Value::Map(y)) = s.get("yaml") {
                if let Some(Value::Int(i)) = y.get("indent") {
                    stores.yaml_indent = (*i).max(2) as usize;
                }
            }
            if let Some(Value::Map(j)) = s.get("json") {
                if let Some(Value::Int(i)) = j.get("indent") {
                    stores.json_indent = if *i < 0 { None } else { Some(*i as usize) };
                }
            }
        }
        Ok(Config {
            path: dir.join(CONFIG_NAME),
            dir: dir.to_path_buf(),
            rules,
            stores,
            spx: root.get("spx").cloned(),
        })
    }

    fn rule(m: &Map, index: usize, origin: &str) -> Result<CreationRule> {
        let what = format!("creation rule {index}");
        let path_regex =
            match m.get("path_regex") {
                Some(Value::Str(s)) if !s.is_empty() => Some(Regex::new(s).map_err(|e| {
                    cfg_err(origin, format!("{what}: invalid path_regex {s:?}: {e}"))
                })?),
                _ => None,
            };
        let mut key_groups = Vec::new();
        match m.get("key_groups") {
            Some(Value::List(groups)) if !groups.is_empty() => {
                for (gi, g) in groups.iter().enumerate() {
                    let gm = g.as_map().ok_or_else(|| {
                        cfg_err(origin, format!("{what}: key group {gi} is not a mapping"))
                    })?;
                    key_groups.push(group_from(gm, origin, &format!("{what} key group {gi}"))?);
                }
            }
            _ => {
                let top = match m.get("age") {
                    Some(v) => string_list(v, origin, &format!("{what} age"))?,
                    None => Vec::new(),
                };
                if !top.is_empty() {
                    key_groups.push(top);
                }
            }
        }
        let shamir_threshold = match m.get("shamir_threshold") {
            Some(Value::Int(i)) if *i > 0 => Some(*i as usize),
            Some(Value::Int(_)) | None | Some(Value::Null) => None,
            Some(_) => {
                return Err(cfg_err(
                    origin,
                    format!("{what}: shamir_threshold must be an integer"),
                ))
            }
        };
        let mut selection = None;
        for f in SELECTION_FIELDS {
            if let Some(Value::Str(s)) = m.get(f) {
                if s.is_empty() {
                    continue;
                }
                if selection.is_some() {
                    return Err(cfg_err(
                        origin,
                        format!("{what}: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule"),
                    ));
                }
                selection = Some(
                    Selection::from_field(f, s)
                        .map_err(|e| cfg_err(origin, format!("{what}: {e}")))?,
                );
            }
        }
        let mac_only_encrypted = matches!(m.get("mac_only_encrypted"), Some(Value::Bool(true)));
        Ok(CreationRule {
            path_regex,
            key_groups,
            shamir_threshold,
            selection,
            mac_only_encrypted,
            index,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path string rules are matched against: relative to the config's directory when the
    /// file is inside it, else absolute.
    pub fn match_path(&self, file: &Path) -> String {
        let abs = absolute(file);
        match abs.strip_prefix(&self.dir) {
            Ok(rel) => rel.to_string_lossy().to_string(),
            Err(_) => abs.to_string_lossy().to_string(),
        }
    }

    /// The first rule whose `path_regex` matches (or that has none).
    pub fn rule_for(&self, file: &Path) -> Option<&CreationRule> {
        let p = self.match_path(file);
        self.rules.iter().find(|r| {
            r.path_regex
                .as_ref()
                .map(|re| re.is_match(&p))
                .unwrap_or(true)
        })
    }
}

/// An absolute, lexically normalised path (no filesystem access, symlinks untouched).
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = r#"
# team rules
creation_rules:
  - path_regex: secrets/vps-.*\.sops\.yaml$
    age: age1aaa, age1bbb
    encrypted_regex: ^(password|token)$
  - path_regex: secrets/.*\.sops\.(yaml|json|env)$
    key_groups:
      - age: [age1aaa, age1aaa]
      - age:
          - age1ccc
    shamir_threshold: 2
    mac_only_encrypted: true
spx:
  sync: {}
"#;

    #[test]
    fn rules_match_first_and_parse_groups() {
        let c = Config::parse(CFG, Path::new("/repo"), ".sops.yaml").unwrap();
        let r = c
            .rule_for(Path::new("/repo/secrets/vps-i1.sops.yaml"))
            .unwrap();
        assert_eq!(r.index, 0);
        assert_eq!(
            r.key_groups,
            vec![vec!["age1aaa".to_string(), "age1bbb".into()]]
        );
        assert_eq!(r.selection.as_ref().unwrap().field(), "encrypted_regex");
        let r = c
            .rule_for(Path::new("/repo/secrets/shared.sops.yaml"))
            .unwrap();
        assert_eq!(
            r.key_groups,
            vec![vec!["age1aaa".to_string()], vec!["age1ccc".into()]]
        );
        assert_eq!(r.shamir_threshold, Some(2));
        assert!(r.mac_only_encrypted);
        assert!(c.rule_for(Path::new("/repo/other.yaml")).is_none());
        assert!(c.spx.is_some());
    }

    #[test]
    fn two_selection_options_is_an_error() {
        let e = Config::parse(
            "creation_rules:\n  - age: age1x\n    encrypted_regex: a\n    unencrypted_suffix: b\n",
            Path::new("/r"),
            ".sops.yaml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("more than one"), "{e}");
    }

    #[test]
    fn absolute_normalises() {
        assert_eq!(absolute(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
