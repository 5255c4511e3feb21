//! The driver: numbers the requests an operation asks for, keeps a few in
//! flight, retries what [`retry`](super::retry) says to retry, renews an
//! expired token once for all ([`reauth`](super::reauth)), and decides when
//! the call is over.
//!
//! When the node stops on errors (n8n's "Continue On Fail" off), the first
//! item error stops the call: nothing more is sent, the requests already on
//! their way are waited for, and the call ends with that error, completed by
//! what was written to amoCRM before it (items and record IDs), so that a
//! failing node never hides writes it made.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use crate::api_error::{ApiError, ApiErrorKind};
use crate::engine::reauth::{OnProbe, OnUnauthorized, Renewal};
use crate::engine::retry::{decide, Decision, Replay};
use crate::engine::step::{Emit, Outgoing, Step};
use crate::engine::{Context, Io, Operation, Tag};
use crate::error::{ErrorKind, NodeError, Written};
use crate::http::{Outcome, Request};
use crate::metadata::MetadataCache;

/// How long the shell waits for an answer. amoCRM can take tens of seconds
/// for a batch of 250 leads with custom fields; past two minutes the request
/// is treated as a broken connection (retried only when safe).
pub const REQUEST_TIMEOUT_MS: u64 = 120_000;

/// Requests of one operation in flight at once. The shared rate limiter
/// spaces them anyway; the cap keeps memory and ordering sane when a node
/// gets thousands of items.
pub const MAX_IN_FLIGHT: usize = 8;

/// The key of an input item the shell could not read (n8n failed to resolve
/// its parameters); its value is n8n's message.
pub const READ_ERROR: &str = "$readError";

/// Ranges of written items named in a stop message; the full list travels
/// in the error's `written` field.
const SUMMARY_RANGES: usize = 12;

/// What the driver is handed with every event: the clock and the process's
/// shared metadata.
pub struct Env<'a> {
    pub now_ms: f64,
    pub metadata: &'a mut MetadataCache,
    /// Whose metadata: the credential the call runs with (one credential's
    /// answers are never served to another).
    pub scope: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Op(Tag),
    /// The re-authentication probe rather than a request of the operation.
    Probe,
}

#[derive(Debug)]
struct Attempt {
    purpose: Purpose,
    request: Request,
    replay: Replay,
    /// Resends so far.
    retries: usize,
    delay_ms: u64,
    /// Already resent once after a token renewal.
    reauthed: bool,
    /// The token generation it was sent with.
    epoch: u32,
}

impl Attempt {
    fn new(purpose: Purpose, request: Request, replay: Replay) -> Attempt {
        Attempt {
            purpose,
            request,
            replay,
            retries: 0,
            delay_ms: 0,
            reauthed: false,
            epoch: 0,
        }
    }
}

/// Why the call stops early: the first item error, and what else failed.
struct Stop {
    error: NodeError,
    /// Items whose write may have been applied although no answer said so.
    unsure: Vec<usize>,
    /// Items that failed after the first.
    failed: usize,
}

pub struct Driver {
    op: Box<dyn Operation>,
    continue_on_fail: bool,
    writes: bool,
    next_id: u32,
    in_flight: BTreeMap<u32, Attempt>,
    queue: VecDeque<Attempt>,
    max_in_flight: usize,
    renewal: Renewal<Attempt>,
    /// Every record an item wrote, in the order the answers came.
    written: Vec<(usize, u64)>,
    stop: Option<Stop>,
    /// The shell has handed over its last input item.
    input_complete: bool,
    fatal_sent: bool,
}

impl Driver {
    pub fn new(op: Box<dyn Operation>) -> Driver {
        Driver {
            op,
            continue_on_fail: true,
            writes: false,
            next_id: 0,
            in_flight: BTreeMap::new(),
            queue: VecDeque::new(),
            max_in_flight: MAX_IN_FLIGHT,
            renewal: Renewal::new(None),
            written: Vec::new(),
            stop: None,
            input_complete: false,
            fatal_sent: false,
        }
    }

