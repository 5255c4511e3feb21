//! amoCRM's events (`/api/v4/events`): the account's activity feed, and the
//! source of the AmoCRM Events Trigger, which polls it and so needs no
//! public URL.
//!
//! * [`filter`]: every filter amoCRM offers, checked against its rules.
//! * `getMany` (plan `event.getMany`): the shared Get Many ([`crate::entity::get_many`])
//!   over events, 100 a page (amoCRM's maximum for events).
//! * [`cursor`]: the trigger's cursor, a second plus the IDs already seen at
//!   it, and the scan of one poll (sans-IO, property-tested).
//! * [`poll`]: the trigger's poll as an operation (plan `event.poll`).
//! * [`enrich`]: "Fetch Full Records" for polled events and webhook items
//!   (plan `event.enrich`).

pub mod cursor;
pub mod enrich;
pub mod filter;
pub mod poll;

use std::borrow::Cow;

use crate::account::AccountAddress;
use crate::entity::get_many::{ListRecords, Listing};
use crate::entity::{Entity, EntityRef, Features, NoRules, Planned};

pub const EVENTS_PATH: &str = "/api/v4/events";

/// Event types amoCRM documents (events-and-notes), besides
/// `custom_field_{FIELD_ID}_value_changed`, which is asked for alone.
pub const TYPES: &[&str] = &[
    "lead_added",
    "lead_deleted",
    "lead_restored",
    "lead_status_changed",
    "lead_linked",
    "lead_unlinked",
    "contact_added",
    "contact_deleted",
    "contact_restored",
    "contact_linked",
    "contact_unlinked",
    "company_added",
    "company_deleted",
    "company_restored",
    "company_linked",
    "company_unlinked",
    "customer_added",
    "customer_deleted",
    "customer_status_changed",
    "customer_linked",
    "customer_unlinked",
    "task_added",
    "task_deleted",
    "task_completed",
    "task_type_changed",
    "task_text_changed",
    "task_deadline_changed",
    "task_result_added",
    "incoming_call",
    "outgoing_call",
    "incoming_chat_message",
    "outgoing_chat_message",
    "entity_direct_message",
    "incoming_sms",
    "outgoing_sms",
    "entity_tag_added",
    "entity_tag_deleted",
    "entity_linked",
    "entity_unlinked",
    "sale_field_changed",
    "name_field_changed",
    "ltv_field_changed",
    "custom_field_value_changed",
    "entity_responsible_changed",
    "robot_replied",
    "intent_identified",
    "nps_rate_added",
    "link_followed",
    "transaction_added",
    "common_note_added",
    "common_note_deleted",
    "attachment_note_added",
    "targeting_in_note_added",
    "targeting_out_note_added",
    "geo_note_added",
    "service_note_added",
    "site_visit_note_added",
    "message_to_cashier_note_added",
    "key_action_completed",
    "entity_merged",
];

/// The types `filter[value_before|value_after][value]` applies to.
pub const VALUE_TYPES: &[&str] = &[
    "nps_rate_added",
    "sale_field_changed",
    "name_field_changed",
    "ltv_field_changed",
    "custom_field_value_changed",
];

/// Entity types events are filed under (besides `catalog_{ID}`).
pub const ENTITIES: &[&str] = &["lead", "contact", "company", "customer", "task"];

