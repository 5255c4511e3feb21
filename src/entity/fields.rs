//! Custom fields: the account's definitions for an entity, and turning what a
//! user typed into the `custom_fields_values` amoCRM accepts for each type.
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
    /// `WORK`, `MOB`… for the predefined multitext fields.
    pub code: Option<String>,
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

/// The account's fields of one entity, by ID.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    by_id: BTreeMap<u64, FieldDef>,
}

impl FieldSet {
    /// The set of the definitions amoCRM listed.
    pub fn from_definitions(definitions: &[Value]) -> FieldSet {
        let mut set = FieldSet::default();
        for f in definitions {
            set.add_field(f);
        }
        set
    }

    /// Adds the fields of one `GET /api/v4/{entity}/custom_fields` page.
    pub fn add_page(&mut self, page: &Value) {
        for f in page["_embedded"]["custom_fields"].as_array().into_iter().flatten() {
            self.add_field(f);
        }
    }

    /// Adds one field definition.
    pub fn add_field(&mut self, f: &Value) {
        let Some(id) = f["id"].as_u64() else { return };
        let enums = f["enums"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some(EnumDef {
                    id: e["id"].as_u64()?,
                    value: e["value"].as_str()?.to_string(),
                    code: e["code"].as_str().filter(|c| !c.is_empty()).map(str::to_string),
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
    pub fn write_values(&self, values: &Map<String, Value>, noun: &str) -> Result<Vec<WriteEntry>, String> {
        let mut out = Vec::new();
        for (key, value) in values {
            let field = self.find_or_explain(key, noun)?;
            if let Some(entry) =
                write_value(field, value).map_err(|problem| format!("\"{}\": {problem}", field.name))?
            {
                out.push(entry);
            }
        }
        Ok(out)
    }

    fn find_or_explain(&self, key: &str, noun: &str) -> Result<&FieldDef, String> {
        self.find(key)
            .ok_or_else(|| format!("the account has no {noun} custom field \"{}\"", shorten(key)))
    }

    /// `{"field_id", "values": null}` entries, which clear fields.
    pub fn clear_values(&self, keys: &[&str], noun: &str) -> Result<Vec<WriteEntry>, String> {
        keys.iter()
            .map(|key| {
                let field = self.find_or_explain(key, noun)?;
                Ok(WriteEntry {
                    field_id: field.id,
                    values: Value::Null,
                })
            })
            .collect()
    }

    /// Entries from a `custom_fields_values` list in amoCRM's write shape or
    /// in the shape it reads back (`field_name`, `enum_id`…), keeping only
    /// what a write takes.
    pub fn entries_from_json(&self, list: &Value, noun: &str) -> Result<Vec<WriteEntry>, String> {
        let Value::Array(list) = list else {
            return Err(format!("expected a list of fields, got {}", describe(list)));
        };
        let mut out = Vec::new();
        for entry in list {
            let field = match (entry.get("field_id"), entry.get("field_code").and_then(Value::as_str)) {
                (Some(id), _) if !id.is_null() => self.find_or_explain(&id.to_string(), noun)?,
                (_, Some(code)) => self.find_or_explain(code, noun)?,
                _ => return Err("every entry needs a field_id or a field_code".to_string()),
            };
            let values = match entry.get("values") {
                None | Some(Value::Null) => Value::Null,
                Some(Value::Array(values)) => Value::Array(
                    values
                        .iter()
                        .map(|v| {
                            let mut kept = Map::new();
                            for key in ["value", "enum_id", "enum_code"] {
                                if let Some(x) = v.get(key).filter(|x| !x.is_null()) {
                                    kept.insert(key.into(), x.clone());
                                }
                            }
                            Value::Object(kept)
                        })
                        .collect(),
                ),
                Some(other) => {
                    return Err(format!(
                        "\"{}\": values must be a list, got {}",
                        field.name,
                        describe(other)
                    ))
                }
            };
            out.push(WriteEntry {
                field_id: field.id,
                values,
            });
        }
        Ok(out)
    }
}

/// One `custom_fields_values` entry of a write: the values of a field, or
/// `null` to clear it.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteEntry {
    pub field_id: u64,
    pub values: Value,
}

impl WriteEntry {
    pub fn same_field(&self, other: &WriteEntry) -> bool {
        self.field_id == other.field_id
    }

    pub fn field_label(&self) -> String {
        self.field_id.to_string()
    }

    pub fn into_json(self) -> Value {
        json!({ "field_id": self.field_id, "values": self.values })
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
pub fn write_value(field: &FieldDef, value: &Value) -> Result<Option<WriteEntry>, String> {
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
            .map(|v| multitext_value(field, v))
            .collect::<Result<_, _>>()?,
        // Complex types (legal entities, items, files…): the user gives the
        // `values` list (or one value object) as amoCRM documents it.
        _ => match value {
            Value::Array(items) => items.clone(),
            Value::Object(_) => vec![value.clone()],
            other => vec![json!({ "value": text_of(other)? })],
        },
    };
    Ok(Some(WriteEntry {
        field_id: field.id,
        values: Value::Array(values),
    }))
}

/// The type a multitext value gets when none is given.
pub const DEFAULT_MULTITEXT_TYPE: &str = "WORK";

/// One value of a multitext field (phones, e-mails): text gets the default
/// type; `{"value", "enum_code"|"type"|"enum_id"}` keeps the one it names,
/// checked against the field's types when the account lists them.
fn multitext_value(field: &FieldDef, v: Value) -> Result<Value, String> {
    let (text, kind) = match &v {
        Value::Object(o) => {
            let text = o.get("value").map(text_of).transpose()?.unwrap_or_default();
            let kind = o
                .get("enum_code")
                .or_else(|| o.get("type"))
                .filter(|k| !k.is_null())
                .map(|k| text_of(k).map(|t| t.trim().to_ascii_uppercase()))
                .transpose()?;
            if let (None, Some(id)) = (&kind, o.get("enum_id").and_then(Value::as_u64)) {
                return Ok(json!({ "value": text, "enum_id": id }));
            }
            (text, kind)
        }
        other => (text_of(other)?, None),
    };
    let kind = kind
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| DEFAULT_MULTITEXT_TYPE.to_string());
    let codes: Vec<&str> = field.enums.iter().filter_map(|e| e.code.as_deref()).collect();
    if !codes.is_empty() && !codes.contains(&kind.as_str()) {
        return Err(format!(
            "\"{}\" is not a type of this field ({})",
            shorten(&kind),
            codes.join(", ")
        ));
    }
    Ok(json!({ "value": text, "enum_code": kind }))
}

pub fn text_of(value: &Value) -> Result<String, String> {
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

pub fn bool_of(value: &Value) -> Result<bool, String> {
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
        set()
            .write_values(map.as_object().unwrap(), "lead")
            .map(|e| e.into_iter().map(WriteEntry::into_json).collect())
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
        let cleared: Vec<Value> = set()
            .clear_values(&["3", "Source"], "lead")
            .unwrap()
            .into_iter()
            .map(WriteEntry::into_json)
            .collect();
        assert_eq!(
            cleared,
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