    /// Whether the node keeps going after an item fails (n8n's Continue On
    /// Fail); when not, the first item error stops the call.
    pub fn continue_on_fail(mut self, yes: bool) -> Driver {
        self.continue_on_fail = yes;
        self
    }

    /// The operation writes to amoCRM: a stop message then says what was
    /// written, even when nothing was.
    pub fn writes(mut self, yes: bool) -> Driver {
        self.writes = yes;
        self
    }

    pub fn with_max_in_flight(mut self, n: usize) -> Driver {
        self.max_in_flight = n.max(1);
        self
    }

    /// Renews expired tokens with `probe`, a cheap GET on the account.
    pub fn with_reauthentication(mut self, probe: Request) -> Driver {
        self.renewal = Renewal::new(Some(probe));
        self
    }

    /// Hands over input items `first…` (`last`: no more will come). An item
    /// the shell could not read arrives as `{"$readError": message}`: it
    /// fails here, and the operation sees `null` in its place.
    pub fn feed(&mut self, first: usize, mut items: Vec<Value>, last: bool, env: Env) -> Step {
        if self.input_complete {
            return Step::fatal(NodeError::internal("the shell sent input items after the last ones"));
        }
        self.input_complete = last;
        let mut io = self.io(env);
        for (k, item) in items.iter_mut().enumerate() {
            if let Some(message) = item.get(READ_ERROR).and_then(Value::as_str) {
                io.fail(
                    first + k,
                    NodeError::new(ErrorKind::Input, message).about_item(first + k, ": "),
                );
                *item = Value::Null;
            }
        }
        if self.stop.is_none() {
            self.op.on_items(first, items, last, &mut io);
        }
        let (calls, emits, written) = (io.calls, io.emits, io.written);
        self.step(calls, emits, written, false)
    }

    /// The first step: the whole input, or its first chunk.
    pub fn start(&mut self, items: Vec<Value>, last: bool, env: Env) -> Step {
        self.feed(0, items, last, env)
    }

    /// Hands the outcome of request `id` to the driver.
    pub fn on_outcome(&mut self, id: u32, outcome: Outcome, env: Env) -> Step {
        let Some(attempt) = self.in_flight.remove(&id) else {
            return Step::fatal(NodeError::internal(format!(
                "the core got an answer for request {id}, which it never asked for"
            )));
        };
        let mut io = self.io(env);
        let mut throttled = false;
        match attempt.purpose {
            Purpose::Probe => self.on_probe_outcome(attempt, outcome, &mut io, &mut throttled),
            Purpose::Op(tag) => match decide(&attempt.replay, attempt.retries, outcome) {
                Decision::Retry { delay_ms, rate_limited } => {
                    throttled = rate_limited;
                    self.retry(attempt, delay_ms);
                }
                Decision::Deliver(Err(e)) if e.kind == ApiErrorKind::Unauthorized && self.renewal.can_renew() => {
                    self.on_unauthorized(attempt, e, &mut io)
                }
                Decision::Deliver(reply) => self.op.on_reply(tag, reply, &mut io),
            },
        }
        let (calls, emits, written) = (io.calls, io.emits, io.written);
        self.step(calls, emits, written, throttled)
    }

