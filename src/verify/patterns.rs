//! Rule 2: well-known credential formats and literal secrets assigned to secret-like names.
//!
//! All patterns live in one `RegexSet`, so a file is searched once; only the patterns the set
//! reports are then run alone to find where they matched. The last member of the set is the
//! assignment rule (`password = "…"`), whose value is then judged in code: a literal, not a
//! placeholder, not an environment read, and random-looking enough.

use regex::Regex;
use std::sync::OnceLock;

/// One credential format.
pub struct Pattern {
    pub id: &'static str,
    pub description: &'static str,
    regex: &'static str,
    /// Capture group holding the secret (0 = the whole match).
    group: usize,
}

const fn p(id: &'static str, description: &'static str, regex: &'static str) -> Pattern {
    Pattern {
        id,
        description,
        regex,
        group: 0,
    }
}

const fn pg(
    id: &'static str,
    description: &'static str,
    regex: &'static str,
    group: usize,
) -> Pattern {
    Pattern {
        id,
        description,
        regex,
        group,
    }
}

/// The credential formats, each with a stable rule id.
pub const PATTERNS: &[Pattern] = &[
    p(
        "aws-access-key-id",
        "AWS access key ID",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
    ),
    pg(
        "aws-secret-access-key",
        "AWS secret access key",
        r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/+]{40})\b"#,
        1,
    ),
    p(
        "github-pat",
        "GitHub personal access token",
        r"\bghp_[A-Za-z0-9]{36,255}\b",
    ),
    p(
        "github-oauth",
        "GitHub OAuth access token",
        r"\bgho_[A-Za-z0-9]{36,255}\b",
    ),
    p(
        "github-user-token",
        "GitHub user-to-server token",
        r"\bghu_[A-Za-z0-9]{36,255}\b",
    ),
    p(
        "github-app-token",
        "GitHub server-to-server token",
        r"\bghs_[A-Za-z0-9]{36,255}\b",
    ),
    p(
        "github-refresh-token",
        "GitHub refresh token",
        r"\bghr_[A-Za-z0-9]{36,255}\b",
    ),
    p(
        "github-fine-grained-pat",
        "GitHub fine-grained token",
        r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b",
    ),
    p(
        "gitlab-pat",
        "GitLab personal access token",
        r"\bglpat-[A-Za-z0-9_\-]{20,}",
    ),
    p(
        "gitlab-token",
        "GitLab runner, deploy, trigger or feed token",
        r"\b(?:glrt|gldt|glptt|glft|glsoat|glcbt|glimt|glagent)-[A-Za-z0-9_\-]{20,}",
    ),
    p(
        "slack-token",
        "Slack token",
        r"\bxox[abposr]-[0-9]{6,}-[A-Za-z0-9\-]{10,}",
    ),
    p(
        "slack-webhook",
        "Slack incoming webhook URL",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Za-z0-9_]{6,}/[A-Za-z0-9_]{6,}/[A-Za-z0-9_]{16,}",
    ),
    p(
        "stripe-live-key",
        "Stripe live secret or restricted key",
        r"\b(?:sk|rk)_live_[A-Za-z0-9]{20,}",
    ),
    p(
        "stripe-webhook-secret",
        "Stripe webhook signing secret",
        r"\bwhsec_[A-Za-z0-9]{32,}",
    ),
    p(
        "google-api-key",
        "Google API key",
        r"\bAIza[0-9A-Za-z_\-]{35}\b",
    ),
    p(
        "google-oauth-secret",
        "Google OAuth client secret",
        r"\bGOCSPX-[A-Za-z0-9_\-]{28}\b",
    ),
    p(
        "openai-api-key",
        "OpenAI API key",
        r"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
    ),
    p(
        "anthropic-api-key",
        "Anthropic API key",
        r"\bsk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_\-]{80,}",
    ),
    p("npm-token", "npm access token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    p(
        "pypi-token",
        "PyPI upload token",
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}",
    ),
    p(
        "digitalocean-token",
        "DigitalOcean token",
        r"\bdo[opr]_v1_[a-f0-9]{64}\b",
    ),
    p("twilio-api-key", "Twilio API key", r"\bSK[0-9a-f]{32}\b"),
    p(
        "sendgrid-api-key",
        "SendGrid API key",
        r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
    ),
    p(
        "discord-webhook",
        "Discord webhook URL",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,}",
    ),
    p(
        "jwt",
        "JSON Web Token",
        r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",
    ),
    p(
        "private-key",
        "PEM private key block",
        r"-----BEGIN (?:RSA |DSA |EC |ENCRYPTED |DH )?PRIVATE KEY-----",
    ),
    p(
        "openssh-private-key",
        "OpenSSH private key block",
        r"-----BEGIN OPENSSH PRIVATE KEY-----",
    ),
    p(
        "pgp-private-key",
        "PGP private key block",
        r"-----BEGIN PGP PRIVATE KEY BLOCK-----",
    ),
    p(
        "age-secret-key",
        "age identity (secret key)",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
    ),
    pg(
        "database-url-password",
        "database URL with a password",
        r#"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse)://[^\s:@/'"`]+:([^\s@/'"`]+)@[^\s'"`]+"#,
        1,
    ),
    pg(
        "url-credentials",
        "URL with an embedded password",
        r#"\b(?:https?|ftp|smtps?)://[^\s:@/'"`]+:([^\s@/'"`]+)@[A-Za-z0-9.\-]+"#,
        1,
    ),
    p(
        "shopify-token",
        "Shopify access token",
        r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
    ),
    p(
        "square-token",
        "Square access token or secret",
        r"\bsq0(?:atp|csp)-[0-9A-Za-z_\-]{22,43}",
    ),
    p(
        "vault-token",
        "HashiCorp Vault service token",
        r"\bhvs\.[A-Za-z0-9_\-]{90,}",
    ),
    p(
        "huggingface-token",
        "Hugging Face access token",
        r"\bhf_[A-Za-z0-9]{34,40}\b",
    ),
    p(
        "telegram-bot-token",
        "Telegram bot token",
        r"\b[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}\b",
    ),
    pg(
        "azure-storage-key",
        "Azure storage account key in a connection string",
        r"AccountKey=([A-Za-z0-9+/]{86}==)",
        1,
    ),
    p(
        "mailchimp-api-key",
        "Mailchimp API key",
        r"\b[0-9a-f]{32}-us[0-9]{1,2}\b",
    ),
    p(
        "databricks-token",
        "Databricks access token",
        r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b",
    ),
    p(
        "doppler-token",
        "Doppler token",
        r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b",
    ),
    p(
        "linear-api-key",
        "Linear API key",
        r"\blin_api_[A-Za-z0-9]{40}\b",
    ),
    p(
        "postman-api-key",
        "Postman API key",
        r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
    ),
    p(
        "grafana-token",
        "Grafana service account or cloud token",
        r"\b(?:glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})",
    ),
    p(
        "sentry-token",
        "Sentry auth token",
        r"\bsntry[us]_[A-Za-z0-9+/=_\-]{40,}",
    ),
];

