//! `application/x-www-form-urlencoded` bodies with PHP-style bracket keys, as
//! amoCRM's webhooks send them: `leads[status][0][custom_fields][0][values][0][enum]=5`.
//!
//! The body is decoded into a [`Node`] tree, then into JSON with
//! [`Node::to_value`]. Rules, stricter than PHP's because every legitimate
//! body is built by amoCRM's own `http_build_query`:
//!
//! * pairs are separated by `&`; empty pairs (`a=1&&b=2`) are skipped; a pair
//!   without `=` has the empty value; ASCII whitespace around the whole body is
//!   ignored;
//! * `+` is a space, `%XX` a byte; a `%` not followed by two hex digits is an
//!   error, and so is anything that is not UTF-8 once decoded (keys and values);
//! * a key is a name followed by zero or more `[segment]`s; an unclosed
//!   bracket, text after a `]`, an empty name and an empty segment (PHP's
//!   `a[]=` "append") are errors: amoCRM always numbers its lists;
//! * the same key twice is an error (PHP would keep the last value silently),
//!   and so is a key that is both a value and a group (`a=1&a[b]=2`);
//! * a group whose keys are exactly `0, 1, …, n-1` (canonical decimals, in any
//!   order) becomes a JSON array in index order; any other group, including a
//!   sparse one (`leads[add][5]`), becomes an object with string keys. An
//!   index never sizes anything: a list is only as long as the pairs that
//!   filled it, so `leads[add][999999999][id]=1` is a one-key object, not a
//!   billion-slot array.
//!
//! Every input is handled in time and memory linear in its size (times the
//! bounded key depth), and bounded by the limits below; nothing here panics.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::input::shorten_to;

/// Largest body accepted. A status event of a lead with 100 custom fields is
/// about 20 KB; amoCRM batches the events of one API request into one POST,
/// so 4 MiB leaves room for a couple of hundred such events while keeping the
/// decoded tree (a few times the body) well inside a WebAssembly heap.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Most `key=value` pairs accepted. Such a lead event has about 500 pairs, so
/// this allows ~40 of them in one POST; it also bounds the number of tree
/// nodes, hence memory, whatever the body holds. (n8n's own form parser stops
/// at 1,000 keys, which is why the trigger reads the raw body.)
pub const MAX_PAIRS: usize = 20_000;

/// Longest key, in bytes after decoding. amoCRM's longest keys, such as
/// `contacts[update][12][custom_fields][3][values][2][subtype]`, are under 70.
pub const MAX_KEY_BYTES: usize = 256;

/// Most bracket segments after the name. amoCRM's deepest key,
/// `leads[status][0][custom_fields][0][values][0][enum]`, has 7; the margin
/// covers nested note parameters. Recursion over the tree is bounded by this.
pub const MAX_DEPTH: usize = 12;

/// A numeric segment at or above this is an ordinary object key, never a list
/// index: a list cannot be longer than the number of pairs, so a larger index
/// could not belong to a dense list anyway.
pub const MAX_LIST_INDEX: usize = MAX_PAIRS;

/// A decoded body: values are text, groups map segment names to children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Leaf(String),
    Group(Group),
}

/// Children in the order their first key appeared in the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    entries: Vec<(String, Node)>,
    index: BTreeMap<String, usize>,
}

impl Group {
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        let i = *self.index.get(key)?;
        self.entries.get_mut(i).map(|(_, n)| n)
    }

    fn insert(&mut self, key: &str, node: Node) -> &mut Node {
        let i = self.entries.len();
        self.index.insert(key.to_string(), i);
        self.entries.push((key.to_string(), node));
        &mut self.entries[i].1
    }

    /// Children in list order when the keys are exactly `0..n`.
    pub fn as_list(&self) -> Option<Vec<&Node>> {
        if self.entries.is_empty() {
            return None;
        }
        let mut slots: Vec<Option<&Node>> = vec![None; self.entries.len()];
        for (key, node) in &self.entries {
            let i = list_index(key)?;
            // Keys are unique and canonical, so a slot is filled at most once.
            *slots.get_mut(i)? = Some(node);
        }
        slots.into_iter().collect()
    }

    /// Children ordered for reading a list that may be sparse: numeric keys by
    /// value first, then the others in body order.
    pub fn ordered(&self) -> Vec<(&str, &Node)> {
        let mut numbered: Vec<(u64, &str, &Node)> = Vec::new();
        let mut named = Vec::new();
        for (k, n) in self.iter() {
            match canonical_number(k) {
                Some(v) => numbered.push((v, k, n)),
                None => named.push((k, n)),
            }
        }
        numbered.sort_by_key(|(v, _, _)| *v);
        numbered.into_iter().map(|(_, k, n)| (k, n)).chain(named).collect()
    }

    /// The group as a JSON object, whatever its keys.
    pub fn to_object(&self) -> Map<String, Value> {
        self.iter().map(|(k, n)| (k.to_string(), n.to_value())).collect()
    }
}

