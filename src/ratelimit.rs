//! The request budget of an account, shared by everything in one n8n process.
//!
//! amoCRM allows about 7 requests per second per account and answers excess
//! with HTML 429s (and, when abused, IP bans). Every execution and node in the
//! process asks here right before it sends, so ten workflows running at once
//! still send at most `per_second` requests in any window of a second.
//!
//! A send is recorded when it is granted, not reserved ahead: a slot booked
//! for later drifts when the event loop is busy (parsing a 250-lead page
//! takes tens of milliseconds), and a request sent late next to one sent on
//! time puts eight into amoCRM's window. Callers that are told to wait sleep
//! and ask again. Time is handed in; nothing here sleeps.

use std::collections::{HashMap, VecDeque};

/// The window amoCRM counts requests in.
pub const WINDOW_MS: f64 = 1_000.0;

/// Slack added to the window at first: between the grant and the request
/// reaching amoCRM lie n8n's credential lookup, the connection and the
/// server's own queue, tens of milliseconds that vary per request (more on a
/// loaded machine). A 7/s budget then sends about 6.4 requests a second after
/// its first burst of 7.
pub const MARGIN_MS: f64 = 100.0;

/// Each 429 widens an account's margin by this much: the jitter between
/// grant and arrival was larger than assumed, so later windows leave more.
/// The 429s of requests already on their way when the first one came back
/// tell nothing new: they extend the pause but do not widen again.
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

/// How long an account is left alone after a 429: one full window.
pub const THROTTLE_PAUSE_MS: f64 = WINDOW_MS;

#[derive(Debug, Default)]
pub struct RateLimiter {
    accounts: HashMap<String, Budget>,
}

#[derive(Debug)]
struct Budget {
    /// Times of the sends still inside the window, ascending.
    sent: VecDeque<f64>,
    paused_until: f64,
    margin: f64,
    /// Sends granted since the margin last changed without a 429 between.
    clean_sends: u32,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            sent: VecDeque::new(),
            paused_until: 0.0,
            margin: MARGIN_MS,
            clean_sends: 0,
        }
    }
}

impl RateLimiter {
    /// Grants a send to `account` at `now_ms` (records it and returns 0), or
    /// returns how long to wait before asking again.
    pub fn acquire(&mut self, account: &str, now_ms: f64, per_second: u32) -> f64 {
        let per_second = per_second.max(1) as usize;
        let budget = self.accounts.entry(account.to_string()).or_default();
        if budget.paused_until > now_ms {
            return budget.paused_until - now_ms;
        }
        let span = WINDOW_MS + budget.margin;
        while budget.sent.front().is_some_and(|&t| t + span <= now_ms) {
            budget.sent.pop_front();
        }
        if budget.sent.len() < per_second {
            budget.sent.push_back(now_ms);
            budget.clean_sends += 1;
            if budget.clean_sends >= RECOVER_AFTER_SENDS && budget.margin > MARGIN_MS {
                budget.margin = (budget.margin - MARGIN_STEP_MS).max(MARGIN_MS);
                budget.clean_sends = 0;
            }
            return 0.0;
        }
        // Full: the oldest send leaves the window first. Never less than a
        // millisecond, so that a caller with an unordered clock cannot spin.
        (budget.sent[0] + span - now_ms).max(1.0)
    }

