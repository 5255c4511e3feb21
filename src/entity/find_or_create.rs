//! Find or Create: for each item, the record that matches it exactly (a
//! contact by phone or e-mail, a company by name or by a custom field value),
//! or a new one.
//!
//! amoCRM has no exact lookup: its `query` search matches any part of any
//! field. So each distinct key is searched once, and the candidates are then
//! checked on the field itself after normalisation; a hit on another field (a
//! name, a note, another custom field) is not a match.
//!
//! The operation works on the whole input at once:
//! * items that share a key (a phone, say) form one group, which makes one
//!   search per distinct key and ends in one record, so one run never
//!   creates two contacts for one phone;
//! * the groups without a match are created in batches, and the found ones
//!   are updated in batches when the node is asked to;
//! * requests: the field definitions (1, cached for a minute), one search
//!   per distinct key (more pages only for keys with over 250 candidates),
//!   and per batch of creates or updates one write and one read back.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::engine::{live_items, Emit, Io, Operation, Replay, Reply, Tag};
use crate::entity::batch::Batcher;
use crate::entity::field_loader::{FieldLoader, Loaded};
use crate::entity::fields::FieldSet;
use crate::entity::page::read_page;
use crate::entity::pager::{Pager, MAX_PAGE_SIZE};
use crate::entity::record::custom_field_map;
use crate::entity::write::{CreateRecords, UpdateRecords};
use crate::entity::{Entity, EntityRef};
use crate::error::{ErrorKind, NodeError};
use crate::http::Request;
use crate::input::{InputError, Params};
use crate::query::Query;

/// Pages of candidates read for one search at most.
pub const MAX_SEARCH_PAGES: u32 = 4;

/// A normalised value a record is found by: its kind (`phone`, `email`,
/// `name`, `field`) and the value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub kind: &'static str,
    pub value: String,
}

impl Key {
    pub fn new(kind: &'static str, value: String) -> Key {
        Key { kind, value }
    }

    /// The key with the text the item wrote it as.
    pub fn written(kind: &'static str, value: String, text: &str) -> (Key, String) {
        (Key::new(kind, value), text.trim().to_string())
    }
}

/// The fields that carry an item's keys, as automatic mapping reads them.
pub type KeyFields = Result<Map<String, Value>, InputError>;

