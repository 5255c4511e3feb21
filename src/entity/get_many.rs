//! Get Many: the records matching each item's filters, every page of them
//! ("Return All") or up to a limit; and Get Notes, the notes of a record,
//! read the same way. Paging is the [`Pager`]'s; this module turns pages into
//! items, kept as amoCRM's JSON text or simplified straight from it.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::account::AccountAddress;
use crate::api_error::ApiError;
use crate::engine::{live_items, Io, Operation, RawJson, Replay, Reply, Tag};
use crate::entity::filter::list_query;
use crate::entity::notes::notes_query;
use crate::entity::page::{read_page, PageOf};
use crate::entity::pager::{Pager, MAX_PAGE_SIZE, PAGES_IN_FLIGHT};
use crate::entity::reference::parse_ref;
use crate::entity::simplify::{simplify_entries, RecordEntries};
use crate::entity::{Entity, EntityRef, RecordId};
use crate::error::{ErrorKind, NodeError};
use crate::http::Request;
use crate::input::{InputError, Params};
use crate::query::Query;

/// A safety net against a server that never ends a list: 50,000 pages of
/// 250 records is more than any account holds.
pub const MAX_PAGES: u32 = 50_000;

/// What is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The entity's records, filtered.
    Records,
    /// The notes of one record.
    Notes,
    /// What amoCRM keeps under the entity's records, `{path}/{id}/{key}`
    /// for the record the item names, or `{path}/{key}` for all of them
    /// when it names none (a customer's transactions, or every customer's).
    Nested(&'static str),
    /// amoCRM's events, with their own filters ([`crate::event::filter`])
    /// and pages of 100.
    Events,
}

type Entry = Result<RawJson, String>;

struct ItemList {
    pager: Pager<Entry>,
    key: &'static str,
    simplify: bool,
}

pub struct ListRecords {
    entity: EntityRef,
    account: AccountAddress,
    listing: Listing,
    lists: BTreeMap<usize, ItemList>,
}

impl ListRecords {
    pub fn new(entity: EntityRef, listing: Listing, account: AccountAddress) -> ListRecords {
        ListRecords {
            entity,
            account,
            listing,
            lists: BTreeMap::new(),
        }
    }

    fn plan(&self, params: Params) -> Result<ItemList, InputError> {
        let mut page_size = MAX_PAGE_SIZE;
        let (path, query, key) = match self.listing {
            Listing::Events => {
                page_size = crate::event::cursor::PAGE_SIZE;
                let mut query = crate::event::filter::events_query(params, true)?;
                // The node's "Options › Include", as for every other list.
                let label = "Options › Include";
                let with = crate::entity::embed::parse_with(
                    &self.entity,
                    &params.object("options").strings("with", label)?,
                    label,
                    true,
                )?;
                if !with.is_empty() {
                    query.push("with", with.join(","));
                }
                (self.entity.path.to_string(), query, self.entity.embedded)
            }
            Listing::Records => (
                self.entity.path.to_string(),
                list_query(&self.entity, params)?,
                self.entity.embedded,
            ),
            Listing::Notes => {
                let (path, query) = notes_query(&self.entity, params, &self.account)?;
                (path, query, "notes")
            }
            Listing::Nested(key) => {
                let parent = match optional_record(&self.entity, params, &self.account)? {
                    Some(id) => self.entity.record_path(id),
                    None => self.entity.path.to_string(),
                };
                (format!("{parent}/{key}"), Query::new(), key)
            }
        };
        let limit = if params.bool("returnAll", "Return All")? {
            None
        } else {
            Some(params.whole("limit", "Limit", 1)?.unwrap_or(50) as usize)
        };
        Ok(ItemList {
            pager: Pager::new(&path, &query, page_size, limit, MAX_PAGES, PAGES_IN_FLIGHT),
            key,
            simplify: self.listing == Listing::Records && params.bool("simplify", "Simplify")?,
        })
    }

    /// Requests further pages of item `index` while its window has room.
    fn request_more(&mut self, index: usize, io: &mut Io) {
        let Some(list) = self.lists.get_mut(&index) else { return };
        for (page, path) in list.pager.requests() {
            io.send(
                Tag::Page { item: index, page },
                Request::get(self.account.url(&path)),
                Replay::Safe,
            );
        }
    }

