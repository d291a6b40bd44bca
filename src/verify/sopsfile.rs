//! Rules 1 and 3: files that must be encrypted are complete sops files, and a sops file's
//! recipients are the ones its creation rule names now.
//!
//! A file must be encrypted when a `.sops.yaml` creation rule with a `path_regex` matches it, when
//! it sits in a `secrets/` directory, or when it is named like a dotenv file (`.env`,
//! `.env.production`, `prod.env`). Templates (`.env.example`, `*.sample`, `*.template`) are
//! exempt as long as their values are empty or placeholders.

use super::patterns;
use super::policy::Policy;
use super::RawFinding;
use crate::metadata::{Metadata, Selection};
use crate::store::{self, Format};
use crate::tree::{Document, Map, MapItem, Value};
use std::path::Path;

/// Why a file must be a sops file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    CreationRule,
    SecretsDir,
    EnvFile,
}

impl Reason {
    fn text(self) -> &'static str {
        match self {
            Reason::CreationRule => "a .sops.yaml creation rule matches it",
            Reason::SecretsDir => "it is under secrets/",
            Reason::EnvFile => "it is named like a .env file",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// No rule about encryption (still scanned for secret formats).
    Free,
    /// A template of a secret file: values must be empty or placeholders.
    Template,
    MustBeEncrypted(Reason),
}

const CODE_OR_DOC_EXT: &[&str] = &[
    "rs", "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "java", "kt", "rb", "php", "c", "h",
    "cc", "cpp", "hpp", "cs", "swift", "md", "rst", "adoc", "html", "css", "scss", "svg", "png",
    "jpg", "gif",
];

/// Which rule applies to a repository-relative, `/`-separated path.
pub fn classify(rel_path: &str, policy: Option<&Policy>) -> Requirement {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    if matches!(
        name,
        ".sops.yaml" | ".spx-allow" | ".gitignore" | ".gitkeep" | ".keep" | ".gitattributes"
    ) {
        return Requirement::Free;
    }
    let components: Vec<&str> = name.split('.').collect();
    let ext = if components.len() > 1 {
        components.last().copied()
    } else {
        None
    };
    let reason = if policy
        .and_then(|p| p.rule_for(rel_path))
        .is_some_and(|r| r.path_regex.is_some())
    {
        Some(Reason::CreationRule)
    } else if rel_path.split('/').rev().skip(1).any(|d| d == "secrets")
        && !ext.is_some_and(|e| CODE_OR_DOC_EXT.contains(&e.to_ascii_lowercase().as_str()))
    {
        Some(Reason::SecretsDir)
    } else if is_env_name(&components) {
        Some(Reason::EnvFile)
    } else {
        None
    };
    match reason {
        None => Requirement::Free,
        Some(_) if is_template_name(&components) => Requirement::Template,
        Some(r) => Requirement::MustBeEncrypted(r),
    }
}

/// `.env`, `.env.production`, `prod.env`, `app.env.local`: a dot-separated component `env` that
/// is not the first word of an ordinary name (`env.d.ts` is TypeScript, not a dotenv file).
fn is_env_name(components: &[&str]) -> bool {
    components
        .iter()
        .enumerate()
        .any(|(i, c)| c.eq_ignore_ascii_case("env") && (i > 0))
}

fn is_template_name(components: &[&str]) -> bool {
    components.iter().skip(1).any(|c| {
        matches!(
            c.to_ascii_lowercase().as_str(),
            "example" | "sample" | "template" | "tmpl" | "tpl" | "dist"
        )
    })
}

/// A parsed sops file: its documents without metadata, and the metadata (or why it is invalid).
pub struct SopsFile {
    pub format: Format,
    pub docs: Vec<Document>,
    pub metadata: std::result::Result<Metadata, String>,
}

impl SopsFile {
    /// Read a metadata mapping the way every spx command does.
    pub fn new(format: Format, docs: Vec<Document>, metadata: &Value, file: &str) -> SopsFile {
        let metadata = Metadata::from_value(metadata, file).map_err(|e| match e {
            crate::error::Error::BadMetadata { msg, .. } => msg,
            other => other.to_string(),
        });
        SopsFile {
            format,
            docs,
            metadata,
        }
    }
}

/// Parse `bytes` as a sops file: in the store its name implies, then in the one its content
/// suggests (a `.env.production` encrypted by sops is a binary-store JSON file; one encrypted with
/// `--input-type dotenv` is a dotenv file). `None` when no store finds sops metadata.
pub fn parse_sops(rel_path: &str, bytes: &[u8]) -> Option<SopsFile> {
    let by_name = Format::from_path(Path::new(rel_path));
    let text = std::str::from_utf8(bytes).ok()?;
    let mut formats = vec![by_name];
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        formats.push(Format::Json);
    }
    if text.lines().any(|l| l.starts_with("sops_")) {
        formats.push(Format::Dotenv);
    }
    if text.lines().any(|l| l.starts_with("sops:")) {
        formats.push(Format::Yaml);
    }
    if text.lines().any(|l| l.trim() == "[sops]") {
        formats.push(Format::Ini);
    }
    formats.dedup();
    for format in formats {
        let Ok(mut docs) = store::load_encrypted(format, bytes, rel_path) else {
            continue;
        };
        if let Some(metadata @ Value::Map(_)) = store::split_metadata(format, &mut docs) {
            return Some(SopsFile::new(format, docs, &metadata, rel_path));
        }
    }
    None
}

