//! Create and Update: leads written in batches (see [`crate::lead::batch`]).

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::http::Method;
use crate::input::{InputError, Params};
use crate::lead::batch::BatchKind;
use crate::lead::body::{lead_body, needs_fields, Mode};
use crate::lead::fields::FieldSet;
use crate::lead::reference::parse_lead_ref;
use crate::lead::LEADS_PATH;

/// Leads per create or update request. amoCRM's API documentation allows 250
/// entities per batch request (the PHP client's README suggests 50, without a
/// source); accounts that refuse large batches can lower the node's
/// "Batch Size" option.
pub const LEAD_BATCH_LIMIT: usize = 250;

/// `(request_id, item)` for each `_embedded.leads` entry of a write answer,
/// without the `request_id`, which only pairs answers with items.
fn embedded_results(answer: &Value, key: &str) -> Vec<(String, Value)> {
    answer["_embedded"][key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let mut item = entry.as_object()?.clone();
            let request_id = match item.remove("request_id")? {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Array(a) => a.first()?.as_str()?.to_string(),
                _ => return None,
            };
            Some((request_id, Value::Object(item)))
        })
        .collect()
}

pub struct CreateLeads;

impl BatchKind for CreateLeads {
    fn nouns(&self) -> (&'static str, &'static str) {
        ("lead", "leads")
    }
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &'static str {
        LEADS_PATH
    }
    fn max_batch(&self) -> usize {
        LEAD_BATCH_LIMIT
    }
    fn unsafe_to_repeat(&self) -> bool {
        true
    }
    fn needs_fields(&self, params: Params) -> bool {
        needs_fields(params)
    }
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        lead_body(params, Mode::Create, fields)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, "leads")
    }
}

pub struct UpdateLeads {
    pub account: AccountAddress,
}

