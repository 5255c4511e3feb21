//! Calls (D:calls-api): call logs added in batches, `POST /api/v4/calls`.
//! amoCRM files each call on the contact or company whose phone ends in the
//! same 10 digits (or on its one open lead or customer) and adds nothing
//! for a phone it cannot match. Matched calls come back under
//! `_embedded.calls` with their `request_id`; the others are reported per
//! item, naming the phone. How amoCRM lists the unmatched ones is
//! UNVERIFIED beyond php#52 (a batch with no match answers 400 with
//! `{"_total_items":0,"errors":[{"title":"Entity not found",…}]}`): this
//! reads an `errors` entry with a `request_id` as that item's refusal, the
//! way the official PHP client pairs answers with calls (Calls.php), and a
//! 400 without validation errors as "no call of the batch matched".

use serde_json::{Map, Value};

use crate::api_error::{ApiError, ApiErrorKind};
use crate::entity::batch::{embedded_results, BatchKind};
use crate::entity::fields::FieldSet;
use crate::entity::record::{record_body, FieldSpec, Kind, Mode, CREATED_AT, CREATED_BY, RESPONSIBLE_USER};
use crate::entity::{Entity, Features, Rules};
use crate::error::{ErrorKind, NodeError};
use crate::http::Method;
use crate::input::{InputError, Params};

pub const CALLS_PATH: &str = "/api/v4/calls";

pub const CALL_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("direction", "direction", "Direction", Kind::Text).primary(),
    FieldSpec::new("phone", "phone", "Phone", Kind::Text).primary(),
    FieldSpec::new("duration", "duration", "Duration (Seconds)", Kind::Whole { min: 0 }).primary(),
    FieldSpec::new("source", "source", "Source", Kind::Text).primary(),
    FieldSpec::new("uniq", "uniq", "Unique ID", Kind::Text),
    FieldSpec::new("link", "link", "Recording URL", Kind::Text),
    FieldSpec::new("call_responsible", "callResponsible", "Call Responsible", Kind::Text),
    FieldSpec::new("call_result", "callResult", "Call Result", Kind::Text),
    FieldSpec::new("call_status", "callStatus", "Call Status", Kind::Whole { min: 1 }),
    RESPONSIBLE_USER,
    CREATED_BY,
    CREATED_AT,
];

pub struct CallRules;

impl Rules for CallRules {
    fn check(&self, body: &Map<String, Value>, _: Mode) -> Result<(), InputError> {
        match body.get("direction").and_then(Value::as_str) {
            Some("inbound" | "outbound") => {}
            other => {
                return Err(InputError::new(
                    "Direction",
                    format!("\"{}\" is not inbound or outbound", other.unwrap_or_default()),
                ))
            }
        }
        for (key, label) in [("phone", "Phone"), ("source", "Source")] {
            if !body.contains_key(key) {
                return Err(InputError::new(label, "is empty; amoCRM requires it"));
            }
        }
        if !body.contains_key("duration") {
            return Err(InputError::new("Duration (Seconds)", "is empty; amoCRM requires it"));
        }
        if let Some(s) = body.get("call_status").and_then(Value::as_i64) {
            if !(1..=7).contains(&s) {
                return Err(InputError::new(
                    "Additional Fields › Call Status",
                    format!("{s} is not one of amoCRM's call statuses 1 to 7"),
                ));
            }
        }
        Ok(())
    }
}

pub static CALLS: Entity = Entity {
    noun: "call",
    nouns: "calls",
    label: "Call",
    path: std::borrow::Cow::Borrowed(CALLS_PATH),
    embedded: "calls",
    entity_type: "calls",
    card: None,
    id_param: "callId",
    with: &[],
    with_list_only: &[],
    order: &[],
    filters: &[],
    fields: CALL_FIELDS,
    read_only: &[],
    fields_path: std::borrow::Cow::Borrowed(CALLS_PATH),
    max_batch: crate::entity::MAX_WRITE_BATCH,
    multitext: false,
    features: Features::NONE,
    rules: &CallRules,
};

pub struct AddCalls;

impl BatchKind for AddCalls {
    fn nouns(&self) -> (&'static str, &'static str) {
        ("call", "calls")
    }
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &str {
        CALLS_PATH
    }
    fn unsafe_to_repeat(&self) -> bool {
        true
    }
    fn body(&self, params: Params, _: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        record_body(&CALLS, params, Mode::Create, None)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, "calls")
    }
    fn refused(&self, answer: &Value) -> Vec<(String, String)> {
        answer["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let id = match &e["request_id"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                let why = e["title"]
                    .as_str()
                    .or(e["detail"].as_str())
                    .unwrap_or("Entity not found");
                Some((id, why.to_string()))
            })
            .collect()
    }
    fn refused_all(&self, error: &ApiError) -> Option<String> {
        (error.kind == ApiErrorKind::BadRequest)
            .then(|| error.detail.clone().unwrap_or_else(|| "Entity not found".into()))
    }
    fn refusal(&self, _index: usize, body: &Map<String, Value>, why: &str) -> NodeError {
        let phone = body.get("phone").and_then(Value::as_str).unwrap_or("?");
        NodeError::new(ErrorKind::Api, format!("No contact or company has the phone {phone}: the call was not added"))
            .with_description(format!(
                "amoCRM matches a call to the contact or company whose phone ends in the same 10 digits, and adds nothing when none does ({why}). Create the contact first, or add the call as an incoming lead instead."
            ))
    }
}