/// Rule 1 for a file that must be encrypted.
pub fn check_must_be_encrypted(
    rel_path: &str,
    text: &str,
    bytes: &[u8],
    reason: Reason,
) -> Vec<RawFinding> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let parsed = if super::looks_like_sops(text) {
        parse_sops(rel_path, bytes)
    } else {
        None
    };
    let Some(file) = parsed else {
        let line = first_content_line(text);
        return vec![RawFinding {
            line,
            rule: "sops-not-encrypted",
            message: format!(
                "must be sops-encrypted ({}) but has no sops metadata; encrypt it with `spx encrypt -i {rel_path}`",
                reason.text()
            ),
            secret: None,
        }];
    };
    check_complete(rel_path, text, &file)
}

/// A sops file's metadata has recipients and a MAC, and every value its selection rule says is
/// encrypted is an `ENC[…]` value.
pub fn check_complete(rel_path: &str, text: &str, file: &SopsFile) -> Vec<RawFinding> {
    let mut out = Vec::new();
    let meta_line = text
        .lines()
        .position(|l| l.starts_with("sops:") || l.starts_with("sops_") || l.contains("\"sops\""))
        .map_or(1, |i| i + 1);
    let meta = match &file.metadata {
        Ok(m) => m,
        Err(msg) => {
            out.push(RawFinding {
                line: meta_line,
                rule: "sops-incomplete",
                message: format!("invalid sops metadata, spx and sops cannot load it: {msg}"),
                secret: None,
            });
            return out;
        }
    };
    if meta.mac.trim().is_empty() {
        out.push(RawFinding {
            line: meta_line,
            rule: "sops-incomplete",
            message:
                "sops metadata has no MAC: the file was not written by sops/spx or was truncated"
                    .into(),
            secret: None,
        });
    }
    let effective = meta.effective_selection();
    let selection = if file.format == Format::Binary {
        Sel::All
    } else {
        Sel::Meta(&effective)
    };
    let mut plain = Vec::new();
    for doc in &file.docs {
        let mut w = Walker {
            selection: &selection,
            path: Vec::new(),
            out: &mut plain,
        };
        w.map(doc, &[]);
    }
    let mut cursor = 0;
    for (path, value) in plain {
        let key = path.last().cloned().unwrap_or_default();
        let (line, next) = line_of_key(text, &key, cursor);
        cursor = next;
        out.push(RawFinding {
            line,
            rule: "sops-plaintext-value",
            message: format!(
                "`{}` is in plaintext in a sops file{}; its selection rule says it must be encrypted; re-encrypt it with `spx edit {rel_path}`",
                path.join("."),
                value.as_deref().map(|_| "").unwrap_or(" (non-string value)")
            ),
            secret: value,
        });
    }
    out
}

