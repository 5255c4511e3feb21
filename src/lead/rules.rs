//! The JSON body of one lead in a create or update batch, built from an item's
//! parameters, with amoCRM's rules checked before anything is sent.

use serde_json::{json, Map, Value};

use crate::input::{describe, InputError, Params};
use crate::lead::fields::FieldSet;

/// amoCRM's status IDs that mean the same thing in every pipeline.
pub const STATUS_WON: u64 = 142;
pub const STATUS_LOST: u64 = 143;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// Where the parameters live in the node (the n8n collections' names) and how
/// they are labelled in messages.
struct Keys {
    collection: &'static str,
    collection_label: &'static str,
}

const CREATE: Keys = Keys {
    collection: "additionalFields",
    collection_label: "Additional Fields",
};
const UPDATE: Keys = Keys {
    collection: "updateFields",
    collection_label: "Update Fields",
};

/// Custom field values as the node hands them over: a resource-mapper value
/// (`{"mappingMode", "value": {...}}`) or a plain object of field → value.
pub fn custom_field_map(params: Params) -> Result<Map<String, Value>, InputError> {
    let Some(raw) = params.get("customFields") else {
        return Ok(Map::new());
    };
    let values = match raw {
        Value::Object(o) if o.contains_key("mappingMode") || o.contains_key("value") => {
            o.get("value").cloned().unwrap_or(Value::Null)
        }
        other => other.clone(),
    };
    match values {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        Value::String(s) if s.trim().is_empty() => Ok(Map::new()),
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(InputError::new(
                "Custom Fields",
                "is not a JSON object of field → value",
            )),
        },
        other => Err(InputError::new(
            "Custom Fields",
            format!("expected field → value pairs, got {}", describe(&other)),
        )),
    }
}

/// Whether the item sets or clears any custom field (the account's field
/// definitions are fetched only then).
pub fn needs_fields(params: Params) -> bool {
    custom_field_map(params)
        .map(|m| m.values().any(|v| !v.is_null() && v != ""))
        .unwrap_or(true)
        || params
            .strings("customFieldsToClear", "Custom Fields to Clear")
            .map(|v| !v.is_empty())
            .unwrap_or(true)
}

/// `(pipeline, status)` from the status picker, whose values are
/// `pipelineId:statusId` because 142 and 143 exist in every pipeline.
fn status_of(c: Params, label: &str) -> Result<Option<(Option<u64>, u64)>, InputError> {
    let Some(value) = c.get("status") else { return Ok(None) };
    let text = match value {
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(InputError::new(
                label,
                format!("expected a status, got {}", describe(other)),
            ))
        }
    };
    let bad = || {
        InputError::new(
            label,
            format!("\"{text}\" is not a status; pick one from the list, or give a status ID (or pipelineID:statusID)"),
        )
    };
    let parse = |s: &str| s.trim().parse::<u64>().ok().filter(|n| *n > 0);
    match text.split_once(':') {
        Some((p, s)) => Ok(Some((Some(parse(p).ok_or_else(bad)?), parse(s).ok_or_else(bad)?))),
        None => Ok(Some((None, parse(&text).ok_or_else(bad)?))),
    }
}

fn tag_list(c: Params, key: &str, label: &str) -> Result<Vec<Value>, InputError> {
    Ok(c.strings(key, label)?
        .into_iter()
        .map(|t| match t.parse::<u64>() {
            Ok(id) if id > 0 => json!({ "id": id }),
            _ => json!({ "name": t }),
        })
        .collect())
}

