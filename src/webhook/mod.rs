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
//! off a destination that keeps failing). What it hands on is decided by
//! [`receive`] ([`parse_to_json`] at the WebAssembly boundary):
//!
//! * **Account check.** amoCRM signs nothing: the secret URL is the only
//!   protection, so a delivery must also name the credential's account. The
//!   trigger learns the account (`id`, `subdomain`) with one
//!   `GET /api/v4/account` when it is activated (operation `account`) and
//!   keeps it; a delivery whose `account[id]` or `account[subdomain]`
//!   differs, or that names no account at all, is dropped: it starts no
//!   execution. Both are compared because a subdomain is unique only within
//!   one of amoCRM's zones, and an ID alone is easy to guess from any
//!   delivery of that account. (amoCRM sends both with every delivery.)
//! * **Unreadable bodies** are dropped too, unless the trigger's option
//!   "Emit Unreadable Deliveries" is on: then one item with an `error` field
//!   and the start of the body runs the workflow.
//! * The shell counts the drops and logs each one; the next delivery that
//!   runs the workflow carries the counts in each item's `meta.dropped`.

pub mod form;
pub mod payload;
pub mod subscription;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::{parse_json, ApiError};
use crate::engine::{Io, Operation, Replay, Reply, Tag};
use crate::error::{ErrorKind, NodeError};
use crate::http::Request;
use crate::input::shorten_to;

pub use payload::Options;

/// Characters of an unreadable body repeated in the error report, enough to
/// see what arrived without flooding the execution log.
pub const PREVIEW_CHARS: usize = 2000;

/// Builds a subscription operation (`checkExists`, `subscribe`, `unsubscribe`),
/// or `account` (the account deliveries must name).
pub fn operation(name: &str, account: AccountAddress) -> Result<Box<dyn Operation>, NodeError> {
    if name == "account" {
        return Ok(Box::new(AccountInfo { account }));
    }
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

/// The account deliveries must name: what `GET /api/v4/account` says of the
/// credential's account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct KnownAccount {
    pub id: u64,
    pub subdomain: String,
}

/// Deliveries dropped since the last one that ran the workflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dropped {
    #[serde(default)]
    pub foreign_account: u64,
    #[serde(default)]
    pub unreadable: u64,
}

impl Dropped {
    fn any(&self) -> bool {
        self.foreign_account > 0 || self.unreadable > 0
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionsInput {
    #[serde(default = "yes")]
    normalize: bool,
    #[serde(default)]
    account: Option<KnownAccount>,
    #[serde(default)]
    emit_unreadable: bool,
    #[serde(default)]
    dropped: Dropped,
}

fn yes() -> bool {
    true
}

/// The trigger's options for one delivery.
#[derive(Debug, Clone, Default)]
pub struct Receive {
    pub options: Options,
    /// The credential's account; without it nothing is checked (the shell
    /// always passes it).
    pub account: Option<KnownAccount>,
    pub emit_unreadable: bool,
    pub dropped: Dropped,
}

fn read_options(options: &str) -> Result<Receive, NodeError> {
    if options.trim().is_empty() {
        return Ok(Receive::default());
    }
    let input: OptionsInput = serde_json::from_str(options)
        .map_err(|e| NodeError::internal(format!("the trigger sent unreadable webhook options: {e}")))?;
    Ok(Receive {
        options: Options {
            normalize: input.normalize,
        },
        account: input.account,
        emit_unreadable: input.emit_unreadable,
        dropped: input.dropped,
    })
}

/// Reads the trigger's options: `{"normalize": bool}` (default true); an
/// empty string means the defaults.
pub fn parse_options(options: &str) -> Result<Options, NodeError> {
    read_options(options).map(|r| r.options)
}

/// Why a delivery starts no execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropKind {
    ForeignAccount,
    Unreadable,
}

impl DropKind {
    pub fn name(self) -> &'static str {
        match self {
            DropKind::ForeignAccount => "foreign_account",
            DropKind::Unreadable => "unreadable",
        }
    }
}

/// What to do with one delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// Run the workflow with these items.
    Events(Vec<Value>),
    /// Answer 200 and start nothing.
    Drop { kind: DropKind, message: String },
    /// Run the workflow with one error item (Emit Unreadable Deliveries).
    Unreadable { error: NodeError, preview: String },
}

