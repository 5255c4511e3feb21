//! Get, Accept, Decline and Link an incoming lead by its uid, and the
//! Summary: one request per item.
//!
//! amoCRM has no batch form of accept, decline or link (D:unsorted-api and
//! the PHP client's `Unsorted::accept()` take one uid each), so accepting
//! 300 incoming leads takes 300 requests, paced by the account's shared
//! rate budget.
//!
//! An incoming lead that was already accepted, declined or linked is not an
//! error of the node: its item comes out as `{uid, accepted: false,
//! reason}` (`declined`, `linked` likewise), so that a workflow working
//! through a list goes on and can tell those apart.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::api_error::{parse_json, ApiError, ApiErrorKind};
use crate::engine::{send_per_item, Io, Operation, RawJson, Reply, Tag};
use crate::entity::reference::parse_ref;
use crate::error::{ErrorKind, NodeError};
use crate::http::{Method, Request};
use crate::input::{shorten, InputError, Params};
use crate::lead::rules::status_of;
use crate::lead::LEADS;
use crate::query::Query;
use crate::unsorted::{shaped, UNSORTED_PATH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Get,
    Accept,
    Decline,
    Link,
    Summary,
}

impl Action {
    /// The output key that says whether it happened, and the verb for
    /// messages.
    fn done_key(self) -> (&'static str, &'static str) {
        match self {
            Action::Accept => ("accepted", "Accepting"),
            Action::Decline => ("declined", "Declining"),
            Action::Link => ("linked", "Linking"),
            Action::Get => ("", "Getting"),
            Action::Summary => ("", "Reading the summary of"),
        }
    }
}

pub struct Calls {
    action: Action,
    account: AccountAddress,
    /// The uid each item's request is about (empty for the summary).
    sent: HashMap<usize, String>,
}

const UID_LABEL: &str = "Incoming Lead UID";

/// An incoming lead's uid: letters and digits (40 hexadecimal characters as
/// amoCRM makes them), nothing that could change the path.
pub fn parse_uid(params: Params) -> Result<String, InputError> {
    let uid = params.string("uid", UID_LABEL)?.trim();
    if uid.is_empty() {
        return Err(InputError::new(
            UID_LABEL,
            "is empty; give the uid of an incoming lead, as Create or Get Many output it",
        ));
    }
    if uid.len() > 128 || !uid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(InputError::new(
            UID_LABEL,
            format!(
                "\"{}\" is not an incoming lead's uid (letters and digits, such as 98fb033cefde74f5de1a5d3980a2a2d108037)",
                shorten(uid)
            ),
        ));
    }
    Ok(uid.to_string())
}

/// `user_id`, when the item names the user to act as.
fn acting_user(params: Params, body: &mut Map<String, Value>) -> Result<(), InputError> {
    if let Some(user) = params.id("userId", "As User", "a user")? {
        body.insert("user_id".into(), json!(user.get()));
    }
    Ok(())
}

/// `filter[created_at][from|to]` and `filter[pipeline_id]` of the summary.
fn summary_query(params: Params) -> Result<Query, InputError> {
    let f = params.object("filters");
    let mut q = Query::new();
    let from = f.date("createdAtFrom", "Filters › Created After")?;
    let to = f.date("createdAtTo", "Filters › Created Before")?;
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            return Err(InputError::new(
                "Filters › Created After",
                format!("the range starts ({a}) after it ends ({b})"),
            ));
        }
    }
    if let Some(a) = from {
        q.push("filter[created_at][from]", a);
    }
    if let Some(b) = to {
        q.push("filter[created_at][to]", b);
    }
    if let Some(p) = f.id("pipelineId", "Filters › Pipeline", "a pipeline")? {
        q.push("filter[pipeline_id]", p);
    }
    Ok(q)
}