impl Node {
    /// JSON: text for values, arrays for dense `0..n` groups, objects otherwise.
    pub fn to_value(&self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s.clone()),
            Node::Group(g) => match g.as_list() {
                Some(items) => Value::Array(items.into_iter().map(Node::to_value).collect()),
                None => Value::Object(g.to_object()),
            },
        }
    }
}

/// `Some(n)` for a canonical decimal (`0`, `17`; not `01`, `+1`, ` 1`) that fits a u64.
fn canonical_number(key: &str) -> Option<u64> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    key.parse().ok()
}

fn list_index(key: &str) -> Option<usize> {
    canonical_number(key)
        .filter(|&n| n < MAX_LIST_INDEX as u64)
        .map(|n| n as usize)
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    TooLarge { bytes: usize },
    TooManyPairs,
    KeyTooLong { pair: usize, bytes: usize },
    TooDeep { key: String },
    BadPercent { pair: usize, part: Part },
    NotUtf8 { pair: usize, part: Part },
    BadKey { key: String, problem: &'static str },
    Duplicate { key: String },
    Conflict { value: String, group: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Key,
    Value,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Key => "key",
            Part::Value => "value",
        })
    }
}

fn preview(key: &str) -> String {
    shorten_to(key, 80)
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::TooLarge { bytes } => write!(
                f,
                "the body is {bytes} bytes, more than the {MAX_BODY_BYTES} bytes a webhook may have"
            ),
            FormError::TooManyPairs => write!(f, "the body has more than {MAX_PAIRS} fields"),
            FormError::KeyTooLong { pair, bytes } => write!(
                f,
                "field {pair} has a {bytes}-byte name, longer than the {MAX_KEY_BYTES} bytes allowed"
            ),
            FormError::TooDeep { key } => write!(
                f,
                "the field \"{}\" is nested more than {MAX_DEPTH} brackets deep",
                preview(key)
            ),
            FormError::BadPercent { pair, part } => write!(
                f,
                "the {part} of field {pair} has a \"%\" that is not followed by two hexadecimal digits"
            ),
            FormError::NotUtf8 { pair, part } => {
                write!(f, "the {part} of field {pair} is not UTF-8 text once decoded")
            }
            FormError::BadKey { key, problem } => write!(f, "the field name \"{}\" {problem}", preview(key)),
            FormError::Duplicate { key } => write!(f, "the field \"{}\" appears twice", preview(key)),
            FormError::Conflict { value, group } => write!(
                f,
                "\"{}\" is sent both as a value and as a group (\"{}\")",
                preview(value),
                preview(group)
            ),
        }
    }
}

/// Decodes a whole body into its tree (the root group).
pub fn parse(body: &[u8]) -> Result<Group, FormError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(FormError::TooLarge { bytes: body.len() });
    }
    let body = body.trim_ascii();
    let mut root = Group::default();
    let mut count = 0usize;
    for raw in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        count += 1;
        if count > MAX_PAIRS {
            return Err(FormError::TooManyPairs);
        }
        let (raw_key, raw_value) = match raw.iter().position(|&b| b == b'=') {
            Some(i) => (&raw[..i], &raw[i + 1..]),
            None => (raw, &raw[raw.len()..]),
        };
        // Cheap early refusal before decoding: every decoded byte takes at
        // least one encoded byte.
        if raw_key.len() > 3 * MAX_KEY_BYTES {
            return Err(FormError::KeyTooLong {
                pair: count,
                bytes: raw_key.len(),
            });
        }
        let key = decode(raw_key, count, Part::Key)?;
        if key.len() > MAX_KEY_BYTES {
            return Err(FormError::KeyTooLong {
                pair: count,
                bytes: key.len(),
            });
        }
        let value = decode(raw_value, count, Part::Value)?;
        let path = split_key(&key)?;
        insert(&mut root, &path, value)?;
    }
    Ok(root)
}

/// Percent-decoding with `+` as space, then UTF-8 validation.
fn decode(raw: &[u8], pair: usize, part: Part) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| raw.get(j).and_then(|&c| (c as char).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Err(FormError::BadPercent { pair, part }),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8 { pair, part })
}

