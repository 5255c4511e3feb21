//! The node's dropdowns: pipelines, statuses (labelled with their pipeline,
//! since 142 and 143 exist in every pipeline), users, custom fields (with
//! the input each type deserves), tags and loss reasons. Each emits one item
//! `{"options": [{name, value, description?}]}` or, for custom fields,
//! `{"fields": [{id, name, type, input, options}]}`.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{Io, Operation, Replay, Reply};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::Params;
use crate::lead::field_loader::{FieldLoader, Loaded, LOADER_TAG};
use crate::lead::fields::FieldSet;
use crate::query::Query;

/// Pages read for a dropdown at most (250 entries each): enough for any
/// account's users and pipelines; tags beyond this are reached by search.
pub const MAX_LIST_PAGES: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Pipelines,
    Statuses,
    Users,
    Tags,
    LossReasons,
    CustomFields,
}

impl ListKind {
    pub fn parse(operation: &str) -> Option<ListKind> {
        Some(match operation {
            "listPipelines" => ListKind::Pipelines,
            "listStatuses" => ListKind::Statuses,
            "listUsers" => ListKind::Users,
            "listTags" => ListKind::Tags,
            "listLossReasons" => ListKind::LossReasons,
            "listCustomFields" => ListKind::CustomFields,
            _ => return None,
        })
    }

    fn path(self) -> &'static str {
        match self {
            ListKind::Pipelines | ListKind::Statuses => "/api/v4/leads/pipelines",
            ListKind::Users => "/api/v4/users",
            ListKind::Tags => "/api/v4/leads/tags",
            ListKind::LossReasons => "/api/v4/leads/loss_reasons",
            ListKind::CustomFields => crate::lead::field_loader::FIELDS_PATH,
        }
    }

    fn key(self) -> &'static str {
        match self {
            ListKind::Pipelines | ListKind::Statuses => "pipelines",
            ListKind::Users => "users",
            ListKind::Tags => "tags",
            ListKind::LossReasons => "loss_reasons",
            ListKind::CustomFields => "custom_fields",
        }
    }

    fn paged(self) -> bool {
        matches!(self, ListKind::Users | ListKind::Tags)
    }
}

pub struct Lists {
    kind: ListKind,
    account: AccountAddress,
    params: Value,
    now_ms: f64,
    page: u32,
    entries: Vec<Value>,
    loader: Option<FieldLoader>,
}

impl Lists {
    pub fn new(kind: ListKind, account: AccountAddress, items: Vec<Value>, now_ms: f64) -> Lists {
        Lists {
            kind,
            account,
            params: items.into_iter().next().unwrap_or(Value::Null),
            now_ms,
            page: 1,
            entries: Vec::new(),
            loader: None,
        }
    }

    fn request(&self) -> Request {
        let mut q = Query::new();
        if self.kind.paged() {
            q.push("limit", 250).push("page", self.page);
        }
        if self.kind == ListKind::Tags {
            let search = Params::new(&self.params)
                .string("query", "Search")
                .unwrap_or_default()
                .trim()
                .to_string();
            if !search.is_empty() {
                q.push("query", search);
            }
        }
        Request::get(self.account.url(&q.append_to(self.kind.path())))
    }

    fn finish(&self, io: &mut Io) {
        let option = |name: String, value: Value| json!({ "name": name, "value": value });
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
        let mut options: Vec<Value> = match self.kind {
            ListKind::Pipelines => self
                .entries
                .iter()
                .map(|p| option(text(p, "name"), p["id"].clone()))
                .collect(),
            ListKind::Statuses => {
                let only = Params::new(&self.params)
                    .id("pipelineId", "Pipeline", "a pipeline")
                    .ok()
                    .flatten()
                    .map(|p| p.get());
                self.entries
                    .iter()
                    .filter(|p| only.is_none_or(|id| p["id"].as_u64() == Some(id)))
                    .flat_map(|p| {
                        let pipeline = text(p, "name");
                        let pid = p["id"].as_u64().unwrap_or_default();
                        p["_embedded"]["statuses"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(move |s| {
                                json!({
                                    "name": format!("{pipeline} › {}", s["name"].as_str().unwrap_or_default()),
                                    "value": format!("{pid}:{}", s["id"]),
                                    "description": format!("Pipeline {pid}, status {}", s["id"]),
                                })
                            })
                    })
                    .collect()
            }
            ListKind::Users => self
                .entries
                .iter()
                .map(|u| {
                    let mut o = option(text(u, "name"), u["id"].clone());
                    if let Some(email) = u["email"].as_str() {
                        o["description"] = json!(email);
                    }
                    o
                })
                .collect(),
            ListKind::Tags => self
                .entries
                .iter()
                .map(|t| option(text(t, "name"), json!(text(t, "name"))))
                .collect(),
            ListKind::LossReasons => self
                .entries
                .iter()
                .map(|r| option(text(r, "name"), r["id"].clone()))
                .collect(),
            ListKind::CustomFields => Vec::new(),
        };
        if self.kind != ListKind::Statuses {
            options.sort_by_key(|o| o["name"].as_str().unwrap_or_default().to_lowercase());
        }
        io.emit(0, json!({ "options": options }));
    }

    fn emit_fields(fields: &FieldSet, io: &mut Io) {
        let list: Vec<Value> = fields
            .fields()
            .map(|f| {
                // The input each amoCRM type deserves in n8n.
                let input = match f.kind.as_str() {
                    "numeric" | "price" | "monetary" => "number",
                    "checkbox" => "boolean",
                    "date" | "date_time" | "birthday" => "dateTime",
                    "select" | "radiobutton" | "category" => "options",
                    "multiselect" => "multiOptions",
                    "url" => "url",
                    _ => "string",
                };
                let options: Vec<Value> = f
                    .enums
                    .iter()
                    .map(|e| json!({ "name": e.value, "value": e.id.to_string() }))
                    .collect();
                json!({ "id": f.id.to_string(), "name": f.name, "type": f.kind, "input": input, "options": options })
            })
            .collect();
        io.emit(0, json!({ "fields": list }));
    }
}

impl Operation for Lists {
    fn start(&mut self, io: &mut Io) {
        if self.kind == ListKind::CustomFields {
            let (loader, cached) = FieldLoader::start(&self.account, self.now_ms, io);
            match cached {
                Some(fields) => Lists::emit_fields(&fields, io),
                None => self.loader = Some(loader),
            }
            return;
        }
        io.send(0, self.request(), Replay::Safe);
    }