    fn io<'a>(&self, env: Env<'a>) -> Io<'a> {
        Io::new(Context {
            now_ms: env.now_ms,
            continue_on_fail: self.continue_on_fail,
            metadata: env.metadata,
            scope: env.scope,
        })
    }

    /// Front of the queue: a retried request keeps its place.
    fn retry(&mut self, attempt: Attempt, delay_ms: u64) {
        self.queue.push_front(Attempt {
            retries: attempt.retries + 1,
            delay_ms,
            ..attempt
        });
    }

    fn deliver(&mut self, attempt: Attempt, error: ApiError, io: &mut Io) {
        if let Purpose::Op(tag) = attempt.purpose {
            self.op.on_reply(tag, Err(error), io);
        }
    }

    fn on_unauthorized(&mut self, attempt: Attempt, error: ApiError, io: &mut Io) {
        let (epoch, reauthed) = (attempt.epoch, attempt.reauthed);
        match self.renewal.on_unauthorized(attempt, epoch, reauthed, error) {
            OnUnauthorized::Resend(a) => self.queue.push_front(Attempt { delay_ms: 0, ..a }),
            OnUnauthorized::Deliver(a, e) => self.deliver(a, e, io),
            OnUnauthorized::Parked => {}
            OnUnauthorized::Probe(probe) => self.queue.push_front(Attempt::new(Purpose::Probe, probe, Replay::Safe)),
        }
    }

    fn on_probe_outcome(&mut self, attempt: Attempt, outcome: Outcome, io: &mut Io, throttled: &mut bool) {
        match self.renewal.on_probe(outcome, attempt.retries) {
            OnProbe::Renewed(parked) => {
                for a in parked.into_iter().rev() {
                    self.queue.push_front(Attempt {
                        reauthed: true,
                        delay_ms: 0,
                        ..a
                    });
                }
            }
            OnProbe::Retry { delay_ms, rate_limited } => {
                *throttled = rate_limited;
                self.retry(attempt, delay_ms);
            }
            OnProbe::Failed(parked, error) => {
                for a in parked {
                    self.deliver(a, error.clone(), io);
                }
            }
        }
    }

    fn step(
        &mut self,
        calls: Vec<(Tag, Request, Replay)>,
        emits: Vec<Emit>,
        written: Vec<(usize, u64)>,
        throttled: bool,
    ) -> Step {
        self.written.extend(written);
        let emit = self.screen(emits);
        if self.stop.is_none() {
            for (tag, request, replay) in calls {
                self.queue.push_back(Attempt::new(Purpose::Op(tag), request, replay));
            }
        }
        let mut requests = Vec::new();
        while self.in_flight.len() < self.max_in_flight {
            // While a renewal is under way, only the probe goes out: anything
            // else would carry the expired token.
            if self.renewal.probing() && !self.queue.front().is_some_and(|a| a.purpose == Purpose::Probe) {
                break;
            }
            let Some(mut attempt) = self.queue.pop_front() else {
                break;
            };
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            attempt.epoch = self.renewal.epoch();
            requests.push(Outgoing {
                id,
                delay_ms: attempt.delay_ms,
                timeout_ms: REQUEST_TIMEOUT_MS,
                request: attempt.request.clone(),
            });
            self.in_flight.insert(id, attempt);
        }
        let idle = self.in_flight.is_empty() && self.queue.is_empty();
        let mut step = Step {
            requests,
            emit,
            done: idle && (self.input_complete || self.stop.is_some()),
            throttled,
            fatal: None,
        };
        if step.done && !self.fatal_sent {
            if let Some(stop) = self.stop.take() {
                self.fatal_sent = true;
                step.fatal = Some(self.stop_error(stop));
            }
        }
        step
    }

    /// Passes emits through, or, when the node stops on errors, turns the
    /// first item error into a stop and keeps the later ones for its message.
    fn screen(&mut self, emits: Vec<Emit>) -> Vec<Emit> {
        if self.continue_on_fail {
            return emits;
        }
        let mut out = Vec::with_capacity(emits.len());
        for emit in emits {
            match emit {
                Emit::Error { index, error } => {
                    match &mut self.stop {
                        None => {
                            let unsure = if error.unsure { vec![index] } else { Vec::new() };
                            let mut error = error;
                            error.item_index = Some(index);
                            self.stop = Some(Stop {
                                error,
                                unsure,
                                failed: 0,
                            });
                            // What is queued was never sent: it stays unsent.
                            self.queue.clear();
                            self.renewal.take_parked();
                        }
                        Some(stop) => {
                            stop.failed += 1;
                            if error.unsure {
                                stop.unsure.push(index);
                            }
                        }
                    }
                }
                other => out.push(other),
            }
        }
        out
    }

    /// The error that ends a stopped call: the first item error, with what
    /// was written before it.
    fn stop_error(&self, stop: Stop) -> NodeError {
        let Stop {
            mut error,
            mut unsure,
            failed,
        } = stop;
        let mut notes: Vec<String> = Vec::new();
        if self.writes || !self.written.is_empty() {
            notes.push(if self.written.is_empty() {
                "Nothing was written to amoCRM before the node stopped.".to_string()
            } else {
                format!(
                    "Written to amoCRM before the node stopped ({} of them; with Continue On Fail they would be output items): {}.",
                    self.written.len(),
                    written_summary(&self.written)
                )
            });
        }
        if !unsure.is_empty() {
            unsure.sort_unstable();
            unsure.dedup();
            notes.push(format!(
                "May have been written although no answer confirmed it: items {}.",
                index_ranges(&unsure)
            ));
        }
        if failed > 0 {
            notes.push(format!("{failed} other item(s) failed too."));
        }
        if !notes.is_empty() {
            let notes = notes.join(" ");
            error.description = Some(match error.description.take() {
                Some(d) => format!("{d}\n\n{notes}"),
                None => notes,
            });
        }
        let mut written: Vec<Written> = self.written.iter().map(|&(index, id)| Written { index, id }).collect();
        written.sort_by_key(|w| (w.index, w.id));
        error.written = written;
        error
    }
}

