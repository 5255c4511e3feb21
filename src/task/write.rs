//! Create and Update of tasks: the shared batch writer
//! ([`crate::entity::write`]), after what depends on the moment and on the
//! account is settled per item.
//!
//! Each item's deadline ("in 3 hours", "end of day", a date) becomes Unix
//! seconds at the time the core was handed the item, and a deadline that is
//! not in the future fails its item before anything is sent. "End of day"
//! needs the account's time zone: it is read once
//! (`GET /api/v4/account?with=datetime_settings`) when an item asks for it,
//! and kept a minute in the process's metadata cache; the items wait for it
//! in order. The record a task is attached to (a lead or contact picked or
//! pasted as a card URL, a company or customer ID) and an item's own
//! `result` (`{"text": …}` as amoCRM reads it back, or plain text) are
//! settled here too, so that the generic writer sees plain fields.

use std::rc::Rc;

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::{parse_json, ApiError};
use crate::engine::{Io, Operation, Replay, Reply, Tag};
use crate::entity::batch::Batcher;
use crate::entity::record::{is_auto, Mode};
use crate::entity::reference::parse_ref;
use crate::entity::write::{CreateRecords, UpdateRecords};
use crate::entity::{Entity, EntityRef};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::{InputError, Params};
use crate::task::deadline::{account_offset, Deadline, LABEL};
use crate::task::TASKS;

/// The metadata cache's name for the account's UTC offset.
pub const ZONE_KIND: &str = "account timezone_offset";

pub const ZONE_PATH: &str = "/api/v4/account?with=datetime_settings";

/// What is known of the account's time zone.
enum Zone {
    Unknown,
    Reading,
    Known(i64),
    Failed(NodeError),
}

pub struct TaskWrites {
    mode: Mode,
    account: AccountAddress,
    inner: Batcher,
    zone: Zone,
    /// Chunks of items waiting for the time zone, in order.
    held: Vec<(usize, Vec<Value>, bool)>,
}

impl TaskWrites {
    pub fn new(mode: Mode, account: AccountAddress) -> TaskWrites {
        let entity = EntityRef::Static(&TASKS);
        let inner = match mode {
            Mode::Create => Batcher::new(CreateRecords { entity }, account.clone()),
            Mode::Update => Batcher::new(
                UpdateRecords {
                    entity,
                    account: account.clone(),
                },
                account.clone(),
            ),
        };
        TaskWrites {
            mode,
            account,
            inner,
            zone: Zone::Unknown,
            held: Vec::new(),
        }
    }

    /// Settles each item and hands the chunk to the batch writer.
    fn forward(&mut self, first: usize, mut items: Vec<Value>, last: bool, io: &mut Io) {
        let now_ms = io.now_ms();
        for (k, item) in items.iter_mut().enumerate() {
            if item.is_null() {
                continue;
            }
            let index = first + k;
            match self.settle(item, now_ms) {
                Ok(()) => {}
                Err(error) => {
                    io.fail(index, error.about(index));
                    *item = Value::Null;
                }
            }
        }
        self.inner.on_items(first, items, last, io);
    }

    /// Unix seconds of `deadline` now, or why not.
    fn resolve(&self, deadline: Deadline, now_ms: f64, label: &str) -> Result<i64, Failure> {
        match &self.zone {
            Zone::Failed(e) if deadline.needs_zone() => Err(Failure::Api(e.clone())),
            Zone::Known(offset) => Ok(deadline.resolve(now_ms, Some(*offset), label)?),
            _ => Ok(deadline.resolve(now_ms, None, label)?),
        }
    }

    fn settle(&self, item: &mut Value, now_ms: f64) -> Result<(), Failure> {
        if is_auto(Params::new(item)) {
            let Some(Value::Object(record)) = item.get_mut("record") else {
                return Ok(());
            };
            for key in DEADLINE_KEYS {
                if let Some(value) = record.get(key).filter(|v| !v.is_null()) {
                    let at = self.resolve(Deadline::from_value(value, key)?, now_ms, key)?;
                    record.insert(key.into(), json!(at));
                }
            }
            // amoCRM reads a result back as {"text": …}, or [] when there is none.
            match record.get("result") {
                Some(Value::Object(o)) => {
                    let text = o.get("text").cloned().unwrap_or(Value::Null);
                    record.insert("result".into(), text);
                }
                Some(Value::Array(a)) if a.is_empty() => {
                    record.remove("result");
                }
                _ => {}
            }
            return Ok(());
        }
        let params = Params::new(item);
        let deadline = Deadline::from_params(params, self.mode)?;
        let attached = attachment(params, self.mode, &self.account)?;
        let settled = match deadline {
            Some(d) => Some(self.resolve(d, now_ms, LABEL)?),
            None => None,
        };
        let Some(map) = item.as_object_mut() else { return Ok(()) };
        // Create reads these at the top, Update inside Update Fields.
        let target = match self.mode {
            Mode::Create => map,
            Mode::Update => {
                let slot = map.entry("updateFields").or_insert_with(|| json!({}));
                if !slot.is_object() {
                    *slot = json!({});
                }
                slot.as_object_mut().expect("just made an object")
            }
        };
        if let Some(at) = settled {
            target.insert("completeTill".into(), json!(at));
        }
        if let Some((kind, id)) = attached {
            target.insert("entityType".into(), json!(kind));
            target.insert("entityId".into(), json!(id));
        }
        Ok(())
    }

