//! age recipients and identities: parse recipients (X25519, ssh-ed25519, ssh-rsa), wrap a data
//! key (or Shamir share) for one recipient as an armored age file (sops's `enc`), and find the
//! user's identities where sops finds them so an existing setup works unchanged.

use crate::error::{Error, Result};
use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use zeroize::Zeroizing;

/// A recipient as written in `.sops.yaml` / the `recipient` field: the exact string is kept,
/// because sops compares recipients as strings.
pub enum Recipient {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
    /// `age1NAME1…`: handled by the `age-plugin-NAME` binary on PATH (YubiKey, Secure Enclave…).
    Plugin(age::plugin::Recipient),
}

/// Terminal interaction for plugins and passphrase-protected identities: messages on stderr,
/// answers and passphrases read from the controlling terminal (never from stdin, which may
/// carry data), nothing when there is no terminal.
#[derive(Clone, Copy, Debug)]
pub struct UiCallbacks;

fn tty_line(prompt: &str, echo: bool) -> Option<String> {
    use std::io::{BufRead, Write};
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let _ = write!(tty, "{prompt}");
    let _ = tty.flush();
    use std::os::unix::io::AsRawFd;
    let fd = tty.as_raw_fd();
    // SAFETY: termios calls on an open terminal descriptor; the old settings are restored.
    let mut old: libc::termios = unsafe { std::mem::zeroed() };
    let have = unsafe { libc::tcgetattr(fd, &mut old) } == 0;
    if have && !echo {
        let mut new = old;
        new.c_lflag &= !libc::ECHO;
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &new) };
    }
    let mut line = String::new();
    let r = std::io::BufReader::new(&tty).read_line(&mut line);
    if have && !echo {
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &old) };
        let _ = writeln!(tty);
    }
    r.ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}

impl age::Callbacks for UiCallbacks {
    fn display_message(&self, message: &str) {
        eprintln!("spx: {message}");
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let answer = tty_line(
            &format!(
                "{message} [{yes}{}]: ",
                no.map(|n| format!("/{n}")).unwrap_or_default()
            ),
            true,
        )?;
        Some(
            answer.is_empty()
                || answer.eq_ignore_ascii_case(yes)
                || answer.eq_ignore_ascii_case(&yes[..1]),
        )
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        tty_line(&format!("{description}: "), true)
    }

    fn request_passphrase(&self, description: &str) -> Option<age::secrecy::SecretString> {
        tty_line(&format!("{description}: "), false).map(age::secrecy::SecretString::from)
    }
}

impl Recipient {
    pub fn parse(s: &str) -> Result<Recipient> {
        let s = s.trim();
        // An X25519 key's bech32 data has no `1`; a second `1` means `age1NAME1…`, a plugin.
        if s.starts_with("age1") && s[4..].contains('1') {
            age::plugin::Recipient::from_str(s)
                .map(Recipient::Plugin)
                .map_err(|e| {
                    Error::Recipient(format!("invalid age plugin recipient {}: {e}", short(s)))
                })
        } else if s.starts_with("age1") {
            age::x25519::Recipient::from_str(s).map(Recipient::X25519).map_err(|e| {
                Error::Recipient(format!(
                    "invalid age recipient {s:?}: {e}; an age public key looks like age1… (from `age-keygen -y` or `spx keygen`)"
                ))
            })
        } else if s.starts_with("ssh-") {
            age::ssh::Recipient::from_str(s).map(Recipient::Ssh).map_err(|e| {
                Error::Recipient(format!(
                    "unsupported SSH recipient {}: {e:?}; only ssh-ed25519 and ssh-rsa keys can be age recipients",
                    short(s)
                ))
            })
        } else {
            Err(Error::Recipient(format!(
                "unknown recipient type {:?}: expected an age1… key or an ssh-ed25519 / ssh-rsa public key",
                short(s)
            )))
        }
    }

