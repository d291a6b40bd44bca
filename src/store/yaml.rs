//! YAML store: parse (yaml.v3 semantics, comments kept as tree items) and emit (go-yaml v3
//! layout as sops writes it).
//!
//! * `parse` reads every document of a YAML stream into a `Document` (the root must be a
//!   mapping), typing scalars as yaml.v3 does (`scalar`), expanding anchors and aliases, and
//!   keeping comments as `MapItem::Comment` / `Value::Comment` items where sops puts them
//!   (`parse`).
//! * `emit` writes documents back byte for byte as sops 3.11 does (`emit`).
mod emit;
mod parse;
mod scalar;

use crate::error::Result;
use crate::tree::{Document, Value};

/// Parse a YAML stream: one `Document` per YAML document.
pub fn parse(bytes: &[u8], file: &str) -> Result<Vec<Document>> {
    parse::parse(bytes, file)
}

/// Emit documents separated by `---`, with the given indentation (sops's default is 4).
pub fn emit(docs: &[Document], indent: usize) -> String {
    let mut e = emit::Emitter::new(indent);
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            e.out.push_str("---\n");
        }
        e.document(d);
    }
    e.out
}

/// Emit a lone value (scalar or list) as a YAML document, e.g. `42\n`.
pub fn emit_value(v: &Value, indent: usize) -> String {
    let mut e = emit::Emitter::new(indent);
    e.lone_value(v);
    e.out
}
