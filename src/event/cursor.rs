//! The events trigger's cursor, sans-IO: given the saved cursor, the clock
//! and the pages amoCRM answers, it says which page to ask for next, which
//! events to emit and what to save.
//!
//! amoCRM stamps events with whole seconds and pages them with page numbers,
//! without a documented order. So the cursor is a second and the IDs already
//! emitted at that second: a poll asks for `filter[created_at][from]=second`
//! (inclusive), skips the IDs it has, and emits the rest in time order.
//! Events that share a second with the last poll are neither lost (the next
//! poll starts at that second again) nor repeated (their IDs are known).
//!
//! * The whole range is read before anything is emitted: whatever order
//!   amoCRM pages in, the poll knows every event since the cursor, and the
//!   cursor moves to the newest second it saw. An event read twice because a
//!   new one pushed it onto the next page is one event (deduplicated by ID).
//! * A failed request ends the poll with nothing emitted and the cursor
//!   unchanged: the next poll reads the same range again, plus what came
//!   since.
//! * Bursts: pages are read one after the other (a short page or a page
//!   without a `next` link ends the range, so a quiet account costs one
//!   request per poll). A range of more than [`MAX_PAGES`] pages is halved
//!   (`filter[created_at][to]`) until it fits; the rest is read by the next
//!   poll, so each poll holds a bounded number of events. A single second
//!   holding more than that fails the poll, saying so.
//! * The first poll of a trigger that starts "now" saves the clock's second
//!   and emits nothing, with no request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::query::Query;

/// amoCRM's largest page of events.
pub const PAGE_SIZE: usize = 100;

/// Pages read for one range before it is halved (plus one, since amoCRM
/// links a last full page to an empty one): 10,000 events, about 15 seconds
/// at amoCRM's 7 requests a second.
pub const MAX_PAGES: u32 = 100;

/// Halved ranges a poll may pass over (each needs its own reads).
const MAX_MOVES: u32 = 64;

/// What a trigger saves between polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Unix second: events from this second on are read.
    pub since: i64,
    /// IDs of the events at `since` already emitted.
    #[serde(default)]
    pub seen: Vec<String>,
}

impl Cursor {
    pub fn at(since: i64) -> Cursor {
        Cursor {
            since,
            seen: Vec::new(),
        }
    }
}

/// One event as the scan needs it: its ID, second and JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub created_at: i64,
    pub json: Value,
}

impl Event {
    /// An event of amoCRM's list; `None` without a usable ID or time.
    pub fn read(json: Value) -> Option<Event> {
        let id = match json.get("id")? {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let created_at = json.get("created_at")?.as_i64()?;
        Some(Event { id, created_at, json })
    }
}

/// What the scan wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Ask for this page (path and query, relative to the account).
    Page(String),
    /// The range is read: emit these, in this order, and save the cursor.
    Done { emit: Vec<Event>, cursor: Cursor },
    /// One second holds more events than a poll may read.
    TooMany { second: i64 },
}

/// One poll's reading of the events since the cursor.
#[derive(Debug)]
pub struct Scan {
    cursor: Cursor,
    base: Query,
    now_s: i64,
    /// Upper bound once the range was halved.
    to: Option<i64>,
    page: u32,
    /// Everything read at or after the cursor, by ID.
    events: BTreeMap<String, Event>,
    /// Events each poll may read (the page cap times the page size; smaller in tests).
    max_pages: u32,
    page_size: usize,
    /// Halved ranges passed over in this poll.
    moves: u32,
}

impl Scan {
    /// A scan from `cursor`, with the filters in `base`, at clock second `now_s`.
    pub fn new(cursor: Cursor, base: Query, now_s: i64) -> Scan {
        Scan {
            cursor,
            base,
            now_s,
            to: None,
            page: 0,
            events: BTreeMap::new(),
            max_pages: MAX_PAGES,
            page_size: PAGE_SIZE,
            moves: 0,
        }
    }

    /// Smaller pages and range caps, for tests.
    pub fn with_limits(mut self, page_size: usize, max_pages: u32) -> Scan {
        self.page_size = page_size.max(1);
        self.max_pages = max_pages.max(1);
        self
    }

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The first request.
    pub fn start(&mut self) -> Next {
        self.page = 1;
        Next::Page(self.path())
    }