/// `0–49 → IDs 101–150, 60 → ID 170, …`: runs of consecutive items whose IDs
/// also run consecutively, in item order.
fn written_summary(written: &[(usize, u64)]) -> String {
    let mut sorted = written.to_vec();
    sorted.sort_unstable();
    let mut runs: Vec<(usize, usize, u64, u64)> = Vec::new();
    for (index, id) in sorted {
        match runs.last_mut() {
            Some(run) if run.1 + 1 == index && run.3 + 1 == id => {
                run.1 = index;
                run.3 = id;
            }
            _ => runs.push((index, index, id, id)),
        }
    }
    let shown: Vec<String> = runs
        .iter()
        .take(SUMMARY_RANGES)
        .map(|&(a, b, x, y)| {
            if a == b {
                format!("item {a} → ID {x}")
            } else {
                format!("items {a}–{b} → IDs {x}–{y}")
            }
        })
        .collect();
    let mut text = shown.join(", ");
    if runs.len() > SUMMARY_RANGES {
        let rest: usize = runs[SUMMARY_RANGES..].iter().map(|r| r.1 - r.0 + 1).sum();
        text.push_str(&format!(
            " and {rest} more (all are listed in the error's `written` field)"
        ));
    }
    text
}

/// `0–4, 7, 9–12` for sorted, distinct indexes.
pub fn index_ranges(indexes: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indexes.len() {
        let start = indexes[i];
        let mut end = start;
        while i + 1 < indexes.len() && indexes[i + 1] == end + 1 {
            i += 1;
            end = indexes[i];
        }
        parts.push(match end - start {
            0 => start.to_string(),
            1 => format!("{start}, {end}"),
            _ => format!("{start}–{end}"),
        });
        i += 1;
    }
    if parts.len() > SUMMARY_RANGES {
        let more = parts.len() - SUMMARY_RANGES;
        parts.truncate(SUMMARY_RANGES);
        parts.push(format!("and {more} more ranges"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::retry::{RATE_LIMIT_BACKOFF_MS, SERVER_RETRY_BACKOFF_MS, TOKEN_FAILURE};
    use crate::engine::testing::Run;
    use crate::engine::Reply;
    use serde_json::json;

    /// Sends one request per item (`{"unsafe": "what"}` makes it unsafe to
    /// repeat) and reports every reply as an item; `{"bad": true}` fails the
    /// item at once; a reply with a body `{"id": N}` counts as a write.
    struct Echo;

    impl Operation for Echo {
        fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
            for (index, item) in crate::engine::live_items(first, &items) {
                if item["bad"] == json!(true) {
                    io.fail(index, NodeError::internal(format!("item {index} is bad")));
                    continue;
                }
                let replay = match item["unsafe"].as_str() {
                    Some(what) => Replay::Unsafe(what.to_string()),
                    None => Replay::Safe,
                };
                io.send(
                    Tag::Item(index),
                    Request::get(format!("https://x.amocrm.ru/{index}")),
                    replay,
                );
            }
        }
        fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
            let Tag::Item(index) = tag else { panic!("{tag:?}") };
            match reply {
                Ok(r) => {
                    if let Some(id) = serde_json::from_str::<Value>(&r.body)
                        .ok()
                        .and_then(|b| b["id"].as_u64())
                    {
                        io.written(index, id);
                    }
                    io.emit(index, json!({ "status": r.status }))
                }
                Err(e) => io.fail(index, NodeError::api("", &e)),
            }
        }
    }

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|_| json!({})).collect()
    }

    fn run() -> Run {
        Run::new(Driver::new(Box::new(Echo)))
    }

    fn oauth() -> Run {
        Run::new(
            Driver::new(Box::new(Echo))
                .with_reauthentication(Request::get("https://x.amocrm.ru/api/v4/account".into())),
        )
    }

    fn error_of(emit: &Emit) -> &NodeError {
        match emit {
            Emit::Error { error, .. } => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn success_is_delivered_and_finishes() {
        let mut r = run();
        let s = r.start(items(1));
        assert_eq!(s.requests.len(), 1);
        assert!(!s.done);
        let s = r.status(s.requests[0].id, 200, "");
        assert!(s.done);
        assert_eq!(
            s.emit,
            vec![Emit::Item {
                index: 0,
                json: json!({"status": 200})
            }]
        );
    }

    #[test]
    fn rate_limited_requests_are_resent_with_growing_pauses_even_when_unsafe() {
        let mut r = run();
        let mut s = r.start(vec![json!({"unsafe": "creates 1 lead"})]);
        for expected in RATE_LIMIT_BACKOFF_MS {
            s = r.status(s.requests[0].id, 429, "");
            assert!(s.throttled);
            assert_eq!(s.requests[0].delay_ms, expected);
        }
        s = r.status(s.requests[0].id, 429, "");
        assert!(s.done);
        assert_eq!(error_of(&s.emit[0]).http_code, Some(429));
    }

    #[test]
    fn safe_requests_survive_server_errors_and_dropped_connections() {
        let mut r = run();
        let s = r.start(items(1));
        let s = r.status(s.requests[0].id, 503, "");
        assert_eq!(s.requests[0].delay_ms, SERVER_RETRY_BACKOFF_MS[0]);
        let s = r.transport(s.requests[0].id, "ECONNRESET", "socket hang up");
        assert_eq!(s.requests[0].delay_ms, SERVER_RETRY_BACKOFF_MS[1]);
        let s = r.status(s.requests[0].id, 200, "");
        assert!(s.done);
        assert!(matches!(s.emit[0], Emit::Item { .. }));
    }

    #[test]
    fn safe_requests_give_up_after_the_schedule() {
        let mut r = run();
        let mut s = r.start(items(1));
        for _ in SERVER_RETRY_BACKOFF_MS {
            s = r.status(s.requests[0].id, 502, "");
        }
        let s = r.status(s.requests[0].id, 502, "");
        assert_eq!(error_of(&s.emit[0]).http_code, Some(502));
    }

    #[test]
    fn unsafe_requests_are_never_resent_after_a_5xx_or_a_dropped_connection() {
        for (status, code) in [(504, ""), (500, ""), (0, "ECONNRESET")] {
            let mut r = run();
            let s = r.start(vec![json!({"unsafe": "creates 2 leads"})]);
            let s = if status > 0 {
                r.status(s.requests[0].id, status, "")
            } else {
                r.transport(s.requests[0].id, code, "")
            };
            assert!(s.requests.is_empty());
            assert!(s.done);
            let error = error_of(&s.emit[0]);
            assert!(error.message.contains("creates 2 leads"), "{}", error.message);
            assert!(error.message.contains("may have been applied"), "{}", error.message);
            assert!(error.unsure);
        }
    }

    #[test]
    fn unsafe_requests_that_never_left_are_resent() {
        let mut r = run();
        let s = r.start(vec![json!({"unsafe": "creates 1 lead"})]);
        let s = r.transport(s.requests[0].id, "ECONNREFUSED", "");
        assert_eq!(s.requests.len(), 1);
    }

    #[test]
    fn forbidden_is_final_at_once() {
        let mut r = run();
        let s = r.start(items(1));
        let s = r.status(s.requests[0].id, 403, "");
        assert!(s.done && s.requests.is_empty());
    }

    #[test]
    fn in_flight_requests_are_capped_and_refilled() {
        let mut r = Run::new(Driver::new(Box::new(Echo)).with_max_in_flight(3));
        let s = r.start(items(20));
        assert_eq!(s.requests.len(), 3);
        let s = r.status(s.requests[1].id, 200, "");
        assert_eq!(s.requests.len(), 1);
        assert!(!s.done);
    }

    #[test]
    fn long_lived_tokens_get_no_probe_on_401() {
        let mut r = run();
        let s = r.start(items(1));
        let s = r.status(s.requests[0].id, 401, "");
        assert!(s.done && s.requests.is_empty());
        assert_eq!(error_of(&s.emit[0]).http_code, Some(401));
    }

    #[test]
    fn concurrent_401s_share_one_probe_then_resend_with_the_new_token() {
        let mut r = oauth();
        let s = r.start((0..3).map(|_| json!({"unsafe": "creates leads"})).collect());
        let ids: Vec<u32> = s.requests.iter().map(|r| r.id).collect();
        let s1 = r.status(ids[0], 401, "");
        assert_eq!(s1.requests.len(), 1);
        let probe = &s1.requests[0];
        assert!(probe.request.reauthenticate);
        assert!(probe.request.url.ends_with("/api/v4/account"));
        // Nothing else goes out with the expired token while the probe is out,
        // and the other two 401s wait for it instead of probing again.
        assert!(r.status(ids[1], 401, "").requests.is_empty());
        assert!(r.status(ids[2], 401, "").requests.is_empty());
        let s = r.status(probe.id, 200, "");
        assert_eq!(s.requests.len(), 3);
        assert!(s.requests.iter().all(|r| !r.request.reauthenticate));
        let mut last = s.clone();
        for q in &s.requests {
            last = r.status(q.id, 200, "");
        }
        assert!(last.done);
    }

    #[test]
    fn queued_requests_wait_for_the_probe() {
        let mut r = Run::new(
            Driver::new(Box::new(Echo))
                .with_reauthentication(Request::get("https://x.amocrm.ru/api/v4/account".into()))
                .with_max_in_flight(2),
        );
        let s = r.start(items(20));
        let (a, b) = (s.requests[0].id, s.requests[1].id);
        let s = r.status(a, 401, "");
        assert_eq!(s.requests.len(), 1, "only the probe");
        let probe = s.requests[0].id;
        assert!(r.status(b, 200, "").requests.is_empty());
        let s = r.status(probe, 200, "");
        assert_eq!(s.requests.len(), 2);
        assert_eq!(s.requests[0].request.url, "https://x.amocrm.ru/0");
    }

    #[test]
    fn a_failed_renewal_fails_every_parked_request_with_its_reason() {
        let mut r = oauth();
        let s = r.start(items(2));
        let (a, b) = (s.requests[0].id, s.requests[1].id);
        let probe = r.status(a, 401, "").requests[0].id;
        r.status(b, 401, "");
        let s = r.transport(probe, "", "The refresh token was already used (revoked)");
        assert!(s.done);
        assert_eq!(s.emit.len(), 2);
        for e in &s.emit {
            let err = error_of(e);
            assert_eq!(err.http_code, Some(401));
            assert!(err.message.contains("already used"), "{}", err.message);
        }
    }

    #[test]
    fn a_request_still_refused_after_renewal_is_not_probed_again() {
        let mut r = oauth();
        let s = r.start(items(1));
        let probe = r.status(s.requests[0].id, 401, "").requests[0].id;
        let resent = r.status(probe, 200, "").requests[0].id;
        let s = r.status(resent, 401, "");
        assert!(s.done && s.requests.is_empty());
        assert_eq!(error_of(&s.emit[0]).http_code, Some(401));
    }

    #[test]
    fn a_rate_limited_probe_is_retried() {
        let mut r = oauth();
        let s = r.start(items(1));
        let probe = r.status(s.requests[0].id, 401, "").requests[0].id;
        let s = r.transport(probe, "429", "Too many requests");
        assert!(s.throttled);
        assert!(s.requests[0].request.reauthenticate);
        assert_eq!(s.requests[0].delay_ms, RATE_LIMIT_BACKOFF_MS[0]);
    }

    #[test]
    fn a_failed_token_request_is_final_and_keeps_its_message() {
        let mut r = run();
        let s = r.start(items(1));
        let s = r.transport(
            s.requests[0].id,
            TOKEN_FAILURE,
            "OAuth: the authorization code has expired",
        );
        assert!(s.done && s.requests.is_empty());
        assert_eq!(
            error_of(&s.emit[0]).message,
            "OAuth: the authorization code has expired"
        );
    }

    #[test]
    fn a_refresh_token_spent_elsewhere_is_read_again_after_a_pause_for_a_probe_and_for_any_request() {
        use crate::engine::retry::{TOKEN_SPENT, TOKEN_SPENT_BACKOFF_MS};
        // The probe: another process spent the refresh token; the next probe
        // reads the pair it saved, and the parked request goes again.
        let mut r = oauth();
        let s = r.start(vec![json!({"unsafe": "creates 1 lead"})]);
        let probe = r.status(s.requests[0].id, 401, "").requests[0].id;
        let s = r.transport(probe, TOKEN_SPENT, "amoCRM OAuth: … (\"Token has been revoked\")");
        assert!(!s.done);
        assert!(s.requests[0].request.reauthenticate);
        assert_eq!(s.requests[0].delay_ms, TOKEN_SPENT_BACKOFF_MS[0]);
        let resent = r.status(s.requests[0].id, 200, "").requests[0].id;
        assert!(r.status(resent, 200, "").done);
        // A request that could not get a token was not sent: it goes again,
        // a create too, and fails with the message once the pauses are over.
        let mut r = run();
        let mut s = r.start(vec![json!({"unsafe": "creates 1 lead"})]);
        for delay in TOKEN_SPENT_BACKOFF_MS {
            s = r.transport(s.requests[0].id, TOKEN_SPENT, "spent");
            assert_eq!(s.requests[0].delay_ms, delay);
        }
        let s = r.transport(s.requests[0].id, TOKEN_SPENT, "spent");
        assert!(s.done && s.requests.is_empty());
        assert_eq!(error_of(&s.emit[0]).message, "spent");
    }

    #[test]
    fn an_address_refused_by_n8ns_ssrf_protection_is_final_and_says_what_to_allow() {
        let mut r = run();
        let s = r.start(items(1));
        let s = r.transport(
            s.requests[0].id,
            crate::engine::retry::SSRF_BLOCKED,
            "The request was blocked because it resolves to a restricted IP address",
        );
        assert!(s.done && s.requests.is_empty(), "not retried");
        let error = error_of(&s.emit[0]);
        assert!(
            error.message.contains("SSRF protection") && error.message.contains("restricted IP"),
            "{}",
            error.message
        );
        assert!(error
            .description
            .as_deref()
            .unwrap()
            .contains("N8N_SSRF_ALLOWED_IP_RANGES"));
    }

    #[test]
    fn a_credential_that_is_not_connected_says_so_and_what_to_click_without_retrying() {
        let mut r = run();
        let s = r.start(items(1));
        let s = r.transport(s.requests[0].id, crate::engine::retry::NOT_CONNECTED, "");
        assert!(s.done && s.requests.is_empty(), "not retried as a network failure");
        let error = error_of(&s.emit[0]);
        assert_eq!(
            error.message,
            "This amoCRM credential is not connected yet: open it and click Connect my account"
        );
        assert!(error.description.as_deref().unwrap().contains("Connect my account"));
    }

    #[test]
    fn input_in_chunks_keeps_the_call_open_until_the_last() {
        let mut r = run();
        let s = r.feed(0, items(2), false);
        assert_eq!(s.requests.len(), 2);
        let s1 = r.status(s.requests[0].id, 200, "");
        let s2 = r.status(s.requests[1].id, 200, "");
        assert!(!s1.done && !s2.done, "more items are coming");
        let s = r.feed(2, items(1), true);
        assert_eq!(s.requests[0].request.url, "https://x.amocrm.ru/2");
        let s = r.status(s.requests[0].id, 200, "");
        assert!(s.done);
        assert_eq!(s.emit[0].index(), 2);
    }

    #[test]
    fn without_continue_on_fail_the_first_error_stops_sending_and_reports_what_was_written() {
        let mut r = Run::new(
            Driver::new(Box::new(Echo))
                .continue_on_fail(false)
                .writes(true)
                .with_max_in_flight(2),
        );
        let s = r.start(items(6));
        let (a, b) = (s.requests[0].id, s.requests[1].id);
        // Item 0 is written; item 1 is refused: the four queued items are never sent.
        let s = r.status(a, 200, r#"{"id": 500}"#);
        assert!(matches!(s.emit[0], Emit::Item { index: 0, .. }));
        assert_eq!(s.requests.len(), 1, "item 2 refills the window");
        let c = s.requests[0].id;
        let s = r.status(b, 400, r#"{"detail": "Bad value"}"#);
        assert!(s.emit.is_empty(), "the error is held for the stop");
        assert!(s.requests.is_empty() && !s.done, "item 2 is still on its way");
        // What was already on its way is waited for and reported.
        let s = r.status(c, 200, r#"{"id": 502}"#);
        assert!(s.done);
        let fatal = s.fatal.expect("the call stops with the first error");
        assert!(fatal.message.contains("Bad value"), "{}", fatal.message);
        let description = fatal.description.unwrap();
        assert!(
            description.contains("item 0 → ID 500, item 2 → ID 502"),
            "{description}"
        );
        assert_eq!(
            fatal.written,
            vec![Written { index: 0, id: 500 }, Written { index: 2, id: 502 }]
        );
    }

    #[test]
    fn a_stop_names_writes_that_may_have_been_applied_and_says_when_nothing_was_written() {
        let mut r = Run::new(Driver::new(Box::new(Echo)).continue_on_fail(false).writes(true));
        let s = r.start(vec![json!({"unsafe": "creates 1 lead"}), json!({"bad": true})]);
        assert!(
            s.requests.is_empty() && s.done,
            "a bad item stops the call before anything is sent"
        );
        let description = s.fatal.unwrap().description.unwrap();
        assert!(description.contains("Nothing was written"), "{description}");

        let mut r = Run::new(Driver::new(Box::new(Echo)).continue_on_fail(false).writes(true));
        let s = r.start(vec![json!({"unsafe": "creates 1 lead"})]);
        let s = r.status(s.requests[0].id, 504, "");
        let description = s.fatal.unwrap().description.unwrap();
        assert!(
            description.contains("May have been written although no answer confirmed it: items 0"),
            "{description}"
        );
    }

    #[test]
    fn items_the_shell_could_not_read_fail_before_the_operation_sees_them() {
        let mut r = run();
        let s = r.start(vec![json!({}), json!({"$readError": "Can't resolve expression"})]);
        assert_eq!(s.requests.len(), 1);
        assert_eq!(error_of(&s.emit[0]).message, "Item 1: Can't resolve expression");
    }

    #[test]
    fn written_items_are_summarised_as_runs() {
        let written: Vec<(usize, u64)> = (0..50).map(|i| (i, 100 + i as u64)).chain([(60, 170)]).collect();
        assert_eq!(written_summary(&written), "items 0–49 → IDs 100–149, item 60 → ID 170");
        assert_eq!(index_ranges(&[0, 1, 2, 5, 7, 8]), "0–2, 5, 7, 8");
    }

    #[test]
    fn unknown_ids_are_reported_as_internal_errors() {
        let mut r = run();
        assert!(r.start(items(0)).done);
        let s = r.status(99, 200, "");
        assert!(s.fatal.is_some());
    }
}
