//! The lead picker of n8n's resource locator: leads matching what the user
//! typed, a page at a time, each with the URL of its card.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{Io, Operation, Replay, Reply};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::Params;
use crate::lead::LEADS_PATH;
use crate::query::Query;

/// Leads per picker page: enough to scroll, small enough to answer fast.
pub const PICKER_PAGE_SIZE: u32 = 50;

pub struct SearchLeads {
    account: AccountAddress,
    items: Vec<Value>,
    page: u32,
}

impl SearchLeads {
    pub fn new(account: AccountAddress, items: Vec<Value>) -> SearchLeads {
        SearchLeads {
            account,
            items,
            page: 1,
        }
    }
}

impl Operation for SearchLeads {
    fn start(&mut self, io: &mut Io) {
        let item = self.items.first().cloned().unwrap_or(Value::Null);
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
        query.push("order[updated_at]", "desc");
        let url = self.account.url(&query.append_to(LEADS_PATH));
        io.send(0, Request::get(url), Replay::Safe);
    }

    fn on_reply(&mut self, _tag: u64, reply: Reply, io: &mut Io) {
        let page = match reply {
            // 204: nothing matches.
            Ok(r) if r.status == 204 => json!({}),
            Ok(r) => match parse_json(&r) {
                Ok(v) => v,
                Err(e) => return io.fail(0, NodeError::api("Searching leads", &e)),
            },
            Err(e) => return io.fail(0, NodeError::api("Searching leads", &e)),
        };
        let results: Vec<Value> = page["_embedded"]["leads"]
            .as_array()
            .map(|leads| {
                leads
                    .iter()
                    .filter_map(|lead| {
                        let id = lead["id"].as_u64()?;
                        let name = lead["name"].as_str().filter(|n| !n.is_empty()).unwrap_or("(no name)");
                        Some(json!({
                            "name": format!("{name} (#{id})"),
                            "value": id.to_string(),
                            "url": self.account.url(&format!("/leads/detail/{id}")),
                        }))
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
    use crate::engine::{Driver, Emit};
    use crate::http::{Outcome, Response};

    fn run(params: Value, status: u16, body: &str) -> (String, Value) {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Driver::new(Box::new(SearchLeads::new(account, vec![params])));
        let s = d.start();
        let url = s.requests[0].request.url.clone();
        let s = d.on_outcome(s.requests[0].id, Outcome::Response(Response::new(status, body)));
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