/// Builds one lead's body. `fields` is required when the item uses custom
/// fields ([`needs_fields`]).
pub fn lead_body(params: Params, mode: Mode, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
    let keys = match mode {
        Mode::Create => CREATE,
        Mode::Update => UPDATE,
    };
    let c = params.object(keys.collection);
    let label = |name: &str| format!("{} › {name}", keys.collection_label);
    let mut body = Map::new();

    let name = match mode {
        Mode::Create => params.string("name", "Name")?,
        Mode::Update => c.string("name", &label("Name"))?,
    };
    if !name.trim().is_empty() {
        body.insert("name".into(), json!(name));
    }
    if let Some(price) = c.whole("price", &label("Price"), 0)? {
        body.insert("price".into(), json!(price));
    }
    let pipeline = c.id("pipelineId", &label("Pipeline"), "a pipeline")?.map(|p| p.get());
    let status = status_of(c, &label("Status"))?;
    if let Some((status_pipeline, status_id)) = status {
        if let (Some(p), Some(sp)) = (pipeline, status_pipeline) {
            if p != sp {
                return Err(InputError::new(
                    label("Status"),
                    format!("belongs to pipeline {sp}, but Pipeline is {p}; choose a status of pipeline {p}"),
                ));
            }
        }
        if let Some(p) = status_pipeline.or(pipeline) {
            body.insert("pipeline_id".into(), json!(p));
        }
        body.insert("status_id".into(), json!(status_id));
    } else if let Some(p) = pipeline {
        body.insert("pipeline_id".into(), json!(p));
    }
    if let Some(reason) = c.id("lossReasonId", &label("Loss Reason"), "a loss reason")? {
        if status.is_some_and(|(_, s)| s != STATUS_LOST) {
            return Err(InputError::new(
                label("Loss Reason"),
                format!("applies only to lost leads: set Status to \"Closed - lost\" ({STATUS_LOST}) too"),
            ));
        }
        body.insert("loss_reason_id".into(), json!(reason.get()));
    }
    if let Some(user) = c.id("responsibleUserId", &label("Responsible User"), "a user")? {
        body.insert("responsible_user_id".into(), json!(user.get()));
    }
    if let Some(at) = c.date("closedAt", &label("Closed At"))? {
        body.insert("closed_at".into(), json!(at));
    }

    let mut embedded = Map::new();
    match mode {
        Mode::Create => {
            if let Some(at) = c.date("createdAt", &label("Created At"))? {
                body.insert("created_at".into(), json!(at));
            }
            let tags = tag_list(c, "tags", &label("Tags"))?;
            if !tags.is_empty() {
                embedded.insert("tags".into(), Value::Array(tags));
            }
            let contacts: Vec<Value> = c
                .ids("contactIds", &label("Contact IDs"), "a contact")?
                .into_iter()
                .enumerate()
                .map(|(i, id)| json!({ "id": id.get(), "is_main": i == 0 }))
                .collect();
            if !contacts.is_empty() {
                embedded.insert("contacts".into(), Value::Array(contacts));
            }
            if let Some(company) = c.id("companyId", &label("Company ID"), "a company")? {
                embedded.insert("companies".into(), json!([{ "id": company.get() }]));
            }
        }
        Mode::Update => {
            let add = tag_list(c, "tagsToAdd", &label("Tags to Add"))?;
            if !add.is_empty() {
                body.insert("tags_to_add".into(), Value::Array(add));
            }
            let remove = tag_list(c, "tagsToRemove", &label("Tags to Remove"))?;
            if !remove.is_empty() {
                body.insert("tags_to_delete".into(), Value::Array(remove));
            }
        }
    }
    if !embedded.is_empty() {
        body.insert("_embedded".into(), Value::Object(embedded));
    }

    let mut custom = Vec::new();
    let values = custom_field_map(params)?;
    let to_clear = params.strings("customFieldsToClear", "Custom Fields to Clear")?;
    if !values.is_empty() || !to_clear.is_empty() {
        let fields =
            fields.ok_or_else(|| InputError::new("Custom Fields", "the account's field definitions are not loaded"))?;
        custom = fields
            .write_values(&values)
            .map_err(|p| InputError::new("Custom Fields", p))?;
        let cleared = fields
            .clear_values(&to_clear)
            .map_err(|p| InputError::new("Custom Fields to Clear", p))?;
        for entry in cleared {
            if custom.iter().any(|c| c["field_id"] == entry["field_id"]) {
                return Err(InputError::new(
                    "Custom Fields to Clear",
                    format!("field {} is both set and cleared; choose one", entry["field_id"]),
                ));
            }
            custom.push(entry);
        }
    }
    if !custom.is_empty() {
        body.insert("custom_fields_values".into(), Value::Array(custom));
    }
    if mode == Mode::Update && body.is_empty() {
        return Err(InputError::new(
            keys.collection_label,
            "nothing to update: set at least one field",
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> FieldSet {
        let mut s = FieldSet::default();
        s.add_page(&json!({"_embedded": {"custom_fields": [
            {"id": 5, "name": "Source", "type": "select", "enums": [{"id": 51, "value": "Web"}]},
            {"id": 6, "name": "Budget", "type": "numeric"}
        ]}}));
        s
    }

    #[test]
    fn create_body_has_every_documented_field() {
        let p = json!({
            "name": "Big deal",
            "additionalFields": {
                "price": 1500, "status": "7:142", "responsibleUserId": "3", "tags": "vip, 12",
                "contactIds": [100, "101"], "companyId": 200, "createdAt": "2024-05-01T00:00:00Z", "closedAt": 1714600000
            },
            "customFields": {"mappingMode": "defineBelow", "value": {"5": "web", "6": ""}}
        });
        let body = lead_body(Params::new(&p), Mode::Create, Some(&fields())).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "name": "Big deal", "price": 1500, "pipeline_id": 7, "status_id": 142, "responsible_user_id": 3,
                "created_at": 1_714_521_600, "closed_at": 1_714_600_000,
                "_embedded": {
                    "tags": [{"name": "vip"}, {"id": 12}],
                    "contacts": [{"id": 100, "is_main": true}, {"id": 101, "is_main": false}],
                    "companies": [{"id": 200}]
                },
                "custom_fields_values": [{"field_id": 5, "values": [{"enum_id": 51}]}]
            })
        );
    }

    #[test]
    fn update_body_uses_increments_for_tags_and_explicit_clears() {
        let p = json!({
            "updateFields": {"status": "143", "lossReasonId": 9, "tagsToAdd": ["a"], "tagsToRemove": "b"},
            "customFieldsToClear": ["Budget"]
        });
        let body = lead_body(Params::new(&p), Mode::Update, Some(&fields())).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "status_id": 143, "loss_reason_id": 9,
                "tags_to_add": [{"name": "a"}], "tags_to_delete": [{"name": "b"}],
                "custom_fields_values": [{"field_id": 6, "values": null}]
            })
        );
    }

    #[test]
    fn amocrm_rules_are_checked_before_sending() {
        let lost_reason_on_won = json!({"updateFields": {"status": "142", "lossReasonId": 9}});
        let e = lead_body(Params::new(&lost_reason_on_won), Mode::Update, None).unwrap_err();
        assert_eq!(e.field, "Update Fields › Loss Reason");
        let wrong_pipeline = json!({"additionalFields": {"pipelineId": 8, "status": "7:55"}});
        assert!(lead_body(Params::new(&wrong_pipeline), Mode::Create, None)
            .unwrap_err()
            .problem
            .contains("pipeline 7"));
        let negative = json!({"additionalFields": {"price": -1}});
        assert_eq!(
            lead_body(Params::new(&negative), Mode::Create, None).unwrap_err().field,
            "Additional Fields › Price"
        );
        let nothing = json!({"updateFields": {}});
        assert!(lead_body(Params::new(&nothing), Mode::Update, None)
            .unwrap_err()
            .problem
            .contains("nothing to update"));
        let both = json!({"updateFields": {}, "customFields": {"6": 1}, "customFieldsToClear": ["6"]});
        assert!(lead_body(Params::new(&both), Mode::Update, Some(&fields()))
            .unwrap_err()
            .problem
            .contains("both set and cleared"));
        let bad_status = json!({"additionalFields": {"status": "won"}});
        assert!(lead_body(Params::new(&bad_status), Mode::Create, None)
            .unwrap_err()
            .problem
            .contains("not a status"));
    }
}
