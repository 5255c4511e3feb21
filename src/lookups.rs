//! The nodes' dropdowns: pipelines, statuses (labelled with their pipeline,
//! since 142 and 143 exist in every pipeline), users, an entity's tags and
//! custom fields (with the input each type deserves), loss reasons, task
//! types (the two system ones and the account's own) and customer statuses. Each
//! emits one item `{"options": [{name, value, description?}]}` or, for custom
//! fields, `{"fields": [{id, name, type, input, options}]}`. A list cut at
//! its page limit says so in `truncated`.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{Io, Operation, Replay, Reply, Tag};
use crate::entity::field_loader::{FieldLoader, Loaded};
use crate::entity::fields::FieldSet;
use crate::entity::page::read_page;
use crate::entity::pager::{Pager, MAX_PAGE_SIZE};
use crate::entity::{Entity, EntityRef};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::Params;
use crate::query::Query;

/// Pages read for a dropdown at most (250 entries each): more users or tags
/// than this are reached by typing an ID or searching.
pub const MAX_LIST_PAGES: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Pipelines,
    Statuses,
    Users,
    Tags,
    LossReasons,
    CustomFields,
    TaskTypes,
    CustomerStatuses,
    /// The account's catalogs ("lists").
    Catalogs,
    /// A catalog's fields of type price, for a product's price on a lead.
    PriceFields,
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
            "listTaskTypes" => ListKind::TaskTypes,
            "listCustomerStatuses" => ListKind::CustomerStatuses,
            "listCatalogs" => ListKind::Catalogs,
            "listPriceFields" => ListKind::PriceFields,
            _ => return None,
        })
    }

    fn path(self, entity: &Entity) -> String {
        match self {
            ListKind::Pipelines | ListKind::Statuses => "/api/v4/leads/pipelines".into(),
            ListKind::Users => "/api/v4/users".into(),
            ListKind::Tags => format!("{}/tags", entity.path),
            ListKind::LossReasons => "/api/v4/leads/loss_reasons".into(),
            // 1 and 2 (call, meeting) are in every account; the rest are its own.
            ListKind::TaskTypes => "/api/v4/account?with=task_types".into(),
            ListKind::CustomerStatuses => "/api/v4/customers/statuses".into(),
            ListKind::CustomFields | ListKind::PriceFields => entity.fields_path.to_string(),
            ListKind::Catalogs => "/api/v4/catalogs".into(),
        }
    }

    fn key(self) -> &'static str {
        match self {
            ListKind::Pipelines | ListKind::Statuses => "pipelines",
            ListKind::Users => "users",
            ListKind::Tags => "tags",
            ListKind::LossReasons => "loss_reasons",
            ListKind::TaskTypes => "task_types",
            ListKind::CustomerStatuses => "statuses",
            ListKind::CustomFields | ListKind::PriceFields => "custom_fields",
            ListKind::Catalogs => "catalogs",
        }
    }

    fn paged(self) -> bool {
        matches!(self, ListKind::Users | ListKind::Tags | ListKind::Catalogs)
    }
}

pub struct Lookup {
    kind: ListKind,
    entity: EntityRef,
    account: AccountAddress,
    params: Value,
    pager: Option<Pager<Value>>,
    entries: Vec<Value>,
    loader: Option<Box<FieldLoader>>,
}

impl Lookup {
    pub fn new(kind: ListKind, entity: EntityRef, account: AccountAddress) -> Lookup {
        Lookup {
            kind,
            entity,
            account,
            params: Value::Null,
            pager: None,
            entries: Vec::new(),
            loader: None,
        }
    }

    fn request_more(&mut self, io: &mut Io) {
        if let Some(pager) = self.pager.as_mut() {
            for (page, path) in pager.requests() {
                io.send(
                    Tag::Page { item: 0, page },
                    Request::get(self.account.url(&path)),
                    Replay::Safe,
                );
            }
        }
    }

