//! `spx filestatus`: `{"encrypted":true}` when the file is a complete sops file.

use super::{pick_format, read_input, Global};
use crate::error::{Error, Result};
use crate::store;

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx filestatus secrets/shared.sops.yaml   # prints {\"encrypted\":true}"
)]
pub struct FilestatusArgs {
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Output format: both print sops's `{"encrypted":true}` (json is accepted for scripts that
    /// ask for it explicitly)
    #[arg(long, value_enum, default_value_t = super::OutputFormat::Text)]
    pub format: super::OutputFormat,
    /// The file to check
    pub file: String,
}

pub fn run(_g: &Global, a: &FilestatusArgs) -> Result<i32> {
    let fmt = pick_format(a.input_type.as_deref(), &a.file)?;
    let bytes = read_input(&a.file)?;
    let mut docs = store::load_encrypted(fmt, &bytes, &a.file)
        .map_err(|e| Error::Other(format!("{e}; so its encryption status is unknown")))?;
    let encrypted = match store::split_metadata(fmt, &mut docs) {
        Some(md) => {
            let m = md.as_map();
            let nonempty = |k: &str| {
                m.and_then(|m| m.get(k))
                    .map(|v| !v.to_string().is_empty())
                    .unwrap_or(false)
            };
            nonempty("version") && nonempty("mac")
        }
        None => false,
    };
    println!("{{\"encrypted\":{encrypted}}}");
    Ok(0)
}
