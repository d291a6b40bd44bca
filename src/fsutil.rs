//! Careful file handling: atomic writes that keep the file's mode, one writer per file (lock),
//! and private temporary directories for plaintext that are removed on every exit path,
//! including SIGINT/SIGTERM/SIGHUP.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Write `bytes` to `path` atomically: a temp file in the same directory, fsync, rename, fsync
/// of the directory. The existing file's mode is kept (new files get 0644 & ~umask, like sops).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write_inner(path, bytes, None)
}

/// Like `atomic_write`, but a file that does not exist yet gets `new_mode` (e.g. 0600 for
/// plaintext output).
pub fn atomic_write_mode(path: &Path, bytes: &[u8], new_mode: u32) -> Result<()> {
    atomic_write_inner(path, bytes, Some(new_mode))
}

fn atomic_write_inner(path: &Path, bytes: &[u8], new_mode: Option<u32>) -> Result<()> {
    let werr = |source: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mode = std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.spx-",
            path.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        ))
        .tempfile_in(&dir)
        .map_err(werr)?;
    let target_mode = mode
        .or(new_mode)
        .unwrap_or_else(|| 0o666 & !current_umask());
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(target_mode))
        .map_err(werr)?;
    tmp.write_all(bytes).map_err(werr)?;
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(path).map_err(|e| werr(e.error))?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn current_umask() -> u32 {
    // SAFETY: umask is process-global; we set it back immediately.
    unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m as u32
    }
}

/// Every regular file under `dir`, sorted, not descending into `.git`, `target`,
/// `node_modules` or `.venv` (where a repository's own secrets files never live). The walk
/// behind `updatekeys`, `recipients` and `doctor`.
pub fn repository_walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                let name = e.file_name();
                if !matches!(
                    name.to_str(),
                    Some(".git" | "target" | "node_modules" | ".venv")
                ) {
                    stack.push(e.path());
                }
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// An exclusive lock on a file being changed, held until dropped. The lock is taken on a
/// sibling `.<name>.spx-lock` file (never on the secrets file itself, which is replaced by
/// rename and so would lose the lock).
pub struct FileLock {
    _file: File,
    pub path: PathBuf,
}

impl FileLock {
    /// Take the lock or fail at once if another process holds it.
    pub fn try_acquire(target: &Path) -> Result<FileLock> {
        let path = lock_path(target);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {
                remove_stale_temps(target);
                Ok(FileLock { _file: file, path })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
                file: target.display().to_string(),
                lock: path.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(Error::Write { path, source }),
        }
    }

    /// Wait for the lock (for short writers such as `set`).
    pub fn acquire(target: &Path) -> Result<FileLock> {
        let path = lock_path(target);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        file.lock().map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        remove_stale_temps(target);
        Ok(FileLock { _file: file, path })
    }
}

/// Every writer of `target` holds its lock while it writes, so with the lock held a temp file
/// `.<name>.spx-XXXXXX` beside it can only be left by a writer that was killed (SIGKILL, power
/// loss) between creating and renaming it. It holds ciphertext (the next version of the file,
/// never plaintext); remove it so killed writers leave nothing behind for long.
fn remove_stale_temps(target: &Path) {
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().to_string()) else {
        return;
    };
    let prefix = format!(".{name}.spx-");
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let f = e.file_name();
        let f = f.to_string_lossy();
        if let Some(rest) = f.strip_prefix(&prefix) {
            let is_temp = rest.len() == 6 && rest.chars().all(|c| c.is_ascii_alphanumeric());
            if is_temp && e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

pub fn lock_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.spx-lock"))
}

/// Directories holding plaintext, removed by the signal handler if the process is stopped.
fn registry() -> &'static Mutex<Vec<PathBuf>> {
    static R: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Vec::new()))
}

/// Install handlers so SIGINT/SIGTERM/SIGHUP remove every private directory before exiting.
pub fn install_signal_cleanup() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            std::thread::spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    if let Ok(dirs) = registry().lock() {
                        for d in dirs.iter() {
                            let _ = std::fs::remove_dir_all(d);
                        }
                    }
                    eprintln!("spx: interrupted; plaintext removed, no file was changed");
                    std::process::exit(128 + sig);
                }
            });
        }
    });
}

/// A 0700 directory for plaintext, on tmpfs when there is one, removed on drop and on signals.
pub struct PrivateDir {
    dir: Option<tempfile::TempDir>,
    pub on_tmpfs: bool,
}

