//! Writing many items in as few requests as amoCRM allows.
//!
//! Items become bodies tagged with `request_id` = their item index, bodies go
//! out in batches, and amoCRM's answer is paired back to items through the
//! echoed `request_id`. A 400 with `validation-errors` means nothing of the
//! batch was written: the items amoCRM names get its complaint, and the others
//! go out again in a new batch, so one bad item never fails its neighbours.
//! Creates are never resent after a 5xx or a broken connection (see
//! [`crate::engine`]); their items get an error saying they may exist.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::account::AccountAddress;
use crate::api_error::{parse_json, ApiError, ValidationEntry};
use crate::engine::{Io, Operation, Replay, Reply};
use crate::error::{ErrorKind, NodeError};
use crate::http::{Method, Request};
use crate::input::{InputError, Params};
use crate::lead::field_loader::{FieldLoader, Loaded, LOADER_TAG};
use crate::lead::fields::FieldSet;

/// What varies between the batched writes (create, update, complex create,
/// notes, links).
pub trait BatchKind {
    /// Singular and plural nouns for messages ("lead", "leads").
    fn nouns(&self) -> (&'static str, &'static str);
    fn method(&self) -> Method;
    fn path(&self) -> &'static str;
    /// amoCRM's limit of items per request.
    fn max_batch(&self) -> usize;
    /// Whether repeating a request could duplicate what it writes.
    fn unsafe_to_repeat(&self) -> bool;
    /// Whether this item needs the account's custom field definitions.
    fn needs_fields(&self, _params: Params) -> bool {
        false
    }
    /// The item's body, without `request_id` (added by the batcher).
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError>;
    /// Items with the same key never share a batch (updates of one lead).
    fn key(&self, _body: &Map<String, Value>) -> Option<String> {
        None
    }
    /// `(request_id, output item)` for each result in a success answer.
    fn results(&self, answer: &Value) -> Vec<(String, Value)>;
    /// Whether the body carries `request_id` (complex creates echo it as a list).
    fn request_id(&self, index: usize) -> Value {
        Value::String(index.to_string())
    }
}

/// The node's "Batch Size" option, checked against the kind's limit.
pub fn batch_size(params: Params, max: usize) -> Result<usize, InputError> {
    let label = "Options › Batch Size";
    match params.object("options").whole("batchSize", label, 1)? {
        None => Ok(max),
        Some(n) if n as usize <= max => Ok(n as usize),
        Some(n) => Err(InputError::new(
            label,
            format!("{n} is more than amoCRM accepts per request ({max})"),
        )),
    }
}

pub struct Batcher<K: BatchKind> {
    kind: K,
    account: AccountAddress,
    items: Vec<Value>,
    now_ms: f64,
    batch: usize,
    loader: Option<FieldLoader>,
    fields: Option<FieldSet>,
    bodies: HashMap<usize, Map<String, Value>>,
    batches: HashMap<u64, Vec<usize>>,
    next_tag: u64,
}

impl<K: BatchKind> Batcher<K> {
    pub fn new(kind: K, account: AccountAddress, items: Vec<Value>, now_ms: f64) -> Batcher<K> {
        Batcher {
            kind,
            account,
            items,
            now_ms,
            batch: 1,
            loader: None,
            fields: None,
            bodies: HashMap::new(),
            batches: HashMap::new(),
            next_tag: 0,
        }
    }

    fn live_items(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.items.iter().enumerate().filter(|(_, v)| !v.is_null())
    }

