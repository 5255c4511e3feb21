//! From a decoded webhook body to the items the trigger emits: one item per
//! event, in the body's order.
//!
//! amoCRM's body is `{entity}[{action}][{index}][{field}…]=value` for every
//! event, plus one `account[…]` block (webhooks-format in the reference). Each
//! event becomes
//!
//! ```json
//! {
//!   "event": "status_lead",
//!   "entity": "lead",
//!   "action": "status",
//!   "data": { "id": 123, "status_id": 142, "old_status_id": 61000003, … },
//!   "account": { "id": 31000001, "subdomain": "demo", "_links": { "self": "https://demo.amocrm.ru" } }
//! }
//! ```
//!
//! * `event` is `{action}_{entity}`, the name of the subscription setting that
//!   delivers it (`add_lead`, `status_lead`, `delete_company`, …).
//! * `entity` is singular: `leads` → `lead`, `contacts` → `contact`, except
//!   that companies arrive under `contacts[…]` with `type=company` and become
//!   `company`; `companies` → `company`, `customers` → `customer`, `catalogs`
//!   → `catalog`, `tasks` → `task`; other top-level names (`task`, `talk`,
//!   `message`, `unsorted`) are kept as they are.
//! * `data` holds the event's fields. Delete events carry only `id` and `type`.
//! * `account` is the body's `account` block (`{}` when there is none).
//!
//! ## Normalisation (on by default)
//!
//! amoCRM's webhooks still use the names of its retired v2 API and send every
//! value as text; the rest of this package speaks v4. With normalisation on,
//! every event's `data` (and the `note` object of note events) is rewritten:
//!
//! | sent by amoCRM (v2)                          | emitted (v4)                                           |
//! |----------------------------------------------|--------------------------------------------------------|
//! | `date_create`                                | `created_at`                                           |
//! | `last_modified`                              | `updated_at`                                           |
//! | `date_close`                                 | `closed_at`                                            |
//! | `created_user_id`                            | `created_by`                                           |
//! | `modified_user_id`, `modified_by`            | `updated_by`                                           |
//! | `element_id` (notes, tasks)                  | `entity_id`                                            |
//! | `main_user_id` (notes, tasks)                | `responsible_user_id`                                  |
//! | `custom_fields[i][id\|name\|code]`           | `custom_fields_values[i].field_id\|field_name\|field_code` |
//! | `custom_fields[i][values][j][value\|enum]`   | `custom_fields_values[i].values[j].value\|enum_id`     |
//! | `…[values][j][enum]` that is not a number (`WORK`) | `….values[j].enum_code`                          |
//! | `tags[i][id\|name]`                          | `_embedded.tags[i].id\|name`                           |
//! | `old_status_id`, `old_pipeline_id`, `old_responsible_user_id`, `type`, anything else | kept as sent |
//!
//! When amoCRM already sent the v4 name too (it sends `created_at` and
//! `updated_at` next to `date_create` and `last_modified`), the v4 field is
//! kept, and the old one is dropped if it holds the same value, or else kept
//! under its old name so nothing is lost.
//!
//! Numbers: after renaming, these fields become JSON numbers when their text
//! is a canonical non-negative whole number no larger than 2^53 − 1
//! (JavaScript's safe-integer limit, above which n8n would corrupt them);
//! otherwise they stay text: `id`, every name ending in `_id`, `price`,
//! `created_at`, `updated_at`, `closed_at`, `closest_task_at`,
//! `complete_till`, `created_by`, `updated_by`, `note_type`, `element_type`;
//! in custom fields `field_id` and `enum_id`; in tags `id`; in the account
//! `id`. Custom field `value`s stay text: their type depends on the field.
//!
//! With normalisation off, `data` and `account` are exactly what amoCRM sent:
//! old names, every value text, lists as arrays.

use serde_json::{Map, Value};

use crate::input::MAX_SAFE_INTEGER;
use crate::webhook::form::{Group, Node};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub normalize: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { normalize: true }
    }
}