    fn finish(&self, io: &mut Io, truncated: bool) {
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
            ListKind::LossReasons | ListKind::TaskTypes | ListKind::CustomerStatuses => self
                .entries
                .iter()
                .map(|r| option(text(r, "name"), r["id"].clone()))
                .collect(),
            ListKind::Catalogs => self
                .entries
                .iter()
                .map(|c| {
                    let mut o = option(text(c, "name"), c["id"].clone());
                    o["description"] = json!(text(c, "type"));
                    o
                })
                .collect(),
            ListKind::CustomFields | ListKind::PriceFields => Vec::new(),
        };
        // Statuses keep amoCRM's order, which is the order of the stages.
        if !matches!(self.kind, ListKind::Statuses | ListKind::CustomerStatuses) {
            options.sort_by_key(|o| o["name"].as_str().unwrap_or_default().to_lowercase());
        }
        let mut out = json!({ "options": options });
        if truncated {
            out["truncated"] = json!(format!(
                "The list shows the first {} {}; amoCRM has more. Type the value, or search.",
                self.entries.len(),
                self.kind.key().replace('_', " ")
            ));
        }
        io.emit(0, out);
    }

    /// The field definitions arrived: the fields with their inputs, or the
    /// price fields as options.
    fn emit_loaded(&self, fields: &FieldSet, io: &mut Io) {
        if self.kind == ListKind::PriceFields {
            let options: Vec<Value> = fields
                .fields()
                .filter(|f| f.kind == "price")
                .map(|f| json!({ "name": f.name, "value": f.id }))
                .collect();
            return io.emit(0, json!({ "options": options }));
        }
        Lookup::emit_fields(fields, io);
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
                json!({ "id": f.id.to_string(), "name": f.name, "code": f.code, "type": f.kind, "input": input, "options": options })
            })
            .collect();
        io.emit(0, json!({ "fields": list }));
    }
}

impl Operation for Lookup {
    fn on_items(&mut self, _first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        self.params = items.into_iter().next().unwrap_or(Value::Null);
        let path = self.kind.path(&self.entity);
        match self.kind {
            ListKind::CustomFields | ListKind::PriceFields => {
                match FieldLoader::start(self.entity.clone(), &self.account, io) {
                    Ok(fields) => self.emit_loaded(&fields, io),
                    Err(loader) => self.loader = Some(loader),
                }
            }
            kind if kind.paged() => {
                let mut q = Query::new();
                if kind == ListKind::Tags {
                    let search = Params::new(&self.params)
                        .string("query", "Search")
                        .unwrap_or_default()
                        .trim()
                        .to_string();
                    if !search.is_empty() {
                        q.push("query", search);
                    }
                }
                self.pager = Some(Pager::new(&path, &q, MAX_PAGE_SIZE, None, MAX_LIST_PAGES, 1));
                self.request_more(io);
            }
            _ => io.send(Tag::Item(0), Request::get(self.account.url(&path)), Replay::Safe),
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        if let Tag::Fields { page } = tag {
            let Some(loader) = self.loader.as_mut() else { return };
            match loader.on_reply(&self.account, page, reply, io) {
                Loaded::Waiting => {}
                Loaded::Ready(fields) => self.emit_loaded(&fields, io),
                Loaded::Failed(e) => io.fail(0, e),
            }
            return;
        }
        let context = format!("Reading the account's {}", self.kind.key().replace('_', " "));
        let key = self.kind.key();
        match tag {
            Tag::Page { page, .. } => {
                let Some(pager) = self.pager.as_mut() else { return };
                let got = match reply {
                    Ok(r) if r.status == 204 => None,
                    Ok(r) => match read_page::<Value>(&r.body, key) {
                        Ok(p) => Some(p),
                        Err(e) => return io.fail(0, NodeError::api(&context, &e)),
                    },
                    Err(e) => return io.fail(0, NodeError::api(&context, &e)),
                };
                pager.on_page(page, got);
                self.entries.extend(pager.ready());
                if pager.is_done() {
                    let truncated = pager.truncated();
                    self.finish(io, truncated);
                } else {
                    self.request_more(io);
                }
            }
            _ => {
                match reply {
                    Ok(r) if r.status == 204 => {}
                    Ok(r) => match parse_json(&r) {
                        Ok(v) => self.entries = v["_embedded"][key].as_array().cloned().unwrap_or_default(),
                        Err(e) => return io.fail(0, NodeError::api(&context, &e)),
                    },
                    Err(e) => return io.fail(0, NodeError::api(&context, &e)),
                }
                self.finish(io, false);
            }
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
    use crate::lead::LEADS;

    fn run(kind: ListKind, params: Value, body: Value) -> (String, Value) {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Run::new(Driver::new(Box::new(Lookup::new(
            kind,
            EntityRef::Static(&LEADS),
            account,
        ))));
        let s = d.start(vec![params]);
        let url = s.requests[0].request.url.clone();
        let s = d.reply(s.requests[0].id, Response::new(200, body.to_string()));
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
        assert_eq!(url, "https://shop.amocrm.ru/api/v4/leads/pipelines");
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
        assert_eq!(url, "https://shop.amocrm.ru/api/v4/users?limit=250&page=1");
        assert_eq!(
            out["options"],
            json!([{"name": "adam", "value": 1, "description": "a@x"}, {"name": "Zoe", "value": 2, "description": "z@x"}])
        );
        assert!(out.get("truncated").is_none());
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
                {"id": "1", "name": "VIP", "code": null, "type": "checkbox", "input": "boolean", "options": []},
                {"id": "2", "name": "Source", "code": null, "type": "select", "input": "options", "options": [{"name": "Web", "value": "21"}]}
            ])
        );
    }