/// What makes records match for one entity.
pub trait Matcher: Sync {
    fn entity(&self) -> EntityRef;
    /// The keys an item is looked up by, and their text as the item wrote it.
    fn item_keys(&self, params: Params, fields: &FieldSet) -> Result<Vec<(Key, String)>, InputError>;
    /// What amoCRM's search is given to find candidates for `key`.
    fn query<'k>(&self, key: &'k Key) -> &'k str;
    /// The keys a record carries, as amoCRM reads it back.
    fn record_keys(&self, record: &Value, params: Params, fields: &FieldSet) -> Vec<Key>;
    /// Parameters of a new record for a group: the first item's, with every
    /// key of the group written into its fields.
    fn create_params(&self, params: &Value, keys: &[(Key, String)], fields: &FieldSet) -> Value;
    /// The fields that carry the keys, to add to a found record: `{PHONE:
    /// [...]}` or `{field ID: value}`, as automatic mapping reads them.
    fn key_fields(&self, params: Params, keys: &[(Key, String)], fields: &FieldSet) -> KeyFields;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Several {
    Oldest,
    Newest,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpdateFound {
    No,
    FillEmpty,
    Overwrite,
}

struct Settings {
    several: Several,
    update: UpdateFound,
    create: bool,
}

fn settings(params: Params) -> Result<Settings, InputError> {
    let o = params.object("options");
    let several = match o.string("whenSeveral", "Options › When Several Match")? {
        "" | "oldest" => Several::Oldest,
        "newest" => Several::Newest,
        "fail" => Several::Fail,
        other => {
            return Err(InputError::new(
                "Options › When Several Match",
                format!("\"{other}\" is not oldest, newest or fail"),
            ))
        }
    };
    let update = match o.string("updateFound", "Options › Update the Found Record")? {
        "" | "no" => UpdateFound::No,
        "fillEmpty" => UpdateFound::FillEmpty,
        "overwrite" => UpdateFound::Overwrite,
        other => {
            return Err(InputError::new(
                "Options › Update the Found Record",
                format!("\"{other}\" is not no, fillEmpty or overwrite"),
            ))
        }
    };
    let create = match o.get("createIfMissing") {
        None => true,
        Some(_) => o.bool("createIfMissing", "Options › Create If Missing")?,
    };
    Ok(Settings {
        several,
        update,
        create,
    })
}

/// Items that share a key, and what became of them.
struct Group {
    items: Vec<usize>,
    keys: Vec<(Key, String)>,
    outcome: Outcome,
}

enum Outcome {
    Pending,
    Found { record: Value, by: Key },
    Create,
    Failed,
}

struct Search {
    query: String,
    pager: Pager<Value>,
}

pub struct FindOrCreate {
    matcher: &'static dyn Matcher,
    account: AccountAddress,
    items: BTreeMap<usize, Value>,
    settings: Option<Settings>,
    fields: Option<Rc<FieldSet>>,
    loader: Option<Box<FieldLoader>>,
    complete: bool,
    groups: Vec<Group>,
    searches: Vec<Search>,
    searching: usize,
    candidates: BTreeMap<u64, Value>,
    creator: Option<Batcher>,
    updater: Option<Batcher>,
    /// The group each writer's item (its first item's index) stands for.
    group_of: HashMap<usize, usize>,
}

const CREATE: u8 = 1;
const UPDATE: u8 = 2;

impl FindOrCreate {
    pub fn new(matcher: &'static dyn Matcher, account: AccountAddress) -> FindOrCreate {
        FindOrCreate {
            matcher,
            account,
            items: BTreeMap::new(),
            settings: None,
            fields: None,
            loader: None,
            complete: false,
            groups: Vec::new(),
            searches: Vec::new(),
            searching: 0,
            candidates: BTreeMap::new(),
            creator: None,
            updater: None,
            group_of: HashMap::new(),
        }
    }

    fn entity(&self) -> EntityRef {
        self.matcher.entity()
    }

    /// All items are in and the field definitions known: group the items by
    /// their keys and search each distinct key once.
    fn plan(&mut self, io: &mut Io) {
        let Some(fields) = self.fields.clone() else { return };
        let mut group_of_key: HashMap<Key, usize> = HashMap::new();
        for (&index, item) in &self.items {
            let keys = match self.matcher.item_keys(Params::new(item), &fields) {
                Ok(keys) if keys.is_empty() => Err(InputError::new(
                    "Find By",
                    format!("nothing to find the {} by: give at least one value", self.entity().noun),
                )),
                other => other,
            };
            let keys = match keys {
                Ok(keys) => keys,
                Err(e) => {
                    io.fail(index, NodeError::input(index, &e));
                    continue;
                }
            };
            // The groups this item's keys already belong to merge into one.
            let mut joined: BTreeSet<usize> = keys.iter().filter_map(|(k, _)| group_of_key.get(k).copied()).collect();
            let target = match joined.pop_first() {
                Some(g) => g,
                None => {
                    self.groups.push(Group {
                        items: Vec::new(),
                        keys: Vec::new(),
                        outcome: Outcome::Pending,
                    });
                    self.groups.len() - 1
                }
            };
            for other in joined {
                let moved = std::mem::replace(
                    &mut self.groups[other],
                    Group {
                        items: Vec::new(),
                        keys: Vec::new(),
                        outcome: Outcome::Failed,
                    },
                );
                for (k, _) in &moved.keys {
                    group_of_key.insert(k.clone(), target);
                }
                self.groups[target].items.extend(moved.items);
                self.groups[target].keys.extend(moved.keys);
            }
            let group = &mut self.groups[target];
            group.items.push(index);
            for (key, text) in keys {
                if !group.keys.iter().any(|(k, _)| *k == key) {
                    group_of_key.insert(key.clone(), target);
                    group.keys.push((key, text));
                }
            }
        }
        self.groups.retain(|g| !g.items.is_empty());
        for g in &mut self.groups {
            g.items.sort_unstable();
        }
        let mut queries: BTreeSet<String> = BTreeSet::new();
        for g in &self.groups {
            for (k, _) in &g.keys {
                queries.insert(self.matcher.query(k).to_string());
            }
        }
        for query in queries {
            let mut q = Query::new();
            q.push("query", &query);
            self.searches.push(Search {
                query,
                pager: Pager::new(&self.entity().path, &q, MAX_PAGE_SIZE, None, MAX_SEARCH_PAGES, 1),
            });
        }
        self.searching = self.searches.len();
        for n in 0..self.searches.len() {
            self.search_more(n, io);
        }
        if self.searching == 0 {
            self.resolve(io);
        }
    }

    fn search_more(&mut self, n: usize, io: &mut Io) {
        for (page, path) in self.searches[n].pager.requests() {
            io.send(
                Tag::Search { n: n as u32, page },
                Request::get(self.account.url(&path)),
                Replay::Safe,
            );
        }
    }

    fn on_search(&mut self, n: usize, page: u32, reply: Reply, io: &mut Io) {
        let entity = self.entity();
        let Some(search) = self.searches.get_mut(n) else { return };
        if search.pager.is_done() {
            return;
        }
        let got = match reply {
            Ok(r) if r.status == 204 => Ok(None),
            Ok(r) => read_page::<Value>(&r.body, entity.embedded).map(Some),
            Err(e) => Err(e),
        };
        match got {
            Ok(got) => search.pager.on_page(page, got),
            Err(e) => {
                search.pager.on_error();
                let query = search.query.clone();
                self.fail_query(
                    &query,
                    NodeError::api(&format!("Searching {} for \"{query}\"", entity.nouns), &e),
                    io,
                );
                return self.search_done(io);
            }
        }
        for record in search.pager.ready() {
            if let Some(id) = record["id"].as_u64() {
                self.candidates.insert(id, record);
            }
        }
        if search.pager.truncated() {
            let query = search.query.clone();
            let error = NodeError::new(
                ErrorKind::Api,
                format!(
                    "More than {} {} contain \"{query}\"; the value is too short to find one",
                    MAX_SEARCH_PAGES as usize * MAX_PAGE_SIZE,
                    entity.nouns
                ),
            );
            self.fail_query(&query, error, io);
            return self.search_done(io);
        }
        if self.searches[n].pager.is_done() {
            self.search_done(io);
        } else {
            self.search_more(n, io);
        }
    }

    /// The groups searched with `query` fail: they cannot be matched safely.
    fn fail_query(&mut self, query: &str, error: NodeError, io: &mut Io) {
        for g in &mut self.groups {
            if matches!(g.outcome, Outcome::Failed) || !g.keys.iter().any(|(k, _)| self.matcher.query(k) == query) {
                continue;
            }
            g.outcome = Outcome::Failed;
            for &index in &g.items {
                io.fail(index, error.clone());
            }
        }
    }

    fn search_done(&mut self, io: &mut Io) {
        self.searching -= 1;
        if self.searching == 0 {
            self.resolve(io);
        }
    }

    /// Every search has answered: match the groups, then write.
    fn resolve(&mut self, io: &mut Io) {
        let Some(fields) = self.fields.clone() else { return };
        let Some(settings) = self.settings.as_ref() else { return };
        let (several, update, create) = (settings.several, settings.update, settings.create);
        let mut by_key: HashMap<Key, Vec<u64>> = HashMap::new();
        let first = self.items.values().next().cloned().unwrap_or(Value::Null);
        for (&id, record) in &self.candidates {
            for key in self.matcher.record_keys(record, Params::new(&first), &fields) {
                by_key.entry(key).or_default().push(id);
            }
        }
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        let noun = self.entity().noun;
        for (g, group) in self.groups.iter_mut().enumerate() {
            if !matches!(group.outcome, Outcome::Pending) {
                continue;
            }
            let mut matches: Vec<(u64, &Key)> = Vec::new();
            for (key, _) in &group.keys {
                for &id in by_key.get(key).into_iter().flatten() {
                    if !matches.iter().any(|(m, _)| *m == id) {
                        matches.push((id, key));
                    }
                }
            }
            let pick = match (matches.len(), several) {
                (0, _) => None,
                (1, _) => Some(matches[0]),
                (_, Several::Fail) => {
                    let ids: Vec<String> = matches.iter().map(|(id, _)| id.to_string()).collect();
                    let error = NodeError::new(
                        ErrorKind::Api,
                        format!("{} {}s match: {}", matches.len(), noun, ids.join(", ")),
                    )
                    .with_description("Options › When Several Match is set to fail. Merge the duplicates in amoCRM, or choose the oldest or the most recently updated one.");
                    for &index in &group.items {
                        io.fail(index, error.clone().about_item(index, ": "));
                    }
                    group.outcome = Outcome::Failed;
                    continue;
                }
                (_, several) => {
                    let stamp = |id: &u64, k: &str| self.candidates[id][k].as_i64().unwrap_or_default();
                    let chosen = match several {
                        Several::Newest => matches.iter().max_by_key(|(id, _)| (stamp(id, "updated_at"), *id)),
                        _ => matches.iter().min_by_key(|(id, _)| (stamp(id, "created_at"), *id)),
                    };
                    chosen.copied()
                }
            };
            match pick {
                Some((id, key)) => {
                    group.outcome = Outcome::Found {
                        record: self.candidates[&id].clone(),
                        by: key.clone(),
                    };
                    if update != UpdateFound::No {
                        updates.push(g);
                    }
                }
                None if create => {
                    group.outcome = Outcome::Create;
                    creates.push(g);
                }
                None => {
                    group.outcome = Outcome::Failed;
                    let searched: Vec<Value> = group
                        .keys
                        .iter()
                        .map(|(k, text)| json!({"type": k.kind, "value": text}))
                        .collect();
                    for &index in &group.items {
                        io.emit(index, json!({ "match": "none", "searched": searched }));
                    }
                }
            }
        }
        self.emit_found_unchanged(io);
        self.start_creates(creates, &fields, io);
        self.start_updates(updates, &fields, update, io);
    }

    /// Found records the node does not change are output as found.
    fn emit_found_unchanged(&self, io: &mut Io) {
        let updating = self.settings.as_ref().is_some_and(|s| s.update != UpdateFound::No);
        if updating {
            return;
        }
        for group in &self.groups {
            if let Outcome::Found { record, by } = &group.outcome {
                for &index in &group.items {
                    io.emit(index, with_match(record.clone(), "found", Some(by), group));
                }
            }
        }
    }

    fn start_creates(&mut self, creates: Vec<usize>, fields: &Rc<FieldSet>, io: &mut Io) {
        if creates.is_empty() {
            return;
        }
        let entity = self.entity();
        let mut batcher = Batcher::new(CreateRecords { entity }, self.account.clone())
            .writer(CREATE)
            .with_fields(fields.clone());
        let mut items = vec![Value::Null; self.last_index() + 1];
        for g in creates {
            let group = &self.groups[g];
            let first = group.items[0];
            self.group_of.insert(first, g);
            items[first] = self.matcher.create_params(&self.items[&first], &group.keys, fields);
        }
        let mark = io.emits.len();
        batcher.on_items(0, items, true, io);
        self.creator = Some(batcher);
        self.relay(mark, "created", io);
    }

    fn start_updates(&mut self, updates: Vec<usize>, fields: &Rc<FieldSet>, mode: UpdateFound, io: &mut Io) {
        if updates.is_empty() {
            return;
        }
        let entity = self.entity();
        let mut known = Vec::new();
        let mut items = vec![Value::Null; self.last_index() + 1];
        for g in updates {
            let group = &self.groups[g];
            let first = group.items[0];
            let Outcome::Found { record, .. } = &group.outcome else {
                continue;
            };
            let id = record["id"].as_u64().unwrap_or_default();
            let params = &self.items[&first];
            let written = item_record(&entity, Params::new(params)).and_then(|mut record| {
                record.extend(self.matcher.key_fields(Params::new(params), &group.keys, fields)?);
                Ok(record)
            });
            let mut fields_to_write = match written {
                Ok(r) => r,
                Err(e) => {
                    for &index in &group.items {
                        io.fail(index, NodeError::input(index, &e));
                    }
                    continue;
                }
            };
            if mode == UpdateFound::FillEmpty {
                fields_to_write.retain(|k, _| is_empty_on(&entity, record, k, fields));
            }
            fields_to_write.insert("id".into(), json!(id));
            known.push((id, record.clone()));
            self.group_of.insert(first, g);
            let options = Params::new(params).get("options").cloned().unwrap_or(Value::Null);
            items[first] =
                json!({"mapping": "auto", "record": fields_to_write, "valuesMode": "add", "options": options});
        }
        let mut batcher = Batcher::new(
            UpdateRecords {
                entity,
                account: self.account.clone(),
            },
            self.account.clone(),
        )
        .writer(UPDATE)
        .with_fields(fields.clone())
        .with_known(known);
        let mark = io.emits.len();
        batcher.on_items(0, items, true, io);
        self.updater = Some(batcher);
        self.relay(mark, "found", io);
    }

    fn last_index(&self) -> usize {
        self.items.keys().next_back().copied().unwrap_or_default()
    }

    /// What a writer emitted since `mark`, for the first item of a group,
    /// becomes the output of every item of the group. An update with
    /// nothing to write outputs the record as found.
    fn relay(&mut self, mark: usize, outcome: &str, io: &mut Io) {
        let emitted: Vec<Emit> = io.emits.drain(mark..).collect();
        for emit in emitted {
            let first = emit.index();
            let Some(&g) = self.group_of.get(&first) else {
                io.emits.push(emit);
                continue;
            };
            let group = &self.groups[g];
            let by = match &group.outcome {
                Outcome::Found { by, .. } => Some(by),
                _ => None,
            };
            match emit {
                Emit::Error { error, .. } if error.message.contains("nothing to update") => {
                    if let Outcome::Found { record, by } = &group.outcome {
                        for &index in &group.items {
                            io.emit(index, with_match(record.clone(), "found", Some(by), group));
                        }
                    }
                }
                Emit::Error { error, .. } => {
                    for &index in &group.items {
                        io.fail(index, error.clone());
                    }
                }
                other => {
                    let record = other.json().unwrap_or(Value::Null);
                    for &index in &group.items {
                        io.emit(index, with_match(record.clone(), outcome, by, group));
                    }
                }
            }
        }
    }
}

/// The record with how it was matched: `match` (found, created) and the key.
fn with_match(mut record: Value, outcome: &str, by: Option<&Key>, group: &Group) -> Value {
    if let Value::Object(map) = &mut record {
        map.insert("match".into(), json!(outcome));
        let key = by.or_else(|| group.keys.first().map(|(k, _)| k));
        let text = key
            .and_then(|k| group.keys.iter().find(|(g, _)| g == k))
            .map(|(_, t)| t.clone());
        map.insert("matched_by".into(), json!(by.map(|k| k.kind)));
        map.insert("matched_value".into(), json!(by.map(|k| k.value.clone())));
        map.insert("match_input".into(), json!(text));
    }
    record
}

/// Whether field `key` of an item's record (an entity field, or a custom
/// field by ID, code or name) is empty on the found record. Multi-value
/// fields (phones, e-mails) count as empty: they are added to, never emptied.
fn is_empty_on(entity: &Entity, record: &Value, key: &str, fields: &FieldSet) -> bool {
    if entity.fields.iter().any(|s| s.api == key) {
        return match record.get(key) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Number(n)) => n.as_f64() == Some(0.0),
            _ => false,
        };
    }
    let Some(field) = fields.find(key) else { return true };
    let values = record["custom_fields_values"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["field_id"].as_u64() == Some(field.id))
        .and_then(|f| f["values"].as_array());
    field.kind == "multitext" || values.is_none_or(|v| v.is_empty())
}