/// Rule id of the assignment rule.
pub const ASSIGNMENT_RULE: &str = "secret-assignment";

/// `name = value`, `name: value`, `"name": value`, `name => value`, `name := value`: group 1 the
/// name, group 2 the rest of the line.
const ASSIGNMENT: &str = r#"(?im)((?:[A-Za-z_][A-Za-z0-9_.\-]*)?(?:passw(?:or)?d|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|auth[_\-]?key|credentials?)[A-Za-z0-9_.\-]*)["']?[ \t]*(?::=|=>|=|:)[ \t]*([^\r\n]*)"#;

struct Compiled {
    /// The prefilter: every pattern with ASCII semantics, on bytes. Compiling the set with
    /// Unicode classes (`\b`, `\s`, `(?i)`) was most of the start-up cost of
    /// `verify --staged`. ASCII `\b` and negated classes match at least where the Unicode
    /// forms do for these ASCII formats; the few extra candidates are dropped by the exact
    /// (Unicode) pattern, which alone decides what is reported.
    set: regex::bytes::RegexSet,
    sources: Vec<&'static str>,
    /// Each pattern alone, compiled the first time the set reports it (most never match).
    each: Vec<OnceLock<Regex>>,
}

impl Compiled {
    fn regex(&self, idx: usize) -> &Regex {
        self.each[idx]
            .get_or_init(|| Regex::new(self.sources[idx]).expect("secret pattern compiles"))
    }
}

