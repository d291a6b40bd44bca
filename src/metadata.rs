//! The `sops:` metadata block: recipients and their wrapped data key (or Shamir share),
//! `lastmodified`, the encrypted MAC, the key-selection rule and `version`. Read leniently (any
//! order, dotenv's all-string values, unknown fields), written in sops's exact field order.

use crate::error::{Error, Result};
use crate::store::Format;
use crate::tree::{Map, Value};
use regex::Regex;

pub const SOPS_VERSION: &str = "3.11.0";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgeKey {
    pub recipient: String,
    pub enc: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyGroup {
    pub age: Vec<AgeKey>,
    /// Non-age key entries (pgp, kms, …) kept verbatim so a file is not damaged by spx.
    pub other: Vec<(String, Value)>,
}

impl KeyGroup {
    pub fn recipients(&self) -> Vec<String> {
        self.age.iter().map(|k| k.recipient.clone()).collect()
    }
}

/// Which values are encrypted. At most one rule per file.
#[derive(Clone, Debug)]
pub enum Selection {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    UnencryptedCommentRegex(Regex),
    EncryptedCommentRegex(Regex),
}

pub const SELECTION_FIELDS: [&str; 6] = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

impl PartialEq for Selection {
    fn eq(&self, other: &Self) -> bool {
        self.field() == other.field() && self.text() == other.text()
    }
}

impl Selection {
    pub fn from_field(field: &str, text: &str) -> std::result::Result<Selection, String> {
        let re = || Regex::new(text).map_err(|e| format!("invalid {field} {text:?}: {e}"));
        Ok(match field {
            "unencrypted_suffix" => Selection::UnencryptedSuffix(text.into()),
            "encrypted_suffix" => Selection::EncryptedSuffix(text.into()),
            "unencrypted_regex" => Selection::UnencryptedRegex(re()?),
            "encrypted_regex" => Selection::EncryptedRegex(re()?),
            "unencrypted_comment_regex" => Selection::UnencryptedCommentRegex(re()?),
            "encrypted_comment_regex" => Selection::EncryptedCommentRegex(re()?),
            _ => return Err(format!("unknown selection option {field}")),
        })
    }

    pub fn field(&self) -> &'static str {
        match self {
            Selection::UnencryptedSuffix(_) => "unencrypted_suffix",
            Selection::EncryptedSuffix(_) => "encrypted_suffix",
            Selection::UnencryptedRegex(_) => "unencrypted_regex",
            Selection::EncryptedRegex(_) => "encrypted_regex",
            Selection::UnencryptedCommentRegex(_) => "unencrypted_comment_regex",
            Selection::EncryptedCommentRegex(_) => "encrypted_comment_regex",
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Selection::UnencryptedSuffix(s) | Selection::EncryptedSuffix(s) => s,
            Selection::UnencryptedRegex(r)
            | Selection::EncryptedRegex(r)
            | Selection::UnencryptedCommentRegex(r)
            | Selection::EncryptedCommentRegex(r) => r.as_str(),
        }
    }

    /// For the key-based rules: is a leaf at this path (mapping keys from the root) encrypted?
    /// Any path component matching applies to the whole subtree. Comment rules answer `None`.
    pub fn encrypts_path(&self, path: &[&str]) -> Option<bool> {
        Some(match self {
            Selection::UnencryptedSuffix(s) => !path.iter().any(|k| k.ends_with(s.as_str())),
            Selection::EncryptedSuffix(s) => path.iter().any(|k| k.ends_with(s.as_str())),
            Selection::UnencryptedRegex(r) => !path.iter().any(|k| r.is_match(k)),
            Selection::EncryptedRegex(r) => path.iter().any(|k| r.is_match(k)),
            _ => return None,
        })
    }

    pub fn default_rule() -> Selection {
        Selection::UnencryptedSuffix("_unencrypted".into())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Metadata {
    pub groups: Vec<KeyGroup>,
    /// Written when there are two or more groups.
    pub shamir_threshold: usize,
    /// Whether the file used the `key_groups` layout (even with one group).
    pub key_groups_layout: bool,
    pub lastmodified: String,
    pub mac: String,
    /// `None` only for binary files (no option is written) or when none was present.
    pub selection: Option<Selection>,
    pub mac_only_encrypted: bool,
    pub version: String,
}

fn field_str(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::tree::format_float_plain(*f)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Time(t) => Some(t.0.clone()),
        _ => None,
    }
}

fn bad(file: &str, msg: impl Into<String>) -> Error {
    Error::BadMetadata {
        file: file.into(),
        msg: msg.into(),
    }
}

fn age_keys(v: &Value, file: &str) -> Result<Vec<AgeKey>> {
    let mut out = Vec::new();
    match v {
        Value::List(items) => {
            for item in items {
                let m = item
                    .as_map()
                    .ok_or_else(|| bad(file, "an `age` entry is not a mapping"))?;
                let recipient = m.get("recipient").and_then(field_str).unwrap_or_default();
                let enc = m.get("enc").and_then(field_str).unwrap_or_default();
                if recipient.is_empty() {
                    return Err(bad(file, "an `age` entry has no recipient"));
                }
                out.push(AgeKey { recipient, enc });
            }
        }
        Value::Null => {}
        _ => return Err(bad(file, "`age` is not a list")),
    }
    Ok(out)
}

const OTHER_KEY_TYPES: [&str; 5] = ["kms", "gcp_kms", "azure_kv", "hc_vault", "pgp"];

fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::List(l) => !l.is_empty(),
        Value::Str(s) => !s.is_empty(),
        _ => true,
    }
}

