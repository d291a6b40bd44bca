//! SSH targets: a `.env` file on a host, regenerated over SSH (libssh2).
//!
//! * The host key must match `known_hosts`; an unknown or changed key is a refusal.
//!   `--accept-new-host-key` records an unknown one (never replaces a changed one).
//! * Authentication: the key in `SPX_SSH_KEY` (contents, as CI passes it), the key file in
//!   `SPX_SSH_KEY_FILE`, ssh-agent, then `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`
//!   (`SPX_SSH_KEY_PASSPHRASE` for an encrypted key).
//! * The deployed file is read over SFTP and compared byte for byte; nothing is written when it
//!   matches. Otherwise the new content goes over SFTP into a 0600 temp file in the same
//!   directory, and one fixed shell command keeps the old file as `.env.bak` (a hard link) and
//!   renames the temp file over `.env`. Values never appear in a command line.
//! * The restart command runs only after a change; if it fails, the previous file is put back
//!   (or the new one removed when there was none) and the target is reported failed.

use super::render::{self, Var};
use super::{diff, exit, redact, Options, Plan, Report, Status, Target};
use ssh2::{CheckResult, ExtendedData, HostKeyType, KnownHostFileKind, OpenFlags, OpenType};
use ssh2::{Session, Sftp};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const IO_TIMEOUT_MS: u32 = 60_000;
const RESTART_TIMEOUT_MS: u32 = 15 * 60_000;

#[derive(Clone, Debug)]
pub struct SshTarget {
    pub user: String,
    pub host: String,
    pub port: u16,
    pub known_hosts: PathBuf,
    pub env_file: String,
    pub restart: Option<String>,
    pub age_key: String,
}

impl SshTarget {
    /// `addr` is `[user@]host[:port]` (`[v6addr]:port` for IPv6).
    pub fn new(
        addr: &str,
        known_hosts: PathBuf,
        env_file: String,
        restart: Option<String>,
        age_key: String,
    ) -> std::result::Result<SshTarget, String> {
        let (user, rest) = match addr.rsplit_once('@') {
            Some((u, r)) => (u.to_string(), r),
            None => (
                std::env::var("USER").unwrap_or_else(|_| "root".into()),
                addr,
            ),
        };
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            let (h, tail) = r
                .split_once(']')
                .ok_or_else(|| format!("ssh: {addr:?}: unclosed [ in the address"))?;
            let port = match tail.strip_prefix(':') {
                Some(p) => p.parse().ok(),
                None if tail.is_empty() => Some(22),
                None => None,
            };
            (h.to_string(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().ok()),
                None => (rest.to_string(), Some(22)),
            }
        };
        let port = port.ok_or_else(|| format!("ssh: {addr:?}: the port is not a number"))?;
        if host.is_empty() || user.is_empty() {
            return Err(format!("ssh: {addr:?}: expected user@host[:port]"));
        }
        if !age_key.starts_with('/') {
            return Err(format!(
                "age_key: {age_key:?} must be an absolute path on the host"
            ));
        }
        Ok(SshTarget {
            user,
            host,
            port,
            known_hosts,
            env_file,
            restart,
            age_key,
        })
    }

    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            format!("{}@{}:{}", self.user, self.host, self.port)
        }
    }

    /// The host as `known_hosts` names it.
    fn known_hosts_name(&self) -> String {
        if self.port == 22 {
            self.host.clone()
        } else {
            format!("[{}]:{}", self.host, self.port)
        }
    }
}

/// Quote a word for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn key_type_name(t: HostKeyType) -> &'static str {
    match t {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

fn host_key_fingerprint(sess: &Session) -> String {
    use base64::Engine;
    match sess.host_key_hash(ssh2::HashType::Sha256) {
        Some(h) => format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
        ),
        None => "(no fingerprint)".into(),
    }
}