/// Why decoded fields do not form amoCRM events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The events of a decoded body, in body order.
pub fn events(root: &Group, options: Options) -> Result<Vec<Value>, ShapeError> {
    let account = match root.get("account") {
        None => Map::new(),
        Some(Node::Group(g)) => {
            let mut a = g.to_object();
            if options.normalize {
                numbers(&mut a, |k| k == "id");
            }
            a
        }
        Some(Node::Leaf(_)) => {
            return Err(ShapeError(
                "\"account\" is a single value; amoCRM sends it as account[subdomain], account[id]".into(),
            ))
        }
    };
    let mut out = Vec::new();
    for (entity_key, node) in root.iter().filter(|(k, _)| *k != "account") {
        let shape = || {
            ShapeError(format!(
                "\"{}\" is not shaped like amoCRM events, {0}[action][index][field]",
                crate::input::shorten_to(entity_key, 60)
            ))
        };
        let Node::Group(actions) = node else {
            return Err(shape());
        };
        for (action, node) in actions.iter() {
            let Node::Group(list) = node else {
                return Err(shape());
            };
            for (_, node) in list.ordered() {
                let Node::Group(fields) = node else {
                    return Err(shape());
                };
                out.push(event(entity_key, action, fields, &account, options));
            }
        }
    }
    Ok(out)
}

fn event(entity_key: &str, action: &str, fields: &Group, account: &Map<String, Value>, options: Options) -> Value {
    let mut data = fields.to_object();
    let is_company = data.get("type").and_then(Value::as_str) == Some("company");
    let entity = match entity_key {
        "leads" => "lead",
        "contacts" if is_company => "company",
        "contacts" => "contact",
        "companies" => "company",
        "customers" => "customer",
        "catalogs" => "catalog",
        "tasks" => "task",
        other => other,
    };
    if options.normalize {
        normalize(&mut data);
        if let Some(Value::Object(note)) = data.get_mut("note") {
            normalize(note);
        }
    }
    let mut item = Map::new();
    item.insert("event".into(), Value::String(format!("{action}_{entity}")));
    item.insert("entity".into(), Value::String(entity.to_string()));
    item.insert("action".into(), Value::String(action.to_string()));
    item.insert("data".into(), Value::Object(data));
    item.insert("account".into(), Value::Object(account.clone()));
    Value::Object(item)
}

/// Old (v2) field names and their v4 names.
pub const RENAMES: [(&str, &str); 8] = [
    ("date_create", "created_at"),
    ("last_modified", "updated_at"),
    ("date_close", "closed_at"),
    ("created_user_id", "created_by"),
    ("modified_user_id", "updated_by"),
    ("modified_by", "updated_by"),
    ("element_id", "entity_id"),
    ("main_user_id", "responsible_user_id"),
];

/// Fields, besides `id` and `*_id`, that hold whole numbers.
pub const NUMERIC_FIELDS: [&str; 10] = [
    "price",
    "created_at",
    "updated_at",
    "closed_at",
    "closest_task_at",
    "complete_till",
    "created_by",
    "updated_by",
    "note_type",
    "element_type",
];

fn is_numeric_field(name: &str) -> bool {
    name == "id" || name.ends_with("_id") || NUMERIC_FIELDS.contains(&name)
}

fn normalize(data: &mut Map<String, Value>) {
    for (old, new) in RENAMES {
        rename(data, old, new);
    }
    if let Some(cf) = data.remove("custom_fields") {
        let values = match cf {
            Value::Array(list) => Value::Array(list.into_iter().map(custom_field).collect()),
            Value::Object(map) => Value::Array(map.into_iter().map(|(_, v)| custom_field(v)).collect()),
            other => other,
        };
        put(data, "custom_fields", "custom_fields_values", values);
    }
    if let Some(tags) = data.remove("tags") {
        let tags = match tags {
            Value::Array(list) => Value::Array(list.into_iter().map(tag).collect()),
            Value::Object(map) => Value::Array(map.into_iter().map(|(_, v)| tag(v)).collect()),
            other => other,
        };
        match data.get_mut("_embedded") {
            None => {
                data.insert("_embedded".into(), serde_json::json!({ "tags": tags }));
            }
            Some(Value::Object(embedded)) if !embedded.contains_key("tags") => {
                embedded.insert("tags".into(), tags);
            }
            Some(_) => {
                data.insert("tags".into(), tags);
            }
        }
    }
    numbers(data, is_numeric_field);
}

/// Moves `old` to `new`, unless `new` is there already: then `old` is dropped
/// when it says the same, and kept otherwise.
fn rename(data: &mut Map<String, Value>, old: &str, new: &str) {
    if let Some(value) = data.remove(old) {
        put(data, old, new, value);
    }
}

