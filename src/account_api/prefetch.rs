//! Checking items against the account before anything is sent: one read of
//! what amoCRM's rules depend on (the pipelines and their statuses, say),
//! then each item is checked and only those that pass go on to the inner
//! operation. A rule broken is an error naming the item and the field, and
//! no request for it ever leaves.

use serde_json::Value;

use crate::api_error::parse_json;
use crate::engine::{live_items, Io, Operation, Replay, Reply, Tag};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::{InputError, Params};

/// Checks one item against the snapshot; may count what earlier items of
/// the run will add (the 50th pipeline).
pub type Check = Box<dyn FnMut(&Value, Params) -> Result<(), InputError>>;

pub struct Prefetch {
    url: String,
    what: &'static str,
    check: Check,
    inner: Box<dyn Operation>,
    snapshot: Option<Value>,
    failed: Option<NodeError>,
    requested: bool,
    waiting: Vec<(usize, Vec<Value>, bool)>,
}

impl Prefetch {
    /// Reads `url` (a JSON answer; 204 reads as `null`) first; `what` names
    /// it in the error when the read fails.
    pub fn new(url: String, what: &'static str, check: Check, inner: Box<dyn Operation>) -> Prefetch {
        Prefetch {
            url,
            what,
            check,
            inner,
            snapshot: None,
            failed: None,
            requested: false,
            waiting: Vec::new(),
        }
    }

    fn pass(&mut self, first: usize, mut items: Vec<Value>, last: bool, io: &mut Io) {
        let snapshot = self.snapshot.as_ref().unwrap_or(&Value::Null);
        let mut failed = Vec::new();
        for (index, item) in live_items(first, &items) {
            if let Some(e) = &self.failed {
                failed.push((index, e.clone()));
            } else if let Err(e) = (self.check)(snapshot, Params::new(item)) {
                failed.push((index, NodeError::input(index, &e)));
            }
        }
        for (index, e) in failed {
            io.fail(index, e);
            items[index - first] = Value::Null;
        }
        self.inner.on_items(first, items, last, io);
    }
}

impl Operation for Prefetch {
    fn on_items(&mut self, first: usize, items: Vec<Value>, last: bool, io: &mut Io) {
        if self.snapshot.is_some() || self.failed.is_some() {
            return self.pass(first, items, last, io);
        }
        self.waiting.push((first, items, last));
        if !self.requested {
            self.requested = true;
            io.send(Tag::Prefetch, Request::get(self.url.clone()), Replay::Safe);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        if tag != Tag::Prefetch {
            return self.inner.on_reply(tag, reply, io);
        }
        let read = match reply {
            Ok(r) if r.status == 204 || r.body.trim().is_empty() => Ok(Value::Null),
            Ok(r) => parse_json(&r),
            Err(e) => Err(e),
        };
        match read {
            Ok(v) => self.snapshot = Some(v),
            Err(e) => self.failed = Some(NodeError::api(&format!("Reading {}", self.what), &e)),
        }
        for (first, items, last) in std::mem::take(&mut self.waiting) {
            self.pass(first, items, last, io);
        }
    }
}