    fn path(&self) -> String {
        let mut q = self.base.clone();
        q.push("filter[created_at][from]", self.cursor.since);
        if let Some(to) = self.to {
            q.push("filter[created_at][to]", to);
        }
        q.push("limit", self.page_size);
        q.push("page", self.page);
        q.append_to(super::EVENTS_PATH)
    }

    /// The current page arrived: its events (none for a 204) and whether it
    /// links to a next one.
    pub fn on_page(&mut self, events: Vec<Value>, next: bool) -> Next {
        let full = events.len() >= self.page_size;
        for event in events.into_iter().filter_map(Event::read) {
            let in_range = event.created_at >= self.cursor.since && self.to.is_none_or(|to| event.created_at <= to);
            if in_range {
                self.events.entry(event.id.clone()).or_insert(event);
            }
        }
        if !(full && next) {
            return self.finish();
        }
        // One page past the cap: amoCRM links a last full page to an empty one.
        if self.page <= self.max_pages {
            self.page += 1;
            return Next::Page(self.path());
        }
        // More than a poll may hold: read the older half of the range now.
        let newest = self.events.values().map(|e| e.created_at).max().unwrap_or(self.now_s);
        let upper = self.to.unwrap_or(newest.max(self.now_s));
        let since = self.cursor.since;
        if upper <= since {
            return Next::TooMany { second: since };
        }
        let mid = since + (upper - since) / 2;
        self.to = Some(mid);
        self.events.retain(|_, e| e.created_at <= mid);
        self.page = 1;
        Next::Page(self.path())
    }

