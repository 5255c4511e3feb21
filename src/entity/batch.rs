//! Writing many items in as few requests as amoCRM allows.
//!
//! Items become bodies tagged with `request_id` = their item index, bodies go
//! out in batches, and amoCRM's answer is paired back to items through the
//! echoed `request_id`.
//!
//! amoCRM writes a batch whole or not at all. A 400 with `validation-errors`
//! means nothing of the batch was written: the items amoCRM names get its
//! complaint, and, when the node continues on failures, the others go out
//! again in a new batch, so one bad item never fails its neighbours. A batch
//! amoCRM refuses as too large was not written either: it is split in two and
//! sent again. Creates are never resent after a 5xx or a broken connection
//! (see [`crate::engine::retry`]); their items get an error saying they may
//! exist.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::account::AccountAddress;
use crate::api_error::{parse_json, ApiError, ApiErrorKind, ValidationEntry};
use crate::engine::driver::index_ranges;
use crate::engine::{live_items, Io, Operation, RawJson, Replay, Reply, Tag};
use crate::entity::field_loader::{FieldLoader, Loaded};
use crate::entity::fields::FieldSet;
use crate::entity::{EntityRef, DEFAULT_WRITE_BATCH, MAX_WRITE_BATCH};
use crate::error::{ErrorKind, NodeError};
use crate::http::{Method, Request};
use crate::input::{InputError, Params};

/// What varies between the batched writes (create, update, complex create,
/// notes, …).
pub trait BatchKind {
    /// Singular and plural nouns for messages ("lead", "leads").
    fn nouns(&self) -> (&'static str, &'static str);
    fn method(&self) -> Method;
    fn path(&self) -> &str;
    /// The batch size when the node's option is not set.
    fn default_batch(&self) -> usize {
        DEFAULT_WRITE_BATCH
    }
    /// The largest batch the node's option may ask for.
    fn max_batch(&self) -> usize {
        MAX_WRITE_BATCH
    }
    /// Whether repeating a request could duplicate what it writes.
    fn unsafe_to_repeat(&self) -> bool;
    /// The entity whose custom fields the bodies may use.
    fn fields_of(&self) -> Option<EntityRef> {
        None
    }
    /// Whether this item needs the account's custom field definitions.
    fn needs_fields(&self, _params: Params) -> bool {
        false
    }
    /// The item's body, without `request_id` (added by the batcher).
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError>;
    /// Items with the same key never share a batch (updates of one record).
    fn key(&self, _body: &Map<String, Value>) -> Option<String> {
        None
    }
    /// The path this item is written to when it is not [`BatchKind::path`]
    /// (a customer's transactions go to that customer's path); items of
    /// different paths never share a batch.
    fn item_path(&self, _params: Params) -> Result<Option<String>, InputError> {
        Ok(None)
    }
    /// The record whose current state this body depends on (adding a phone to
    /// those a contact has): such items wait until the batcher has read
    /// their records, one read per batch, then [`BatchKind::amend`] them.
    fn current_of(&self, _params: Params, _body: &Map<String, Value>, _fields: Option<&FieldSet>) -> Option<u64> {
        None
    }
    /// The entity whose records a batch writes, to read them back for the
    /// output (amoCRM's write answers carry only IDs); `None` outputs the
    /// answer as it is.
    fn reads_back(&self) -> Option<EntityRef> {
        None
    }
    /// Completes a body with its record as amoCRM has it now.
    fn amend(
        &self,
        _params: Params,
        _body: &mut Map<String, Value>,
        _current: &Value,
        _fields: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        Ok(())
    }
    /// `(request_id, output item)` for each result in a success answer.
    fn results(&self, answer: &Value) -> Vec<(String, Value)>;
    /// The ID of the record an output item wrote, reported as written (an
    /// incoming lead names its lead).
    fn written_id(&self, item: &Value) -> Option<u64> {
        item.get("id").and_then(Value::as_u64)
    }
    /// Items a success answer reports as not written, `(request_id, why)`
    /// (calls amoCRM matched to no contact).
    fn refused(&self, _answer: &Value) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Why every item of a failed batch was refused, when the error says
    /// so (no call of the batch matched a contact).
    fn refused_all(&self, _error: &ApiError) -> Option<String> {
        None
    }
    /// The error of a refused item, from the body it was sent with.
    fn refusal(&self, _index: usize, _body: &Map<String, Value>, why: &str) -> NodeError {
        NodeError::new(ErrorKind::Api, why.to_string())
    }
    /// The `request_id` sent for item `index` (complex creates echo it as a list).
    fn request_id(&self, index: usize) -> Value {
        Value::String(index.to_string())
    }
}

