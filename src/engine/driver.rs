//! The state machine every node operation runs in.
//!
//! An [`Operation`] knows one amoCRM task (fetch these leads, create those in
//! batches, follow the pages); the [`Driver`] around it owns what is common to
//! all of them: numbering requests, how many are in flight, and what to do with
//! rate limits, server errors and broken connections. The shell's loop is the
//! same few lines for every operation:
//!
//! ```text
//! step = driver.start()
//! loop { emit step.emit; send step.requests; if step.done break;
//!        step = driver.on_outcome(id, outcome of one request) }
//! ```
//!
//! Retry policy, in one place:
//! * 429 means nginx refused the request before amoCRM saw it, so any request,
//!   a create included, is sent again after a growing pause.
//! * 5xx and broken connections are retried only for requests that are safe to
//!   repeat (reads, and updates that set absolute values). A create is never
//!   resent: amoCRM may have applied it although the client saw a 504, and a
//!   second send would duplicate the records. The operation receives
//!   [`ApiError::MaybeApplied`] instead.
//! * 403 (a block or a ban) and every other status are final at once:
//!   retrying a ban extends it.
//! * 401 with an OAuth credential: the access token may have expired. The
//!   driver sends one re-authentication probe (a cheap read) through n8n's own
//!   401 handling, which renews the token, persists it and resends; if that
//!   succeeds, the requests that got 401 go out again with the new token. All
//!   401s of one call share one probe. Long-lived tokens cannot be renewed, so
//!   their 401 is final.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::error::NodeError;
use crate::http::{Outcome, Request, Response};

/// Pauses before resending a request that got 429. amoCRM sends no
/// Retry-After; its limit is per second, so the first pause lets the window
/// pass and later ones leave room for other clients of the same account.
pub const RATE_LIMIT_BACKOFF_MS: [u64; 5] = [1_000, 2_000, 4_000, 8_000, 16_000];

/// Pauses before resending a safe request after a 5xx or a broken connection:
/// short first (a dropped keep-alive connection), then long enough for a
/// restarting backend.
pub const SERVER_RETRY_BACKOFF_MS: [u64; 3] = [500, 2_000, 5_000];

/// How long the shell waits for an answer. amoCRM can take tens of seconds
/// for a batch of 250 leads with custom fields; past two minutes the request
/// is treated as a broken connection (retried only when safe).
pub const REQUEST_TIMEOUT_MS: u64 = 120_000;

/// Requests of one operation in flight at once. The shared rate limiter
/// spaces them anyway; the cap keeps memory and ordering sane when a node
/// gets thousands of items.
pub const MAX_IN_FLIGHT: usize = 8;

/// The failure code the shell reports when n8n could not get the credential a
/// token (its preAuthentication failed), so no request left.
pub const TOKEN_FAILURE: &str = "TOKEN";

/// A 2xx response (204 included), or the error it became.
pub type Reply = Result<Response, ApiError>;