/// Why the events do not belong to `known`, if they do not.
pub fn foreign(account: &Value, known: &KnownAccount) -> Option<String> {
    let id = account.get("id").map(|v| match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    });
    let subdomain = account.get("subdomain").and_then(Value::as_str);
    if id.is_none() && subdomain.is_none() {
        return Some("the delivery names no account (amoCRM sends account[id] and account[subdomain])".into());
    }
    if let Some(id) = id {
        if id != known.id.to_string() {
            return Some(format!(
                "the delivery names account {} but the credential's account is {}",
                shorten_to(&id, 40),
                known.id
            ));
        }
    }
    if let Some(sub) = subdomain {
        if !sub.trim().eq_ignore_ascii_case(&known.subdomain) {
            return Some(format!(
                "the delivery names the subdomain \"{}\" but the credential's account is \"{}\"",
                shorten_to(sub, 60),
                known.subdomain
            ));
        }
    }
    None
}

/// Decides what one delivery becomes.
pub fn receive(body: &[u8], r: &Receive) -> Received {
    let events = match parse(body, r.options) {
        Ok(events) => events,
        Err(e) if r.emit_unreadable => {
            return Received::Unreadable {
                error: e.to_node_error(),
                preview: shorten_to(&String::from_utf8_lossy(body), PREVIEW_CHARS),
            }
        }
        Err(e) => {
            return Received::Drop {
                kind: DropKind::Unreadable,
                message: e.to_string(),
            }
        }
    };
    if let Some(known) = &r.account {
        // One body carries one account block, shared by its events.
        if let Some(why) = events.first().and_then(|e| foreign(&e["account"], known)) {
            return Received::Drop {
                kind: DropKind::ForeignAccount,
                message: format!("amoCRM webhook for another account ignored: {why}"),
            };
        }
    }
    let events = if r.dropped.any() {
        let meta = json!({ "dropped": r.dropped });
        events
            .into_iter()
            .map(|mut e| {
                e["meta"] = meta.clone();
                e
            })
            .collect()
    } else {
        events
    };
    Received::Events(events)
}

/// Decodes one webhook POST body; returns the JSON the trigger acts on:
/// `{"events": [...]}`, `{"drop": {"kind", "message"}}`, or (unreadable,
/// with Emit Unreadable Deliveries) `{"error": {message, description, …},
/// "preview": "…"}` where `preview` is the start of the body. `options`:
/// `{normalize, account: {id, subdomain}, emitUnreadable, dropped:
/// {foreignAccount, unreadable}}`; an empty string means the defaults
/// (normalised, nothing checked, unreadable bodies reported as errors).
pub fn parse_to_json(body: &str, options: &str) -> String {
    let mut r = match read_options(options) {
        Ok(r) => r,
        Err(e) => return json!({ "error": e }).to_string(),
    };
    if options.trim().is_empty() {
        r.emit_unreadable = true;
    }
    match receive(body.as_bytes(), &r) {
        Received::Events(events) => json!({ "events": events }).to_string(),
        Received::Drop { kind, message } => json!({ "drop": { "kind": kind.name(), "message": message } }).to_string(),
        Received::Unreadable { error, preview } => json!({ "error": error, "preview": preview }).to_string(),
    }
}

/// `GET /api/v4/account` → `{id, subdomain}`: the account deliveries must name.
pub struct AccountInfo {
    account: AccountAddress,
}

impl Operation for AccountInfo {
    fn on_items(&mut self, _first: usize, _items: Vec<Value>, _last: bool, io: &mut Io) {
        io.send(
            Tag::Account,
            Request::get(self.account.url(crate::call::REAUTH_PROBE_PATH)),
            Replay::Safe,
        );
    }

