//! Create from a Form and Create from a Call: `POST /api/v4/leads/unsorted/forms`
//! and `…/sip`, many incoming leads per request through the shared batch
//! writer. Each body is an incoming lead: where it came from
//! (`source_name`, `source_uid`), the pipeline, what the form or the call
//! said (`metadata`), and the lead, contact and company it brings
//! (`_embedded`). amoCRM answers `_embedded.unsorted[{uid, request_id,
//! _embedded{leads, contacts, companies}}]`, paired back by `request_id`.
//!
//! amoCRM documents no batch limit for these (ent §5: UNVERIFIED, use ≤ 50):
//! the node sends 50 per request, like every batch write, up to 250 on
//! request.

use serde_json::{json, Map, Value};

use crate::engine::{Io, Operation, Reply, Tag};
use crate::entity::batch::{embedded_results, BatchKind, Batcher};
use crate::entity::fields::FieldSet;
use crate::entity::record::{needs_fields, record_body, Mode};
use crate::entity::EntityRef;
use crate::http::Method;
use crate::input::{InputError, Params};
use crate::lead::complex::{new_company, new_contact};
use crate::lead::LEADS;
use crate::unsorted::shaped;

/// The item key under which [`Stamped`] hands the bodies the shell's clock.
pub const NOW_KEY: &str = "$now";

/// What an incoming lead was, as amoCRM's API can create it: a web form's
/// submission or a call (chats and e-mails come from amoCRM's own channels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Form,
    Sip,
}

impl Category {
    /// amoCRM's name, in the path and in `category`.
    pub fn api(self) -> &'static str {
        match self {
            Category::Form => "forms",
            Category::Sip => "sip",
        }
    }
}

pub struct CreateIncoming {
    pub category: Category,
}

/// A text parameter amoCRM requires.
fn required<'a>(params: Params<'a>, key: &str, label: &str, why: &str) -> Result<&'a str, InputError> {
    let text = params.string(key, label)?.trim();
    if text.is_empty() {
        return Err(InputError::new(
            label,
            format!("is empty; amoCRM requires it for {why}"),
        ));
    }
    Ok(text)
}

/// An optional text parameter, trimmed.
fn optional<'a>(params: Params<'a>, key: &str, label: &str) -> Result<Option<&'a str>, InputError> {
    let text = params.string(key, label)?.trim();
    Ok((!text.is_empty()).then_some(text))
}

/// A time parameter, or the time the node runs (amoCRM's PHP client sends
/// `time()` when none is given).
fn time_or_now(params: Params, key: &str, label: &str) -> Result<i64, InputError> {
    match params.date(key, label)? {
        Some(t) => Ok(t),
        None => params
            .whole(NOW_KEY, "Time", 0)?
            .ok_or_else(|| InputError::new(label, "is empty, and the time of the run is unknown")),
    }
}

fn form_metadata(params: Params) -> Result<(Map<String, Value>, String), InputError> {
    let why = "a web form's submission";
    let form_id = required(params, "formId", "Form ID", why)?;
    let mut m = Map::new();
    m.insert("form_id".into(), json!(form_id));
    m.insert(
        "form_name".into(),
        json!(required(params, "formName", "Form Name", why)?),
    );
    m.insert(
        "form_page".into(),
        json!(required(params, "formPage", "Form Page", why)?),
    );
    m.insert("form_sent_at".into(), json!(time_or_now(params, "sentAt", "Sent At")?));
    for (key, api, label) in [("ip", "ip", "Sender IP"), ("referer", "referer", "Referer")] {
        if let Some(v) = optional(params, key, label)? {
            m.insert(api.into(), json!(v));
        }
    }
    Ok((m, form_id.to_string()))
}

