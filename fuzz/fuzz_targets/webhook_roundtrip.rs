//! Differential check: a structure of nested groups and lists, encoded the
//! way PHP's http_build_query does (with the fuzzer choosing which bytes to
//! escape and the pair order), must decode back to the same JSON.
#![no_main]

use amocrm_core::webhook::form;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

#[derive(Debug, Arbitrary)]
enum Tree {
    Leaf(String),
    List(Vec<Tree>),
    Group(Vec<(u8, Tree)>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    roots: Vec<(u8, Tree)>,
    escape: u64,
    rotate: u16,
}

/// Names that cannot be list indexes or contain brackets.
fn name(n: u8) -> String {
    format!("k{n}")
}

/// The JSON the tree should decode to, or None when it encodes to nothing
/// (empty groups and lists send no pair) or is too deep.
fn model(tree: &Tree, depth: usize) -> Option<Value> {
    if depth > form::MAX_DEPTH {
        return None;
    }
    match tree {
        Tree::Leaf(s) => Some(Value::String(s.clone())),
        Tree::List(items) => {
            let list: Option<Vec<Value>> = items.iter().map(|t| model(t, depth + 1)).collect();
            list.filter(|l| !l.is_empty()).map(Value::Array)
        }
        Tree::Group(entries) => {
            let mut map = Map::new();
            for (k, t) in entries {
                if map.contains_key(&name(*k)) {
                    return None;
                }
                map.insert(name(*k), model(t, depth + 1)?);
            }
            (!map.is_empty()).then_some(Value::Object(map))
        }
    }
}

fn pairs(value: &Value, key: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| pairs(v, format!("{key}[{k}]"), out)),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .for_each(|(i, v)| pairs(v, format!("{key}[{i}]"), out)),
        Value::String(s) => out.push((key, s.clone())),
        other => out.push((key, other.to_string())),
    }
}

fn encode(s: &str, escape: u64) -> String {
    let mut out = String::new();
    for (i, b) in s.bytes().enumerate() {
        let force = (escape >> (i % 64)) & 1 == 1;
        match b {
            b' ' if !force => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' if !force => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fuzz_target!(|input: Input| {
    let mut root = Map::new();
    for (k, t) in &input.roots {
        if root.contains_key(&name(*k)) {
            return;
        }
        let Some(v) = model(t, 1) else { return };
        root.insert(name(*k), v);
    }
    let mut all = Vec::new();
    for (k, v) in &root {
        pairs(v, k.clone(), &mut all);
    }
    if all.is_empty() || all.len() > form::MAX_PAIRS || all.iter().any(|(k, _)| k.len() > form::MAX_KEY_BYTES) {
        return;
    }
    let n = all.len();
    all.rotate_left(input.rotate as usize % n);
    let body = all
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode(k, input.escape),
                encode(v, input.escape.rotate_left(13))
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    if body.len() > form::MAX_BODY_BYTES {
        return;
    }
    let decoded = form::parse(body.as_bytes()).expect("a well-formed body decodes");
    assert_eq!(Value::Object(decoded.to_object()), Value::Object(root), "body: {body}");
});
