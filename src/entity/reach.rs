//! Phones and e-mails as node parameters, for the entities that have amoCRM's
//! predefined PHONE and EMAIL fields (contacts and companies): each value with
//! its type (WORK, MOB, HOME, PRIV, OTHER…), written to those fields.

use serde_json::{json, Map, Value};

use crate::entity::fields::{write_value, FieldSet};
use crate::entity::record::{merge_custom, Mode};
use crate::entity::Rules;
use crate::input::{describe, InputError, Params};

/// The node parameter, label and field code of each kind.
pub const KINDS: [(&str, &str, &str); 2] = [("phones", "Phones", "PHONE"), ("emails", "E-mails", "EMAIL")];

pub struct PhonesAndEmails;

/// `[{value, enum_code?}]` from a fixed collection (`{"values": [{value,
/// type}]}`), a list, or text separated by commas.
fn entries(params: Params, key: &str, label: &str) -> Result<Vec<Value>, InputError> {
    let Some(raw) = params.get(key) else {
        return Ok(Vec::new());
    };
    let list: Vec<Value> = match raw {
        Value::Object(o) => o.get("values").and_then(Value::as_array).cloned().unwrap_or_default(),
        Value::Array(a) => a.clone(),
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| json!({ "value": p }))
            .collect(),
        other => {
            return Err(InputError::new(
                label,
                format!("expected a list, got {}", describe(other)),
            ))
        }
    };
    Ok(list
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(o) => {
                let value = o.get("value").filter(|v| !v.is_null() && *v != "")?.clone();
                let mut out = json!({ "value": value });
                if let Some(kind) = o.get("type").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    out["enum_code"] = json!(kind);
                }
                Some(out)
            }
            Value::String(s) if s.trim().is_empty() => None,
            other => Some(json!({ "value": other })),
        })
        .collect())
}

impl Rules for PhonesAndEmails {
    fn manual_extras(
        &self,
        params: Params,
        _mode: Mode,
        body: &mut Map<String, Value>,
        fields: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        for (key, label, code) in KINDS {
            let values = entries(params, key, label)?;
            if values.is_empty() {
                continue;
            }
            let fields =
                fields.ok_or_else(|| InputError::new(label, "the account's field definitions are not loaded"))?;
            let field = fields.find(code).ok_or_else(|| {
                InputError::new(label, format!("the account has no {code} field for this record type"))
            })?;
            if let Some(entry) = write_value(field, &Value::Array(values)).map_err(|p| InputError::new(label, p))? {
                merge_custom(body, vec![entry]);
            }
        }
        Ok(())
    }

    fn needs_fields(&self, params: Params) -> bool {
        KINDS
            .iter()
            .any(|(key, label, _)| entries(params, key, label).map_or(true, |v| !v.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> FieldSet {
        FieldSet::from_definitions(&[
            json!({"id": 10, "name": "Phone", "code": "PHONE", "type": "multitext", "enums": [{"id": 1, "value": "WORK", "code": "WORK"}, {"id": 2, "value": "MOB", "code": "MOB"}]}),
            json!({"id": 11, "name": "Email", "code": "EMAIL", "type": "multitext", "enums": [{"id": 3, "value": "WORK", "code": "WORK"}, {"id": 4, "value": "PRIV", "code": "PRIV"}]}),
        ])
    }

    #[test]
    fn phones_and_emails_carry_their_type() {
        let p = json!({"phones": {"values": [{"value": "+7 900 111", "type": "MOB"}, {"value": ""}]}, "emails": "a@b.ru, c@d.ru"});
        let mut body = Map::new();
        PhonesAndEmails
            .manual_extras(Params::new(&p), Mode::Create, &mut body, Some(&fields()))
            .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"custom_fields_values": [
                {"field_id": 10, "values": [{"value": "+7 900 111", "enum_code": "MOB"}]},
                {"field_id": 11, "values": [{"value": "a@b.ru", "enum_code": "WORK"}, {"value": "c@d.ru", "enum_code": "WORK"}]}
            ]})
        );
        assert!(PhonesAndEmails.needs_fields(Params::new(&p)));
        let bad = json!({"phones": {"values": [{"value": "1", "type": "PAGER"}]}});
        let e = PhonesAndEmails
            .manual_extras(Params::new(&bad), Mode::Create, &mut Map::new(), Some(&fields()))
            .unwrap_err();
        assert!(e.problem.contains("not a type of this field (WORK, MOB)"), "{e}");
    }
}