/// Rule 3: the file's recipients against its creation rule's. `None` when they agree or the
/// rule names no age recipients.
pub fn check_drift(
    rel_path: &str,
    text: &str,
    file: &SopsFile,
    policy: &Policy,
) -> Option<RawFinding> {
    let rule = policy.rule_for(rel_path)?;
    if rule.key_groups.iter().all(Vec::is_empty) {
        return None;
    }
    let norm = |groups: &[Vec<String>]| {
        let mut g: Vec<Vec<String>> = groups
            .iter()
            .map(|g| {
                let mut g = g.clone();
                g.sort();
                g.dedup();
                g
            })
            .filter(|g| !g.is_empty())
            .collect();
        g.sort();
        g
    };
    let want = norm(&rule.key_groups);
    let have = norm(&file.metadata.as_ref().ok()?.recipient_groups());
    if want == have {
        return None;
    }
    let want_all: std::collections::BTreeSet<&String> = want.iter().flatten().collect();
    let have_all: std::collections::BTreeSet<&String> = have.iter().flatten().collect();
    let short = |r: &&String| {
        let r = r.as_str();
        if r.chars().count() > 16 {
            format!("{}…", r.chars().take(16).collect::<String>())
        } else {
            r.to_string()
        }
    };
    let missing: Vec<String> = want_all.difference(&have_all).map(short).collect();
    let extra: Vec<String> = have_all.difference(&want_all).map(short).collect();
    let mut detail = Vec::new();
    if !missing.is_empty() {
        detail.push(format!("missing {}", missing.join(", ")));
    }
    if !extra.is_empty() {
        detail.push(format!("not in the rule {}", extra.join(", ")));
    }
    if detail.is_empty() {
        detail.push(format!(
            "key groups differ ({} in the file, {} in the rule)",
            have.len(),
            want.len()
        ));
    }
    let line = text
        .lines()
        .position(|l| l.starts_with("sops:") || l.starts_with("sops_") || l.contains("\"sops\""))
        .map_or(1, |i| i + 1);
    Some(RawFinding {
        line,
        rule: "recipient-drift",
        message: format!(
            "recipients differ from the .sops.yaml creation rule: {}; run `spx updatekeys {rel_path}`",
            detail.join("; ")
        ),
        secret: None,
    })
}

/// Rule 1 for templates: each value under a secret-like name is empty or a placeholder, and no
/// value looks like a secret.
pub fn check_template(text: &str) -> Vec<RawFinding> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') || l.starts_with("//") {
            continue;
        }
        let l = l.strip_prefix("export ").unwrap_or(l);
        let Some(idx) = l.find(['=', ':']) else {
            continue;
        };
        let name = l[..idx].trim().trim_matches(['"', '\'']);
        let mut value = l[idx + 1..].trim();
        if let Some(p) = value.find(" #") {
            value = value[..p].trim_end();
        }
        let value = value.trim_end_matches(',').trim_matches(['"', '\'']);
        if value.is_empty() || patterns::is_placeholder(value) {
            continue;
        }
        if patterns::secret_name(name) {
            out.push(RawFinding {
                line: i + 1,
                rule: "template-value",
                message: format!(
                    "template gives `{name}` a value that is not empty or an obvious placeholder (changeme, <…>, ${{VAR}})"
                ),
                secret: Some(value.to_string()),
            });
        }
    }
    out
}

/// Which values a sops file's metadata says are encrypted.
enum Sel<'a> {
    /// The binary store: its one value is always encrypted.
    All,
    Meta(&'a Selection),
}

impl Sel<'_> {
    fn encrypted(&self, path: &[String], comments: &[&str]) -> bool {
        let Sel::Meta(sel) = self else { return true };
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        if let Some(b) = sel.encrypts_path(&keys) {
            return b;
        }
        match sel {
            Selection::UnencryptedCommentRegex(r) => !comments.iter().any(|c| r.is_match(c)),
            Selection::EncryptedCommentRegex(r) => comments.iter().any(|c| r.is_match(c)),
            _ => true,
        }
    }
}

struct Walker<'a> {
    selection: &'a Sel<'a>,
    path: Vec<String>,
    /// (key path, the plaintext string or `None` for a non-string scalar)
    out: &'a mut Vec<(Vec<String>, Option<String>)>,
}