    fn wants_zone(&self, items: &[Value]) -> bool {
        items.iter().any(|item| {
            let p = Params::new(item);
            if is_auto(p) {
                let record = p.object("record");
                DEADLINE_KEYS
                    .iter()
                    .filter_map(|k| record.get(k))
                    .any(|v| Deadline::from_value(v, LABEL).is_ok_and(|d| d.needs_zone()))
            } else {
                p.string("deadline", LABEL).unwrap_or_default() == "endOfDay"
            }
        })
    }

    fn on_zone(&mut self, reply: Reply, io: &mut Io) {
        let offset = match reply {
            Ok(r) if r.status == 204 => Err(ApiError::unreadable(204, "no account settings")),
            Ok(r) => parse_json(&r).and_then(|v| {
                account_offset(&v).ok_or_else(|| ApiError::unreadable(r.status, "no datetime_settings.timezone_offset"))
            }),
            Err(e) => Err(e),
        };
        self.zone = match offset {
            Ok(offset) => {
                let key = io.cache_key(&self.account);
                io.ctx.metadata.put(
                    &key,
                    ZONE_KIND,
                    Rc::new(vec![json!(offset)]),
                    io.now_ms(),
                );
                Zone::Known(offset)
            }
            Err(e) => Zone::Failed(
                NodeError::api("Reading the account's time zone for \"end of day\"", &e)
                    .with_description("The time zone is needed to know when the account's day ends. Give the deadline as a date or a number of hours instead, or run the node again."),
            ),
        };
        for (first, items, last) in std::mem::take(&mut self.held) {
            self.forward(first, items, last, io);
        }
    }
}

/// The keys of an item's own deadline (amoCRM's, and the node's parameter).
const DEADLINE_KEYS: [&str; 2] = ["complete_till", "completeTill"];

/// Why an item could not be settled.
enum Failure {
    Input(InputError),
    Api(NodeError),
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Failure {
        Failure::Input(e)
    }
}

impl Failure {
    fn about(self, index: usize) -> NodeError {
        match self {
            Failure::Input(e) => NodeError::input(index, &e),
            Failure::Api(e) => e.about_item(index, ": "),
        }
    }
}

/// What the node's "Attached To" parameters name: `attachTo` (`leads`,
/// `contacts`, `companies`, `customers`; `none`, or `keep` on update), then a
/// lead or contact from its picker (ID, list or card URL) or an ID.
fn attachment(p: Params, mode: Mode, account: &AccountAddress) -> Result<Option<(&'static str, u64)>, InputError> {
    let label = "Attached To";
    let kind = match p.string("attachTo", label)? {
        "" | "none" => return Ok(None),
        "keep" if mode == Mode::Update => return Ok(None),
        other => other,
    };
    let by_picker = |param: &str, entity: &Entity| -> Result<u64, InputError> {
        parse_ref(p.get(param).unwrap_or(&Value::Null), account, entity, entity.label).map(|id| id.get())
    };
    let by_id = |what: &str| -> Result<u64, InputError> {
        p.id("attachId", "Attached To ID", what)?
            .map(|id| id.get())
            .ok_or_else(|| InputError::new("Attached To ID", format!("is empty; give the ID of {what}")))
    };
    Ok(Some(match kind {
        "leads" => ("leads", by_picker("leadId", &crate::lead::LEADS)?),
        "contacts" => ("contacts", by_picker("contactId", &crate::contact::CONTACTS)?),
        "companies" => ("companies", by_id("a company")?),
        "customers" => ("customers", by_id("a customer")?),
        other => {
            return Err(InputError::new(
                label,
                format!("\"{other}\" is not a lead, contact, company or customer; choose what the task is attached to"),
            ))
        }
    }))
}