/// The `known_hosts` lines (plain host names, not hashed) that name this host, as
/// (line, key type).
fn known_host_types(t: &SshTarget, text: &str) -> Vec<String> {
    let want = [t.known_hosts_name(), t.host.clone()];
    let mut types = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some(mut hosts) = f.next() else { continue };
        if hosts.starts_with('#') {
            continue;
        }
        if hosts.starts_with('@') {
            match f.next() {
                Some(h) if hosts == "@cert-authority" => hosts = h,
                _ => continue,
            }
        }
        let names_it = hosts.split(',').any(|h| {
            if t.port == 22 {
                h == want[1]
            } else {
                h == want[0]
            }
        });
        if names_it {
            if let Some(kt) = f.next() {
                if !types.iter().any(|x| x == kt) {
                    types.push(kt.to_string());
                }
            }
        }
    }
    types
}

/// Host key algorithms to ask for, in libssh2's names, from the types `known_hosts` holds.
fn hostkey_prefs(types: &[String]) -> Option<String> {
    let mut prefs: Vec<&str> = Vec::new();
    for t in types {
        match t.as_str() {
            "ssh-rsa" => prefs.extend(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]),
            "ssh-ed25519"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521"
            | "ssh-dss" => prefs.push(t.as_str()),
            _ => {}
        }
    }
    prefs.dedup();
    (!prefs.is_empty()).then(|| prefs.join(","))
}

/// An authenticated session with a verified host key.
pub struct Conn {
    pub sess: Session,
    /// Remarks for the report (a host key recorded).
    pub notes: Vec<String>,
}

/// Connect, verify the host key, authenticate.
pub fn connect(t: &SshTarget, accept_new: bool) -> std::result::Result<Conn, String> {
    let addr = t.address();
    let addrs: Vec<_> = (t.host.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| format!("{addr}: cannot resolve {}: {e}", t.host))?
        .collect();
    let mut last = None;
    let mut tcp = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, CONNECT_TIMEOUT) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        format!(
            "{addr}: cannot connect: {}",
            last.map(|e| e.to_string())
                .unwrap_or_else(|| "no address".into())
        )
    })?;
    let _ = tcp.set_nodelay(true);
    let mut sess = Session::new().map_err(|e| format!("{addr}: {e}"))?;
    sess.set_tcp_stream(tcp);
    sess.set_timeout(IO_TIMEOUT_MS);

    let kh_text = match std::fs::read_to_string(&t.known_hosts) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(format!(
                "{addr}: cannot read {}: {e}",
                t.known_hosts.display()
            ))
        }
    };
    if let Some(p) = kh_text
        .as_deref()
        .map(|s| known_host_types(t, s))
        .and_then(|ty| hostkey_prefs(&ty))
    {
        let _ = sess.method_pref(ssh2::MethodType::HostKey, &p);
    }
    sess.handshake()
        .map_err(|e| format!("{addr}: SSH handshake failed: {e}"))?;

    let mut notes = Vec::new();
    verify_host_key(t, &sess, kh_text.as_deref(), accept_new, &mut notes)?;
    authenticate(t, &sess)?;
    Ok(Conn { sess, notes })
}

