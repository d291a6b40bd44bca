//! Printing findings: one line each (`path:line: rule: message`), JSON, or SARIF 2.1.0 for
//! GitHub code scanning. Messages already hold only masked secrets.

use super::patterns::PATTERNS;
use super::scan::Report;
use super::Finding;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
    Sarif,
}

impl OutputFormat {
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        match name {
            "text" => Some(OutputFormat::Text),
            "json" => Some(OutputFormat::Json),
            "sarif" => Some(OutputFormat::Sarif),
            _ => None,
        }
    }
}

/// `path:line: rule: message (fingerprint …)`, prefixed `commit:` for history findings.
pub fn line(f: &Finding) -> String {
    styled_line(f, false)
}

/// [`line`], with the place in bold and the rule in red when `color`.
pub fn styled_line(f: &Finding, color: bool) -> String {
    use crate::ui::{paint_if, Style};
    let commit = f
        .commit
        .as_deref()
        .map(|c| format!("{c}:"))
        .unwrap_or_default();
    format!(
        "{}: {}: {} (fingerprint {})",
        paint_if(
            color,
            Style::Bold,
            &format!("{commit}{}:{}", f.path, f.line)
        ),
        paint_if(color, Style::Red, f.rule),
        f.message,
        f.fingerprint
    )
}

/// The closing line.
pub fn summary(report: &Report, scope: &str) -> String {
    let n = report.findings.len();
    let scanned = report.files_scanned;
    let plural = |k: usize, w: &str| format!("{k} {w}{}", if k == 1 { "" } else { "s" });
    if n == 0 {
        format!(
            "spx verify: no findings; {} scanned ({scope})",
            plural(scanned, "file")
        )
    } else {
        let mut files: Vec<(&Option<String>, &String)> = report
            .findings
            .iter()
            .map(|f| (&f.commit, &f.path))
            .collect();
        files.sort();
        files.dedup();
        format!(
            "spx verify: {} in {}; {} scanned ({scope}). Allow a false positive with its fingerprint in .spx-allow or an `spx:allow` comment on the line.",
            plural(n, "finding"),
            plural(files.len(), "file"),
            plural(scanned, "file")
        )
    }
}

pub fn text(report: &Report, scope: &str) -> String {
    styled_text(report, scope, false)
}

/// [`text`], coloured when `color` (see [`styled_line`]).
pub fn styled_text(report: &Report, scope: &str, color: bool) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&styled_line(f, color));
        out.push('\n');
    }
    out.push_str(&summary(report, scope));
    out.push('\n');
    out
}

pub fn json(report: &Report, scope: &str) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "path": f.path,
                "commit": f.commit,
                "line": f.line,
                "rule": f.rule,
                "message": f.message,
                "fingerprint": f.fingerprint,
            })
        })
        .collect();
    let doc = json!({
        "scope": scope,
        "files_scanned": report.files_scanned,
        "findings": findings,
    });
    serde_json::to_string_pretty(&doc).expect("json serialises") + "\n"
}

/// The rules spx can report, with a one-line description, for SARIF's `tool.driver.rules`.
pub fn rule_descriptions() -> Vec<(&'static str, String)> {
    let mut rules: Vec<(&'static str, String)> = vec![
        (
            "sops-not-encrypted",
            "A file that must be encrypted has no sops metadata".into(),
        ),
        (
            "sops-incomplete",
            "A sops file lacks recipients or a MAC".into(),
        ),
        (
            "sops-plaintext-value",
            "A sops file holds a plaintext value its selection rule says is encrypted".into(),
        ),
        (
            "recipient-drift",
            "A sops file's recipients differ from its .sops.yaml creation rule".into(),
        ),
        (
            "template-value",
            "A template (.example/.sample/.template) holds a real-looking secret".into(),
        ),
        (
            "derived-env-tracked",
            "A .env file rendered by a sync target is tracked by git".into(),
        ),
        (
            "derived-env-not-ignored",
            "A .env file rendered by a sync target is not ignored by git".into(),
        ),
        ("sops-config-invalid", ".sops.yaml does not parse".into()),
        (
            super::patterns::ASSIGNMENT_RULE,
            "A literal secret assigned to a secret-like name".into(),
        ),
    ];
    rules.extend(PATTERNS.iter().map(|p| (p.id, p.description.to_string())));
    rules
}

pub fn sarif(report: &Report) -> String {
    let rules: Vec<Value> = rule_descriptions()
        .into_iter()
        .map(|(id, d)| json!({"id": id, "shortDescription": {"text": d}}))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule,
                "level": "error",
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path},
                        "region": {"startLine": f.line.max(1)}
                    }
                }],
                "partialFingerprints": {"spxFingerprint/v1": f.fingerprint},
            });
            if let Some(c) = &f.commit {
                r["properties"] = json!({"commit": c});
            }
            r
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "spx",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).expect("sarif serialises") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            findings: vec![Finding {
                path: "config/aws.py".into(),
                commit: None,
                line: 3,
                rule: "aws-access-key-id",
                message: "AWS access key ID [AKIA… (20 chars)]".into(),
                fingerprint: "0123456789abcdef".into(),
            }],
            files_scanned: 50,
        }
    }

    #[test]
    fn text_line_shape() {
        let t = text(&report(), "staged");
        assert!(
            t.starts_with(
                "config/aws.py:3: aws-access-key-id: AWS access key ID [AKIA… (20 chars)]"
            ),
            "{t}"
        );
        assert!(
            t.contains("1 finding in 1 file; 50 files scanned (staged)"),
            "{t}"
        );
    }

    #[test]
    fn colour_only_adds_sgr_codes() {
        let plain = text(&report(), "staged");
        let coloured = styled_text(&report(), "staged", true);
        assert!(
            coloured.contains("\x1b[31maws-access-key-id\x1b[0m"),
            "{coloured}"
        );
        let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
            .unwrap()
            .replace_all(&coloured, "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn sarif_is_valid_shape() {
        let v: Value = serde_json::from_str(&sarif(&report())).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let r = &v["runs"][0]["results"][0];
        assert_eq!(r["ruleId"], "aws-access-key-id");
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            3
        );
        let ids: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"aws-access-key-id") && ids.contains(&"recipient-drift"));
    }

    #[test]
    fn json_round_trips() {
        let v: Value = serde_json::from_str(&json(&report(), "all")).unwrap();
        assert_eq!(v["findings"][0]["fingerprint"], "0123456789abcdef");
        assert_eq!(v["files_scanned"], 50);
    }
}