/// amoCRM's complaint that the incoming lead was processed already, when
/// that is what `error` is. amoCRM's exact answer is UNVERIFIED (the PHP
/// client raises any 400 as an exception); the emulator answers a 400
/// `validation-errors` with code `NotAvailableForAction`, and a detail
/// saying "already" is read the same way.
fn already_processed(error: &ApiError) -> Option<String> {
    if error.kind != ApiErrorKind::Validation {
        return None;
    }
    error.entries.iter().flat_map(|e| &e.errors).find_map(|p| {
        let already = p.code == "NotAvailableForAction" || p.detail.to_ascii_lowercase().contains("already");
        already.then(|| p.detail.clone())
    })
}

impl Calls {
    pub fn new(action: Action, account: AccountAddress) -> Calls {
        Calls {
            action,
            account,
            sent: HashMap::new(),
        }
    }

    fn request(&self, params: Params) -> Result<(String, Request), InputError> {
        if self.action == Action::Summary {
            let path = summary_query(params)?.append_to(&format!("{UNSORTED_PATH}/summary"));
            return Ok((String::new(), Request::get(self.account.url(&path))));
        }
        let uid = parse_uid(params)?;
        let path = format!("{UNSORTED_PATH}/{uid}");
        let mut body = Map::new();
        let request = match self.action {
            Action::Get | Action::Summary => Request::get(self.account.url(&path)),
            Action::Accept => {
                acting_user(params, &mut body)?;
                // The status picker's `pipelineID:statusID`, or a status ID:
                // the pipeline is the incoming lead's own.
                if let Some((_, status)) = status_of(params, "Status")? {
                    body.insert("status_id".into(), json!(status));
                }
                Request::new(Method::Post, self.account.url(&format!("{path}/accept"))).json(&Value::Object(body))
            }
            Action::Decline => {
                acting_user(params, &mut body)?;
                Request::new(Method::Delete, self.account.url(&format!("{path}/decline"))).json(&Value::Object(body))
            }
            Action::Link => {
                acting_user(params, &mut body)?;
                let lead = parse_ref(
                    params.get("leadId").unwrap_or(&Value::Null),
                    &self.account,
                    &LEADS,
                    "Lead",
                )?;
                let mut link = json!({ "entity_id": lead.get(), "entity_type": "leads" });
                if let Some(contact) = params.id("contactId", "Contact of the Lead", "a contact")? {
                    link["metadata"] = json!({ "contact_id": contact.get() });
                }
                body.insert("link".into(), link);
                Request::new(Method::Post, self.account.url(&format!("{path}/link"))).json(&Value::Object(body))
            }
        };
        Ok((uid, request))
    }

    fn on_answer(&self, index: usize, uid: &str, body: String, io: &mut Io) {
        let (done, verb) = self.action.done_key();
        let context = format!("{verb} incoming lead {uid}");
        if matches!(self.action, Action::Get | Action::Summary) {
            // As amoCRM sent it, checked to be JSON.
            return match RawJson::parse(body) {
                Ok(json) => io.emit_raw(index, json),
                Err(e) => io.fail(
                    index,
                    NodeError::api(&context, &ApiError::unreadable(200, format!("not JSON ({e})"))),
                ),
            };
        }
        let answer = match parse_json(&crate::http::Response::new(200, body)) {
            Ok(answer) => answer,
            Err(e) => return io.fail(index, NodeError::api(&context, &e)),
        };
        let mut out = shaped(&answer, &[(done, json!(true))]);
        out["uid"] = json!(uid);
        if let Some(lead) = out["lead_id"].as_u64() {
            io.written(index, lead);
        }
        io.emit(index, out);
    }
}

