//! Create and Update: records written in batches (see [`crate::entity::batch`]),
//! their bodies built by [`crate::entity::record`].

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::entity::batch::{embedded_results, BatchKind};
use crate::entity::fields::FieldSet;
use crate::entity::multitext::{default_country, merge, touches_multitext, values_mode, ValuesMode};
use crate::entity::record::{needs_fields, record_body, record_id, Mode};
use crate::entity::EntityRef;
use crate::http::Method;
use crate::input::{InputError, Params};

pub struct CreateRecords {
    pub entity: EntityRef,
}

impl BatchKind for CreateRecords {
    fn nouns(&self) -> (&'static str, &'static str) {
        (self.entity.noun, self.entity.nouns)
    }
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &str {
        &self.entity.path
    }
    fn max_batch(&self) -> usize {
        self.entity.max_batch
    }
    fn unsafe_to_repeat(&self) -> bool {
        true
    }
    fn fields_of(&self) -> Option<EntityRef> {
        Some(self.entity.clone())
    }
    fn needs_fields(&self, params: Params) -> bool {
        needs_fields(&self.entity, params)
    }
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        record_body(&self.entity, params, Mode::Create, fields)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, self.entity.embedded)
    }
    fn reads_back(&self) -> Option<EntityRef> {
        Some(self.entity.clone())
    }
}

pub struct UpdateRecords {
    pub entity: EntityRef,
    pub account: AccountAddress,
}

