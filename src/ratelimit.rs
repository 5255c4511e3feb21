//! The request budget of an account, shared by everything in one n8n process.
//!
//! amoCRM allows about 7 requests per second per account and answers excess
//! with HTML 429s (and, when abused, IP bans). Every execution and node in the
//! process reserves its send times here, so ten workflows running at once
//! still send at most `per_second` requests in any one-second window. Time is
//! handed in; nothing here sleeps.

use std::collections::{HashMap, VecDeque};

/// The window amoCRM counts requests in.
pub const WINDOW_MS: f64 = 1_000.0;

/// Slack added to the window: a request reserved for time t leaves a little
/// later (timers are late, never early, but by up to a millisecond of
/// rounding) and arrives later still, so spacing by exactly one second could
/// put eight requests in amoCRM's window.
pub const MARGIN_MS: f64 = 30.0;

/// The default budget, from amoCRM's documented limit.
pub const DEFAULT_PER_SECOND: u32 = 7;

/// How long an account is left alone after a 429: one full window.
pub const THROTTLE_PAUSE_MS: f64 = WINDOW_MS;

#[derive(Debug, Default)]
pub struct RateLimiter {
    accounts: HashMap<String, Budget>,
}

#[derive(Debug, Default)]
struct Budget {
    /// Reserved send times, ascending; only the last `per_second` matter.
    sent: VecDeque<f64>,
    paused_until: f64,
}

impl RateLimiter {
    /// Reserves the earliest send time for `account` at or after `now_ms` and
    /// returns how long to wait for it.
    pub fn reserve(&mut self, account: &str, now_ms: f64, per_second: u32) -> f64 {
        let per_second = per_second.max(1) as usize;
        let budget = self.accounts.entry(account.to_string()).or_default();
        let mut at = now_ms.max(budget.paused_until);
        if budget.sent.len() >= per_second {
            let oldest_in_window = budget.sent[budget.sent.len() - per_second];
            at = at.max(oldest_in_window + WINDOW_MS + MARGIN_MS);
        }
        if let Some(&last) = budget.sent.back() {
            // Keep reservations ordered even if clocks are handed in unordered.
            at = at.max(last);
        }
        budget.sent.push_back(at);
        while budget.sent.len() > per_second {
            budget.sent.pop_front();
        }
        at - now_ms
    }

    /// amoCRM said 429: nothing more goes to the account for a while.
    pub fn throttle(&mut self, account: &str, now_ms: f64) {
        let budget = self.accounts.entry(account.to_string()).or_default();
        budget.paused_until = budget.paused_until.max(now_ms + THROTTLE_PAUSE_MS);
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

    #[test]
    fn bursts_up_to_the_budget_then_spaces_by_the_window() {
        let mut rl = RateLimiter::default();
        let delays: Vec<f64> = (0..15).map(|_| rl.reserve("a", 0.0, 7)).collect();
        assert_eq!(&delays[..7], &[0.0; 7]);
        assert_eq!(delays[7], WINDOW_MS + MARGIN_MS);
        assert_eq!(delays[14], 2.0 * (WINDOW_MS + MARGIN_MS));
        assert!(max_in_window(&delays) <= 7);
    }

    #[test]
    fn concurrent_callers_share_one_budget_per_account() {
        let mut rl = RateLimiter::default();
        let mut times = Vec::new();
        // Three "executions" interleave their reservations over 3 seconds.
        for step in 0..60 {
            let now = step as f64 * 50.0;
            for _exec in 0..3 {
                times.push(now + rl.reserve("acct", now, 7));
            }
        }
        times.sort_by(f64::total_cmp);
        assert!(max_in_window(&times) <= 7, "{}", max_in_window(&times));
        // Another account is not slowed down by the first.
        assert_eq!(rl.reserve("other", 0.0, 7), 0.0);
    }

    #[test]
    fn throughput_stays_close_to_the_budget() {
        let mut rl = RateLimiter::default();
        let mut last = 0.0;
        for _ in 0..700 {
            last = rl.reserve("a", 0.0, 7);
        }
        // 700 requests at 7/s need ~99 windows beyond the first burst.
        let seconds = last / 1000.0;
        assert!(seconds < 700.0 / 7.0 * (1.0 + MARGIN_MS / WINDOW_MS), "{seconds}");
    }

    #[test]
    fn a_429_pauses_the_account() {
        let mut rl = RateLimiter::default();
        rl.throttle("a", 100.0);
        assert_eq!(rl.reserve("a", 100.0, 7), THROTTLE_PAUSE_MS);
        assert_eq!(rl.reserve("b", 100.0, 7), 0.0);
    }
}
