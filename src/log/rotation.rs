//! Who made a change and why: the `rotator` and `reason` cells.

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::Path;

/// Why and by whom, shared by every row of one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub reason: String,
    pub rotator: String,
}

/// The reason recorded when none was given and nobody could be asked.
pub const UNSPECIFIED: &str = "unspecified";

/// The repository's git identity, `user.name <user.email>` (as `git config` resolves it for
/// that repository: local, then global, then system); else the OS user from `$USER` or
/// `$LOGNAME`; else `unknown`.
pub fn rotator(repo_root: &Path) -> String {
    // As git names a commit's author: GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL override the config.
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let get = |k: &str| {
        super::git(repo_root, &["config", "--get", k])
            .and_then(|o| String::from_utf8(o).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let name = env("GIT_AUTHOR_NAME").or_else(|| get("user.name"));
    let email = env("GIT_AUTHOR_EMAIL").or_else(|| get("user.email"));
    match (name, email) {
        (Some(n), Some(e)) => return format!("{n} <{e}>"),
        (Some(n), None) => return n,
        (None, Some(e)) => return format!("<{e}>"),
        (None, None) => {}
    }
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            let v = v.trim();
            if !v.is_empty() {
                return v.to_string();
            }
        }
    }
    os_user().unwrap_or_else(|| "unknown".into())
}

/// The login name of the real user id, from the password database.
fn os_user() -> Option<String> {
    // SAFETY: getpwuid_r with a buffer we own; the result points into that buffer.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let mut buf = vec![0 as libc::c_char; 4096];
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() || pw.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pw.pw_name)
            .to_string_lossy()
            .into_owned();
        (!name.is_empty()).then_some(name)
    }
}

/// The reason: `explicit` (`--reason`) if given, else `$SPX_REASON`, else — when stdin and
/// stderr are terminals — one question on the terminal ([`ask_reason`]), else `unspecified`.
/// An empty reason (from any source) is recorded as `unspecified`. Call it once per command, after the editor
/// has closed.
pub fn resolve_reason(explicit: Option<&str>) -> Result<String> {
    let given = match (explicit, std::env::var("SPX_REASON")) {
        (Some(r), _) => r.to_string(),
        (None, Ok(r)) => r,
        (None, Err(_)) if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            ask_reason()?
        }
        (None, Err(_)) => String::new(),
    };
    let given = given.trim();
    Ok(if given.is_empty() {
        UNSPECIFIED.into()
    } else {
        given.to_string()
    })
}

/// Ask for a reason on the controlling terminal (`/dev/tty`), once. Returns the line typed,
/// trimmed (possibly empty).
pub fn ask_reason() -> Result<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|e| Error::Read {
            path: "/dev/tty".into(),
            source: e,
        })?;
    let writer = tty.try_clone().map_err(|e| Error::Write {
        path: "/dev/tty".into(),
        source: e,
    })?;
    read_reason(BufReader::new(tty), writer)
}

/// The question and answer of [`ask_reason`], over any reader and writer.
pub fn read_reason<R: BufRead, W: Write>(mut input: R, mut prompt: W) -> Result<String> {
    let werr = |e| Error::Write {
        path: "/dev/tty".into(),
        source: e,
    };
    prompt
        .write_all(b"Reason for this change (recorded in the rotation log; Enter to skip): ")
        .map_err(werr)?;
    prompt.flush().map_err(werr)?;
    let mut line = String::new();
    input.read_line(&mut line).map_err(|e| Error::Read {
        path: "/dev/tty".into(),
        source: e,
    })?;
    Ok(line.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_user_is_the_login_name_of_this_uid() {
        let name = os_user().expect("this uid has a passwd entry");
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        let id = std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap();
        assert_eq!(
            name,
            String::from_utf8(id.stdout).unwrap().trim(),
            "uid {uid}"
        );
    }

    #[test]
    fn read_reason_prompts_and_trims() {
        let mut out = Vec::new();
        let r = read_reason(&b"  offboarding bob \nrest\n"[..], &mut out).unwrap();
        assert_eq!(r, "offboarding bob");
        assert!(String::from_utf8(out)
            .unwrap()
            .starts_with("Reason for this change"));
        let r = read_reason(&b""[..], Vec::new()).unwrap();
        assert_eq!(r, "");
    }

    #[test]
    fn explicit_reason_wins() {
        assert_eq!(resolve_reason(Some(" leak ")).unwrap(), "leak");
        assert_eq!(resolve_reason(Some("")).unwrap(), UNSPECIFIED);
    }
}
