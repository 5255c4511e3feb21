//! The request budget of an account, shared by everything in one n8n process,
//! and this process's share of the account when other processes spend on it
//! too.
//!
//! amoCRM allows about 7 requests per second per account and answers excess
//! with HTML 429s; repeated 429s end in a ban (403) that only its support
//! lifts. Every execution and node in the process asks here right before it
//! sends, so ten workflows running at once still send at most the account's
//! rate.
//!
//! Several n8n processes (queue-mode workers) spending on one account cannot
//! see each other. Each keeps an adaptive share (AIMD, as TCP does): a 429
//! that comes while this process alone could not have filled amoCRM's window
//! means others spend on the account, and the share drops multiplicatively
//! (by more, the more of the window this process filled); while no 429 comes
//! it grows back additively, faster the further below the full rate it is.
//! Processes that do this converge under the account's limit without
//! talking to each other. A 429 that comes while this process alone, at its
//! full share, filled the window is timing jitter between the grant and the
//! request's arrival instead: it widens the window's margin and leaves the
//! share alone (at the wider margin, the next 429 cannot be jitter). The credential can also say how many processes share the
//! account, a static divisor for those who prefer it.
//!
//! The constants were chosen with the simulation in the tests (two and three
//! processes against amoCRM's window, with network delays), and are checked
//! for real by the queue-mode suite and `npm run bench`.
//!
//! A send is recorded when it is granted, not reserved ahead: a slot booked
//! for later drifts when the event loop is busy (parsing a 250-lead page
//! takes tens of milliseconds), and a request sent late next to one sent on
//! time puts eight into amoCRM's window. Callers that are told to wait sleep
//! and ask again. Time is handed in, from a monotonic clock (a wall-clock
//! step must not stall or release the budget); nothing here sleeps.

use std::collections::{HashMap, VecDeque};

/// The window amoCRM counts requests in.
pub const WINDOW_MS: f64 = 1_000.0;

/// Slack added to the window at first: between the grant and the request
/// reaching amoCRM lie n8n's credential lookup, the connection and the
/// server's own queue, tens of milliseconds that vary per request (more on a
/// loaded machine). A 7/s budget then sends about 6.4 requests a second.
pub const MARGIN_MS: f64 = 100.0;

/// Each jitter 429 widens an account's margin by this much; the 429s of
/// requests already on their way when the first one came back tell nothing
/// new: they extend nothing and do not widen again.
pub const MARGIN_STEP_MS: f64 = 100.0;

/// After this many sends without a 429 (about ten seconds at 7/s) a widened
/// margin narrows by one step again. A moment of jitter (a busy event loop, a
/// slow disk) must not cost the rest of a long run a fifth of its speed;
/// jitter that persists widens it again, at most one 429 per this many sends.
pub const RECOVER_AFTER_SENDS: u32 = 70;

/// The widest margin (a 7/s budget then sends 5 requests a second).
pub const MAX_MARGIN_MS: f64 = 400.0;

/// The default budget, from amoCRM's documented limit.
pub const DEFAULT_PER_SECOND: u32 = 7;

/// How long an account is left alone after a jitter 429: one full window.
pub const THROTTLE_PAUSE_MS: f64 = WINDOW_MS;

/// How long after a 429 from others' spending: the share is lowered at
/// once, so a short pause lets the window drain without idling a second.
pub const SHARE_PAUSE_MS: f64 = 250.0;

/// What the first 429 from others' spending leaves of a full share: half.
/// Two processes that start together then share the account at once.
pub const SHARE_DECREASE: f64 = 0.5;

/// Below its full share, a 429 from others' spending takes off the share in
/// proportion to how much of amoCRM's window this process filled: up to
/// this part when it filled it, little when it sent a single request. The
/// larger spender gives way more, so processes converge on equal shares
/// (and finish equal work together) instead of the one hit first starving.
pub const SHARE_GIVE_WAY: f64 = 0.8;

/// Requests per second the share grows back by, per second without a 429,
/// for a share at half the account's rate (twice as fast far below it, a
/// quarter as fast near it: the smaller share catches up). Two processes
/// sharing an account meet its limit again about every 20 seconds.
pub const SHARE_INCREASE_PER_S: f64 = 0.05;

