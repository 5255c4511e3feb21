//! The WebAssembly boundary: a handful of functions taking and returning JSON
//! strings.
//!
//! Strings rather than JS objects built field by field: V8's `JSON.parse` on
//! one string is faster than thousands of boundary crossings, and the glue
//! stays a few lines of UTF-8 copying that passes n8n's package scanner.
//! Everything here is a thin adapter over the plain-Rust modules and runs
//! natively too, so it is covered by `cargo test`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::account::{AccountAddress, AddressConfig};
use crate::call::Call;
use crate::error::NodeError;
use crate::http::Response;
use crate::process::Process;
use crate::token::{CredentialFields, Plan, PlanError, TokenError};

thread_local! {
    /// The process's state (request budgets, token broker, metadata): the
    /// module is instantiated once per n8n process and shared by every
    /// execution in it. This is the only place that reaches it; every call
    /// below hands it on explicitly.
    static PROCESS: RefCell<Process> = RefCell::new(Process::default());
}

fn with_process<T>(f: impl FnOnce(&mut Process) -> T) -> T {
    PROCESS.with(|p| f(&mut p.borrow_mut()))
}

fn error_json(error: NodeError) -> String {
    json!({ "error": error }).to_string()
}

/// A running node operation. JS: `new NodeCall(inputJson)`, then `start()`,
/// then `resume()`/`fail()` with each request's outcome until a step says
/// `done`, then `free()`.
#[wasm_bindgen]
pub struct NodeCall {
    call: Result<Call, NodeError>,
}

#[derive(Deserialize)]
struct ResponseMeta {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[wasm_bindgen]
impl NodeCall {
    #[wasm_bindgen(constructor)]
    pub fn new(input: &str) -> NodeCall {
        NodeCall {
            call: Call::prepare(input),
        }
    }

    /// The first step, or a step with `fatal` when the input was refused.
    pub fn start(&mut self, now_ms: f64) -> String {
        match &mut self.call {
            Ok(call) => with_process(|p| call.start(p, now_ms)).to_json(),
            Err(e) => crate::engine::Step::fatal(e.clone()).to_json(),
        }
    }

    /// More input items (a JSON list), the first of them item `first`;
    /// `last` when no more will come.
    pub fn feed(&mut self, first: u32, items: &str, last: bool, now_ms: f64) -> String {
        match &mut self.call {
            Ok(call) => with_process(|p| call.feed(p, first as usize, items, last, now_ms)).to_json(),
            Err(e) => crate::engine::Step::fatal(e.clone()).to_json(),
        }
    }

    /// Feeds the response to request `id`. `meta` is `{"status", "headers"}`
    /// with lower-case header names; the body travels separately to avoid
    /// escaping it into JSON. The core takes the copy the glue made into its
    /// memory as it is (an owned `String`, not a `&str` copied again).
    pub fn resume(&mut self, id: u32, meta: &str, body: String, now_ms: f64) -> String {
        self.resume_with(id, meta, body, now_ms)
    }