fn verify_host_key(
    t: &SshTarget,
    sess: &Session,
    kh_text: Option<&str>,
    accept_new: bool,
    notes: &mut Vec<String>,
) -> std::result::Result<(), String> {
    let addr = t.address();
    let (key, ktype) = sess
        .host_key()
        .ok_or_else(|| format!("{addr}: the server sent no host key"))?;
    let key = key.to_vec();
    let fp = host_key_fingerprint(sess);
    let kh_path = t.known_hosts.display();
    let mut kh = sess.known_hosts().map_err(|e| format!("{addr}: {e}"))?;
    // One line at a time: libssh2 stops a whole file at the first line it cannot parse (a key
    // type it does not know), which must not hide the lines after it.
    for line in kh_text.unwrap_or("").lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let _ = kh.read_str(l, KnownHostFileKind::OpenSSH);
    }
    match kh.check_port(&t.host, t.port, &key) {
        CheckResult::Match => Ok(()),
        CheckResult::Mismatch => Err(format!(
            "{addr}: REFUSED: the host key ({} {fp}) does not match the one in {kh_path}. The host may have been reinstalled, or someone is intercepting the connection. Verify the new key out of band, then replace the host's line in {kh_path}",
            key_type_name(ktype)
        )),
        CheckResult::NotFound if accept_new => {
            record_host_key(t, &key, ktype)?;
            notes.push(format!(
                "host key {} {fp} recorded in {kh_path} (--accept-new-host-key)",
                key_type_name(ktype)
            ));
            Ok(())
        }
        CheckResult::NotFound => Err(format!(
            "{addr}: REFUSED: the host is not in {kh_path}. Its key is {} {fp}; check that fingerprint out of band, then run again with --accept-new-host-key to record it (or add it to {kh_path})",
            key_type_name(ktype)
        )),
        CheckResult::Failure => Err(format!(
            "{addr}: cannot check the host key against {kh_path}"
        )),
    }
}

fn record_host_key(
    t: &SshTarget,
    key: &[u8],
    ktype: HostKeyType,
) -> std::result::Result<(), String> {
    use base64::Engine;
    let path = &t.known_hosts;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    }
    let mut prefix = String::new();
    if let Ok(existing) = std::fs::read(path) {
        if !existing.is_empty() && !existing.ends_with(b"\n") {
            prefix.push('\n');
        }
    }
    let line = format!(
        "{prefix}{} {} {}\n",
        t.known_hosts_name(),
        key_type_name(ktype),
        base64::engine::general_purpose::STANDARD.encode(key)
    );
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    f.write_all(line.as_bytes())
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

fn env_nonempty(name: &str) -> Option<Zeroizing<String>> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(Zeroizing::new)
}

fn authenticate(t: &SshTarget, sess: &Session) -> std::result::Result<(), String> {
    let user = t.user.as_str();
    let pass = env_nonempty("SPX_SSH_KEY_PASSPHRASE");
    let pass = pass.as_ref().map(|p| p.as_str());
    let mut tried: Vec<String> = Vec::new();
    if let Some(key) = env_nonempty("SPX_SSH_KEY") {
        tried.push("the key in SPX_SSH_KEY".into());
        // CI secrets often lose the final newline; libssh2 wants it.
        let mut k = Zeroizing::new(key.trim().to_string());
        k.push('\n');
        if sess.userauth_pubkey_memory(user, None, &k, pass).is_ok() && sess.authenticated() {
            return Ok(());
        }
        // Some key formats load only from a file: a 0600 file in a private directory.
        if let Ok(dir) = crate::fsutil::PrivateDir::new() {
            if let Ok(p) = dir.write_file("id", k.as_bytes()) {
                if sess.userauth_pubkey_file(user, None, &p, pass).is_ok() && sess.authenticated() {
                    return Ok(());
                }
            }
        }
    }
    if let Some(f) = std::env::var_os("SPX_SSH_KEY_FILE").filter(|f| !f.is_empty()) {
        let p = PathBuf::from(f);
        tried.push(format!("SPX_SSH_KEY_FILE={}", p.display()));
        if !p.is_file() {
            return Err(format!(
                "{}: SPX_SSH_KEY_FILE names {}, which does not exist",
                t.address(),
                p.display()
            ));
        }
        if sess.userauth_pubkey_file(user, None, &p, pass).is_ok() && sess.authenticated() {
            return Ok(());
        }
    }
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        tried.push("ssh-agent".into());
        if sess.userauth_agent(user).is_ok() && sess.authenticated() {
            return Ok(());
        }
    }
    if tried.is_empty() {
        if let Some(home) = std::env::var_os("HOME") {
            for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                let p = Path::new(&home).join(".ssh").join(name);
                if p.is_file() {
                    tried.push(p.display().to_string());
                    if sess.userauth_pubkey_file(user, None, &p, pass).is_ok()
                        && sess.authenticated()
                    {
                        return Ok(());
                    }
                }
            }
        }
    }
    if tried.is_empty() {
        return Err(format!(
            "{}: no SSH key to offer: set SPX_SSH_KEY_FILE (a key file) or SPX_SSH_KEY (its contents), or load the key into ssh-agent",
            t.address()
        ));
    }
    Err(format!(
        "{}: authentication failed for user {user}; tried {}",
        t.address(),
        tried.join(", ")
    ))
}

