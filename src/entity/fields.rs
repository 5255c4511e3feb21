//! Lead custom fields: the account's definitions, and turning what a user
//! typed into the `custom_fields_values` amoCRM accepts for each field type.
//!
//! Writes look like `{"field_id": 7, "values": [{"value": …}]}`; selects take
//! `enum_id`, dates Unix seconds, checkboxes booleans, and `"values": null`
//! clears a field. A value left empty in n8n is simply not sent: clearing is a
//! separate, explicit list, so an unfilled input can never wipe data.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::input::{describe, shorten};
use crate::time::parse_timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumDef {
    pub id: u64,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub id: u64,
    pub name: String,
    pub code: Option<String>,
    /// amoCRM's type name (`text`, `numeric`, `select`, …).
    pub kind: String,
    pub enums: Vec<EnumDef>,
}

/// The account's lead fields, by ID.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    by_id: BTreeMap<u64, FieldDef>,
}

impl FieldSet {
    /// Adds the fields of one `GET /api/v4/leads/custom_fields` page.
    pub fn add_page(&mut self, page: &Value) {
        for f in page["_embedded"]["custom_fields"].as_array().into_iter().flatten() {
            let Some(id) = f["id"].as_u64() else { continue };
            let enums = f["enums"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    Some(EnumDef {
                        id: e["id"].as_u64()?,
                        value: e["value"].as_str()?.to_string(),
                    })
                })
                .collect();
            self.by_id.insert(
                id,
                FieldDef {
                    id,
                    name: f["name"].as_str().unwrap_or_default().to_string(),
                    code: f["code"].as_str().filter(|c| !c.is_empty()).map(str::to_string),
                    kind: f["type"].as_str().unwrap_or("text").to_string(),
                    enums,
                },
            );
        }
    }

    pub fn fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.by_id.values()
    }

    /// A field named by ID (as number or text), by code, or by exact name.
    pub fn find(&self, key: &str) -> Option<&FieldDef> {
        let key = key.trim();
        if let Ok(id) = key.parse::<u64>() {
            if let Some(f) = self.by_id.get(&id) {
                return Some(f);
            }
        }
        self.by_id
            .values()
            .find(|f| f.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(key)))
            .or_else(|| self.by_id.values().find(|f| f.name == key))
    }

    /// `custom_fields_values` entries for a map of field → value. Empty
    /// values are skipped. Errors name the field as the user knows it.
    pub fn write_values(&self, values: &Map<String, Value>) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        for (key, value) in values {
            let field = self
                .find(key)
                .ok_or_else(|| format!("the account has no lead custom field \"{}\"", shorten(key)))?;
            if let Some(entry) =
                write_value(field, value).map_err(|problem| format!("\"{}\": {problem}", field.name))?
            {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// `{"field_id", "values": null}` entries, which clear fields.
    pub fn clear_values(&self, keys: &[&str]) -> Result<Vec<Value>, String> {
        keys.iter()
            .map(|key| {
                let field = self
                    .find(key)
                    .ok_or_else(|| format!("the account has no lead custom field \"{}\"", shorten(key)))?;
                Ok(json!({ "field_id": field.id, "values": null }))
            })
            .collect()
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// One field's write entry, or `None` when the value is empty.
pub fn write_value(field: &FieldDef, value: &Value) -> Result<Option<Value>, String> {
    if is_empty(value) {
        return Ok(None);
    }
    let values: Vec<Value> = match field.kind.as_str() {
        "text" | "textarea" | "url" | "streetaddress" => vec![json!({ "value": text_of(value)? })],
        "numeric" | "price" | "monetary" => vec![json!({ "value": number_of(value)? })],
        "checkbox" => vec![json!({ "value": bool_of(value)? })],
        "select" | "radiobutton" | "category" => vec![json!({ "enum_id": enum_of(field, value)? })],
        "multiselect" => list_of(value)
            .into_iter()
            .map(|v| enum_of(field, &v).map(|id| json!({ "enum_id": id })))
            .collect::<Result<_, _>>()?,
        "date" | "date_time" | "birthday" => {
            let ts = parse_timestamp(value).ok_or_else(|| format!("{} is not a date; use ISO 8601 such as 2024-05-01 or 2024-05-01T10:00:00+03:00, or a Unix timestamp", describe(value)))?;
            vec![json!({ "value": ts })]
        }
        "multitext" => list_of(value)
            .into_iter()
            .map(|v| match v {
                Value::Object(o) => Ok(Value::Object(o)),
                other => text_of(&other).map(|t| json!({ "value": t, "enum_code": "WORK" })),
            })
            .collect::<Result<_, _>>()?,
        // Complex types (legal entities, items, files…): the user gives the
        // `values` list (or one value object) as amoCRM documents it.
        _ => match value {
            Value::Array(items) => items.clone(),
            Value::Object(_) => vec![value.clone()],
            other => vec![json!({ "value": text_of(other)? })],
        },
    };
    Ok(Some(json!({ "field_id": field.id, "values": values })))
}

fn text_of(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected text, got {}", describe(other))),
    }
}

fn number_of(value: &Value) -> Result<Value, String> {
    let bad = || format!("{} is not a number", describe(value));
    match value {
        Value::Number(_) => Ok(value.clone()),
        Value::String(s) => {
            let t = s.trim().replace(',', ".");
            let n: f64 = serde_json::from_str(&t).map_err(|_| bad())?;
            if !n.is_finite() || t.starts_with('.') || t.ends_with('.') {
                return Err(bad());
            }
            Ok(serde_json::from_str::<Value>(&t).map_err(|_| bad())?)
        }
        _ => Err(bad()),
    }
}

fn bool_of(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("{} is not true or false", describe(value))),
        },
        other => Err(format!("{} is not true or false", describe(other))),
    }
}