impl Operation for TaskWrites {
    fn on_items(&mut self, first: usize, items: Vec<Value>, last: bool, io: &mut Io) {
        if matches!(self.zone, Zone::Unknown) && self.wants_zone(&items) {
            let cached = io
                .ctx
                .metadata
                .get(&io.cache_key(&self.account), ZONE_KIND, io.now_ms());
            match cached.and_then(|pages| pages.first().and_then(Value::as_i64)) {
                Some(offset) => self.zone = Zone::Known(offset),
                None => {
                    self.zone = Zone::Reading;
                    io.send(Tag::Account, Request::get(self.account.url(ZONE_PATH)), Replay::Safe);
                }
            }
        }
        if matches!(self.zone, Zone::Reading) {
            self.held.push((first, items, last));
            return;
        }
        self.forward(first, items, last, io);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        match tag {
            Tag::Account => self.on_zone(reply, io),
            tag => self.inner.on_reply(tag, reply, io),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone as AccountZone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::{Method, Response};

    /// 2024-05-01T10:20:30Z.
    const NOW_MS: f64 = 1_714_558_830_000.0;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", AccountZone::AmocrmRu).unwrap()
    }

    fn run(mode: Mode, items: Vec<Value>) -> (Run, Step) {
        let mut r = Run::new(
            Driver::new(Box::new(TaskWrites::new(mode, account())))
                .continue_on_fail(true)
                .writes(true),
        );
        r.now_ms = NOW_MS;
        let s = r.start(items);
        (r, s)
    }

    fn body(s: &Step, i: usize) -> Value {
        serde_json::from_str(s.requests[i].request.body.as_deref().unwrap()).unwrap()
    }

    fn errors(s: &Step) -> Vec<(usize, String)> {
        s.emit
            .iter()
            .filter_map(|e| match e {
                Emit::Error { index, error } => Some((*index, error.message.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn deadlines_in_hours_and_dates_become_unix_seconds_and_go_out_in_one_batch() {
        let (_, s) = run(
            Mode::Create,
            vec![
                json!({"text": "Call", "deadline": "inHours", "deadlineHours": 3, "attachTo": "leads",
                       "leadId": {"__rl": true, "mode": "url", "value": "https://shop.amocrm.ru/leads/detail/20000001"}}),
                json!({"text": "Meet", "deadline": "date", "deadlineDate": "2024-05-02T09:00:00+03:00",
                       "attachTo": "companies", "attachId": "49000001", "additionalFields": {"taskTypeId": 2}}),
                json!({"mapping": "auto", "record": {"text": "Mail", "complete_till": {"inHours": 1}, "entity_type": "contacts", "entity_id": 39000001}}),
            ],
        );
        assert_eq!(s.requests.len(), 1);
        assert_eq!(s.requests[0].request.method, Method::Post);
        assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/tasks");
        assert_eq!(
            body(&s, 0),
            json!([
                {"text": "Call", "complete_till": 1_714_558_830 + 3 * 3600, "entity_type": "leads", "entity_id": 20_000_001, "request_id": "0"},
                {"text": "Meet", "complete_till": 1_714_629_600, "task_type_id": 2, "entity_type": "companies", "entity_id": 49_000_001, "request_id": "1"},
                {"text": "Mail", "complete_till": 1_714_558_830 + 3600, "entity_type": "contacts", "entity_id": 39_000_001, "request_id": "2"}
            ])
        );
    }

    #[test]
    fn a_past_or_unreadable_deadline_fails_its_item_before_anything_is_sent() {
        let (_, s) = run(
            Mode::Create,
            vec![
                json!({"text": "Old", "deadline": "date", "deadlineDate": "2024-04-30T18:00:00Z"}),
                json!({"text": "Vague", "deadline": "date", "deadlineDate": "soon"}),
                json!({"mapping": "auto", "record": {"text": "Auto", "complete_till": "yesterday"}}),
                json!({"text": "Fine", "deadline": "inHours", "deadlineHours": "2"}),
            ],
        );
        let errors = errors(&s);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0]
                .1
                .starts_with("Item 0, field \"Deadline\": 2024-04-30T18:00:00Z is in the past"),
            "{}",
            errors[0].1
        );
        assert!(errors[1].1.contains("\"soon\" is not a date"), "{}", errors[1].1);
        assert!(
            errors[2].1.starts_with("Item 2, field \"complete_till\""),
            "{}",
            errors[2].1
        );
        assert_eq!(body(&s, 0).as_array().unwrap().len(), 1);
        assert_eq!(body(&s, 0)[0]["request_id"], "3");
    }

    #[test]
    fn end_of_day_reads_the_accounts_time_zone_once_and_items_keep_their_order() {
        let (mut r, s) = run(
            Mode::Create,
            vec![
                json!({"text": "A", "deadline": "inHours", "deadlineHours": 1}),
                json!({"text": "B", "deadline": "endOfDay"}),
            ],
        );
        assert_eq!(s.requests.len(), 1);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/account?with=datetime_settings"
        );
        let settings = json!({"id": 1, "_embedded": {"datetime_settings": {"timezone": "Europe/Moscow", "timezone_offset": "+03:00"}}});
        let s = r.reply(s.requests[0].id, Response::new(200, settings.to_string()));
        assert_eq!(
            body(&s, 0),
            json!([
                {"text": "A", "complete_till": 1_714_558_830 + 3600, "request_id": "0"},
                {"text": "B", "complete_till": 1_714_597_140, "request_id": "1"}
            ])
        );
        // A second call within a minute uses the cached zone.
        let mut again = Run::new(Driver::new(Box::new(TaskWrites::new(Mode::Create, account()))));
        again.metadata = std::mem::take(&mut r.metadata);
        again.now_ms = NOW_MS + 30_000.0;
        let s = again.start(vec![json!({"text": "C", "deadline": "endOfDay"})]);
        assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/tasks");
    }

    #[test]
    fn when_the_zone_cannot_be_read_only_end_of_day_items_fail() {
        let (mut r, s) = run(
            Mode::Create,
            vec![
                json!({"text": "B", "deadline": "endOfDay"}),
                json!({"text": "A", "deadline": "inHours", "deadlineHours": 1}),
            ],
        );
        let s = r.status(
            s.requests[0].id,
            403,
            r#"{"title":"Forbidden","status":403,"detail":"Access denied"}"#,
        );
        let errors = errors(&s);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].1.starts_with("Item 0: Reading the account's time zone"),
            "{}",
            errors[0].1
        );
        assert_eq!(body(&s, 0)[0]["text"], "A");
    }

    #[test]
    fn update_keeps_the_deadline_unless_told_and_settles_the_rest_inside_update_fields() {
        let (_, s) = run(
            Mode::Update,
            vec![
                json!({"taskId": {"__rl": true, "mode": "id", "value": "30000001"}, "deadline": "keep",
                       "attachTo": "customers", "attachId": 60000001, "updateFields": {"text": "New text"}}),
                json!({"taskId": "30000002", "deadline": "inHours", "deadlineHours": 24}),
                json!({"mapping": "auto", "record": {"id": 30000003, "result": {"text": "Done"}, "is_completed": true, "_links": {}}}),
                json!({"mapping": "auto", "record": {"id": 30000004, "text": "Read back", "result": [], "complete_till": 1_714_600_000}}),
            ],
        );
        assert_eq!(s.requests[0].request.method, Method::Patch);
        assert_eq!(
            body(&s, 0),
            json!([
                {"text": "New text", "entity_type": "customers", "entity_id": 60_000_001, "id": 30_000_001, "request_id": "0"},
                {"complete_till": 1_714_558_830 + 86_400, "id": 30_000_002, "request_id": "1"},
                {"is_completed": true, "result": {"text": "Done"}, "id": 30_000_003, "request_id": "2"},
                {"text": "Read back", "complete_till": 1_714_600_000, "id": 30_000_004, "request_id": "3"}
            ])
        );
    }

    #[test]
    fn attaching_needs_an_id_of_the_chosen_kind_on_this_account() {
        let (_, s) = run(
            Mode::Create,
            vec![
                json!({"text": "x", "deadline": "inHours", "deadlineHours": 1, "attachTo": "companies"}),
                json!({"text": "x", "deadline": "inHours", "deadlineHours": 1, "attachTo": "leads",
                       "leadId": {"__rl": true, "mode": "url", "value": "https://other.amocrm.ru/leads/detail/5"}}),
                json!({"text": "x", "deadline": "inHours", "deadlineHours": 1, "attachTo": "deals", "attachId": 5}),
            ],
        );
        let e = errors(&s);
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].1.contains("\"Attached To ID\": is empty"), "{}", e[0].1);
        assert!(e[1].1.contains("other.amocrm.ru"), "{}", e[1].1);
        assert!(e[2].1.contains("\"deals\" is not a lead"), "{}", e[2].1);
        assert!(s.requests.is_empty());
    }
}
