//! Multi-value fields (phones, e-mails, any multitext) on update. amoCRM
//! replaces every value of a field a PATCH sends, so Update offers three
//! modes, chosen in the node's "Phones and E-mails" setting:
//!
//! * **Add** (the default): the values the record has stay, and a value it
//!   already has (after normalisation: `8 900…` is `+7 900…`) is not added
//!   again;
//! * **Replace**: the values sent become the field's only values;
//! * **Remove**: the values sent (compared after normalisation) are taken out.
//!
//! Add and Remove need the record's current values, which the batcher reads
//! first (one read per batch).

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::entity::fields::{FieldDef, FieldSet};
use crate::input::{InputError, Params};
use crate::normalize::email::email_key;
use crate::normalize::phone::{phone_key, Country};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValuesMode {
    Add,
    Replace,
    Remove,
}

pub const MODE_LABEL: &str = "Phones and E-mails";

/// The item's mode for multi-value fields.
pub fn values_mode(params: Params) -> Result<ValuesMode, InputError> {
    match params.string("valuesMode", MODE_LABEL)? {
        "" | "add" => Ok(ValuesMode::Add),
        "replace" => Ok(ValuesMode::Replace),
        "remove" => Ok(ValuesMode::Remove),
        other => Err(InputError::new(
            MODE_LABEL,
            format!("\"{other}\" is not add, replace or remove"),
        )),
    }
}

/// The default country of phone numbers written without a calling code.
pub fn default_country(params: Params) -> Result<Country, InputError> {
    let label = "Options › Default Country";
    match params.object("options").string("defaultCountry", label)?.trim() {
        "" => Ok(Country::RUSSIA),
        iso => Country::by_iso(iso).ok_or_else(|| {
            let known: Vec<&str> = crate::normalize::phone::COUNTRIES.iter().map(|(c, _)| *c).collect();
            InputError::new(label, format!("\"{iso}\" is not one of {}", known.join(", ")))
        }),
    }
}

/// How a value of `field` compares: phones by number, e-mails by address,
/// anything else by its trimmed, lower-cased text.
pub fn value_key(field: &FieldDef, value: &str, country: Country) -> String {
    let code = field.code.as_deref().unwrap_or_default();
    let key = match code {
        "PHONE" => phone_key(value, country),
        "EMAIL" => email_key(value),
        _ => None,
    };
    key.unwrap_or_else(|| value.trim().to_lowercase())
}

fn is_multitext(fields: &FieldSet, id: u64) -> Option<&FieldDef> {
    fields.fields().find(|f| f.id == id && f.kind == "multitext")
}