/// The node's "Batch Size" option, checked against the kind's limit.
pub fn batch_size(params: Params, default: usize, max: usize) -> Result<usize, InputError> {
    let label = "Options › Batch Size";
    match params.object("options").whole("batchSize", label, 1)? {
        None => Ok(default.min(max)),
        Some(n) if n as usize <= max => Ok(n as usize),
        Some(n) => Err(InputError::new(
            label,
            format!("{n} is more than this node sends per request ({max})"),
        )),
    }
}

/// `(request_id, item)` for each `_embedded.<key>` entry of a write answer,
/// without the `request_id`, which only pairs answers with items.
pub fn embedded_results(answer: &Value, key: &str) -> Vec<(String, Value)> {
    answer["_embedded"][key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(result_entry)
        .collect()
}

/// An answer entry without its `request_id`, which is returned beside it.
pub fn result_entry(entry: &Value) -> Option<(String, Value)> {
    let mut item = entry.as_object()?.clone();
    let request_id = match item.remove("request_id")? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Array(ids) => match ids.first()? {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        _ => return None,
    };
    Some((request_id, Value::Object(item)))
}

/// The batch writer. One type for every kind of write (the kind is a trait
/// object), so that the .wasm holds one copy of this machinery.
pub struct Batcher {
    kind: Box<dyn BatchKind>,
    account: AccountAddress,
    /// The batch size, from the first item's options.
    batch: Option<usize>,
    loader: Option<Box<FieldLoader>>,
    fields: Option<Rc<FieldSet>>,
    /// Items waiting for the field definitions, in order.
    waiting: Vec<(usize, Value)>,
    /// Bodies built and not yet sent (a partial batch waits for more items).
    ready: Vec<usize>,
    bodies: HashMap<usize, Map<String, Value>>,
    /// Each item's own path, for kinds that have one ([`BatchKind::item_path`]).
    paths: HashMap<usize, String>,
    batches: BTreeMap<u32, Vec<usize>>,
    next_batch: u32,
    input_complete: bool,
    /// Tells this batcher's requests from another's in the same operation.
    writer: u8,
    /// Output the written records as amoCRM has them (one read per batch),
    /// rather than its write answers.
    read_back: bool,
    /// Read-backs under way: each item's index, record ID and write answer.
    read_backs: BTreeMap<u32, Vec<(usize, u64, Value)>>,
    /// Records the caller has already read, by ID: no read before writing.
    known: HashMap<u64, Value>,
    /// Items whose records must be read first: `(index, item, record id)`.
    unread: Vec<(usize, Value, u64)>,
    /// Reads under way: their items.
    reads: BTreeMap<u32, Vec<(usize, Value, u64)>>,
    next_read: u32,
}

impl Batcher {
    pub fn new(kind: impl BatchKind + 'static, account: AccountAddress) -> Batcher {
        Batcher {
            kind: Box::new(kind),
            account,
            batch: None,
            loader: None,
            fields: None,
            waiting: Vec::new(),
            ready: Vec::new(),
            bodies: HashMap::new(),
            paths: HashMap::new(),
            batches: BTreeMap::new(),
            next_batch: 0,
            input_complete: false,
            unread: Vec::new(),
            reads: BTreeMap::new(),
            next_read: 0,
            writer: 0,
            read_back: true,
            read_backs: BTreeMap::new(),
            known: HashMap::new(),
        }
    }

    /// Records as amoCRM has them now, which bodies may depend on.
    pub fn with_known(mut self, records: impl IntoIterator<Item = (u64, Value)>) -> Batcher {
        self.known.extend(records);
        self
    }

    /// Numbers this batcher's requests apart from another's.
    pub fn writer(mut self, writer: u8) -> Batcher {
        self.writer = writer;
        self
    }

    /// Field definitions the caller has already loaded.
    pub fn with_fields(mut self, fields: Rc<FieldSet>) -> Batcher {
        self.fields = Some(fields);
        self
    }

    fn build(&mut self, index: usize, item: &Value, io: &mut Io) {
        let params = Params::new(item);
        match self.body_and_path(index, params) {
            Ok(mut body) => {
                if let Some(id) = self.kind.current_of(params, &body, self.fields.as_deref()) {
                    let Some(current) = self.known.get(&id) else {
                        self.unread.push((index, item.clone(), id));
                        return;
                    };
                    if let Err(e) = self.kind.amend(params, &mut body, current, self.fields.as_deref()) {
                        return io.fail(index, NodeError::input(index, &e));
                    }
                }
                body.insert("request_id".into(), self.kind.request_id(index));
                self.bodies.insert(index, body);
                self.ready.push(index);
            }
            Err(e) => io.fail(index, NodeError::input(index, &e)),
        }
    }

    /// The item's body, its own path noted when it has one.
    fn body_and_path(&mut self, index: usize, params: Params) -> Result<Map<String, Value>, InputError> {
        let body = self.kind.body(params, self.fields.as_deref())?;
        if let Some(path) = self.kind.item_path(params)? {
            self.paths.insert(index, path);
        }
        Ok(body)
    }

    /// Reads the records the waiting items depend on, a batch at a time.
    fn read_current(&mut self, io: &mut Io) {
        let size = self.batch.unwrap_or(DEFAULT_WRITE_BATCH).min(MAX_WRITE_BATCH);
        while self.unread.len() >= size || (self.input_complete && !self.unread.is_empty()) {
            let take = self.unread.len().min(size);
            let group: Vec<(usize, Value, u64)> = self.unread.drain(..take).collect();
            let Some(entity) = self.kind.fields_of() else { return };
            let path = crate::entity::get::by_ids_path(&entity, group.iter().map(|g| g.2), &[]);
            let tag = self.next_read;
            self.next_read += 1;
            self.reads.insert(tag, group);
            io.send(
                Tag::Current {
                    writer: self.writer,
                    n: tag,
                },
                Request::get(self.account.url(&path)),
                Replay::Safe,
            );
        }
    }

    fn on_current(&mut self, tag: u32, reply: Reply, io: &mut Io) {
        let Some(group) = self.reads.remove(&tag) else { return };
        let (one, many) = self.kind.nouns();
        let records = match reply {
            Ok(r) if r.status == 204 => Ok(Vec::new()),
            Ok(r) => {
                let key = self.kind.fields_of().map_or(many, |e| e.embedded);
                crate::entity::page::read_page::<Value>(&r.body, key).map(|p| p.entries)
            }
            Err(e) => Err(e),
        };
        let records = match records {
            Ok(records) => records,
            Err(e) => {
                let error = NodeError::api(&format!("Reading the {many} to update"), &e);
                for (index, _, _) in group {
                    io.fail(index, error.clone());
                }
                return;
            }
        };
        for (index, item, id) in group {
            let params = Params::new(&item);
            let Some(current) = records.iter().find(|r| r["id"].as_u64() == Some(id)) else {
                io.fail(
                    index,
                    NodeError::new(ErrorKind::Api, format!("{one} {id} not found"))
                        .with_description(format!("amoCRM has no {one} with this ID in the account. Check the ID, or whether the {one} was deleted."))
                        .about_item(index, ": "),
                );
                continue;
            };
            let built = self.body_and_path(index, params).and_then(|mut body| {
                self.kind.amend(params, &mut body, current, self.fields.as_deref())?;
                Ok(body)
            });
            match built {
                Ok(mut body) => {
                    body.insert("request_id".into(), self.kind.request_id(index));
                    self.bodies.insert(index, body);
                    self.ready.push(index);
                }
                Err(e) => io.fail(index, NodeError::input(index, &e)),
            }
        }
        self.ready.sort_unstable();
        self.flush(io);
    }

    /// Sends the bodies that make full batches, and the rest once the input
    /// is complete and no record is still being read.
    fn flush(&mut self, io: &mut Io) {
        self.read_current(io);
        let size = self.batch.unwrap_or(DEFAULT_WRITE_BATCH);
        let ready = std::mem::take(&mut self.ready);
        let all = self.input_complete && self.unread.is_empty() && self.reads.is_empty();
        let (groups, rest) = self.group(ready, size, all);
        self.ready = rest;
        for group in groups {
            self.send_batch(group, io);
        }
    }

    /// Groups `indexes` into batches of at most `size`, keeping items with
    /// the same key apart. Unless `all`, only full batches are made and the
    /// rest is returned to wait for more items.
    fn group(&self, indexes: Vec<usize>, size: usize, all: bool) -> (Vec<Vec<usize>>, Vec<usize>) {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut keys_in: Vec<Vec<String>> = Vec::new();
        for index in indexes {
            let key = self.kind.key(&self.bodies[&index]);
            let slot = groups.iter().zip(&keys_in).position(|(g, keys)| {
                g.len() < size
                    && key.as_ref().is_none_or(|k| !keys.contains(k))
                    && self.paths.get(&g[0]) == self.paths.get(&index)
            });
            let slot = slot.unwrap_or_else(|| {
                groups.push(Vec::new());
                keys_in.push(Vec::new());
                groups.len() - 1
            });
            groups[slot].push(index);
            if let Some(k) = key {
                keys_in[slot].push(k);
            }
        }
        if all {
            return (groups, Vec::new());
        }
        let (full, partial): (Vec<_>, Vec<_>) = groups.into_iter().partition(|g| g.len() >= size);
        let mut rest: Vec<usize> = partial.into_iter().flatten().collect();
        rest.sort_unstable();
        (full, rest)
    }

    fn send_batch(&mut self, group: Vec<usize>, io: &mut Io) {
        let (one, many) = self.kind.nouns();
        let bodies: Vec<Value> = group.iter().map(|i| Value::Object(self.bodies[i].clone())).collect();
        let replay = if self.kind.unsafe_to_repeat() {
            let noun = if group.len() == 1 { one } else { many };
            Replay::Unsafe(format!(
                "writes {} {noun} (items {})",
                group.len(),
                index_ranges(&group)
            ))
        } else {
            Replay::Safe
        };
        let path = self.paths.get(&group[0]).map_or(self.kind.path(), String::as_str);
        let request = Request::new(self.kind.method(), self.account.url(path)).json(&Value::Array(bodies));
        let tag = self.next_batch;
        self.next_batch += 1;
        self.batches.insert(tag, group);
        io.send(
            Tag::Batch {
                writer: self.writer,
                n: tag,
            },
            request,
            replay,
        );
    }

    fn on_batch_reply(&mut self, group: Vec<usize>, reply: Reply, io: &mut Io) {
        let (one, many) = self.kind.nouns();
        let context = if group.len() == 1 {
            format!("Writing the {one}")
        } else {
            format!("Writing {} {many}", group.len())
        };
        if let Err(e) = &reply {
            if let Some(why) = self.kind.refused_all(e) {
                for index in group {
                    self.paths.remove(&index);
                    let body = self.bodies.remove(&index).unwrap_or_default();
                    io.fail(index, self.kind.refusal(index, &body, &why));
                }
                return;
            }
        }
        match reply {
            Ok(r) => match parse_json(&r) {
                Ok(answer) => {
                    let mut results: HashMap<String, Value> = self.kind.results(&answer).into_iter().collect();
                    let refused: HashMap<String, String> = self.kind.refused(&answer).into_iter().collect();
                    let mut to_read = Vec::new();
                    for index in group {
                        let body = self.bodies.remove(&index).unwrap_or_default();
                        if let Some(why) = refused.get(&index.to_string()) {
                            self.paths.remove(&index);
                            io.fail(index, self.kind.refusal(index, &body, why));
                            continue;
                        }
                        self.paths.remove(&index);
                        match results.remove(&index.to_string()) {
                            Some(item) => match self.kind.written_id(&item) {
                                Some(id) => {
                                    io.written(index, id);
                                    to_read.push((index, id, item));
                                }
                                None => io.emit(index, item),
                            },
                            None => io.fail(
                                index,
                                NodeError::new(ErrorKind::Api, format!("amoCRM's answer did not mention item {index}; check in amoCRM whether the {one} was written")),
                            ),
                        }
                    }
                    self.read_back_or_emit(to_read, io);
                }
                Err(e) => self.fail_all(group, NodeError::api(&context, &e), io),
            },
            Err(e) if e.kind == ApiErrorKind::Validation => self.on_validation(group, e, &context, io),
            // Refused before anything was written: the halves go out again.
            Err(e) if e.kind == ApiErrorKind::TooLarge && group.len() > 1 => {
                let half = group.len().div_ceil(2);
                self.batch = Some(half.max(1));
                let (a, b) = group.split_at(half);
                self.send_batch(a.to_vec(), io);
                self.send_batch(b.to_vec(), io);
            }
            Err(e) => self.fail_all(group, NodeError::api(&context, &e), io),
        }
    }

    /// Reads the written records back for the output, or emits the write
    /// answers when the node asked for IDs only.
    fn read_back_or_emit(&mut self, written: Vec<(usize, u64, Value)>, io: &mut Io) {
        // An answer that already is the whole record (catalogs and their
        // elements answer with full models, `created_at` included) needs no
        // read; amoCRM's usual answers carry the ID and little else.
        let (whole, written): (Vec<_>, Vec<_>) = written
            .into_iter()
            .partition(|(_, _, item)| item.get("created_at").is_some());
        for (index, _, item) in whole {
            io.emit(index, item);
        }
        let entity = match self.kind.reads_back() {
            Some(entity) if self.read_back && !written.is_empty() => entity,
            _ => {
                for (index, _, item) in written {
                    io.emit(index, item);
                }
                return;
            }
        };
        let path = crate::entity::get::by_ids_path(&entity, written.iter().map(|w| w.1), &[]);
        let n = self.next_read;
        self.next_read += 1;
        self.read_backs.insert(n, written);
        io.send(
            Tag::ReadBack { writer: self.writer, n },
            Request::get(self.account.url(&path)),
            Replay::Safe,
        );
    }

    fn on_read_back(&mut self, n: u32, reply: Reply, io: &mut Io) {
        let Some(written) = self.read_backs.remove(&n) else {
            return;
        };
        let key = self.kind.reads_back().map_or("", |e| e.embedded);
        // What was written stays written: a failed read-back outputs the
        // write answers instead of failing the items.
        let records = match reply {
            Ok(r) if r.status != 204 => crate::entity::page::read_page::<Box<RawValue>>(&r.body, key)
                .map(|p| p.entries)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let by_id: HashMap<u64, &RawValue> = records
            .iter()
            .filter_map(|raw| Some((record_id(raw)?, raw.as_ref())))
            .collect();
        for (index, id, item) in written {
            match by_id.get(&id) {
                Some(raw) => io.emit_raw(index, RawJson::trusted(raw.get().to_string())),
                None => io.emit(index, item),
            }
        }
    }

    fn fail_all(&mut self, group: Vec<usize>, error: NodeError, io: &mut Io) {
        for index in group {
            self.bodies.remove(&index);
            self.paths.remove(&index);
            io.fail(index, error.clone());
        }
    }

    fn on_validation(&mut self, group: Vec<usize>, error: ApiError, context: &str, io: &mut Io) {
        let named: Vec<(usize, &ValidationEntry)> = error
            .entries
            .iter()
            .filter_map(|e| {
                e.request_id
                    .parse::<usize>()
                    .ok()
                    .filter(|i| group.contains(i))
                    .map(|i| (i, e))
            })
            .collect();
        if named.is_empty() {
            // amoCRM did not say which items are wrong: all of them fail.
            return self.fail_all(group, NodeError::api(context, &error), io);
        }
        let rest: Vec<usize> = group
            .iter()
            .copied()
            .filter(|i| !named.iter().any(|(n, _)| n == i))
            .collect();
        let resend = io.continue_on_fail() && !rest.is_empty();
        for (index, entry) in &named {
            let e = self.validation_error(*index, entry, &group, resend, error.request_id.as_deref());
            io.fail(*index, e);
        }
        for (index, _) in &named {
            self.bodies.remove(index);
            self.paths.remove(index);
        }
        if resend {
            let size = self.batch.unwrap_or(DEFAULT_WRITE_BATCH);
            let (groups, _) = self.group(rest, size, true);
            for g in groups {
                self.send_batch(g, io);
            }
        }
    }

    /// amoCRM's complaint about item `index`, with custom field paths named
    /// and what happened to its batch.
    fn validation_error(
        &self,
        index: usize,
        entry: &ValidationEntry,
        group: &[usize],
        resent: bool,
        request_id: Option<&str>,
    ) -> NodeError {
        let (one, _) = self.kind.nouns();
        let body = self.bodies.get(&index);
        let problems: Vec<String> = entry
            .errors
            .iter()
            .map(|p| {
                let field = field_name_for_path(&p.path, body, self.fields.as_deref());
                let code = if p.code.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", p.code)
                };
                match field {
                    Some(name) => format!("custom field \"{name}\" ({}): {}{code}", p.path, p.detail),
                    None => format!(
                        "{}: {}{code}",
                        if p.path.is_empty() { "(whole item)" } else { &p.path },
                        p.detail
                    ),
                }
            })
            .collect();
        let batch = if group.len() == 1 {
            format!("this {one} was not written")
        } else {
            format!("nothing of the batch of items {} was written", index_ranges(group))
        };
        let mut description = format!("amoCRM writes a batch whole or not at all, so {batch}.");
        if resent {
            description.push_str(" The other items of that batch were sent again without this one.");
        }
        description.push_str(" Fix the value named above and run this item again.");
        if let Some(id) = request_id {
            description.push_str(&format!(" amoCRM request id: {id}."));
        }
        let mut error = NodeError::new(
            ErrorKind::Api,
            format!("amoCRM rejected the {one}: {}", problems.join("; ")),
        )
        .with_description(description)
        .about_item(index, ": ");
        error.http_code = Some(400);
        error
    }

    fn on_fields(&mut self, page: u32, reply: Reply, io: &mut Io) {
        let Some(loader) = self.loader.as_mut() else { return };
        match loader.on_reply(&self.account, page, reply, io) {
            Loaded::Waiting => {}
            Loaded::Ready(fields) => {
                self.fields = Some(fields);
                self.loader = None;
                for (index, item) in std::mem::take(&mut self.waiting) {
                    self.build(index, &item, io);
                }
                self.flush(io);
            }
            Loaded::Failed(e) => {
                self.loader = None;
                for (index, _) in std::mem::take(&mut self.waiting) {
                    io.fail(index, e.clone());
                }
            }
        }
    }
}

/// The `id` of a record kept as JSON text.
fn record_id(raw: &RawValue) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: u64,
    }
    serde_json::from_str::<Id>(raw.get()).ok().map(|r| r.id)
}

