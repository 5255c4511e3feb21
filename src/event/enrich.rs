//! "Fetch Full Records": the records events are about, re-read in API v4
//! shape (the shape the entity nodes return), with one batched list request
//! per entity type (`GET /api/v4/leads?filter[id][0]=…&with=…`, up to 250
//! IDs a request) rather than one request per event.
//!
//! An event names its record in one of two ways:
//!
//! * events of `/api/v4/events`: `entity_type` (`lead`, `contact`, …) and
//!   `entity_id`;
//! * webhook items ([`crate::webhook::payload`]): `entity` and `data.id`
//!   (a delete event names a record that is gone: nothing is read for it).
//!
//! Each event gets `record`: the record as amoCRM returns it (or simplified),
//! or `null` when amoCRM no longer has it. Events about what the entity nodes
//! do not read (talks, incoming leads, catalog elements) get no `record`.
//! *Include* (`with`) values apply to the entity types that take them.

use std::collections::{BTreeMap, HashMap};

use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::ApiError;
use crate::engine::{Io, Operation, Replay, Reply, Tag};
use crate::entity::get::by_ids_path;
use crate::entity::page::read_page;
use crate::entity::simplify::simplify_record;
use crate::entity::{EntityRef, MAX_WRITE_BATCH};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::{InputError, Params};

/// The tag writer number of these reads (they never share an operation with
/// a batched write).
const WRITER: u8 = 200;

/// The entity and record ID an event is about, if one can be read.
pub fn target(event: &Value) -> Option<(EntityRef, u64)> {
    let (noun, id) = if let Some(kind) = event.get("entity_type").and_then(Value::as_str) {
        (kind, event.get("entity_id"))
    } else {
        if event.get("action").and_then(Value::as_str) == Some("delete") {
            return None;
        }
        (
            event.get("entity")?.as_str()?,
            event.get("data").and_then(|d| d.get("id")),
        )
    };
    let id = match id? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some((crate::call::entity_of(noun)?, id))
}

/// Whether an event is about a record the entity nodes read, so that it gets
/// a `record` (null when gone).
fn readable(event: &Value) -> bool {
    let noun = event
        .get("entity_type")
        .or_else(|| event.get("entity"))
        .and_then(Value::as_str)
        .unwrap_or("");
    crate::call::entity_of(noun).is_some()
}

/// The Include and Simplify choices.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub with: Vec<String>,
    pub simplify: bool,
}

impl Options {
    pub fn read(params: Params) -> Result<Options, InputError> {
        Ok(Options {
            with: params
                .strings("with", "Include")?
                .into_iter()
                .map(str::to_string)
                .collect(),
            simplify: params.bool("simplify", "Simplify")?,
        })
    }
}

/// The reads of one batch of events, and what they found.
pub struct Enricher {
    account: AccountAddress,
    options: Options,
    next: u32,
    /// Requests on their way: which entity each reads.
    pending: BTreeMap<u32, EntityRef>,
    /// Records found, by entity noun and ID.
    found: HashMap<(&'static str, u64), Value>,
}

impl Enricher {
    pub fn new(account: AccountAddress, options: Options) -> Enricher {
        Enricher {
            account,
            options,
            next: 0,
            pending: BTreeMap::new(),
            found: HashMap::new(),
        }
    }

    /// Sends the reads the events need: one per entity type (per 250 IDs).
    /// Returns whether any request went out.
    pub fn send<'a>(&mut self, events: impl IntoIterator<Item = &'a Value>, io: &mut Io) -> bool {
        let mut by_entity: BTreeMap<&'static str, (EntityRef, Vec<u64>)> = BTreeMap::new();
        for (entity, id) in events.into_iter().filter_map(target) {
            by_entity
                .entry(entity.noun)
                .or_insert_with(|| (entity.clone(), Vec::new()))
                .1
                .push(id);
        }
        let mut sent = false;
        for (_, (entity, mut ids)) in by_entity {
            ids.sort_unstable();
            ids.dedup();
            let with: Vec<&str> = self
                .options
                .with
                .iter()
                .map(String::as_str)
                .filter(|w| entity.with.contains(w))
                .collect();
            for chunk in ids.chunks(MAX_WRITE_BATCH) {
                let n = self.next;
                self.next += 1;
                let path = by_ids_path(&entity, chunk.iter().copied(), &with);
                self.pending.insert(n, entity.clone());
                io.send(
                    Tag::ReadBack { writer: WRITER, n },
                    Request::get(self.account.url(&path)),
                    Replay::Safe,
                );
                sent = true;
            }
        }
        sent
    }

