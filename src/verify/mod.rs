//! The pre-commit verifier: no plaintext secret can be committed by accident.
//!
//! `scan` decides what to read (the staged index, paths, every tracked file, or every blob in
//! history); this module runs the rules on one file's bytes and turns what they find into
//! `Finding`s that carry a masked form of the secret, never the secret itself:
//! 1. files that must be encrypted are complete sops files (`sopsfile`),
//! 2. well-known credential formats and literal secret assignments (`patterns`),
//! 3. sops files whose recipients drifted from their creation rule (`sopsfile`),
//! 5. the `.env` files sync targets render are ignored by git (`scan`).
//!
//! Rule 4 (the rotation log) waits for the log module.

pub mod allow;
pub mod hook;
pub mod logcheck;
pub mod patterns;
pub mod policy;
pub mod report;
pub mod scan;
pub mod sopsfile;

pub use allow::Allowlist;
pub use policy::Policy;
pub use scan::{run, Options, Scope};

use sha2::{Digest, Sha256};
use sopsfile::Requirement;

/// One problem found, ready to print: the message holds at most a masked form of a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Repository-relative path (`/`-separated), or the path as given outside a repository.
    pub path: String,
    /// The commit the blob was first seen in (history scans).
    pub commit: Option<String>,
    /// 1-based line.
    pub line: usize,
    pub rule: &'static str,
    pub message: String,
    /// Stable identifier for `.spx-allow` (16 hex characters); does not depend on the line.
    pub fingerprint: String,
}

/// What a rule reports before masking and fingerprinting.
#[derive(Clone, Debug)]
pub struct RawFinding {
    pub line: usize,
    pub rule: &'static str,
    pub message: String,
    /// The secret, for the masked form and the fingerprint only.
    pub secret: Option<String>,
}

/// The scan-wide settings every file is checked against.
#[derive(Default)]
pub struct Context {
    pub policy: Option<Policy>,
    pub allow: Allowlist,
    /// Check sops files' recipients against their creation rule (off for history scans: old
    /// commits naturally carry old recipients).
    pub drift: bool,
}

/// The masked form of a secret: at most its first 4 characters (fewer for short ones) and its
/// length.
pub fn mask(secret: &str) -> String {
    let n = secret.chars().count();
    let show = match n {
        16.. => 4,
        10..16 => 2,
        _ => 0,
    };
    let head: String = secret.chars().take(show).collect();
    format!("{head}… ({n} chars)")
}

