//! Custom Request: any `/api/v4/…` call through the same authenticated,
//! rate-limited, retrying, error-mapped transport, for what the node does not
//! model yet. The path stays on the account (no scheme, host, `..` or
//! escapes), the query object is spelled in amoCRM's bracket syntax, and the
//! answer is returned as amoCRM sent it: an object as one item, a list as one
//! item per element, 204 as no item.

use serde_json::{Map, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{live_items, Io, Operation, Replay, Reply, Tag};
use crate::error::NodeError;
use crate::http::{Method, Request};
use crate::input::{describe, shorten, InputError, Params};
use crate::query::Query;

pub const API_PREFIX: &str = "/api/v4/";

/// Nesting accepted in the query object; amoCRM's deepest filters have three.
pub const MAX_QUERY_DEPTH: usize = 6;

pub struct CustomRequest {
    account: AccountAddress,
}

impl CustomRequest {
    pub fn new(account: AccountAddress) -> CustomRequest {
        CustomRequest { account }
    }
}

fn json_param(params: Params, key: &str, label: &str) -> Result<Option<Value>, InputError> {
    match params.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| InputError::new(label, format!("is not valid JSON ({e})"))),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn check_path(path: &str) -> Result<(), InputError> {
    let label = "Path";
    let bad = |why: &str| Err(InputError::new(label, format!("\"{}\" {why}", shorten(path))));
    if !path.starts_with(API_PREFIX) {
        return bad(&format!(
            "must start with {API_PREFIX}, such as /api/v4/leads/pipelines"
        ));
    }
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return bad("contains spaces or characters that are not allowed in a path");
    }
    if path.contains(['?', '#']) {
        return bad("contains a query; put the parameters in Query Parameters");
    }
    if path.contains('%')
        || path.contains('\\')
        || path.contains("//")
        || path.split('/').any(|s| s == ".." || s == ".")
    {
        return bad("contains escapes or dot segments; write the plain path");
    }
    Ok(())
}

/// Flattens a JSON object to bracket keys: `{"filter": {"id": [1, 2]}}` →
/// `filter[id][0]=1&filter[id][1]=2`.
fn add_query(q: &mut Query, key: &str, value: &Value, depth: usize) -> Result<(), InputError> {
    if depth > MAX_QUERY_DEPTH {
        return Err(InputError::new(
            "Query Parameters",
            format!("is nested deeper than {MAX_QUERY_DEPTH} levels"),
        ));
    }
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                add_query(q, &format!("{key}[{k}]"), v, depth + 1)?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                add_query(q, &format!("{key}[{i}]"), v, depth + 1)?;
            }
        }
        Value::String(s) => {
            q.push(key, s);
        }
        other => {
            q.push(key, other.to_string());
        }
    }
    Ok(())
}

fn query_of(value: Option<Value>) -> Result<Query, InputError> {
    let mut q = Query::new();
    match value {
        None => {}
        Some(Value::Object(map)) => {
            for (k, v) in &map {
                add_query(&mut q, k, v, 1)?;
            }
        }
        Some(other) => {
            return Err(InputError::new(
                "Query Parameters",
                format!("must be a JSON object, got {}", describe(&other)),
            ))
        }
    }
    Ok(q)
}

impl CustomRequest {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let method_text = params.string("method", "Method")?;
        let method = Method::parse(if method_text.is_empty() { "GET" } else { method_text }).ok_or_else(|| {
            InputError::new(
                "Method",
                format!("\"{}\" is not GET, POST, PATCH, PUT or DELETE", shorten(method_text)),
            )
        })?;
        let path = params.string("path", "Path")?.trim();
        check_path(path)?;
        let query = query_of(json_param(params, "query", "Query Parameters")?)?;
        let mut request = Request::new(method, self.account.url(&query.append_to(path)));
        if let Some(body) = json_param(params, "body", "Body")? {
            if method == Method::Get {
                return Err(InputError::new(
                    "Body",
                    "a GET request has no body; use Query Parameters",
                ));
            }
            request = request.json(&body);
        }
        // Reads, updates and deletes leave the same state when repeated; a
        // POST may create something twice.
        let replay = match method {
            Method::Post => Replay::Unsafe(format!("POST {path}")),
            _ => Replay::Safe,
        };
        Ok((request, replay))
    }
}

