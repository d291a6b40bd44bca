//! GitHub targets: a repository's (or an environment's) Actions secrets, through the REST API.
//!
//! * Base URL from `GITHUB_API_URL` (Actions and GHES set it), else `https://api.github.com`;
//!   token from `GITHUB_TOKEN`, else `GH_TOKEN`. API version pinned to 2022-11-28.
//! * Each value is sealed (libsodium `crypto_box_seal`) to the scope's public key, fetched each
//!   run, and `PUT` with that key's id.
//! * GitHub never returns values, so "unchanged" is decided from a fingerprint of what spx last
//!   pushed, kept in an Actions **variable** of the same scope (`SPX_SYNC_STATE` by default,
//!   `state_variable:` to rename): JSON `{"version":1,"secrets":{"NAME":"<16 hex>"}}`, where the
//!   fingerprint is the first 16 hex characters of sha256("spx-sync-v1" NUL key_id NUL NAME NUL
//!   value). Salting with the key id and name means it matches no log fingerprint, and a rotated
//!   public key re-sends everything once. The token therefore also needs "Variables: write".
//! * `--prune` deletes secrets spx pushed earlier (named in the state) that left the sops files;
//!   secrets it never managed are left alone and only counted.
//! * Retries 5xx, 429 and secondary rate limits (403 with `Retry-After` or an exhausted
//!   `x-ratelimit-remaining`) with backoff; 401/403/404 say which permission is missing.

use super::render::{fingerprint, Var};
use super::{exit, Change, Options, Plan, Report, Status, Target};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

pub const API_VERSION: &str = "2022-11-28";
/// GitHub's limit on one secret's value.
pub const MAX_VALUE_BYTES: usize = 48 * 1024;
/// GitHub's limit on secrets per repository or environment.
pub const MAX_SECRETS: usize = 100;
const ATTEMPTS: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct GitHubTarget {
    pub owner: String,
    pub repo: String,
    pub environment: Option<String>,
    pub state_variable: String,
}

/// Percent-encode one path segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn valid_repo_part(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl GitHubTarget {
    pub fn new(
        repo: &str,
        environment: Option<String>,
        state_variable: String,
    ) -> std::result::Result<GitHubTarget, String> {
        let (owner, name) = repo
            .split_once('/')
            .filter(|(o, r)| valid_repo_part(o) && valid_repo_part(r))
            .ok_or_else(|| format!("github: {repo:?}: expected owner/repo"))?;
        if let Some(e) = &environment {
            if e.trim().is_empty() {
                return Err("environment: must not be empty".into());
            }
        }
        if super::render::name_problem(&state_variable, super::render::NameRule::GitHub).is_some() {
            return Err(format!(
                "state_variable: {state_variable:?} is not a valid GitHub variable name"
            ));
        }
        Ok(GitHubTarget {
            owner: owner.into(),
            repo: name.into(),
            environment,
            state_variable: state_variable.to_ascii_uppercase(),
        })
    }

    pub fn describe(&self) -> String {
        match &self.environment {
            Some(e) => format!("github {}/{} environment {e}", self.owner, self.repo),
            None => format!("github {}/{}", self.owner, self.repo),
        }
    }

    fn repo_path(&self) -> String {
        format!(
            "/repos/{}/{}",
            encode_segment(&self.owner),
            encode_segment(&self.repo)
        )
    }

    /// The prefix of the secrets and variables endpoints for this scope.
    fn scope(&self) -> String {
        match &self.environment {
            Some(e) => format!("{}/environments/{}", self.repo_path(), encode_segment(e)),
            None => format!("{}/actions", self.repo_path()),
        }
    }

    fn what_scope(&self) -> String {
        match &self.environment {
            Some(e) => format!("environment {e} of {}/{}", self.owner, self.repo),
            None => format!("{}/{}", self.owner, self.repo),
        }
    }
}

/// The fine-grained permission an operation needs (for error messages).
#[derive(Clone, Copy, Debug)]
pub enum Need {
    SecretsRead,
    SecretsWrite,
    VariablesRead,
    VariablesWrite,
    CommitComment,
}

