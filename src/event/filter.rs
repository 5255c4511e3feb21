//! The filters of `GET /api/v4/events`, in amoCRM's bracket syntax, checked
//! against the rules amoCRM's documentation states (events-and-notes;
//! amoCRM answers a bare 400 when they are broken, so they are refused here,
//! naming the field, before any request):
//!
//! * `filter[type][i]`: event types ([`TYPES`]), or one
//!   `custom_field_{ID}_value_changed` alone;
//! * `filter[entity][i]`: lead, contact, company, customer, task,
//!   `catalog_{ID}`;
//! * `filter[entity_id][i]`: at most 10 IDs, with exactly one entity;
//! * `filter[created_by][i]`: at most 10 users;
//! * `filter[created_at][from|to]`;
//! * `filter[id][i]`: event IDs;
//! * `filter[value_before|value_after][…]`: `leads_statuses[i][pipeline_id|status_id]`
//!   (lead_status_changed), `customers_statuses[i][status_id]`
//!   (customer_status_changed), `responsible_user_id` as one comma-separated
//!   text (entity_responsible_changed), `custom_field_values` as enum IDs
//!   (only with one `custom_field_{ID}_value_changed` type) and `value`
//!   (only with [`VALUE_TYPES`]).

use crate::entity::filter::{range, statuses};
use crate::event::{is_custom_field_type, ENTITIES, TYPES, VALUE_TYPES};
use crate::input::{InputError, Params};
use crate::query::Query;

/// amoCRM's limit for `created_by` and for `entity_id`.
pub const MAX_LISTED: usize = 10;

fn label(name: &str) -> String {
    format!("Filters › {name}")
}