/// Whether a request may be sent twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    Safe,
    /// Not safe to repeat; the text says what it does ("creates 250 leads")
    /// for the message shown when its fate is unknown.
    Unsafe(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Emit {
    Item {
        index: usize,
        json: Value,
    },
    /// An item already in JSON text (a lead passed through as amoCRM sent
    /// it, or shaped without building a `Value`): spliced into the step as is.
    /// The shell sees it as an item like any other.
    Raw {
        index: usize,
        json: RawJson,
    },
    Error {
        index: usize,
        error: NodeError,
    },
}

impl Emit {
    fn size_hint(&self) -> usize {
        match self {
            Emit::Raw { json, .. } => json.get().len() + 40,
            _ => 256,
        }
    }

    /// The item's JSON as a `Value` (for tests and callers that inspect it).
    pub fn json(&self) -> Option<Value> {
        match self {
            Emit::Item { json, .. } => Some(json.clone()),
            Emit::Raw { json, .. } => serde_json::from_str(json.get()).ok(),
            Emit::Error { .. } => None,
        }
    }
}

/// Text known to be one JSON value, written into a step verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct RawJson(String);

impl RawJson {
    /// Checks that `text` is one JSON value.
    pub fn parse(text: String) -> Result<RawJson, serde_json::Error> {
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(RawJson(text))
    }

    /// Text that is JSON by construction: a slice serde_json already
    /// validated, or the output of a writer in this crate.
    pub(crate) fn trusted(text: String) -> RawJson {
        RawJson(text)
    }

    pub fn get(&self) -> &str {
        &self.0
    }
}

/// What an operation asks for while handling a start or a reply.
#[derive(Debug, Default)]
pub struct Io {
    calls: Vec<(u64, Request, Replay)>,
    emits: Vec<Emit>,
}

impl Io {
    /// Sends `request`; its reply comes back to the operation with `tag`.
    pub fn send(&mut self, tag: u64, request: Request, replay: Replay) {
        self.calls.push((tag, request, replay));
    }

    pub fn emit(&mut self, index: usize, json: Value) {
        self.emits.push(Emit::Item { index, json });
    }

    pub fn emit_raw(&mut self, index: usize, json: RawJson) {
        self.emits.push(Emit::Raw { index, json });
    }

    pub fn fail(&mut self, index: usize, error: NodeError) {
        self.emits.push(Emit::Error { index, error });
    }
}

pub trait Operation {
    fn start(&mut self, io: &mut Io);
    fn on_reply(&mut self, tag: u64, reply: Reply, io: &mut Io);
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub id: u32,
    /// Wait this long before sending (a back-off); the shared rate limiter may
    /// add more.
    pub delay_ms: u64,
    pub timeout_ms: u64,
    pub request: Request,
}

/// One flat object for the shell: `{id, delayMs, timeoutMs, method, url, …}`.
/// Written by hand because `#[serde(flatten)]` costs kilobytes of .wasm.
impl Serialize for Outgoing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = &self.request;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("delayMs", &self.delay_ms)?;
        map.serialize_entry("timeoutMs", &self.timeout_ms)?;
        map.serialize_entry("method", &r.method)?;
        map.serialize_entry("url", &r.url)?;
        if let Some(body) = &r.body {
            map.serialize_entry("body", body)?;
        }
        map.serialize_entry("headers", &r.headers)?;
        if r.reauthenticate {
            map.serialize_entry("reauthenticate", &true)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub requests: Vec<Outgoing>,
    pub emit: Vec<Emit>,
    pub done: bool,
    /// A 429 arrived: the shell's rate limiter should slow down for the account.
    pub throttled: bool,
    /// The whole call failed before any item could be processed.
    pub fatal: Option<NodeError>,
}

impl Step {
    /// The step as JSON for the shell: `{"requests", "emit", "done",
    /// "throttled"?, "fatal"?}`. Written by hand so that items already in JSON
    /// text are spliced in without being parsed and printed again.
    pub fn to_json(&self) -> String {
        // The step's plain parts, serialised with serde.
        fn text<T: Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
        }
        fn head(out: &mut String, kind: &str, index: usize, field: &str) {
            out.push_str("{\"type\":\"");
            out.push_str(kind);
            out.push_str("\",\"index\":");
            out.push_str(&index.to_string());
            out.push_str(",\"");
            out.push_str(field);
            out.push_str("\":");
        }
        let mut out = String::with_capacity(self.emit.iter().map(Emit::size_hint).sum::<usize>() + 256);
        out.push_str("{\"requests\":");
        out.push_str(&text(&self.requests));
        out.push_str(",\"emit\":[");
        for (i, emit) in self.emit.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match emit {
                Emit::Item { index, json } => {
                    head(&mut out, "item", *index, "json");
                    out.push_str(&text(json));
                }
                Emit::Raw { index, json } => {
                    head(&mut out, "item", *index, "json");
                    out.push_str(json.get());
                }
                Emit::Error { index, error } => {
                    head(&mut out, "error", *index, "error");
                    out.push_str(&text(error));
                }
            }
            out.push('}');
        }
        out.push_str("],\"done\":");
        out.push_str(if self.done { "true" } else { "false" });
        if self.throttled {
            out.push_str(",\"throttled\":true");
        }
        if let Some(fatal) = &self.fatal {
            out.push_str(",\"fatal\":");
            out.push_str(&text(fatal));
        }
        out.push('}');
        out
    }

    pub fn fatal(error: NodeError) -> Step {
        Step {
            requests: Vec::new(),
            emit: Vec::new(),
            done: true,
            throttled: false,
            fatal: Some(error),
        }
    }
}

