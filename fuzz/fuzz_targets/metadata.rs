//! Loading an encrypted file's metadata (every store) never panics on arbitrary input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spx::store::{self, Format};

fuzz_target!(|data: &[u8]| {
    for f in [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Binary] {
        if let Ok(mut docs) = store::load_encrypted(f, data, "f") {
            if let Some(md) = store::split_metadata(f, &mut docs) {
                if let Ok(m) = spx::metadata::Metadata::from_value(&md, "f") {
                    let _ = m.to_value(f);
                }
            }
        }
    }
});
