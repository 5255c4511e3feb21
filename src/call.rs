//! One execution of a node operation: the JSON the shell hands over, checked
//! and turned into a running [`Driver`].

use serde::Deserialize;
use serde_json::Value;

use crate::account::{AccountAddress, AddressConfig};
use crate::engine::{Driver, Step};
use crate::error::NodeError;
use crate::http::{Outcome, Request, Response, TransportFailure};
use crate::lead;
use crate::ratelimit::{RateLimiter, DEFAULT_PER_SECOND};

/// Upper bound for the credential's request-rate setting: far above amoCRM's
/// documented 7/s, to allow accounts with a raised limit, and low enough that a
/// typo cannot get the server's IP banned in seconds.
pub const MAX_PER_SECOND: u32 = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallInput {
    pub resource: String,
    pub operation: String,
    pub account: AddressConfig,
    #[serde(default)]
    pub items: Vec<Value>,
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// How the credential authenticates: `longLivedToken`, `oauth` (tokens
    /// managed by this package) or `oauth2` (n8n's OAuth2 credential).
    #[serde(default)]
    pub auth: String,
    /// The shell's clock, for caches; the core reads no clock of its own.
    #[serde(default)]
    pub now_ms: f64,
    /// Index of `items[0]` among the node's input items.
    #[serde(default)]
    pub first_item: usize,
}

/// The cheapest authenticated read amoCRM offers, used to renew an expired
/// access token through n8n's 401 handling.
pub const REAUTH_PROBE_PATH: &str = "/api/v4/account";

pub struct Call {
    driver: Driver,
    account_key: String,
    per_second: u32,
}

impl Call {
    pub fn prepare(input_json: &str) -> Result<Call, NodeError> {
        let input: CallInput = serde_json::from_str(input_json)
            .map_err(|e| NodeError::internal(format!("the node sent the core unreadable input: {e}")))?;
        let account = AccountAddress::from_config(&input.account)?;
        let per_second = match input.requests_per_second {
            None => DEFAULT_PER_SECOND,
            Some(r) if r.fract() == 0.0 && (1.0..=MAX_PER_SECOND as f64).contains(&r) => r as u32,
            Some(r) => {
                return Err(NodeError::new(
                    crate::error::ErrorKind::Input,
                    format!(
                        "Credential field \"Requests per Second\": {} is not allowed; use a whole number from 1 to {MAX_PER_SECOND} (amoCRM allows 7)",
                        serde_json::Value::from(r)
                    ),
                ))
            }
        };
        let account_key = account.origin().to_string();
        let probe = Request::get(account.url(REAUTH_PROBE_PATH));
        let op = match input.resource.as_str() {
            "lead" => lead::operation(&input.operation, account, input.items, input.now_ms)?,
            "request" => Box::new(crate::custom::CustomRequest::new(account, input.items)),
            "webhook" => crate::webhook::operation(&input.operation, account, input.items)?,
            other => return Err(NodeError::internal(format!("unknown resource \"{other}\""))),
        };
        let driver = match input.auth.as_str() {
            "longLivedToken" => Driver::new(op),
            _ => Driver::new(op).with_reauthentication(probe),
        }
        .with_first_item(input.first_item);
        Ok(Call {
            driver,
            account_key,
            per_second,
        })
    }

    pub fn start(&mut self) -> Step {
        self.driver.start()
    }

    pub fn on_response(&mut self, id: u32, response: Response, limiter: &mut RateLimiter, now_ms: f64) -> Step {
        let step = self.driver.on_outcome(id, Outcome::Response(response));
        if step.throttled {
            limiter.throttle(&self.account_key, now_ms);
        }
        step
    }

    pub fn on_transport_failure(&mut self, id: u32, code: &str, message: &str) -> Step {
        self.driver
            .on_outcome(id, Outcome::Transport(TransportFailure::new(code, message)))
    }

    /// Asks the account's shared budget for a send now: 0 when granted,
    /// else how long to wait before asking again.
    pub fn acquire(&self, limiter: &mut RateLimiter, now_ms: f64) -> f64 {
        limiter.acquire(&self.account_key, now_ms, self.per_second)
    }
}
