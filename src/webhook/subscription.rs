//! Webhook subscriptions through `/api/v4/webhooks`: the three calls n8n makes
//! when a trigger is activated and deactivated.
//!
//! * `checkExists`: `GET /api/v4/webhooks?filter[destination]=URL` → one item
//!   `{exists, disabled, settings, id?}`. `exists` is true only when a hook
//!   for exactly this destination is there, is not disabled, and delivers
//!   exactly the events the node asks for. Otherwise n8n calls `subscribe`,
//!   which re-enables a hook amoCRM switched off after failed deliveries and
//!   replaces changed settings (amoCRM keys hooks by destination: posting the
//!   same destination again updates it). 204 means no hook at all. The hooks
//!   are matched here too, in case an account ignores the filter.
//! * `subscribe`: `POST /api/v4/webhooks` `{"destination","settings","sort"?}`
//!   → the webhook object amoCRM returns.
//! * `unsubscribe`: `DELETE /api/v4/webhooks` `{"destination"}` → 204 →
//!   `{deleted: true}`; a 404 (the hook was already removed, by hand or by
//!   amoCRM) → `{deleted: false}`, not an error.
//!
//! Parameters (one item): `destination`, the node's own webhook URL, which must
//! be an absolute http(s) URL without user name or password; `events`, a list
//! of settings from [`SETTINGS`] (not needed to unsubscribe); `sort`, an
//! optional positive whole number (amoCRM's delivery order).
//!
//! Managing webhooks needs an account administrator: amoCRM's 403 here gets a
//! message saying so.

use serde_json::{json, Value};
use url::Url;

use crate::account::AccountAddress;
use crate::api_error::{parse_json, ApiError, ApiErrorKind};
use crate::engine::{Io, Operation, Replay, Reply, Tag};
use crate::error::{ErrorKind, NodeError};
use crate::http::{Method, Request};
use crate::input::{describe, parse_id, InputError, Params};
use crate::query::Query;

pub const WEBHOOKS_PATH: &str = "/api/v4/webhooks";

/// Events the trigger can subscribe to: `{action}_{entity}`, as amoCRM names
/// its webhook settings (entities §14 in the reference lists them).
/// Companies' events arrive under `contacts[…]`. The incoming-lead settings
/// (`*_unsorted`) are not in amoCRM's list of subscription settings,
/// although its payload documentation shows `unsorted[add|update|delete]`
/// deliveries: they are offered, and the README says so.
pub const SETTINGS: [&str; 33] = [
    "add_lead",
    "update_lead",
    "delete_lead",
    "restore_lead",
    "status_lead",
    "responsible_lead",
    "note_lead",
    "add_contact",
    "update_contact",
    "delete_contact",
    "restore_contact",
    "responsible_contact",
    "note_contact",
    "add_company",
    "update_company",
    "delete_company",
    "restore_company",
    "responsible_company",
    "note_company",
    "add_customer",
    "update_customer",
    "delete_customer",
    "responsible_customer",
    "note_customer",
    "add_task",
    "update_task",
    "delete_task",
    "responsible_task",
    "add_talk",
    "update_talk",
    "add_unsorted",
    "update_unsorted",
    "delete_unsorted",
];

/// Longest destination accepted. n8n's webhook URLs are well under 200
/// characters; the bound keeps messages and requests small.
pub const MAX_DESTINATION_LEN: usize = 2048;

pub const DESTINATION_LABEL: &str = "Webhook URL";
pub const EVENTS_LABEL: &str = "Events";
pub const SORT_LABEL: &str = "Sort";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CheckExists,
    Subscribe,
    Unsubscribe,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "checkExists" => Some(Kind::CheckExists),
            "subscribe" => Some(Kind::Subscribe),
            "unsubscribe" => Some(Kind::Unsubscribe),
            _ => None,
        }
    }

    fn doing(self) -> &'static str {
        match self {
            Kind::CheckExists => "Checking the amoCRM webhook subscription",
            Kind::Subscribe => "Subscribing to amoCRM webhooks",
            Kind::Unsubscribe => "Removing the amoCRM webhook subscription",
        }
    }
}

/// A destination that passed [`parse_destination`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination(String);