    /// amoCRM said 429: nothing more goes to the account for a while, and
    /// its windows get more slack until enough sends have gone out clean.
    pub fn throttle(&mut self, account: &str, now_ms: f64) {
        let budget = self.accounts.entry(account.to_string()).or_default();
        budget.clean_sends = 0;
        if budget.paused_until > now_ms {
            // Another 429 of the same burst: already answered.
            return;
        }
        budget.paused_until = now_ms + THROTTLE_PAUSE_MS;
        budget.margin = (budget.margin + MARGIN_STEP_MS).min(MAX_MARGIN_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest number of send times inside any window of `WINDOW_MS`.
    fn max_in_window(times: &[f64]) -> usize {
        times
            .iter()
            .map(|&t| times.iter().filter(|&&u| u >= t && u < t + WINDOW_MS).count())
            .max()
            .unwrap_or(0)
    }

    /// Callers that each want to send at `wanted` times; each asks, and on a
    /// wait asks again after it (possibly late, by `late_ms`). Returns the
    /// granted send times.
    fn simulate(rl: &mut RateLimiter, account: &str, mut wanted: Vec<f64>, late_ms: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut granted = Vec::new();
        let mut asks = 0;
        while !wanted.is_empty() {
            wanted.sort_by(f64::total_cmp);
            let now = wanted.remove(0);
            let wait = rl.acquire(account, now, 7);
            asks += 1;
            if wait == 0.0 {
                granted.push(now);
            } else {
                wanted.push(now + wait + late_ms(asks));
            }
        }
        granted
    }

    #[test]
    fn bursts_up_to_the_budget_then_waits_for_the_window() {
        let mut rl = RateLimiter::default();
        let waits: Vec<f64> = (0..8).map(|_| rl.acquire("a", 0.0, 7)).collect();
        assert_eq!(&waits[..7], &[0.0; 7]);
        assert_eq!(waits[7], WINDOW_MS + MARGIN_MS);
        assert_eq!(rl.acquire("a", WINDOW_MS + MARGIN_MS, 7), 0.0);
    }

    #[test]
    fn concurrent_callers_share_one_budget_per_account_even_when_late() {
        let mut rl = RateLimiter::default();
        // 60 sends wanted at once by several executions; some wake up late.
        let granted = simulate(&mut rl, "acct", vec![0.0; 60], |i| if i % 3 == 0 { 80.0 } else { 0.0 });
        assert_eq!(granted.len(), 60);
        assert!(max_in_window(&granted) <= 7, "{}", max_in_window(&granted));
        assert_eq!(rl.acquire("other", 0.0, 7), 0.0, "another account is not slowed down");
    }

    #[test]
    fn throughput_stays_close_to_the_budget() {
        let mut rl = RateLimiter::default();
        let granted = simulate(&mut rl, "a", vec![0.0; 700], |_| 0.0);
        let seconds = granted.last().unwrap() / 1000.0;
        // 700 sends at 7 per (window + margin): 99 windows after the first burst.
        assert!(seconds <= 99.0 * (WINDOW_MS + MARGIN_MS) / 1000.0 + 0.001, "{seconds}");
    }

    #[test]
    fn a_429_pauses_the_account_and_widens_its_margin() {
        let mut rl = RateLimiter::default();
        rl.throttle("a", 100.0);
        assert_eq!(rl.acquire("a", 100.0, 7), THROTTLE_PAUSE_MS);
        assert_eq!(rl.acquire("b", 100.0, 7), 0.0);
        let start = 100.0 + THROTTLE_PAUSE_MS;
        for _ in 0..7 {
            assert_eq!(rl.acquire("a", start, 7), 0.0);
        }
        assert_eq!(rl.acquire("a", start, 7), WINDOW_MS + MARGIN_MS + MARGIN_STEP_MS);
        for i in 0..10 {
            rl.throttle("a", 2.0 * THROTTLE_PAUSE_MS * f64::from(i));
        }
        for _ in 0..7 {
            rl.acquire("c", 0.0, 7);
        }
        assert_eq!(
            rl.acquire("c", 0.0, 7),
            WINDOW_MS + MARGIN_MS,
            "other accounts keep theirs"
        );
    }

    /// The margin an account has now: the wait of the eighth send in a burst.
    fn margin_of(rl: &mut RateLimiter, account: &str, at: f64) -> f64 {
        for _ in 0..7 {
            assert_eq!(rl.acquire(account, at, 7), 0.0);
        }
        rl.acquire(account, at, 7) - WINDOW_MS
    }

    #[test]
    fn the_429s_of_one_burst_widen_the_margin_once() {
        let mut rl = RateLimiter::default();
        // Four requests were in flight; all four come back 429 within the pause.
        for t in [0.0, 20.0, 45.0, 300.0] {
            rl.throttle("a", t);
        }
        assert_eq!(
            rl.acquire("a", 300.0, 7),
            THROTTLE_PAUSE_MS - 300.0,
            "the pause is not extended by the same burst"
        );
        assert_eq!(margin_of(&mut rl, "a", THROTTLE_PAUSE_MS), MARGIN_MS + MARGIN_STEP_MS);
    }

    #[test]
    fn a_widened_margin_narrows_again_after_clean_sends_but_not_below_the_first() {
        let mut rl = RateLimiter::default();
        rl.throttle("a", 0.0);
        rl.throttle("a", 2.0 * THROTTLE_PAUSE_MS);
        let mut now = 4.0 * THROTTLE_PAUSE_MS;
        assert_eq!(margin_of(&mut rl, "a", now), MARGIN_MS + 2.0 * MARGIN_STEP_MS);
        // Send at the pace the limiter grants until RECOVER_AFTER_SENDS have gone out.
        let mut sent = 7;
        while sent < RECOVER_AFTER_SENDS {
            now += 10_000.0;
            assert_eq!(rl.acquire("a", now, 7), 0.0);
            sent += 1;
        }
        now += 10_000.0;
        assert_eq!(
            margin_of(&mut rl, "a", now),
            MARGIN_MS + MARGIN_STEP_MS,
            "one step back"
        );
        for _ in 0..(3 * RECOVER_AFTER_SENDS) {
            now += 10_000.0;
            rl.acquire("a", now, 7);
        }
        now += 10_000.0;
        assert_eq!(margin_of(&mut rl, "a", now), MARGIN_MS, "never below where it started");
    }

    #[test]
    fn a_429_resets_the_count_of_clean_sends() {
        let mut rl = RateLimiter::default();
        rl.throttle("a", 0.0);
        let mut now = THROTTLE_PAUSE_MS;
        for _ in 0..(RECOVER_AFTER_SENDS - 1) {
            now += 10_000.0;
            rl.acquire("a", now, 7);
        }
        rl.throttle("a", now);
        now += THROTTLE_PAUSE_MS;
        for _ in 0..(RECOVER_AFTER_SENDS - 8) {
            now += 10_000.0;
            rl.acquire("a", now, 7);
        }
        now += 10_000.0;
        assert_eq!(margin_of(&mut rl, "a", now), MARGIN_MS + 2.0 * MARGIN_STEP_MS);
    }
}
