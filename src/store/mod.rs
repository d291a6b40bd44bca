//! Stores: one file per format, each turning bytes into `Document`s and back.
//!
//! A store knows nothing about encryption. Encrypted files are ordinary documents whose values
//! are `ENC[…]` strings plus sops metadata; where that metadata lives differs per format (a
//! top-level `sops` mapping in YAML/JSON/binary, flattened `sops_*` keys in dotenv, a `[sops]`
//! section in INI), and `split_metadata` / `join_metadata` hide that difference.

pub mod dotenv;
pub mod flat;
pub mod ini;
pub mod json;
pub mod yaml;

use crate::error::{Error, Result};
use crate::tree::{Document, Map, MapItem, Value};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// sops's choice by file name suffix: anything unknown is binary.
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            Format::Yaml
        } else if name.ends_with(".json") {
            Format::Json
        } else if name.ends_with(".env") {
            Format::Dotenv
        } else if name.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" | "env" => Some(Format::Dotenv),
            "ini" => Some(Format::Ini),
            "binary" => Some(Format::Binary),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

/// Output formatting options (the `stores:` section of `.sops.yaml`).
#[derive(Clone, Copy, Debug)]
pub struct EmitOptions {
    /// YAML indentation (sops default 4).
    pub yaml_indent: usize,
    /// JSON indentation: `None` = one tab per level (sops's default), `Some(n)` = n spaces.
    pub json_indent: Option<usize>,
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions {
            yaml_indent: 4,
            json_indent: None,
        }
    }
}

/// Parse a plaintext file.
pub fn load_plain(format: Format, bytes: &[u8], file: &str) -> Result<Vec<Document>> {
    match format {
        Format::Yaml => yaml::parse(bytes, file),
        Format::Json => Ok(vec![json::parse(bytes, file)?]),
        Format::Dotenv => Ok(vec![dotenv::parse(bytes, file)?]),
        Format::Ini => Ok(vec![ini::parse(bytes, file)?]),
        Format::Binary => {
            let value = match String::from_utf8(bytes.to_vec()) {
                Ok(s) => Value::Str(s),
                Err(e) => Value::Bytes(e.into_bytes()),
            };
            let mut m = Map::new();
            m.push("data", value);
            Ok(vec![m])
        }
    }
}

/// Parse an encrypted file into its documents (metadata still inside; see `split_metadata`).
pub fn load_encrypted(format: Format, bytes: &[u8], file: &str) -> Result<Vec<Document>> {
    match format {
        Format::Binary => Ok(vec![json::parse(bytes, file)?]),
        other => load_plain(other, bytes, file),
    }
}

/// Emit documents as a plaintext file.
pub fn emit_plain(
    format: Format,
    docs: &[Document],
    opts: &EmitOptions,
    file: &str,
) -> Result<Vec<u8>> {
    match format {
        Format::Yaml => Ok(yaml::emit(docs, opts.yaml_indent).into_bytes()),
        Format::Json => json::emit(first(docs), opts.json_indent, file).map(String::into_bytes),
        Format::Dotenv => dotenv::emit(first(docs), file).map(String::into_bytes),
        Format::Ini => ini::emit(first(docs), file).map(String::into_bytes),
        Format::Binary => match first(docs).get("data") {
            Some(Value::Str(s)) => Ok(s.clone().into_bytes()),
            Some(Value::Bytes(b)) => Ok(b.clone()),
            _ => Err(Error::Dump {
                file: file.into(),
                format: "binary",
                msg: "no `data` string in the document: this file was not encrypted from a binary file; use --output-type yaml or json".into(),
            }),
        },
    }
}

/// Emit documents with their metadata as an encrypted file.
pub fn emit_encrypted(
    format: Format,
    mut docs: Vec<Document>,
    metadata: Value,
    opts: &EmitOptions,
    file: &str,
) -> Result<Vec<u8>> {
    join_metadata(format, &mut docs, metadata);
    match format {
        Format::Binary => json::emit(first(&docs), opts.json_indent, file).map(String::into_bytes),
        other => emit_plain(other, &docs, opts, file),
    }
}