/// Compile the pattern set now (e.g. on another thread while git lists what is staged).
pub fn warm() {
    compiled();
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let mut sources: Vec<&'static str> = PATTERNS.iter().map(|p| p.regex).collect();
        sources.push(ASSIGNMENT);
        let set = regex::bytes::RegexSetBuilder::new(&sources)
            .unicode(false)
            .build()
            .expect("secret patterns compile");
        let each = sources.iter().map(|_| OnceLock::new()).collect();
        Compiled { set, sources, each }
    })
}

/// A secret found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    pub description: String,
    /// Byte offset of the secret in the text.
    pub offset: usize,
    /// The secret itself, for masking and fingerprinting only; never printed.
    pub secret: String,
}

/// How a file's unquoted assignments are read: in code an unquoted right-hand side is an
/// expression (a variable, a call), in a config file it is the value itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Code,
    Config,
}

impl Syntax {
    pub fn for_path(path: &str) -> Syntax {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some(
                "rs" | "py" | "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "go" | "java" | "kt"
                | "kts" | "scala" | "rb" | "php" | "c" | "h" | "cc" | "cpp" | "hpp" | "cs"
                | "swift" | "m" | "lua" | "pl" | "ex" | "exs" | "erl" | "hs" | "ml" | "dart"
                | "vue" | "svelte" | "groovy" | "r" | "jl" | "zig" | "nim" | "clj" | "fs",
            ) => Syntax::Code,
            _ => Syntax::Config,
        }
    }
}

/// Every secret in `text`.
pub fn scan(text: &str, syntax: Syntax) -> Vec<Hit> {
    let c = compiled();
    let mut hits = Vec::new();
    for idx in c.set.matches(text.as_bytes()).iter() {
        let re = c.regex(idx);
        if idx == PATTERNS.len() {
            assignments(re, text, syntax, &mut hits);
            continue;
        }
        let pat = &PATTERNS[idx];
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(pat.group) else {
                continue;
            };
            if pat.group != 0 && is_placeholder(m.as_str()) {
                continue;
            }
            hits.push(Hit {
                rule: pat.id,
                description: pat.description.to_string(),
                offset: m.start(),
                secret: m.as_str().to_string(),
            });
        }
    }
    // A secret that a specific pattern already names is not reported again as an assignment.
    let specific: Vec<(usize, usize)> = hits
        .iter()
        .filter(|h| h.rule != ASSIGNMENT_RULE)
        .map(|h| (h.offset, h.offset + h.secret.len()))
        .collect();
    hits.retain(|h| {
        h.rule != ASSIGNMENT_RULE
            || !specific
                .iter()
                .any(|&(s, e)| s < h.offset + h.secret.len() && h.offset < e)
    });
    hits.sort_by_key(|h| h.offset);
    hits
}

