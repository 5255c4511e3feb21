//! The record picker of n8n's resource locator: records matching what the
//! user typed, a page at a time, each with the URL of its card.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{Io, Operation, Replay, Reply, Tag};
use crate::entity::reference::card_url;
use crate::entity::EntityRef;
use crate::error::NodeError;
use crate::http::Request;
use crate::input::Params;
use crate::query::Query;

/// Records per picker page: enough to scroll, small enough to answer fast.
pub const PICKER_PAGE_SIZE: u32 = 50;

pub struct SearchRecords {
    entity: EntityRef,
    account: AccountAddress,
    page: u32,
}

impl SearchRecords {
    pub fn new(entity: EntityRef, account: AccountAddress) -> SearchRecords {
        SearchRecords {
            entity,
            account,
            page: 1,
        }
    }
}

impl Operation for SearchRecords {
    fn on_items(&mut self, _first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let item = items.into_iter().next().unwrap_or(Value::Null);
        let params = Params::new(&item);
        let filter = params.string("query", "Search").unwrap_or_default().trim().to_string();
        self.page = params
            .string("page", "Page")
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|&p| p > 0)
            .unwrap_or(1);
        let mut query = Query::new();
        if !filter.is_empty() {
            query.push("query", &filter);
        }
        query.push("limit", PICKER_PAGE_SIZE).push("page", self.page);
        if self.entity.order.contains(&"updated_at") {
            query.push("order[updated_at]", "desc");
        }
        let url = self.account.url(&query.append_to(&self.entity.path));
        io.send(Tag::Item(0), Request::get(url), Replay::Safe);
    }

    fn on_reply(&mut self, _tag: Tag, reply: Reply, io: &mut Io) {
        let e = self.entity.clone();
        let context = format!("Searching {}", e.nouns);
        let page = match reply {
            // 204: nothing matches.
            Ok(r) if r.status == 204 => json!({}),
            Ok(r) => match parse_json(&r) {
                Ok(v) => v,
                Err(err) => return io.fail(0, NodeError::api(&context, &err)),
            },
            Err(err) => return io.fail(0, NodeError::api(&context, &err)),
        };
        let results: Vec<Value> = page["_embedded"][e.embedded]
            .as_array()
            .map(|leads| {
                leads
                    .iter()
                    .filter_map(|lead| {
                        let id = lead["id"].as_u64()?;
                        let name = lead["name"].as_str().filter(|n| !n.is_empty()).unwrap_or("(no name)");
                        let mut result = json!({
                            "name": format!("{name} (#{id})"),
                            "value": id.to_string(),
                        });
                        if let Some(url) = card_url(&self.account, &e, id) {
                            result["url"] = json!(url);
                        }
                        Some(result)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut out = json!({ "results": results });
        if page["_links"]["next"]["href"].is_string() {
            out["paginationToken"] = json!((self.page + 1).to_string());
        }
        io.emit(0, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit};
    use crate::lead::LEADS;

    fn run(params: Value, status: u16, body: &str) -> (String, Value) {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Run::new(Driver::new(Box::new(SearchRecords::new(
            EntityRef::Static(&LEADS),
            account,
        ))));
        let s = d.start(vec![params]);
        let url = s.requests[0].request.url.clone();
        let s = d.status(s.requests[0].id, status, body);
        let Emit::Item { json, .. } = &s.emit[0] else {
            panic!("{:?}", s.emit)
        };
        (url, json.clone())
    }

    #[test]
    fn searches_by_text_and_pages_with_the_next_link() {
        let body = r#"{"_page":2,"_links":{"next":{"href":"x"}},"_embedded":{"leads":[{"id":7,"name":"Big deal"},{"id":8,"name":""}]}}"#;
        let (url, out) = run(json!({"query": " big ", "page": "2"}), 200, body);
        assert_eq!(
            url,
            "https://shop.amocrm.ru/api/v4/leads?query=big&limit=50&page=2&order[updated_at]=desc"
        );
        assert_eq!(
            out,
            json!({"results": [
                {"name": "Big deal (#7)", "value": "7", "url": "https://shop.amocrm.ru/leads/detail/7"},
                {"name": "(no name) (#8)", "value": "8", "url": "https://shop.amocrm.ru/leads/detail/8"}
            ], "paginationToken": "3"})
        );
    }

    #[test]
    fn no_content_means_no_results() {
        let (url, out) = run(json!({}), 204, "");
        assert!(url.ends_with("/api/v4/leads?limit=50&page=1&order[updated_at]=desc"));
        assert_eq!(out, json!({"results": []}));
    }
}