/// The fingerprint of a finding: the first 16 hex digits of sha256(rule, path, secret or message).
pub fn fingerprint(rule: &str, path: &str, what: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(what.as_bytes());
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Files larger than this are checked by name only (rule 1), not searched for secret formats.
const MAX_SCAN_BYTES: usize = 10 << 20;

/// Run rules 1–3 on one file's content.
pub fn check_file(
    ctx: &Context,
    rel_path: &str,
    bytes: &[u8],
    commit: Option<&str>,
) -> Vec<Finding> {
    if ctx.allow.path_allowed(rel_path) {
        return Vec::new();
    }
    let binary = bytes.iter().take(8000).any(|b| *b == 0);
    let text = String::from_utf8_lossy(bytes);
    let mut raw = Vec::new();

    let requirement = sopsfile::classify(rel_path, ctx.policy.as_ref());
    let maybe_sops = !binary && looks_like_sops(&text);
    match requirement {
        Requirement::MustBeEncrypted(reason) => {
            if maybe_sops {
                if let Some(file) = sopsfile::parse_sops(rel_path, bytes) {
                    raw.extend(sopsfile::check_complete(rel_path, &text, &file));
                    drift(ctx, rel_path, &text, &file, &mut raw);
                } else {
                    raw.extend(sopsfile::check_must_be_encrypted(
                        rel_path, &text, bytes, reason,
                    ));
                }
            } else {
                raw.extend(sopsfile::check_must_be_encrypted(
                    rel_path, &text, bytes, reason,
                ));
            }
        }
        Requirement::Template => raw.extend(sopsfile::check_template(&text)),
        Requirement::Free => {
            if maybe_sops {
                if let Some(file) = sopsfile::parse_sops(rel_path, bytes) {
                    raw.extend(sopsfile::check_complete(rel_path, &text, &file));
                    drift(ctx, rel_path, &text, &file, &mut raw);
                }
            }
        }
    }

    if !binary && bytes.len() <= MAX_SCAN_BYTES {
        let syntax = patterns::Syntax::for_path(rel_path);
        let mut lines = LineIndex::new(&text);
        for hit in patterns::scan(&text, syntax) {
            if inside_enc(&text, hit.offset) {
                continue;
            }
            let line = lines.line_of(hit.offset);
            if raw
                .iter()
                .any(|r| r.line == line && r.secret.as_deref() == Some(hit.secret.as_str()))
            {
                continue;
            }
            raw.push(RawFinding {
                line,
                rule: hit.rule,
                message: hit.description,
                secret: Some(hit.secret),
            });
        }
    }

    let line_texts: Vec<&str> = text.lines().collect();
    let mut out: Vec<Finding> = raw
        .into_iter()
        .filter(|r| {
            !line_texts
                .get(r.line.wrapping_sub(1))
                .is_some_and(|l| l.contains("spx:allow"))
        })
        .map(|r| finish(rel_path, commit, r))
        .filter(|f| !ctx.allow.fingerprint_allowed(&f.fingerprint))
        .collect();
    out.sort_by(|a, b| a.line.cmp(&b.line).then(a.rule.cmp(b.rule)));
    out
}

fn drift(
    ctx: &Context,
    rel_path: &str,
    text: &str,
    file: &sopsfile::SopsFile,
    raw: &mut Vec<RawFinding>,
) {
    if !ctx.drift {
        return;
    }
    if let Some(policy) = &ctx.policy {
        raw.extend(sopsfile::check_drift(rel_path, text, file, policy));
    }
}

/// Turn a raw finding into a printable one: mask the secret, compute the fingerprint.
pub fn finish(rel_path: &str, commit: Option<&str>, r: RawFinding) -> Finding {
    let what = r.secret.as_deref().unwrap_or(&r.message);
    let fingerprint = fingerprint(r.rule, rel_path, what);
    let message = match &r.secret {
        Some(s) => format!("{} [{}]", r.message, mask(s)),
        None => r.message,
    };
    Finding {
        path: rel_path.to_string(),
        commit: commit.map(String::from),
        line: r.line,
        rule: r.rule,
        message,
        fingerprint,
    }
}

/// Quick test before parsing: sops metadata markers in any store.
pub(crate) fn looks_like_sops(text: &str) -> bool {
    text.contains("sops:")
        || text.contains("\"sops\"")
        || text.contains("sops_mac=")
        || text.contains("[sops]")
}

/// Whether byte `offset` lies inside an `ENC[…]` value on its line (ciphertext is random base64
/// and can contain anything).
fn inside_enc(text: &str, offset: usize) -> bool {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    match before.rfind("ENC[") {
        Some(i) => !before[i..].contains(']'),
        None => false,
    }
}

/// Byte offset → 1-based line, for offsets visited in increasing order (and any order, slower).
struct LineIndex<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        LineIndex {
            text,
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.text.as_bytes()[self.offset..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.offset = offset;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_never_shows_more_than_four_chars() {
        assert_eq!(mask("AKIAQQQQQQQQQQQQQQQQ"), "AKIA… (20 chars)");
        assert_eq!(mask("hunter2-but-l"), "hu… (13 chars)");
        assert_eq!(mask("short"), "… (5 chars)");
    }

    #[test]
    fn findings_carry_masked_secrets_only() {
        let ctx = Context::default();
        let text = "AWS_ACCESS_KEY_ID = \"AKIAQQQQQQQQQQQQQQQQ\"\n";
        let f = check_file(&ctx, "config/aws.py", text.as_bytes(), None);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "aws-access-key-id");
        assert_eq!(f[0].line, 1);
        assert!(!f[0].message.contains("AKIAQQQQ"), "{}", f[0].message);
        assert!(f[0].message.contains("AKIA… (20 chars)"));
    }

    #[test]
    fn inline_allow_comment_silences_a_line() {
        let ctx = Context::default();
        let text = "x = 1\nkey = \"AKIAQQQQQQQQQQQQQQQQ\" # spx:allow test fixture\n";
        assert!(check_file(&ctx, "t.py", text.as_bytes(), None).is_empty());
    }

    #[test]
    fn fingerprint_allowlist_silences_a_finding() {
        let text = b"key = \"AKIAQQQQQQQQQQQQQQQQ\"\n";
        let f = check_file(&Context::default(), "t.py", text, None);
        let ctx = Context {
            allow: Allowlist::parse(&format!("# ok\n{}\n", f[0].fingerprint)).unwrap(),
            ..Context::default()
        };
        assert!(check_file(&ctx, "t.py", text, None).is_empty());
        assert_eq!(check_file(&ctx, "other.py", text, None).len(), 1);
    }

    #[test]
    fn planted_secrets_outside_sops_files_are_found() {
        let ctx = Context::default();
        let cases: &[(&str, &str, &str)] = &[
            ("config/aws.py", "AWS_ACCESS_KEY_ID = \"AKIAQQQQQQQQQQQQQQQQ\"\n", "aws-access-key-id"),
            (
                "scripts/deploy.sh",
                "export GH_TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8i9J0\n",
                "github-pat",
            ),
            (
                "notes/age.txt",
                "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
                "age-secret-key",
            ),
            (
                "keys/id_rsa",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
                "openssh-private-key",
            ),
        ];
        for (path, text, rule) in cases {
            let f = check_file(&ctx, path, text.as_bytes(), None);
            assert!(f.iter().any(|f| f.rule == *rule), "{path}: {f:?}");
        }
    }

    #[test]
    fn pattern_hits_inside_ciphertext_are_ignored() {
        let text = "a: ENC[AES256_GCM,data:AKIAQQQQQQQQQQQQQQQQ,iv:x,tag:y,type:str]\n";
        assert!(inside_enc(text, text.find("AKIA").unwrap()));
        assert!(!inside_enc("x AKIA", 2));
    }
}