    /// As [`NodeCall::resume`], with the body as the bytes received: they
    /// are copied in as they are, sparing the UTF-8 decoding to a JavaScript
    /// string and the encoding back (milliseconds for a 250-lead page). The
    /// copy in the core's memory becomes the body's text in place: a page is
    /// in that memory once, not twice, while it is read.
    #[wasm_bindgen(js_name = resumeBytes)]
    pub fn resume_bytes(&mut self, id: u32, meta: &str, body: Vec<u8>, now_ms: f64) -> String {
        let text = match String::from_utf8(body) {
            Ok(text) => text,
            // amoCRM answers in UTF-8; anything else is read as best it can be.
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        self.resume_with(id, meta, text, now_ms)
    }

    fn resume_with(&mut self, id: u32, meta: &str, body: String, now_ms: f64) -> String {
        let Ok(call) = &mut self.call else {
            return self.start(now_ms);
        };
        let meta: ResponseMeta = match serde_json::from_str(meta) {
            Ok(m) => m,
            Err(e) => {
                return crate::engine::Step::fatal(NodeError::internal(format!("unreadable response meta: {e}")))
                    .to_json()
            }
        };
        let response = Response {
            status: meta.status,
            headers: meta.headers,
            body,
        };
        with_process(|p| call.on_response(p, id, response, now_ms)).to_json()
    }

    /// Request `id` got no response; `code` is Node's error code (or, for
    /// the re-authentication probe, the HTTP status n8n reported).
    pub fn fail(&mut self, id: u32, code: &str, message: &str, now_ms: f64) -> String {
        match &mut self.call {
            Ok(call) => with_process(|p| call.on_transport_failure(p, id, code, message, now_ms)).to_json(),
            Err(_) => self.start(now_ms),
        }
    }

    /// Asks the account's request budget, shared by the whole process, for
    /// a send now: 0 means granted (send at once), anything else is how many
    /// milliseconds to wait before asking again. `now_ms` is on a
    /// monotonic clock (`performance.now()`), not the wall clock.
    pub fn acquire(&self, now_ms: f64) -> f64 {
        match &self.call {
            Ok(call) => with_process(|p| call.acquire(p, now_ms)),
            Err(_) => 0.0,
        }
    }
}

/// Validates the credential's address fields: `{"origin": "https://…"}` or
/// `{"error": {…}}`.
#[wasm_bindgen(js_name = checkAccount)]
pub fn check_account(config: &str) -> String {
    match account_of(config) {
        Ok(a) => json!({ "origin": a.origin(), "host": a.host() }).to_string(),
        Err(e) => error_json(e),
    }
}

/// The last gate before a token is attached: is `url` on the credential's own
/// account? `{"ok": true}` or `{"error": {…}}`.
#[wasm_bindgen(js_name = checkRequestUrl)]
pub fn check_request_url(config: &str, url: &str) -> String {
    match account_of(config) {
        Ok(a) if a.admits_token_url(url) => json!({ "ok": true }).to_string(),
        Ok(a) => error_json(NodeError::new(
            crate::error::ErrorKind::Address,
            format!(
                "Refused to send the amoCRM credential to another address: this credential may only be used for requests to {}",
                a.origin()
            ),
        )),
        Err(e) => error_json(e),
    }
}

/// A token error, with the failure code the shell reports when a request
/// could not get a token because of it (see [`crate::engine::retry`]).
fn token_error_json(error: &TokenError) -> String {
    let node_error =
        NodeError::new(crate::error::ErrorKind::Token, error.to_string()).with_description(error.description());
    json!({ "error": node_error, "failure": error.failure_code() }).to_string()
}

fn credential_fields(fields: &str) -> Result<CredentialFields, String> {
    serde_json::from_str(fields)
        .map_err(|e| error_json(NodeError::internal(format!("unreadable credential fields: {e}"))))
}

/// What the credential's `preAuthentication` must do: `{"action": "none"}`,
/// `{"action": "use", "tokens": {…}}` (persist these),
/// `{"action": "send", "flight": key, "request": {…}}` (send it, callers with
/// the same flight sharing one send, then call `tokenComplete`), or
/// `{"error": {…}}`.
#[wasm_bindgen(js_name = tokenPlan)]
pub fn token_plan(fields: &str, now_ms: f64) -> String {
    let fields = match credential_fields(fields) {
        Ok(f) => f,
        Err(e) => return e,
    };
    match with_process(|p| p.broker.plan(&fields, now_ms)) {
        Ok(Plan::Nothing) => json!({ "action": "none" }).to_string(),
        Ok(Plan::Use(tokens)) => json!({ "action": "use", "tokens": tokens }).to_string(),
        Ok(Plan::Send { flight, request }) => {
            json!({ "action": "send", "flight": flight, "request": request }).to_string()
        }
        Err(PlanError::Address(e)) => error_json(e.into()),
        Err(PlanError::Token(e)) => token_error_json(&e),
    }
}

/// Reads the token endpoint's answer for `flight`: `{"tokens": {…}}` to
/// persist, or `{"error": {…}}`.
#[wasm_bindgen(js_name = tokenComplete)]
pub fn token_complete(flight: &str, meta: &str, body: &str, now_ms: f64) -> String {
    let meta: ResponseMeta = match serde_json::from_str(meta) {
        Ok(m) => m,
        Err(e) => return error_json(NodeError::internal(format!("unreadable response meta: {e}"))),
    };
    let response = Response {
        status: meta.status,
        headers: meta.headers,
        body: body.to_string(),
    };
    match with_process(|p| p.broker.complete(flight, &response, now_ms)) {
        Ok(tokens) => json!({ "tokens": tokens }).to_string(),
        Err(e) => token_error_json(&e),
    }
}

/// The token request for `flight` got no answer (`code`: Node's error code).
#[wasm_bindgen(js_name = tokenAbandon)]
pub fn token_abandon(flight: &str, code: &str, now_ms: f64) -> String {
    with_process(|p| p.broker.abandon(flight, now_ms));
    token_error_json(&TokenError::Transport { code: code.to_string() })
}

/// Whether the credential must renew its refresh token before this use
/// (keep-alive): `true` or `false`; `false` for anything unreadable.
#[wasm_bindgen(js_name = tokenRenewalDue)]
pub fn token_renewal_due(fields: &str, now_ms: f64) -> bool {
    credential_fields(fields).is_ok_and(|f| with_process(|p| p.broker.renewal_due(&f, now_ms)))
}

/// The token broker's memory (rotations, pending grants, failed renewals) as
/// JSON, for the shell to keep outside the instance.
#[wasm_bindgen(js_name = tokenExport)]
pub fn token_export() -> String {
    with_process(|p| p.broker.export())
}

/// Restores what [`token_export`] wrote (into a fresh instance after a
/// trap): `{"ok": true}` or `{"error": {…}}`.
#[wasm_bindgen(js_name = tokenImport)]
pub fn token_import(state: &str) -> String {
    match crate::token::TokenBroker::import(state) {
        Ok(broker) => {
            with_process(|p| p.broker = broker);
            json!({ "ok": true }).to_string()
        }
        Err(e) => error_json(NodeError::internal(format!("unreadable token memory: {e}"))),
    }
}

/// Test builds only (`--features test-trap`): panics inside the instance, to
/// prove that a trap is contained. The shipped build has no such export
/// (scripts/build.mjs checks).
#[cfg(feature = "test-trap")]
#[wasm_bindgen(js_name = __testTrap)]
pub fn test_trap() {
    with_process(|_| panic!("test trap"));
}

/// Decodes a webhook POST body (`application/x-www-form-urlencoded`, amoCRM's
/// bracket format) into the items the trigger emits; see [`crate::webhook`].
#[wasm_bindgen(js_name = parseWebhook)]
pub fn parse_webhook(body: &str, options: &str) -> String {
    crate::webhook::parse_to_json(body, options)
}

fn account_of(config: &str) -> Result<AccountAddress, NodeError> {
    let config: AddressConfig =
        serde_json::from_str(config).map_err(|e| NodeError::internal(format!("unreadable credential fields: {e}")))?;
    Ok(AccountAddress::from_config(&config)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn check_account_reports_origin_or_error() {
        let ok = parse(&check_account(
            r#"{"environment":"cloud","address":"https://Shop.kommo.com/"}"#,
        ));
        assert_eq!(ok["origin"], "https://shop.kommo.com");
        let bad = parse(&check_account(r#"{"environment":"cloud","address":"evil.test"}"#));
        assert_eq!(bad["error"]["kind"], "address");
        assert!(bad["error"]["message"].as_str().unwrap().contains("evil.test"));
    }

    #[test]
    fn check_request_url_refuses_foreign_hosts() {
        let cfg = r#"{"environment":"cloud","address":"shop","zone":"amocrm.ru"}"#;
        assert_eq!(
            parse(&check_request_url(cfg, "https://shop.amocrm.ru/api/v4/account"))["ok"],
            true
        );
        let bad = parse(&check_request_url(cfg, "https://evil.test/api/v4/account"));
        assert!(bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("https://shop.amocrm.ru"));
    }

    #[test]
    fn a_call_runs_through_the_boundary() {
        let input = json!({
            "resource": "lead", "operation": "get",
            "account": {"environment": "local", "baseUrl": "http://127.0.0.1:9"},
            "items": [{"leadId": "5", "with": ["contacts"]}]
        });
        let mut call = NodeCall::new(&input.to_string());
        let step = parse(&call.start(0.0));
        assert_eq!(
            step["requests"][0]["url"],
            "http://127.0.0.1:9/api/v4/leads/5?with=contacts"
        );
        assert_eq!(step["requests"][0]["method"], "GET");
        let id = step["requests"][0]["id"].as_u64().unwrap() as u32;
        let step = parse(&call.resume(
            id,
            r#"{"status":200,"headers":{"content-type":"application/hal+json"}}"#,
            r#"{"id":5,"name":"Deal"}"#.to_string(),
            0.0,
        ));
        assert_eq!(step["done"], true);
        assert_eq!(step["emit"][0]["json"]["name"], "Deal");
    }

    #[test]
    fn token_plan_and_complete_round_trip_through_the_boundary() {
        let fields = json!({
            "environment": "local", "baseUrl": "http://127.0.0.1:9",
            "connectionType": "oauth", "clientId": "cid", "clientSecret": "sec",
            "redirectUri": "https://n8n.example/cb", "authorizationCode": "C0DE",
            "accessToken": "", "refreshToken": "", "accessExpiresAt": "", "grantFingerprint": ""
        });
        let plan = parse(&token_plan(&fields.to_string(), 1000.0));
        assert_eq!(plan["action"], "send");
        assert_eq!(plan["request"]["url"], "http://127.0.0.1:9/oauth2/access_token");
        let flight = plan["flight"].as_str().unwrap();
        let done = parse(&token_complete(
            flight,
            r#"{"status":200,"headers":{}}"#,
            r#"{"token_type":"Bearer","expires_in":86400,"access_token":"A","refresh_token":"R"}"#,
            1000.0,
        ));
        assert_eq!(done["tokens"]["accessToken"], "A");
        assert_eq!(done["tokens"]["accessExpiresAt"], 1000.0 + 86_400_000.0);
        let revoked = parse(&token_abandon("nope", "ECONNRESET", 1000.0));
        assert_eq!(revoked["error"]["kind"], "token");
        assert_eq!(revoked["failure"], "TOKEN");
    }

    /// Lead 5's Get, started: the call and its request's id.
    fn started_lead_get() -> (NodeCall, u32) {
        let input = json!({
            "resource": "lead", "operation": "get",
            "account": {"environment": "local", "baseUrl": "http://127.0.0.1:9"},
            "items": [{"leadId": "5"}]
        });
        let mut call = NodeCall::new(&input.to_string());
        let id = parse(&call.start(0.0))["requests"][0]["id"].as_u64().unwrap() as u32;
        (call, id)
    }

    #[test]
    fn bodies_can_come_as_bytes() {
        let (mut call, id) = started_lead_get();
        let body = r#"{"id":5,"name":"Сделка"}"#.as_bytes().to_vec();
        let step = parse(&call.resume_bytes(id, r#"{"status":200}"#, body, 0.0));
        assert_eq!(step["emit"][0]["json"]["name"], "Сделка");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_read_as_best_they_can_be() {
        let (mut call, id) = started_lead_get();
        let mut body = br#"{"id":5,"name":"Deal "#.to_vec();
        body.push(0xff);
        body.extend_from_slice(br#""}"#);
        let step = parse(&call.resume_bytes(id, r#"{"status":200}"#, body, 0.0));
        assert_eq!(step["emit"][0]["json"]["name"], "Deal \u{fffd}");
    }

    #[test]
    fn refused_accounts_fail_the_whole_call() {
        let input = json!({"resource": "lead", "operation": "get", "account": {"environment": "local", "baseUrl": "http://10.0.0.1"}, "items": [{}]});
        let step = parse(&NodeCall::new(&input.to_string()).start(0.0));
        assert_eq!(step["fatal"]["kind"], "address");
        assert_eq!(step["done"], true);
    }
}