#[derive(Debug)]
struct Attempt {
    tag: u64,
    request: Request,
    replay: Replay,
    /// Resends so far.
    retries: usize,
    delay_ms: u64,
    /// The re-authentication probe rather than a request of the operation.
    probe: bool,
    /// Already resent once after a token renewal.
    reauthed: bool,
    /// The token generation it was sent with (see [`Driver::epoch`]).
    epoch: u32,
}

impl Attempt {
    fn new(tag: u64, request: Request, replay: Replay) -> Attempt {
        Attempt {
            tag,
            request,
            replay,
            retries: 0,
            delay_ms: 0,
            probe: false,
            reauthed: false,
            epoch: 0,
        }
    }
}

#[derive(Debug)]
enum Auth {
    /// No renewal under way.
    Idle,
    /// A probe is out; requests that got 401 wait for it here.
    Probing { parked: Vec<Attempt> },
    /// Renewal failed; every later 401 of this call gets this error.
    Failed(ApiError),
}

pub struct Driver {
    op: Box<dyn Operation>,
    next_id: u32,
    in_flight: BTreeMap<u32, Attempt>,
    queue: VecDeque<Attempt>,
    max_in_flight: usize,
    /// The request that renews the token through n8n; `None` for credentials
    /// that cannot be renewed (long-lived tokens).
    probe: Option<Request>,
    auth: Auth,
    /// Counts successful renewals. A 401 for a request sent before the latest
    /// renewal only means it carried the old token: it is resent, not probed.
    epoch: u32,
    /// The index of the first item handed to the operation among the node's
    /// input items (the shell sends large inputs in chunks).
    first_item: usize,
}

impl Driver {
    pub fn new(op: Box<dyn Operation>) -> Driver {
        Driver {
            op,
            next_id: 0,
            in_flight: BTreeMap::new(),
            queue: VecDeque::new(),
            max_in_flight: MAX_IN_FLIGHT,
            probe: None,
            auth: Auth::Idle,
            epoch: 0,
            first_item: 0,
        }
    }

    /// The operation's items start at input item `first`: emitted indexes
    /// and the items named in messages are counted from there.
    pub fn with_first_item(mut self, first: usize) -> Driver {
        self.first_item = first;
        self
    }

    pub fn with_max_in_flight(mut self, n: usize) -> Driver {
        self.max_in_flight = n.max(1);
        self
    }

    /// Renews expired tokens with `probe`, a cheap GET on the account.
    pub fn with_reauthentication(mut self, mut probe: Request) -> Driver {
        probe.reauthenticate = true;
        self.probe = Some(probe);
        self
    }

    pub fn start(&mut self) -> Step {
        let mut io = Io::default();
        self.op.start(&mut io);
        self.step(io, false)
    }