    #[test]
    fn task_types_come_from_the_account_and_customer_statuses_keep_their_order() {
        let account = json!({"id": 1, "_embedded": {"task_types": [
            {"id": 1, "name": "Связаться", "code": "FOLLOW_UP"}, {"id": 2, "name": "Встреча", "code": "MEETING"},
            {"id": 2190001, "name": "Send proposal", "code": null}
        ]}});
        let (url, out) = run(ListKind::TaskTypes, json!({}), account);
        assert_eq!(url, "https://shop.amocrm.ru/api/v4/account?with=task_types");
        assert_eq!(
            out["options"],
            json!([{"name": "Send proposal", "value": 2190001}, {"name": "Встреча", "value": 2}, {"name": "Связаться", "value": 1}])
        );
        let statuses = json!({"_embedded": {"statuses": [{"id": 7, "name": "New customer"}, {"id": 5, "name": "Bought recently"}]}});
        let (url, out) = run(ListKind::CustomerStatuses, json!({}), statuses);
        assert_eq!(url, "https://shop.amocrm.ru/api/v4/customers/statuses");
        assert_eq!(
            out["options"],
            json!([{"name": "New customer", "value": 7}, {"name": "Bought recently", "value": 5}])
        );
    }

    #[test]
    fn a_list_cut_at_its_page_limit_says_so() {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Run::new(Driver::new(Box::new(Lookup::new(
            ListKind::Tags,
            EntityRef::Static(&LEADS),
            account,
        ))));
        let mut s = d.start(vec![json!({})]);
        let mut n = 0u32;
        loop {
            if let Some(Emit::Item { json, .. }) = s.emit.first() {
                assert!(
                    json["truncated"].as_str().unwrap().contains("first 5000 tags"),
                    "{json}"
                );
                break;
            }
            n += 1;
            let tags: Vec<Value> = (0..250)
                .map(|i| json!({"id": i, "name": format!("t{n}-{i}")}))
                .collect();
            let body = json!({"_links": {"next": {"href": "x"}}, "_embedded": {"tags": tags}});
            s = d.reply(s.requests[0].id, Response::new(200, body.to_string()));
        }
        assert_eq!(n, MAX_LIST_PAGES);
    }
}