    /// Whether this reply is one of the enricher's.
    pub fn owns(tag: Tag) -> bool {
        matches!(tag, Tag::ReadBack { writer: WRITER, .. })
    }

    /// A reply to one of the reads. `Err` says which read failed and why.
    pub fn on_reply(&mut self, tag: Tag, reply: Reply) -> Result<(), NodeError> {
        let Tag::ReadBack { n, .. } = tag else { return Ok(()) };
        let Some(entity) = self.pending.remove(&n) else {
            return Ok(());
        };
        let context = format!("Fetching the full {}", entity.nouns);
        let body = match reply {
            Ok(r) if r.status == 204 => return Ok(()),
            Ok(r) => r.body,
            Err(e) => return Err(NodeError::api(&context, &e)),
        };
        let page = read_page::<Box<RawValue>>(&body, entity.embedded).map_err(|e| NodeError::api(&context, &e))?;
        for raw in page.entries {
            let shaped = if self.options.simplify {
                simplify_record(raw.get()).map(|r| r.into_string())
            } else {
                Ok(raw.get().to_string())
            };
            let value: Value = shaped
                .and_then(|text| serde_json::from_str(&text))
                .map_err(|e| NodeError::api(&context, &ApiError::unreadable(200, e.to_string())))?;
            if let Some(id) = value.get("id").and_then(Value::as_u64) {
                self.found.insert((entity.noun, id), value);
            }
        }
        Ok(())
    }

    /// All reads have answered.
    pub fn is_done(&self) -> bool {
        self.pending.is_empty()
    }

    /// `event` with its `record` (`null` when amoCRM no longer has it).
    pub fn attach(&self, mut event: Value) -> Value {
        if !readable(&event) {
            return event;
        }
        let record = target(&event)
            .and_then(|(entity, id)| self.found.get(&(entity.noun, id)).cloned())
            .unwrap_or(Value::Null);
        if let Value::Object(map) = &mut event {
            map.insert("record".into(), record);
        }
        event
    }
}