impl Need {
    fn text(self, env: bool) -> &'static str {
        match (self, env) {
            (Need::SecretsRead, false) => "the repository permission \"Secrets: read\"",
            (Need::SecretsWrite, false) => "the repository permission \"Secrets: read and write\"",
            (Need::SecretsRead, true) => {
                "the repository permissions \"Environments: read\" and \"Secrets: read\""
            }
            (Need::SecretsWrite, true) => {
                "the repository permissions \"Environments: read and write\" and \"Secrets: read and write\""
            }
            (Need::VariablesRead, _) => "the repository permission \"Variables: read\"",
            (Need::VariablesWrite, _) => {
                "the repository permission \"Variables: read and write\" (spx keeps its fingerprints of pushed secrets in a variable)"
            }
            (Need::CommitComment, _) => {
                "the repository permission \"Contents: read and write\" (commit comments)"
            }
        }
    }
}

/// A reply: status, body, and the header naming the permission GitHub wanted.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub accepted: Option<String>,
}

/// The REST client: base URL, token, retries.
pub struct Api {
    agent: ureq::Agent,
    base: String,
    token: Zeroizing<String>,
}

fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(String::from))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

impl Api {
    /// From the environment: `GITHUB_API_URL`, `GITHUB_TOKEN` / `GH_TOKEN`.
    pub fn from_env() -> std::result::Result<Api, String> {
        let base = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "https://api.github.com".into());
        let token = ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|t| !t.trim().is_empty()))
            .ok_or_else(|| {
                "no GitHub token: set GITHUB_TOKEN or GH_TOKEN to a fine-grained token (or GitHub App installation token) with \"Secrets: read and write\" and \"Variables: read and write\" on the repository".to_string()
            })?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("spx/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Api {
            agent,
            base: base.trim_end_matches('/').to_string(),
            token: Zeroizing::new(token.trim().to_string()),
        })
    }

    fn once(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
    ) -> std::result::Result<(Reply, Option<Duration>), String> {
        let auth = Zeroizing::new(format!("Bearer {}", self.token.as_str()));
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Accept", "application/vnd.github+json")
            .header("Authorization", auth.as_str())
            .header("X-GitHub-Api-Version", API_VERSION);
        let result = match body {
            Some(b) => {
                let r = req
                    .header("Content-Type", "application/json")
                    .body(b.to_string())
                    .map_err(|e| e.to_string())?;
                self.agent.run(r)
            }
            None => {
                let r = req.body(()).map_err(|e| e.to_string())?;
                self.agent.run(r)
            }
        };
        let mut resp = result.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let retry_after = header(&resp, "retry-after").and_then(|v| v.parse::<u64>().ok());
        let remaining = header(&resp, "x-ratelimit-remaining");
        let reset = header(&resp, "x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
        let accepted = header(&resp, "x-accepted-github-permissions");
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let rate_limited = status == 429
            || (status == 403
                && (retry_after.is_some()
                    || remaining.as_deref() == Some("0")
                    || text.to_ascii_lowercase().contains("rate limit")));
        let wait = if status >= 500 || rate_limited {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            Some(match (retry_after, reset) {
                (Some(s), _) => Duration::from_secs(s),
                (None, Some(r)) if rate_limited && r > now => Duration::from_secs(r - now),
                _ => Duration::ZERO,
            })
        } else {
            None
        };
        Ok((
            Reply {
                status,
                body: text,
                accepted,
            },
            wait,
        ))
    }

    /// One request with retries on transport errors, 5xx and rate limits.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> std::result::Result<Reply, String> {
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let backoff = Duration::from_millis(500 * (1 << (attempt - 1)));
            match self.once(method, &url, body) {
                Ok((reply, None)) => return Ok(reply),
                Ok((reply, Some(wait))) => {
                    if attempt >= ATTEMPTS {
                        return Ok(reply);
                    }
                    let wait = if wait.is_zero() { backoff } else { wait };
                    std::thread::sleep(wait.min(MAX_WAIT));
                }
                Err(e) => {
                    if attempt >= ATTEMPTS {
                        return Err(format!("{method} {url}: {e} (after {attempt} attempts)"));
                    }
                    std::thread::sleep(backoff);
                }
            }
        }
    }
}

/// A failed reply explained: what failed, and which permission to grant.
/// One write to a secret (`PUT` or `DELETE`): Ok when GitHub answers one of `ok`, else what
/// failed and which token permission it needs.
fn write_secret(
    api: &Api,
    g: &GitHubTarget,
    (method, path, body): (&str, &str, Option<&str>),
    ok: &[u16],
    what: &str,
) -> Result<(), String> {
    let r = api.request(method, path, body)?;
    if ok.contains(&r.status) {
        Ok(())
    } else {
        Err(explain(g, what, Need::SecretsWrite, &r))
    }
}