/// The item's create parameters as a record (`{name, first_name, …, field
/// ID: value}`), for an update through automatic mapping.
pub fn item_record(entity: &Entity, params: Params) -> Result<Map<String, Value>, InputError> {
    let mut record = Map::new();
    let c = params.object("additionalFields");
    for spec in entity.fields {
        let source = if spec.primary { params } else { c };
        if let Some(value) = source.get(spec.param) {
            if let Some(v) = spec.read(value, spec.label)? {
                record.insert(spec.api.into(), v);
            }
        }
    }
    for (k, v) in custom_field_map(params)? {
        if !v.is_null() && v != "" {
            record.insert(k, v);
        }
    }
    Ok(record)
}

impl Operation for FindOrCreate {
    fn on_items(&mut self, first: usize, items: Vec<Value>, last: bool, io: &mut Io) {
        for (index, item) in live_items(first, &items) {
            if self.settings.is_none() {
                match settings(Params::new(item)) {
                    Ok(s) => self.settings = Some(s),
                    Err(e) => {
                        io.fail(index, NodeError::input(index, &e));
                        continue;
                    }
                }
            }
            self.items.insert(index, item.clone());
        }
        if !last {
            return;
        }
        self.complete = true;
        if self.items.is_empty() {
            return;
        }
        match FieldLoader::start(self.entity(), &self.account, io) {
            Ok(fields) => {
                self.fields = Some(fields);
                self.plan(io);
            }
            Err(loader) => self.loader = Some(loader),
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        match tag {
            Tag::Fields { page } => {
                let Some(loader) = self.loader.as_mut() else { return };
                match loader.on_reply(&self.account, page, reply, io) {
                    Loaded::Waiting => {}
                    Loaded::Ready(fields) => {
                        self.loader = None;
                        self.fields = Some(fields);
                        self.plan(io);
                    }
                    Loaded::Failed(e) => {
                        self.loader = None;
                        for &index in self.items.keys() {
                            io.fail(index, e.clone());
                        }
                    }
                }
            }
            Tag::Search { n, page } => self.on_search(n as usize, page, reply, io),
            Tag::Batch { writer, .. } | Tag::Current { writer, .. } | Tag::ReadBack { writer, .. } => {
                let mark = io.emits.len();
                let outcome = if writer == CREATE {
                    if let Some(b) = self.creator.as_mut() {
                        b.on_reply(tag, reply, io);
                    }
                    "created"
                } else {
                    if let Some(b) = self.updater.as_mut() {
                        b.on_reply(tag, reply, io);
                    }
                    "found"
                };
                self.relay(mark, outcome, io);
            }
            _ => {}
        }
    }
}

#[cfg(all(test, feature = "contact"))]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::contact::find::ContactMatcher;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Step};
    use crate::http::Response;