    fn finish(&mut self) -> Next {
        // A halved range that held nothing new (only events already seen at
        // the cursor's second): it is done, so the poll goes on from its end
        // rather than stopping where the next poll would stop again.
        if let Some(to) = self.to {
            let since = self.cursor.since;
            let nothing_new = self
                .events
                .values()
                .all(|e| e.created_at == since && self.cursor.seen.contains(&e.id));
            if nothing_new && self.moves < MAX_MOVES {
                self.moves += 1;
                // Every second of the range is read; its last one is read
                // again (for late arrivals), unless it is the cursor's own.
                self.cursor = Cursor::at(if to > since { to } else { since + 1 });
                self.to = None;
                self.events.clear();
                self.page = 1;
                return Next::Page(self.path());
            }
        }
        let old = &self.cursor;
        let events = std::mem::take(&mut self.events);
        let newest = events.values().map(|e| e.created_at).max();
        let cursor = match newest {
            None => old.clone(),
            Some(since) => {
                let mut seen: Vec<String> = if since == old.since {
                    old.seen.clone()
                } else {
                    Vec::new()
                };
                for e in events.values().filter(|e| e.created_at == since) {
                    if !seen.contains(&e.id) {
                        seen.push(e.id.clone());
                    }
                }
                seen.sort();
                Cursor { since, seen }
            }
        };
        let mut emit: Vec<Event> = events
            .into_values()
            .filter(|e| !(e.created_at == old.since && old.seen.contains(&e.id)))
            .collect();
        emit.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Next::Done { emit, cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// A fake amoCRM event list: newest first (or oldest first), paged by
    /// number, filtered by `created_at` from/to as the query says.
    struct Server {
        events: Vec<(String, i64)>,
        newest_first: bool,
        requests: usize,
    }

    fn param(url: &str, key: &str) -> Option<i64> {
        let q = url.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == key).then(|| v.parse().ok()).flatten()
        })
    }

    impl Server {
        fn answer(&mut self, url: &str) -> (Vec<Value>, bool) {
            self.requests += 1;
            let from = param(url, "filter[created_at][from]").unwrap_or(i64::MIN);
            let to = param(url, "filter[created_at][to]").unwrap_or(i64::MAX);
            let limit = param(url, "limit").unwrap() as usize;
            let page = param(url, "page").unwrap() as usize;
            let mut list: Vec<&(String, i64)> = self.events.iter().filter(|(_, t)| *t >= from && *t <= to).collect();
            list.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            if self.newest_first {
                list.reverse();
            }
            let start = (page - 1) * limit;
            let slice: Vec<Value> = list
                .iter()
                .skip(start)
                .take(limit)
                .map(|(id, t)| json!({"id": id, "created_at": t, "type": "lead_added"}))
                .collect();
            let next = slice.len() == limit;
            (slice, next)
        }
    }

    /// Answers the scan's pages until it is done or gives up.
    fn drive(server: &mut Server, mut scan: Scan) -> Next {
        let mut next = scan.start();
        while let Next::Page(url) = &next {
            let (events, more) = server.answer(url);
            next = scan.on_page(events, more);
        }
        next
    }

    /// Runs one poll to the end; the emitted IDs and the new cursor.
    fn poll(server: &mut Server, cursor: Cursor, limits: (usize, u32)) -> (Vec<String>, Cursor) {
        let now = server.events.iter().map(|e| e.1).max().unwrap_or(0) + 1;
        match drive(
            server,
            Scan::new(cursor, Query::new(), now).with_limits(limits.0, limits.1),
        ) {
            Next::Done { emit, cursor } => (emit.into_iter().map(|e| e.id).collect(), cursor),
            other => panic!("{other:?}"),
        }
    }

    fn id(n: usize) -> String {
        format!("e{n:05}")
    }

    #[test]
    fn the_first_request_reads_from_the_cursor_second() {
        let mut q = Query::new();
        q.push("filter[type][0]", "lead_added");
        let mut scan = Scan::new(Cursor::at(1_700_000_000), q, 1_700_000_100);
        assert_eq!(
            scan.start(),
            Next::Page(
                "/api/v4/events?filter[type][0]=lead_added&filter[created_at][from]=1700000000&limit=100&page=1".into()
            )
        );
    }

    #[test]
    fn nothing_new_costs_one_request_and_keeps_the_cursor() {
        let mut server = Server {
            events: vec![],
            newest_first: true,
            requests: 0,
        };
        let cursor = Cursor {
            since: 100,
            seen: vec!["a".into()],
        };
        let (out, next) = poll(&mut server, cursor.clone(), (100, 100));
        assert!(out.is_empty());
        assert_eq!(next, cursor);
        assert_eq!(server.requests, 1);
    }

    #[test]
    fn events_sharing_the_cursor_second_are_emitted_once() {
        // Two events at second 100 were emitted by the last poll; two more
        // at that second, and one later, have come since.
        let events = vec![
            ("a".to_string(), 100),
            ("b".to_string(), 100),
            ("c".to_string(), 100),
            ("d".to_string(), 100),
            ("e".to_string(), 101),
        ];
        let mut server = Server {
            events,
            newest_first: true,
            requests: 0,
        };
        let (out, cursor) = poll(
            &mut server,
            Cursor {
                since: 100,
                seen: vec!["a".into(), "b".into()],
            },
            (100, 100),
        );
        assert_eq!(out, ["c", "d", "e"]);
        assert_eq!(
            cursor,
            Cursor {
                since: 101,
                seen: vec!["e".into()]
            }
        );
        // Polled again with nothing new: nothing.
        let (out, again) = poll(&mut server, cursor.clone(), (100, 100));
        assert!(out.is_empty());
        assert_eq!(again, cursor);
        // One more event in second 101, after the poll: only it.
        server.events.push(("f".into(), 101));
        let (out, cursor) = poll(&mut server, again, (100, 100));
        assert_eq!(out, ["f"]);
        assert_eq!(
            cursor,
            Cursor {
                since: 101,
                seen: vec!["e".into(), "f".into()]
            }
        );
    }

    #[test]
    fn a_burst_is_read_page_by_page_and_emitted_oldest_first() {
        let events: Vec<(String, i64)> = (0..2_500).map(|n| (id(n), 1_000 + (n / 7) as i64)).collect();
        let mut server = Server {
            events,
            newest_first: true,
            requests: 0,
        };
        let (out, cursor) = poll(&mut server, Cursor::at(1_000), (100, 100));
        assert_eq!(out, (0..2_500).map(id).collect::<Vec<_>>());
        assert_eq!(server.requests, 26, "25 full pages and the empty one after");
        assert_eq!(cursor.since, 1_000 + 2_499 / 7);
    }

    #[test]
    fn a_range_larger_than_a_poll_is_halved_and_finished_by_the_next_polls() {
        let events: Vec<(String, i64)> = (0..1_000).map(|n| (id(n), 5_000 + n as i64)).collect();
        let mut server = Server {
            events,
            newest_first: true,
            requests: 0,
        };
        let mut cursor = Cursor::at(5_000);
        let mut all = Vec::new();
        for _ in 0..200 {
            let (out, next) = poll(&mut server, cursor.clone(), (10, 5));
            let done = out.is_empty() && next == cursor;
            all.extend(out);
            cursor = next;
            if done {
                break;
            }
        }
        assert_eq!(all, (0..1_000).map(id).collect::<Vec<_>>());
    }

    #[test]
    fn one_second_holding_more_than_a_poll_may_read_says_so() {
        let events: Vec<(String, i64)> = (0..100).map(|n| (id(n), 7)).collect();
        let mut server = Server {
            events,
            newest_first: false,
            requests: 0,
        };
        let scan = Scan::new(Cursor::at(7), Query::new(), 7).with_limits(10, 3);
        assert_eq!(drive(&mut server, scan), Next::TooMany { second: 7 });
    }

    #[test]
    fn events_before_the_cursor_and_unreadable_ones_are_ignored() {
        let mut scan = Scan::new(Cursor::at(50), Query::new(), 60);
        scan.start();
        let next = scan.on_page(
            vec![
                json!({"id": "old", "created_at": 49}),
                json!({"id": 7, "created_at": 55}),
                json!({"created_at": 56}),
                json!({"id": "x", "created_at": "soon"}),
            ],
            false,
        );
        match next {
            Next::Done { emit, cursor } => {
                assert_eq!(emit.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["7"]);
                assert_eq!(
                    cursor,
                    Cursor {
                        since: 55,
                        seen: vec!["7".into()]
                    }
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_cursor_round_trips_as_json() {
        let c = Cursor {
            since: 5,
            seen: vec!["a".into()],
        };
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"since":5,"seen":["a"]}"#);
        let back: Cursor = serde_json::from_str(r#"{"since":5}"#).unwrap();
        assert_eq!(back, Cursor::at(5));
    }

    /// A history of events arriving between polls: for each poll, the events
    /// that appeared before it, each with a second no earlier than the
    /// seconds before it minus zero (amoCRM stamps events when they happen),
    /// many sharing a second.
    fn history() -> impl Strategy<Value = (Vec<Vec<u8>>, bool, usize, u32)> {
        (
            prop::collection::vec(prop::collection::vec(0u8..3, 0..40), 1..8),
            any::<bool>(),
            1usize..12,
            1u32..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the order of pages, the page size, the poll cap, and
        /// however events share seconds across polls, every event is emitted
        /// exactly once, in time order within a poll.
        #[test]
        fn every_event_exactly_once((batches, newest_first, page_size, max_pages) in history()) {
            // A poll must hold the busiest second (amoCRM: 10,000 events);
            // ranges beyond that are halved, which small caps exercise.
            let mut per_second: BTreeMap<i64, usize> = BTreeMap::new();
            let mut t = 0i64;
            for step in batches.iter().flatten() {
                t += i64::from(*step);
                *per_second.entry(t).or_default() += 1;
            }
            let busiest = per_second.values().copied().max().unwrap_or(0);
            let max_pages = max_pages.max((busiest / page_size) as u32);
            let mut server = Server { events: vec![], newest_first, requests: 0 };
            let mut cursor = Cursor::at(0);
            let mut now = 0i64;
            let mut n = 0usize;
            let mut emitted: Vec<String> = Vec::new();
            for batch in &batches {
                // Steps of 0, 1 or 2 seconds: 0 puts the event in the same
                // second as the previous one, which may already be polled.
                for step in batch {
                    now += i64::from(*step);
                    server.events.push((id(n), now));
                    n += 1;
                }
                // Polls until caught up (a capped poll leaves the rest).
                for _ in 0..64 {
                    let (out, next) = poll(&mut server, cursor.clone(), (page_size, max_pages));
                    let seconds: Vec<i64> = out.iter().map(|i| server.events.iter().find(|e| &e.0 == i).unwrap().1).collect();
                    prop_assert!(seconds.windows(2).all(|w| w[0] <= w[1]));
                    let done = out.is_empty() && next == cursor;
                    emitted.extend(out);
                    cursor = next;
                    if done { break; }
                }
            }
            let mut want: Vec<String> = (0..n).map(id).collect();
            let mut got = emitted.clone();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want, "emitted {:?}", emitted);
        }
    }
}
