//! `spx keygen`: a new age identity at the default identity path (never overwriting one).

use super::Global;
use crate::error::{Error, Result};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx keygen                      # writes ~/.config/sops/age/keys.txt, prints the public key\n  spx keygen -o ./ci-key.txt"
)]
pub struct KeygenArgs {
    /// Where to write the identity (default: $SOPS_AGE_KEY_FILE or ~/.config/sops/age/keys.txt)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(_g: &Global, a: &KeygenArgs) -> Result<i32> {
    let path = a
        .output
        .clone()
        .or_else(|| {
            std::env::var_os("SOPS_AGE_KEY_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(crate::keys::default_key_file)
        .ok_or_else(|| {
            Error::Other("cannot find a home directory for the identity; pass -o FILE".into())
        })?;
    if path.exists() {
        return Err(Error::Other(format!(
            "{}: an identity file already exists; not overwriting it. Its public key: `age-keygen -y {}`",
            path.display(),
            path.display()
        )));
    }
    let public = write_identity(&path)?;
    crate::ui::info(format!("spx: wrote a new age identity to {} (mode 0600). Back it up; give others only the public key:", path.display()));
    println!("{public}");
    Ok(0)
}

/// Write a new X25519 identity to `path` (0600, parent created 0700, never overwriting);
/// returns the public key.
pub fn write_identity(path: &std::path::Path) -> Result<String> {
    let path = path.to_path_buf();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|source| Error::Write {
                    path: parent.to_path_buf(),
                    source,
                })?;
        }
    }
    let (secret, public) = crate::keys::generate();
    let created = crate::metadata::now_lastmodified();
    let mut f = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    let text = zeroize::Zeroizing::new(format!(
        "# created: {created}\n# public key: {public}\n{}\n",
        *secret
    ));
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    Ok(public)
}