/// The `enrich` operation: one item `{events: [...], with, simplify}` → each
/// event with its `record`, in order. A read that fails leaves the events of
/// its entity with `record: null` and a `record_error` saying why: the events
/// themselves are never lost (a webhook delivery cannot be asked for again).
pub struct EnrichEvents {
    enricher: Enricher,
    events: Vec<Value>,
    errors: Vec<(&'static str, String)>,
}

impl EnrichEvents {
    pub fn new(account: AccountAddress) -> EnrichEvents {
        EnrichEvents {
            enricher: Enricher::new(account, Options::default()),
            events: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn finish(&mut self, io: &mut Io) {
        for event in std::mem::take(&mut self.events) {
            let mut event = self.enricher.attach(event);
            let failed = target(&event)
                .and_then(|(entity, _)| self.errors.iter().find(|(noun, _)| *noun == entity.noun))
                .map(|(_, message)| message.clone());
            if let (Some(message), Value::Object(map)) = (failed, &mut event) {
                map.insert("record_error".into(), json!(message));
            }
            io.emit(0, event);
        }
    }
}

impl Operation for EnrichEvents {
    fn on_items(&mut self, _first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let Some(item) = items.into_iter().next() else { return };
        let params = Params::new(&item);
        match Options::read(params) {
            Ok(options) => self.enricher.options = options,
            Err(e) => return io.fail(0, NodeError::input(0, &e)),
        }
        self.events = match item.get("events") {
            Some(Value::Array(list)) => list.clone(),
            _ => Vec::new(),
        };
        if !self.enricher.send(self.events.iter(), io) {
            self.finish(io);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let entity = match tag {
            Tag::ReadBack { n, .. } => self.enricher.pending.get(&n).map(|e| e.noun),
            _ => None,
        };
        if let Err(e) = self.enricher.on_reply(tag, reply) {
            if let Some(noun) = entity {
                self.errors.push((noun, e.message));
            }
        }
        if self.enricher.is_done() {
            self.finish(io);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::Driver;
    use crate::http::Response;

    fn run(item: Value) -> Run {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut r = Run::new(Driver::new(Box::new(EnrichEvents::new(account))));
        r.now_ms = 0.0;
        let _ = item;
        r
    }

    fn webhook_event(action: &str, entity: &str, id: u64) -> Value {
        json!({"event": format!("{action}_{entity}"), "entity": entity, "action": action, "data": {"id": id}, "account": {}})
    }

    #[test]
    fn fifty_lead_events_are_one_request_and_each_gets_its_record() {
        let events: Vec<Value> = (1..=50)
            .map(|i| webhook_event("update", "lead", 20_000_000 + (i % 25)))
            .collect();
        let item = json!({"events": events, "with": ["contacts", "leads"]});
        let mut r = run(item.clone());
        let s = r.start(vec![item]);
        assert_eq!(s.requests.len(), 1);
        let url = &s.requests[0].request.url;
        assert!(
            url.starts_with("https://shop.amocrm.ru/api/v4/leads?filter[id][0]=20000000&"),
            "{url}"
        );
        assert!(
            url.ends_with("&filter[id][24]=20000024&with=contacts&limit=250"),
            "{url}"
        );
        let leads: Vec<Value> = (0..25)
            .map(|i| json!({"id": 20_000_000 + i, "name": format!("L{i}"), "_embedded": {"tags": []}}))
            .collect();
        let body = json!({"_embedded": {"leads": leads}}).to_string();
        let s = r.reply(s.requests[0].id, Response::new(200, body));
        assert!(s.done);
        assert_eq!(s.emit.len(), 50);
        let first = s.emit[0].json().unwrap();
        assert_eq!(first["record"]["name"], "L1");
        assert_eq!(first["data"]["id"], 20_000_001);
    }

    #[test]
    fn each_entity_type_is_one_request_and_gone_records_are_null() {
        let events = vec![
            webhook_event("add", "lead", 1),
            webhook_event("add", "contact", 2),
            webhook_event("delete", "company", 3),
            webhook_event("add", "talk", 4),
            json!({"id": "01abc", "type": "task_added", "entity_type": "task", "entity_id": 5, "created_at": 1}),
        ];
        let item = json!({"events": events, "simplify": true});
        let mut r = run(item.clone());
        let s = r.start(vec![item]);
        let urls: Vec<&str> = s.requests.iter().map(|q| q.request.url.as_str()).collect();
        assert_eq!(urls.len(), 3, "{urls:?}");
        let mut last = None;
        for q in &s.requests {
            let reply = if q.request.url.contains("/leads?") {
                Response::new(
                    200,
                    json!({"_embedded": {"leads": [{"id": 1, "custom_fields_values": null}]}}).to_string(),
                )
            } else if q.request.url.contains("/tasks?") {
                Response::new(500, "<html>")
            } else {
                Response::new(204, "")
            };
            last = Some(r.reply(q.id, reply));
        }
        // The task read is retried after its 500; answer the retry too.
        let mut s = last.unwrap();
        while !s.done {
            let q = s.requests[0].clone();
            s = r.reply(q.id, Response::new(500, "<html>"));
        }
        let out: Vec<Value> = s.emit.iter().map(|e| e.json().unwrap()).collect();
        assert_eq!(
            out[0]["record"],
            json!({"id": 1, "custom_fields": {}, "tags": [], "companies": []})
        );
        assert_eq!(out[1]["record"], Value::Null);
        assert_eq!(out[2]["record"], Value::Null, "a deleted company has no record");
        assert!(out[3].get("record").is_none(), "talks are not read");
        assert_eq!(out[4]["record"], Value::Null);
        assert!(out[4]["record_error"]
            .as_str()
            .unwrap()
            .contains("Fetching the full tasks"));
    }

    #[test]
    fn no_readable_event_means_no_request() {
        let item = json!({"events": [webhook_event("add", "talk", 1)]});
        let mut r = run(item.clone());
        let s = r.start(vec![item]);
        assert!(s.requests.is_empty() && s.done);
        assert_eq!(s.emit.len(), 1);
    }
}
