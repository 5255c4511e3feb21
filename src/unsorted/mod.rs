//! Incoming leads, amoCRM's "unsorted": a web form's submission or a call
//! that becomes a lead in a pipeline's first, "unsorted" stage, with its
//! contact and company, until a manager accepts it (the lead moves on),
//! declines it (everything goes to the trash) or links it to an existing
//! lead.
//!
//! Records are keyed by a string `uid`, not a numeric ID, and most of their
//! operations have their own endpoints (D:unsorted-api):
//!
//! * [`create`]: forms and calls, in batches through the shared
//!   [`Batcher`](crate::entity::batch::Batcher), answers paired by
//!   `request_id`.
//! * Get Many: the shared listing ([`crate::entity::get_many`]) over the
//!   [`UNSORTED`] descriptor, by category and pipeline.
//! * [`calls`]: Get, Accept, Decline and Link, one uid per request (amoCRM
//!   has no batch form of them), and the Summary.

pub mod calls;
pub mod create;

use std::borrow::Cow;

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::entity::batch::Batcher;
use crate::entity::get_many::{ListRecords, Listing};
use crate::entity::{Entity, EntityRef, Features, Filter, NoRules, Planned, MAX_WRITE_BATCH};
use calls::{Action, Calls};
use create::{Category, CreateIncoming, Stamped};

pub const UNSORTED_PATH: &str = "/api/v4/leads/unsorted";

/// What the shared machinery needs to know of incoming leads: where they are
/// listed and how they are filtered. Their lead takes the account's lead
/// custom fields, so the dropdowns and field lookups read those.
pub static UNSORTED: Entity = Entity {
    noun: "incoming lead",
    nouns: "incoming leads",
    label: "Incoming Lead",
    path: Cow::Borrowed(UNSORTED_PATH),
    embedded: "unsorted",
    entity_type: "unsorted",
    card: None,
    id_param: "uid",
    with: &[],
    with_list_only: &[],
    order: &["created_at", "updated_at"],
    filters: &[Filter::Categories, Filter::Pipeline],
    fields: &[],
    read_only: &[],
    fields_path: Cow::Borrowed("/api/v4/leads/custom_fields"),
    max_batch: MAX_WRITE_BATCH,
    multitext: false,
    features: Features {
        custom_fields: true,
        notes: false,
        tags: false,
        links: &[],
    },
    rules: &NoRules,
};

/// The operation of the Incoming Lead node named `name`.
pub fn operation(name: &str, account: AccountAddress) -> Option<Planned> {
    let read = |op: Box<dyn crate::engine::Operation>| Some(Planned { op, writes: false });
    let write = |op: Box<dyn crate::engine::Operation>| Some(Planned { op, writes: true });
    let create = |category| Stamped(Batcher::new(CreateIncoming { category }, account.clone()));
    match name {
        "createForm" => write(Box::new(create(Category::Form))),
        "createSip" => write(Box::new(create(Category::Sip))),
        "getMany" => read(Box::new(ListRecords::new(
            EntityRef::Static(&UNSORTED),
            Listing::Records,
            account,
        ))),
        "get" => read(Box::new(Calls::new(Action::Get, account))),
        "summary" => read(Box::new(Calls::new(Action::Summary, account))),
        "accept" => write(Box::new(Calls::new(Action::Accept, account))),
        "decline" => write(Box::new(Calls::new(Action::Decline, account))),
        "link" => write(Box::new(Calls::new(Action::Link, account))),
        // The dropdowns: pipelines, statuses, users, lead custom fields.
        lookup if lookup.starts_with("list") => crate::entity::operation(EntityRef::Static(&UNSORTED), lookup, account),
        _ => None,
    }
}

/// The lead, contact and company an incoming lead's answer names
/// (`_embedded.leads[0].id`, …), flat, `null` where there is none.
pub fn linked_ids(answer: &Value) -> [(&'static str, Value); 3] {
    let first = |key: &str| answer["_embedded"][key][0]["id"].clone();
    [
        ("lead_id", first("leads")),
        ("contact_id", first("contacts")),
        ("company_id", first("companies")),
    ]
}

/// `{uid, …, lead_id, contact_id, company_id}` from an answer, with `extra`
/// keys after the uid.
pub fn shaped(answer: &Value, extra: &[(&str, Value)]) -> Value {
    let mut out = json!({ "uid": answer["uid"].clone() });
    for (key, value) in extra {
        out[*key] = value.clone();
    }
    for key in ["pipeline_id", "category", "created_at"] {
        if let Some(v) = answer.get(key) {
            out[key] = v.clone();
        }
    }
    for (key, value) in linked_ids(answer) {
        out[key] = value;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::filter::list_query;
    use crate::input::Params;

    #[test]
    fn get_many_filters_by_categories_and_one_pipeline_and_sorts_by_creation() {
        let p = json!({
            "filters": {"categories": ["forms", "sip"], "pipelineId": "7000001"},
            "options": {"sortBy": "created_at", "sortDirection": "desc"}
        });
        assert_eq!(
            list_query(&UNSORTED, Params::new(&p)).unwrap().encode(),
            "filter[category][0]=forms&filter[category][1]=sip&filter[pipeline_id]=7000001&order[created_at]=desc"
        );
        let bad = json!({"filters": {"categories": ["calls"]}});
        let e = list_query(&UNSORTED, Params::new(&bad)).unwrap_err();
        assert_eq!(e.field, "Filters › Categories");
        assert!(e.problem.contains("sip, mail, forms, chats"), "{e}");
        let sort = json!({"options": {"sortBy": "id"}});
        assert_eq!(
            list_query(&UNSORTED, Params::new(&sort)).unwrap_err().field,
            "Options › Sort By"
        );
    }

    #[test]
    fn answers_are_shaped_flat_with_the_records_they_name() {
        let answer = json!({
            "uid": "abc", "pipeline_id": 7, "category": "forms", "created_at": 5,
            "_embedded": {"leads": [{"id": 1, "_links": {}}], "contacts": [{"id": 2}], "companies": []}
        });
        assert_eq!(
            shaped(&answer, &[("accepted", json!(true))]),
            json!({"uid": "abc", "accepted": true, "pipeline_id": 7, "category": "forms", "created_at": 5,
                   "lead_id": 1, "contact_id": 2, "company_id": null})
        );
    }

    #[test]
    fn only_its_own_operations_and_dropdowns_exist() {
        let account = AccountAddress::parse("shop", crate::account::Zone::AmocrmRu).unwrap();
        for name in [
            "createForm",
            "createSip",
            "getMany",
            "get",
            "accept",
            "decline",
            "link",
            "summary",
            "listPipelines",
            "listCustomFields",
        ] {
            assert!(operation(name, account.clone()).is_some(), "{name}");
        }
        for name in ["create", "update", "search", "addNote"] {
            assert!(operation(name, account.clone()).is_none(), "{name}");
        }
        assert!(operation("accept", account.clone()).unwrap().writes);
        assert!(!operation("get", account).unwrap().writes);
    }
}
