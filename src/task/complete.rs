//! Complete: tasks closed in batches, `PATCH /api/v4/tasks` with
//! `[{"id", "is_completed": true, "result": {"text"}}]`, as amoCRM documents
//! closing a task. Whether amoCRM closes a task without a result is not
//! documented; its official PHP client sends `result` only when one is set,
//! so the result text is optional here too.

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::entity::batch::{embedded_results, BatchKind};
use crate::entity::fields::FieldSet;
use crate::entity::record::record_id;
use crate::entity::EntityRef;
use crate::http::Method;
use crate::input::{InputError, Params};
use crate::task::TASKS;

pub struct CompleteTasks {
    pub account: AccountAddress,
}

impl BatchKind for CompleteTasks {
    fn nouns(&self) -> (&'static str, &'static str) {
        (TASKS.noun, TASKS.nouns)
    }
    fn method(&self) -> Method {
        Method::Patch
    }
    fn path(&self) -> &str {
        &TASKS.path
    }
    /// Closing a closed task changes nothing.
    fn unsafe_to_repeat(&self) -> bool {
        false
    }
    fn body(&self, params: Params, _fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        let id = record_id(&TASKS, params, &self.account)?;
        let mut body = Map::new();
        body.insert("id".into(), json!(id.get()));
        body.insert("is_completed".into(), json!(true));
        let result = params.string("resultText", "Result")?.trim();
        if !result.is_empty() {
            body.insert("result".into(), json!({ "text": result }));
        }
        Ok(body)
    }
    fn key(&self, body: &Map<String, Value>) -> Option<String> {
        body.get("id").map(Value::to_string)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, TASKS.embedded)
    }
    fn reads_back(&self) -> Option<EntityRef> {
        Some(EntityRef::Static(&TASKS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit};
    use crate::entity::batch::Batcher;
    use crate::http::Response;

    #[test]
    fn completes_in_one_patch_with_results_and_reads_the_tasks_back() {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let op = Batcher::new(
            CompleteTasks {
                account: account.clone(),
            },
            account,
        );
        let mut r = Run::new(Driver::new(Box::new(op)).writes(true));
        let s = r.start(vec![
            json!({"taskId": {"__rl": true, "mode": "id", "value": "30000001"}, "resultText": " Called, will buy "}),
            json!({"taskId": "30000002"}),
            json!({"taskId": "3000000x"}),
        ]);
        let Emit::Error { index: 2, error } = &s.emit[0] else {
            panic!("{:?}", s.emit)
        };
        assert!(error.message.contains("not a task ID"), "{}", error.message);
        assert_eq!(s.requests[0].request.method, Method::Patch);
        assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/tasks");
        let sent: Value = serde_json::from_str(s.requests[0].request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            sent,
            json!([
                {"id": 30_000_001, "is_completed": true, "result": {"text": "Called, will buy"}, "request_id": "0"},
                {"id": 30_000_002, "is_completed": true, "request_id": "1"}
            ])
        );
        let answer = json!({"_embedded": {"tasks": [
            {"id": 30_000_001, "updated_at": 1, "request_id": "0"}, {"id": 30_000_002, "updated_at": 1, "request_id": "1"}
        ]}});
        let s = r.reply(s.requests[0].id, Response::new(200, answer.to_string()));
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/tasks?filter[id][0]=30000001&filter[id][1]=30000002&limit=250"
        );
    }
}