impl Destination {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An absolute http(s) URL with a host and no user-info, kept exactly as given
/// (amoCRM matches destinations as text).
pub fn parse_destination(value: Option<&Value>) -> Result<Destination, InputError> {
    let text = match value {
        None => return Err(InputError::new(DESTINATION_LABEL, "is missing")),
        Some(Value::String(s)) => s.trim(),
        Some(other) => {
            return Err(InputError::new(
                DESTINATION_LABEL,
                format!("expected a URL, got {}", describe(other)),
            ))
        }
    };
    let bad = |why: &str| InputError::new(DESTINATION_LABEL, format!("\"{}\" {why}", crate::input::shorten(text)));
    if text.is_empty() {
        return Err(InputError::new(DESTINATION_LABEL, "is empty"));
    }
    if text.len() > MAX_DESTINATION_LEN {
        return Err(bad(&format!("is longer than {MAX_DESTINATION_LEN} characters")));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains spaces or control characters"));
    }
    // Before any URL parsing: the crate is built without IDNA tables (see
    // Cargo.toml), and n8n's own webhook URLs are ASCII.
    if !text.is_ascii() {
        return Err(bad(
            "contains non-ASCII characters; write the host in its xn-- form and percent-encode the path",
        ));
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(bad("is not an absolute URL"));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(bad("is not an http:// or https:// URL"));
    }
    // The host is checked on the text, so that the URL parser only ever sees
    // a plain lower-case ASCII host: a percent-encoded or mixed-case one would
    // take it into the IDNA stub (whose debug assertions fuzzing tripped).
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(bad(
            "contains a user name or password; amoCRM would send it with every event",
        ));
    }
    if authority.is_empty() {
        return Err(bad("has no host"));
    }
    if !authority
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
    {
        return Err(bad("has a host with characters a host name cannot have"));
    }
    let lowered = format!("{scheme}://{}{tail}", authority.to_ascii_lowercase());
    let url = Url::parse(&lowered).map_err(|_| bad("is not an absolute URL"))?;
    if matches!(url.host_str(), None | Some("")) {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "contains a user name or password; amoCRM would send it with every event",
        ));
    }
    Ok(Destination(text.to_string()))
}