    /// Hands the outcome of request `id` to the driver.
    pub fn on_outcome(&mut self, id: u32, outcome: Outcome) -> Step {
        let Some(attempt) = self.in_flight.remove(&id) else {
            return Step::fatal(NodeError::internal(format!(
                "the core got an answer for request {id}, which it never asked for"
            )));
        };
        let mut io = Io::default();
        let mut throttled = false;
        if attempt.probe {
            self.on_probe_outcome(attempt, outcome, &mut io, &mut throttled);
            return self.step(io, throttled);
        }
        match decide(&attempt, outcome) {
            Decision::Retry { delay_ms, rate_limited } => {
                throttled = rate_limited;
                self.retry(attempt, delay_ms);
            }
            Decision::Deliver(Err(e @ ApiError::Unauthorized { .. })) if self.probe.is_some() => {
                self.on_unauthorized(attempt, e, &mut io)
            }
            Decision::Deliver(reply) => self.op.on_reply(attempt.tag, reply, &mut io),
        }
        self.step(io, throttled)
    }

    /// Front of the queue: a retried request keeps its place.
    fn retry(&mut self, attempt: Attempt, delay_ms: u64) {
        self.queue.push_front(Attempt {
            retries: attempt.retries + 1,
            delay_ms,
            ..attempt
        });
    }

    fn on_unauthorized(&mut self, attempt: Attempt, error: ApiError, io: &mut Io) {
        if attempt.epoch < self.epoch {
            // Sent with the token that has been renewed since.
            self.queue.push_front(Attempt { delay_ms: 0, ..attempt });
            return;
        }
        match &mut self.auth {
            Auth::Failed(e) => self.op.on_reply(attempt.tag, Err(e.clone()), io),
            Auth::Probing { parked } => parked.push(attempt),
            Auth::Idle if attempt.reauthed => self.op.on_reply(attempt.tag, Err(error), io),
            Auth::Idle => {
                let Some(probe) = self.probe.clone() else {
                    return self.op.on_reply(attempt.tag, Err(error), io);
                };
                self.auth = Auth::Probing { parked: vec![attempt] };
                self.queue.push_front(Attempt {
                    probe: true,
                    ..Attempt::new(u64::MAX, probe, Replay::Safe)
                });
            }
        }
    }

    fn on_probe_outcome(&mut self, attempt: Attempt, outcome: Outcome, io: &mut Io, throttled: &mut bool) {
        let failure = match outcome {
            Outcome::Response(r) if (200..300).contains(&r.status) => None,
            Outcome::Response(r) => Some((r.status.to_string(), String::new())),
            Outcome::Transport(f) => Some((f.code, f.message)),
        };
        let Some((code, message)) = failure else {
            self.epoch += 1;
            if let Auth::Probing { parked } = std::mem::replace(&mut self.auth, Auth::Idle) {
                for a in parked.into_iter().rev() {
                    self.queue.push_front(Attempt {
                        reauthed: true,
                        delay_ms: 0,
                        ..a
                    });
                }
            }
            return;
        };
        // n8n reports the probe's failure as an error whose code is the HTTP
        // status, a network code, or nothing when the token request itself
        // failed. Only rate limits and outages are worth another probe:
        // retrying a refused refresh token would only burn it further.
        let schedule: &[u64] = match code.as_str() {
            "429" => &RATE_LIMIT_BACKOFF_MS,
            c if c.starts_with('5') || c.starts_with('E') => &SERVER_RETRY_BACKOFF_MS,
            _ => &[],
        };
        if let Some(&delay_ms) = schedule.get(attempt.retries) {
            *throttled = code == "429";
            self.retry(attempt, delay_ms);
            return;
        }
        let error = ApiError::ReauthFailed { reason: message };
        if let Auth::Probing { parked } = std::mem::replace(&mut self.auth, Auth::Failed(error.clone())) {
            for a in parked {
                self.op.on_reply(a.tag, Err(error.clone()), io);
            }
        }
    }

