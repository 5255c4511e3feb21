//! amoCRM webhooks: decoding the form-encoded bracket payloads amoCRM POSTs,
//! and managing subscriptions through `/api/v4/webhooks`.
//!
//! (Being written: see the webhook work item. The signatures below are the
//! contract with `call.rs` and `wasm.rs`.)

use serde_json::Value;

use crate::account::AccountAddress;
use crate::engine::Operation;
use crate::error::NodeError;

/// Builds a subscription operation (`checkExists`, `subscribe`, `unsubscribe`).
pub fn operation(name: &str, _account: AccountAddress, _items: Vec<Value>) -> Result<Box<dyn Operation>, NodeError> {
    Err(NodeError::internal(format!(
        "the webhook resource has no operation \"{name}\" yet"
    )))
}

/// Decodes one webhook POST body; returns the JSON the trigger emits.
pub fn parse_to_json(_body: &str, _options: &str) -> String {
    serde_json::json!({"error": NodeError::internal("webhook parsing is not built yet")}).to_string()
}
