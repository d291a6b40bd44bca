//! The YAML store (fast path and full parser) never panics; whatever it accepts, it emits as
//! YAML that parses again to the same data, and the fast path agrees with the full parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spx::store::yaml;

fuzz_target!(|data: &[u8]| {
    let fast = yaml::parse(data, "f.yaml");
    let full = yaml::parse_full(data, "f.yaml");
    match (&fast, &full) {
        (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "fast path and full parser differ"),
        (Err(_), Err(_)) => {}
        _ => panic!("fast path and full parser disagree on success: {:?} vs {:?}", fast.is_ok(), full.is_ok()),
    }
    if let Ok(docs) = fast {
        let text = yaml::emit(&docs, 4);
        let again = yaml::parse(text.as_bytes(), "f.yaml").expect("emitted YAML parses");
        assert_eq!(again.len(), docs.len());
    }
});