    fn step(&mut self, io: Io, throttled: bool) -> Step {
        for (tag, request, replay) in io.calls {
            self.queue.push_back(Attempt::new(tag, request, replay));
        }
        let mut requests = Vec::new();
        while self.in_flight.len() < self.max_in_flight {
            // While a renewal is under way, only the probe goes out: anything
            // else would carry the expired token.
            let probing = matches!(self.auth, Auth::Probing { .. });
            if probing && !self.queue.front().is_some_and(|a| a.probe) {
                break;
            }
            let Some(mut attempt) = self.queue.pop_front() else {
                break;
            };
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            attempt.epoch = self.epoch;
            requests.push(Outgoing {
                id,
                delay_ms: attempt.delay_ms,
                timeout_ms: REQUEST_TIMEOUT_MS,
                request: attempt.request.clone(),
            });
            self.in_flight.insert(id, attempt);
        }
        let first = self.first_item;
        let emit = io
            .emits
            .into_iter()
            .map(|e| match e {
                Emit::Item { index, json } => Emit::Item {
                    index: first + index,
                    json,
                },
                Emit::Raw { index, json } => Emit::Raw {
                    index: first + index,
                    json,
                },
                Emit::Error { index, error } => Emit::Error {
                    index: first + index,
                    error: error.numbered(first),
                },
            })
            .collect();
        Step {
            requests,
            emit,
            done: self.in_flight.is_empty() && self.queue.is_empty(),
            throttled,
            fatal: None,
        }
    }
}

enum Decision {
    Retry { delay_ms: u64, rate_limited: bool },
    Deliver(Reply),
}

