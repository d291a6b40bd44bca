//! The ENC[…] parser, the --extract/set path syntax and the rotation-log parser never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(v) = spx::crypt::parse_enc(&s) {
        let _ = spx::crypt::format_enc(&v);
    }
    let _ = spx::path::parse(&s, 7);
    let log = spx::log::parse_bytes(data);
    let _ = log.last_chain();
});
