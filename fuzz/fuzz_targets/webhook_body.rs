//! Any bytes as a webhook body: the parser must return (events or an error),
//! never panic, and what it returns must serialise. The first byte picks the
//! normalisation option so both paths are explored.
#![no_main]

use amocrm_core::webhook::{parse, parse_to_json, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (normalize, body) = match data.split_first() {
        Some((flag, rest)) => (flag & 1 == 1, rest),
        None => (true, data),
    };
    if let Ok(events) = parse(body, Options { normalize }) {
        for event in &events {
            assert!(event["event"].is_string());
            assert!(event["data"].is_object());
            assert!(event["account"].is_object());
        }
    }
    // The string boundary the WebAssembly build uses.
    let text = String::from_utf8_lossy(body);
    let out: serde_json::Value = serde_json::from_str(&parse_to_json(&text, "")).expect("parse_to_json returns JSON");
    assert!(out.get("events").is_some() != out.get("error").is_some());
});