fn call_metadata(params: Params) -> Result<(Map<String, Value>, String), InputError> {
    // ent §5: every metadata field of a call is required, but the callee.
    let why = "a call";
    let uniq = required(params, "callId", "Call ID", why)?;
    let mut m = Map::new();
    m.insert("uniq".into(), json!(uniq));
    // D:unsorted-api: `phone` is who called, `call_responsible` whom they
    // called (a user ID, a phone number or a name).
    m.insert("phone".into(), json!(required(params, "from", "From", why)?));
    if let Some(to) = optional(params, "to", "To")? {
        let to = to.parse::<u64>().map_or_else(|_| json!(to), |id| json!(id));
        m.insert("call_responsible".into(), to);
    }
    let duration = params
        .whole("duration", "Duration (Seconds)", 0)?
        .ok_or_else(|| InputError::new("Duration (Seconds)", format!("is empty; amoCRM requires it for {why}")))?;
    m.insert("duration".into(), json!(duration));
    m.insert("link".into(), json!(required(params, "link", "Recording URL", why)?));
    m.insert(
        "service_code".into(),
        json!(required(params, "serviceCode", "Service Code", why)?),
    );
    m.insert("called_at".into(), json!(time_or_now(params, "calledAt", "Called At")?));
    // The PHP client asks for the call event on the card unless told not to.
    let event = match params.get("addCallEvent") {
        None => true,
        Some(_) => params.bool("addCallEvent", "Add Call Event")?,
    };
    m.insert("is_call_event_needed".into(), json!(event));
    Ok((m, uniq.to_string()))
}

/// The incoming lead's own lead: name, price, responsible user, tags and
/// custom fields, as a lead create takes them. Its stage is the pipeline's
/// unsorted one, and its contact and company come beside it.
fn lead_of(params: Params, fields: Option<&FieldSet>) -> Result<Option<Value>, InputError> {
    let mut lead = record_body(&LEADS, params, Mode::Create, fields)?;
    for key in ["pipeline_id", "status_id"] {
        lead.remove(key);
    }
    let linked = lead
        .get("_embedded")
        .is_some_and(|e| e.get("contacts").is_some() || e.get("companies").is_some());
    if linked {
        return Err(InputError::new(
            "Additional Fields",
            "an incoming lead brings a new contact and company (Contact, Company); existing ones are linked after it is accepted",
        ));
    }
    Ok((!lead.is_empty()).then_some(Value::Object(lead)))
}

impl BatchKind for CreateIncoming {
    fn nouns(&self) -> (&'static str, &'static str) {
        ("incoming lead", "incoming leads")
    }
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &str {
        match self.category {
            Category::Form => "/api/v4/leads/unsorted/forms",
            Category::Sip => "/api/v4/leads/unsorted/sip",
        }
    }
    fn unsafe_to_repeat(&self) -> bool {
        true
    }
    fn fields_of(&self) -> Option<EntityRef> {
        Some(EntityRef::Static(&LEADS))
    }
    fn needs_fields(&self, params: Params) -> bool {
        needs_fields(&LEADS, params)
    }
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        let (metadata, default_uid) = match self.category {
            Category::Form => form_metadata(params)?,
            Category::Sip => call_metadata(params)?,
        };
        let mut body = Map::new();
        // Where the request came from; by default "n8n", and the form's or
        // the call's own ID.
        let options = params.object("options");
        let source_name = optional(options, "sourceName", "Options › Source Name")?.unwrap_or("n8n");
        body.insert("source_name".into(), json!(source_name));
        let source_uid = optional(options, "sourceUid", "Options › Source UID")?.map_or(default_uid, str::to_string);
        body.insert("source_uid".into(), json!(source_uid));
        if let Some(p) = params.id("pipelineId", "Pipeline", "a pipeline")? {
            body.insert("pipeline_id".into(), json!(p.get()));
        }
        body.insert("metadata".into(), Value::Object(metadata));
        let mut embedded = Map::new();
        // The list form of the docs (`_embedded.leads[0]`), not the PHP
        // client's `_embedded.lead` object.
        for (key, record) in [
            ("leads", lead_of(params, fields)?),
            ("contacts", new_contact(params)?),
            ("companies", new_company(params)?),
        ] {
            if let Some(r) = record {
                embedded.insert(key.into(), json!([r]));
            }
        }
        if !embedded.is_empty() {
            body.insert("_embedded".into(), Value::Object(embedded));
        }
        Ok(body)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        let category = json!(self.category.api());
        embedded_results(answer, "unsorted")
            .into_iter()
            .map(|(request_id, entry)| (request_id, shaped(&entry, &[("category", category.clone())])))
            .collect()
    }
    fn written_id(&self, item: &Value) -> Option<u64> {
        item["lead_id"].as_u64()
    }
}