fn assignments(re: &Regex, text: &str, syntax: Syntax, hits: &mut Vec<Hit>) {
    for caps in re.captures_iter(text) {
        let (Some(name), Some(rest)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        if !secret_name(name.as_str()) {
            continue;
        }
        let Some((value, at)) = literal_value(rest.as_str(), syntax) else {
            continue;
        };
        if looks_secret(value) {
            hits.push(Hit {
                rule: ASSIGNMENT_RULE,
                description: format!("literal secret assigned to `{}`", name.as_str()),
                offset: rest.start() + at,
                secret: value.to_string(),
            });
        }
    }
}

/// Whether a name says it holds a secret: one of its words is a secret word and its last word
/// does not say it holds something about a secret (a file, a name, a length, a URL…).
pub fn secret_name(name: &str) -> bool {
    let words = words(name);
    let secret_word = |i: usize| {
        let w = words[i].as_str();
        matches!(
            w,
            "password"
                | "passwd"
                | "pwd"
                | "secret"
                | "secrets"
                | "token"
                | "apikey"
                | "credential"
                | "credentials"
        ) || (matches!(w, "key")
            && i > 0
            && matches!(
                words[i - 1].as_str(),
                "api" | "access" | "private" | "auth" | "secret"
            ))
    };
    if !(0..words.len()).any(secret_word) {
        return false;
    }
    let last = words.last().map(String::as_str).unwrap_or("");
    !matches!(
        last,
        "name" | "names" | "file" | "path" | "dir" | "url" | "uri" | "endpoint" | "id" | "env" | "var" | "length"
            | "len" | "size" | "type" | "field" | "header" | "prefix" | "suffix" | "regex" | "pattern" | "count"
            | "ttl" | "expiry" | "expires" | "expiration" | "timeout" | "lifetime" | "mode" | "format" | "policy"
            | "manager" | "provider" | "ref" | "source" | "kind" | "label" | "hint" | "placeholder" | "arn"
            | "version" | "command" | "cmd" | "helper" | "store" | "backend" | "method" | "location" | "min"
            | "max" | "enabled" | "required" | "rotation" | "hash" | "sha" | "digest" | "fingerprint" | "class"
            | "service" | "client" | "key" if !(last == "key" && words.len() >= 2 && secret_word(words.len() - 1))
    )
}

fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        cur.push(ch.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The literal value at the start of an assignment's right-hand side, and its offset in it.
/// `None` when the right-hand side is an expression (in code), an environment read or empty.
fn literal_value(rest: &str, syntax: Syntax) -> Option<(&str, usize)> {
    let trimmed = rest.trim_start();
    let lead = rest.len() - trimmed.len();
    let first = trimmed.chars().next()?;
    if matches!(first, '"' | '\'' | '`') {
        let inner = &trimmed[1..];
        let end = inner.find(first)?;
        let value = &inner[..end];
        if first == '`' && value.contains("${") {
            return None;
        }
        return Some((value, lead + 1));
    }
    if syntax == Syntax::Code {
        return None;
    }
    // Config syntax: the value runs to a comment or the end of the line.
    let end = trimmed
        .find(" #")
        .or_else(|| trimmed.find(" ;"))
        .unwrap_or(trimmed.len());
    let value = trimmed[..end].trim_end().trim_end_matches([',', ';']);
    Some((value, lead))
}

/// Whether a literal value looks like a real secret rather than a placeholder, a reference or a
/// word.
pub fn looks_secret(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 8 || v.len() > 512 || v.chars().any(char::is_whitespace) {
        return false;
    }
    if is_placeholder(v) || is_reference(v) || v.starts_with("ENC[") {
        return false;
    }
    // Paths, URLs without credentials, dotted identifiers and the like.
    if v.contains("://") || v.starts_with('/') || v.starts_with("./") || v.starts_with("~/") {
        return false;
    }
    if v.chars()
        .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.')
    {
        // an identifier, a constant name, a dotted attribute path
        return false;
    }
    if v.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == ':')
    {
        // a number, a version, a date, a time
        return false;
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    classes >= 2 && shannon_entropy(v) >= 3.0
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A reference to a value kept elsewhere: environment, template, secret manager.
pub fn is_reference(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.starts_with('$')
        || v.contains("${")
        || v.contains("{{")
        || v.contains("#{")
        || (v.starts_with('%') && v.ends_with('%'))
        || lower.contains("os.environ")
        || lower.contains("getenv")
        || lower.contains("process.env")
        || lower.contains("env::var")
        || lower.contains("env[")
        || lower.contains("env.fetch")
        || lower.starts_with("env(")
        || lower.starts_with("secrets.")
        || lower.starts_with("vault:")
        || lower.starts_with("op://")
        || lower.starts_with("ref+")
        || lower.starts_with("arn:")
}

/// Obvious placeholders: `changeme`, `<your-token>`, `xxx`, `your-api-key-here`, `${VAR}`,
/// `example`, `***`…
pub fn is_placeholder(v: &str) -> bool {
    let v = v.trim().trim_matches(['"', '\'']);
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('[') && v.ends_with(']'))
        || is_reference(v)
    {
        return true;
    }
    if lower
        .chars()
        .all(|c| matches!(c, 'x' | '*' | '.' | '-' | '_' | '#' | '0'))
        || lower
            .chars()
            .all(|c| c == lower.chars().next().unwrap_or('x'))
    {
        return true;
    }
    const WORDS: &[&str] = &[
        "changeme",
        "change-me",
        "change_me",
        "replaceme",
        "replace-me",
        "replace_me",
        "placeholder",
        "example",
        "sample",
        "dummy",
        "fake",
        "todo",
        "tbd",
        "fixme",
        "redacted",
        "notset",
        "not-set",
        "none",
        "null",
        "nil",
        "secret",
        "password",
        "passwd",
        "token",
        "apikey",
        "api-key",
        "api_key",
        "test",
        "testing",
        "default",
        "xxxx",
        "your",
        "insert",
        "put-your",
        "enter-your",
        "set-me",
        "setme",
        "foobar",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    lower.starts_with("your-")
        || lower.starts_with("your_")
        || lower.starts_with("my-")
        || lower.starts_with("my_")
        || lower.ends_with("-here")
        || lower.ends_with("_here")
        || lower.contains("changeme")
        || lower.contains("change_me")
        || lower.contains("change-me")
        || lower.contains("placeholder")
        || lower.contains("example")
        || lower.contains("xxxxx")
        || lower.contains("dummy")
        || lower.contains("replace")
        || lower.starts_with("fake")
        || lower.starts_with("test-")
        || lower.starts_with("test_")
        || lower.starts_with("sample")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str, syntax: Syntax) -> Vec<&'static str> {
        scan(text, syntax).into_iter().map(|h| h.rule).collect()
    }

    #[test]
    fn at_least_thirty_formats() {
        assert!(PATTERNS.len() >= 30);
        let mut ids: Vec<_> = PATTERNS.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PATTERNS.len(), "rule ids are unique");
    }

    #[test]
    fn finds_each_format_in_a_sample() {
        let r40 = "a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8i9J0";
        let samples: Vec<(&str, String)> = vec![
            ("aws-access-key-id", "id = AKIAIOSFODNN7EXAMPLF".into()),
            ("aws-secret-access-key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ7R1T0KEY".into()),
            ("github-pat", format!("ghp_{}", &r40[..36])),
            ("github-oauth", format!("gho_{}", &r40[..36])),
            ("github-user-token", format!("ghu_{}", &r40[..36])),
            ("github-app-token", format!("ghs_{}", &r40[..36])),
            ("github-refresh-token", format!("ghr_{}", &r40[..36])),
            ("github-fine-grained-pat", format!("github_pat_{}_{}{}", &r40[..22], r40, &r40[..19])),
            ("gitlab-pat", "glpat-Ab3dEf6hIj9kLm2nOp5q".into()),
            ("gitlab-token", "glrt-Ab3dEf6hIj9kLm2nOp5q".into()),
            ("slack-token", "xoxb-123456789012-abcdefghij12".into()),
            ("slack-webhook", "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF1/a1B2c3D4e5F6g7H8i9J0".into()),
            ("stripe-live-key", format!("sk_live_{}", &r40[..24])),
            ("stripe-webhook-secret", format!("whsec_{}", &r40[..32])),
            ("google-api-key", format!("AIza{}", &r40[..35])),
            ("google-oauth-secret", format!("GOCSPX-{}", &r40[..28])),
            ("openai-api-key", format!("sk-proj-{}", r40)),
            ("anthropic-api-key", format!("sk-ant-api03-{}{}", r40, r40)),
            ("npm-token", format!("npm_{}", &r40[..36])),
            ("pypi-token", format!("pypi-AgEIcHlwaS5vcmc{}", &r40[..40].repeat(2))),
            ("digitalocean-token", format!("dop_v1_{}", "0123456789abcdef".repeat(4))),
            ("twilio-api-key", format!("SK{}", "0123456789abcdef".repeat(2))),
            ("sendgrid-api-key", format!("SG.{}.{}", &r40[..22], &r40[..40].to_string().chars().chain("abc".chars()).collect::<String>())),
            ("discord-webhook", format!("https://discord.com/api/webhooks/123456789012345678/{}{}", r40, &r40[..30])),
            ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U".into()),
            ("private-key", "-----BEGIN RSA PRIVATE KEY-----".into()),
            ("openssh-private-key", "-----BEGIN OPENSSH PRIVATE KEY-----".into()),
            ("pgp-private-key", "-----BEGIN PGP PRIVATE KEY BLOCK-----".into()),
            ("age-secret-key", format!("AGE-SECRET-KEY-1{}", "Q".repeat(58))),
            ("database-url-password", "postgres://app:s3cr3tPw@db.internal:5432/app".into()),
            ("url-credentials", "https://deploy:s3cr3tPw@git.example.net/repo".into()),
            ("shopify-token", format!("shpat_{}", "0123456789abcdef".repeat(2))),
            ("square-token", format!("sq0atp-{}", &r40[..22])),
            ("vault-token", format!("hvs.{}{}{}", r40, r40, &r40[..20])),
            ("huggingface-token", format!("hf_{}", &r40[..34])),
            ("telegram-bot-token", format!("123456789:AA{}", &r40[..33])),
            ("azure-storage-key", format!("AccountKey={}{}{}==", r40, r40, &r40[..6])),
            ("mailchimp-api-key", format!("{}-us12", "0123456789abcdef".repeat(2))),
            ("databricks-token", format!("dapi{}", "0123456789abcdef".repeat(2))),
            ("doppler-token", format!("dp.pt.{}{}", r40, "abc")),
            ("linear-api-key", format!("lin_api_{}", r40)),
            ("postman-api-key", format!("PMAK-{}-{}", "0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01")),
            ("grafana-token", format!("glsa_{}_{}", &r40[..32], "0123abcd")),
            ("sentry-token", format!("sntrys_{}", r40)),
        ];
        for pat in PATTERNS {
            assert!(
                samples.iter().any(|(id, _)| *id == pat.id),
                "no sample for {}",
                pat.id
            );
        }
        for (id, text) in samples {
            let found = rules(&format!("x {text} \n"), Syntax::Config);
            assert!(
                found.contains(&id),
                "{id} not found in sample, got {found:?}"
            );
        }
    }

    #[test]
    fn assignment_rule_takes_literals_and_skips_environment_reads() {
        let code = r#"
password = "Xk9#mQ2!vL7pZ4"
db_password = os.environ["DB_PASSWORD"]
api_key = os.getenv("API_KEY", "")
const token = process.env.GITHUB_TOKEN;
let secret = std::env::var("SECRET").unwrap();
client_secret: ${CLIENT_SECRET}
secret_name = "prod-db-credentials"
tokenizer = "bert-base-uncased-v2"
token_url = "https://auth.example.com/oauth/token"
password_min_length = 12
PASSWORD = "changeme"
api_key = "<your-api-key>"
api_key = "your-api-key-here"
"#;
        let hits = scan(code, Syntax::Code);
        assert_eq!(
            hits.len(),
            1,
            "{:?}",
            hits.iter().map(|h| &h.description).collect::<Vec<_>>()
        );
        assert_eq!(hits[0].rule, ASSIGNMENT_RULE);
        assert_eq!(hits[0].secret, "Xk9#mQ2!vL7pZ4");
    }

    #[test]
    fn unquoted_values_count_in_config_files_only() {
        assert_eq!(
            rules(
                "GRAFANA_ADMIN_PASSWORD=correct-horse-battery\n",
                Syntax::Config
            ),
            vec![ASSIGNMENT_RULE]
        );
        assert!(rules("let password = correct_horse_battery9;\n", Syntax::Code).is_empty());
        assert!(rules("DB_PASSWORD=$DB_PASSWORD_FROM_VAULT\n", Syntax::Config).is_empty());
        assert!(rules("DB_PASSWORD=\n", Syntax::Config).is_empty());
        assert!(rules(
            "smtp_password: ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\n",
            Syntax::Config
        )
        .is_empty());
    }

    #[test]
    fn ordinary_code_gives_nothing() {
        let corpus = r#"
id = "123e4567-e89b-12d3-a456-426614174000"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
commit: 4b825dc642cb6eb9a060e54bf8d69288fbee4904
data = base64.b64decode("SGVsbG8sIHdvcmxkISBUaGlzIGlzIHRlc3QgZGF0YQ==")
integrity: sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==
fn token_from_header(h: &str) -> Option<&str> { h.strip_prefix("Bearer ") }
password_hash = bcrypt.hashpw(password, salt)
DATABASE_URL=postgres://user:password@localhost/db
url = "https://example.com/path?query=1"
const API_KEY_HEADER = "X-Api-Key";
secret_key_base = ENV.fetch("SECRET_KEY_BASE")
fn f1() -> u64 { 3735928559 } // line 1
"#;
        let hits = scan(corpus, Syntax::Config);
        assert!(
            hits.is_empty(),
            "{:?}",
            hits.iter()
                .map(|h| (h.rule, &h.description))
                .collect::<Vec<_>>()
        );
        let hits = scan(corpus, Syntax::Code);
        assert!(
            hits.is_empty(),
            "{:?}",
            hits.iter()
                .map(|h| (h.rule, &h.description))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn names_are_split_into_words() {
        assert!(secret_name("GRAFANA_ADMIN_PASSWORD"));
        assert!(secret_name("clientSecret"));
        assert!(secret_name("api_key"));
        assert!(secret_name("apiKey"));
        assert!(secret_name("secret_key"));
        assert!(!secret_name("tokenizer"));
        assert!(!secret_name("secret_name"));
        assert!(!secret_name("keyboard"));
        assert!(!secret_name("password_file"));
    }
}
