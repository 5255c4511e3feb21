//! Get Many: the leads matching each item's filters, every page of them
//! ("Return All") or up to a limit.
//!
//! amoCRM gives no total; a list ends at a 204 (also for an empty result, and
//! for the page a last full page's `next` link points at), at a page without a
//! `next` link, or at a short or empty page. Pages are numbered, so Return All
//! keeps a few of them in flight at once, which fills the account's request
//! budget instead of waiting a round trip per page; pages are emitted in
//! order, and the ones requested past the end answer 204 and are dropped.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::account::AccountAddress;
use crate::api_error::ApiError;
use crate::engine::{Io, Operation, RawJson, Replay, Reply};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::{InputError, Params};
use crate::lead::filter::list_query;
use crate::lead::simplify::{simplify_entries, LeadEntries};
use crate::lead::LEADS_PATH;

/// amoCRM's largest page.
pub const MAX_PAGE_SIZE: usize = 250;

/// Pages of one list in flight at once under Return All. At about 7 requests
/// a second and a few hundred milliseconds per 250-lead page, three or four
/// keep the budget busy; more would only add requests past the end.
pub const PAGES_IN_FLIGHT: u32 = 4;

/// A safety net against a server that never ends a list: 50,000 pages of
/// 250 leads is more than any account holds.
pub const MAX_PAGES: u32 = 50_000;

/// Tags carry the item and the page: `item * TAG_STRIDE + page`.
const TAG_STRIDE: u64 = 1 << 32;

struct ItemList {
    /// Path and filters, ready for `limit` and `page` to be appended.
    base: String,
    /// The list's name under `_embedded`.
    key: &'static str,
    page_size: usize,
    limit: Option<usize>,
    simplify: bool,
    emitted: usize,
    next_to_emit: u32,
    requested: u32,
    in_flight: u32,
    /// The last page that exists, once known.
    last_page: Option<u32>,
    /// Pages that arrived ahead of their turn, already shaped.
    pages: BTreeMap<u32, Vec<Result<RawJson, String>>>,
    /// A full page came back: the list is long, widen the window.
    long: bool,
    done: bool,
}

/// What is listed: leads, or the notes of a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Leads,
    Notes,
}

pub struct ListLeads {
    account: AccountAddress,
    items: Vec<Value>,
    listing: Listing,
    lists: BTreeMap<usize, ItemList>,
}

impl ListLeads {
    pub fn new(account: AccountAddress, items: Vec<Value>) -> ListLeads {
        ListLeads::of(Listing::Leads, account, items)
    }

    pub fn of(listing: Listing, account: AccountAddress, items: Vec<Value>) -> ListLeads {
        ListLeads {
            account,
            items,
            listing,
            lists: BTreeMap::new(),
        }
    }

    fn plan(&self, params: Params) -> Result<ItemList, InputError> {
        let (path, query, key) = match self.listing {
            Listing::Leads => (LEADS_PATH.to_string(), list_query(params)?, "leads"),
            Listing::Notes => {
                let (path, query) = crate::lead::notes::notes_query(params, &self.account)?;
                (path, query, "notes")
            }
        };
        let limit = if params.bool("returnAll", "Return All")? {
            None
        } else {
            Some(params.whole("limit", "Limit", 1)?.unwrap_or(50) as usize)
        };
        let page_size = limit.map_or(MAX_PAGE_SIZE, |l| l.min(MAX_PAGE_SIZE));
        let base = if query.is_empty() {
            format!("{path}?")
        } else {
            format!("{path}?{}&", query.encode())
        };
        Ok(ItemList {
            base,
            key,
            page_size,
            limit,
            simplify: self.listing == Listing::Leads && params.bool("simplify", "Simplify")?,
            emitted: 0,
            next_to_emit: 1,
            requested: 0,
            in_flight: 0,
            last_page: None,
            pages: BTreeMap::new(),
            long: false,
            done: false,
        })
    }