impl Operation for CustomRequest {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let mut requests = Vec::new();
        for (index, item) in live_items(first, &items) {
            match self.request(Params::new(item)) {
                Ok(r) => requests.push((index, r)),
                Err(e) => io.fail(index, NodeError::input(index, &e)),
            }
        }
        for (index, (request, replay)) in requests {
            io.send(Tag::Item(index), request, replay);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let Tag::Item(index) = tag else { return };
        match reply {
            Ok(r) if r.status == 204 || r.body.trim().is_empty() => {}
            Ok(r) => match parse_json(&r) {
                Ok(Value::Array(items)) => items.into_iter().for_each(|v| io.emit(index, wrap(v))),
                Ok(v) => io.emit(index, wrap(v)),
                Err(e) => io.fail(index, NodeError::api("Custom request", &e)),
            },
            Err(e) => io.fail(index, NodeError::api("Custom request", &e)),
        }
    }
}

/// n8n items are objects; anything else is wrapped as `{"value": …}`.
fn wrap(value: Value) -> Value {
    match value {
        Value::Object(_) => value,
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit};
    use crate::http::Response;
    use serde_json::json;

    fn start(params: Value) -> (Run, crate::engine::Step) {
        let mut d = Run::new(Driver::new(Box::new(CustomRequest::new(
            AccountAddress::parse("shop", Zone::AmocrmRu).unwrap(),
        ))));
        let s = d.start(vec![params]);
        (d, s)
    }

    #[test]
    fn query_objects_are_spelled_in_bracket_syntax() {
        let (_, s) = start(
            json!({"method": "GET", "path": "/api/v4/contacts", "query": "{\"filter\": {\"id\": [1, 2]}, \"limit\": 5}"}),
        );
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/contacts?filter[id][0]=1&filter[id][1]=2&limit=5"
        );
    }

    #[test]
    fn bodies_and_answers() {
        let (mut d, s) = start(json!({"method": "POST", "path": "/api/v4/tasks", "body": {"text": "call"}}));
        assert_eq!(s.requests[0].request.body.as_deref(), Some(r#"{"text":"call"}"#));
        let answer = json!({"_embedded": {"tasks": [{"id": 1}]}});
        let s = d.reply(s.requests[0].id, Response::new(200, answer.to_string()));
        assert_eq!(s.emit, vec![Emit::Item { index: 0, json: answer }]);
        let (mut d, s) = start(json!({"method": "DELETE", "path": "/api/v4/webhooks", "body": {"destination": "x"}}));
        let s = d.reply(s.requests[0].id, Response::new(204, ""));
        assert!(s.emit.is_empty() && s.done);
    }

    #[test]
    fn paths_stay_on_the_account() {
        for bad in [
            "https://evil.test/api/v4/leads",
            "/api/v3/leads",
            "/api/v4/../oauth2/access_token",
            "/api/v4//x",
            "/api/v4/leads?x=1",
            "/api/v4/%2e%2e/x",
            "api/v4/leads",
            "/api/v4/le ads",
        ] {
            let (_, s) = start(json!({"method": "GET", "path": bad}));
            assert!(s.requests.is_empty(), "{bad}");
            assert!(
                matches!(&s.emit[0], Emit::Error { error, .. } if error.message.contains("field \"Path\"")),
                "{bad}"
            );
        }
        let (_, s) = start(json!({"method": "GET", "path": "/api/v4/leads", "body": "{}"}));
        assert!(matches!(&s.emit[0], Emit::Error { error, .. } if error.message.contains("\"Body\"")));
        let (_, s) = start(json!({"method": "PUT", "path": "/api/v4/leads", "body": "{not json"}));
        assert!(matches!(&s.emit[0], Emit::Error { error, .. } if error.message.contains("not valid JSON")));
    }
}