/// The settings to subscribe: known names, no repeats, at least one.
pub fn parse_settings(params: &Params) -> Result<Vec<String>, InputError> {
    let mut out: Vec<String> = Vec::new();
    for name in params.strings("events", EVENTS_LABEL)? {
        if !SETTINGS.contains(&name) {
            return Err(InputError::new(
                EVENTS_LABEL,
                format!(
                    "\"{}\" is not an amoCRM webhook event; use one of {}",
                    crate::input::shorten(name),
                    SETTINGS.join(", ")
                ),
            ));
        }
        if !out.iter().any(|s| s == name) {
            out.push(name.to_string());
        }
    }
    if out.is_empty() {
        return Err(InputError::new(EVENTS_LABEL, "choose at least one event"));
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
struct Plan {
    destination: Destination,
    settings: Vec<String>,
}

pub struct Subscription {
    kind: Kind,
    account: AccountAddress,
    plan: Option<Plan>,
}

impl Subscription {
    pub fn new(kind: Kind, account: AccountAddress) -> Subscription {
        Subscription {
            kind,
            account,
            plan: None,
        }
    }

    fn request(&self, params: Params) -> Result<(Plan, Request, Replay), InputError> {
        let destination = parse_destination(params.get("destination"))?;
        let url = self.account.url(WEBHOOKS_PATH);
        let (settings, request, replay) = match self.kind {
            Kind::CheckExists => {
                let settings = parse_settings(&params)?;
                let mut query = Query::new();
                query.push("filter[destination]", destination.as_str());
                let url = self.account.url(&query.append_to(WEBHOOKS_PATH));
                (settings, Request::get(url), Replay::Safe)
            }
            Kind::Subscribe => {
                let settings = parse_settings(&params)?;
                let mut body = json!({ "destination": destination.as_str(), "settings": settings });
                if let Some(sort) = params.get("sort") {
                    body["sort"] = json!(parse_id(sort, SORT_LABEL, "a sort")?.get());
                }
                let request = Request::new(Method::Post, url).json(&body);
                // amoCRM keys hooks by destination, but that a second POST
                // only updates is not documented: after a 5xx the user checks.
                let replay = Replay::Unsafe(format!("subscribes {} to amoCRM webhooks", destination.as_str()));
                (settings, request, replay)
            }
            Kind::Unsubscribe => {
                let body = json!({ "destination": destination.as_str() });
                // Deleting by destination twice deletes nothing more.
                (Vec::new(), Request::new(Method::Delete, url).json(&body), Replay::Safe)
            }
        };
        Ok((Plan { destination, settings }, request, replay))
    }

    fn on_list(&self, plan: &Plan, body: &Value) -> Value {
        let hook = body["_embedded"]["webhooks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|h| h["destination"].as_str() == Some(plan.destination.as_str()));
        let Some(hook) = hook else {
            return json!({ "exists": false, "disabled": false, "settings": [] });
        };
        let disabled = hook["disabled"].as_bool().unwrap_or(false);
        let settings: Vec<&str> = hook["settings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let same = settings.len() == plan.settings.len()
            && plan.settings.iter().all(|s| settings.contains(&s.as_str()))
            && settings.iter().all(|s| plan.settings.iter().any(|p| p == s));
        let mut out = json!({ "exists": !disabled && same, "disabled": disabled, "settings": settings });
        if let Some(id) = hook.get("id").filter(|v| !v.is_null()) {
            out["id"] = id.clone();
        }
        out
    }
}

impl Operation for Subscription {
    fn on_items(&mut self, _first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        if items.len() != 1 {
            return io.fail(
                0,
                NodeError::internal(format!(
                    "webhook operations take one item of parameters, got {}",
                    items.len()
                )),
            );
        }
        match self.request(Params::new(&items[0])) {
            Ok((plan, request, replay)) => {
                self.plan = Some(plan);
                io.send(Tag::Item(0), request, replay);
            }
            Err(e) => io.fail(0, NodeError::input(0, &e)),
        }
    }

    fn on_reply(&mut self, _tag: Tag, reply: Reply, io: &mut Io) {
        let Some(plan) = &self.plan else {
            return io.fail(0, NodeError::internal("a webhook reply arrived before its request"));
        };
        let doing = self.kind.doing();
        let response = match (self.kind, reply) {
            (Kind::Unsubscribe, Err(e)) if e.kind == ApiErrorKind::NotFound => {
                return io.emit(0, json!({ "deleted": false }));
            }
            (_, Err(e)) => return io.fail(0, failure(doing, &e)),
            (_, Ok(r)) => r,
        };
        match self.kind {
            Kind::CheckExists if response.status == 204 || response.body.trim().is_empty() => {
                io.emit(0, json!({ "exists": false, "disabled": false, "settings": [] }))
            }
            Kind::CheckExists => match parse_json(&response) {
                Ok(body) => io.emit(0, self.on_list(plan, &body)),
                Err(e) => io.fail(0, failure(doing, &e)),
            },
            Kind::Subscribe => match parse_json(&response) {
                Ok(body) => {
                    // The hook itself, or (should amoCRM ever wrap it) the
                    // first of a HAL list.
                    let hook = match body["_embedded"]["webhooks"].get(0) {
                        Some(h) if body.get("destination").is_none() => h.clone(),
                        _ => body,
                    };
                    io.emit(0, hook)
                }
                Err(e) => io.fail(0, failure(doing, &e)),
            },
            Kind::Unsubscribe => io.emit(0, json!({ "deleted": true })),
        }
    }
}

/// amoCRM's answer as the user should read it; 403 on this endpoint means the
/// credential's user is not an administrator.
fn failure(doing: &str, error: &ApiError) -> NodeError {
    match error.kind {
        ApiErrorKind::Forbidden | ApiErrorKind::Blocked => {
            let html = error.kind == ApiErrorKind::Blocked;
            let mut description = String::from(
                "In amoCRM only account administrators may manage webhooks. Connect the credential as a user with administrator rights (Settings → Users), or ask an administrator to authorise the integration.",
            );
            if html {
                description.push_str(" amoCRM answered with its gateway's block page, so the API or this server's IP address may also be blocked.");
            }
            let mut e = NodeError::new(
                ErrorKind::Api,
                format!("{doing}: amoCRM refused (403): managing webhooks needs administrator rights"),
            )
            .with_description(description);
            e.http_code = Some(403);
            e
        }
        _ => NodeError::api(doing, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Outgoing};

    const HOOK: &str = "https://n8n.example.com/webhook/5f0e/webhook";

    fn start(kind: Kind, params: Value) -> crate::engine::Step {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        Run::new(Driver::new(Box::new(Subscription::new(kind, account)))).start(vec![params])
    }

    fn first_request(kind: Kind, params: Value) -> (Run, Outgoing) {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Run::new(Driver::new(Box::new(Subscription::new(kind, account))));
        let s = d.start(vec![params]);
        assert!(s.emit.is_empty(), "{:?}", s.emit);
        assert_eq!(s.requests.len(), 1);
        (d, s.requests[0].clone())
    }

    fn answer(kind: Kind, params: Value, status: u16, body: &str) -> Emit {
        let (mut d, r) = first_request(kind, params);
        let s = d.status(r.id, status, body);
        assert!(s.done);
        assert_eq!(s.emit.len(), 1, "{:?}", s.emit);
        s.emit[0].clone()
    }

    fn item(e: Emit) -> Value {
        match e {
            Emit::Item { json, .. } => json,
            other => panic!("expected an item, got {other:?}"),
        }
    }

    fn error(e: Emit) -> NodeError {
        match e {
            Emit::Error { error, .. } => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    fn params(events: &[&str]) -> Value {
        json!({ "destination": HOOK, "events": events })
    }

    fn list(hooks: Value) -> String {
        json!({"_total_items": 1, "_embedded": {"webhooks": hooks}}).to_string()
    }

    #[test]
    fn check_exists_sends_the_filtered_list_request() {
        let (_, r) = first_request(Kind::CheckExists, params(&["add_lead"]));
        assert_eq!(r.request.method, Method::Get);
        assert_eq!(
            r.request.url,
            "https://shop.amocrm.ru/api/v4/webhooks?filter[destination]=https%3A%2F%2Fn8n.example.com%2Fwebhook%2F5f0e%2Fwebhook"
        );
        assert_eq!(r.request.body, None);
    }

    #[test]
    fn check_exists_no_content_means_none() {
        let out = item(answer(Kind::CheckExists, params(&["add_lead"]), 204, ""));
        assert_eq!(out, json!({"exists": false, "disabled": false, "settings": []}));
    }

    #[test]
    fn check_exists_needs_same_destination_enabled_and_same_settings() {
        let hook = |dest: &str, disabled: bool, settings: Value| {
            list(json!([{"id": 9, "destination": dest, "disabled": disabled, "settings": settings, "sort": 1}]))
        };
        let p = params(&["status_lead", "add_lead"]);
        let ok = item(answer(
            Kind::CheckExists,
            p.clone(),
            200,
            &hook(HOOK, false, json!(["add_lead", "status_lead"])),
        ));
        assert_eq!(
            ok,
            json!({"exists": true, "disabled": false, "settings": ["add_lead", "status_lead"], "id": 9})
        );
        let off = item(answer(
            Kind::CheckExists,
            p.clone(),
            200,
            &hook(HOOK, true, json!(["add_lead", "status_lead"])),
        ));
        assert_eq!(off["exists"], false);
        assert_eq!(off["disabled"], true);
        for settings in [json!(["add_lead"]), json!(["add_lead", "status_lead", "delete_lead"])] {
            let changed = item(answer(Kind::CheckExists, p.clone(), 200, &hook(HOOK, false, settings)));
            assert_eq!(changed["exists"], false);
        }
        let other = item(answer(
            Kind::CheckExists,
            p,
            200,
            &hook(
                "https://n8n.example.com/webhook/other",
                false,
                json!(["add_lead", "status_lead"]),
            ),
        ));
        assert_eq!(other, json!({"exists": false, "disabled": false, "settings": []}));
    }

    #[test]
    fn subscribe_posts_destination_and_settings() {
        let (_, r) = first_request(
            Kind::Subscribe,
            json!({"destination": HOOK, "events": ["add_lead", "status_lead", "add_lead"], "sort": 2}),
        );
        assert_eq!(r.request.method, Method::Post);
        assert_eq!(r.request.url, "https://shop.amocrm.ru/api/v4/webhooks");
        assert_eq!(
            r.request.body.as_deref(),
            Some(
                r#"{"destination":"https://n8n.example.com/webhook/5f0e/webhook","settings":["add_lead","status_lead"],"sort":2}"#
            )
        );
        assert_eq!(r.request.headers["content-type"], "application/json");
        let hook = json!({"id": 9, "destination": HOOK, "created_at": 1, "updated_at": 1, "account_id": 31000001, "created_by": 1, "sort": 1, "disabled": false, "settings": ["add_lead"]});
        let out = item(answer(Kind::Subscribe, params(&["add_lead"]), 200, &hook.to_string()));
        assert_eq!(out, hook);
        let (_, r) = first_request(Kind::Subscribe, params(&["add_lead"]));
        assert_eq!(
            r.request.body.as_deref(),
            Some(r#"{"destination":"https://n8n.example.com/webhook/5f0e/webhook","settings":["add_lead"]}"#)
        );
    }

    #[test]
    fn subscribe_is_not_resent_after_a_server_error() {
        let (mut d, r) = first_request(Kind::Subscribe, params(&["add_lead"]));
        let s = d.status(r.id, 504, "");
        assert!(s.requests.is_empty() && s.done);
        assert!(error(s.emit[0].clone()).message.contains("may have been applied"));
    }

    #[test]
    fn unsubscribe_deletes_by_destination_and_accepts_already_gone() {
        let (_, r) = first_request(Kind::Unsubscribe, json!({"destination": HOOK}));
        assert_eq!(r.request.method, Method::Delete);
        assert_eq!(r.request.url, "https://shop.amocrm.ru/api/v4/webhooks");
        assert_eq!(
            r.request.body.as_deref(),
            Some(r#"{"destination":"https://n8n.example.com/webhook/5f0e/webhook"}"#)
        );
        let done = item(answer(Kind::Unsubscribe, json!({"destination": HOOK}), 204, ""));
        assert_eq!(done, json!({"deleted": true}));
        let gone = item(answer(
            Kind::Unsubscribe,
            json!({"destination": HOOK}),
            404,
            r#"{"title":"Not Found","status":404,"detail":"Webhook not found"}"#,
        ));
        assert_eq!(gone, json!({"deleted": false}));
    }

    #[test]
    fn forbidden_means_administrator_rights() {
        for kind in [Kind::CheckExists, Kind::Subscribe, Kind::Unsubscribe] {
            let e = error(answer(
                kind,
                params(&["add_lead"]),
                403,
                r#"{"title":"Forbidden","status":403,"detail":"Access denied"}"#,
            ));
            assert_eq!(e.http_code, Some(403));
            assert!(e.message.contains("needs administrator rights"), "{}", e.message);
            assert!(e.description.unwrap().contains("administrator"));
        }
    }

    #[test]
    fn other_errors_keep_amocrm_detail() {
        let e = error(answer(
            Kind::Subscribe,
            params(&["add_lead"]),
            400,
            r#"{"title":"Bad Request","status":400,"detail":"Webhooks limit reached"}"#,
        ));
        assert_eq!(
            e.message,
            "Subscribing to amoCRM webhooks: amoCRM rejected the request (400): Webhooks limit reached"
        );
        let e = error(answer(Kind::CheckExists, params(&["add_lead"]), 200, "<html>"));
        assert!(e.message.contains("could not be read"), "{}", e.message);
    }

    #[test]
    fn bad_destinations_are_refused_before_any_request() {
        for (dest, why) in [
            (json!("ftp://n8n.example.com/x"), "not an http"),
            (json!("/webhook/x"), "not an absolute URL"),
            (json!("https://user:pw@n8n.example.com/x"), "user name or password"),
            (json!("https://n8n.example.com/a b"), "spaces"),
            // Found by fuzzing: a non-ASCII host reached the IDNA stub.
            (json!("http:/Eйhttp:"), "non-ASCII"),
            (json!("https://пример.рф/webhook"), "xn-- form"),
            (json!("ftp://02E%bbbbbb"), "not an http"),
            (
                json!("https://n8n%2Eexample.com/x"),
                "characters a host name cannot have",
            ),
            (json!("http:///0X%ddbdd/4XEZOE@EEEE"), "has no host"),
            (json!("https://n8n.example.com:99999/x"), "not an absolute URL"),
            (json!(""), "is empty"),
            (json!(5), "expected a URL"),
            (
                json!(format!("https://n8n.example.com/{}", "x".repeat(MAX_DESTINATION_LEN))),
                "longer than",
            ),
        ] {
            let s = start(Kind::Subscribe, json!({"destination": dest, "events": ["add_lead"]}));
            assert!(s.requests.is_empty(), "{dest}");
            let e = error(s.emit[0].clone());
            assert!(e.message.contains(why), "{dest}: {}", e.message);
            assert!(e.message.starts_with("Item 0, field \"Webhook URL\""), "{}", e.message);
        }
        assert!(error(start(Kind::Unsubscribe, json!({})).emit[0].clone())
            .message
            .contains("is missing"));
    }

    #[test]
    fn usable_destinations_are_kept_exactly_as_given() {
        for dest in [
            "https://N8N.Example.com/webhook/5f0e/webhook",
            "http://127.0.0.1:5678/webhook-test/5f0e/webhook",
            "http://[::1]:5678/webhook/x",
            "http://n8n_host:5678/webhook/a%20b?x=1",
        ] {
            assert_eq!(parse_destination(Some(&json!(dest))).unwrap().as_str(), dest);
        }
    }

    #[test]
    fn events_must_be_known_settings() {
        let e = error(start(Kind::Subscribe, params(&["add_lead", "explode_lead"])).emit[0].clone());
        assert!(
            e.message.contains("\"explode_lead\" is not an amoCRM webhook event"),
            "{}",
            e.message
        );
        assert!(error(start(Kind::CheckExists, params(&[])).emit[0].clone())
            .message
            .contains("at least one event"));
    }
}
