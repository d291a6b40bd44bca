//! `spx set FILE PATH VALUE` and `spx unset FILE PATH`: change one value without an editor,
//! keeping the ciphertext of everything else.

use super::{open, pick_format, read_input, Global};
use crate::document::seal;
use crate::error::{code, Error, Result};
use crate::fsutil::FileLock;
use crate::keys::Identities;
use crate::path;
use crate::store::{self, Format};
use crate::tree::{Document, Value};
use std::io::Read;
use std::path::Path;

#[derive(clap::Args, Debug, Default)]
#[command(
    after_help = "Examples:\n  spx set secrets/shared.sops.yaml '[\"smtp\"][\"port\"]' 587\n  printf '\"%s\"' \"$NEW_TOKEN\" | spx set --value-stdin secrets/shared.sops.yaml '[\"api_token\"]'"
)]
pub struct SetArgs {
    /// Read the JSON value from standard input (keeps it out of argv and shell history)
    #[arg(long, conflicts_with = "value_file")]
    pub value_stdin: bool,
    /// Read the JSON value from this file
    #[arg(long, value_name = "FILE")]
    pub value_file: Option<String>,
    /// Do nothing (and exit 0) if the value is already set to this
    #[arg(long)]
    pub idempotent: bool,
    /// Do not verify the file's MAC (a fresh MAC is written)
    #[arg(long)]
    pub ignore_mac: bool,
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Why (recorded in the rotation log; default: $SPX_REASON, else asked on a terminal)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The sops file
    pub file: String,
    /// Where to set, in sops syntax: '["key"]["sub"][0]'
    pub path: String,
    /// The value as JSON: '"text"', 42, true, null, {"a": 1}
    pub value: Option<String>,
}

#[derive(clap::Args, Debug, Default)]
#[command(after_help = "Examples:\n  spx unset secrets/shared.sops.yaml '[\"old_api_key\"]'")]
pub struct UnsetArgs {
    /// Exit 0 without writing if the key is absent
    #[arg(long)]
    pub idempotent: bool,
    /// Do not verify the file's MAC (a fresh MAC is written)
    #[arg(long)]
    pub ignore_mac: bool,
    /// Input format (default: by extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Why (recorded in the rotation log; default: $SPX_REASON, else asked on a terminal)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The sops file
    pub file: String,
    /// The key or item to remove, in sops syntax: '["key"]["sub"]'
    pub path: String,
}

/// Parse a JSON value as sops does for `set` (numbers become floats).
pub fn parse_json_value(text: &str) -> Result<Value> {
    let wrapped = format!("{{\"v\": {text}\n}}");
    let doc = store::json::parse(wrapped.as_bytes(), "<value>")
        .map_err(|_| Error::TreePath {
            path: String::new(),
            msg: "Value for set is not valid JSON".into(),
            code: code::INVALID_SET_FORMAT,
        })
        .map_err(|_| {
            Error::Usage("the value is not valid JSON (strings need quotes: '\"text\"')".into())
        })?;
    if doc.items.len() != 1 {
        return Err(Error::Usage(
            "the value is not valid JSON (strings need quotes: '\"text\"')".into(),
        ));
    }
    Ok(doc.get("v").cloned().unwrap_or(Value::Null))
}

pub struct Change {
    pub before: Vec<Document>,
    pub after: Vec<Document>,
}

/// Apply `f` to the decrypted first document and save the file, under the file's lock.
pub fn modify(
    g: &Global,
    file: &str,
    input_type: Option<&str>,
    ignore_mac: bool,
    reason: Option<&str>,
    f: &mut dyn FnMut(&mut Document) -> Result<bool>,
) -> Result<Option<Change>> {
    let p = Path::new(file);
    if !p.exists() {
        return Err(Error::NotFound { path: file.into() });
    }
    let fmt: Format = pick_format(input_type, file)?;
    let _lock = FileLock::acquire(p)?;
    let bytes = read_input(file)?;
    let ids = Identities::discover();
    let o = open(&bytes, fmt, file, &ids, ignore_mac)?;
    let mut after = o.plain.clone();
    if after.is_empty() {
        after.push(Document::default());
    }
    if !f(&mut after[0])? {
        return Ok(None);
    }
    let prev = o.file.metadata.mac.clone();
    let sealed = seal(
        after.clone(),
        &o.key,
        o.file.metadata.clone(),
        Some(&o.cache),
        Some(&prev),
        fmt,
        file,
    )?;
    let out = sealed.into_bytes(&g.emit_options(), file)?;
    let changes = crate::log::diff_documents(&o.plain, &after);
    super::save_logged(g, p, &out, &changes, reason)?;
    Ok(Some(Change {
        before: o.plain,
        after,
    }))
}

pub fn run_set(g: &Global, a: &SetArgs) -> Result<i32> {
    set(g, a).map(|_| 0)
}

pub fn set(g: &Global, a: &SetArgs) -> Result<Option<Change>> {
    let steps = path::parse(&a.path, code::INVALID_SET_FORMAT)?;
    let text = zeroize::Zeroizing::new(match (&a.value, a.value_stdin, &a.value_file) {
        (None, true, None) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|source| Error::Read { path: "<stdin>".into(), source })?;
            s
        }
        (None, false, Some(f)) => std::fs::read_to_string(f).map_err(|source| Error::Read { path: f.into(), source })?,
        (Some(v), false, None) => v.clone(),
        _ => {
            return Err(Error::Usage(
                "give the value either as the third argument, or with --value-stdin / --value-file (not both)".into(),
            ))
        }
    });
    let value = parse_json_value(&text)?;
    let idempotent = a.idempotent;
    let file = a.file.clone();
    modify(
        g,
        &a.file,
        a.input_type.as_deref(),
        a.ignore_mac,
        a.reason.as_deref(),
        &mut |doc| {
            if idempotent && path::get(doc, &steps).map(|v| v == &value).unwrap_or(false) {
                return Ok(false);
            }
            path::set(doc, &steps, value.clone()).map_err(|e| match e {
                Error::NotInTree(m) => Error::NotInTree(format!(
                    "{file}: {m}; a path can only go through mappings (by key) and lists (by index)"
                )),
                e => e,
            })?;
            Ok(true)
        },
    )
}

pub fn run_unset(g: &Global, a: &UnsetArgs) -> Result<i32> {
    unset(g, a).map(|_| 0)
}

pub fn unset(g: &Global, a: &UnsetArgs) -> Result<Option<Change>> {
    let steps = path::parse(&a.path, code::INVALID_SET_FORMAT)?;
    let idempotent = a.idempotent;
    let file = a.file.clone();
    modify(
        g,
        &a.file,
        a.input_type.as_deref(),
        a.ignore_mac,
        a.reason.as_deref(),
        &mut |doc| {
            match path::unset(doc, &steps) {
            Ok(()) => Ok(true),
            Err(Error::NotInTree(_)) if idempotent => Ok(false),
            Err(Error::NotInTree(m)) => Err(Error::NotInTree(format!(
                "{file}: {m}; list its keys with `spx decrypt --mask {file}`, or pass --idempotent to accept a missing key"
            ))),
            Err(e) => Err(e),
        }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_parse_like_sops() {
        assert_eq!(parse_json_value("\"x\"").unwrap(), Value::str("x"));
        assert_eq!(parse_json_value("8080").unwrap(), Value::Float(8080.0));
        assert_eq!(parse_json_value("true").unwrap(), Value::Bool(true));
        assert_eq!(parse_json_value("null").unwrap(), Value::Null);
        assert!(parse_json_value("x y").is_err());
        assert!(parse_json_value("\"a\", \"b\": 1").is_err());
    }
}
