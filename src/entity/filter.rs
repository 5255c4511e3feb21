//! Get Many's filters, search and order, in amoCRM's bracket query syntax
//! (the entity's descriptor says which filters it has)
//! (amocrm.com/developers/content/api_v4/filters_api):
//! `filter[id][0]=1`, `filter[price][from]=100`,
//! `filter[statuses][0][pipeline_id]=7&filter[statuses][0][status_id]=142`,
//! `filter[custom_fields_values][FIELD][from]=…`, `order[created_at]=desc`.

use serde_json::Value;

use crate::entity::embed::parse_with;
use crate::entity::{Entity, Filter};
use crate::input::{describe, InputError, Params};
use crate::query::Query;

const F: &str = "Filters";

/// The categories of incoming leads (amoCRM's "unsorted"): calls, e-mails,
/// web forms and chats.
pub const UNSORTED_CATEGORIES: [&str; 4] = ["sip", "mail", "forms", "chats"];

fn label(name: &str) -> String {
    format!("{F} › {name}")
}

/// Adds a `{from, to}` range; a missing end is open.
pub fn range(q: &mut Query, key: &str, from: Option<i64>, to: Option<i64>, name: &str) -> Result<(), InputError> {
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            return Err(InputError::new(
                label(name),
                format!("the range starts ({a}) after it ends ({b})"),
            ));
        }
    }
    if let Some(a) = from {
        q.push(format!("filter[{key}][from]"), a);
    }
    if let Some(b) = to {
        q.push(format!("filter[{key}][to]"), b);
    }
    Ok(())
}

/// The status picker's `pipelineId:statusId` values of parameter `key`
/// (labelled "Filters › `name`").
pub fn statuses(f: Params, key: &str, name: &str) -> Result<Vec<(u64, u64)>, InputError> {
    f.strings(key, &label(name))?
        .into_iter()
        .map(|s| {
            let parsed = s
                .split_once(':')
                .and_then(|(p, st)| Some((p.trim().parse::<u64>().ok()?, st.trim().parse::<u64>().ok()?)));
            parsed.ok_or_else(|| {
                InputError::new(
                    label(name),
                    format!(
                        "\"{s}\" is not a status; pick statuses from the list (values look like pipelineID:statusID)"
                    ),
                )
            })
        })
        .collect()
}

/// `filter[custom_fields_values][ID]…` from the "Custom Field Values"
/// entries: `{fieldId, value}` (one or comma-separated values) or
/// `{fieldId, from, to}` (numbers or dates).
fn custom_field_filters(q: &mut Query, f: Params) -> Result<(), InputError> {
    let name = "Custom Field Values";
    let Some(entries) = f.object("customFieldValues").get("values").and_then(Value::as_array) else {
        return Ok(());
    };
    for entry in entries {
        let e = Params::new(entry);
        let id = e
            .id("fieldId", &label(name), "a custom field")?
            .ok_or_else(|| InputError::new(label(name), "choose a field for every entry"))?;
        let key = format!("filter[custom_fields_values][{id}]");
        let bound = |k: &str| -> Result<Option<String>, InputError> {
            match e.get(k) {
                None => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(v @ Value::String(s)) => Ok(Some(match crate::time::parse_timestamp(v) {
                    Some(ts) if s.contains('-') => ts.to_string(),
                    _ => s.trim().to_string(),
                })),
                Some(other) => Err(InputError::new(
                    label(name),
                    format!("expected a number or a date, got {}", describe(other)),
                )),
            }
        };
        let (from, to) = (bound("from")?, bound("to")?);
        let values = e.strings("value", &label(name))?;
        if from.is_none() && to.is_none() && values.is_empty() {
            return Err(InputError::new(
                label(name),
                format!("field {id}: give a value, or a From and/or To"),
            ));
        }
        if let Some(a) = from {
            q.push(format!("{key}[from]"), a);
        }
        if let Some(b) = to {
            q.push(format!("{key}[to]"), b);
        }
        q.push_list(&key, values);
    }
    Ok(())
}

/// `filter[is_completed]=1|0` from "Completed": `yes`, `no` (or true,
/// false); `any` or nothing filters nothing. amoCRM documents 1 for done
/// and 0 for open.
fn completed(q: &mut Query, f: Params) -> Result<(), InputError> {
    let flag = match f.get("completed") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => match s.trim() {
            "" | "any" => None,
            "yes" | "true" => Some(true),
            "no" | "false" => Some(false),
            other => {
                return Err(InputError::new(
                    label("Completed"),
                    format!("\"{other}\" is not yes, no or any"),
                ))
            }
        },
        Some(other) => {
            return Err(InputError::new(
                label("Completed"),
                format!("expected yes, no or any, got {}", describe(other)),
            ))
        }
    };
    if let Some(done) = flag {
        q.push("filter[is_completed]", u8::from(done));
    }
    Ok(())
}