/// The event types chosen, checked.
pub fn types<'a>(f: Params<'a>) -> Result<Vec<&'a str>, InputError> {
    let list = f.strings("types", &label("Event Types"))?;
    let mut out: Vec<&str> = Vec::new();
    for t in list {
        if !TYPES.contains(&t) && !is_custom_field_type(t) {
            return Err(InputError::new(
                label("Event Types"),
                format!("\"{t}\" is not an amoCRM event type (lead_added, lead_status_changed, custom_field_123_value_changed, …)"),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 1 && out.iter().any(|t| is_custom_field_type(t)) {
        return Err(InputError::new(
            label("Event Types"),
            "amoCRM takes a custom_field_{ID}_value_changed type only alone; remove the other types, or use custom_field_value_changed for changes of any field",
        ));
    }
    Ok(out)
}

/// The entity types chosen, checked.
pub fn entities<'a>(f: Params<'a>) -> Result<Vec<&'a str>, InputError> {
    let list = f.strings("entities", &label("Entities"))?;
    let mut out: Vec<&str> = Vec::new();
    for e in list {
        let catalog = e
            .strip_prefix("catalog_")
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        if !ENTITIES.contains(&e) && !catalog {
            return Err(InputError::new(
                label("Entities"),
                format!("\"{e}\" is not one of {}, catalog_{{ID}}", ENTITIES.join(", ")),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

fn ids(f: Params, key: &str, name: &str, what: &str) -> Result<Vec<u64>, InputError> {
    Ok(f.ids(key, &label(name), what)?.into_iter().map(|i| i.get()).collect())
}

fn at_most(list: &[u64], name: &str) -> Result<(), InputError> {
    if list.len() > MAX_LISTED {
        return Err(InputError::new(
            label(name),
            format!("amoCRM takes at most {MAX_LISTED}, got {}", list.len()),
        ));
    }
    Ok(())
}

/// The event query without `created_at`, `page` and `limit`: what the
/// events trigger polls with. `created` says whether the creation range
/// (Created After / Before) is read too (Get Many) or refused (the trigger,
/// whose cursor sets it).
pub fn events_query(params: Params, created: bool) -> Result<Query, InputError> {
    let f = params.object("filters");
    let mut q = Query::new();
    let types = types(f)?;
    let entities = entities(f)?;
    q.push_list("filter[type]", &types);
    q.push_list("filter[entity]", &entities);

    let entity_ids = ids(f, "entityIds", "Entity IDs", "a record")?;
    if !entity_ids.is_empty() {
        at_most(&entity_ids, "Entity IDs")?;
        if entities.len() != 1 {
            return Err(InputError::new(
                label("Entity IDs"),
                "amoCRM reads entity IDs only with exactly one entity type: choose one in Entities",
            ));
        }
        q.push_list("filter[entity_id]", entity_ids);
    }
    let created_by = ids(f, "createdBy", "Created By", "a user")?;
    at_most(&created_by, "Created By")?;
    q.push_list("filter[created_by]", created_by);

    let event_ids: Vec<&str> = f
        .strings("ids", &label("Event IDs"))?
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    q.push_list("filter[id]", event_ids);

    if created {
        let from = f.date("createdFrom", &label("Created After"))?;
        let to = f.date("createdTo", &label("Created Before"))?;
        range(&mut q, "created_at", from, to, "Created")?;
    } else if f.get("createdFrom").is_some() || f.get("createdTo").is_some() {
        return Err(InputError::new(
            label("Created After"),
            "the trigger reads events from where it stopped; it takes no creation range",
        ));
    }

    for (key, side, name) in [
        ("valueBefore", "value_before", "Value Before"),
        ("valueAfter", "value_after", "Value After"),
    ] {
        value_filter(&mut q, f.object(key), side, name, &types)?;
    }
    Ok(q)
}

/// `filter[value_before|value_after][…]`, with amoCRM's rules on which
/// event types each applies to.
fn value_filter(q: &mut Query, v: Params, side: &str, name: &str, types: &[&str]) -> Result<(), InputError> {
    let sub = |what: &str| format!("{name} › {what}");
    for (i, (pipeline, status)) in statuses(v, "statuses", &sub("Lead Statuses"))?.into_iter().enumerate() {
        q.push(format!("filter[{side}][leads_statuses][{i}][pipeline_id]"), pipeline);
        q.push(format!("filter[{side}][leads_statuses][{i}][status_id]"), status);
    }
    for (i, status) in ids(v, "customerStatusIds", &sub("Customer Statuses"), "a customer status")?
        .into_iter()
        .enumerate()
    {
        q.push(format!("filter[{side}][customers_statuses][{i}][status_id]"), status);
    }
    let users = ids(v, "responsibleUserIds", &sub("Responsible Users"), "a user")?;
    if !users.is_empty() {
        let text: Vec<String> = users.iter().map(u64::to_string).collect();
        q.push(format!("filter[{side}][responsible_user_id]"), text.join(","));
    }
    let enums = ids(
        v,
        "customFieldEnumIds",
        &sub("Custom Field Options"),
        "an option of the field",
    )?;
    if !enums.is_empty() {
        if !(types.len() == 1 && is_custom_field_type(types[0])) {
            return Err(InputError::new(
                label(&sub("Custom Field Options")),
                "amoCRM filters by field options only with exactly one event type custom_field_{ID}_value_changed (the field whose options these are)",
            ));
        }
        let text: Vec<String> = enums.iter().map(u64::to_string).collect();
        q.push(format!("filter[{side}][custom_field_values]"), text.join(","));
    }
    let value = v.string("value", &label(&sub("Value")))?.trim();
    if !value.is_empty() {
        if types.is_empty() || types.iter().any(|t| !VALUE_TYPES.contains(t)) {
            return Err(InputError::new(
                label(&sub("Value")),
                format!(
                    "amoCRM filters by value only for the event types {}; choose only these in Event Types",
                    VALUE_TYPES.join(", ")
                ),
            ));
        }
        q.push(format!("filter[{side}][value]"), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn query(filters: Value) -> Result<String, InputError> {
        events_query(Params::new(&json!({ "filters": filters })), true).map(|q| q.encode())
    }

    #[test]
    fn every_filter_in_bracket_syntax() {
        let q = query(json!({
            "types": ["lead_status_changed", "entity_responsible_changed"],
            "entities": ["lead"],
            "entityIds": "20000001, 20000002",
            "createdBy": [8000001],
            "ids": ["01pz58t6p04ymgsgfbmfyfy1mf"],
            "createdFrom": 1700000000, "createdTo": "2023-11-15T00:00:00Z",
            "valueAfter": {"statuses": ["7000001:142"], "responsibleUserIds": "8000002,8000003"},
            "valueBefore": {"customerStatusIds": [62000001]}
        }))
        .unwrap();
        assert_eq!(
            q,
            "filter[type][0]=lead_status_changed&filter[type][1]=entity_responsible_changed&filter[entity][0]=lead\
&filter[entity_id][0]=20000001&filter[entity_id][1]=20000002&filter[created_by][0]=8000001\
&filter[id][0]=01pz58t6p04ymgsgfbmfyfy1mf&filter[created_at][from]=1700000000&filter[created_at][to]=1700006400\
&filter[value_before][customers_statuses][0][status_id]=62000001\
&filter[value_after][leads_statuses][0][pipeline_id]=7000001&filter[value_after][leads_statuses][0][status_id]=142\
&filter[value_after][responsible_user_id]=8000002%2C8000003"
                .replace("%2C", ",")
        );
        assert_eq!(query(json!({})).unwrap(), "");
    }

    #[test]
    fn custom_field_options_need_exactly_that_field_type() {
        let ok = query(
            json!({"types": ["custom_field_900001_value_changed"], "valueAfter": {"customFieldEnumIds": [17, 18]}}),
        )
        .unwrap();
        assert_eq!(
            ok,
            "filter[type][0]=custom_field_900001_value_changed&filter[value_after][custom_field_values]=17,18"
        );
        let e = query(json!({"types": ["lead_added"], "valueAfter": {"customFieldEnumIds": [17]}})).unwrap_err();
        assert!(e.problem.contains("exactly one event type"), "{e}");
        let e = query(json!({"types": ["custom_field_1_value_changed", "lead_added"]})).unwrap_err();
        assert!(e.problem.contains("only alone"), "{e}");
    }

    #[test]
    fn amocrm_rules_are_checked_before_any_request() {
        for (filters, why) in [
            (json!({"types": ["lead_exploded"]}), "not an amoCRM event type"),
            (json!({"entities": ["deal"]}), "is not one of"),
            (json!({"entityIds": [1]}), "exactly one entity type"),
            (
                json!({"entities": ["lead", "contact"], "entityIds": [1]}),
                "exactly one entity type",
            ),
            (
                json!({"entities": ["lead"], "entityIds": (1..=11).collect::<Vec<u64>>()}),
                "at most 10",
            ),
            (json!({"createdBy": (1..=11).collect::<Vec<u64>>()}), "at most 10"),
            (json!({"createdFrom": 20, "createdTo": 10}), "starts"),
            (json!({"valueAfter": {"value": "155"}}), "only for the event types"),
            (
                json!({"types": ["lead_added"], "valueAfter": {"value": "155"}}),
                "only for the event types",
            ),
            (json!({"valueAfter": {"statuses": ["142"]}}), "is not a status"),
        ] {
            let e = query(filters.clone()).unwrap_err();
            assert!(e.to_string().contains(why), "{filters}: {e}");
            assert!(e.field.starts_with("Filters › "), "{}", e.field);
        }
        assert!(query(
            json!({"types": ["sale_field_changed"], "entities": ["catalog_5001"], "valueAfter": {"value": "155"}})
        )
        .is_ok());
    }

    #[test]
    fn the_trigger_refuses_a_creation_range() {
        let p = json!({"filters": {"createdFrom": 1}});
        assert!(events_query(Params::new(&p), false).is_err());
        let p = json!({"filters": {"types": ["lead_added"]}});
        assert_eq!(
            events_query(Params::new(&p), false).unwrap().encode(),
            "filter[type][0]=lead_added"
        );
    }
}