    fn on_reply(&mut self, _tag: Tag, reply: Reply, io: &mut Io) {
        let doing = "Reading the amoCRM account the webhooks must come from";
        let body = match reply.and_then(|r| parse_json(&r)) {
            Ok(b) => b,
            Err(e) => return io.fail(0, NodeError::api(doing, &e)),
        };
        match (
            body.get("id").and_then(Value::as_u64),
            body.get("subdomain").and_then(Value::as_str),
        ) {
            (Some(id), Some(subdomain)) => io.emit(0, json!({ "id": id, "subdomain": subdomain })),
            _ => io.fail(
                0,
                NodeError::api(doing, &ApiError::unreadable(200, "no id and subdomain in the account")),
            ),
        }
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
        let bad = out("leads[add][0][id]=%zz", r#"{"emitUnreadable":true}"#);
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

    const DEMO: &str = r#""account":{"id":31000001,"subdomain":"demo"}"#;

    fn opts(extra: &str) -> String {
        format!("{{{DEMO}{extra}}}")
    }

    #[test]
    fn deliveries_for_another_account_are_dropped() {
        let mine = "leads[add][0][id]=1&account[subdomain]=demo&account[id]=31000001";
        assert_eq!(out(mine, &opts(""))["events"][0]["data"]["id"], 1);
        assert_eq!(
            out(
                "leads[add][0][id]=1&account[subdomain]=DEMO&account[id]=31000001",
                &opts("")
            )["events"][0]["data"]["id"],
            1
        );
        for (body, why) in [
            (
                "leads[add][0][id]=1&account[subdomain]=demo&account[id]=31000002",
                "account 31000002",
            ),
            (
                "leads[add][0][id]=1&account[subdomain]=other&account[id]=31000001",
                "subdomain \"other\"",
            ),
            ("leads[add][0][id]=1&account[subdomain]=other", "subdomain"),
            ("leads[add][0][id]=1&account[id]=7", "account 7"),
            ("leads[add][0][id]=1", "names no account"),
        ] {
            let got = out(body, &opts(""));
            assert_eq!(got["drop"]["kind"], "foreign_account", "{body}");
            assert!(got["drop"]["message"].as_str().unwrap().contains(why), "{body}: {got}");
            assert!(got.get("events").is_none());
        }
        // Without a known account (the defaults), nothing is checked.
        assert!(out("leads[add][0][id]=1", "")["events"].is_array());
    }

    #[test]
    fn unreadable_deliveries_are_dropped_unless_asked_for() {
        for body in ["garbage", "leads[add][0][id]=%zz", "", "account[subdomain]=demo"] {
            let got = out(body, &opts(""));
            assert_eq!(got["drop"]["kind"], "unreadable", "{body}: {got}");
            let got = out(body, &opts(r#","emitUnreadable":true"#));
            assert_eq!(got["error"]["kind"], "api", "{body}: {got}");
        }
    }

    #[test]
    fn the_next_good_delivery_carries_the_drop_counts() {
        let body = "leads[add][0][id]=1&leads[add][1][id]=2&account[subdomain]=demo&account[id]=31000001";
        let got = out(body, &opts(r#","dropped":{"foreignAccount":2,"unreadable":1}"#));
        for e in got["events"].as_array().unwrap() {
            assert_eq!(e["meta"], json!({"dropped": {"foreignAccount": 2, "unreadable": 1}}));
        }
        assert!(out(body, &opts(""))["events"][0].get("meta").is_none());
    }

    #[test]
    fn the_account_operation_reads_id_and_subdomain() {
        use crate::engine::testing::Run;
        use crate::engine::Driver;
        let account = AccountAddress::parse("shop", crate::account::Zone::AmocrmRu).unwrap();
        let mut r = Run::new(Driver::new(operation("account", account.clone()).unwrap()));
        let s = r.start(vec![json!({})]);
        assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/account");
        let s = r.status(
            s.requests[0].id,
            200,
            r#"{"id":31000001,"name":"Demo","subdomain":"demo"}"#,
        );
        assert_eq!(s.emit[0].json().unwrap(), json!({"id": 31000001, "subdomain": "demo"}));
        let mut r = Run::new(Driver::new(operation("account", account).unwrap()));
        let s = r.start(vec![json!({})]);
        let s = r.status(s.requests[0].id, 200, r#"{"name":"Demo"}"#);
        assert!(matches!(s.emit[0], crate::engine::Emit::Error { .. }));
    }

    #[test]
    fn unknown_operations_are_internal_errors() {
        let account = AccountAddress::parse("shop", crate::account::Zone::AmocrmRu).unwrap();
        assert!(operation("explode", account).is_err());
    }
}