impl Metadata {
    /// Read the metadata mapping (from any store; dotenv/INI give strings for everything).
    pub fn from_value(v: &Value, file: &str) -> Result<Metadata> {
        let m = v
            .as_map()
            .ok_or_else(|| bad(file, "`sops` is not a mapping"))?;
        let get = |k: &str| m.get(k).and_then(field_str).unwrap_or_default();

        let version = get("version");
        if !valid_semver(&version) {
            return Err(bad(
                file,
                if version.is_empty() {
                    "version is missing (sops requires MAJOR.MINOR.PATCH)".to_string()
                } else {
                    format!("version {version:?} is not MAJOR.MINOR.PATCH")
                },
            ));
        }

        let mut groups = Vec::new();
        let top_age = m
            .get("age")
            .map(|v| age_keys(v, file))
            .transpose()?
            .unwrap_or_default();
        let top_other: Vec<(String, Value)> = OTHER_KEY_TYPES
            .iter()
            .filter_map(|k| {
                m.get(k)
                    .filter(|v| non_empty(v))
                    .map(|v| (k.to_string(), v.clone()))
            })
            .collect();
        let mut key_groups_layout = false;
        if !top_age.is_empty() || !top_other.is_empty() {
            groups.push(KeyGroup {
                age: top_age,
                other: top_other,
            });
        } else if let Some(Value::List(kg)) = m.get("key_groups") {
            key_groups_layout = true;
            for g in kg {
                let gm = g
                    .as_map()
                    .ok_or_else(|| bad(file, "a key group is not a mapping"))?;
                let age = gm
                    .get("age")
                    .map(|v| age_keys(v, file))
                    .transpose()?
                    .unwrap_or_default();
                let other = OTHER_KEY_TYPES
                    .iter()
                    .filter_map(|k| {
                        gm.get(k)
                            .filter(|v| non_empty(v))
                            .map(|v| (k.to_string(), v.clone()))
                    })
                    .collect();
                groups.push(KeyGroup { age, other });
            }
        }
        if groups
            .iter()
            .all(|g| g.age.is_empty() && g.other.is_empty())
        {
            return Err(bad(
                file,
                "no keys found in file (no `age` recipients or `key_groups`)",
            ));
        }

        let shamir_threshold = match m.get("shamir_threshold").and_then(field_str) {
            Some(s) if !s.is_empty() => s
                .parse::<f64>()
                .ok()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as usize)
                .ok_or_else(|| bad(file, format!("shamir_threshold {s:?} is not a number")))?,
            _ => 0,
        };

        let lastmodified = get("lastmodified");
        if lastmodified.is_empty() {
            return Err(bad(file, "lastmodified is missing"));
        }
        mac_aad(&lastmodified).map_err(|e| bad(file, e))?;

