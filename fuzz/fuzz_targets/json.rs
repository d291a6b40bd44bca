//! The JSON store never panics, and emit → parse is the identity on what it accepts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spx::store::json;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = json::parse(data, "f.json") {
        if let Ok(text) = json::emit(&doc, None, "f.json") {
            let again = json::parse(text.as_bytes(), "f.json").expect("emitted JSON parses");
            assert_eq!(format!("{again:?}"), format!("{doc:?}"));
        }
    }
});
