//! One request per input item, its answer shaped into output items: the
//! account's settings, a talk, a salesbot run, a webhook subscription, a
//! single-record update or delete where amoCRM takes no batches.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::api_error::{parse_json, ApiError, ApiErrorKind};
use crate::engine::{live_items, Io, Operation, Replay, Reply, Tag};
use crate::error::{ErrorKind, NodeError};
use crate::http::{Request, Response};
use crate::input::{InputError, Params};

/// What varies between per-item calls.
pub trait ItemCall {
    /// The item's request, checked before anything is sent.
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError>;
    /// What the answer becomes: output items, or the item's error.
    fn reply(&self, params: Params, reply: Reply) -> Result<Vec<Value>, NodeError>;
    /// Whether the call changes amoCRM (the IDs it answers are reported as
    /// written when the node stops on an error).
    fn writes(&self) -> bool {
        false
    }
}

pub struct PerItem<C: ItemCall> {
    call: C,
    sent: HashMap<usize, Value>,
}

impl<C: ItemCall> PerItem<C> {
    pub fn new(call: C) -> PerItem<C> {
        PerItem {
            call,
            sent: HashMap::new(),
        }
    }
}

impl<C: ItemCall> Operation for PerItem<C> {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        // The whole chunk is checked before the first request goes out.
        let mut requests = Vec::new();
        for (index, item) in live_items(first, &items) {
            match self.call.request(Params::new(item)) {
                Ok(r) => {
                    self.sent.insert(index, item.clone());
                    requests.push((index, r));
                }
                Err(e) => io.fail(index, NodeError::input(index, &e)),
            }
        }
        for (index, (request, replay)) in requests {
            io.send(Tag::Item(index), request, replay);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let Tag::Item(index) = tag else { return };
        let Some(params) = self.sent.remove(&index) else { return };
        match self.call.reply(Params::new(&params), reply) {
            Ok(items) => {
                for item in items {
                    if self.call.writes() {
                        if let Some(id) = item.get("id").and_then(Value::as_u64) {
                            io.written(index, id);
                        }
                    }
                    io.emit(index, item);
                }
            }
            Err(e) => io.fail(index, e.about_item(index, ": ")),
        }
    }
}

/// A JSON answer as output items: an object as one, a list as one each,
/// 204 or an empty body as none.
pub fn answer_items(response: &Response, context: &str) -> Result<Vec<Value>, NodeError> {
    if response.status == 204 || response.body.trim().is_empty() {
        return Ok(Vec::new());
    }
    match parse_json(response).map_err(|e| NodeError::api(context, &e))? {
        Value::Array(items) => Ok(items),
        v => Ok(vec![v]),
    }
}

/// `{"id", "deleted": true}` for a delete amoCRM answered with 2xx; a 404
/// or a 204 on a record that is not there says which.
pub fn deleted(id: &Value, label: &str, noun: &str, reply: Reply) -> Result<Vec<Value>, NodeError> {
    match reply {
        Ok(_) => Ok(vec![json!({ "id": id, "deleted": true })]),
        Err(e) if e.kind == ApiErrorKind::NotFound => Err(not_found(label, noun, id, 404)),
        Err(e) => Err(NodeError::api(&format!("Deleting {noun} {}", plain(id)), &e)),
    }
}

/// "Pipeline 7 not found", for a 204 or 404 on a record the item names.
pub fn not_found(label: &str, noun: &str, id: &Value, status: u16) -> NodeError {
    NodeError::new(ErrorKind::Api, format!("{label} {} not found", plain(id))).with_description(format!(
        "amoCRM has no {noun} with this ID in the account (it answered {status}). Check the ID, or whether the {noun} was deleted."
    ))
}

/// An ID as it reads in a message (no quotes around strings).
pub fn plain(id: &Value) -> String {
    id.as_str().map_or_else(|| id.to_string(), str::to_string)
}

/// The answer to a read of one record: its JSON, or "not found" for 204.
pub fn one_record(label: &str, noun: &str, id: &Value, reply: Reply) -> Result<Vec<Value>, NodeError> {
    match reply {
        Ok(r) if r.status == 204 => Err(not_found(label, noun, id, 204)),
        Ok(r) => answer_items(&r, &format!("Getting {noun} {}", plain(id))),
        Err(e) if e.kind == ApiErrorKind::NotFound => Err(not_found(label, noun, id, 404)),
        Err(e) => Err(NodeError::api(&format!("Getting {noun} {}", plain(id)), &e)),
    }
}

/// A write's answer: its JSON, or `{"done": true}` for an empty one.
pub fn written(context: &str, reply: Reply) -> Result<Vec<Value>, NodeError> {
    match reply {
        Ok(r) => {
            let items = answer_items(&r, context)?;
            Ok(if items.is_empty() {
                vec![json!({ "done": true })]
            } else {
                items
            })
        }
        Err(e) => Err(NodeError::api(context, &e)),
    }
}

/// An API error for a call the item made.
pub fn api(context: &str, e: &ApiError) -> NodeError {
    NodeError::api(context, e)
}
