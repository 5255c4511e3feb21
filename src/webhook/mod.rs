//! amoCRM webhooks: decoding the form-encoded bracket payloads amoCRM POSTs,
//! and managing subscriptions through `/api/v4/webhooks`.
//!
//! * [`form`]: the body's `application/x-www-form-urlencoded` bracket syntax,
//!   with the limits that keep hostile bodies cheap.
//! * [`payload`]: events out of the decoded body, the emitted JSON shape and
//!   the v2 → v4 normalisation table.
//! * [`subscription`]: `checkExists`, `subscribe`, `unsubscribe`.
//!
//! The trigger answers amoCRM with 2xx whatever the body holds (amoCRM switches
//! off a destination that keeps failing); a body that cannot be read becomes
//! an error report for the workflow instead, see [`parse_to_json`].

pub mod form;
pub mod payload;
pub mod subscription;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::engine::Operation;
use crate::error::{ErrorKind, NodeError};
use crate::input::shorten_to;

pub use payload::Options;

/// Characters of an unreadable body repeated in the error report, enough to
/// see what arrived without flooding the execution log.
pub const PREVIEW_CHARS: usize = 2000;

/// Builds a subscription operation (`checkExists`, `subscribe`, `unsubscribe`).
pub fn operation(name: &str, account: AccountAddress) -> Result<Box<dyn Operation>, NodeError> {
    match subscription::Kind::parse(name) {
        Some(kind) => Ok(Box::new(subscription::Subscription::new(kind, account))),
        None => Err(NodeError::internal(format!(
            "the webhook resource has no operation \"{name}\""
        ))),
    }
}

/// A webhook body that cannot be turned into events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    Form(form::FormError),
    Shape(payload::ShapeError),
    NoEvents,
}

impl std::fmt::Display for PayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadError::Form(e) => write!(f, "amoCRM's webhook could not be read: {e}"),
            PayloadError::Shape(e) => write!(f, "amoCRM's webhook could not be read: {e}"),
            PayloadError::NoEvents => write!(f, "amoCRM's webhook carried no events"),
        }
    }
}

impl PayloadError {
    pub fn to_node_error(&self) -> NodeError {
        NodeError::new(ErrorKind::Api, self.to_string()).with_description(
            "The request was answered with 200 so that amoCRM keeps the subscription on. amoCRM sends webhooks as application/x-www-form-urlencoded fields such as leads[add][0][id]=1; this body does not look like one. If it did come from amoCRM, please report it with the body shown here.",
        )
    }
}

/// The events of one webhook body.
pub fn parse(body: &[u8], options: Options) -> Result<Vec<Value>, PayloadError> {
    let root = form::parse(body).map_err(PayloadError::Form)?;
    let events = payload::events(&root, options).map_err(PayloadError::Shape)?;
    if events.is_empty() {
        return Err(PayloadError::NoEvents);
    }
    Ok(events)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionsInput {
    #[serde(default = "yes")]
    normalize: bool,
}

fn yes() -> bool {
    true
}

/// Reads the trigger's options: `{"normalize": bool}` (default true); an
/// empty string means the defaults.
pub fn parse_options(options: &str) -> Result<Options, NodeError> {
    if options.trim().is_empty() {
        return Ok(Options::default());
    }
    let input: OptionsInput = serde_json::from_str(options)
        .map_err(|e| NodeError::internal(format!("the trigger sent unreadable webhook options: {e}")))?;
    Ok(Options {
        normalize: input.normalize,
    })
}

/// Decodes one webhook POST body; returns the JSON the trigger emits:
/// `{"events": [...]}`, or `{"error": {message, description, …}, "preview": "…"}`
/// where `preview` is the start of the body.
pub fn parse_to_json(body: &str, options: &str) -> String {
    let options = match parse_options(options) {
        Ok(o) => o,
        Err(e) => return json!({ "error": e }).to_string(),
    };
    match parse(body.as_bytes(), options) {
        Ok(events) => json!({ "events": events }).to_string(),
        Err(e) => json!({ "error": e.to_node_error(), "preview": shorten_to(body, PREVIEW_CHARS) }).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(body: &str, options: &str) -> Value {
        serde_json::from_str(&parse_to_json(body, options)).unwrap()
    }

    #[test]
    fn events_or_an_error_with_a_preview() {
        let ok = out("leads[add][0][id]=1&account[subdomain]=demo", "");
        assert_eq!(
            ok,
            json!({"events": [{"event": "add_lead", "entity": "lead", "action": "add", "data": {"id": 1}, "account": {"subdomain": "demo"}}]})
        );
        let raw = out("leads[add][0][id]=1", r#"{"normalize":false}"#);
        assert_eq!(raw["events"][0]["data"]["id"], "1");
        let bad = out("leads[add][0][id]=%zz", "{}");
        assert_eq!(bad["error"]["kind"], "api");
        assert_eq!(
            bad["error"]["message"],
            "amoCRM's webhook could not be read: the value of field 1 has a \"%\" that is not followed by two hexadecimal digits"
        );
        assert_eq!(bad["preview"], "leads[add][0][id]=%zz");
        let empty = out("account[subdomain]=demo", "");
        assert_eq!(empty["error"]["message"], "amoCRM's webhook carried no events");
        let long = out(&"x".repeat(10_000), "");
        assert_eq!(long["preview"].as_str().unwrap().chars().count(), PREVIEW_CHARS + 1);
        assert_eq!(out("a=1", "nonsense")["error"]["kind"], "internal");
    }

    #[test]
    fn unknown_operations_are_internal_errors() {
        let account = AccountAddress::parse("shop", crate::account::Zone::AmocrmRu).unwrap();
        assert!(operation("explode", account).is_err());
    }
}