fn is_no_such_file(e: &ssh2::Error) -> bool {
    // LIBSSH2_FX_NO_SUCH_FILE
    matches!(e.code(), ssh2::ErrorCode::SFTP(2))
}

/// The deployed file, or `None` when there is none.
fn read_remote(sftp: &Sftp, path: &str) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    match sftp.open(Path::new(path)) {
        Ok(mut f) => {
            let mut buf = Zeroizing::new(Vec::new());
            f.read_to_end(&mut buf)
                .map_err(|e| format!("{path}: cannot read: {e}"))?;
            Ok(Some(buf))
        }
        Err(e) if is_no_such_file(&e) => Ok(None),
        Err(e) => Err(format!("{path}: cannot open: {e}")),
    }
}

/// Run a fixed command; stderr merged into stdout. Returns (exit status, output).
pub fn exec(sess: &Session, cmd: &str) -> std::result::Result<(i32, String), String> {
    let mut ch = sess
        .channel_session()
        .map_err(|e| format!("cannot open a channel: {e}"))?;
    ch.handle_extended_data(ExtendedData::Merge)
        .map_err(|e| e.to_string())?;
    ch.exec(cmd)
        .map_err(|e| format!("cannot run a command: {e}"))?;
    let _ = ch.send_eof();
    let mut out = Vec::new();
    ch.read_to_end(&mut out)
        .map_err(|e| format!("reading command output: {e}"))?;
    ch.wait_close().map_err(|e| e.to_string())?;
    let code = ch.exit_status().map_err(|e| e.to_string())?;
    Ok((code, String::from_utf8_lossy(&out).into_owned()))
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join(" | ")
}