    fn on_reply(&mut self, tag: u64, reply: Reply, io: &mut Io) {
        if tag == LOADER_TAG {
            if let Some(loader) = self.loader.as_mut() {
                match loader.on_reply(&self.account, reply, self.now_ms, io) {
                    Loaded::Waiting => {}
                    Loaded::Ready(fields) => Lists::emit_fields(&fields, io),
                    Loaded::Failed(e) => io.fail(0, e),
                }
            }
            return;
        }
        let context = format!("Reading the account's {}", self.kind.key().replace('_', " "));
        let page = match reply {
            Ok(r) if r.status == 204 => None,
            Ok(r) => match parse_json(&r) {
                Ok(v) => Some(v),
                Err(e) => return io.fail(0, NodeError::api(&context, &e)),
            },
            Err(e) => return io.fail(0, NodeError::api(&context, &e)),
        };
        let more = page.as_ref().is_some_and(|p| p["_links"]["next"]["href"].is_string());
        if let Some(p) = page {
            self.entries
                .extend(p["_embedded"][self.kind.key()].as_array().cloned().unwrap_or_default());
        }
        if self.kind.paged() && more && self.page < MAX_LIST_PAGES {
            self.page += 1;
            io.send(0, self.request(), Replay::Safe);
            return;
        }
        self.finish(io);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::{Driver, Emit};
    use crate::http::{Outcome, Response};

    fn run(kind: ListKind, params: Value, body: Value) -> (String, Value) {
        // Its own account: the field catalog is cached per account and thread.
        let account = AccountAddress::parse(&format!("lists-{kind:?}").to_lowercase(), Zone::AmocrmRu).unwrap();
        let mut d = Driver::new(Box::new(Lists::new(kind, account, vec![params], 0.0)));
        let s = d.start();
        let url = s.requests[0].request.url.clone();
        let s = d.on_outcome(
            s.requests[0].id,
            Outcome::Response(Response::new(200, body.to_string())),
        );
        let Emit::Item { json, .. } = &s.emit[0] else {
            panic!("{:?}", s.emit)
        };
        (url, json.clone())
    }

    const PIPELINES: &str = r#"{"_embedded":{"pipelines":[
        {"id":7,"name":"Sales","_embedded":{"statuses":[{"id":1,"name":"New"},{"id":142,"name":"Won"}]}},
        {"id":8,"name":"Partners","_embedded":{"statuses":[{"id":142,"name":"Won"}]}}]}}"#;

    #[test]
    fn statuses_carry_their_pipeline_in_label_and_value() {
        let (url, out) = run(ListKind::Statuses, json!({}), serde_json::from_str(PIPELINES).unwrap());
        assert_eq!(url, "https://lists-statuses.amocrm.ru/api/v4/leads/pipelines");
        let names: Vec<&str> = out["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Sales › New", "Sales › Won", "Partners › Won"]);
        assert_eq!(out["options"][2]["value"], "8:142");
        let (_, only) = run(
            ListKind::Statuses,
            json!({"pipelineId": 8}),
            serde_json::from_str(PIPELINES).unwrap(),
        );
        assert_eq!(only["options"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn users_are_sorted_and_described_by_email() {
        let body = json!({"_embedded": {"users": [{"id": 2, "name": "Zoe", "email": "z@x"}, {"id": 1, "name": "adam", "email": "a@x"}]}});
        let (url, out) = run(ListKind::Users, json!({}), body);
        assert_eq!(url, "https://lists-users.amocrm.ru/api/v4/users?limit=250&page=1");
        assert_eq!(
            out["options"],
            json!([{"name": "adam", "value": 1, "description": "a@x"}, {"name": "Zoe", "value": 2, "description": "z@x"}])
        );
    }

    #[test]
    fn custom_fields_say_which_input_they_need() {
        let body = json!({"_embedded": {"custom_fields": [
            {"id": 1, "name": "VIP", "type": "checkbox"},
            {"id": 2, "name": "Source", "type": "select", "enums": [{"id": 21, "value": "Web"}]}
        ]}});
        let (_, out) = run(ListKind::CustomFields, json!({}), body);
        assert_eq!(
            out["fields"],
            json!([
                {"id": "1", "name": "VIP", "type": "checkbox", "input": "boolean", "options": []},
                {"id": "2", "name": "Source", "type": "select", "input": "options", "options": [{"name": "Web", "value": "21"}]}
            ])
        );
    }
}
