//! INI store. TO BE WRITTEN.
use crate::error::Result;
use crate::tree::Document;

pub fn parse(_bytes: &[u8], _file: &str) -> Result<Document> {
    todo!()
}
pub fn emit(_doc: &Document, _file: &str) -> Result<String> {
    todo!()
}