/// `leads[add][0][id]` → `["leads", "add", "0", "id"]`.
pub fn split_key(key: &str) -> Result<Vec<&str>, FormError> {
    let bad = |problem| FormError::BadKey {
        key: key.to_string(),
        problem,
    };
    let (name, mut rest) = match key.find('[') {
        Some(i) => key.split_at(i),
        None => (key, ""),
    };
    if name.is_empty() {
        return Err(bad("has no name before its brackets"));
    }
    if name.contains(']') {
        return Err(bad("has a \"]\" without a \"[\""));
    }
    let mut path = vec![name];
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return Err(bad("has text after a \"]\""));
        };
        let Some(end) = inner.find(']') else {
            return Err(bad("has a \"[\" that is never closed"));
        };
        let segment = &inner[..end];
        if segment.contains('[') {
            return Err(bad("has a \"[\" inside brackets"));
        }
        if segment.is_empty() {
            return Err(bad("has empty brackets \"[]\"; amoCRM numbers list entries"));
        }
        if path.len() > MAX_DEPTH {
            return Err(FormError::TooDeep { key: key.to_string() });
        }
        path.push(segment);
        rest = &inner[end + 1..];
    }
    Ok(path)
}

fn join(path: &[&str]) -> String {
    let mut s = path[0].to_string();
    for seg in &path[1..] {
        s.push('[');
        s.push_str(seg);
        s.push(']');
    }
    s
}

