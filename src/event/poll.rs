//! The AmoCRM Events Trigger's poll: one item of parameters in, the new
//! events out (one item each, oldest first), then one last item
//! `{"$cursor": {...}}` with the cursor to save. When anything fails, the
//! poll emits one error and no cursor: the saved cursor stays, and the next
//! poll reads the same events again (see [`super::cursor`]).
//!
//! Parameters: `filters` (as [`super::filter::events_query`], without a
//! creation range), `cursor` (the saved one, or null), `startFrom` (`now`,
//! or `date` with `startDate`: where a trigger without a cursor begins),
//! `manual` (n8n's "Fetch Test Event": the latest few events, the cursor
//! untouched), `fetchFullRecords`, `with`, `simplify` (see [`super::enrich`]).
//! The clock is the call's.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::ApiError;
use crate::engine::{Io, Operation, Replay, Reply, Tag};
use crate::entity::page::read_page;
use crate::error::{ErrorKind, NodeError};
use crate::event::cursor::{Cursor, Event, Next, Scan};
use crate::event::enrich::{Enricher, Options};
use crate::event::filter::events_query;
use crate::http::Request;
use crate::input::{InputError, Params};

/// Events a manual run shows: the latest few.
pub const TEST_EVENTS: usize = 5;

/// The key of the last item, the cursor to save.
pub const CURSOR_KEY: &str = "$cursor";

enum Stage {
    Idle,
    Scanning(Scan),
    Latest,
    Enriching { events: Vec<Value>, cursor: Option<Cursor> },
    Over,
}

pub struct PollEvents {
    account: AccountAddress,
    stage: Stage,
    fetch: Option<Enricher>,
    page: u32,
    /// The first poll of a trigger starting now: read, emit nothing.
    prime: bool,
}

impl PollEvents {
    pub fn new(account: AccountAddress) -> PollEvents {
        PollEvents {
            account,
            stage: Stage::Idle,
            fetch: None,
            page: 0,
            prime: false,
        }
    }

    fn start(&mut self, params: Params, io: &mut Io) -> Result<(), InputError> {
        let base = events_query(params, false)?;
        if params.bool("fetchFullRecords", "Fetch Full Records")? {
            self.fetch = Some(Enricher::new(self.account.clone(), Options::read(params)?));
        }
        let now_s = (io.now_ms() / 1000.0).floor() as i64;
        if params.bool("manual", "Manual")? {
            let mut q = base;
            q.push("limit", 2 * TEST_EVENTS);
            q.push("page", 1);
            self.stage = Stage::Latest;
            self.send(q.append_to(super::EVENTS_PATH), io);
            return Ok(());
        }
        let cursor = match params.get("cursor") {
            Some(v) => serde_json::from_value::<Cursor>(v.clone()).map_err(|e| {
                InputError::new(
                    "Cursor",
                    format!("the saved cursor is unreadable ({e}); reactivate the workflow"),
                )
            })?,
            None => match params.string("startFrom", "Start From")? {
                "" | "now" => {
                    // Nothing old: the first poll notes the second, and the
                    // events already in it as seen (one request).
                    self.prime = true;
                    Cursor::at(now_s)
                }
                "date" => Cursor::at(
                    params
                        .date("startDate", "Start Date")?
                        .ok_or_else(|| InputError::new("Start Date", "is empty; pick the date to read events from"))?,
                ),
                other => return Err(InputError::new("Start From", format!("\"{other}\" is not now or date"))),
            },
        };
        let mut scan = Scan::new(cursor, base, now_s);
        let next = scan.start();
        self.stage = Stage::Scanning(scan);
        self.step(next, io);
        Ok(())
    }

    fn send(&mut self, path: String, io: &mut Io) {
        self.page += 1;
        io.send(
            Tag::Page {
                item: 0,
                page: self.page,
            },
            Request::get(self.account.url(&path)),
            Replay::Safe,
        );
    }

    fn step(&mut self, next: Next, io: &mut Io) {
        match next {
            Next::Page(path) => self.send(path, io),
            Next::Done { emit, cursor } if self.prime => {
                // Everything read is older than the trigger: seen, not emitted.
                let mut cursor = cursor;
                for e in emit.iter().filter(|e| e.created_at == cursor.since) {
                    if !cursor.seen.contains(&e.id) {
                        cursor.seen.push(e.id.clone());
                    }
                }
                cursor.seen.sort();
                self.emit(Vec::new(), Some(cursor), io);
            }
            Next::Done { emit, cursor } => {
                let events = emit.into_iter().map(|e| e.json).collect();
                self.deliver(events, Some(cursor), io);
            }
            Next::TooMany { second } => self.fail(
                NodeError::new(
                    ErrorKind::Api,
                    format!(
                        "amoCRM has more than {} events in the second {} ({}): more than one poll may read",
                        super::cursor::MAX_PAGES as usize * super::cursor::PAGE_SIZE,
                        second,
                        crate::time::iso_utc(second)
                    ),
                )
                .with_description("Narrow the trigger to the event types or entities you need."),
                io,
            ),
        }
    }