    /// Requests further pages of item `index` while the window has room.
    fn request_more(&mut self, index: usize, io: &mut Io) {
        let Some(list) = self.lists.get_mut(&index) else { return };
        let window = match list.limit {
            _ if !list.long => 1,
            // Only as many pages as the limit can need.
            Some(limit) => (limit.div_ceil(list.page_size) as u32).min(PAGES_IN_FLIGHT),
            None => PAGES_IN_FLIGHT,
        };
        let needed_pages = list.limit.map(|l| l.div_ceil(list.page_size) as u32);
        while !list.done
            && list.in_flight < window
            && list.last_page.is_none_or(|last| list.requested < last)
            && needed_pages.is_none_or(|n| list.requested < n)
            && list.requested < MAX_PAGES
        {
            list.requested += 1;
            list.in_flight += 1;
            let path = format!("{}limit={}&page={}", list.base, list.page_size, list.requested);
            io.send(
                index as u64 * TAG_STRIDE + u64::from(list.requested),
                Request::get(self.account.url(&path)),
                Replay::Safe,
            );
        }
    }

    /// Emits buffered pages in order, up to the limit.
    fn flush(list: &mut ItemList, index: usize, io: &mut Io) {
        while let Some(leads) = list.pages.remove(&list.next_to_emit) {
            for lead in leads {
                if list.limit.is_some_and(|l| list.emitted >= l) {
                    break;
                }
                match lead {
                    Ok(item) => io.emit_raw(index, item),
                    Err(reason) => io.fail(
                        index,
                        NodeError::api("Reading a lead", &ApiError::UnreadableBody { status: 200, reason }),
                    ),
                }
                list.emitted += 1;
            }
            list.next_to_emit += 1;
        }
        let past_end = list.last_page.is_some_and(|last| list.next_to_emit > last);
        if past_end || list.limit.is_some_and(|l| list.emitted >= l) {
            list.done = true;
        }
    }
}

/// A page of a list: the entries under `_embedded.leads` (or `.notes`), and
/// whether it links to a next page.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Page<T> {
    #[serde(default = "Option::default")]
    _embedded: Option<Embedded<T>>,
    #[serde(default)]
    _links: Option<Links>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Embedded<T> {
    #[serde(default = "Option::default", alias = "notes")]
    leads: Option<Vec<T>>,
}

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<serde::de::IgnoredAny>,
}

/// The page's entries, each kept as its JSON text (no tree is built for
/// them) or simplified straight from the text, in one pass over the body;
/// and whether the page links to a next one.
fn read_page(body: &str, key: &str, simplify: bool) -> Result<(Vec<Result<RawJson, String>>, bool), ApiError> {
    fn entries<'a, T: Deserialize<'a>>(body: &'a str, key: &str) -> Result<(Vec<T>, bool), ApiError> {
        let page: Page<T> = serde_json::from_str(body).map_err(|e| ApiError::UnreadableBody {
            status: 200,
            reason: format!("not a page of {key} ({e})"),
        })?;
        let next = page._links.is_some_and(|l| l.next.is_some());
        Ok((page._embedded.and_then(|e| e.leads).unwrap_or_default(), next))
    }
    if simplify {
        let (leads, next) = entries::<LeadEntries<'_>>(body, key)?;
        let shaped = leads
            .into_iter()
            .map(|lead| simplify_entries(lead).map_err(|e| e.to_string()));
        Ok((shaped.collect(), next))
    } else {
        let (leads, next) = entries::<&RawValue>(body, key)?;
        // Validated by the parse; copied through as text.
        let copied = leads.into_iter().map(|raw| Ok(RawJson::trusted(raw.get().to_string())));
        Ok((copied.collect(), next))
    }
}

