//! Renewing an expired OAuth access token once for all the requests of a
//! call that got 401.
//!
//! With an OAuth credential, a 401 may only mean that the access token has
//! expired. The driver then sends one re-authentication probe (a cheap read)
//! through n8n's own 401 handling, which renews the token, persists it and
//! resends; if that succeeds, the requests that got 401 go out again with the
//! new token. All 401s of one call share one probe, and nothing else goes out
//! while it is under way. Long-lived tokens cannot be renewed, so their 401 is
//! final.

use crate::api_error::{ApiError, ApiErrorKind};
use crate::engine::retry::{RATE_LIMIT_BACKOFF_MS, SERVER_RETRY_BACKOFF_MS, TOKEN_SPENT, TOKEN_SPENT_BACKOFF_MS};
use crate::http::{Outcome, Request};

#[derive(Debug)]
enum State<A> {
    /// No renewal under way.
    Idle,
    /// A probe is out; requests that got 401 wait for it here.
    Probing { parked: Vec<A> },
    /// Renewal failed; every later 401 of this call gets this error.
    Failed(ApiError),
}

/// What to do with a request that got 401.
pub enum OnUnauthorized<A> {
    /// It carried a token renewed since: send it again as it is.
    Resend(A),
    /// The 401 is final for it: deliver this error.
    Deliver(A, ApiError),
    /// It waits for the probe already out.
    Parked,
    /// Send this probe first; the request waits for it.
    Probe(Request),
}

/// What the probe's outcome means.
pub enum OnProbe<A> {
    /// The token was renewed: send these again.
    Renewed(Vec<A>),
    /// Try the probe again after `delay_ms`.
    Retry { delay_ms: u64, rate_limited: bool },
    /// Renewal failed: each of these gets the error.
    Failed(Vec<A>, ApiError),
}

#[derive(Debug)]
pub struct Renewal<A> {
    /// The request that renews the token through n8n; `None` for credentials
    /// that cannot be renewed (long-lived tokens).
    probe: Option<Request>,
    state: State<A>,
    /// Counts successful renewals. A 401 for a request sent before the latest
    /// renewal only means it carried the old token: it is resent, not probed.
    epoch: u32,
}

impl<A> Renewal<A> {
    pub fn new(probe: Option<Request>) -> Renewal<A> {
        Renewal {
            probe: probe.map(|mut p| {
                p.reauthenticate = true;
                p
            }),
            state: State::Idle,
            epoch: 0,
        }
    }

    pub fn can_renew(&self) -> bool {
        self.probe.is_some()
    }

    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Whether a probe is out (nothing else may go out meanwhile).
    pub fn probing(&self) -> bool {
        matches!(self.state, State::Probing { .. })
    }

    /// Request `attempt`, sent at `epoch` and already resent once after a
    /// renewal when `reauthed`, got 401 with `error`.
    pub fn on_unauthorized(&mut self, attempt: A, epoch: u32, reauthed: bool, error: ApiError) -> OnUnauthorized<A> {
        if epoch < self.epoch {
            return OnUnauthorized::Resend(attempt);
        }
        match &mut self.state {
            State::Failed(e) => OnUnauthorized::Deliver(attempt, e.clone()),
            State::Probing { parked } => {
                parked.push(attempt);
                OnUnauthorized::Parked
            }
            State::Idle if reauthed => OnUnauthorized::Deliver(attempt, error),
            State::Idle => match self.probe.clone() {
                None => OnUnauthorized::Deliver(attempt, error),
                Some(probe) => {
                    self.state = State::Probing { parked: vec![attempt] };
                    OnUnauthorized::Probe(probe)
                }
            },
        }
    }

    /// The probe, sent `retries` times before, ended with `outcome`.
    pub fn on_probe(&mut self, outcome: Outcome, retries: usize) -> OnProbe<A> {
        let failure = match outcome {
            Outcome::Response(r) if (200..300).contains(&r.status) => None,
            Outcome::Response(r) => Some((r.status.to_string(), String::new())),
            Outcome::Transport(f) => Some((f.code, f.message)),
        };
        let Some((code, message)) = failure else {
            self.epoch += 1;
            return match std::mem::replace(&mut self.state, State::Idle) {
                State::Probing { parked } => OnProbe::Renewed(parked),
                _ => OnProbe::Renewed(Vec::new()),
            };
        };
        // n8n reports the probe's failure as an error whose code is the HTTP
        // status, a network code, or the token failure the shell read. Rate
        // limits and outages are worth another probe, and so is a refresh
        // token spent by another process: the next probe reads the pair it
        // saved. Any other refused token would only be burnt further.
        let schedule: &[u64] = match code.as_str() {
            "429" => &RATE_LIMIT_BACKOFF_MS,
            TOKEN_SPENT => &TOKEN_SPENT_BACKOFF_MS,
            c if c.starts_with('5') || c.starts_with('E') => &SERVER_RETRY_BACKOFF_MS,
            _ => &[],
        };
        if let Some(&delay_ms) = schedule.get(retries) {
            return OnProbe::Retry {
                delay_ms,
                rate_limited: code == "429",
            };
        }
        let error = ApiError::new(ApiErrorKind::ReauthFailed).with_detail(message);
        match std::mem::replace(&mut self.state, State::Failed(error.clone())) {
            State::Probing { parked } => OnProbe::Failed(parked, error),
            _ => OnProbe::Failed(Vec::new(), error),
        }
    }

    /// Requests parked behind the probe, for a call that stops.
    pub fn take_parked(&mut self) -> Vec<A> {
        match &mut self.state {
            State::Probing { parked } => std::mem::take(parked),
            _ => Vec::new(),
        }
    }
}