fn random_suffix() -> String {
    use rand::RngCore;
    let mut b = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Plan a host: what the deployed `.env` holds against what the sops files give.
fn plan_for(vars: &[Var], current: Option<&[u8]>, wanted: &[u8]) -> Plan {
    match current {
        None => {
            let mut p = diff(vars, &[]);
            p.notes.push("no .env on the host yet".into());
            p.writes = true;
            p
        }
        Some(cur) => {
            let parsed = std::str::from_utf8(cur).ok().and_then(render::parse_env);
            let mut p = match parsed {
                Some(d) => diff(vars, &d),
                None => {
                    let mut p = diff(vars, &[]);
                    p.notes.push(
                        "the deployed .env does not parse as dotenv; it will be replaced".into(),
                    );
                    p
                }
            };
            p.writes = cur != wanted;
            if p.writes && p.changes.is_empty() {
                p.notes.push(
                    "same values, different layout (comments, order or quoting): the file is rewritten".into(),
                );
            }
            p
        }
    }
}

/// Check, plan and (unless dry run) apply one SSH target.
pub fn run(
    s: &SshTarget,
    _t: &Target,
    vars: &[Var],
    labels: &[String],
    opts: &Options,
    mut report: Report,
) -> Report {
    let content = match render::env_file(vars, labels) {
        Ok(c) => c,
        Err(e) => return report.fail(e.to_string()),
    };
    let conn = match connect(s, opts.accept_new_host_key) {
        Ok(c) => c,
        Err(e) => {
            if opts.check {
                report.lines.push(format!("unreachable: {e}"));
                report.status = Status::CheckProblems(exit::FAILED);
                return report;
            }
            return report.fail(e);
        }
    };
    report.lines.extend(conn.notes.iter().cloned());
    let sess = &conn.sess;
    let sftp = match sess.sftp() {
        Ok(x) => x,
        Err(e) => {
            let msg = format!("{}: the SFTP subsystem is not available: {e}", s.address());
            if opts.check {
                report.lines.push(format!("unreachable: {msg}"));
                report.status = Status::CheckProblems(exit::FAILED);
                return report;
            }
            return report.fail(msg);
        }
    };
    let current = match read_remote(&sftp, &s.env_file) {
        Ok(c) => c,
        Err(e) => return report.fail(format!("{}: {e}", s.address())),
    };
    let plan = plan_for(
        vars,
        current.as_deref().map(|v| v.as_slice()),
        content.as_bytes(),
    );
    let writes = plan.writes;
    report.plan = Some(plan);

    if opts.check {
        let mut bits = 0;
        report.lines.push("reachable".into());
        match sftp.stat(Path::new(&s.age_key)) {
            Ok(st) if st.is_file() => {
                let mode = st.perm.unwrap_or(0) & 0o7777;
                if mode & 0o077 != 0 {
                    bits |= exit::AGE_KEY_MISSING;
                    report.lines.push(format!(
                        "age identity {}: mode {mode:04o} lets others read it (AgeKeyMissing): chmod 600 it",
                        s.age_key
                    ));
                } else {
                    report.lines.push(format!(
                        "age identity {}: present, mode {mode:04o}",
                        s.age_key
                    ));
                }
            }
            Ok(_) => {
                bits |= exit::AGE_KEY_MISSING;
                report.lines.push(format!(
                    "age identity {}: not a regular file (AgeKeyMissing)",
                    s.age_key
                ));
            }
            Err(e) if is_no_such_file(&e) => {
                bits |= exit::AGE_KEY_MISSING;
                report.lines.push(format!(
                    "age identity {}: MISSING (AgeKeyMissing): the host cannot decrypt its secrets",
                    s.age_key
                ));
            }
            Err(e) => {
                bits |= exit::AGE_KEY_MISSING;
                report.lines.push(format!(
                    "age identity {}: cannot check ({e}) (AgeKeyMissing)",
                    s.age_key
                ));
            }
        }
        if writes {
            bits |= exit::DRIFT;
            report
                .lines
                .push(format!("drift: {} differs from the sops files", s.env_file));
        } else {
            report
                .lines
                .push(format!("{} matches the sops files", s.env_file));
        }
        if current.is_some() {
            if let Ok(st) = sftp.stat(Path::new(&s.env_file)) {
                let mode = st.perm.unwrap_or(0) & 0o7777;
                if mode & 0o077 != 0 {
                    report.lines.push(format!(
                        "warning: {} has mode {mode:04o}; the next sync writes it 0600",
                        s.env_file
                    ));
                }
            }
        }
        report.status = if bits == 0 {
            Status::CheckOk
        } else {
            Status::CheckProblems(bits)
        };
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
    match apply(s, sess, &sftp, &content, current.is_some(), vars) {
        Ok(lines) => {
            report.lines.extend(lines);
            report.status = Status::Updated;
            report
        }
        Err(e) => report.fail(e),
    }
}

/// Write the new `.env` atomically, keep the old one as `.env.bak`, restart, roll back on a
/// failed restart.
fn apply(
    s: &SshTarget,
    sess: &Session,
    sftp: &Sftp,
    content: &str,
    had_previous: bool,
    vars: &[Var],
) -> std::result::Result<Vec<String>, String> {
    let addr = s.address();
    let path = Path::new(&s.env_file);
    let dir = path
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into());
    let base = path
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".env".into());
    let tmp = format!(
        "{}/.{base}.spx-{}",
        dir.trim_end_matches('/'),
        random_suffix()
    );
    {
        let mut f = sftp
            .open_mode(
                Path::new(&tmp),
                OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                0o600,
                OpenType::File,
            )
            .map_err(|e| format!("{addr}: cannot create {tmp}: {e}"))?;
        let written = f.write_all(content.as_bytes()).and_then(|_| f.flush());
        if let Err(e) = written {
            drop(f);
            let _ = sftp.unlink(Path::new(&tmp));
            return Err(format!("{addr}: writing {tmp}: {e}"));
        }
        let _ = f.fsync();
    }
    // One command does the swap, the restart and, if the restart fails, the restore: one
    // round of session setup on the host instead of three. Markers on their own lines say how
    // far it got; the restart's own output is what lies between them.
    let f = sh_quote(&s.env_file);
    let t = sh_quote(&tmp);
    let mut script = format!(
        "f={f}; t={t}; trap 'rm -f \"$t\"' EXIT\n\
         chmod 600 \"$t\" && {{ if [ -e \"$f\" ]; then ln -f \"$f\" \"$f.bak\" 2>/dev/null || cp -p \"$f\" \"$f.bak\"; fi; }} && mv -f \"$t\" \"$f\" || {{ echo '{SWAP_FAILED}'; exit 1; }}\n\
         echo '{SWAPPED}'\n"
    );
    if let Some(restart) = &s.restart {
        let restore = if had_previous {
            "{ ln -f \"$f.bak\" \"$f.spx-restore\" 2>/dev/null || cp -p \"$f.bak\" \"$f.spx-restore\"; } && mv -f \"$f.spx-restore\" \"$f\""
        } else {
            "rm -f \"$f\""
        };
        script.push_str(&format!(
            "${{SHELL:-/bin/sh}} -c {}\nrc=$?\necho \"{RESTART}$rc\"\n\
             if [ \"$rc\" -ne 0 ]; then {restore} && echo '{RESTORED}' || echo '{RESTORE_FAILED}'; fi\n",
            sh_quote(restart)
        ));
    }
    script.push_str("exit 0\n");
    sess.set_timeout(RESTART_TIMEOUT_MS);
    let result = exec(sess, &script);
    sess.set_timeout(IO_TIMEOUT_MS);
    let (_, out) = result.map_err(|e| {
        format!(
            "{addr}: {e}; the state of {} is unknown: run `spx sync --check`",
            s.env_file
        )
    })?;
    let outcome = Outcome::parse(&out);
    if !outcome.swapped {
        return Err(format!(
            "{addr}: could not put {} in place: {}",
            s.env_file,
            redact(&tail(&outcome.output, 3), vars)
        ));
    }
    let mut lines = vec![if had_previous {
        format!("wrote {} (previous kept as {}.bak)", s.env_file, s.env_file)
    } else {
        format!("wrote {}", s.env_file)
    }];
    if s.restart.is_none() {
        return Ok(lines);
    }
    let failure = match outcome.restart {
        Some(0) => {
            lines.push("restart: ok".into());
            return Ok(lines);
        }
        Some(code) => format!(
            "restart exited with status {code}: {}",
            redact(&tail(&outcome.output, 5), vars)
        ),
        None => "the restart did not report its status".to_string(),
    };
    let restored = match (outcome.restored, had_previous) {
        (Some(true), true) => "the previous .env was restored",
        (Some(true), false) => "the new .env was removed (there was none before)",
        _ => "restoring the previous .env FAILED too: check the host",
    };
    Err(format!("{addr}: {failure}; {restored}"))
}