impl BatchKind for UpdateLeads {
    fn nouns(&self) -> (&'static str, &'static str) {
        ("lead", "leads")
    }
    fn method(&self) -> Method {
        Method::Patch
    }
    fn path(&self) -> &'static str {
        LEADS_PATH
    }
    fn max_batch(&self) -> usize {
        LEAD_BATCH_LIMIT
    }
    /// An update sets absolute values (tag increments add or remove the same
    /// tags again), so sending it twice changes nothing.
    fn unsafe_to_repeat(&self) -> bool {
        false
    }
    fn needs_fields(&self, params: Params) -> bool {
        needs_fields(params)
    }
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        let id = parse_lead_ref(params.get("leadId").unwrap_or(&Value::Null), &self.account, "Lead")?;
        let mut body = lead_body(params, Mode::Update, fields)?;
        body.insert("id".into(), json!(id.get()));
        Ok(body)
    }
    fn key(&self, body: &Map<String, Value>) -> Option<String> {
        body.get("id").map(Value::to_string)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, "leads")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::{Outcome, Response};
    use crate::lead::batch::Batcher;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    fn create(items: Vec<Value>) -> (Driver, Step) {
        let mut d = Driver::new(Box::new(Batcher::new(CreateLeads, account(), items, 0.0)));
        let s = d.start();
        (d, s)
    }

    fn body_of(step: &Step, i: usize) -> Value {
        serde_json::from_str(step.requests[i].request.body.as_deref().unwrap()).unwrap()
    }

    fn created(body: &Value, first_id: u64) -> Response {
        let leads: Vec<Value> = body
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(k, l)| json!({"id": first_id + k as u64, "request_id": l["request_id"], "_links": {}}))
            .collect();
        Response::new(200, json!({"_embedded": {"leads": leads}}).to_string())
    }

    #[test]
    fn a_thousand_items_go_out_in_four_requests_and_pair_back_by_request_id() {
        let items: Vec<Value> = (0..1000).map(|i| json!({"name": format!("L{i}")})).collect();
        let (mut d, s) = create(items);
        assert_eq!(s.requests.len(), 4);
        for (k, r) in s.requests.iter().enumerate() {
            assert_eq!(r.request.method, Method::Post);
            assert_eq!(r.request.url, "https://shop.amocrm.ru/api/v4/leads");
            assert_eq!(body_of(&s, k).as_array().unwrap().len(), 250);
        }
        assert_eq!(body_of(&s, 1)[0], json!({"name": "L250", "request_id": "250"}));
        let mut emitted = Vec::new();
        let requests = s.requests.clone();
        for (k, r) in requests.iter().enumerate() {
            let body: Value = serde_json::from_str(r.request.body.as_deref().unwrap()).unwrap();
            let step = d.on_outcome(r.id, Outcome::Response(created(&body, 10_000 + 250 * k as u64)));
            emitted.extend(step.emit);
        }
        assert_eq!(emitted.len(), 1000);
        assert!(emitted.contains(&Emit::Item {
            index: 731,
            json: json!({"id": 10_731, "_links": {}})
        }));
    }

    #[test]
    fn a_validation_error_fails_only_its_item_and_the_rest_are_resent() {
        let items: Vec<Value> = (0..3).map(|i| json!({"name": format!("L{i}")})).collect();
        let (mut d, s) = create(items);
        let problem = r#"{"validation-errors":[{"request_id":"1","errors":[{"code":"InvalidType","path":"price","detail":"This value should be of type int."}]}],"title":"Bad Request","status":400}"#;
        let step = d.on_outcome(s.requests[0].id, Outcome::Response(Response::new(400, problem)));
        let Emit::Error { index, error } = &step.emit[0] else {
            panic!()
        };
        assert_eq!(*index, 1);
        assert_eq!(
            error.message,
            "Item 1: amoCRM rejected the lead: price: This value should be of type int. [InvalidType]"
        );
        assert_eq!(step.requests.len(), 1);
        let resent = body_of(&step, 0);
        assert_eq!(
            resent
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["request_id"].clone())
                .collect::<Vec<_>>(),
            vec![json!("0"), json!("2")]
        );
        let done = d.on_outcome(step.requests[0].id, Outcome::Response(created(&resent, 5)));
        assert!(done.done);
        assert_eq!(done.emit.len(), 2);
    }

    #[test]
    fn a_create_that_may_have_been_applied_is_not_resent() {
        let (mut d, s) = create(vec![json!({"name": "A"}), json!({"name": "B"})]);
        let step = d.on_outcome(s.requests[0].id, Outcome::Response(Response::new(504, "<html>")));
        assert!(step.requests.is_empty() && step.done);
        assert_eq!(step.emit.len(), 2);
        let Emit::Error { error, .. } = &step.emit[0] else {
            panic!()
        };
        assert!(error.message.contains("may have been applied"), "{}", error.message);
        assert!(error.message.contains("items 0, 1"), "{}", error.message);
    }

    #[test]
    fn bad_parameters_fail_their_item_and_send_nothing_for_it() {
        let (_, s) = create(vec![
            json!({"name": "ok"}),
            json!({"additionalFields": {"price": "a lot"}}),
        ]);
        assert_eq!(s.requests.len(), 1);
        assert_eq!(body_of(&s, 0).as_array().unwrap().len(), 1);
        let Emit::Error { index, error } = &s.emit[0] else {
            panic!()
        };
        assert_eq!(*index, 1);
        assert!(
            error.message.starts_with("Item 1, field \"Additional Fields › Price\""),
            "{}",
            error.message
        );
    }

    #[test]
    fn custom_fields_load_the_definitions_first() {
        let (mut d, s) = create(vec![json!({"name": "A", "customFields": {"value": {"Budget": "10"}}})]);
        assert_eq!(s.requests.len(), 1);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads/custom_fields?limit=250&page=1"
        );
        let page = json!({"_embedded": {"custom_fields": [{"id": 6, "name": "Budget", "type": "numeric"}]}});
        let s = d.on_outcome(
            s.requests[0].id,
            Outcome::Response(Response::new(200, page.to_string())),
        );
        assert_eq!(
            body_of(&s, 0),
            json!([{"name": "A", "custom_fields_values": [{"field_id": 6, "values": [{"value": 10}]}], "request_id": "0"}])
        );
    }

    #[test]
    fn updates_of_the_same_lead_never_share_a_batch() {
        let items = vec![
            json!({"leadId": "5", "updateFields": {"name": "a"}}),
            json!({"leadId": "5", "updateFields": {"name": "b"}}),
            json!({"leadId": "6", "updateFields": {"price": 1}}),
        ];
        let mut d = Driver::new(Box::new(Batcher::new(
            UpdateLeads { account: account() },
            account(),
            items,
            0.0,
        )));
        let s = d.start();
        assert_eq!(s.requests.len(), 2);
        assert_eq!(s.requests[0].request.method, Method::Patch);
        assert_eq!(
            body_of(&s, 0),
            json!([{"id": 5, "name": "a", "request_id": "0"}, {"id": 6, "price": 1, "request_id": "2"}])
        );
        assert_eq!(body_of(&s, 1), json!([{"id": 5, "name": "b", "request_id": "1"}]));
    }

    #[test]
    fn the_batch_size_option_is_checked() {
        let items: Vec<Value> = (0..5)
            .map(|i| json!({"name": format!("L{i}"), "options": {"batchSize": 2}}))
            .collect();
        let (_, s) = create(items);
        assert_eq!(s.requests.len(), 3);
        let (_, s) = create(vec![json!({"name": "x", "options": {"batchSize": 251}})]);
        assert!(s.requests.is_empty());
        let Emit::Error { error, .. } = &s.emit[0] else {
            panic!()
        };
        assert!(error.message.contains("more than amoCRM accepts per request (250)"));
    }
}