/// `custom_field_{FIELD_ID}_value_changed`.
pub fn is_custom_field_type(t: &str) -> bool {
    t.strip_prefix("custom_field_")
        .and_then(|rest| rest.strip_suffix("_value_changed"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Events as the shared list machinery reads them: their path, their key
/// under `_embedded`, and their `with` values (names of the records).
pub static EVENTS: Entity = Entity {
    noun: "event",
    nouns: "events",
    label: "Event",
    path: Cow::Borrowed(EVENTS_PATH),
    embedded: "events",
    entity_type: "events",
    card: None,
    id_param: "eventId",
    with: &[
        "contact_name",
        "lead_name",
        "company_name",
        "catalog_element_name",
        "customer_name",
        "catalog_name",
    ],
    with_list_only: &[],
    order: &[],
    filters: &[],
    fields: &[],
    read_only: &[],
    fields_path: Cow::Borrowed(""),
    max_batch: 0,
    multitext: false,
    features: Features::NONE,
    rules: &NoRules,
};

/// The operations on events: `getMany`, `poll` (the trigger) and `enrich`
/// (Fetch Full Records of webhook items).
pub fn operation(name: &str, account: AccountAddress) -> Option<Planned> {
    let op: Box<dyn crate::engine::Operation> = match name {
        "getMany" => Box::new(ListRecords::new(EntityRef::Static(&EVENTS), Listing::Events, account)),
        "poll" => Box::new(poll::PollEvents::new(account)),
        "enrich" => Box::new(enrich::EnrichEvents::new(account)),
        _ => return None,
    };
    Some(Planned { op, writes: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::Driver;
    use crate::http::Response;
    use serde_json::{json, Value};

    fn get_many(params: Value) -> Run {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let planned = operation("getMany", account).unwrap();
        let mut r = Run::new(Driver::new(planned.op));
        let _ = params;
        r.now_ms = 0.0;
        r
    }

    fn events(from: usize, n: usize) -> Response {
        let list: Vec<Value> = (from..from + n)
            .map(|i| json!({"id": format!("e{i}"), "created_at": i}))
            .collect();
        let links = if n == 100 {
            json!({"next": {"href": "x"}})
        } else {
            json!({})
        };
        Response::new(200, json!({"_links": links, "_embedded": {"events": list}}).to_string())
    }

    #[test]
    fn get_many_reads_pages_of_100_with_every_filter_and_with() {
        let params = json!({
            "returnAll": true,
            "options": {"with": ["lead_name", "contact_name"]},
            "filters": {"types": ["lead_added"], "entities": ["lead"], "createdFrom": 1700000000}
        });
        let mut r = get_many(params.clone());
        let s = r.start(vec![params]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/events?filter[type][0]=lead_added&filter[entity][0]=lead&filter[created_at][from]=1700000000&with=lead_name,contact_name&limit=100&page=1"
        );
        let s = r.reply(s.requests[0].id, events(0, 100));
        assert_eq!(s.emit.len(), 100);
        let mut emitted = 100;
        let mut queue = s.requests.clone();
        let mut served = 1;
        while let Some(q) = queue.pop() {
            let page: usize = q.request.url.rsplit("page=").next().unwrap().parse().unwrap();
            let reply = if page <= 3 {
                events((page - 1) * 100, if page == 3 { 30 } else { 100 })
            } else {
                Response::new(204, "")
            };
            served += 1;
            let s = r.reply(q.id, reply);
            emitted += s.emit.len();
            queue.extend(s.requests.clone());
        }
        assert_eq!(emitted, 230);
        assert!(served <= 3 + crate::entity::pager::PAGES_IN_FLIGHT as usize);
    }

    #[test]
    fn get_many_refuses_bad_filters_and_with_before_any_request() {
        for params in [
            json!({"filters": {"entityIds": [1]}}),
            json!({"options": {"with": ["contacts"]}}),
            json!({"limit": 0}),
        ] {
            let s = get_many(params.clone()).start(vec![params.clone()]);
            assert!(s.requests.is_empty(), "{params}");
            assert_eq!(s.emit.len(), 1, "{params}");
        }
    }

    #[test]
    fn custom_field_types_are_recognised() {
        assert!(is_custom_field_type("custom_field_900001_value_changed"));
        for t in [
            "custom_field__value_changed",
            "custom_field_x_value_changed",
            "custom_field_value_changed",
        ] {
            assert!(!is_custom_field_type(t), "{t}");
        }
    }
}