fn insert(root: &mut Group, path: &[&str], value: String) -> Result<(), FormError> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut group = root;
    for (depth, seg) in parents.iter().enumerate() {
        if group.get(seg).is_none() {
            group.insert(seg, Node::Group(Group::default()));
        }
        group = match group.get_mut(seg) {
            Some(Node::Group(g)) => g,
            _ => {
                return Err(FormError::Conflict {
                    value: join(&path[..=depth]),
                    group: join(path),
                })
            }
        };
    }
    match group.get(last) {
        None => {
            group.insert(last, Node::Leaf(value));
            Ok(())
        }
        Some(Node::Leaf(_)) => Err(FormError::Duplicate { key: join(path) }),
        Some(Node::Group(g)) => {
            // Name one of the keys that made it a group.
            let mut group_key = path.to_vec();
            let mut at = g;
            while let Some((k, n)) = at.entries.first() {
                group_key.push(k);
                match n {
                    Node::Group(inner) => at = inner,
                    Node::Leaf(_) => break,
                }
            }
            Err(FormError::Conflict {
                value: join(path),
                group: join(&group_key),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(body: &str) -> Value {
        Value::Object(parse(body.as_bytes()).unwrap().to_object())
    }

    fn err(body: &[u8]) -> String {
        parse(body).unwrap_err().to_string()
    }

    #[test]
    fn nested_brackets_become_objects_and_dense_indexes_lists() {
        let v = tree("leads%5Bstatus%5D%5B0%5D%5Bid%5D=7&leads[status][0][custom_fields][0][values][0][enum]=5&leads[status][0][custom_fields][0][values][1][value]=a+b%20c&account[subdomain]=demo");
        assert_eq!(
            v,
            json!({
                "leads": {"status": [{"id": "7", "custom_fields": [{"values": [{"enum": "5"}, {"value": "a b c"}]}]}]},
                "account": {"subdomain": "demo"}
            })
        );
    }

    #[test]
    fn lists_follow_index_order_not_body_order() {
        let v = tree("a[2]=c&a[0]=a&a[1]=b&a[10]=x&a[3]=d&a[4]=e&a[5]=f&a[6]=g&a[7]=h&a[8]=i&a[9]=j");
        assert_eq!(v["a"], json!(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "x"]));
    }

    #[test]
    fn sparse_or_non_canonical_indexes_stay_objects() {
        assert_eq!(tree("a[1]=x")["a"], json!({"1": "x"}));
        assert_eq!(tree("a[0]=x&a[01]=y")["a"], json!({"0": "x", "01": "y"}));
        assert_eq!(tree("a[0]=x&a[b]=y")["a"], json!({"0": "x", "b": "y"}));
    }

    #[test]
    fn a_huge_index_is_a_plain_key_and_allocates_nothing() {
        let v = tree("leads[add][999999999][id]=1&leads[add][18446744073709551615999][id]=2");
        assert_eq!(
            v["leads"]["add"],
            json!({"999999999": {"id": "1"}, "18446744073709551615999": {"id": "2"}})
        );
        // Index MAX_LIST_INDEX alone, or with 0, is not a list.
        let body = format!("a[0]=x&a[{MAX_LIST_INDEX}]=y");
        assert!(tree(&body)["a"].is_object());
    }

    #[test]
    fn empty_pairs_and_missing_equals() {
        assert_eq!(tree("&&a=1&&b&c=\n"), json!({"a": "1", "b": "", "c": ""}));
        assert_eq!(tree(""), json!({}));
        assert_eq!(tree("a==1"), json!({"a": "=1"}));
    }

    #[test]
    fn bad_percent_encoding_is_refused() {
        for body in ["a=%", "a=%4", "a=%zz", "a%2=1", "a=%%41"] {
            assert!(
                err(body.as_bytes()).contains("not followed by two hexadecimal digits"),
                "{body}"
            );
        }
        assert_eq!(
            err(b"a=1&b%G0=2"),
            "the key of field 2 has a \"%\" that is not followed by two hexadecimal digits"
        );
    }

    #[test]
    fn invalid_utf8_is_refused_in_keys_and_values() {
        assert_eq!(err(b"a=%C3%28"), "the value of field 1 is not UTF-8 text once decoded");
        assert_eq!(err(b"%FF=1"), "the key of field 1 is not UTF-8 text once decoded");
        assert_eq!(err(b"a=\xff"), "the value of field 1 is not UTF-8 text once decoded");
        assert_eq!(tree("a=%D0%98%D0%B2")["a"], "Ив");
    }

    #[test]
    fn malformed_keys_are_refused() {
        for (body, problem) in [
            ("[a]=1", "has no name before its brackets"),
            ("=1", "has no name before its brackets"),
            ("a]=1", "without a \"[\""),
            ("a[b=1", "never closed"),
            ("a[b]c=1", "text after"),
            ("a[b[c]]=1", "inside brackets"),
            ("a[]=1", "empty brackets"),
        ] {
            let e = err(body.as_bytes());
            assert!(e.contains(problem), "{body}: {e}");
        }
    }

    #[test]
    fn duplicates_and_value_group_conflicts_are_refused() {
        assert_eq!(err(b"a[b]=1&a[b]=2"), "the field \"a[b]\" appears twice");
        assert_eq!(
            err(b"a=1&a[b]=2"),
            "\"a\" is sent both as a value and as a group (\"a[b]\")"
        );
        assert_eq!(
            err(b"a[b][c]=2&a[b]=1"),
            "\"a[b]\" is sent both as a value and as a group (\"a[b][c]\")"
        );
    }

    #[test]
    fn limits_are_enforced() {
        let big = vec![b'a'; MAX_BODY_BYTES + 1];
        assert!(matches!(parse(&big), Err(FormError::TooLarge { .. })));
        let many = (0..=MAX_PAIRS).map(|i| format!("k{i}=1")).collect::<Vec<_>>().join("&");
        assert_eq!(parse(many.as_bytes()), Err(FormError::TooManyPairs));
        let exactly = (0..MAX_PAIRS)
            .map(|i| format!("k[{i}]=1"))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(
            parse(exactly.as_bytes())
                .unwrap()
                .get("k")
                .unwrap()
                .to_value()
                .as_array()
                .unwrap()
                .len(),
            MAX_PAIRS
        );
        let long = format!("{}=1", "k".repeat(MAX_KEY_BYTES + 1));
        assert!(matches!(parse(long.as_bytes()), Err(FormError::KeyTooLong { .. })));
        let deep_ok = format!("a{}=1", "[x]".repeat(MAX_DEPTH));
        assert!(parse(deep_ok.as_bytes()).is_ok());
        let deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH + 1));
        assert!(err(deep.as_bytes()).contains("nested more than 12 brackets deep"));
    }

    #[test]
    fn a_body_of_max_size_and_pairs_parses_in_bounded_time() {
        // Worst case for the tree: the most pairs, each as deep as allowed,
        // all sharing a long path, in a body near the size limit.
        let prefix = format!("a{}", "[bbbbbbbbbbbbbbb]".repeat(MAX_DEPTH - 1));
        let value = "v".repeat(MAX_BODY_BYTES / MAX_PAIRS - prefix.len() - 9);
        let body = (0..MAX_PAIRS)
            .map(|i| format!("{prefix}[{i}]={value}"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(body.len() <= MAX_BODY_BYTES);
        let started = std::time::Instant::now();
        let root = parse(body.as_bytes()).unwrap();
        let _ = root.to_object();
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }
}