fn explain(g: &GitHubTarget, what: &str, need: Need, r: &Reply) -> String {
    let env = g.environment.is_some();
    let accepted = r
        .accepted
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(|a| format!(" (GitHub names it: X-Accepted-GitHub-Permissions: {a})"))
        .unwrap_or_default();
    let msg = message_of(&r.body);
    match r.status {
        401 => format!(
            "{what}: GitHub rejected the token (401 {msg}): it is missing, mistyped, expired or revoked; check GITHUB_TOKEN / GH_TOKEN"
        ),
        403 => format!(
            "{what}: forbidden (403 {msg}): the token lacks {}{accepted}. The workflow's own GITHUB_TOKEN cannot write Actions secrets: use a fine-grained token or a GitHub App installation token",
            need.text(env)
        ),
        404 => format!(
            "{what}: not found (404 {msg}): {} does not exist, or the token cannot see it (GitHub answers 404 when access is missing): the token needs {} on {}/{}{accepted}",
            g.what_scope(),
            need.text(env),
            g.owner,
            g.repo
        ),
        s => format!("{what}: HTTP {s}: {msg}"),
    }
}

/// The scope's public key: (key_id, 32-byte key).
pub fn public_key(api: &Api, g: &GitHubTarget) -> std::result::Result<(String, [u8; 32]), String> {
    use base64::Engine;
    let r = api.request("GET", &format!("{}/secrets/public-key", g.scope()), None)?;
    if r.status != 200 {
        return Err(explain(
            g,
            "reading the secrets public key",
            Need::SecretsRead,
            &r,
        ));
    }
    let v: serde_json::Value =
        serde_json::from_str(&r.body).map_err(|e| format!("public key reply: {e}"))?;
    let key_id = v
        .get("key_id")
        .and_then(|k| k.as_str())
        .ok_or("public key reply has no key_id")?
        .to_string();
    let key = v
        .get("key")
        .and_then(|k| k.as_str())
        .ok_or("public key reply has no key")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|e| format!("public key is not base64: {e}"))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "public key is not 32 bytes".to_string())?;
    Ok((key_id, arr))
}

/// Names of the secrets in the scope (all pages).
pub fn list_secrets(api: &Api, g: &GitHubTarget) -> std::result::Result<BTreeSet<String>, String> {
    let mut names = BTreeSet::new();
    for page in 1..=50 {
        let r = api.request(
            "GET",
            &format!("{}/secrets?per_page=100&page={page}", g.scope()),
            None,
        )?;
        if r.status != 200 {
            return Err(explain(g, "listing secrets", Need::SecretsRead, &r));
        }
        let v: serde_json::Value =
            serde_json::from_str(&r.body).map_err(|e| format!("secrets list reply: {e}"))?;
        let items = v
            .get("secrets")
            .and_then(|s| s.as_array())
            .cloned()
            .unwrap_or_default();
        for s in &items {
            if let Some(n) = s.get("name").and_then(|n| n.as_str()) {
                names.insert(n.to_ascii_uppercase());
            }
        }
        let total = v.get("total_count").and_then(|t| t.as_u64()).unwrap_or(0) as usize;
        if items.len() < 100 || names.len() >= total {
            break;
        }
    }
    Ok(names)
}

/// The fingerprints spx recorded for the scope: `None` when there is no state variable yet.
pub fn read_state(
    api: &Api,
    g: &GitHubTarget,
) -> std::result::Result<Option<BTreeMap<String, String>>, String> {
    let r = api.request(
        "GET",
        &format!("{}/variables/{}", g.scope(), g.state_variable),
        None,
    )?;
    match r.status {
        200 => {}
        404 => return Ok(None),
        _ => {
            return Err(explain(
                g,
                &format!("reading the variable {}", g.state_variable),
                Need::VariablesRead,
                &r,
            ))
        }
    }
    let v: serde_json::Value =
        serde_json::from_str(&r.body).map_err(|e| format!("variable reply: {e}"))?;
    let text = v.get("value").and_then(|x| x.as_str()).unwrap_or("");
    let state: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    let mut out = BTreeMap::new();
    if let Some(m) = state.get("secrets").and_then(|s| s.as_object()) {
        for (k, v) in m {
            if let Some(f) = v.as_str() {
                out.insert(k.to_ascii_uppercase(), f.to_string());
            }
        }
    }
    Ok(Some(out))
}