impl Operation for ListLeads {
    fn start(&mut self, io: &mut Io) {
        for (index, item) in self.items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            match self.plan(Params::new(item)) {
                Ok(list) => {
                    self.lists.insert(index, list);
                }
                Err(e) => io.fail(index, NodeError::input(index, &e)),
            }
        }
        let indexes: Vec<usize> = self.lists.keys().copied().collect();
        for index in indexes {
            self.request_more(index, io);
        }
    }

    fn on_reply(&mut self, tag: u64, reply: Reply, io: &mut Io) {
        let index = (tag / TAG_STRIDE) as usize;
        let page = (tag % TAG_STRIDE) as u32;
        let Some(list) = self.lists.get_mut(&index) else { return };
        list.in_flight -= 1;
        if list.done {
            return;
        }
        let leads = match reply {
            Ok(r) if r.status == 204 => Some(Vec::new()),
            Ok(r) => match read_page(&r.body, list.key, list.simplify) {
                Ok((leads, has_next)) => {
                    if leads.len() < list.page_size || !has_next {
                        list.last_page = Some(list.last_page.map_or(page, |l| l.min(page)));
                    } else {
                        list.long = true;
                    }
                    Some(leads)
                }
                Err(e) => {
                    list.done = true;
                    io.fail(
                        index,
                        NodeError::api(&format!("Reading page {page} of {}", list.key), &e),
                    );
                    None
                }
            },
            Err(e) => {
                list.done = true;
                io.fail(
                    index,
                    NodeError::api(&format!("Reading page {page} of {}", list.key), &e),
                );
                None
            }
        };
        let Some(leads) = leads else { return };
        if leads.is_empty() {
            // 204 or an empty page: the list ended before this page.
            let end = page.saturating_sub(1);
            list.last_page = Some(list.last_page.map_or(end, |l| l.min(end)));
        } else {
            list.pages.insert(page, leads);
        }
        ListLeads::flush(list, index, io);
        self.request_more(index, io);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::{Outcome, Response};
    use serde_json::json;

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
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Driver::new(Box::new(ListLeads::new(account, vec![params])));
        let mut step: Step = d.start();
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
            let r = queue.pop().unwrap();
            urls.push(r.request.url.clone());
            let q: std::collections::HashMap<&str, u64> = r
                .request
                .url
                .split(['?', '&'])
                .filter_map(|kv| kv.split_once('='))
                .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
                .collect();
            let (n, size) = (q["page"], q["limit"]);
            let start = (n - 1) * size;
            let response = if start >= total {
                Response::new(204, "")
            } else {
                page(start..(start + size).min(total), start + size <= total)
            };
            step = d.on_outcome(r.id, Outcome::Response(response));
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
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Driver::new(Box::new(ListLeads::of(
            Listing::Notes,
            account,
            vec![json!({"leadId": 9, "returnAll": true})],
        )));
        let s = d.start();
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads/9/notes?limit=250&page=1"
        );
        let body = json!({"_links": {}, "_embedded": {"notes": [{"id": 1, "params": {"text": "hi"}}]}});
        let s = d.on_outcome(
            s.requests[0].id,
            Outcome::Response(Response::new(200, body.to_string())),
        );
        assert_eq!(s.emit.len(), 1);
        assert_eq!(s.emit[0].json().unwrap(), json!({"id": 1, "params": {"text": "hi"}}));
        assert!(s.done);
    }

    #[test]
    fn simplify_applies_to_every_lead() {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let mut d = Driver::new(Box::new(ListLeads::new(
            account,
            vec![json!({"limit": 1, "simplify": true})],
        )));
        let s = d.start();
        let body = json!({"_links": {}, "_embedded": {"leads": [{"id": 1, "_links": {}, "_embedded": {"tags": [{"name": "a"}]}}]}});
        let s = d.on_outcome(
            s.requests[0].id,
            Outcome::Response(Response::new(200, body.to_string())),
        );
        assert_eq!(s.emit.len(), 1);
        assert_eq!(
            s.emit[0].json().unwrap(),
            json!({"id": 1, "custom_fields": {}, "tags": ["a"], "companies": []})
        );
    }
}