const SWAPPED: &str = "@spx:swapped";
const SWAP_FAILED: &str = "@spx:swap-failed";
const RESTART: &str = "@spx:restart=";
const RESTORED: &str = "@spx:restored";
const RESTORE_FAILED: &str = "@spx:restore-failed";

/// What the apply script reported.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    swapped: bool,
    restart: Option<i32>,
    restored: Option<bool>,
    /// Everything else (the restart's output, or the swap's errors).
    output: String,
}

impl Outcome {
    fn parse(out: &str) -> Outcome {
        let mut o = Outcome::default();
        let mut rest = Vec::new();
        for line in out.lines() {
            if line == SWAPPED {
                o.swapped = true;
            } else if line == SWAP_FAILED {
                o.swapped = false;
            } else if let Some(code) = line.strip_prefix(RESTART).and_then(|c| c.parse().ok()) {
                o.restart = Some(code);
            } else if line == RESTORED {
                o.restored = Some(true);
            } else if line == RESTORE_FAILED {
                o.restored = Some(false);
            } else {
                rest.push(line);
            }
        }
        o.output = rest.join("\n");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(addr: &str) -> SshTarget {
        SshTarget::new(
            addr,
            PathBuf::from("/kh"),
            "/opt/.env".into(),
            None,
            super::super::DEFAULT_AGE_KEY.into(),
        )
        .unwrap()
    }

    #[test]
    fn addresses_parse() {
        let a = t("deploy@h.example:2222");
        assert_eq!(
            (a.user.as_str(), a.host.as_str(), a.port),
            ("deploy", "h.example", 2222)
        );
        let b = t("root@10.0.0.1");
        assert_eq!(b.port, 22);
        assert_eq!(b.known_hosts_name(), "10.0.0.1");
        let c = t("u@[::1]:2200");
        assert_eq!((c.host.as_str(), c.port), ("::1", 2200));
        assert_eq!(c.known_hosts_name(), "[::1]:2200");
        assert!(SshTarget::new("u@h:x", PathBuf::new(), "/e".into(), None, "/k".into()).is_err());
        assert!(SshTarget::new("u@h", PathBuf::new(), "/e".into(), None, "rel".into()).is_err());
    }

    #[test]
    fn apply_script_markers() {
        let o =
            Outcome::parse("@spx:swapped\nstarting\nfailed here\n@spx:restart=3\n@spx:restored\n");
        assert!(o.swapped);
        assert_eq!(o.restart, Some(3));
        assert_eq!(o.restored, Some(true));
        assert_eq!(o.output, "starting\nfailed here");
        let o = Outcome::parse("mv: cannot move\n@spx:swap-failed\n");
        assert!(!o.swapped && o.restart.is_none());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sh_quote("/a b/it's"), "'/a b/it'\\''s'");
    }