impl Walker<'_> {
    fn map(&mut self, m: &Map, inherited: &[&str]) {
        let mut active: Vec<&str> = inherited.to_vec();
        let base = inherited.len();
        for item in &m.items {
            match item {
                MapItem::Comment(c) => active.push(c),
                MapItem::Pair(k, v) => {
                    self.path.push(k.clone());
                    self.value(v, &active);
                    self.path.pop();
                    active.truncate(base);
                }
            }
        }
    }

    fn value(&mut self, v: &Value, comments: &[&str]) {
        match v {
            Value::Map(m) => self.map(m, comments),
            Value::List(items) => {
                let mut active: Vec<&str> = comments.to_vec();
                let base = comments.len();
                for item in items {
                    if let Value::Comment(c) = item {
                        active.push(c);
                        continue;
                    }
                    self.value(item, &active);
                    active.truncate(base);
                }
            }
            Value::Comment(_) | Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            Value::Str(s) if is_enc(s) => {}
            other => {
                if self.selection.encrypted(&self.path, comments) {
                    let plain = match other {
                        Value::Str(s) => Some(s.clone()),
                        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                        _ => None,
                    };
                    self.out.push((self.path.clone(), plain));
                }
            }
        }
    }
}

fn is_enc(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,") && s.ends_with(']')
}

fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && t != "---"
        })
        .map_or(1, |i| i + 1)
}