fn decide(attempt: &Attempt, outcome: Outcome) -> Decision {
    let retry_after = |schedule: &[u64]| schedule.get(attempt.retries).copied();
    match outcome {
        Outcome::Response(r) if (200..300).contains(&r.status) => Decision::Deliver(Ok(r)),
        Outcome::Response(r) if r.status == 429 => match retry_after(&RATE_LIMIT_BACKOFF_MS) {
            Some(delay_ms) => Decision::Retry {
                delay_ms,
                rate_limited: true,
            },
            None => Decision::Deliver(Err(ApiError::RateLimited)),
        },
        Outcome::Response(r) if r.status >= 500 => match (&attempt.replay, retry_after(&SERVER_RETRY_BACKOFF_MS)) {
            (Replay::Safe, Some(delay_ms)) => Decision::Retry {
                delay_ms,
                rate_limited: false,
            },
            (Replay::Safe, None) => Decision::Deliver(Err(ApiError::from_response(&r))),
            (Replay::Unsafe(what), _) => Decision::Deliver(Err(ApiError::MaybeApplied {
                what: what.clone(),
                status: Some(r.status),
            })),
        },
        Outcome::Response(r) => Decision::Deliver(Err(ApiError::from_response(&r))),
        // The credential could not get a token: nothing was sent, and trying
        // again would only repeat the failed token request.
        Outcome::Transport(failure) if failure.code == TOKEN_FAILURE => Decision::Deliver(Err(ApiError::TokenFailed {
            reason: failure.message,
        })),
        Outcome::Transport(failure) => {
            let repeatable = attempt.replay == Replay::Safe || failure.request_never_sent();
            match (repeatable, retry_after(&SERVER_RETRY_BACKOFF_MS), &attempt.replay) {
                (true, Some(delay_ms), _) => Decision::Retry {
                    delay_ms,
                    rate_limited: false,
                },
                (_, _, Replay::Unsafe(what)) if !failure.request_never_sent() => {
                    Decision::Deliver(Err(ApiError::MaybeApplied {
                        what: what.clone(),
                        status: None,
                    }))
                }
                _ => Decision::Deliver(Err(ApiError::from_transport(&failure))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::TransportFailure;
    use serde_json::json;

    /// Sends one request per tag given and reports every reply as an item.
    struct Echo {
        calls: Vec<(u64, Replay)>,
    }

    impl Operation for Echo {
        fn start(&mut self, io: &mut Io) {
            for (tag, replay) in &self.calls {
                io.send(*tag, Request::get(format!("https://x.amocrm.ru/{tag}")), replay.clone());
            }
        }
        fn on_reply(&mut self, tag: u64, reply: Reply, io: &mut Io) {
            match reply {
                Ok(r) => io.emit(tag as usize, json!({ "status": r.status })),
                Err(e) => io.fail(tag as usize, NodeError::api("", &e)),
            }
        }
    }

    fn driver(calls: Vec<(u64, Replay)>) -> Driver {
        Driver::new(Box::new(Echo { calls }))
    }

    fn resp(status: u16) -> Outcome {
        Outcome::Response(Response::new(status, ""))
    }

    fn dropped() -> Outcome {
        Outcome::Transport(TransportFailure::new("ECONNRESET", "socket hang up"))
    }

    #[test]
    fn success_is_delivered_and_finishes() {
        let mut d = driver(vec![(0, Replay::Safe)]);
        let s = d.start();
        assert_eq!(s.requests.len(), 1);
        assert!(!s.done);
        let s = d.on_outcome(s.requests[0].id, resp(200));
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
        let mut d = driver(vec![(0, Replay::Unsafe("creates 1 lead".into()))]);
        let mut s = d.start();
        for expected in RATE_LIMIT_BACKOFF_MS {
            s = d.on_outcome(s.requests[0].id, resp(429));
            assert!(s.throttled);
            assert_eq!(s.requests[0].delay_ms, expected);
        }
        s = d.on_outcome(s.requests[0].id, resp(429));
        assert!(s.done);
        let Emit::Error { error, .. } = &s.emit[0] else {
            panic!()
        };
        assert_eq!(error.http_code, Some(429));
    }

    #[test]
    fn safe_requests_survive_server_errors_and_dropped_connections() {
        let mut d = driver(vec![(0, Replay::Safe)]);
        let s = d.start();
        let s = d.on_outcome(s.requests[0].id, resp(503));
        assert_eq!(s.requests[0].delay_ms, SERVER_RETRY_BACKOFF_MS[0]);
        let s = d.on_outcome(s.requests[0].id, dropped());
        assert_eq!(s.requests[0].delay_ms, SERVER_RETRY_BACKOFF_MS[1]);
        let s = d.on_outcome(s.requests[0].id, resp(200));
        assert!(s.done);
        assert!(matches!(s.emit[0], Emit::Item { .. }));
    }

    #[test]
    fn safe_requests_give_up_after_the_schedule() {
        let mut d = driver(vec![(0, Replay::Safe)]);
        let mut s = d.start();
        for _ in SERVER_RETRY_BACKOFF_MS {
            s = d.on_outcome(s.requests[0].id, resp(502));
        }
        let s = d.on_outcome(s.requests[0].id, resp(502));
        let Emit::Error { error, .. } = &s.emit[0] else {
            panic!()
        };
        assert_eq!(error.http_code, Some(502));
    }

    #[test]
    fn unsafe_requests_are_never_resent_after_a_5xx_or_a_dropped_connection() {
        for outcome in [resp(504), resp(500), dropped()] {
            let mut d = driver(vec![(0, Replay::Unsafe("creates 2 leads".into()))]);
            let s = d.start();
            let s = d.on_outcome(s.requests[0].id, outcome);
            assert!(s.requests.is_empty());
            assert!(s.done);
            let Emit::Error { error, .. } = &s.emit[0] else {
                panic!()
            };
            assert!(error.message.contains("creates 2 leads"), "{}", error.message);
            assert!(error.message.contains("may have been applied"), "{}", error.message);
        }
    }

    #[test]
    fn unsafe_requests_that_never_left_are_resent() {
        let mut d = driver(vec![(0, Replay::Unsafe("creates 1 lead".into()))]);
        let s = d.start();
        let s = d.on_outcome(
            s.requests[0].id,
            Outcome::Transport(TransportFailure::new("ECONNREFUSED", "")),
        );
        assert_eq!(s.requests.len(), 1);
    }

    #[test]
    fn forbidden_is_final_at_once() {
        let mut d = driver(vec![(0, Replay::Safe)]);
        let s = d.start();
        let s = d.on_outcome(s.requests[0].id, resp(403));
        assert!(s.done && s.requests.is_empty());
    }

    #[test]
    fn in_flight_requests_are_capped_and_refilled() {
        let calls = (0..20).map(|t| (t, Replay::Safe)).collect();
        let mut d = driver(calls).with_max_in_flight(3);
        let s = d.start();
        assert_eq!(s.requests.len(), 3);
        let s = d.on_outcome(s.requests[1].id, resp(200));
        assert_eq!(s.requests.len(), 1);
        assert!(!s.done);
    }

    fn oauth_driver(calls: Vec<(u64, Replay)>) -> Driver {
        driver(calls).with_reauthentication(Request::get("https://x.amocrm.ru/api/v4/account".into()))
    }

    fn error_of(emit: &Emit) -> &NodeError {
        match emit {
            Emit::Error { error, .. } => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn long_lived_tokens_get_no_probe_on_401() {
        let mut d = driver(vec![(0, Replay::Safe)]);
        let s = d.start();
        let s = d.on_outcome(s.requests[0].id, resp(401));
        assert!(s.done && s.requests.is_empty());
        assert_eq!(error_of(&s.emit[0]).http_code, Some(401));
    }

    #[test]
    fn concurrent_401s_share_one_probe_then_resend_with_the_new_token() {
        let mut d = oauth_driver((0..3).map(|t| (t, Replay::Unsafe("creates leads".into()))).collect());
        let s = d.start();
        let ids: Vec<u32> = s.requests.iter().map(|r| r.id).collect();
        let s1 = d.on_outcome(ids[0], resp(401));
        assert_eq!(s1.requests.len(), 1);
        let probe = &s1.requests[0];
        assert!(probe.request.reauthenticate);
        assert!(probe.request.url.ends_with("/api/v4/account"));
        // Nothing else goes out with the expired token while the probe is out,
        // and the other two 401s wait for it instead of probing again.
        assert!(d.on_outcome(ids[1], resp(401)).requests.is_empty());
        assert!(d.on_outcome(ids[2], resp(401)).requests.is_empty());
        let s = d.on_outcome(probe.id, resp(200));
        assert_eq!(s.requests.len(), 3);
        assert!(s.requests.iter().all(|r| !r.request.reauthenticate));
        let mut last = s.clone();
        for r in &s.requests {
            last = d.on_outcome(r.id, resp(200));
        }
        assert!(last.done);
    }

    #[test]
    fn queued_requests_wait_for_the_probe() {
        let mut d = oauth_driver((0..20).map(|t| (t, Replay::Safe)).collect()).with_max_in_flight(2);
        let s = d.start();
        let (a, b) = (s.requests[0].id, s.requests[1].id);
        let s = d.on_outcome(a, resp(401));
        assert_eq!(s.requests.len(), 1, "only the probe");
        let probe = s.requests[0].id;
        assert!(d.on_outcome(b, resp(200)).requests.is_empty());
        let s = d.on_outcome(probe, resp(200));
        assert_eq!(s.requests.len(), 2);
        assert_eq!(s.requests[0].request.url, "https://x.amocrm.ru/0");
    }

    #[test]
    fn a_failed_renewal_fails_every_parked_request_with_its_reason() {
        let mut d = oauth_driver(vec![(0, Replay::Safe), (1, Replay::Safe)]);
        let s = d.start();
        let (a, b) = (s.requests[0].id, s.requests[1].id);
        let probe = d.on_outcome(a, resp(401)).requests[0].id;
        d.on_outcome(b, resp(401));
        let s = d.on_outcome(
            probe,
            Outcome::Transport(TransportFailure::new(
                "",
                "The refresh token was already used (revoked)",
            )),
        );
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
        let mut d = oauth_driver(vec![(0, Replay::Safe)]);
        let s = d.start();
        let probe = d.on_outcome(s.requests[0].id, resp(401)).requests[0].id;
        let resent = d.on_outcome(probe, resp(200)).requests[0].id;
        let s = d.on_outcome(resent, resp(401));
        assert!(s.done && s.requests.is_empty());
        assert_eq!(error_of(&s.emit[0]).http_code, Some(401));
    }

    #[test]
    fn a_rate_limited_probe_is_retried() {
        let mut d = oauth_driver(vec![(0, Replay::Safe)]);
        let s = d.start();
        let probe = d.on_outcome(s.requests[0].id, resp(401)).requests[0].id;
        let s = d.on_outcome(
            probe,
            Outcome::Transport(TransportFailure::new("429", "Too many requests")),
        );
        assert!(s.throttled);
        assert!(s.requests[0].request.reauthenticate);
        assert_eq!(s.requests[0].delay_ms, RATE_LIMIT_BACKOFF_MS[0]);
    }

    #[test]
    fn a_failed_token_request_is_final_and_keeps_its_message() {
        let mut d = driver(vec![(0, Replay::Safe)]);
        let s = d.start();
        let s = d.on_outcome(
            s.requests[0].id,
            Outcome::Transport(TransportFailure::new(
                TOKEN_FAILURE,
                "OAuth: the authorization code has expired",
            )),
        );
        assert!(s.done && s.requests.is_empty());
        assert_eq!(
            error_of(&s.emit[0]).message,
            "OAuth: the authorization code has expired"
        );
    }

    #[test]
    fn steps_are_json_with_raw_items_spliced_in() {
        let step = Step {
            requests: vec![],
            emit: vec![
                Emit::Raw {
                    index: 0,
                    json: RawJson::trusted(r#"{"id":1,"name":"Сделка"}"#.into()),
                },
                Emit::Item {
                    index: 1,
                    json: json!({"x": "a\"b"}),
                },
                Emit::Error {
                    index: 2,
                    error: NodeError::internal("bad"),
                },
            ],
            done: true,
            throttled: true,
            fatal: None,
        };
        let parsed: Value = serde_json::from_str(&step.to_json()).unwrap();
        assert_eq!(
            parsed,
            json!({"requests": [], "done": true, "throttled": true, "emit": [
                {"type": "item", "index": 0, "json": {"id": 1, "name": "Сделка"}},
                {"type": "item", "index": 1, "json": {"x": "a\"b"}},
                {"type": "error", "index": 2, "error": {"kind": "internal", "message": "bad"}}
            ]})
        );
        assert!(RawJson::parse("{not json".into()).is_err());
    }

    #[test]
    fn items_are_counted_from_the_first_item_of_the_call() {
        struct Bad;
        impl Operation for Bad {
            fn start(&mut self, io: &mut Io) {
                io.emit(0, json!({"ok": true}));
                io.fail(
                    1,
                    NodeError::input(1, &crate::input::InputError::new("Lead", "is empty")),
                );
            }
            fn on_reply(&mut self, _: u64, _: Reply, _: &mut Io) {}
        }
        let s = Driver::new(Box::new(Bad)).with_first_item(2000).start();
        assert_eq!(
            s.emit[0],
            Emit::Item {
                index: 2000,
                json: json!({"ok": true})
            }
        );
        let Emit::Error { index, error } = &s.emit[1] else {
            panic!()
        };
        assert_eq!(*index, 2001);
        assert_eq!(error.message, "Item 2001, field \"Lead\": is empty");
    }

    #[test]
    fn unknown_ids_are_reported_as_internal_errors() {
        let mut d = driver(vec![]);
        assert!(d.start().done);
        let s = d.on_outcome(99, resp(200));
        assert!(s.fatal.is_some());
    }
}