/// The smallest share: 35 processes on one 7/s account.
pub const MIN_RATE: f64 = 0.2;

/// A limit one caller presented stays in force this long after it was last
/// presented, when another caller presents a higher one: the strictest
/// setting of the credentials in use wins, and a raised one takes over once
/// the lower one is no longer used.
pub const LIMIT_MEMORY_MS: f64 = 600_000.0;

/// Sends remembered per account: enough for the largest allowed limit.
const KEPT_SENDS: usize = 64;

/// What a credential says about its account's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Requests per second amoCRM allows the account.
    pub per_second: u32,
    /// n8n processes that spend on it (the static divisor), at least 1.
    pub processes: u32,
}

impl Limit {
    pub const DEFAULT: Limit = Limit {
        per_second: DEFAULT_PER_SECOND,
        processes: 1,
    };

    /// This process's largest rate, in requests per second.
    pub fn ceiling(&self) -> f64 {
        f64::from(self.per_second.max(1)) / f64::from(self.processes.max(1))
    }
}

/// How an account's budget stands, for the bench and the tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetState {
    /// The rate this process allows itself now, requests per second.
    pub rate: f64,
    pub margin_ms: f64,
    /// 429s seen, and how many of them were read as other processes' spending.
    pub throttled: u32,
    pub shared: u32,
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    accounts: HashMap<String, Budget>,
}

#[derive(Debug)]
struct Budget {
    /// Times of the latest grants, ascending.
    sent: VecDeque<f64>,
    /// Earliest time of the next grant: sends are spaced evenly, never in
    /// bursts. Two processes that start together then do not both fire a
    /// whole window's worth into amoCRM at the same instant (half of which
    /// would be 429s), and a 7/s budget has 7 well-spread requests in each
    /// of amoCRM's windows instead of 7 at its start.
    next_even: f64,
    paused_until: f64,
    margin: f64,
    /// Sends granted since the margin last changed without a 429 between.
    clean_sends: u32,
    limit: Limit,
    limit_seen_at: f64,
    /// The adaptive share, at most `limit.ceiling()`.
    rate: f64,
    /// The share last grew at this time.
    grown_at: f64,
    /// A 429 came back since the last grant: read at the next one, where the
    /// clock is (the replies carry wall-clock time only).
    pending_429: bool,
    throttled: u32,
    shared: u32,
}

impl Budget {
    fn new(limit: Limit, now: f64) -> Budget {
        Budget {
            sent: VecDeque::new(),
            next_even: now,
            paused_until: f64::MIN,
            margin: MARGIN_MS,
            clean_sends: 0,
            limit,
            limit_seen_at: now,
            rate: limit.ceiling(),
            grown_at: now,
            pending_429: false,
            throttled: 0,
            shared: 0,
        }
    }

    /// One limit per account: the strictest presented lately.
    fn configure(&mut self, limit: Limit, now: f64) {
        let current = self.limit.ceiling();
        let stale = now - self.limit_seen_at > LIMIT_MEMORY_MS;
        if limit.ceiling() <= current || stale {
            self.limit = limit;
            self.limit_seen_at = now;
        }
        self.rate = self.rate.min(self.limit.ceiling());
    }

    fn grow(&mut self, now: f64) {
        let ceiling = self.limit.ceiling();
        if now > self.grown_at && self.rate < ceiling {
            let weight = ((ceiling - self.rate) / (ceiling / 2.0)).clamp(0.25, 2.0);
            let gained = weight * SHARE_INCREASE_PER_S * (now - self.grown_at) / 1_000.0;
            self.rate = (self.rate + gained).min(ceiling);
        }
        self.grown_at = self.grown_at.max(now);
    }