impl Operation for Calls {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let sent = send_per_item(first, &items, io, |params| self.request(params));
        self.sent.extend(sent);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let Tag::Item(index) = tag else { return };
        let Some(uid) = self.sent.remove(&index) else { return };
        let (done, verb) = self.action.done_key();
        match reply {
            Ok(r) if r.status == 204 && self.action == Action::Get => io.fail(
                index,
                NodeError::new(ErrorKind::Api, format!("Incoming lead {uid} not found"))
                    .with_description("amoCRM has no incoming lead waiting with this uid (it answered 204 No Content): it was accepted, declined or linked already, or never existed. Get Many lists the ones waiting."),
            ),
            Ok(r) => self.on_answer(index, &uid, r.body, io),
            Err(e) => match already_processed(&e) {
                Some(detail) if !done.is_empty() => io.emit(
                    index,
                    json!({
                        "uid": uid,
                        done: false,
                        "reason": format!("The incoming lead was already accepted, declined or linked: amoCRM said \"{detail}\""),
                    }),
                ),
                _ if e.kind == ApiErrorKind::NotFound => io.fail(
                    index,
                    NodeError::api(&format!("{verb} incoming lead {uid}"), &e)
                        .with_description("amoCRM has no incoming lead with this uid. Check the uid, as Create or Get Many output it."),
                ),
                _ => {
                    let subject = if uid.is_empty() { "incoming leads".to_string() } else { format!("incoming lead {uid}") };
                    io.fail(index, NodeError::api(&format!("{verb} {subject}"), &e))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};

    const UID: &str = "3cd1de2ebf152fd6a465cd3e586cbdba6827aa01";

    fn run(action: Action, items: Vec<Value>) -> (Run, Step) {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut r = Run::new(Driver::new(Box::new(Calls::new(action, account))));
        let s = r.start(items);
        (r, s)
    }

    fn body(s: &Step) -> Value {
        serde_json::from_str(s.requests[0].request.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn accept_posts_the_status_and_user_and_outputs_what_it_became() {
        let (mut r, s) = run(
            Action::Accept,
            vec![json!({"uid": UID, "status": "7000001:61000002", "userId": 8000002})],
        );
        let q = &s.requests[0].request;
        assert_eq!(
            (q.method, q.url.as_str()),
            (
                Method::Post,
                &*format!("https://shop.amocrm.ru/api/v4/leads/unsorted/{UID}/accept")
            )
        );
        assert_eq!(body(&s), json!({"user_id": 8000002, "status_id": 61000002}));
        let answer = json!({"uid": UID, "pipeline_id": 7000001, "category": "forms", "created_at": 1,
                            "_embedded": {"leads": [{"id": 20000301}], "contacts": [{"id": 40000301}], "companies": []}});
        let done = r.reply(s.requests[0].id, crate::http::Response::new(200, answer.to_string()));
        assert_eq!(
            done.emit,
            vec![Emit::Item {
                index: 0,
                json: json!({"uid": UID, "accepted": true, "pipeline_id": 7000001, "category": "forms", "created_at": 1,
                             "lead_id": 20000301, "contact_id": 40000301, "company_id": null})
            }]
        );
        let (_, plain) = run(Action::Accept, vec![json!({"uid": UID})]);
        assert_eq!(body(&plain), json!({}));
    }

    #[test]
    fn accepting_one_already_processed_is_an_item_saying_so_not_an_error() {
        let (mut r, s) = run(Action::Accept, vec![json!({"uid": UID})]);
        let problem = r#"{"validation-errors":[{"request_id":"0","errors":[{"code":"NotAvailableForAction","path":"uid","detail":"The unsorted entity has already been accepted."}]}],"title":"Bad Request","status":400}"#;
        let out = r.status(s.requests[0].id, 400, problem);
        assert_eq!(out.emit.len(), 1);
        let json = out.emit[0].json().unwrap();
        assert_eq!(json["uid"], UID);
        assert_eq!(json["accepted"], false);
        assert!(
            json["reason"].as_str().unwrap().contains("already been accepted"),
            "{json}"
        );
        assert!(out.fatal.is_none());
        // Any other refusal is an error.
        let (mut r, s) = run(Action::Accept, vec![json!({"uid": UID, "status": "99"})]);
        let bad = r#"{"validation-errors":[{"request_id":"0","errors":[{"code":"NotSupportedChoice","path":"status_id","detail":"The value you selected is not a valid choice."}]}]}"#;
        let out = r.status(s.requests[0].id, 400, bad);
        assert!(matches!(&out.emit[0], Emit::Error { error, .. } if error.message.contains("status_id")));
        let (mut r, s) = run(Action::Decline, vec![json!({"uid": UID})]);
        let out = r.status(
            s.requests[0].id,
            404,
            r#"{"title":"Not Found","status":404,"detail":"Unsorted entity not found"}"#,
        );
        assert!(
            matches!(&out.emit[0], Emit::Error { error, .. } if error.message.starts_with(&format!("Declining incoming lead {UID}")))
        );
    }

    #[test]
    fn decline_and_link_send_their_bodies_on_their_own_paths() {
        let (_, s) = run(Action::Decline, vec![json!({"uid": UID, "userId": "8000003"})]);
        let q = &s.requests[0].request;
        assert_eq!(
            (q.method, q.url.as_str()),
            (
                Method::Delete,
                &*format!("https://shop.amocrm.ru/api/v4/leads/unsorted/{UID}/decline")
            )
        );
        assert_eq!(body(&s), json!({"user_id": 8000003}));
        let (mut r, s) = run(
            Action::Link,
            vec![
                json!({"uid": UID, "leadId": {"__rl": true, "mode": "id", "value": "20000005"}, "contactId": 40000001}),
            ],
        );
        assert!(s.requests[0].request.url.ends_with(&format!("{UID}/link")));
        assert_eq!(
            body(&s),
            json!({"link": {"entity_id": 20000005, "entity_type": "leads", "metadata": {"contact_id": 40000001}}})
        );
        let answer = json!({"uid": UID, "_embedded": {"leads": [{"id": 20000005}]}});
        let out = r.reply(s.requests[0].id, crate::http::Response::new(200, answer.to_string()));
        assert_eq!(
            out.emit[0].json().unwrap(),
            json!({"uid": UID, "linked": true, "lead_id": 20000005, "contact_id": null, "company_id": null})
        );
    }

    #[test]
    fn get_outputs_the_record_and_a_204_says_it_is_not_waiting() {
        let (mut r, s) = run(Action::Get, vec![json!({"uid": UID}), json!({"uid": "../leads"})]);
        assert_eq!(s.requests.len(), 1, "a uid that is not one sends nothing");
        assert_eq!(
            s.requests[0].request.url,
            format!("https://shop.amocrm.ru/api/v4/leads/unsorted/{UID}")
        );
        assert!(matches!(&s.emit[0], Emit::Error { index: 1, error } if error.message.contains("Incoming Lead UID")));
        let out = r.status(s.requests[0].id, 204, "");
        assert!(
            matches!(&out.emit[0], Emit::Error { error, .. } if error.message == format!("Incoming lead {UID} not found"))
        );
        let (mut r, s) = run(Action::Get, vec![json!({"uid": UID})]);
        let record = json!({"uid": UID, "category": "sip", "metadata": {"phone": "79000000001"}});
        let out = r.reply(s.requests[0].id, crate::http::Response::new(200, record.to_string()));
        assert_eq!(out.emit[0].json().unwrap(), record);
    }

    #[test]
    fn the_summary_takes_a_creation_range_and_a_pipeline() {
        let (mut r, s) = run(
            Action::Summary,
            vec![
                json!({"filters": {"createdAtFrom": 1700000000, "createdAtTo": "2023-11-15T00:00:00Z", "pipelineId": 7000001}}),
            ],
        );
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads/unsorted/summary?filter[created_at][from]=1700000000&filter[created_at][to]=1700006400&filter[pipeline_id]=7000001"
        );
        let summary = json!({"total": 3, "accepted": 1, "declined": 1, "average_sort_time": 60, "categories": {"forms": {"total": 3}}});
        let out = r.reply(s.requests[0].id, crate::http::Response::new(200, summary.to_string()));
        assert_eq!(out.emit[0].json().unwrap(), summary);
        let (_, s) = run(Action::Summary, vec![json!({})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads/unsorted/summary"
        );
    }
}