    /// Encrypt `payload` to this recipient alone, ASCII-armored (sops's `enc`).
    pub fn wrap(&self, payload: &[u8]) -> Result<String> {
        let r_text = match self {
            Recipient::X25519(r) => r.to_string(),
            Recipient::Ssh(r) => r.to_string(),
            Recipient::Plugin(r) => r.to_string(),
        };
        let plugin;
        let r: &dyn age::Recipient = match self {
            Recipient::X25519(r) => r,
            Recipient::Ssh(r) => r,
            Recipient::Plugin(r) => {
                plugin = age::plugin::RecipientPluginV1::new(
                    r.plugin(),
                    std::slice::from_ref(r),
                    &[],
                    UiCallbacks,
                )
                .map_err(|e| {
                    Error::Recipient(format!("age plugin for {}: {e}", short(&r.to_string())))
                })?;
                &plugin
            }
        };
        let enc = age::Encryptor::with_recipients(std::iter::once(r))
            .map_err(|e| {
                Error::Recipient(format!(
                    "cannot encrypt the data key for {}: {e}; check this recipient in .sops.yaml or --age",
                    short(&r_text)
                ))
            })?;
        let mut out = Vec::with_capacity(400);
        let io = |e: std::io::Error| Error::Other(format!("cannot armor the data key: {e}"));
        let armor = ArmoredWriter::wrap_output(&mut out, ArmorFormat::AsciiArmor).map_err(io)?;
        let mut w = enc.wrap_output(armor).map_err(io)?;
        w.write_all(payload).map_err(io)?;
        w.finish().map_err(io)?.finish().map_err(io)?;
        Ok(String::from_utf8(out).expect("armor is ASCII"))
    }
}