/// Whether a body sets any multi-value field (Add and Remove then need the
/// record's current values).
pub fn touches_multitext(body: &Map<String, Value>, fields: Option<&FieldSet>) -> bool {
    let Some(fields) = fields else { return false };
    body.get("custom_fields_values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !e["values"].is_null())
        .any(|e| e["field_id"].as_u64().and_then(|id| is_multitext(fields, id)).is_some())
}

/// The current values of field `id` in a record as amoCRM reads it back,
/// reduced to what a write takes.
fn current_values(record: &Value, id: u64) -> Vec<Value> {
    record["custom_fields_values"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["field_id"].as_u64() == Some(id))
        .and_then(|f| f["values"].as_array())
        .into_iter()
        .flatten()
        .map(|v| {
            let mut kept = Map::new();
            kept.insert("value".into(), v["value"].clone());
            match (
                v.get("enum_id").filter(|x| !x.is_null()),
                v.get("enum_code").filter(|x| !x.is_null()),
            ) {
                (Some(id), _) => kept.insert("enum_id".into(), id.clone()),
                (None, Some(code)) => kept.insert("enum_code".into(), code.clone()),
                _ => None,
            };
            Value::Object(kept)
        })
        .collect()
}

fn text(v: &Value) -> String {
    match &v["value"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Rewrites the multi-value entries of an update body against the record's
/// current values, as `mode` says.
pub fn merge(body: &mut Map<String, Value>, current: &Value, mode: ValuesMode, fields: &FieldSet, country: Country) {
    if mode == ValuesMode::Replace {
        return;
    }
    let Some(Value::Array(entries)) = body.get_mut("custom_fields_values") else {
        return;
    };
    for entry in entries.iter_mut() {
        let Some(field) = entry["field_id"].as_u64().and_then(|id| is_multitext(fields, id)) else {
            continue;
        };
        let Some(sent) = entry["values"].as_array().cloned() else {
            continue;
        };
        let existing = current_values(current, field.id);
        let sent_keys: HashSet<String> = sent.iter().map(|v| value_key(field, &text(v), country)).collect();
        let merged: Vec<Value> = match mode {
            ValuesMode::Add => {
                let mut seen: HashSet<String> = existing.iter().map(|v| value_key(field, &text(v), country)).collect();
                let mut out = existing;
                for v in sent {
                    if seen.insert(value_key(field, &text(&v), country)) {
                        out.push(v);
                    }
                }
                out
            }
            ValuesMode::Remove => existing
                .into_iter()
                .filter(|v| !sent_keys.contains(&value_key(field, &text(v), country)))
                .collect(),
            ValuesMode::Replace => unreachable!("returned above"),
        };
        entry["values"] = if merged.is_empty() { Value::Null } else { json!(merged) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> FieldSet {
        FieldSet::from_definitions(&[
            json!({"id": 10, "name": "Phone", "code": "PHONE", "type": "multitext", "enums": [{"id": 1, "value": "WORK", "code": "WORK"}, {"id": 2, "value": "MOB", "code": "MOB"}]}),
            json!({"id": 11, "name": "Email", "code": "EMAIL", "type": "multitext"}),
            json!({"id": 12, "name": "Position", "type": "text"}),
        ])
    }

    fn current() -> Value {
        json!({"id": 5, "custom_fields_values": [
            {"field_id": 10, "field_name": "Phone", "field_code": "PHONE", "values": [
                {"value": "+7 900 111-11-11", "enum_id": 1, "enum_code": "WORK"},
                {"value": "8 (900) 222 22 22", "enum_id": 2, "enum_code": "MOB"}
            ]}
        ]})
    }

    fn body(values: Value) -> Map<String, Value> {
        json!({"custom_fields_values": [{"field_id": 10, "values": values}]})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn adding_a_phone_keeps_the_others_and_skips_one_already_there() {
        let mut b = body(json!([{"value": "+7 900 333 33 33", "enum_code": "WORK"}]));
        merge(&mut b, &current(), ValuesMode::Add, &fields(), Country::RUSSIA);
        let values = b["custom_fields_values"][0]["values"].as_array().unwrap();
        assert_eq!(values.len(), 3);
        assert_eq!(values[0], json!({"value": "+7 900 111-11-11", "enum_id": 1}));
        assert_eq!(values[1], json!({"value": "8 (900) 222 22 22", "enum_id": 2}));
        let mut again = body(json!([{"value": "79002222222", "enum_code": "WORK"}]));
        merge(&mut again, &current(), ValuesMode::Add, &fields(), Country::RUSSIA);
        assert_eq!(again["custom_fields_values"][0]["values"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn removing_takes_out_the_value_in_any_format_and_replace_leaves_the_body() {
        let mut b = body(json!([{"value": "89001111111"}]));
        merge(&mut b, &current(), ValuesMode::Remove, &fields(), Country::RUSSIA);
        assert_eq!(
            b["custom_fields_values"][0]["values"],
            json!([{"value": "8 (900) 222 22 22", "enum_id": 2}])
        );
        let mut all = body(json!([{"value": "89001111111"}, {"value": "+79002222222"}]));
        merge(&mut all, &current(), ValuesMode::Remove, &fields(), Country::RUSSIA);
        assert_eq!(all["custom_fields_values"][0]["values"], Value::Null);
        let mut r = body(json!([{"value": "+7 900 333 33 33"}]));
        merge(&mut r, &current(), ValuesMode::Replace, &fields(), Country::RUSSIA);
        assert_eq!(
            r["custom_fields_values"][0]["values"],
            json!([{"value": "+7 900 333 33 33"}])
        );
    }

    #[test]
    fn only_multitext_fields_count() {
        let f = fields();
        assert!(touches_multitext(&body(json!([{"value": "x"}])), Some(&f)));
        let text = json!({"custom_fields_values": [{"field_id": 12, "values": [{"value": "x"}]}]});
        assert!(!touches_multitext(text.as_object().unwrap(), Some(&f)));
    }
}