    fn on_429(&mut self, now: f64) {
        self.pending_429 = false;
        self.clean_sends = 0;
        if self.paused_until > now {
            // Another 429 of the same burst: already answered.
            return;
        }
        self.throttled += 1;
        // No send has left since the 429 came back (every send is granted
        // here): the latest sends are the ones that met amoCRM's window.
        let per_second = self.limit.per_second.max(1) as usize;
        let within = |span: f64| {
            self.sent
                .back()
                .map_or(0, |&last| self.sent.iter().filter(|&&t| t > last - span).count())
        };
        let own = within(WINDOW_MS);
        // The most this process sends in a window at its full share (the
        // whole limit, or its part under the static divisor).
        let full = (self.limit.ceiling().floor() as usize).clamp(1, per_second);
        if self.rate >= self.limit.ceiling() && own >= full {
            // At its full share, this process filled its part of amoCRM's
            // window: its requests arrived closer together than they were
            // granted (or, under the static divisor, another process did
            // the same). The share the user set is kept.
            self.paused_until = now + THROTTLE_PAUSE_MS;
            self.margin = (self.margin + MARGIN_STEP_MS).min(MAX_MARGIN_MS);
        } else {
            // Others spend on the account: give way. (A margin widened for
            // jitter was not jitter after all.)
            self.shared += 1;
            self.paused_until = now + SHARE_PAUSE_MS;
            self.grown_at = self.paused_until;
            self.margin = MARGIN_MS;
            let factor = if self.rate >= self.limit.ceiling() - 0.5 {
                SHARE_DECREASE
            } else {
                1.0 - SHARE_GIVE_WAY * (own as f64 / per_second as f64).min(1.0)
            };
            self.rate = (self.rate * factor).max(MIN_RATE);
        }
        self.next_even = self.paused_until;
    }

    /// At most `cap` sends in any `span`, `spacing` apart: whole requests
    /// per window widened by the margin. A share of 3.5 sends 3: two
    /// processes sending 4 each in one second would be 8 in amoCRM's window.
    /// Below one request a second, the window widens instead.
    fn shape(&self) -> (usize, f64, f64) {
        let cap = (self.rate.floor() as usize).max(1);
        let span = (WINDOW_MS + self.margin) * (1.0 / self.rate).max(1.0);
        (cap, span, span / cap as f64)
    }

    fn acquire(&mut self, now: f64) -> f64 {
        if self.pending_429 {
            self.on_429(now);
        }
        if self.paused_until > now {
            return self.paused_until - now;
        }
        self.grow(now);
        let (cap, span, spacing) = self.shape();
        let mut wait = 0.0_f64;
        if self.sent.len() >= cap {
            wait = wait.max(self.sent[self.sent.len() - cap] + span - now);
        }
        wait = wait.max(self.next_even - now);
        if wait > 0.0 {
            // Never less than a millisecond, so that a caller with an
            // unordered clock cannot spin.
            return wait.max(1.0);
        }
        self.sent.push_back(now);
        if self.sent.len() > KEPT_SENDS {
            self.sent.pop_front();
        }
        self.next_even = now + spacing;
        self.clean_sends += 1;
        if self.clean_sends >= RECOVER_AFTER_SENDS && self.margin > MARGIN_MS {
            self.margin = (self.margin - MARGIN_STEP_MS).max(MARGIN_MS);
            self.clean_sends = 0;
        }
        0.0
    }
}

impl RateLimiter {
    /// Grants a send to `account` at `now_ms` (monotonic; records it and
    /// returns 0), or returns how long to wait before asking again.
    pub fn acquire(&mut self, account: &str, now_ms: f64, limit: Limit) -> f64 {
        let budget = self
            .accounts
            .entry(account.to_string())
            .or_insert_with(|| Budget::new(limit, now_ms));
        budget.configure(limit, now_ms);
        budget.acquire(now_ms)
    }

    /// amoCRM said 429: read at the account's next grant, which pauses it
    /// and then either widens its margin or lowers this process's share.
    pub fn throttle(&mut self, account: &str) {
        if let Some(budget) = self.accounts.get_mut(account) {
            budget.pending_429 = true;
        }
    }

    pub fn state(&self, account: &str) -> Option<BudgetState> {
        self.accounts.get(account).map(|b| BudgetState {
            rate: b.rate,
            margin_ms: b.margin,
            throttled: b.throttled,
            shared: b.shared,
        })
    }
}

#[cfg(test)]
mod tests;