/// `custom_fields_values.2.values.0.enum_id` → the name of the field sent
/// at position 2 of the body.
fn field_name_for_path(path: &str, body: Option<&Map<String, Value>>, fields: Option<&FieldSet>) -> Option<String> {
    let rest = path.strip_prefix("custom_fields_values.")?;
    let position: usize = rest.split('.').next()?.parse().ok()?;
    let id = body?
        .get("custom_fields_values")?
        .get(position)?
        .get("field_id")?
        .as_u64()?;
    let name = fields?.fields().find(|f| f.id == id).map(|f| f.name.clone());
    Some(name.unwrap_or_else(|| id.to_string()))
}

impl Operation for Batcher {
    fn on_items(&mut self, first: usize, items: Vec<Value>, last: bool, io: &mut Io) {
        self.input_complete = last;
        for (index, item) in live_items(first, &items) {
            let params = Params::new(item);
            if self.batch.is_none() {
                self.read_back = params
                    .object("options")
                    .string("output", "Options › Output")
                    .unwrap_or_default()
                    != "ids";
                match batch_size(params, self.kind.default_batch(), self.kind.max_batch()) {
                    Ok(n) => self.batch = Some(n),
                    Err(e) => {
                        io.fail(index, NodeError::input(index, &e));
                        continue;
                    }
                }
            }
            let needs = self.fields.is_none() && self.kind.needs_fields(params);
            if needs || !self.waiting.is_empty() {
                // Later items wait too, so that batches keep the input order.
                self.waiting.push((index, item.clone()));
                if self.loader.is_none() && self.fields.is_none() {
                    if let Some(entity) = self.kind.fields_of() {
                        match FieldLoader::start(entity, &self.account, io) {
                            Ok(fields) => {
                                self.fields = Some(fields);
                                for (i, it) in std::mem::take(&mut self.waiting) {
                                    self.build(i, &it, io);
                                }
                            }
                            Err(loader) => self.loader = Some(loader),
                        }
                    }
                }
                continue;
            }
            self.build(index, item, io);
        }
        if self.loader.is_none() {
            self.flush(io);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        match tag {
            Tag::Fields { page } => self.on_fields(page, reply, io),
            Tag::Batch { n, .. } => {
                if let Some(group) = self.batches.remove(&n) {
                    self.on_batch_reply(group, reply, io);
                }
            }
            Tag::Current { n, .. } => self.on_current(n, reply, io),
            Tag::ReadBack { n, .. } => self.on_read_back(n, reply, io),
            _ => {}
        }
    }
}