fn state_json(state: &BTreeMap<String, String>) -> String {
    serde_json::json!({ "version": 1, "secrets": state }).to_string()
}

fn write_state(
    api: &Api,
    g: &GitHubTarget,
    state: &BTreeMap<String, String>,
    exists: bool,
) -> std::result::Result<(), String> {
    let value = state_json(state);
    let body = serde_json::json!({ "name": g.state_variable, "value": value }).to_string();
    let r = if exists {
        api.request(
            "PATCH",
            &format!("{}/variables/{}", g.scope(), g.state_variable),
            Some(&body),
        )?
    } else {
        api.request("POST", &format!("{}/variables", g.scope()), Some(&body))?
    };
    if matches!(r.status, 200 | 201 | 204) {
        Ok(())
    } else {
        Err(explain(
            g,
            &format!(
                "the secrets were pushed, but recording their fingerprints in the variable {} failed",
                g.state_variable
            ),
            Need::VariablesWrite,
            &r,
        ))
    }
}

/// What spx remembers of a pushed value (see the module header).
pub fn state_fingerprint(key_id: &str, name: &str, value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"spx-sync-v1\0");
    h.update(key_id.as_bytes());
    h.update(b"\0");
    h.update(name.as_bytes());
    h.update(b"\0");
    h.update(value.as_bytes());
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Seal a value for GitHub: libsodium `crypto_box_seal`, standard base64.
pub fn seal(key: &[u8; 32], value: &[u8]) -> std::result::Result<String, String> {
    use base64::Engine;
    let pk = crypto_box::PublicKey::from(*key);
    let sealed = pk
        .seal(&mut rand::rngs::OsRng, value)
        .map_err(|_| "sealing a value failed".to_string())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// GitHub's rules, checked before anything is sent.
fn validate(vars: &[Var], t: &Target) -> std::result::Result<(), String> {
    if vars.len() > MAX_SECRETS {
        return Err(format!(
            "target {}: {} secrets, but GitHub allows at most {MAX_SECRETS} per repository or environment; narrow it with keys:",
            t.name,
            vars.len()
        ));
    }
    for v in vars {
        if v.value.len() > MAX_VALUE_BYTES {
            return Err(format!(
                "{}: the value of {} is {} bytes; GitHub secrets hold at most 48 KB",
                v.origin,
                v.name,
                v.value.len()
            ));
        }
        if v.value.is_empty() {
            return Err(format!(
                "{}: {} is empty, and GitHub does not store empty secrets",
                v.origin, v.name
            ));
        }
    }
    Ok(())
}

/// Plan a scope from its secret names and recorded fingerprints.
fn plan_for(
    vars: &[Var],
    key_id: &str,
    existing: &BTreeSet<String>,
    state: &BTreeMap<String, String>,
    prune: bool,
) -> Plan {
    let mut plan = Plan::default();
    for v in vars {
        let fp = state_fingerprint(key_id, &v.name, &v.value);
        if !existing.contains(&v.name) {
            plan.changes.push(Change::Add {
                name: v.name.clone(),
                new: fingerprint(&v.value),
            });
        } else if state.get(&v.name) != Some(&fp) {
            plan.changes.push(Change::Modify {
                name: v.name.clone(),
                old: None,
                new: fingerprint(&v.value),
            });
        } else {
            plan.unchanged += 1;
        }
    }
    let wanted: BTreeSet<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    let mut unmanaged = 0;
    for name in existing {
        if wanted.contains(name.as_str()) {
            continue;
        }
        if state.contains_key(name) {
            plan.changes.push(Change::Remove {
                name: name.clone(),
                old: None,
                applies: prune,
            });
        } else {
            unmanaged += 1;
        }
    }
    if unmanaged > 0 {
        plan.notes.push(format!(
            "{unmanaged} other secret(s) in this scope were not pushed by spx and are left alone"
        ));
    }
    plan.writes = plan
        .changes
        .iter()
        .any(|c| !matches!(c, Change::Remove { applies: false, .. }));
    plan
}

/// Check, plan and (unless dry run) apply one GitHub target.
pub fn run(
    g: &GitHubTarget,
    t: &Target,
    vars: &[Var],
    opts: &Options,
    mut report: Report,
) -> Report {
    if let Err(e) = validate(vars, t) {
        return report.fail(e);
    }
    let unreachable = |mut report: Report, e: String| {
        if opts.check {
            report.lines.push(format!("unreachable: {e}"));
            report.status = Status::CheckProblems(exit::FAILED);
            report
        } else {
            report.fail(e)
        }
    };
    let api = match Api::from_env() {
        Ok(a) => a,
        Err(e) => return unreachable(report, e),
    };
    let (key_id, key) = match public_key(&api, g) {
        Ok(k) => k,
        Err(e) => return unreachable(report, e),
    };
    let existing = match list_secrets(&api, g) {
        Ok(x) => x,
        Err(e) => return unreachable(report, e),
    };
    let (mut state, state_exists) = match read_state(&api, g) {
        Ok(Some(s)) => (s, true),
        Ok(None) => (BTreeMap::new(), false),
        Err(e) => return unreachable(report, e),
    };
    let mut plan = plan_for(vars, &key_id, &existing, &state, opts.prune);
    if !state_exists && !existing.is_empty() {
        plan.notes.push(format!(
            "no {} variable yet: spx cannot tell which values GitHub holds, so it sends them all",
            g.state_variable
        ));
    }
    let writes = plan.writes;
    let changes = plan.changes.clone();
    report.plan = Some(plan);
    if opts.check {
        report.lines.push("reachable".into());
        // Secrets that left the sops files count as drift too, pruned or not.
        if !changes.is_empty() {
            report
                .lines
                .push("drift: the secrets differ from the sops files".into());
            report.status = Status::CheckProblems(exit::DRIFT);
        } else {
            report.lines.push("secrets match the sops files".into());
            report.status = Status::CheckOk;
        }
        return report;
    }
    if !writes {
        report.status = Status::Unchanged;
        return report;
    }
    if opts.dry_run {
        report.status = Status::Planned;
        return report;
    }
    let before = state.clone();
    let mut failure = None;
    let mut sent = 0;
    for c in &changes {
        let name = c.name().to_string();
        match c {
            Change::Add { .. } | Change::Modify { .. } => {
                let Some(v) = vars.iter().find(|v| v.name == name) else {
                    continue;
                };
                let sealed = match seal(&key, v.value.as_bytes()) {
                    Ok(s) => s,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                let body =
                    serde_json::json!({ "encrypted_value": sealed, "key_id": key_id }).to_string();
                let path = format!("{}/secrets/{}", g.scope(), encode_segment(&name));
                match write_secret(
                    &api,
                    g,
                    ("PUT", &path, Some(&body)),
                    &[201, 204],
                    &format!("writing secret {name}"),
                ) {
                    Ok(()) => {
                        sent += 1;
                        state.insert(name.clone(), state_fingerprint(&key_id, &name, &v.value));
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            Change::Remove { applies: true, .. } => {
                let path = format!("{}/secrets/{}", g.scope(), encode_segment(&name));
                match write_secret(
                    &api,
                    g,
                    ("DELETE", &path, None),
                    &[204, 404],
                    &format!("deleting secret {name}"),
                ) {
                    Ok(()) => {
                        state.remove(&name);
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            Change::Remove { .. } => {}
        }
    }
    // Forget fingerprints of secrets that no longer exist on GitHub.
    state.retain(|k, _| existing.contains(k) || vars.iter().any(|v| &v.name == k));
    if state != before || !state_exists {
        if let Err(e) = write_state(&api, g, &state, state_exists) {
            failure = Some(match failure {
                Some(f) => format!("{f}; {e}"),
                None => e,
            });
        }
    }
    report.lines.push(format!("{sent} secret(s) sent"));
    match failure {
        Some(f) => report.fail(f),
        None => {
            report.status = Status::Updated;
            report
        }
    }
}

/// Post a commit comment (names and counts only).
pub fn comment_commit(owner_repo: &str, sha: &str, body: &str) -> std::result::Result<(), String> {
    let g = GitHubTarget::new(owner_repo, None, super::DEFAULT_STATE_VARIABLE.into())?;
    if sha.is_empty() || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("--comment-commit {sha:?}: expected a commit SHA"));
    }
    let api = Api::from_env()?;
    let payload = serde_json::json!({ "body": body }).to_string();
    let r = api.request(
        "POST",
        &format!("{}/commits/{sha}/comments", g.repo_path()),
        Some(&payload),
    )?;
    if r.status == 201 || r.status == 200 {
        Ok(())
    } else {
        Err(explain(
            &g,
            &format!("commenting on commit {sha}"),
            Need::CommitComment,
            &r,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(n: &str, v: &str) -> Var {
        Var {
            name: n.into(),
            value: v.to_string().into(),
            origin: format!("f: key {n}"),
        }
    }

    #[test]
    fn scopes_and_encoding() {
        let g = GitHubTarget::new("o/r", Some("prod env".into()), "SPX_SYNC_STATE".into()).unwrap();
        assert_eq!(g.scope(), "/repos/o/r/environments/prod%20env");
        let r = GitHubTarget::new("o/r", None, "x_state".into()).unwrap();
        assert_eq!(r.scope(), "/repos/o/r/actions");
        assert_eq!(r.state_variable, "X_STATE");
        assert!(GitHubTarget::new("o/r/x", None, "S".into()).is_err());
        assert!(GitHubTarget::new("o/r", None, "GITHUB_X".into()).is_err());
    }

    #[test]
    fn plan_uses_recorded_fingerprints() {
        let vars = vec![var("A", "1"), var("B", "2"), var("C", "3")];
        let existing: BTreeSet<String> = ["A", "B", "OLD", "HAND"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut state = BTreeMap::new();
        state.insert("A".to_string(), state_fingerprint("k1", "A", "1"));
        state.insert("B".to_string(), state_fingerprint("k1", "B", "old"));
        state.insert("OLD".to_string(), "x".to_string());
        let p = plan_for(&vars, "k1", &existing, &state, false);
        assert_eq!(p.unchanged, 1);
        let names: Vec<(&str, char)> = p
            .changes
            .iter()
            .map(|c| {
                (
                    c.name(),
                    match c {
                        Change::Add { .. } => '+',
                        Change::Modify { .. } => '~',
                        Change::Remove { .. } => '-',
                    },
                )
            })
            .collect();
        assert_eq!(names, vec![("B", '~'), ("C", '+'), ("OLD", '-')]);
        assert_eq!(p.counts(), (1, 1, 0));
        assert!(p.notes[0].contains("1 other"));
        // A new public key id re-sends everything once.
        let p2 = plan_for(&vars, "k2", &existing, &state, true);
        assert_eq!(p2.unchanged, 0);
        assert_eq!(p2.counts(), (1, 2, 1));
    }

    #[test]
    fn rules_before_sending() {
        let t = Target {
            name: "gh".into(),
            sources: vec![],
            shape: super::super::render::Shape {
                upper: false,
                keys: None,
                rule: super::super::render::NameRule::GitHub,
            },
            kind: super::super::Kind::GitHub(GitHubTarget::new("o/r", None, "S".into()).unwrap()),
        };
        let big = "x".repeat(MAX_VALUE_BYTES + 1);
        let e = validate(&[var("BIG", &big)], &t).unwrap_err();
        assert!(
            e.contains("BIG") && e.contains("48 KB") && !e.contains("xxxx"),
            "{e}"
        );
        assert!(validate(&[var("OK", &"x".repeat(MAX_VALUE_BYTES))], &t).is_ok());
        let many: Vec<Var> = (0..101).map(|i| var(&format!("K{i}"), "v")).collect();
        assert!(validate(&many, &t).is_err());
    }

    #[test]
    fn sealed_box_has_the_libsodium_layout() {
        use base64::Engine;
        let sk = crypto_box::SecretKey::generate(&mut rand::rngs::OsRng);
        let pk = *sk.public_key().as_bytes();
        let b = seal(&pk, b"hello").unwrap();
        let raw = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
        assert_eq!(raw.len(), 5 + 48);
        assert_eq!(sk.unseal(&raw).unwrap(), b"hello");
    }

    #[test]
    fn permission_messages() {
        let g = GitHubTarget::new("o/r", None, "S".into()).unwrap();
        let r = Reply {
            status: 403,
            body: "{\"message\":\"Resource not accessible by integration\"}".into(),
            accepted: Some("secrets=write".into()),
        };
        let m = explain(&g, "writing secret X", Need::SecretsWrite, &r);
        assert!(
            m.contains("Secrets: read and write") && m.contains("secrets=write"),
            "{m}"
        );
        let r404 = Reply {
            status: 404,
            body: "{\"message\":\"Not Found\"}".into(),
            accepted: None,
        };
        assert!(explain(&g, "x", Need::SecretsRead, &r404).contains("cannot see it"));
    }
}
