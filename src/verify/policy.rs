//! What `.sops.yaml` tells the verifier: which paths a creation rule covers (those files must be
//! encrypted), which recipients each rule names (for drift), and which local `.env` files the
//! sync targets render (those must be ignored by git).
//!
//! The file is read through the YAML store into the format-neutral tree, so the verifier can read
//! the `.sops.yaml` blob staged in the index, not only the one on disk.

use crate::config::{Config, CreationRule};
use crate::error::Result;
use crate::tree::Value;
use std::path::Path;

/// A sync target's locally rendered env file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedEnvFile {
    pub target: String,
    /// Relative to the directory of `.sops.yaml`, `/`-separated.
    pub path: String,
}

#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// The creation rules, in order (parsed by `config`).
    pub rules: Vec<CreationRule>,
    pub derived_env_files: Vec<DerivedEnvFile>,
}

impl Policy {
    /// Parse the text of a `.sops.yaml` whose directory is `dir` (the repository root); `origin`
    /// names it in errors.
    pub fn parse(bytes: &[u8], dir: &Path, origin: &str) -> Result<Policy> {
        let text = String::from_utf8_lossy(bytes);
        let config = Config::parse(&text, dir, origin)?;
        Ok(Policy::from_config(config))
    }

    pub fn from_config(config: Config) -> Policy {
        let mut derived_env_files = Vec::new();
        let sync = config
            .spx
            .as_ref()
            .and_then(Value::as_map)
            .and_then(|s| s.get("sync"))
            .and_then(Value::as_map);
        for (target, spec) in sync.into_iter().flat_map(|s| s.pairs()) {
            let env_file = spec
                .as_map()
                .and_then(|m| m.get("env_file"))
                .and_then(Value::as_str);
            if let Some(path) = env_file.and_then(local_relative) {
                derived_env_files.push(DerivedEnvFile {
                    target: target.to_string(),
                    path,
                });
            }
        }
        Policy {
            rules: config.rules,
            derived_env_files,
        }
    }

    /// The first rule matching `rel_path` (relative to the config's directory), as sops picks it:
    /// unanchored search, a rule without `path_regex` matches everything.
    pub fn rule_for(&self, rel_path: &str) -> Option<&CreationRule> {
        self.rules
            .iter()
            .find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(rel_path)))
    }
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
}
