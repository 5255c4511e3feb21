//! Webhook subscriptions for any destination and any events
//! (D:webhooks-api): Get Many, Subscribe (posting a destination again
//! replaces its events), Unsubscribe (by destination). The trigger node
//! manages its own subscription through [`crate::webhook::subscription`];
//! these are for webhooks that go elsewhere.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::ApiErrorKind;
use crate::engine::{Replay, Reply};
use crate::error::NodeError;
use crate::http::{Method, Request};
use crate::input::{shorten, InputError, Params};
use crate::query::Query;
use crate::webhook::subscription::{parse_destination, WEBHOOKS_PATH};

use super::per_item::ItemCall;

/// Every event amoCRM's subscription API names (D:webhooks-api).
pub const EVENTS: [&str; 32] = [
    "add_lead",
    "update_lead",
    "delete_lead",
    "restore_lead",
    "status_lead",
    "responsible_lead",
    "note_lead",
    "add_contact",
    "update_contact",
    "delete_contact",
    "restore_contact",
    "responsible_contact",
    "note_contact",
    "add_company",
    "update_company",
    "delete_company",
    "restore_company",
    "responsible_company",
    "note_company",
    "add_customer",
    "update_customer",
    "delete_customer",
    "responsible_customer",
    "note_customer",
    "add_task",
    "update_task",
    "delete_task",
    "responsible_task",
    "add_talk",
    "update_talk",
    // add_message: Kommo's name for incoming chat messages (amocrm-api.md).
    "add_chat_template_review",
    "add_message",
];

pub struct ListHooks {
    pub account: AccountAddress,
}

impl ItemCall for ListHooks {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let mut q = Query::new();
        if params
            .get("destination")
            .is_some_and(|d| d.as_str().is_none_or(|s| !s.trim().is_empty()))
        {
            q.push(
                "filter[destination]",
                parse_destination(params.get("destination"))?.as_str(),
            );
        }
        Ok((
            Request::get(self.account.url(&q.append_to(WEBHOOKS_PATH))),
            Replay::Safe,
        ))
    }
    fn reply(&self, _: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        match reply {
            Ok(r) if r.status == 204 || r.body.trim().is_empty() => Ok(Vec::new()),
            Ok(r) => {
                let page = crate::api_error::parse_json(&r).map_err(|e| NodeError::api("Reading webhooks", &e))?;
                Ok(page["_embedded"]["webhooks"].as_array().cloned().unwrap_or_default())
            }
            Err(e) => Err(NodeError::api("Reading webhooks", &e)),
        }
    }
}

pub struct Subscribe {
    pub account: AccountAddress,
}

/// The events of an item: names from [`EVENTS`], at least one.
pub fn events(params: Params<'_>) -> Result<Vec<&str>, InputError> {
    let events = params.strings("events", "Events")?;
    if events.is_empty() {
        return Err(InputError::new("Events", "is empty; choose at least one event"));
    }
    if let Some(bad) = events.iter().find(|e| !EVENTS.contains(e)) {
        return Err(InputError::new(
            "Events",
            format!(
                "\"{}\" is not an amoCRM webhook event such as add_lead or status_lead",
                shorten(bad)
            ),
        ));
    }
    Ok(events)
}

impl ItemCall for Subscribe {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let destination = parse_destination(params.get("destination"))?;
        let mut body = json!({ "destination": destination.as_str(), "settings": events(params)? });
        if let Some(sort) = params.whole("sort", "Sort", 1)? {
            body["sort"] = json!(sort);
        }
        // Posting a destination again replaces its events: safe to repeat.
        Ok((
            Request::new(Method::Post, self.account.url(WEBHOOKS_PATH)).json(&body),
            Replay::Safe,
        ))
    }
    fn reply(&self, _: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        super::per_item::written(
            "Subscribing to amoCRM webhooks",
            reply.map_err(|e| match e.kind {
                ApiErrorKind::Forbidden | ApiErrorKind::Blocked => {
                    e.with_detail("managing webhooks needs an account administrator's token")
                }
                _ => e,
            }),
        )
    }
    fn writes(&self) -> bool {
        true
    }
}

pub struct Unsubscribe {
    pub account: AccountAddress,
}

impl ItemCall for Unsubscribe {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let destination = parse_destination(params.get("destination"))?;
        Ok((
            Request::new(Method::Delete, self.account.url(WEBHOOKS_PATH))
                .json(&json!({ "destination": destination.as_str() })),
            Replay::Safe,
        ))
    }
    /// A 404 means the hook was gone already: `deleted: false`, no error.
    fn reply(&self, params: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        let destination = params.get("destination").cloned().unwrap_or(Value::Null);
        match reply {
            Ok(_) => Ok(vec![json!({ "destination": destination, "deleted": true })]),
            Err(e) if e.kind == ApiErrorKind::NotFound => {
                Ok(vec![json!({ "destination": destination, "deleted": false })])
            }
            Err(e) => Err(NodeError::api("Removing the amoCRM webhook subscription", &e)),
        }
    }
    fn writes(&self) -> bool {
        true
    }
}
