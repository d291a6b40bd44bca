//! The dotenv and INI stores never panic; dotenv emit → parse keeps the data.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spx::store::{dotenv, ini};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = dotenv::parse(data, "f.env") {
        if let Ok(text) = dotenv::emit(&doc, "f.env") {
            let _ = dotenv::parse(text.as_bytes(), "f.env").expect("emitted dotenv parses");
        }
    }
    if let Ok(doc) = ini::parse(data, "f.ini") {
        let _ = ini::emit(&doc, "f.ini");
    }
});