/// The first 20 characters of a long key, for messages.
pub fn short(s: &str) -> String {
    if s.chars().count() > 24 {
        format!("{}…", s.chars().take(20).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Split a comma-separated recipient list (`--age`, `SOPS_AGE_RECIPIENTS`, `age:` in a rule).
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Where an identity source was looked for and what came of it (for error messages and doctor).
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub name: String,
    pub outcome: String,
}

/// All identities found, and the report of every place looked at.
pub struct Identities {
    list: Vec<Box<dyn age::Identity>>,
    pub public_keys: Vec<String>,
    pub sources: Vec<SourceReport>,
}

impl Identities {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Identities from an identity file's text (`AGE-SECRET-KEY-1…` lines, comments allowed).
    pub fn from_text(text: &str) -> Result<Identities> {
        let mut ids = Identities::empty();
        ids.add_text("given identities", text);
        match ids.sources.first() {
            Some(r) if r.outcome.starts_with("error") => Err(Error::Other(format!(
                "{}: {}; an identity file holds AGE-SECRET-KEY-1… lines (from `spx keygen` or `age-keygen`)",
                r.name,
                r.outcome.trim_start_matches("error: ")
            ))),
            _ => Ok(ids),
        }
    }

    fn empty() -> Identities {
        Identities {
            list: Vec::new(),
            public_keys: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// Gather identities from every source sops uses, in sops's order. A broken source is
    /// recorded and the others still count.
    pub fn discover() -> Identities {
        let mut ids = Identities::empty();
        let home = std::env::var_os("HOME").map(PathBuf::from);
        // 1. SSH keys.
        if let Some(p) = env_nonempty("SOPS_AGE_SSH_PRIVATE_KEY_FILE") {
            ids.add_ssh_file(&PathBuf::from(p), true);
        } else {
            ids.report("SOPS_AGE_SSH_PRIVATE_KEY_FILE", "not set".into());
        }
        if let Some(h) = &home {
            for name in ["id_ed25519", "id_rsa"] {
                ids.add_ssh_file(&h.join(".ssh").join(name), false);
            }
        }
        // 2. SOPS_AGE_KEY
        if let Some(text) = env_nonempty("SOPS_AGE_KEY") {
            ids.add_text("SOPS_AGE_KEY", &text);
        } else {
            ids.report("SOPS_AGE_KEY", "not set".into());
        }
        // 3. SOPS_AGE_KEY_FILE
        if let Some(p) = env_nonempty("SOPS_AGE_KEY_FILE") {
            ids.add_file(Path::new(&p), &format!("SOPS_AGE_KEY_FILE ({p})"), true);
        } else {
            ids.report("SOPS_AGE_KEY_FILE", "not set".into());
        }
        // 4. SOPS_AGE_KEY_CMD
        if let Some(cmd) = env_nonempty("SOPS_AGE_KEY_CMD") {
            ids.add_cmd(&cmd);
        } else {
            ids.report("SOPS_AGE_KEY_CMD", "not set".into());
        }
        // 5. the default keys.txt
        if let Some(p) = default_key_file() {
            ids.add_file(&p, &p.display().to_string(), false);
        }
        ids
    }

    fn add_ssh_file(&mut self, path: &Path, explicit: bool) {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                if explicit || e.kind() != std::io::ErrorKind::NotFound {
                    self.report(&name, format!("error: cannot read: {e}"));
                } else {
                    self.report(&name, "not present".into());
                }
                return;
            }
        };
        warn_permissions(path);
        match age::ssh::Identity::from_buffer(&bytes[..], Some(name.clone())) {
            Ok(age::ssh::Identity::Unencrypted(k)) => {
                self.list.push(Box::new(age::ssh::Identity::Unencrypted(k)));
                let pubkey = std::fs::read_to_string(format!("{name}.pub")).unwrap_or_default();
                if !pubkey.trim().is_empty() {
                    self.public_keys.push(pubkey.trim().to_string());
                }
                self.report(&name, "ssh key loaded".into());
            }
            Ok(age::ssh::Identity::Encrypted(_)) => {
                self.report(&name, "skipped: passphrase-protected SSH key".into());
            }
            Ok(age::ssh::Identity::Unsupported(k)) => {
                self.report(&name, format!("skipped: unsupported SSH key ({k:?})"));
            }
            Err(e) => self.report(&name, format!("error: not an SSH private key: {e}")),
        }
    }

    fn add_file(&mut self, path: &Path, name: &str, explicit: bool) {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_permissions(path);
                self.add_text(name, &text)
            }
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
                self.report(name, "not present".into())
            }
            Err(e) => self.report(name, format!("error: cannot read {}: {e}", path.display())),
        }
    }

    fn add_cmd(&mut self, cmd: &str) {
        let words = match shell_words::split(cmd) {
            Ok(w) if !w.is_empty() => w,
            _ => {
                return self.report(
                    "SOPS_AGE_KEY_CMD",
                    "error: cannot parse the command line".into(),
                )
            }
        };
        let out = std::process::Command::new(&words[0])
            .args(&words[1..])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let text = Zeroizing::new(String::from_utf8_lossy(&o.stdout).to_string());
                self.add_text("SOPS_AGE_KEY_CMD", &text);
            }
            Ok(o) => self.report(
                "SOPS_AGE_KEY_CMD",
                format!("error: command failed ({})", o.status),
            ),
            Err(e) => self.report(
                "SOPS_AGE_KEY_CMD",
                format!("error: cannot run {:?}: {e}", words[0]),
            ),
        }
    }

    fn add_text(&mut self, name: &str, text: &str) {
        // A passphrase-protected identity file (age -p): decrypted on first use, with the
        // passphrase read from the terminal.
        let head = text.trim_start();
        if head.starts_with("age-encryption.org/")
            || head.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
        {
            let reader = ArmoredReader::new(std::io::Cursor::new(text.as_bytes().to_vec()));
            match age::encrypted::Identity::from_buffer(
                reader,
                Some(name.to_string()),
                UiCallbacks,
                Some(22),
            ) {
                Ok(Some(id)) => {
                    self.list.push(Box::new(id));
                    return self.report(
                        name,
                        "passphrase-protected identity file (asks on the terminal when used)"
                            .into(),
                    );
                }
                Ok(None) => {
                    return self.report(
                        name,
                        "error: an age file that is not passphrase-encrypted".into(),
                    )
                }
                Err(e) => return self.report(name, format!("error: encrypted identity file: {e}")),
            }
        }
        let mut count = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with("AGE-SECRET-KEY-1") {
                match age::x25519::Identity::from_str(line) {
                    Ok(id) => {
                        self.public_keys.push(id.to_public().to_string());
                        self.list.push(Box::new(id));
                        count += 1;
                    }
                    Err(_) => {
                        return self.report(
                            name,
                            format!("error: line {}: malformed AGE-SECRET-KEY", i + 1),
                        );
                    }
                }
            } else if line.starts_with("AGE-PLUGIN-") {
                match age::plugin::Identity::from_str(line) {
                    Ok(id) => match age::plugin::IdentityPluginV1::new(
                        id.plugin(),
                        std::slice::from_ref(&id),
                        UiCallbacks,
                    ) {
                        Ok(p) => {
                            self.list.push(Box::new(p));
                            count += 1;
                        }
                        Err(e) => return self.report(name, format!("error: line {}: {e}", i + 1)),
                    },
                    Err(e) => {
                        return self.report(
                            name,
                            format!("error: line {}: malformed plugin identity: {e}", i + 1),
                        )
                    }
                }
            } else {
                return self.report(
                    name,
                    format!("error: line {}: unknown identity type", i + 1),
                );
            }
        }
        self.report(
            name,
            format!(
                "{count} age identit{}",
                if count == 1 { "y" } else { "ies" }
            ),
        );
    }

    fn report(&mut self, name: &str, outcome: String) {
        self.sources.push(SourceReport {
            name: name.to_string(),
            outcome,
        });
    }

    /// Open an armored (or binary) age file with any of the identities.
    pub fn unwrap(&self, enc: &str) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        if self.list.is_empty() {
            return Err("no identities found".into());
        }
        let reader = ArmoredReader::new(enc.as_bytes());
        let dec = age::Decryptor::new(reader).map_err(|e| format!("invalid age data: {e}"))?;
        let mut r = dec
            .decrypt(self.list.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => "no identity matched".to_string(),
                other => other.to_string(),
            })?;
        let mut out = Zeroizing::new(Vec::with_capacity(33));
        r.read_to_end(&mut out)
            .map_err(|e| format!("age payload: {e}"))?;
        Ok(out)
    }

    /// Where identities were looked for, on one line (for error messages); the environment
    /// variables that are not set are left out.
    pub fn describe_sources_inline(&self) -> String {
        let shown: Vec<String> = self
            .sources
            .iter()
            .filter(|s| s.outcome != "not set")
            .map(|s| format!("{}: {}", s.name, s.outcome))
            .collect();
        if shown.is_empty() {
            "nowhere (no identity variable is set)".into()
        } else {
            shown.join(", ")
        }
    }

    /// A human summary of where identities were looked for.
    pub fn describe_sources(&self) -> String {
        self.sources
            .iter()
            .map(|s| format!("  {}: {}", s.name, s.outcome))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `$XDG_CONFIG_HOME/sops/age/keys.txt` (absolute only, as Go requires), else
/// `~/.config/sops/age/keys.txt` (macOS: `~/Library/Application Support/sops/age/keys.txt`).
pub fn default_key_file() -> Option<PathBuf> {
    if let Some(x) = env_nonempty("XDG_CONFIG_HOME") {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return Some(p.join("sops/age/keys.txt"));
        }
    }
    let home = PathBuf::from(std::env::var_os("HOME")?);
    if cfg!(target_os = "macos") {
        Some(home.join("Library/Application Support/sops/age/keys.txt"))
    } else {
        Some(home.join(".config/sops/age/keys.txt"))
    }
}

