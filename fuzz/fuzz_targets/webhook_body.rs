//! Any bytes as a webhook body: the parser must return (events or an error),
//! never panic, and what it returns must serialise. The first byte picks the
//! normalisation option, whether unreadable deliveries are emitted, and
//! whether a drop count is pending, so that every path of the trigger's
//! decision (events, a dropped delivery for another account, a dropped or
//! emitted unreadable one) is explored.
#![no_main]

use amocrm_core::webhook::{parse, parse_to_json, receive, Dropped, KnownAccount, Options, Receive, Received};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (flags, body) = match data.split_first() {
        Some((flag, rest)) => (*flag, rest),
        None => (1, data),
    };
    let normalize = flags & 1 == 1;
    if let Ok(events) = parse(body, Options { normalize }) {
        for event in &events {
            assert!(event["event"].is_string());
            assert!(event["data"].is_object());
            assert!(event["account"].is_object());
        }
    }
    // The trigger's decision for the demo account.
    let known = KnownAccount { id: 31000001, subdomain: "demo".into() };
    let r = Receive {
        options: Options { normalize },
        account: Some(known.clone()),
        emit_unreadable: flags & 2 == 2,
        dropped: Dropped { foreign_account: u64::from(flags >> 4), unreadable: u64::from(flags & 4) },
    };
    match receive(body, &r) {
        Received::Events(events) => {
            assert!(!events.is_empty());
            for e in &events {
                // Only this account's events get through…
                let account = &e["account"];
                let id = match &account["id"] {
                    serde_json::Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                };
                assert!(account.get("id").is_none() || id == "31000001", "{account}");
                if let Some(sub) = account["subdomain"].as_str() {
                    assert!(sub.trim().eq_ignore_ascii_case("demo"), "{account}");
                }
                assert!(account.get("id").is_some() || account.get("subdomain").is_some());
                // …carrying the pending drop counts, if any.
                assert_eq!(e.get("meta").is_some(), r.dropped.foreign_account + r.dropped.unreadable > 0);
            }
        }
        Received::Drop { message, .. } => assert!(!message.is_empty()),
        Received::Unreadable { preview, .. } => {
            assert!(r.emit_unreadable);
            assert!(preview.chars().count() <= amocrm_core::webhook::PREVIEW_CHARS + 1);
        }
    }
    // The string boundary the WebAssembly build uses.
    let text = String::from_utf8_lossy(body);
    let out: serde_json::Value = serde_json::from_str(&parse_to_json(&text, "")).expect("parse_to_json returns JSON");
    assert!(out.get("events").is_some() != out.get("error").is_some());
    let options = format!(
        r#"{{"normalize":{normalize},"account":{{"id":31000001,"subdomain":"demo"}},"emitUnreadable":{}}}"#,
        flags & 2 == 2
    );
    let out: serde_json::Value = serde_json::from_str(&parse_to_json(&text, &options)).expect("parse_to_json returns JSON");
    let kinds = ["events", "error", "drop"].iter().filter(|k| out.get(**k).is_some()).count();
    assert_eq!(kinds, 1, "{out}");
});
