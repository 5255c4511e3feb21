//! Companies found by their exact name (ignoring case and extra white space),
//! and optionally by a custom field value such as a tax number.

use serde_json::{json, Map, Value};

use crate::company::COMPANIES;
use crate::contact::find::values_of;
use crate::entity::fields::FieldSet;
use crate::entity::find_or_create::{Key, KeyFields, Matcher};
use crate::entity::EntityRef;
use crate::input::{shorten, InputError, Params};
use crate::normalize::name::{name_key, value_key};

pub struct CompanyMatcher;

const NAME: &str = "name";
const FIELD: &str = "field";

/// The custom field the item matches on, with the value it looks for.
fn match_field<'p>(params: Params<'p>, fields: &FieldSet) -> Result<Option<(u64, &'p str)>, InputError> {
    let label = "Match Field";
    let field = params.string("matchField", label)?.trim();
    let value = params.string("matchValue", "Match Value")?;
    if field.is_empty() {
        return Ok(None);
    }
    let def = fields.find(field).ok_or_else(|| {
        InputError::new(
            label,
            format!("the account has no company custom field \"{}\"", shorten(field)),
        )
    })?;
    Ok((!value.trim().is_empty()).then_some((def.id, value)))
}

impl Matcher for CompanyMatcher {
    fn entity(&self) -> EntityRef {
        EntityRef::Static(&COMPANIES)
    }

    fn item_keys(&self, params: Params, fields: &FieldSet) -> Result<Vec<(Key, String)>, InputError> {
        let mut keys = Vec::new();
        let name = params.string("name", "Name")?;
        if let Some(key) = name_key(name) {
            keys.push(Key::written(NAME, key, name));
        }
        if let Some((_, value)) = match_field(params, fields)? {
            if let Some(key) = value_key(value) {
                keys.push(Key::written(FIELD, key, value));
            }
        }
        Ok(keys)
    }

    fn query<'k>(&self, key: &'k Key) -> &'k str {
        &key.value
    }

    fn record_keys(&self, record: &Value, params: Params, fields: &FieldSet) -> Vec<Key> {
        let mut keys: Vec<Key> = record["name"]
            .as_str()
            .and_then(name_key)
            .map(|value| Key::new(NAME, value))
            .into_iter()
            .collect();
        if let Ok(Some((id, _))) = match_field(params, fields) {
            let id = id.to_string();
            keys.extend(
                values_of(record, &id, fields)
                    .filter_map(value_key)
                    .map(|value| Key::new(FIELD, value)),
            );
        }
        keys
    }

    fn create_params(&self, params: &Value, _keys: &[(Key, String)], fields: &FieldSet) -> Value {
        let mut out = params.clone();
        out["mapping"] = json!("manual");
        if let Ok(Some((id, value))) = match_field(Params::new(params), fields) {
            let mut custom = crate::entity::record::custom_field_map(Params::new(params)).unwrap_or_default();
            custom.insert(id.to_string(), json!(value));
            out["customFields"] = json!({ "mappingMode": "defineBelow", "value": custom });
        }
        out
    }

    fn key_fields(&self, params: Params, _keys: &[(Key, String)], fields: &FieldSet) -> KeyFields {
        let mut record = Map::new();
        if let Some((id, value)) = match_field(params, fields)? {
            record.insert(id.to_string(), json!(value));
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> FieldSet {
        FieldSet::from_definitions(&[json!({"id": 20, "name": "INN", "code": "INN", "type": "text"})])
    }

    #[test]
    fn names_match_without_case_and_spacing_and_a_field_value_matches_too() {
        let p = json!({"name": "  ООО   Ромашка ", "matchField": "INN", "matchValue": "7701234567"});
        let keys = CompanyMatcher.item_keys(Params::new(&p), &fields()).unwrap();
        assert_eq!(
            keys[0].0,
            Key {
                kind: "name",
                value: "ооо ромашка".into()
            }
        );
        assert_eq!(
            keys[1].0,
            Key {
                kind: "field",
                value: "7701234567".into()
            }
        );
        let record = json!({"id": 3, "name": "ООО Ромашка", "custom_fields_values": [{"field_id": 20, "values": [{"value": " 7701234567"}]}]});
        let found = CompanyMatcher.record_keys(&record, Params::new(&p), &fields());
        assert_eq!(found.len(), 2);
        let other = json!({"id": 4, "name": "ООО Ромашка и партнёры"});
        assert!(!CompanyMatcher
            .record_keys(&other, Params::new(&p), &fields())
            .contains(&keys[0].0));
    }
}
