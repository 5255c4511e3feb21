//! Contacts found by phone and e-mail: phones compare as numbers (with the
//! default country for numbers written without a code), e-mails without case.
//! Only the contact's PHONE and EMAIL fields count: a number in its name, a
//! note or another field is not a match.

use serde_json::{json, Map, Value};

use crate::contact::CONTACTS;
use crate::entity::fields::FieldSet;
use crate::entity::find_or_create::{Key, KeyFields, Matcher};
use crate::entity::multitext::default_country;
use crate::entity::EntityRef;
use crate::input::{shorten, InputError, Params};
use crate::normalize::email::email_key;
use crate::normalize::phone::{phone_key, search_text, Country};

pub struct ContactMatcher;

const PHONE: &str = "phone";
const EMAIL: &str = "email";

fn country(params: Params) -> Country {
    default_country(params).unwrap_or(Country::RUSSIA)
}

/// The values of the field with `code` in a record as amoCRM reads it back.
pub fn values_of<'a>(record: &'a Value, code: &'a str, fields: &'a FieldSet) -> impl Iterator<Item = &'a str> + 'a {
    let id = fields.find(code).map(|f| f.id);
    record["custom_fields_values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |f| f["field_code"].as_str() == Some(code) || (id.is_some() && f["field_id"].as_u64() == id))
        .flat_map(|f| f["values"].as_array().into_iter().flatten())
        .filter_map(|v| v["value"].as_str())
}

/// The type phones or e-mails get, from the options.
fn kind(params: Params, key: &str) -> String {
    params
        .object("options")
        .string(key, "Options")
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase()
        .chars()
        .take(16)
        .collect::<String>()
        .to_string()
}

impl Matcher for ContactMatcher {
    fn entity(&self) -> EntityRef {
        EntityRef::Static(&CONTACTS)
    }

    fn item_keys(&self, params: Params, _fields: &FieldSet) -> Result<Vec<(Key, String)>, InputError> {
        let country = default_country(params)?;
        let mut keys = Vec::new();
        for text in params.strings("phone", "Phone")? {
            let key = phone_key(text, country)
                .ok_or_else(|| InputError::new("Phone", format!("\"{}\" is not a phone number", shorten(text))))?;
            keys.push(Key::written(PHONE, key, text));
        }
        for text in params.strings("email", "E-mail")? {
            let key = email_key(text)
                .ok_or_else(|| InputError::new("E-mail", format!("\"{}\" is not an e-mail address", shorten(text))))?;
            keys.push(Key::written(EMAIL, key, text));
        }
        Ok(keys)
    }

    fn query<'k>(&self, key: &'k Key) -> &'k str {
        match key.kind {
            PHONE => search_text(&key.value),
            _ => &key.value,
        }
    }

    fn record_keys(&self, record: &Value, params: Params, fields: &FieldSet) -> Vec<Key> {
        let country = country(params);
        let phones = values_of(record, "PHONE", fields)
            .filter_map(|v| phone_key(v, country))
            .map(|value| Key::new(PHONE, value));
        let emails = values_of(record, "EMAIL", fields)
            .filter_map(email_key)
            .map(|value| Key::new(EMAIL, value));
        phones.chain(emails).collect()
    }

    fn create_params(&self, params: &Value, keys: &[(Key, String)], _fields: &FieldSet) -> Value {
        let p = Params::new(params);
        let (phone_type, email_type) = (kind(p, "phoneType"), kind(p, "emailType"));
        let of = |kind: &str, t: &str| -> Vec<Value> {
            keys.iter()
                .filter(|(k, _)| k.kind == kind)
                .map(|(_, text)| {
                    if t.is_empty() {
                        json!({ "value": text })
                    } else {
                        json!({ "value": text, "type": t })
                    }
                })
                .collect()
        };
        let mut out = params.clone();
        out["mapping"] = json!("manual");
        out["phones"] = json!({ "values": of(PHONE, &phone_type) });
        out["emails"] = json!({ "values": of(EMAIL, &email_type) });
        out
    }

    fn key_fields(&self, params: Params, keys: &[(Key, String)], _fields: &FieldSet) -> KeyFields {
        let mut record = Map::new();
        for (kind, code, option) in [(PHONE, "PHONE", "phoneType"), (EMAIL, "EMAIL", "emailType")] {
            let t = kind_or_default(params, option);
            let values: Vec<Value> = keys
                .iter()
                .filter(|(k, _)| k.kind == kind)
                .map(|(_, text)| json!({ "value": text, "enum_code": t }))
                .collect();
            if !values.is_empty() {
                record.insert(code.into(), Value::Array(values));
            }
        }
        Ok(record)
    }
}

fn kind_or_default(params: Params, option: &str) -> String {
    let k = kind(params, option);
    if k.is_empty() {
        crate::entity::fields::DEFAULT_MULTITEXT_TYPE.to_string()
    } else {
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> FieldSet {
        FieldSet::from_definitions(&[
            json!({"id": 10, "name": "Phone", "code": "PHONE", "type": "multitext"}),
            json!({"id": 11, "name": "Email", "code": "EMAIL", "type": "multitext"}),
            json!({"id": 12, "name": "Position", "type": "text"}),
        ])
    }

    #[test]
    fn an_item_is_looked_up_by_every_phone_and_email_it_gives() {
        let p = json!({"phone": "8 (900) 123-45-67, +7 901 000 00 00", "email": " Ivan@Mail.RU "});
        let keys = ContactMatcher.item_keys(Params::new(&p), &fields()).unwrap();
        let values: Vec<(&str, &str)> = keys.iter().map(|(k, _)| (k.kind, k.value.as_str())).collect();
        assert_eq!(
            values,
            [
                ("phone", "79001234567"),
                ("phone", "79010000000"),
                ("email", "ivan@mail.ru")
            ]
        );
        assert_eq!(ContactMatcher.query(&keys[0].0), "9001234567");
        let bad = json!({"phone": "call me"});
        assert_eq!(
            ContactMatcher
                .item_keys(Params::new(&bad), &fields())
                .unwrap_err()
                .field,
            "Phone"
        );
    }

    #[test]
    fn only_phone_and_email_fields_make_keys() {
        let record = json!({"id": 1, "name": "9001234567", "custom_fields_values": [
            {"field_id": 10, "field_code": "PHONE", "values": [{"value": "+7 900 123 45 67"}]},
            {"field_id": 12, "values": [{"value": "89005554433"}]},
            {"field_id": 11, "field_code": "EMAIL", "values": [{"value": "A@B.ru"}]}
        ]});
        let keys = ContactMatcher.record_keys(&record, Params::new(&Value::Null), &fields());
        assert_eq!(
            keys,
            vec![
                Key {
                    kind: "phone",
                    value: "79001234567".into()
                },
                Key {
                    kind: "email",
                    value: "a@b.ru".into()
                }
            ]
        );
    }
}
