//! `.spx-allow`: what the team has decided is not a secret.
//!
//! One entry per line; `#` starts a comment. A line of exactly 16 hex digits (optionally
//! prefixed `fingerprint:`) allows the one finding with that fingerprint (printed after each
//! finding); anything else is a path glob relative to the repository root (`tests/fixtures/**`,
//! `*.snap`), allowing every finding in matching files. A trailing `/` allows a directory.

use crate::error::{Error, Result};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::HashSet;

#[derive(Default)]
pub struct Allowlist {
    globs: Option<GlobSet>,
    fingerprints: HashSet<String>,
}

impl Allowlist {
    pub fn parse(text: &str) -> Result<Allowlist> {
        let mut builder = GlobSetBuilder::new();
        let mut any_glob = false;
        let mut fingerprints = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let entry = line.split(" #").next().unwrap_or("").trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let fp = entry.strip_prefix("fingerprint:").unwrap_or(entry).trim();
            if fp.len() == 16 && fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                fingerprints.insert(fp.to_ascii_lowercase());
                continue;
            }
            let mut pattern = entry
                .trim_start_matches("./")
                .trim_start_matches('/')
                .to_string();
            if pattern.ends_with('/') {
                pattern.push_str("**");
            }
            // A bare name (no `/`) matches at any depth, as in .gitignore.
            let patterns = if pattern.contains('/') {
                vec![pattern]
            } else {
                vec![pattern.clone(), format!("**/{pattern}")]
            };
            for p in patterns {
                let glob = GlobBuilder::new(&p)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        Error::Config(format!(".spx-allow:{}: bad glob `{entry}`: {e}", i + 1))
                    })?;
                builder.add(glob);
                any_glob = true;
            }
        }
        let globs = if any_glob {
            Some(
                builder
                    .build()
                    .map_err(|e| Error::Config(format!(".spx-allow: {e}")))?,
            )
        } else {
            None
        };
        Ok(Allowlist {
            globs,
            fingerprints,
        })
    }

    pub fn path_allowed(&self, rel_path: &str) -> bool {
        self.globs.as_ref().is_some_and(|g| g.is_match(rel_path))
    }

    pub fn fingerprint_allowed(&self, fp: &str) -> bool {
        self.fingerprints.contains(fp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_fingerprints() {
        let a = Allowlist::parse(
            "# fixtures\ntests/fixtures/**\n*.snap\ndocs/\nfingerprint:0123456789ABCDEF\nfedcba9876543210 # jwt in docs\n",
        )
        .unwrap();
        assert!(a.path_allowed("tests/fixtures/keys/id_rsa"));
        assert!(a.path_allowed("src/x.snap"));
        assert!(a.path_allowed("a.snap"));
        assert!(a.path_allowed("docs/guide.md"));
        assert!(!a.path_allowed("src/main.rs"));
        assert!(!a.path_allowed("tests/other.rs"));
        assert!(a.fingerprint_allowed("0123456789abcdef"));
        assert!(a.fingerprint_allowed("fedcba9876543210"));
        assert!(!a.fingerprint_allowed("0000000000000000"));
    }

    #[test]
    fn bad_glob_is_an_error_naming_the_line() {
        let e = Allowlist::parse("ok/**\nsrc/[z-a]\n").err().expect("error");
        assert!(e.to_string().contains(".spx-allow:2"), "{e}");
    }
}