impl BatchKind for UpdateRecords {
    fn nouns(&self) -> (&'static str, &'static str) {
        (self.entity.noun, self.entity.nouns)
    }
    fn method(&self) -> Method {
        Method::Patch
    }
    fn path(&self) -> &str {
        &self.entity.path
    }
    fn max_batch(&self) -> usize {
        self.entity.max_batch
    }
    /// An update sets absolute values (tag increments add or remove the same
    /// tags again), so sending it twice changes nothing.
    fn unsafe_to_repeat(&self) -> bool {
        false
    }
    fn fields_of(&self) -> Option<EntityRef> {
        Some(self.entity.clone())
    }
    fn needs_fields(&self, params: Params) -> bool {
        needs_fields(&self.entity, params)
    }
    fn body(&self, params: Params, fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        let id = record_id(&self.entity, params, &self.account)?;
        let mut body = record_body(&self.entity, params, Mode::Update, fields)?;
        body.insert("id".into(), json!(id.get()));
        Ok(body)
    }
    fn key(&self, body: &Map<String, Value>) -> Option<String> {
        body.get("id").map(Value::to_string)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, self.entity.embedded)
    }
    fn reads_back(&self) -> Option<EntityRef> {
        Some(self.entity.clone())
    }
    /// Adding or removing phones and e-mails needs the values the record has.
    fn current_of(&self, params: Params, body: &Map<String, Value>, fields: Option<&FieldSet>) -> Option<u64> {
        let mode = values_mode(params).ok()?;
        (self.entity.multitext && mode != ValuesMode::Replace && touches_multitext(body, fields))
            .then(|| body.get("id").and_then(Value::as_u64))
            .flatten()
    }
    fn amend(
        &self,
        params: Params,
        body: &mut Map<String, Value>,
        current: &Value,
        fields: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        let mode = values_mode(params)?;
        let country = default_country(params)?;
        if let Some(fields) = fields {
            merge(body, current, mode, fields, country);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};
    use crate::entity::batch::Batcher;
    use crate::http::Response;
    use crate::lead::LEADS;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    fn create(items: Vec<Value>) -> (Run, Step) {
        create_with(items, true)
    }

    fn create_with(items: Vec<Value>, continue_on_fail: bool) -> (Run, Step) {
        let op = Batcher::new(
            CreateRecords {
                entity: EntityRef::Static(&LEADS),
            },
            account(),
        );
        let mut r = Run::new(
            Driver::new(Box::new(op))
                .continue_on_fail(continue_on_fail)
                .writes(true),
        );
        let s = r.start(items);
        (r, s)
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

    fn batched(n: usize, size: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"name": format!("L{i}"), "options": {"batchSize": size}}))
            .collect()
    }

    #[test]
    fn a_thousand_items_go_out_in_batches_of_fifty_by_default_and_pair_back_by_request_id() {
        let items: Vec<Value> = (0..1000)
            .map(|i| json!({"name": format!("L{i}"), "options": {"output": "ids"}}))
            .collect();
        let (mut r, s) = create(items);
        assert_eq!(s.requests.len(), 8, "the driver keeps 8 in flight");
        let mut emitted = Vec::new();
        let mut queue = s.requests.clone();
        let mut batches = 0;
        while let Some(q) = queue.pop() {
            batches += 1;
            assert_eq!(q.request.method, Method::Post);
            assert_eq!(q.request.url, "https://shop.amocrm.ru/api/v4/leads");
            let body: Value = serde_json::from_str(q.request.body.as_deref().unwrap()).unwrap();
            assert_eq!(body.as_array().unwrap().len(), 50);
            let first = body[0]["request_id"].as_str().unwrap().parse::<u64>().unwrap();
            let step = r.reply(q.id, created(&body, 10_000 + first));
            emitted.extend(step.emit);
            queue.extend(step.requests);
        }
        assert_eq!(batches, 20);
        assert_eq!(emitted.len(), 1000);
        assert!(emitted.contains(&Emit::Item {
            index: 731,
            json: json!({"id": 10_731, "_links": {}})
        }));
    }

    #[test]
    fn written_records_are_read_back_in_one_request_per_batch() {
        let (mut r, s) = create(vec![json!({"name": "A"}), json!({"name": "B"})]);
        let s = r.reply(s.requests[0].id, created(&body_of(&s, 0), 70));
        assert!(s.emit.is_empty(), "the records are read first");
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads?filter[id][0]=70&filter[id][1]=71&limit=250"
        );
        let page =
            json!({"_embedded": {"leads": [{"id": 71, "name": "B", "price": 0}, {"id": 70, "name": "A", "price": 0}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, page.to_string()));
        assert!(s.done);
        assert_eq!(s.emit[0].index(), 0);
        assert_eq!(s.emit[0].json().unwrap(), json!({"id": 70, "name": "A", "price": 0}));
        assert_eq!(s.emit[1].json().unwrap(), json!({"id": 71, "name": "B", "price": 0}));
        // A failed read-back keeps the writes: the answers are output instead.
        let (mut r, s) = create(vec![json!({"name": "A"})]);
        let s = r.reply(s.requests[0].id, created(&body_of(&s, 0), 80));
        let s = r.status(s.requests[0].id, 403, "<html>");
        assert_eq!(
            s.emit,
            vec![Emit::Item {
                index: 0,
                json: json!({"id": 80, "_links": {}})
            }]
        );
    }

    #[test]
    fn the_batch_size_option_goes_up_to_250() {
        let (_, s) = create(batched(1000, 250));
        assert_eq!(s.requests.len(), 4);
        assert_eq!(body_of(&s, 1)[0], json!({"name": "L250", "request_id": "250"}));
        let (_, s) = create(batched(5, 2));
        assert_eq!(s.requests.len(), 3);
        let (_, s) = create(vec![json!({"name": "x", "options": {"batchSize": 251}})]);
        assert!(s.requests.is_empty());
        let Emit::Error { error, .. } = &s.emit[0] else {
            panic!()
        };
        assert!(
            error.message.contains("more than this node sends per request (250)"),
            "{}",
            error.message
        );
    }

    #[test]
    fn chunks_of_input_fill_whole_batches() {
        let op = Batcher::new(
            CreateRecords {
                entity: EntityRef::Static(&LEADS),
            },
            account(),
        );
        let mut r = Run::new(Driver::new(Box::new(op)));
        let s = r.feed(0, batched(70, 50), false);
        assert_eq!(s.requests.len(), 1, "20 items wait for more");
        let s = r.feed(70, (70..100).map(|i| json!({"name": format!("L{i}")})).collect(), true);
        assert_eq!(s.requests.len(), 1);
        assert_eq!(body_of(&s, 0).as_array().unwrap().len(), 50);
        assert_eq!(body_of(&s, 0)[0]["request_id"], "50");
    }

    #[test]
    fn with_continue_on_fail_a_validation_error_fails_only_its_item_and_the_rest_are_resent() {
        let items: Vec<Value> = (0..3)
            .map(|i| json!({"name": format!("L{i}"), "options": {"output": "ids"}}))
            .collect();
        let (mut r, s) = create(items);
        let problem = r#"{"validation-errors":[{"request_id":"1","errors":[{"code":"InvalidType","path":"price","detail":"This value should be of type int."}]}],"title":"Bad Request","status":400}"#;
        let step = r.status(s.requests[0].id, 400, problem);
        let Emit::Error { index, error } = &step.emit[0] else {
            panic!()
        };
        assert_eq!(*index, 1);
        assert_eq!(
            error.message,
            "Item 1: amoCRM rejected the lead: price: This value should be of type int. [InvalidType]"
        );
        let description = error.description.as_deref().unwrap();
        assert!(
            description.contains("nothing of the batch of items 0–2 was written"),
            "{description}"
        );
        assert!(description.contains("sent again without this one"), "{description}");
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
        let done = r.reply(step.requests[0].id, created(&resent, 5));
        assert!(done.done);
        assert_eq!(done.emit.len(), 2);
    }

    #[test]
    fn without_continue_on_fail_a_validation_error_says_nothing_of_its_batch_was_written_and_names_earlier_batches() {
        let items: Vec<Value> = (0..4)
            .map(|i| json!({"name": format!("L{i}"), "options": {"batchSize": 2, "output": "ids"}}))
            .collect();
        let (mut r, s) = create_with(items, false);
        assert_eq!(s.requests.len(), 2);
        let first = r.reply(s.requests[0].id, created(&body_of(&s, 0), 100));
        assert_eq!(first.emit.len(), 2);
        let problem = r#"{"validation-errors":[{"request_id":"3","errors":[{"code":"NotSupportedChoice","path":"status_id","detail":"bad status"}]}]}"#;
        let last = r.status(s.requests[1].id, 400, problem);
        assert!(last.requests.is_empty(), "nothing is resent when the node stops");
        assert!(last.done);
        let fatal = last.fatal.unwrap();
        assert!(
            fatal
                .message
                .starts_with("Item 3: amoCRM rejected the lead: status_id: bad status"),
            "{}",
            fatal.message
        );
        let description = fatal.description.unwrap();
        assert!(
            description.contains("nothing of the batch of items 2, 3 was written"),
            "{description}"
        );
        assert!(!description.contains("sent again"), "{description}");
        assert!(description.contains("items 0–1 → IDs 100–101"), "{description}");
    }

    #[test]
    fn a_batch_refused_as_too_large_is_split_and_sent_again() {
        let (mut r, s) = create(batched(4, 4));
        let step = r.status(s.requests[0].id, 413, r#"{"title":"Payload Too Large"}"#);
        assert_eq!(step.requests.len(), 2);
        assert_eq!(body_of(&step, 0).as_array().unwrap().len(), 2);
        assert!(step.emit.is_empty());
    }

    #[test]
    fn a_create_that_may_have_been_applied_is_not_resent() {
        let (mut r, s) = create(vec![json!({"name": "A"}), json!({"name": "B"})]);
        let step = r.status(s.requests[0].id, 504, "<html>");
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
        let (mut r, s) = create(vec![json!({"name": "A", "customFields": {"value": {"Budget": "10"}}})]);
        assert_eq!(s.requests.len(), 1);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads/custom_fields?limit=250&page=1"
        );
        let page = json!({"_embedded": {"custom_fields": [{"id": 6, "name": "Budget", "type": "numeric"}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, page.to_string()));
        assert_eq!(
            body_of(&s, 0),
            json!([{"name": "A", "custom_fields_values": [{"field_id": 6, "values": [{"value": 10}]}], "request_id": "0"}])
        );
    }

    #[test]
    fn items_mapped_automatically_are_written_as_they_are() {
        let items = vec![
            json!({"mapping": "auto", "record": {"name": "A", "price": "12", "status_id": 142, "Budget": 5, "tags": "x, y"}}),
        ];
        let (mut r, s) = create(items);
        let page = json!({"_embedded": {"custom_fields": [{"id": 6, "name": "Budget", "type": "numeric"}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, page.to_string()));
        assert_eq!(
            body_of(&s, 0),
            json!([{"name": "A", "price": 12, "status_id": 142, "_embedded": {"tags": [{"name": "x"}, {"name": "y"}]},
                    "custom_fields_values": [{"field_id": 6, "values": [{"value": 5}]}], "request_id": "0"}])
        );
        let (_, s) = create(vec![json!({"mapping": "auto", "record": {"name": "A", "price": -1}})]);
        let Emit::Error { error, .. } = &s.emit[0] else {
            panic!()
        };
        assert!(
            error.message.starts_with("Item 0, field \"price\""),
            "{}",
            error.message
        );
    }

    #[test]
    fn updates_of_the_same_lead_never_share_a_batch() {
        let items = vec![
            json!({"leadId": "5", "updateFields": {"name": "a"}}),
            json!({"leadId": "5", "updateFields": {"name": "b"}}),
            json!({"leadId": "6", "updateFields": {"price": 1}}),
        ];
        let op = Batcher::new(
            UpdateRecords {
                entity: EntityRef::Static(&LEADS),
                account: account(),
            },
            account(),
        );
        let mut r = Run::new(Driver::new(Box::new(op)));
        let s = r.start(items);
        assert_eq!(s.requests.len(), 2);
        assert_eq!(s.requests[0].request.method, Method::Patch);
        assert_eq!(
            body_of(&s, 0),
            json!([{"id": 5, "name": "a", "request_id": "0"}, {"id": 6, "price": 1, "request_id": "2"}])
        );
        assert_eq!(body_of(&s, 1), json!([{"id": 5, "name": "b", "request_id": "1"}]));
        let auto = vec![json!({"mapping": "auto", "record": {"id": 7, "name": "c", "updated_at": 1, "_links": {}}})];
        let op = Batcher::new(
            UpdateRecords {
                entity: EntityRef::Static(&LEADS),
                account: account(),
            },
            account(),
        );
        let s = Run::new(Driver::new(Box::new(op))).start(auto);
        assert_eq!(body_of(&s, 0), json!([{"id": 7, "name": "c", "request_id": "0"}]));
    }
}