        let mut selection = None;
        for f in SELECTION_FIELDS {
            let t = get(f);
            if !t.is_empty() {
                if selection.is_some() {
                    return Err(bad(file, "more than one key-selection option (e.g. unencrypted_suffix and encrypted_regex)"));
                }
                selection = Some(Selection::from_field(f, &t).map_err(|e| bad(file, e))?);
            }
        }
        let mac_only_encrypted = matches!(m.get("mac_only_encrypted"), Some(Value::Bool(true)))
            || matches!(
                m.get("mac_only_encrypted").and_then(field_str).as_deref(),
                Some("true") | Some("True")
            );

        Ok(Metadata {
            groups,
            shamir_threshold,
            key_groups_layout,
            lastmodified,
            mac: get("mac"),
            selection,
            mac_only_encrypted,
            version,
        })
    }

    /// The selection rule in force: the file's, else sops's default `_unencrypted` suffix.
    pub fn effective_selection(&self) -> Selection {
        self.selection
            .clone()
            .unwrap_or_else(Selection::default_rule)
    }

    pub fn recipient_groups(&self) -> Vec<Vec<String>> {
        self.groups.iter().map(KeyGroup::recipients).collect()
    }

    pub fn all_recipients(&self) -> Vec<String> {
        self.groups.iter().flat_map(|g| g.recipients()).collect()
    }

    /// The metadata mapping in sops's field order for the given store.
    pub fn to_value(&self, format: Format) -> Value {
        let mut m = Map::new();
        let multi = self.groups.len() >= 2 || self.key_groups_layout;
        if multi {
            if self.shamir_threshold > 0 {
                m.push("shamir_threshold", Value::Int(self.shamir_threshold as i64));
            }
            let groups = self
                .groups
                .iter()
                .map(|g| {
                    let mut gm = Map::new();
                    for (k, v) in &g.other {
                        if k != "hc_vault" {
                            gm.push(k.clone(), v.clone());
                        }
                    }
                    let hc = g
                        .other
                        .iter()
                        .find(|(k, _)| k == "hc_vault")
                        .map(|(_, v)| v.clone());
                    gm.push(
                        "hc_vault",
                        hc.unwrap_or(match format {
                            Format::Json | Format::Binary => Value::Null,
                            _ => Value::List(Vec::new()),
                        }),
                    );
                    gm.push("age", age_list(&g.age));
                    Value::Map(gm)
                })
                .collect();
            m.push("key_groups", Value::List(groups));
        } else if let Some(g) = self.groups.first() {
            for k in ["kms", "gcp_kms", "azure_kv", "hc_vault"] {
                if let Some((_, v)) = g.other.iter().find(|(n, _)| n == k) {
                    m.push(k, v.clone());
                }
            }
            if !g.age.is_empty() {
                m.push("age", age_list(&g.age));
            }
        }
        m.push("lastmodified", Value::Str(self.lastmodified.clone()));
        m.push("mac", Value::Str(self.mac.clone()));
        if !multi {
            if let Some(g) = self.groups.first() {
                if let Some((_, v)) = g.other.iter().find(|(n, _)| n == "pgp") {
                    m.push("pgp", v.clone());
                }
            }
        }
        if let Some(sel) = &self.selection {
            m.push(sel.field(), Value::Str(sel.text().to_string()));
        }
        if self.mac_only_encrypted {
            m.push("mac_only_encrypted", Value::Bool(true));
        }
        m.push("version", Value::Str(self.version.clone()));
        Value::Map(m)
    }
}

fn age_list(keys: &[AgeKey]) -> Value {
    Value::List(
        keys.iter()
            .map(|k| {
                let mut e = Map::new();
                e.push("recipient", Value::Str(k.recipient.clone()));
                e.push("enc", Value::Str(k.enc.clone()));
                Value::Map(e)
            })
            .collect(),
    )
}

fn valid_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The MAC's additional data: `lastmodified` parsed as RFC 3339 and re-formatted with second
/// precision (Go's `time.RFC3339`), so `…46.999Z` and `…46+00:00` both give `…46Z`.
pub fn mac_aad(lastmodified: &str) -> std::result::Result<String, String> {
    if lastmodified.as_bytes().get(10) != Some(&b'T') {
        return Err(format!(
            "lastmodified {lastmodified:?} is not an RFC 3339 time (expected YYYY-MM-DDTHH:MM:SSZ)"
        ));
    }
    let t = chrono::DateTime::parse_from_rfc3339(lastmodified)
        .map_err(|e| format!("lastmodified {lastmodified:?} is not an RFC 3339 time: {e}"))?;
    let off = t.offset().local_minus_utc();
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    if off == 0 {
        Ok(format!("{base}Z"))
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        Ok(format!(
            "{base}{sign}{:02}:{:02}",
            a / 3600,
            (a % 3600) / 60
        ))
    }
}