    /// Emits the events (after fetching their records when asked), then the cursor.
    fn deliver(&mut self, events: Vec<Value>, cursor: Option<Cursor>, io: &mut Io) {
        if let Some(fetch) = &mut self.fetch {
            if fetch.send(events.iter(), io) {
                self.stage = Stage::Enriching { events, cursor };
                return;
            }
        }
        self.emit(events, cursor, io);
    }

    fn emit(&mut self, events: Vec<Value>, cursor: Option<Cursor>, io: &mut Io) {
        for event in events {
            let event = match &self.fetch {
                Some(f) => f.attach(event),
                None => event,
            };
            io.emit(0, event);
        }
        if let Some(cursor) = cursor {
            io.emit(0, json!({ CURSOR_KEY: cursor }));
        }
        self.stage = Stage::Over;
    }

    fn fail(&mut self, error: NodeError, io: &mut Io) {
        self.stage = Stage::Over;
        io.fail(0, error);
    }

    fn read_events(body: &str) -> Result<(Vec<Value>, bool), ApiError> {
        let page = read_page::<Value>(body, "events")?;
        Ok((page.entries, page.next))
    }
}

impl Operation for PollEvents {
    fn on_items(&mut self, _first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let Some(item) = items.first() else { return };
        if let Err(e) = self.start(Params::new(item), io) {
            self.fail(NodeError::new(ErrorKind::Input, e.to_string()), io);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        if Enricher::owns(tag) {
            let Stage::Enriching { .. } = &self.stage else { return };
            let fetch = self.fetch.as_mut().expect("enriching without an enricher");
            if let Err(e) = fetch.on_reply(tag, reply) {
                return self.fail(e, io);
            }
            if fetch.is_done() {
                if let Stage::Enriching { events, cursor } = std::mem::replace(&mut self.stage, Stage::Over) {
                    self.emit(events, cursor, io);
                }
            }
            return;
        }
        let page = match reply {
            Ok(r) if r.status == 204 => Ok((Vec::new(), false)),
            Ok(r) => Self::read_events(&r.body),
            Err(e) => Err(e),
        };
        let (events, next) = match page {
            Ok(p) => p,
            Err(e) => return self.fail(NodeError::api("Reading amoCRM's events", &e), io),
        };
        match std::mem::replace(&mut self.stage, Stage::Over) {
            Stage::Scanning(mut scan) => {
                let step = scan.on_page(events, next);
                self.stage = Stage::Scanning(scan);
                self.step(step, io);
            }
            Stage::Latest => {
                let mut latest: Vec<Event> = events.into_iter().filter_map(Event::read).collect();
                latest.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
                latest.truncate(TEST_EVENTS);
                self.deliver(latest.into_iter().map(|e| e.json).collect(), None, io);
            }
            other => self.stage = other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::Response;

    fn run(now_s: i64) -> Run {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut r = Run::new(Driver::new(Box::new(PollEvents::new(account))));
        r.now_ms = now_s as f64 * 1000.0 + 250.0;
        r
    }

    fn page(events: &[(&str, i64, &str, u64)], next: bool) -> Response {
        let list: Vec<Value> = events
            .iter()
            .map(|(id, at, entity, eid)| json!({"id": id, "type": "lead_added", "created_at": at, "entity_type": entity, "entity_id": eid}))
            .collect();
        let links = if next {
            json!({"next": {"href": "x"}})
        } else {
            json!({})
        };
        Response::new(200, json!({"_links": links, "_embedded": {"events": list}}).to_string())
    }

    fn items(s: &Step) -> Vec<Value> {
        s.emit
            .iter()
            .map(|e| match e {
                Emit::Error { error, .. } => panic!("{}", error.message),
                e => e.json().unwrap(),
            })
            .collect()
    }

    #[test]
    fn the_first_poll_from_now_notes_the_second_and_its_events_and_emits_nothing() {
        let mut r = run(1_700_000_000);
        let s = r.start(vec![json!({"startFrom": "now", "filters": {"types": ["lead_added"]}})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/events?filter[type][0]=lead_added&filter[created_at][from]=1700000000&limit=100&page=1"
        );
        let s = r.reply(
            s.requests[0].id,
            page(
                &[("b", 1_700_000_000, "lead", 1), ("a", 1_700_000_000, "lead", 1)],
                false,
            ),
        );
        assert!(s.done);
        assert_eq!(
            items(&s),
            vec![json!({"$cursor": {"since": 1_700_000_000, "seen": ["a", "b"]}})]
        );
        let mut r = run(1_700_000_000);
        let s = r.start(vec![json!({})]);
        let s = r.reply(s.requests[0].id, Response::new(204, ""));
        assert_eq!(
            items(&s),
            vec![json!({"$cursor": {"since": 1_700_000_000, "seen": []}})]
        );
    }

    #[test]
    fn a_poll_emits_new_events_oldest_first_then_the_cursor() {
        let mut r = run(1_700_000_100);
        let s = r.start(vec![json!({
            "filters": {"types": ["lead_added"], "entities": ["lead"]},
            "cursor": {"since": 1_700_000_000, "seen": ["a"]}
        })]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/events?filter[type][0]=lead_added&filter[entity][0]=lead&filter[created_at][from]=1700000000&limit=100&page=1"
        );
        let s = r.reply(
            s.requests[0].id,
            page(
                &[
                    ("c", 1_700_000_050, "lead", 2),
                    ("b", 1_700_000_000, "lead", 1),
                    ("a", 1_700_000_000, "lead", 1),
                ],
                false,
            ),
        );
        assert!(s.done);
        let out = items(&s);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["id"], "b");
        assert_eq!(out[1]["id"], "c");
        assert_eq!(out[2], json!({"$cursor": {"since": 1_700_000_050, "seen": ["c"]}}));
    }

    #[test]
    fn a_failed_page_emits_an_error_and_no_cursor() {
        let mut r = run(100);
        let s = r.start(vec![json!({"cursor": {"since": 50}})]);
        let s = r.reply(
            s.requests[0].id,
            page(&(0..100).map(|_| ("x", 60, "lead", 1)).collect::<Vec<_>>(), true),
        );
        let s = r.reply(
            s.requests[0].id,
            Response::new(
                402,
                r#"{"title":"Payment Required","status":402,"detail":"Account is not paid"}"#,
            ),
        );
        assert!(s.done);
        assert_eq!(s.emit.len(), 1);
        assert!(matches!(&s.emit[0], Emit::Error { error, .. } if error.message.contains("Reading amoCRM's events")));
    }

    #[test]
    fn full_records_are_fetched_once_per_entity_type_before_the_cursor_is_given() {
        let mut r = run(100);
        let s = r.start(vec![
            json!({"cursor": {"since": 50}, "fetchFullRecords": true, "with": ["contacts"]}),
        ]);
        let s = r.reply(
            s.requests[0].id,
            page(
                &[("a", 60, "lead", 7), ("b", 61, "lead", 8), ("c", 62, "contact", 9)],
                false,
            ),
        );
        assert_eq!(s.requests.len(), 2);
        assert!(s.emit.is_empty(), "nothing before the records are in");
        let lead_req = s
            .requests
            .iter()
            .find(|q| q.request.url.contains("/leads?"))
            .unwrap()
            .clone();
        let contact_req = s
            .requests
            .iter()
            .find(|q| q.request.url.contains("/contacts?"))
            .unwrap()
            .clone();
        assert!(lead_req
            .request
            .url
            .ends_with("filter[id][0]=7&filter[id][1]=8&with=contacts&limit=250"));
        assert!(contact_req.request.url.ends_with("filter[id][0]=9&limit=250"));
        let s = r.reply(
            lead_req.id,
            Response::new(200, json!({"_embedded": {"leads": [{"id": 7}, {"id": 8}]}}).to_string()),
        );
        assert!(s.emit.is_empty());
        let s = r.reply(contact_req.id, Response::new(204, ""));
        let out = items(&s);
        assert_eq!(out[0]["record"], json!({"id": 7}));
        assert_eq!(out[2]["record"], Value::Null);
        assert_eq!(out[3]["$cursor"]["since"], 62);
    }

    #[test]
    fn a_manual_run_shows_the_latest_few_and_no_cursor() {
        let mut r = run(100);
        let s = r.start(vec![json!({"manual": true, "cursor": {"since": 1}})]);
        assert!(s.requests[0].request.url.ends_with("/api/v4/events?limit=10&page=1"));
        let evs: Vec<(String, i64)> = (0..10).map(|i| (format!("e{i}"), i)).collect();
        let refs: Vec<(&str, i64, &str, u64)> = evs.iter().map(|(id, t)| (id.as_str(), *t, "lead", 1)).collect();
        let s = r.reply(s.requests[0].id, page(&refs, true));
        let out = items(&s);
        assert_eq!(
            out.iter().map(|e| e["id"].as_str().unwrap()).collect::<Vec<_>>(),
            ["e9", "e8", "e7", "e6", "e5"]
        );
    }

    #[test]
    fn a_start_date_reads_from_that_date_and_bad_input_is_refused() {
        let mut r = run(2_000_000_000);
        let s = r.start(vec![json!({"startFrom": "date", "startDate": "2024-05-01T00:00:00Z"})]);
        assert!(s.requests[0]
            .request
            .url
            .contains("filter[created_at][from]=1714521600&"));
        for bad in [
            json!({"startFrom": "date"}),
            json!({"startFrom": "yesterday"}),
            json!({"cursor": "x"}),
            json!({"filters": {"types": ["nope"]}}),
        ] {
            let s = run(1).start(vec![bad.clone()]);
            assert!(s.requests.is_empty(), "{bad}");
            assert!(matches!(&s.emit[0], Emit::Error { .. }), "{bad}");
        }
    }
}