    /// Builds every body, then sends them in batches.
    fn build_and_send(&mut self, io: &mut Io) {
        let mut ready: Vec<usize> = Vec::new();
        for (index, item) in self.items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            match self.kind.body(Params::new(item), self.fields.as_ref()) {
                Ok(mut body) => {
                    body.insert("request_id".into(), self.kind.request_id(index));
                    self.bodies.insert(index, body);
                    ready.push(index);
                }
                Err(e) => io.fail(index, NodeError::input(index, &e)),
            }
        }
        self.send_batches(ready, io);
    }

    /// Groups `indexes` into batches of at most the batch size, keeping items
    /// with the same key apart, and sends them.
    fn send_batches(&mut self, indexes: Vec<usize>, io: &mut Io) {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut keys_in: Vec<Vec<String>> = Vec::new();
        for index in indexes {
            let key = self.kind.key(&self.bodies[&index]);
            let slot = groups
                .iter()
                .zip(&keys_in)
                .position(|(g, keys)| g.len() < self.batch && key.as_ref().is_none_or(|k| !keys.contains(k)));
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
        for group in groups {
            self.send_batch(group, io);
        }
    }

    fn send_batch(&mut self, group: Vec<usize>, io: &mut Io) {
        let (one, many) = self.kind.nouns();
        let bodies: Vec<Value> = group.iter().map(|i| Value::Object(self.bodies[i].clone())).collect();
        let replay = if self.kind.unsafe_to_repeat() {
            let noun = if group.len() == 1 { one } else { many };
            Replay::Unsafe(format!("writes {} {noun} (items {})", group.len(), item_list(&group)))
        } else {
            Replay::Safe
        };
        let request = Request::new(self.kind.method(), self.account.url(self.kind.path())).json(&Value::Array(bodies));
        let tag = self.next_tag;
        self.next_tag += 1;
        self.batches.insert(tag, group);
        io.send(tag, request, replay);
    }

    fn on_batch_reply(&mut self, group: Vec<usize>, reply: Reply, io: &mut Io) {
        let (one, many) = self.kind.nouns();
        let context = if group.len() == 1 {
            format!("Writing the {one}")
        } else {
            format!("Writing {} {many}", group.len())
        };
        match reply {
            Ok(r) => match parse_json(&r) {
                Ok(answer) => {
                    let mut results: HashMap<String, Value> = self.kind.results(&answer).into_iter().collect();
                    for index in group {
                        match results.remove(&index.to_string()) {
                            Some(item) => io.emit(index, item),
                            None => io.fail(
                                index,
                                NodeError::new(ErrorKind::Api, format!("amoCRM's answer did not mention item {index}; check in amoCRM whether the {one} was written")),
                            ),
                        }
                    }
                }
                Err(e) => {
                    for index in group {
                        io.fail(index, NodeError::api(&context, &e));
                    }
                }
            },
            Err(ApiError::Validation { entries, request_id }) => {
                let named = self.named_items(&entries, &group);
                if named.is_empty() {
                    // amoCRM did not say which items are wrong: all of them fail.
                    let e = ApiError::Validation { entries, request_id };
                    for index in group {
                        io.fail(index, NodeError::api(&context, &e));
                    }
                    return;
                }
                for (index, entry) in &named {
                    io.fail(*index, self.validation_error(*index, entry, request_id.as_deref()));
                }
                let rest: Vec<usize> = group
                    .into_iter()
                    .filter(|i| !named.iter().any(|(n, _)| n == i))
                    .collect();
                if !rest.is_empty() {
                    self.send_batches(rest, io);
                }
            }
            Err(e) => {
                for index in group {
                    io.fail(index, NodeError::api(&context, &e));
                }
            }
        }
    }

    fn named_items<'e>(&self, entries: &'e [ValidationEntry], group: &[usize]) -> Vec<(usize, &'e ValidationEntry)> {
        entries
            .iter()
            .filter_map(|e| {
                e.request_id
                    .parse::<usize>()
                    .ok()
                    .filter(|i| group.contains(i))
                    .map(|i| (i, e))
            })
            .collect()
    }

    /// amoCRM's complaint about item `index`, with custom field paths named.
    fn validation_error(&self, index: usize, entry: &ValidationEntry, request_id: Option<&str>) -> NodeError {
        let (one, _) = self.kind.nouns();
        let body = self.bodies.get(&index);
        let problems: Vec<String> = entry
            .errors
            .iter()
            .map(|p| {
                let field = field_name_for_path(&p.path, body, self.fields.as_ref());
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
        let mut error = NodeError::new(
            ErrorKind::Api,
            format!("amoCRM rejected the {one}: {}", problems.join("; ")),
        )
        .with_description(
            "The other items of the batch were written. Fix the value named above and run this item again.",
        )
        .about_item(index, ": ");
        error.http_code = Some(400);
        if let Some(id) = request_id {
            error.description = error.description.map(|d| format!("{d} amoCRM request id: {id}."));
        }
        error
    }
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

fn item_list(group: &[usize]) -> String {
    if group.len() <= 6 {
        group.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
    } else {
        format!("{}–{}", group[0], group[group.len() - 1])
    }
}

impl<K: BatchKind> Operation for Batcher<K> {
    fn start(&mut self, io: &mut Io) {
        let first = self.live_items().next().map(|(_, v)| v.clone()).unwrap_or(Value::Null);
        match batch_size(Params::new(&first), self.kind.max_batch()) {
            Ok(n) => self.batch = n,
            Err(e) => {
                let indexes: Vec<usize> = self.live_items().map(|(i, _)| i).collect();
                for index in indexes {
                    io.fail(index, NodeError::input(index, &e));
                }
                return;
            }
        }
        if self.live_items().any(|(_, v)| self.kind.needs_fields(Params::new(v))) {
            let (loader, cached) = FieldLoader::start(&self.account, self.now_ms, io);
            match cached {
                Some(fields) => self.fields = Some(fields),
                None => {
                    self.loader = Some(loader);
                    return;
                }
            }
        }
        self.build_and_send(io);
    }

    fn on_reply(&mut self, tag: u64, reply: Reply, io: &mut Io) {
        if tag == LOADER_TAG {
            let Some(loader) = self.loader.as_mut() else { return };
            match loader.on_reply(&self.account, reply, self.now_ms, io) {
                Loaded::Waiting => {}
                Loaded::Ready(fields) => {
                    self.fields = Some(fields);
                    self.loader = None;
                    self.build_and_send(io);
                }
                Loaded::Failed(e) => {
                    let indexes: Vec<usize> = self.live_items().map(|(i, _)| i).collect();
                    for index in indexes {
                        io.fail(index, e.clone());
                    }
                }
            }
            return;
        }
        if let Some(group) = self.batches.remove(&tag) {
            self.on_batch_reply(group, reply, io);
        }
    }
}