    #[test]
    fn known_hosts_types_pick_the_host_line() {
        let a = t("u@127.0.0.1:2222");
        let text = "# c\n[127.0.0.1]:2222 ssh-ed25519 AAAA\n127.0.0.1 ssh-rsa BBBB\nother ecdsa-sha2-nistp256 CCCC\n";
        assert_eq!(known_host_types(&a, text), vec!["ssh-ed25519".to_string()]);
        assert_eq!(
            hostkey_prefs(&["ssh-rsa".to_string()]).unwrap(),
            "rsa-sha2-512,rsa-sha2-256,ssh-rsa"
        );
    }

    #[test]
    fn plan_compares_bytes_and_names() {
        let vars = vec![Var {
            name: "A".into(),
            value: "1".to_string().into(),
            origin: String::new(),
        }];
        let wanted = render::env_file(&vars, &["s".into()]).unwrap();
        let p = plan_for(&vars, Some(wanted.as_bytes()), wanted.as_bytes());
        assert!(!p.writes && p.changes.is_empty());
        let p = plan_for(&vars, Some(b"A='1'\n"), wanted.as_bytes());
        assert!(p.writes && p.changes.is_empty() && !p.notes.is_empty());
        let p = plan_for(&vars, None, wanted.as_bytes());
        assert!(p.writes && p.changes.len() == 1);
    }
}