    /// Emits what is ready, and says so when the list was cut.
    fn flush(&mut self, index: usize, io: &mut Io) {
        let Some(list) = self.lists.get_mut(&index) else { return };
        for entry in list.pager.ready() {
            match entry {
                Ok(item) => io.emit_raw(index, item),
                Err(reason) => io.fail(
                    index,
                    NodeError::api(
                        &format!("Reading a {}", self.entity.noun),
                        &ApiError::unreadable(200, reason),
                    ),
                ),
            }
        }
        if list.pager.truncated() {
            let n = list.pager.emitted();
            io.fail(
                index,
                NodeError::new(
                    ErrorKind::Api,
                    format!(
                        "Get Many stopped after {} pages ({n} {}): amoCRM still linked to further pages",
                        list.pager.max_pages(),
                        list.key
                    ),
                )
                .with_description("The records read so far were output. Narrow the filters, or read the list in parts (by creation date, say)."),
            );
        }
        if list.pager.is_done() {
            self.lists.remove(&index);
        }
    }
}

/// The record the item names by the entity's ID parameter, if it names one
/// (an empty locator names none).
fn optional_record(entity: &Entity, params: Params, account: &AccountAddress) -> Result<Option<RecordId>, InputError> {
    let value = match params.get(entity.id_param) {
        None => return Ok(None),
        Some(Value::Object(o)) if o.contains_key("__rl") || o.contains_key("mode") => {
            o.get("value").unwrap_or(&Value::Null)
        }
        Some(v) => v,
    };
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        _ => parse_ref(
            params.get(entity.id_param).unwrap_or(&Value::Null),
            account,
            entity,
            entity.label,
        )
        .map(Some),
    }
}

/// The page's entries, each kept as its JSON text (no tree is built for
/// them) or simplified straight from the text, in one pass over the body.
fn read_entries(body: &str, key: &str, simplify: bool) -> Result<PageOf<Entry>, ApiError> {
    if simplify {
        let page = read_page::<RecordEntries<'_>>(body, key)?;
        Ok(PageOf {
            entries: page
                .entries
                .into_iter()
                .map(|r| simplify_entries(r).map_err(|e| e.to_string()))
                .collect(),
            next: page.next,
        })
    } else {
        let page = read_page::<&RawValue>(body, key)?;
        // Validated by the parse; copied through as text.
        Ok(PageOf {
            entries: page
                .entries
                .into_iter()
                .map(|raw| Ok(RawJson::trusted(raw.get().to_string())))
                .collect(),
            next: page.next,
        })
    }
}