fn put(data: &mut Map<String, Value>, old: &str, new: &str, value: Value) {
    match data.get(new) {
        None => {
            data.insert(new.to_string(), value);
        }
        Some(existing) if *existing == value => {}
        Some(_) => {
            data.insert(old.to_string(), value);
        }
    }
}

fn custom_field(field: Value) -> Value {
    let Value::Object(mut f) = field else {
        return field;
    };
    rename(&mut f, "id", "field_id");
    rename(&mut f, "name", "field_name");
    rename(&mut f, "code", "field_code");
    numbers(&mut f, |k| k == "field_id");
    if let Some(values) = f.remove("values") {
        let list: Vec<Value> = match values {
            Value::Array(list) => list,
            Value::Object(map) => map.into_iter().map(|(_, v)| v).collect(),
            // `values=text`: one value.
            Value::String(s) => vec![Value::String(s)],
            other => vec![other],
        };
        let list = list.into_iter().map(field_value).collect();
        f.insert("values".into(), Value::Array(list));
    }
    Value::Object(f)
}

fn field_value(value: Value) -> Value {
    match value {
        Value::Object(mut v) => {
            // v4 names a numeric enum `enum_id` and a code such as WORK `enum_code`.
            let target = match v.get("enum").and_then(Value::as_str) {
                Some(e) if safe_integer(e).is_none() => "enum_code",
                _ => "enum_id",
            };
            rename(&mut v, "enum", target);
            numbers(&mut v, |k| k == "enum_id");
            Value::Object(v)
        }
        Value::String(s) => serde_json::json!({ "value": s }),
        other => other,
    }
}

fn tag(tag: Value) -> Value {
    match tag {
        Value::Object(mut t) => {
            numbers(&mut t, |k| k == "id");
            Value::Object(t)
        }
        other => other,
    }
}

/// Turns the text of the chosen fields into numbers where that is lossless.
fn numbers(map: &mut Map<String, Value>, numeric: impl Fn(&str) -> bool) {
    for (key, value) in map.iter_mut() {
        if !numeric(key) {
            continue;
        }
        if let Some(n) = value.as_str().and_then(safe_integer) {
            *value = Value::from(n);
        }
    }
}