/// Emit a single value (for `decrypt --extract`): a mapping as a whole document, a string as its
/// raw bytes, other scalars in the store's syntax.
pub fn emit_value(
    format: Format,
    value: &Value,
    opts: &EmitOptions,
    file: &str,
) -> Result<Vec<u8>> {
    match value {
        Value::Str(s) => Ok(s.clone().into_bytes()),
        Value::Bytes(b) => Ok(b.clone()),
        Value::Map(m) => emit_plain(format, std::slice::from_ref(m), opts, file),
        other => match format {
            Format::Yaml => Ok(yaml::emit_value(other, opts.yaml_indent).into_bytes()),
            Format::Json | Format::Binary => {
                json::emit_value(other, opts.json_indent, file).map(String::into_bytes)
            }
            Format::Dotenv | Format::Ini => Err(Error::Dump {
                file: file.into(),
                format: format.name(),
                msg: "only strings and mappings can be extracted in this format; pass --output-type yaml or json".into(),
            }),
        },
    }
}

fn first(docs: &[Document]) -> &Document {
    static EMPTY: Map = Map { items: Vec::new() };
    docs.first().unwrap_or(&EMPTY)
}

/// Whether a plaintext already holds sops metadata (sops's "already encrypted" check).
pub fn has_metadata(format: Format, docs: &[Document]) -> bool {
    match format {
        Format::Dotenv => docs
            .iter()
            .flat_map(|d| d.pairs())
            .any(|(k, _)| k.starts_with("sops_")),
        _ => docs
            .first()
            .map(|d| d.get("sops").is_some())
            .unwrap_or(false),
    }
}

/// Remove the sops metadata from the documents and return it as a mapping value.
pub fn split_metadata(format: Format, docs: &mut [Document]) -> Option<Value> {
    match format {
        Format::Dotenv => {
            let doc = docs.first_mut()?;
            let mut flat = Vec::new();
            doc.items.retain(|i| match i {
                MapItem::Pair(k, v) if k.starts_with("sops_") => {
                    flat.push((k["sops_".len()..].to_string(), v.to_string()));
                    false
                }
                _ => true,
            });
            if flat.is_empty() {
                None
            } else {
                Some(flat::unflatten(&flat))
            }
        }
        Format::Ini => {
            let doc = docs.first_mut()?;
            let section = doc.remove("sops")?;
            let m = section.as_map()?;
            // INI values cannot hold newlines: sops writes them as the two characters `\n`.
            let flat: Vec<(String, String)> = m
                .pairs()
                .map(|(k, v)| (k.to_string(), v.to_string().replace("\\n", "\n")))
                .collect();
            Some(flat::unflatten(&flat))
        }
        _ => {
            let mut found = None;
            for (i, doc) in docs.iter_mut().enumerate() {
                let v = doc.remove("sops");
                if i == 0 {
                    found = v;
                }
            }
            found
        }
    }
}

/// Put metadata back into documents in the store's layout.
pub fn join_metadata(format: Format, docs: &mut Vec<Document>, metadata: Value) {
    if docs.is_empty() {
        docs.push(Map::new());
    }
    match format {
        Format::Dotenv => {
            let mut flat = flat::flatten(&metadata);
            flat.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            for (k, v) in flat {
                docs[0].push(format!("sops_{k}"), Value::Str(v));
            }
        }
        Format::Ini => {
            let mut section = Map::new();
            for (k, v) in flat::flatten(&metadata) {
                section.push(k, Value::Str(v.replace('\n', "\\n")));
            }
            docs[0].push("sops", Value::Map(section));
        }
        _ => {
            for doc in docs.iter_mut() {
                doc.push("sops", metadata.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_by_suffix_like_sops() {
        assert_eq!(Format::from_path(Path::new("a.sops.yaml")), Format::Yaml);
        assert_eq!(Format::from_path(Path::new("a.yml")), Format::Yaml);
        assert_eq!(Format::from_path(Path::new("a.json")), Format::Json);
        assert_eq!(Format::from_path(Path::new(".env")), Format::Dotenv);
        assert_eq!(Format::from_path(Path::new("x.env.enc")), Format::Binary);
        assert_eq!(Format::from_path(Path::new("key.pem")), Format::Binary);
        assert_eq!(Format::from_path(Path::new("a.ini")), Format::Ini);
    }
}
