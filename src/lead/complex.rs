//! Create with Contact and Company: `POST /api/v4/leads/complex`, a lead with
//! a new contact and company in one request, up to 50 leads per request.
//! amoCRM answers with a bare list whose `request_id` is a one-element list.

use serde_json::{json, Map, Value};

use crate::entity::batch::{result_entry, BatchKind};
use crate::entity::fields::FieldSet;
use crate::entity::record::{needs_fields, record_body, Mode};
use crate::entity::EntityRef;
use crate::http::Method;
use crate::input::{InputError, Params};
use crate::lead::LEADS;

pub const COMPLEX_PATH: &str = "/api/v4/leads/complex";

/// amoCRM's limit for complex creates (developers.kommo.com/reference/complex-leads).
pub const COMPLEX_BATCH_LIMIT: usize = 50;

pub struct CreateComplex;

/// A new contact from the item's Contact fields (names, phones and e-mails
/// by field code, responsible user), or `None` when they are all empty.
/// Incoming leads take the same contact.
pub fn new_contact(params: Params) -> Result<Option<Value>, InputError> {
    let c = params.object("contact");
    let label = |n: &str| format!("Contact › {n}");
    let mut out = Map::new();
    for (key, api) in [("name", "name"), ("firstName", "first_name"), ("lastName", "last_name")] {
        let v = c.string(key, &label(&api.replace('_', " ")))?.trim();
        if !v.is_empty() {
            out.insert(api.into(), json!(v));
        }
    }
    let mut fields = Vec::new();
    for (key, code, what) in [("phone", "PHONE", "Phone"), ("email", "EMAIL", "Email")] {
        let values: Vec<Value> = c
            .strings(key, &label(what))?
            .into_iter()
            .map(|v| json!({ "value": v, "enum_code": "WORK" }))
            .collect();
        if !values.is_empty() {
            fields.push(json!({ "field_code": code, "values": values }));
        }
    }
    if !fields.is_empty() {
        out.insert("custom_fields_values".into(), Value::Array(fields));
    }
    if let Some(user) = c.id("responsibleUserId", &label("Responsible User"), "a user")? {
        out.insert("responsible_user_id".into(), json!(user.get()));
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// A new company from Company › Name, or `None` when it is empty.
pub fn new_company(params: Params) -> Result<Option<Value>, InputError> {
    let name = params.object("company").string("name", "Company › Name")?.trim();
    Ok((!name.is_empty()).then(|| json!({ "name": name })))
}

impl BatchKind for CreateComplex {
    fn nouns(&self) -> (&'static str, &'static str) {
        ("lead with contact and company", "leads with contacts and companies")
    }
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &str {
        COMPLEX_PATH
    }
    fn default_batch(&self) -> usize {
        COMPLEX_BATCH_LIMIT
    }
    fn max_batch(&self) -> usize {
        COMPLEX_BATCH_LIMIT
    }
    fn unsafe_to_repeat(&self) -> bool {
        true
    }
    fn fields_of(&self) -> Option<EntityRef> {
        Some(EntityRef::Static(&LEADS))
    }
    fn needs_fields(&self, params: Params) -> bool {
        needs_fields(&LEADS, params)
    }
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        let mut body = record_body(&LEADS, params, Mode::Create, fields)?;
        let mut embedded = body
            .remove("_embedded")
            .and_then(|e| e.as_object().cloned())
            .unwrap_or_default();
        // Complex creates make their own contact and company; linking
        // existing ones goes through Link.
        if embedded.contains_key("contacts") || embedded.contains_key("companies") {
            return Err(InputError::new(
                "Additional Fields",
                "Contact IDs and Company ID link existing records; this operation creates a new contact and company (use Create, or Link afterwards)",
            ));
        }
        if let Some(c) = new_contact(params)? {
            embedded.insert("contacts".into(), json!([c]));
        }
        if let Some(c) = new_company(params)? {
            embedded.insert("companies".into(), json!([c]));
        }
        if !embedded.contains_key("contacts") && !embedded.contains_key("companies") {
            return Err(InputError::new(
                "Contact",
                "give a contact or a company to create with the lead (or use Create)",
            ));
        }
        body.insert("_embedded".into(), Value::Object(embedded));
        Ok(body)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        // A bare list, each `request_id` a one-element list.
        answer
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(result_entry)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_contact_and_company_in_one_body() {
        let p = json!({
            "name": "Deal", "additionalFields": {"price": 10},
            "contact": {"firstName": "Ivan", "lastName": "Petrov", "phone": "+7 900, +7 901", "email": "i@p.ru"},
            "company": {"name": "Acme"}
        });
        let body = CreateComplex.body(Params::new(&p), None).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "name": "Deal", "price": 10,
                "_embedded": {
                    "contacts": [{"first_name": "Ivan", "last_name": "Petrov", "custom_fields_values": [
                        {"field_code": "PHONE", "values": [{"value": "+7 900", "enum_code": "WORK"}, {"value": "+7 901", "enum_code": "WORK"}]},
                        {"field_code": "EMAIL", "values": [{"value": "i@p.ru", "enum_code": "WORK"}]}
                    ]}],
                    "companies": [{"name": "Acme"}]
                }
            })
        );
    }

    #[test]
    fn answers_pair_by_their_list_request_id() {
        let answer = json!([{"id": 1, "contact_id": 2, "company_id": 3, "request_id": ["4"], "merged": false}]);
        assert_eq!(
            CreateComplex.results(&answer),
            vec![(
                "4".to_string(),
                json!({"id": 1, "contact_id": 2, "company_id": 3, "merged": false})
            )]
        );
    }

    #[test]
    fn existing_records_are_pointed_to_link() {
        let p = json!({"name": "x", "additionalFields": {"contactIds": "5"}, "contact": {"name": "A"}});
        assert!(CreateComplex
            .body(Params::new(&p), None)
            .unwrap_err()
            .problem
            .contains("Link"));
        let nothing = json!({"name": "x"});
        assert_eq!(
            CreateComplex.body(Params::new(&nothing), None).unwrap_err().field,
            "Contact"
        );
    }
}