impl Operation for ListRecords {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let mut planned = Vec::new();
        for (index, item) in live_items(first, &items) {
            match self.plan(Params::new(item)) {
                Ok(list) => {
                    self.lists.insert(index, list);
                    planned.push(index);
                }
                Err(e) => io.fail(index, NodeError::input(index, &e)),
            }
        }
        for index in planned {
            self.request_more(index, io);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let Tag::Page { item: index, page } = tag else { return };
        let Some(list) = self.lists.get_mut(&index) else { return };
        let got = match reply {
            Ok(r) if r.status == 204 => Ok(None),
            Ok(r) => read_entries(&r.body, list.key, list.simplify).map(Some),
            Err(e) => Err(e),
        };
        match got {
            Ok(page_of) => list.pager.on_page(page, page_of),
            Err(e) => {
                list.pager.on_error();
                let context = format!("Reading page {page} of {}", list.key);
                self.lists.remove(&index);
                return io.fail(index, NodeError::api(&context, &e));
            }
        }
        self.flush(index, io);
        self.request_more(index, io);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::Response;
    use crate::lead::LEADS;
    use serde_json::json;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    fn page(ids: std::ops::Range<u64>, next: bool) -> Response {
        let leads: Vec<Value> = ids.map(|id| json!({"id": id})).collect();
        let links = if next {
            json!({"next": {"href": "https://shop.amocrm.ru/api/v4/leads?page=x"}})
        } else {
            json!({})
        };
        Response::new(
            200,
            json!({"_page": 1, "_links": links, "_embedded": {"leads": leads}}).to_string(),
        )
    }

    /// Serves pages of a list of `total` leads (page size from the URL) until
    /// the driver is done; returns the emitted IDs and the URLs requested.
    fn run(params: Value, total: u64) -> (Vec<u64>, Vec<String>) {
        let mut r = Run::new(Driver::new(Box::new(ListRecords::new(
            EntityRef::Static(&LEADS),
            Listing::Records,
            account(),
        ))));
        let mut step: Step = r.start(vec![params]);
        let mut ids = Vec::new();
        let mut urls = Vec::new();
        let mut queue = Vec::new();
        loop {
            for e in &step.emit {
                match e {
                    Emit::Error { error, .. } => panic!("{}", error.message),
                    item => ids.push(item.json().unwrap()["id"].as_u64().unwrap()),
                }
            }
            queue.extend(step.requests.iter().cloned());
            if step.done {
                break;
            }
            // Answer the newest request first: pages arrive out of order.
            let q = queue.pop().unwrap();
            urls.push(q.request.url.clone());
            let params: std::collections::HashMap<&str, u64> = q
                .request
                .url
                .split(['?', '&'])
                .filter_map(|kv| kv.split_once('='))
                .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
                .collect();
            let (n, size) = (params["page"], params["limit"]);
            let start = (n - 1) * size;
            let response = if start >= total {
                Response::new(204, "")
            } else {
                page(start..(start + size).min(total), start + size <= total)
            };
            step = r.reply(q.id, response);
        }
        (ids, urls)
    }

    #[test]
    fn return_all_reads_every_lead_once_in_order() {
        let (ids, urls) = run(json!({"returnAll": true}), 10_000);
        assert_eq!(ids, (0..10_000).collect::<Vec<_>>());
        assert!(urls.iter().all(|u| u.contains("limit=250")));
        // 40 full pages, and at most a window's worth past the end.
        assert!(
            urls.len() >= 41 && urls.len() <= 40 + PAGES_IN_FLIGHT as usize,
            "{}",
            urls.len()
        );
    }

    #[test]
    fn a_last_full_page_whose_next_link_leads_to_204_ends_the_list() {
        let (ids, _) = run(json!({"returnAll": true}), 500);
        assert_eq!(ids.len(), 500);
    }

    #[test]
    fn an_empty_result_is_no_items_and_no_error() {
        let (ids, urls) = run(json!({"returnAll": true, "query": "nothing"}), 0);
        assert!(ids.is_empty());
        assert_eq!(
            urls,
            vec!["https://shop.amocrm.ru/api/v4/leads?query=nothing&limit=250&page=1"]
        );
        let (ids, urls) = run(json!({"returnAll": true}), 17);
        assert_eq!((ids.len(), urls.len()), (17, 1), "a short list costs one request");
    }

    #[test]
    fn a_limit_reads_only_the_pages_it_needs() {
        let (ids, urls) = run(json!({"limit": 30}), 1_000);
        assert_eq!(ids, (0..30).collect::<Vec<_>>());
        assert_eq!(urls, vec!["https://shop.amocrm.ru/api/v4/leads?limit=30&page=1"]);
        let (ids, urls) = run(json!({"limit": 600}), 10_000);
        assert_eq!(ids.len(), 600);
        assert_eq!(urls.len(), 3);
    }

    #[test]
    fn notes_pages_are_read_from_their_own_key() {
        let mut r = Run::new(Driver::new(Box::new(ListRecords::new(
            EntityRef::Static(&LEADS),
            Listing::Notes,
            account(),
        ))));
        let s = r.start(vec![json!({"leadId": 9, "returnAll": true})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads/9/notes?limit=250&page=1"
        );
        let body = json!({"_links": {}, "_embedded": {"notes": [{"id": 1, "params": {"text": "hi"}}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, body.to_string()));
        assert_eq!(s.emit.len(), 1);
        assert_eq!(s.emit[0].json().unwrap(), json!({"id": 1, "params": {"text": "hi"}}));
        assert!(s.done);
    }

    #[test]
    fn simplify_applies_to_every_lead() {
        let mut r = Run::new(Driver::new(Box::new(ListRecords::new(
            EntityRef::Static(&LEADS),
            Listing::Records,
            account(),
        ))));
        let s = r.start(vec![json!({"limit": 1, "simplify": true})]);
        let body = json!({"_links": {}, "_embedded": {"leads": [{"id": 1, "_links": {}, "_embedded": {"tags": [{"name": "a"}]}}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, body.to_string()));
        assert_eq!(s.emit.len(), 1);
        assert_eq!(
            s.emit[0].json().unwrap(),
            json!({"id": 1, "custom_fields": {}, "tags": ["a"], "companies": []})
        );
    }
}