/// Hands the shell's clock to each item ([`NOW_KEY`], Unix seconds) before
/// the batch writer builds the bodies: the default time a form was sent or
/// a call made. The core reads no clock of its own.
pub struct Stamped(pub Batcher);

impl Operation for Stamped {
    fn on_items(&mut self, first: usize, mut items: Vec<Value>, last: bool, io: &mut Io) {
        let now = (io.now_ms() / 1000.0).floor() as i64;
        for item in &mut items {
            if let Value::Object(map) = item {
                map.insert(NOW_KEY.into(), json!(now));
            }
        }
        self.0.on_items(first, items, last, io);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        self.0.on_reply(tag, reply, io);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{AccountAddress, Zone};
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::Response;

    fn form() -> Value {
        json!({
            "formId": "callback", "formName": "Call me back", "formPage": "https://shop.example/contacts",
            "ip": "192.0.2.7", "sentAt": "2026-05-01T10:00:00Z",
            "name": "Website request", "additionalFields": {"price": 1500, "tags": "web"},
            "contact": {"name": "Lucy Gray", "phone": "+7 921 555-01-02", "email": "lucy@example.org"},
            "company": {"name": "Gray & Co"},
            "pipelineId": 7000001
        })
    }

    #[test]
    fn a_form_brings_its_metadata_lead_contact_and_company() {
        let body = CreateIncoming {
            category: Category::Form,
        }
        .body(Params::new(&form()), None)
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "source_name": "n8n", "source_uid": "callback", "pipeline_id": 7000001,
                "metadata": {"form_id": "callback", "form_name": "Call me back", "form_page": "https://shop.example/contacts",
                             "form_sent_at": 1777629600, "ip": "192.0.2.7"},
                "_embedded": {
                    "leads": [{"name": "Website request", "price": 1500, "_embedded": {"tags": [{"name": "web"}]}}],
                    "contacts": [{"name": "Lucy Gray", "custom_fields_values": [
                        {"field_code": "PHONE", "values": [{"value": "+7 921 555-01-02", "enum_code": "WORK"}]},
                        {"field_code": "EMAIL", "values": [{"value": "lucy@example.org", "enum_code": "WORK"}]}]}],
                    "companies": [{"name": "Gray & Co"}]
                }
            })
        );
    }

    #[test]
    fn a_call_brings_who_called_whom_for_how_long_and_its_recording() {
        let p = json!({
            "from": "+7 900 000-00-01", "to": "8000002", "duration": 54, "link": "https://pbx.example/rec/1.mp3",
            "serviceCode": "pbx", "callId": "call-1", "options": {"sourceName": "Office PBX"}, "$now": 1700000000
        });
        let body = CreateIncoming {
            category: Category::Sip,
        }
        .body(Params::new(&p), None)
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "source_name": "Office PBX", "source_uid": "call-1",
                "metadata": {"uniq": "call-1", "phone": "+7 900 000-00-01", "call_responsible": 8000002, "duration": 54,
                             "link": "https://pbx.example/rec/1.mp3", "service_code": "pbx", "called_at": 1700000000,
                             "is_call_event_needed": true}
            })
        );
    }

    #[test]
    fn what_amocrm_requires_is_checked_before_sending() {
        let kind = CreateIncoming {
            category: Category::Sip,
        };
        let e = kind
            .body(Params::new(&json!({"callId": "x", "from": "1", "$now": 1})), None)
            .unwrap_err();
        assert_eq!(e.field, "Duration (Seconds)");
        let kind = CreateIncoming {
            category: Category::Form,
        };
        let e = kind
            .body(Params::new(&json!({"formId": "f", "formName": " ", "$now": 1})), None)
            .unwrap_err();
        assert_eq!(e.field, "Form Name");
        assert!(e.problem.contains("requires it"), "{e}");
        let linked = json!({"formId": "f", "formName": "n", "formPage": "p", "$now": 1, "additionalFields": {"contactIds": "5"}});
        assert_eq!(
            kind.body(Params::new(&linked), None).unwrap_err().field,
            "Additional Fields"
        );
    }

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    fn run(items: Vec<Value>, continue_on_fail: bool) -> (Run, Step) {
        let op = Stamped(Batcher::new(
            CreateIncoming {
                category: Category::Form,
            },
            account(),
        ));
        let mut r = Run::new(
            Driver::new(Box::new(op))
                .continue_on_fail(continue_on_fail)
                .writes(true),
        );
        r.now_ms = 1_700_000_000_500.0;
        let s = r.start(items);
        (r, s)
    }

    fn answer(body: &Value) -> Response {
        let entries: Vec<Value> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let n: u64 = b["request_id"].as_str().unwrap().parse().unwrap();
                json!({"uid": format!("u{n}"), "account_id": 1, "request_id": b["request_id"],
                       "_embedded": {"leads": [{"id": 100 + n}], "contacts": [{"id": 200 + n}], "companies": []}})
            })
            .collect();
        Response::new(
            200,
            json!({"_total_items": entries.len(), "_embedded": {"unsorted": entries}}).to_string(),
        )
    }

    #[test]
    fn five_hundred_submissions_go_out_fifty_per_request_and_pair_back_by_request_id() {
        let items: Vec<Value> = (0..500)
            .map(|i| json!({"formId": "f", "formName": "n", "formPage": "p", "contact": {"name": format!("Person {i}")}}))
            .collect();
        let (mut r, s) = run(items, true);
        let mut queue = s.requests.clone();
        let (mut posts, mut emitted) = (0, Vec::new());
        while let Some(q) = queue.pop() {
            posts += 1;
            assert_eq!(q.request.url, "https://shop.amocrm.ru/api/v4/leads/unsorted/forms");
            let body: Value = serde_json::from_str(q.request.body.as_deref().unwrap()).unwrap();
            assert_eq!(body.as_array().unwrap().len(), 50);
            assert_eq!(
                body[0]["metadata"]["form_sent_at"], 1_700_000_000,
                "the run's time by default"
            );
            let step = r.reply(q.id, answer(&body));
            emitted.extend(step.emit);
            queue.extend(step.requests);
        }
        assert_eq!(posts, 10);
        assert_eq!(emitted.len(), 500);
        assert!(emitted.contains(&Emit::Item {
            index: 321,
            json: json!({"uid": "u321", "category": "forms", "lead_id": 421, "contact_id": 521, "company_id": null})
        }));
    }

    #[test]
    fn a_node_that_stops_names_the_leads_already_written() {
        let items: Vec<Value> = (0..4)
            .map(|i| json!({"formId": "f", "formName": "n", "formPage": "p", "name": format!("L{i}"), "options": {"batchSize": 2}}))
            .collect();
        let (mut r, s) = run(items, false);
        let body: Value = serde_json::from_str(s.requests[0].request.body.as_deref().unwrap()).unwrap();
        r.reply(s.requests[0].id, answer(&body));
        let problem = r#"{"validation-errors":[{"request_id":"3","errors":[{"code":"Duplicate","path":"","detail":"Two identical entities cannot be in unsorted."}]}]}"#;
        let last = r.status(s.requests[1].id, 400, problem);
        let fatal = last.fatal.unwrap();
        assert!(
            fatal
                .message
                .starts_with("Item 3: amoCRM rejected the incoming lead: (whole item): Two identical"),
            "{}",
            fatal.message
        );
        assert!(
            fatal.description.unwrap().contains("items 0–1 → IDs 100–101"),
            "the leads of the first batch"
        );
    }
}
