//! `.sops.yaml` parsing never panics, and rule lookup on what it accepts neither.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(c) = spx::config::Config::parse(&s, std::path::Path::new("/repo"), ".sops.yaml") {
        let _ = c.rule_for(std::path::Path::new("/repo/secrets/shared.sops.yaml"));
    }
});