/// A list from an array, or from comma-separated text.
fn list_of(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.to_string()))
            .collect(),
        other => vec![other.clone()],
    }
}

/// An option of a select field, by its ID or its text (case-insensitive).
fn enum_of(field: &FieldDef, value: &Value) -> Result<u64, String> {
    let wanted = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => return Err(format!("expected one of the field's options, got {}", describe(other))),
    };
    if let Ok(id) = wanted.parse::<u64>() {
        if field.enums.iter().any(|e| e.id == id) {
            return Ok(id);
        }
    }
    let lower = wanted.to_lowercase();
    field
        .enums
        .iter()
        .find(|e| e.value.to_lowercase() == lower)
        .map(|e| e.id)
        .ok_or_else(|| {
            let options: Vec<&str> = field.enums.iter().map(|e| e.value.as_str()).take(20).collect();
            format!(
                "\"{}\" is not one of the field's options ({})",
                shorten(&wanted),
                options.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> FieldSet {
        let mut s = FieldSet::default();
        s.add_page(&json!({"_embedded": {"custom_fields": [
            {"id": 1, "name": "Source", "type": "select", "enums": [{"id": 11, "value": "Web"}, {"id": 12, "value": "Phone"}]},
            {"id": 2, "name": "Tags2", "type": "multiselect", "enums": [{"id": 21, "value": "A"}, {"id": 22, "value": "B"}]},
            {"id": 3, "name": "Budget", "type": "numeric"},
            {"id": 4, "name": "VIP", "type": "checkbox"},
            {"id": 5, "name": "Due", "type": "date"},
            {"id": 6, "name": "Note", "type": "text", "code": "NOTE"},
            {"id": 7, "name": "Phone", "type": "multitext"}
        ]}}));
        s
    }

    fn write(map: Value) -> Result<Vec<Value>, String> {
        set().write_values(map.as_object().unwrap())
    }

    #[test]
    fn values_are_typed_by_field() {
        let out = write(json!({
            "1": "web", "2": "A, 22", "3": "12.5", "4": "yes", "5": "2024-05-01T00:00:00Z", "NOTE": 42, "7": "+7 900 000"
        }))
        .unwrap();
        assert_eq!(
            out,
            vec![
                json!({"field_id": 1, "values": [{"enum_id": 11}]}),
                json!({"field_id": 2, "values": [{"enum_id": 21}, {"enum_id": 22}]}),
                json!({"field_id": 3, "values": [{"value": 12.5}]}),
                json!({"field_id": 4, "values": [{"value": true}]}),
                json!({"field_id": 5, "values": [{"value": 1_714_521_600}]}),
                json!({"field_id": 7, "values": [{"value": "+7 900 000", "enum_code": "WORK"}]}),
                json!({"field_id": 6, "values": [{"value": "42"}]}),
            ]
        );
    }

    #[test]
    fn empty_values_are_left_alone_and_clearing_is_explicit() {
        assert_eq!(
            write(json!({"1": "", "3": null, "2": []})).unwrap(),
            Vec::<Value>::new()
        );
        assert_eq!(
            set().clear_values(&["3", "Source"]).unwrap(),
            vec![
                json!({"field_id": 3, "values": null}),
                json!({"field_id": 1, "values": null})
            ]
        );
    }

    #[test]
    fn bad_values_name_the_field_and_the_options() {
        let e = write(json!({"1": "Fax"})).unwrap_err();
        assert_eq!(e, "\"Source\": \"Fax\" is not one of the field's options (Web, Phone)");
        assert!(write(json!({"3": "lots"}))
            .unwrap_err()
            .contains("\"Budget\": \"lots\" is not a number"));
        assert!(write(json!({"4": "maybe"})).unwrap_err().contains("not true or false"));
        assert!(write(json!({"5": "soon"})).unwrap_err().contains("is not a date"));
        assert!(write(json!({"99": "x"}))
            .unwrap_err()
            .contains("no lead custom field \"99\""));
    }
}