    const FIELDS: &str = r#"{"_embedded":{"custom_fields":[
        {"id":10,"name":"Phone","code":"PHONE","type":"multitext","enums":[{"id":1,"value":"WORK","code":"WORK"},{"id":2,"value":"MOB","code":"MOB"}]},
        {"id":11,"name":"Email","code":"EMAIL","type":"multitext","enums":[{"id":3,"value":"WORK","code":"WORK"}]}]}}"#;

    fn run() -> Run {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        Run::new(Driver::new(Box::new(FindOrCreate::new(&ContactMatcher, account))).writes(true))
    }

    fn query_of(url: &str) -> String {
        url.split("query=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .replace("%40", "@")
    }

    fn contacts(list: Value) -> Response {
        Response::new(200, json!({"_links": {}, "_embedded": {"contacts": list}}).to_string())
    }

    #[test]
    fn items_sharing_a_phone_share_one_search_and_one_contact_and_false_hits_are_not_matches() {
        let mut r = run();
        let s = r.start(vec![
            json!({"phone": "8 900 111 11 11", "name": "Ivan"}),
            json!({"phone": "+79001111111", "email": "a@b.ru"}),
            json!({"phone": "+7 900 222 22 22", "name": "Olga", "options": {"phoneType": "MOB"}}),
            json!({"email": "C@D.ru"}),
        ]);
        assert!(s.requests[0].request.url.contains("/api/v4/contacts/custom_fields"));
        let s = r.reply(s.requests[0].id, Response::new(200, FIELDS));
        let mut queries: Vec<String> = s.requests.iter().map(|q| query_of(&q.request.url)).collect();
        queries.sort();
        assert_eq!(queries, ["9001111111", "9002222222", "a@b.ru", "c@d.ru"]);
        let mut creates: Option<Step> = None;
        for q in &s.requests {
            let answer = match query_of(&q.request.url).as_str() {
                "9001111111" => contacts(
                    json!([{"id": 500, "name": "Ivan", "created_at": 5, "custom_fields_values": [
                    {"field_id": 10, "field_code": "PHONE", "values": [{"value": "89001111111", "enum_code": "WORK"}]}]}]),
                ),
                // The number only in the name of another contact: not a match.
                "9002222222" => contacts(json!([{"id": 600, "name": "call 9002222222", "custom_fields_values": [
                    {"field_id": 10, "field_code": "PHONE", "values": [{"value": "+7 900 999 99 99"}]}]}])),
                _ => Response::new(204, ""),
            };
            let step = r.reply(q.id, answer);
            if !step.requests.is_empty() {
                creates = Some(step);
            }
        }
        let s = creates.expect("the last search answer starts the creates");
        assert_eq!(s.emit.len(), 2, "items 0 and 1 are found");
        for e in &s.emit {
            let json = e.json().unwrap();
            assert_eq!(
                (json["id"].as_u64(), json["match"].as_str()),
                (Some(500), Some("found"))
            );
        }
        assert_eq!(s.emit[0].json().unwrap()["matched_value"], "79001111111");
        assert_eq!(s.requests.len(), 1, "both new contacts in one batch");
        let body: Value = serde_json::from_str(s.requests[0].request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!([
                {"name": "Olga", "request_id": "2", "custom_fields_values": [{"field_id": 10, "values": [{"value": "+7 900 222 22 22", "enum_code": "MOB"}]}]},
                {"request_id": "3", "custom_fields_values": [{"field_id": 11, "values": [{"value": "C@D.ru", "enum_code": "WORK"}]}]}
            ])
        );
        let answer =
            json!({"_embedded": {"contacts": [{"id": 700, "request_id": "2"}, {"id": 701, "request_id": "3"}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, answer.to_string()));
        assert!(s.requests[0]
            .request
            .url
            .ends_with("/api/v4/contacts?filter[id][0]=700&filter[id][1]=701&limit=250"));
        let s = r.reply(
            s.requests[0].id,
            contacts(json!([{"id": 700, "name": "Olga"}, {"id": 701, "name": ""}])),
        );
        assert!(s.done);
        let out: Vec<(usize, Value)> = s.emit.iter().map(|e| (e.index(), e.json().unwrap())).collect();
        assert_eq!(out[0].0, 2);
        assert_eq!(
            (out[0].1["id"].as_u64(), out[0].1["match"].as_str()),
            (Some(700), Some("created"))
        );
        assert_eq!((out[1].0, out[1].1["id"].as_u64()), (3, Some(701)));
    }

    #[test]
    fn several_matches_pick_the_oldest_or_fail_with_their_ids() {
        for (several, expected) in [
            ("oldest", Ok(8)),
            ("newest", Ok(9)),
            ("fail", Err("2 contacts match: 8, 9")),
        ] {
            let mut r = run();
            let s = r.start(vec![
                json!({"phone": "+79001111111", "options": {"whenSeveral": several}}),
            ]);
            let s = r.reply(s.requests[0].id, Response::new(200, FIELDS));
            let phone = json!([{"field_id": 10, "field_code": "PHONE", "values": [{"value": "+7 900 111 11 11"}]}]);
            let s = r.reply(
                s.requests[0].id,
                contacts(json!([
                    {"id": 9, "created_at": 200, "updated_at": 900, "custom_fields_values": phone},
                    {"id": 8, "created_at": 100, "updated_at": 100, "custom_fields_values": phone}
                ])),
            );
            match (expected, &s.emit[0]) {
                (Ok(id), e) => assert_eq!(e.json().unwrap()["id"].as_u64(), Some(id), "{several}"),
                (Err(text), Emit::Error { error, .. }) => assert!(error.message.contains(text), "{}", error.message),
                (Err(_), other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_found_contact_gets_the_new_phone_added_when_asked_to_fill_empty_fields() {
        let mut r = run();
        let s = r.start(vec![json!({"phone": "+79001111111", "email": "new@b.ru", "name": "Ivan", "options": {"updateFound": "fillEmpty"}})]);
        let s = r.reply(s.requests[0].id, Response::new(200, FIELDS));
        let found = json!([{"id": 5, "name": "Named already", "custom_fields_values": [
            {"field_id": 10, "field_code": "PHONE", "values": [{"value": "8 900 111 11 11", "enum_id": 1, "enum_code": "WORK"}]}]}]);
        let mut update = None;
        for q in s.requests.clone() {
            let answer = if q.request.url.contains("9001111111") {
                contacts(found.clone())
            } else {
                Response::new(204, "")
            };
            let step = r.reply(q.id, answer);
            if !step.requests.is_empty() {
                update = Some(step);
            }
        }
        let s = update.unwrap();
        assert_eq!(s.requests[0].request.method, crate::http::Method::Patch);
        let body: Value = serde_json::from_str(s.requests[0].request.body.as_deref().unwrap()).unwrap();
        // The name was not empty: kept. The phone stays once; the e-mail is added.
        assert_eq!(
            body,
            json!([{"id": 5, "request_id": "0", "custom_fields_values": [
                {"field_id": 11, "values": [{"value": "new@b.ru", "enum_code": "WORK"}]},
                {"field_id": 10, "values": [{"value": "8 900 111 11 11", "enum_id": 1}]}
            ]}])
        );
    }
}