/// The entity types records can be attached to (tasks, notes).
pub const ATTACHABLE_TYPES: [&str; 4] = ["leads", "contacts", "companies", "customers"];

/// `filter[entity_type]=leads&filter[entity_id][0]=…`: amoCRM reads the IDs
/// only together with a type.
fn linked_entity(q: &mut Query, f: Params) -> Result<(), InputError> {
    let kind = f.string("entityType", &label("Attached To"))?.trim();
    let ids = ids(f, "entityIds", "Attached To IDs", "a record")?;
    if kind.is_empty() {
        if !ids.is_empty() {
            return Err(InputError::new(
                label("Attached To IDs"),
                "amoCRM reads these IDs only with a type: set Attached To too",
            ));
        }
        return Ok(());
    }
    if !ATTACHABLE_TYPES.contains(&kind) {
        return Err(InputError::new(
            label("Attached To"),
            format!("\"{kind}\" is not one of {}", ATTACHABLE_TYPES.join(", ")),
        ));
    }
    q.push("filter[entity_type]", kind);
    q.push_list("filter[entity_id]", ids);
    Ok(())
}

fn ids(f: Params, key: &str, name: &str, what: &str) -> Result<Vec<u64>, InputError> {
    Ok(f.ids(key, &label(name), what)?.into_iter().map(|i| i.get()).collect())
}