/// A canonical non-negative decimal (no sign, no leading zeros, no spaces) ≤ 2^53 − 1.
pub fn safe_integer(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 16 || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    s.parse::<u64>().ok().filter(|&n| n <= MAX_SAFE_INTEGER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::form::parse;
    use serde_json::json;

    fn run(body: &str, normalize: bool) -> Vec<Value> {
        events(&parse(body.as_bytes()).unwrap(), Options { normalize }).unwrap()
    }

    #[test]
    fn safe_integers_only() {
        assert_eq!(safe_integer("0"), Some(0));
        assert_eq!(safe_integer("9007199254740991"), Some(MAX_SAFE_INTEGER));
        for s in [
            "9007199254740992",
            "",
            "01",
            "-1",
            "+1",
            "1.0",
            " 1",
            "1e3",
            "99999999999999999999",
        ] {
            assert_eq!(safe_integer(s), None, "{s}");
        }
    }

    #[test]
    fn one_item_per_event_in_body_order_with_the_account() {
        let out = run(
            "leads[update][0][id]=1&leads[status][0][id]=1&leads[update][1][id]=2&contacts[add][0][id]=3&contacts[add][0][type]=contact&contacts[delete][0][id]=4&contacts[delete][0][type]=company&account[subdomain]=demo&account[id]=31000001",
            true,
        );
        let names: Vec<&str> = out.iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "update_lead",
                "update_lead",
                "status_lead",
                "add_contact",
                "delete_company"
            ]
        );
        assert_eq!(out[1]["data"]["id"], 2);
        assert_eq!(out[4]["entity"], "company");
        assert_eq!(out[4]["action"], "delete");
        assert_eq!(out[4]["data"], json!({"id": 4, "type": "company"}));
        for e in &out {
            assert_eq!(e["account"], json!({"subdomain": "demo", "id": 31000001}));
        }
    }

    #[test]
    fn sparse_event_indexes_are_read_in_numeric_order() {
        let out = run(
            "leads[add][10][id]=10&leads[add][2][id]=2&leads[add][999999999][id]=9",
            true,
        );
        let ids: Vec<u64> = out.iter().map(|e| e["data"]["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, [2, 10, 9]);
    }

    #[test]
    fn normalisation_renames_converts_and_restructures() {
        let body = "leads[status][0][id]=25399013&leads[status][0][name]=Deal&leads[status][0][status_id]=142\
&leads[status][0][old_status_id]=61000003&leads[status][0][price]=900&leads[status][0][responsible_user_id]=8000001\
&leads[status][0][last_modified]=1700000100&leads[status][0][modified_user_id]=8000002&leads[status][0][created_user_id]=8000001\
&leads[status][0][date_create]=1700000000&leads[status][0][created_at]=1700000000&leads[status][0][pipeline_id]=7000001\
&leads[status][0][old_pipeline_id]=7000002&leads[status][0][account_id]=31000001\
&leads[status][0][tags][0][id]=5&leads[status][0][tags][0][name]=VIP\
&leads[status][0][custom_fields][0][id]=900001&leads[status][0][custom_fields][0][name]=Source\
&leads[status][0][custom_fields][0][values][0][value]=Fair&leads[status][0][custom_fields][0][values][0][enum]=17\
&leads[status][0][custom_fields][1][id]=900003&leads[status][0][custom_fields][1][name]=Paid&leads[status][0][custom_fields][1][code]=PAID\
&leads[status][0][custom_fields][1][values][0][value]=1";
        let out = run(body, true);
        assert_eq!(
            out[0]["data"],
            json!({
                "id": 25399013, "name": "Deal", "status_id": 142, "old_status_id": 61000003, "price": 900,
                "responsible_user_id": 8000001, "updated_at": 1700000100, "updated_by": 8000002,
                "created_by": 8000001, "created_at": 1700000000, "pipeline_id": 7000001,
                "old_pipeline_id": 7000002, "account_id": 31000001,
                "_embedded": {"tags": [{"id": 5, "name": "VIP"}]},
                "custom_fields_values": [
                    {"field_id": 900001, "field_name": "Source", "values": [{"value": "Fair", "enum_id": 17}]},
                    {"field_id": 900003, "field_name": "Paid", "field_code": "PAID", "values": [{"value": "1"}]}
                ]
            })
        );
        let raw = run(body, false);
        assert_eq!(raw[0]["data"]["date_create"], "1700000000");
        assert_eq!(raw[0]["data"]["custom_fields"][0]["values"][0]["enum"], "17");
        assert_eq!(raw[0]["data"]["tags"][0]["id"], "5");
    }

    #[test]
    fn a_differing_old_value_is_kept_under_its_old_name() {
        let out = run("leads[add][0][date_create]=1&leads[add][0][created_at]=2", true);
        assert_eq!(out[0]["data"], json!({"created_at": 2, "date_create": "1"}));
    }

    #[test]
    fn unsafe_or_odd_numbers_stay_text() {
        let out = run(
            "leads[add][0][id]=9007199254740993&leads[add][0][price]=10.5&leads[add][0][status_id]=007&leads[add][0][name]=123",
            true,
        );
        assert_eq!(
            out[0]["data"],
            json!({"id": "9007199254740993", "price": "10.5", "status_id": "007", "name": "123"})
        );
    }

    #[test]
    fn note_events_normalise_the_note() {
        let out = run(
            "leads[note][0][note][id]=77&leads[note][0][note][element_id]=5&leads[note][0][note][element_type]=2&leads[note][0][note][note_type]=4&leads[note][0][note][text]=Call&leads[note][0][note][main_user_id]=8&leads[note][0][note][date_create]=100",
            true,
        );
        assert_eq!(out[0]["event"], "note_lead");
        assert_eq!(
            out[0]["data"]["note"],
            json!({"id": 77, "entity_id": 5, "element_type": 2, "note_type": 4, "text": "Call", "responsible_user_id": 8, "created_at": 100})
        );
    }

    #[test]
    fn shapes_that_are_not_events_are_refused() {
        for body in ["leads=1", "leads[add]=1", "leads[add][0]=1", "account=1"] {
            let root = parse(body.as_bytes()).unwrap();
            assert!(events(&root, Options::default()).is_err(), "{body}");
        }
        let root = parse(b"leads[add][0]=1").unwrap();
        assert_eq!(
            events(&root, Options::default()).unwrap_err().to_string(),
            "\"leads\" is not shaped like amoCRM events, leads[action][index][field]"
        );
    }
}
