//! Property tests of the webhook body parser: whatever arrives, it returns
//! (never panics) within the limits, and what an encoder builds from a nested
//! structure decodes back to that structure, in any pair order.

use amocrm_core::webhook::form::{self, FormError, MAX_DEPTH, MAX_KEY_BYTES, MAX_PAIRS};
use amocrm_core::webhook::{parse, parse_to_json, Options, PayloadError};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// `application/x-www-form-urlencoded` encoding of one key or value, with
/// spaces as `+` or `%20` and unreserved bytes literal or escaped, as `seed`
/// says: decoding must not care.
fn encode(s: &str, seed: u64) -> String {
    let mut out = String::new();
    for (i, b) in s.bytes().enumerate() {
        let escape_anyway = (seed >> (i % 64)) & 1 == 1;
        match b {
            b' ' if !escape_anyway => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' if !escape_anyway => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Every (key, value) leaf pair of a JSON structure, in bracket notation.
fn pairs(value: &Value, key: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pairs(v, format!("{key}[{k}]"), out)
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                pairs(v, format!("{key}[{i}]"), out)
            }
        }
        Value::String(s) => out.push((key, s.clone())),
        other => out.push((key, other.to_string())),
    }
}

/// A root structure with its pairs in a shuffled order.
fn root_and_pairs() -> impl Strategy<Value = (Map<String, Value>, Vec<(String, String)>)> {
    root().prop_flat_map(|root| {
        let mut all = Vec::new();
        for (k, v) in &root {
            pairs(v, k.clone(), &mut all);
        }
        (Just(root), Just(all).prop_shuffle())
    })
}

/// Names that never look like list indexes and hold no brackets.
fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,7}"
}

/// Any text, brackets, `&`, `=`, `%`, `+` and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[a-zA-Z0-9&=%+\\[\\] ]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

/// Nested non-empty objects and dense lists with text leaves, at most
/// `MAX_DEPTH` levels below the top-level names.
fn structure() -> impl Strategy<Value = Value> {
    let leaf = text().prop_map(Value::String);
    leaf.prop_recursive(MAX_DEPTH as u32 - 1, 64, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..5).prop_map(Value::Array),
            prop::collection::btree_map(name(), inner, 1..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn root() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(name(), structure(), 1..4).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), normalize in any::<bool>()) {
        let _ = parse(&bytes, Options { normalize });
        let out: Value = serde_json::from_str(&parse_to_json(&String::from_utf8_lossy(&bytes), "")).unwrap();
        prop_assert!(out.get("events").is_some() != out.get("error").is_some());
    }

    #[test]
    fn bracket_soup_never_panics(body in "[a-z0-9\\[\\]=&%+]{0,300}", normalize in any::<bool>()) {
        let _ = parse(body.as_bytes(), Options { normalize });
    }
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn event_shaped_soup_never_panics(
        keys in prop::collection::vec((
            prop_oneof![Just("leads"), Just("contacts"), Just("account"), Just("x")],
            prop_oneof![Just("add"), Just("status"), Just("0"), Just("delete")],
            prop_oneof![Just("0"), Just("1"), Just("7"), Just("id")],
            prop_oneof![Just(""), Just("[id]"), Just("[type]"), Just("[custom_fields][0][values][0][enum]"), Just("[tags][0][id]"), Just("[note][element_id]")],
            prop_oneof![Just("1"), Just("company"), Just("9007199254740993"), Just("01"), Just("%zz")],
        ), 0..30),
        normalize in any::<bool>(),
    ) {
        let body = keys
            .iter()
            .map(|(e, a, i, rest, v)| format!("{e}[{a}][{i}]{rest}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        if let Ok(events) = parse(body.as_bytes(), Options { normalize }) {
            for e in events {
                prop_assert!(e["event"].is_string() && e["data"].is_object() && e["account"].is_object());
            }
        }
    }

    #[test]
    fn nested_structures_round_trip_in_any_pair_order(
        (root, shuffled) in root_and_pairs(),
        seed in any::<u64>(),
    ) {
        let body = shuffled
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k, seed), encode(v, seed.rotate_left(7))))
            .collect::<Vec<_>>()
            .join("&");
        let decoded = form::parse(body.as_bytes());
        prop_assert!(decoded.is_ok(), "{:?} for {}", decoded, body);
        prop_assert_eq!(Value::Object(decoded.unwrap().to_object()), Value::Object(root));
    }

    #[test]
    fn generated_events_come_out_one_item_each(
        events in prop::collection::vec((
            prop_oneof![Just("leads"), Just("contacts")],
            prop_oneof![Just("add"), Just("update"), Just("status"), Just("delete")],
            1u64..=9_007_199_254_740_991,
            any::<bool>(),
        ), 1..20),
    ) {
        let mut body = Vec::new();
        let mut counters = std::collections::BTreeMap::new();
        for (entity, action, id, company) in &events {
            let n = counters.entry((*entity, *action)).or_insert(0usize);
            body.push(format!("{entity}%5B{action}%5D%5B{n}%5D%5Bid%5D={id}"));
            if *company {
                body.push(format!("{entity}[{action}][{n}][type]=company"));
            }
            *n += 1;
        }
        body.push("account[subdomain]=demo&account[id]=31000001".into());
        let out = parse(body.join("&").as_bytes(), Options::default()).unwrap();
        prop_assert_eq!(out.len(), events.len());
        let mut want: Vec<(String, u64)> = events
            .iter()
            .map(|(e, a, id, company)| {
                let entity = match (*e, *company) {
                    ("leads", _) => "lead",
                    (_, true) => "company",
                    _ => "contact",
                };
                (format!("{a}_{entity}"), *id)
            })
            .collect();
        let mut got: Vec<(String, u64)> = out
            .iter()
            .map(|e| (e["event"].as_str().unwrap().to_string(), e["data"]["id"].as_u64().unwrap()))
            .collect();
        want.sort();
        got.sort();
        prop_assert_eq!(got, want);
        prop_assert!(out.iter().all(|e| e["account"]["id"] == 31000001));
    }

}

proptest! {
    // Each case builds a body of MAX_PAIRS fields: a few cases are enough.
    #![proptest_config(config(6))]

    #[test]
    fn limits_hold_whatever_the_content(
        filler in "[a-z]{1,6}",
        extra in 1usize..50,
        depth_over in 1usize..5,
    ) {
        let many = (0..MAX_PAIRS + extra).map(|i| format!("{filler}{i}=1")).collect::<Vec<_>>().join("&");
        prop_assert_eq!(form::parse(many.as_bytes()), Err(FormError::TooManyPairs));
        let deep = format!("{filler}{}=1", "[x]".repeat(MAX_DEPTH + depth_over));
        let too_deep = matches!(form::parse(deep.as_bytes()), Err(FormError::TooDeep { .. }));
        prop_assert!(too_deep);
        let long = format!("{}=1", filler.repeat(MAX_KEY_BYTES / filler.len() + extra));
        let too_long = matches!(form::parse(long.as_bytes()), Err(FormError::KeyTooLong { .. }));
        prop_assert!(too_long);
        let index = format!("leads[add][{}{filler}][id]=1", "9".repeat(extra));
        let refused = matches!(parse(index.as_bytes(), Options::default()), Err(PayloadError::Form(_)));
        prop_assert!(!refused);
    }
}
