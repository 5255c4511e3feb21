//! Which failed requests are sent again, and after how long.
//!
//! * 429 means nginx refused the request before amoCRM saw it, so any request,
//!   a create included, is sent again after a growing pause.
//! * 5xx and broken connections are retried only for requests that are safe to
//!   repeat (reads, and updates that set absolute values). A create is never
//!   resent: amoCRM may have applied it although the client saw a 504, and a
//!   second send would duplicate the records. The operation receives an
//!   [`ApiErrorKind::MaybeApplied`] error instead.
//! * 403 (a block or a ban) and every other status are final at once:
//!   retrying a ban extends it.
//! * A failure before any byte left (connection refused, name not resolved)
//!   is retried whatever the request.

use crate::api_error::{ApiError, ApiErrorKind};
use crate::engine::Reply;
use crate::http::Outcome;

/// Pauses before resending a request that got 429. amoCRM sends no
/// Retry-After; its limit is per second, so the first pause lets the window
/// pass and later ones leave room for other clients of the same account.
pub const RATE_LIMIT_BACKOFF_MS: [u64; 5] = [1_000, 2_000, 4_000, 8_000, 16_000];

/// Pauses before resending a safe request after a 5xx or a broken connection:
/// short first (a dropped keep-alive connection), then long enough for a
/// restarting backend.
pub const SERVER_RETRY_BACKOFF_MS: [u64; 3] = [500, 2_000, 5_000];

/// The failure code the shell reports when n8n could not get the credential a
/// token (its preAuthentication failed), so no request left.
pub const TOKEN_FAILURE: &str = "TOKEN";

/// The failure code the shell reports when n8n could not get a token because
/// amoCRM refused the refresh token as already used. Another process (a
/// queue-mode worker) may have spent it a moment ago and be saving the new
/// pair: the request, which was not sent, goes again after a pause, when n8n
/// reads the credential afresh. While the credential still holds the spent
/// token, the broker refuses it without asking amoCRM.
pub const TOKEN_SPENT: &str = "TOKEN_SPENT";

/// Pauses before reading the credential again after [`TOKEN_SPENT`]: a
/// worker that won the refresh saves the new pair within milliseconds, one
/// under load within seconds.
pub const TOKEN_SPENT_BACKOFF_MS: [u64; 4] = [500, 1_000, 2_000, 4_000];

/// The failure code the shell reports when the credential has no token to
/// send at all (n8n's OAuth2 credential before Connect, an empty token field).
pub const NOT_CONNECTED: &str = "NOT_CONNECTED";

/// The failure code the shell reports when n8n's SSRF protection refused the
/// address: nothing was sent, and sending again would be refused again.
pub const SSRF_BLOCKED: &str = "SSRF_BLOCKED";

/// Whether a request may be sent twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    Safe,
    /// Not safe to repeat; the text says what it does ("creates 250 leads")
    /// for the message shown when its fate is unknown.
    Unsafe(String),
}

pub enum Decision {
    Retry { delay_ms: u64, rate_limited: bool },
    Deliver(Reply),
}

/// What to do with the `outcome` of a request sent `retries` times before.
pub fn decide(replay: &Replay, retries: usize, outcome: Outcome) -> Decision {
    let retry_after = |schedule: &[u64]| schedule.get(retries).copied();
    let retry = |delay_ms| Decision::Retry {
        delay_ms,
        rate_limited: false,
    };
    match outcome {
        Outcome::Response(r) if (200..300).contains(&r.status) => Decision::Deliver(Ok(r)),
        Outcome::Response(r) if r.status == 429 => match retry_after(&RATE_LIMIT_BACKOFF_MS) {
            Some(delay_ms) => Decision::Retry {
                delay_ms,
                rate_limited: true,
            },
            None => Decision::Deliver(Err(ApiError::new(ApiErrorKind::RateLimited))),
        },
        Outcome::Response(r) if r.status >= 500 => match (replay, retry_after(&SERVER_RETRY_BACKOFF_MS)) {
            (Replay::Safe, Some(delay_ms)) => retry(delay_ms),
            (Replay::Safe, None) => Decision::Deliver(Err(ApiError::from_response(&r))),
            (Replay::Unsafe(what), _) => Decision::Deliver(Err(ApiError::maybe_applied(what, Some(r.status)))),
        },
        Outcome::Response(r) => Decision::Deliver(Err(ApiError::from_response(&r))),
        // Nothing was sent: the new pair may be in the credential in a moment.
        Outcome::Transport(failure) if failure.code == TOKEN_SPENT => match retry_after(&TOKEN_SPENT_BACKOFF_MS) {
            Some(delay_ms) => retry(delay_ms),
            None => Decision::Deliver(Err(
                ApiError::new(ApiErrorKind::TokenFailed).with_detail(failure.message)
            )),
        },
        // The credential could not get a token: nothing was sent, and trying
        // again would only repeat the failed token request.
        Outcome::Transport(failure) if failure.code == TOKEN_FAILURE => Decision::Deliver(Err(ApiError::new(
            ApiErrorKind::TokenFailed,
        )
        .with_detail(failure.message))),
        Outcome::Transport(failure) if failure.code == SSRF_BLOCKED => Decision::Deliver(Err(ApiError::new(
            ApiErrorKind::SsrfBlocked,
        )
        .with_detail(failure.message))),
        Outcome::Transport(failure) if failure.code == NOT_CONNECTED => Decision::Deliver(Err(ApiError::new(
            ApiErrorKind::NotConnected,
        )
        .with_detail(failure.message))),
        Outcome::Transport(failure) => {
            let never_sent = failure.request_never_sent();
            match (replay, retry_after(&SERVER_RETRY_BACKOFF_MS)) {
                (Replay::Safe, Some(delay_ms)) => retry(delay_ms),
                (Replay::Unsafe(_), Some(delay_ms)) if never_sent => retry(delay_ms),
                (Replay::Unsafe(what), _) if !never_sent => Decision::Deliver(Err(ApiError::maybe_applied(what, None))),
                _ => Decision::Deliver(Err(ApiError::from_transport(&failure))),
            }
        }
    }
}