impl PrivateDir {
    pub fn new() -> Result<PrivateDir> {
        install_signal_cleanup();
        let (base, on_tmpfs) = tmpfs_base();
        let dir = tempfile::Builder::new()
            .prefix("spx-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&base)
            .map_err(|source| Error::Write {
                path: base.clone(),
                source,
            })?;
        registry()
            .lock()
            .expect("registry lock")
            .push(dir.path().to_path_buf());
        Ok(PrivateDir {
            dir: Some(dir),
            on_tmpfs,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("present until drop").path()
    }

    /// Create a 0600 file in the directory with the given content.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let p = self.path().join(name);
        let mut f = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&p)
            .map_err(|source| Error::Write {
                path: p.clone(),
                source,
            })?;
        f.write_all(bytes).map_err(|source| Error::Write {
            path: p.clone(),
            source,
        })?;
        Ok(p)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            let p = d.path().to_path_buf();
            // Overwrite regular files before unlinking them (best effort; tmpfs has no blocks).
            if let Ok(rd) = std::fs::read_dir(&p) {
                for e in rd.flatten() {
                    if let Ok(md) = e.metadata() {
                        if md.is_file() && md.len() > 0 {
                            if let Ok(mut f) = OpenOptions::new().write(true).open(e.path()) {
                                let _ = f.write_all(&vec![0u8; md.len() as usize]);
                            }
                        }
                    }
                }
            }
            let _ = d.close();
            if let Ok(mut r) = registry().lock() {
                r.retain(|x| x != &p);
            }
        }
    }
}

/// `$XDG_RUNTIME_DIR` or `/dev/shm` when writable (memory-backed), else the temp dir.
/// Whether `p` is on a memory-backed file system (tmpfs or ramfs), by statfs(2).
pub fn is_tmpfs(p: &Path) -> bool {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statfs(2) with a valid NUL-terminated path and a zeroed struct we own.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        if libc::statfs(c.as_ptr(), &mut st) != 0 {
            return false;
        }
        #[allow(clippy::unnecessary_cast)]
        let t = st.f_type as i64;
        t == TMPFS_MAGIC || t == RAMFS_MAGIC
    }
}

fn tmpfs_base() -> (PathBuf, bool) {
    if let Some(p) = std::env::var_os("SPX_TMPDIR") {
        let p = PathBuf::from(p);
        let on = is_tmpfs(&p);
        return (p, on);
    }
    for cand in [
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        Some(PathBuf::from("/dev/shm")),
    ]
    .into_iter()
    .flatten()
    {
        if cand.is_dir() && is_writable(&cand) && is_tmpfs(&cand) {
            return (cand, true);
        }
    }
    let t = std::env::temp_dir();
    let on = is_tmpfs(&t);
    (t, on)
}

fn is_writable(p: &Path) -> bool {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: access(2) with a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Refuse core dumps while plaintext is in memory.
pub fn disable_core_dumps() {
    let rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit with a valid struct.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &rl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.yaml");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        atomic_write(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // No temp file left behind.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn taking_the_lock_removes_temps_left_by_killed_writers() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("s.yaml");
        std::fs::write(&target, "a: 1\n").unwrap();
        let stale = d.path().join(".s.yaml.spx-Ab3dE9");
        let other = d.path().join(".t.yaml.spx-Ab3dE9");
        let longer = d.path().join(".s.yaml.spx-keepme-too");
        for p in [&stale, &other, &longer] {
            std::fs::write(p, "x").unwrap();
        }
        let _l = FileLock::acquire(&target).unwrap();
        assert!(!stale.exists());
        assert!(other.exists() && longer.exists() && target.exists());
        assert!(lock_path(&target).exists());
    }

    #[test]
    fn lock_is_exclusive() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.yaml");
        let l = FileLock::try_acquire(&p).unwrap();
        let e = FileLock::try_acquire(&p).err().unwrap();
        assert!(e.to_string().contains("another spx process"), "{e}");
        drop(l);
        FileLock::try_acquire(&p).unwrap();
    }

    #[test]
    fn private_dir_is_0700_and_removed() {
        let pd = PrivateDir::new().unwrap();
        let path = pd.path().to_path_buf();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let f = pd.write_file("x.yaml", b"secret").unwrap();
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(pd);
        assert!(!path.exists());
    }
}