/// Now, as sops writes `lastmodified`: UTC, seconds, `Z`.
pub fn now_lastmodified() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("current time is representable")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_aad_reformats_like_go() {
        assert_eq!(
            mac_aad("2026-11-22T17:18:46Z").unwrap(),
            "2026-11-22T17:18:46Z"
        );
        assert_eq!(
            mac_aad("2026-11-22T17:18:46+00:00").unwrap(),
            "2026-11-22T17:18:46Z"
        );
        assert_eq!(
            mac_aad("2026-11-22T17:18:46.999Z").unwrap(),
            "2026-11-22T17:18:46Z"
        );
        assert_eq!(
            mac_aad("2026-11-22T18:18:46+01:00").unwrap(),
            "2026-11-22T18:18:46+01:00"
        );
        assert!(mac_aad("2026-11-22 17:18:46Z").is_err());
    }

    #[test]
    fn semver_check() {
        assert!(valid_semver("3.11.0"));
        assert!(valid_semver("3.11.0-rc1"));
        assert!(!valid_semver("3.11"));
        assert!(!valid_semver(""));
    }

    #[test]
    fn selection_applies_to_subtrees() {
        let s = Selection::from_field("encrypted_regex", "^(data|stringData)$").unwrap();
        assert_eq!(s.encrypts_path(&["data", "x"]), Some(true));
        assert_eq!(s.encrypts_path(&["metadata", "name"]), Some(false));
        let s = Selection::default_rule();
        assert_eq!(s.encrypts_path(&["a_unencrypted", "b"]), Some(false));
        assert_eq!(s.encrypts_path(&["a", "b"]), Some(true));
    }

    fn sample() -> Metadata {
        Metadata {
            groups: vec![KeyGroup {
                age: vec![AgeKey {
                    recipient: "age1x".into(),
                    enc:
                        "-----BEGIN AGE ENCRYPTED FILE-----\nx\n-----END AGE ENCRYPTED FILE-----\n"
                            .into(),
                }],
                other: vec![],
            }],
            shamir_threshold: 0,
            key_groups_layout: false,
            lastmodified: "2026-11-22T17:18:46Z".into(),
            mac: "ENC[x]".into(),
            selection: Some(Selection::default_rule()),
            mac_only_encrypted: false,
            version: SOPS_VERSION.into(),
        }
    }

    #[test]
    fn round_trip_and_field_order() {
        let md = sample();
        let v = md.to_value(Format::Yaml);
        let keys: Vec<&str> = v.as_map().unwrap().pairs().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "age",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        assert_eq!(Metadata::from_value(&v, "f").unwrap(), md);
    }

    #[test]
    fn key_groups_layout() {
        let mut md = sample();
        md.groups.push(md.groups[0].clone());
        md.shamir_threshold = 2;
        let v = md.to_value(Format::Yaml);
        let keys: Vec<&str> = v.as_map().unwrap().pairs().map(|(k, _)| k).collect();
        assert_eq!(keys[..2], ["shamir_threshold", "key_groups"]);
        let back = Metadata::from_value(&v, "f").unwrap();
        assert_eq!(back.groups.len(), 2);
        assert_eq!(back.shamir_threshold, 2);
    }

    #[test]
    fn rejects_missing_version_and_keys() {
        let mut m = sample().to_value(Format::Yaml);
        if let Value::Map(mm) = &mut m {
            mm.remove("version");
        }
        assert!(Metadata::from_value(&m, "f")
            .unwrap_err()
            .to_string()
            .contains("version"));
        let mut m = sample().to_value(Format::Yaml);
        if let Value::Map(mm) = &mut m {
            mm.remove("age");
        }
        assert!(Metadata::from_value(&m, "f")
            .unwrap_err()
            .to_string()
            .contains("no keys"));
    }
}