/// Warn (once per file, on stderr) when an identity file can be read by group or others.
fn warn_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(md) = std::fs::metadata(path) {
        let mode = md.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "spx: warning: identity file {} is readable by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
}

/// Generate a new X25519 identity: (secret-key line, public key).
pub fn generate() -> (Zeroizing<String>, String) {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    (
        Zeroizing::new(id.to_string().expose_secret().to_string()),
        public,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_round_trip_x25519() {
        let (secret, public) = generate();
        let r = Recipient::parse(&public).unwrap();
        let enc = r.wrap(&[7u8; 32]).unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        let ids = Identities::from_text(&secret).unwrap();
        assert_eq!(&ids.unwrap(&enc).unwrap()[..], &[7u8; 32]);
        let (other, _) = generate();
        let ids = Identities::from_text(&other).unwrap();
        assert_eq!(ids.unwrap(&enc).unwrap_err(), "no identity matched");
    }

    #[test]
    fn recipient_parse_errors_are_clear() {
        let e = Recipient::parse("age1notakey").err().unwrap().to_string();
        assert!(e.contains("invalid age recipient"), "{e}");
        let e = Recipient::parse("pgp:ABCDEF").err().unwrap().to_string();
        assert!(e.contains("unknown recipient type"), "{e}");
    }

    #[test]
    fn identity_text_rejects_garbage_line() {
        assert!(Identities::from_text("# c\n\nnot a key\n").is_err());
    }

    #[test]
    fn split_list_trims_and_skips_empty() {
        assert_eq!(split_list(" a , b,,c "), vec!["a", "b", "c"]);
    }
}