/// The query of a Get Many page, without `page` and `limit`.
pub fn list_query(entity: &Entity, params: Params) -> Result<Query, InputError> {
    let mut q = Query::new();
    let f = params.object("filters");
    let has = |filter: Filter| entity.filters.contains(&filter);

    if has(Filter::Ids) {
        let what = format!("a {}", entity.noun);
        q.push_list("filter[id]", ids(f, "ids", &format!("{} IDs", entity.label), &what)?);
    }
    if has(Filter::Names) {
        q.push_list("filter[name]", f.strings("names", &label("Names"))?);
    }
    for (filter, key, name, what) in [
        (Filter::Price, "price", "price", "Price"),
        (Filter::NextPrice, "nextPrice", "next_price", "Next Purchase Price"),
    ] {
        if has(filter) {
            let from = f.whole(&format!("{key}From"), &label(&format!("{what} From")), 0)?;
            let to = f.whole(&format!("{key}To"), &label(&format!("{what} To")), 0)?;
            range(&mut q, name, from, to, what)?;
        }
    }
    if has(Filter::Pipelines) {
        q.push_list("filter[pipeline_id]", ids(f, "pipelineIds", "Pipelines", "a pipeline")?);
    }
    if has(Filter::StatusIds) {
        q.push_list("filter[status_id]", ids(f, "statusIds", "Statuses", "a status")?);
    }
    if has(Filter::Statuses) {
        for (i, (pipeline, status)) in statuses(f, "statuses", "Statuses")?.into_iter().enumerate() {
            q.push(format!("filter[statuses][{i}][pipeline_id]"), pipeline);
            q.push(format!("filter[statuses][{i}][status_id]"), status);
        }
    }
    if has(Filter::Categories) {
        let categories = f.strings("categories", &label("Categories"))?;
        if let Some(bad) = categories.iter().find(|c| !UNSORTED_CATEGORIES.contains(c)) {
            return Err(InputError::new(
                label("Categories"),
                format!("\"{bad}\" is not a category; use {}", UNSORTED_CATEGORIES.join(", ")),
            ));
        }
        q.push_list("filter[category]", categories);
    }
    if has(Filter::Pipeline) {
        if let Some(id) = f.id("pipelineId", &label("Pipeline"), "a pipeline")? {
            q.push("filter[pipeline_id]", id);
        }
    }
    for (filter, key, name, what) in [
        (
            Filter::ResponsibleUsers,
            "responsibleUserIds",
            "responsible_user_id",
            "Responsible Users",
        ),
        (Filter::CreatedBy, "createdBy", "created_by", "Created By"),
        (Filter::UpdatedBy, "updatedBy", "updated_by", "Updated By"),
    ] {
        if has(filter) {
            q.push_list(&format!("filter[{name}]"), ids(f, key, what, "a user")?);
        }
    }
    for (filter, key, name, what) in [
        (Filter::CreatedAt, "createdAt", "created_at", "Created"),
        (Filter::UpdatedAt, "updatedAt", "updated_at", "Updated"),
        (Filter::ClosedAt, "closedAt", "closed_at", "Closed"),
        (
            Filter::ClosestTaskAt,
            "closestTaskAt",
            "closest_task_at",
            "Closest Task",
        ),
        // Not in amoCRM's filter documentation, which lists only
        // updated_at for tasks, but used against live accounts by several
        // integrations, with order[complete_till] (documented) beside it.
        (Filter::Deadline, "completeTill", "complete_till", "Deadline"),
        (Filter::NextDate, "nextDate", "next_date", "Next Purchase"),
    ] {
        if has(filter) {
            let from = f.date(&format!("{key}From"), &label(&format!("{what} After")))?;
            let to = f.date(&format!("{key}To"), &label(&format!("{what} Before")))?;
            range(&mut q, name, from, to, what)?;
        }
    }
    if has(Filter::Completed) {
        completed(&mut q, f)?;
    }
    if has(Filter::TaskTypes) {
        // The key amoCRM documents (`task_type`, a list); its PHP client
        // sends one `task_type_id` instead.
        q.push_list("filter[task_type]", ids(f, "taskTypeIds", "Task Types", "a task type")?);
    }
    if has(Filter::LinkedEntity) {
        linked_entity(&mut q, f)?;
    }
    if has(Filter::CustomFields) {
        custom_field_filters(&mut q, f)?;
    }

    let search = params.string("query", "Search")?.trim();
    if !search.is_empty() {
        q.push("query", search);
    }
    let options = params.object("options");
    let with = parse_with(
        entity,
        &options.strings("with", "Options › Include")?,
        "Options › Include",
        true,
    )?;
    if !with.is_empty() {
        q.push("with", with.join(","));
    }
    let sort = options.string("sortBy", "Options › Sort By")?;
    if !sort.is_empty() {
        if !entity.order.contains(&sort) {
            return Err(InputError::new(
                "Options › Sort By",
                format!("\"{sort}\" cannot be sorted by; use {}", entity.order.join(", ")),
            ));
        }
        let direction = match options.string("sortDirection", "Options › Sort Direction")? {
            "" | "asc" => "asc",
            "desc" => "desc",
            other => {
                return Err(InputError::new(
                    "Options › Sort Direction",
                    format!("\"{other}\" is not asc or desc"),
                ))
            }
        };
        q.push(format!("order[{sort}]"), direction);
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::LEADS;
    use serde_json::json;

    fn encode(p: Value) -> String {
        list_query(&LEADS, Params::new(&p)).unwrap().encode()
    }

    #[test]
    fn every_filter_in_bracket_syntax() {
        let q = encode(json!({
            "filters": {
                "ids": "1, 2", "names": ["Deal A"], "priceFrom": 100, "priceTo": "500",
                "pipelineIds": [7], "statuses": ["7:142", "8:143"], "responsibleUserIds": [3, 4],
                "createdBy": "5", "createdAtFrom": "2024-05-01T00:00:00Z", "updatedAtTo": 1714600000,
                "customFieldValues": {"values": [{"fieldId": 11, "value": "Web, Phone"}, {"fieldId": 12, "from": 10, "to": "2024-05-01"}]}
            },
            "query": "  acme ",
            "options": {"with": ["contacts", "only_deleted"], "sortBy": "updated_at", "sortDirection": "desc"}
        }));
        assert_eq!(
            q,
            "filter[id][0]=1&filter[id][1]=2&filter[name][0]=Deal%20A&filter[price][from]=100&filter[price][to]=500\
&filter[pipeline_id][0]=7&filter[statuses][0][pipeline_id]=7&filter[statuses][0][status_id]=142\
&filter[statuses][1][pipeline_id]=8&filter[statuses][1][status_id]=143&filter[responsible_user_id][0]=3\
&filter[responsible_user_id][1]=4&filter[created_by][0]=5&filter[created_at][from]=1714521600\
&filter[updated_at][to]=1714600000&filter[custom_fields_values][11][0]=Web&filter[custom_fields_values][11][1]=Phone\
&filter[custom_fields_values][12][from]=10&filter[custom_fields_values][12][to]=1714521600\
&query=acme&with=contacts,only_deleted&order[updated_at]=desc"
        );
    }

    #[test]
    fn no_filters_no_query() {
        assert_eq!(encode(json!({})), "");
    }

    #[test]
    fn bad_filters_name_their_field() {
        let bad = |p: Value| list_query(&LEADS, Params::new(&p)).unwrap_err();
        assert_eq!(
            bad(json!({"filters": {"priceFrom": 9, "priceTo": 1}})).field,
            "Filters › Price"
        );
        assert_eq!(
            bad(json!({"filters": {"statuses": ["142"]}})).field,
            "Filters › Statuses"
        );
        assert_eq!(
            bad(json!({"filters": {"createdAtFrom": "last week"}})).field,
            "Filters › Created After"
        );
        assert_eq!(bad(json!({"filters": {"ids": "1,x"}})).field, "Filters › Lead IDs");
        assert_eq!(bad(json!({"options": {"sortBy": "name"}})).field, "Options › Sort By");
        assert_eq!(
            bad(json!({"filters": {"customFieldValues": {"values": [{"fieldId": 3}]}}})).field,
            "Filters › Custom Field Values"
        );
    }
}
