//! What only leads have: a status that belongs to a pipeline (142 and 143
//! exist in every pipeline), a loss reason that only a lost lead takes, and
//! contacts and a company that a new lead can be linked to in its body.

use serde_json::{json, Map, Value};

use crate::entity::fields::FieldSet;
use crate::entity::record::{collection, Mode};
use crate::entity::Rules;
use crate::input::{describe, InputError, Params};

/// amoCRM's status IDs that mean the same thing in every pipeline.
pub const STATUS_WON: u64 = 142;
pub const STATUS_LOST: u64 = 143;

pub struct LeadRules;

/// `(pipeline, status)` from the status picker, whose values are
/// `pipelineId:statusId` because 142 and 143 exist in every pipeline.
pub fn status_of(c: Params, label: &str) -> Result<Option<(Option<u64>, u64)>, InputError> {
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

impl Rules for LeadRules {
    fn manual_extras(
        &self,
        params: Params,
        mode: Mode,
        body: &mut Map<String, Value>,
        _fields: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        let coll = collection(mode);
        let c = params.object(coll.key);
        let label = |name: &str| format!("{} › {name}", coll.label);
        if let Some((status_pipeline, status_id)) = status_of(c, &label("Status"))? {
            let pipeline = body.get("pipeline_id").and_then(Value::as_u64);
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
        }
        if body.contains_key("loss_reason_id") && body.get("status_id").is_some_and(|s| s != &json!(STATUS_LOST)) {
            return Err(InputError::new(
                label("Loss Reason"),
                format!("applies only to lost leads: set Status to \"Closed - lost\" ({STATUS_LOST}) too"),
            ));
        }
        if mode == Mode::Create {
            let mut embedded = Map::new();
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
            if !embedded.is_empty() {
                body.insert("_embedded".into(), Value::Object(embedded));
            }
        }
        Ok(())
    }

    fn check(&self, body: &Map<String, Value>, _mode: Mode) -> Result<(), InputError> {
        if body.contains_key("loss_reason_id") && body.get("status_id").is_some_and(|s| s != &json!(STATUS_LOST)) {
            return Err(InputError::new(
                "loss_reason_id",
                format!("applies only to lost leads: set status_id to {STATUS_LOST} (closed - lost) too"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::record::record_body;
    use crate::lead::LEADS;

    fn lead_body(p: Params, mode: Mode, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        record_body(&LEADS, p, mode, fields)
    }

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