/// The 1-based line where `key` is defined, searching from line index `from`; and the index to
/// continue from.
fn line_of_key(text: &str, key: &str, from: usize) -> (usize, usize) {
    let find = |start: usize| {
        text.lines().enumerate().skip(start).find_map(|(i, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            let rest = t.strip_prefix(key).or_else(|| {
                t.strip_prefix('"')
                    .and_then(|t| t.strip_prefix(key))
                    .and_then(|t| t.strip_prefix('"'))
            })?;
            let rest = rest.trim_start();
            (rest.starts_with(':') || rest.starts_with('=')).then_some(i)
        })
    };
    match find(from).or_else(|| find(0)) {
        Some(i) => (i + 1, i + 1),
        None => (1, from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CreationRule;

    fn meta() -> Map {
        let mut entry = Map::new();
        entry.push("recipient", Value::str("age1abc"));
        entry.push("enc", Value::str("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        let mut m = Map::new();
        m.push("age", Value::List(vec![Value::Map(entry)]));
        m.push("lastmodified", Value::str("2025-01-01T00:00:00Z"));
        m.push(
            "mac",
            Value::str("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"),
        );
        m.push("unencrypted_suffix", Value::str("_unencrypted"));
        m.push("version", Value::str("3.11.0"));
        m
    }

    const ENC: &str = "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]";

    fn file(doc: Map, meta: Map) -> SopsFile {
        SopsFile::new(Format::Yaml, vec![doc], &Value::Map(meta), "s.yaml")
    }

    fn rule(path_regex: Option<&str>, key_groups: Vec<Vec<String>>) -> CreationRule {
        CreationRule {
            path_regex: path_regex.map(|r| regex::Regex::new(r).unwrap()),
            key_groups,
            shamir_threshold: None,
            selection: None,
            mac_only_encrypted: false,
            index: 0,
        }
    }

    #[test]
    fn classify_paths() {
        use Requirement::*;
        assert_eq!(
            classify("secrets/plain.yaml", None),
            MustBeEncrypted(Reason::SecretsDir)
        );
        assert_eq!(
            classify("a/secrets/x", None),
            MustBeEncrypted(Reason::SecretsDir)
        );
        assert_eq!(classify("src/secrets/mod.rs", None), Free);
        assert_eq!(classify("secrets/README.md", None), Free);
        assert_eq!(classify(".env", None), MustBeEncrypted(Reason::EnvFile));
        assert_eq!(
            classify("monitoring/.env", None),
            MustBeEncrypted(Reason::EnvFile)
        );
        assert_eq!(
            classify(".env.production", None),
            MustBeEncrypted(Reason::EnvFile)
        );
        assert_eq!(classify("prod.env", None), MustBeEncrypted(Reason::EnvFile));
        assert_eq!(classify(".env.example", None), Template);
        assert_eq!(classify("secrets/db.sample.yaml", None), Template);
        assert_eq!(classify("src/env.d.ts", None), Free);
        assert_eq!(classify(".envrc", None), Free);
        assert_eq!(classify("environment.ts", None), Free);
        assert_eq!(classify(".sops.yaml", None), Free);
    }

    #[test]
    fn classify_by_creation_rule_with_path_regex_only() {
        let policy = Policy {
            rules: vec![
                rule(Some(r"^config/.*\.enc\.json$"), vec![]),
                rule(None, vec![]),
            ],
            derived_env_files: vec![],
        };
        assert_eq!(
            classify("config/db.enc.json", Some(&policy)),
            Requirement::MustBeEncrypted(Reason::CreationRule)
        );
        assert_eq!(
            classify("config/app.json", Some(&policy)),
            Requirement::Free
        );
    }

    #[test]
    fn complete_file_passes_and_plaintext_value_is_caught() {
        let mut doc = Map::new();
        doc.push("password", Value::str(ENC));
        doc.push("port_unencrypted", Value::Int(5432));
        doc.push("empty", Value::str(""));
        doc.push("nothing", Value::Null);
        let text = "password: x\nport_unencrypted: 5432\nsops:\n";
        assert!(check_complete("s.yaml", text, &file(doc.clone(), meta())).is_empty());

        doc.push("api_token", Value::str("plain-value-123"));
        let mut nested = Map::new();
        nested.push("port", Value::Int(1));
        doc.push("db", Value::Map(nested));
        let text = "password: x\nport_unencrypted: 5432\napi_token: plain-value-123\ndb:\n    port: 1\nsops:\n";
        let f = check_complete("s.yaml", text, &file(doc, meta()));
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].rule, "sops-plaintext-value");
        assert_eq!(f[0].line, 3);
        assert_eq!(f[0].secret.as_deref(), Some("plain-value-123"));
        assert!(!f[0].message.contains("plain-value"));
        assert_eq!(f[1].line, 5);
    }

    #[test]
    fn regex_selection_applies_to_subtrees() {
        let mut m = meta();
        m.remove("unencrypted_suffix");
        m.push("encrypted_regex", Value::str("^(data|stringData)$"));
        let mut data = Map::new();
        data.push("user", Value::str(ENC));
        let mut inner = Map::new();
        inner.push("deep", Value::str("leak"));
        data.push("sub", Value::Map(inner));
        let mut doc = Map::new();
        doc.push("kind", Value::str("Secret"));
        doc.push("data", Value::Map(data));
        let f = check_complete("k.yaml", "", &file(doc, m));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("`data.sub.deep`"));
    }

    #[test]
    fn missing_mac_or_recipients_are_incomplete() {
        let mut m = meta();
        m.insert("mac", Value::str(""));
        let f = check_complete("s.yaml", "", &file(Map::new(), m));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("no MAC"), "{}", f[0].message);

        let mut m = meta();
        m.remove("age");
        let f = check_complete("s.yaml", "", &file(Map::new(), m));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "sops-incomplete");
        assert!(f[0].message.contains("no keys found"), "{}", f[0].message);
    }

    #[test]
    fn drift_compares_recipient_sets() {
        let policy = Policy {
            rules: vec![rule(
                Some("^secrets/"),
                vec![vec!["age1abc".into(), "age1new".into()]],
            )],
            derived_env_files: vec![],
        };
        let f = file(Map::new(), meta());
        let d = check_drift("secrets/a.yaml", "sops:\n", &f, &policy).expect("drift");
        assert!(d.message.contains("missing age1new"), "{}", d.message);
        assert!(d.message.contains("spx updatekeys secrets/a.yaml"));
        assert!(check_drift("other.yaml", "", &f, &policy).is_none());

        let same = Policy {
            rules: vec![rule(None, vec![vec!["age1abc".into()]])],
            derived_env_files: vec![],
        };
        assert!(check_drift("x.yaml", "", &f, &same).is_none());
    }

    #[test]
    fn template_values_must_be_placeholders() {
        let ok = "# copy to .env\nDB_PASSWORD=\nAPI_TOKEN=changeme\nSECRET=<your-secret>\nKEY=${FROM_ENV}\nPORT=3000\nSTRIPE_KEY=your-key-here\n";
        assert!(check_template(ok).is_empty());
        let bad = "PORT=3000\nDB_PASSWORD=Tr0ub4dor&3x\n";
        let f = check_template(bad);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 2);
    }
}
