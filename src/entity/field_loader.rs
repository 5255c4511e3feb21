//! Fetching the account's lead custom field definitions before a write that
//! needs them, all pages, reusing what another execution fetched within the
//! last minute (see [`crate::catalog`]).

use serde_json::Value;

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{Io, Replay, Reply};
use crate::error::NodeError;
use crate::http::Request;
use crate::lead::fields::FieldSet;
use crate::query::Query;

pub const FIELDS_PATH: &str = "/api/v4/leads/custom_fields";
const CATALOG_KIND: &str = "lead_custom_fields";

/// Fields per page: amoCRM's maximum page size.
pub const FIELDS_PAGE_SIZE: u32 = 250;

/// More pages than any account has fields for; stops a server that always
/// answers with a `next` link.
pub const MAX_FIELD_PAGES: u32 = 40;

/// The tag the loader's requests carry; operations keep their own tags below it.
pub const LOADER_TAG: u64 = u64::MAX - 1;

pub struct FieldLoader {
    page: u32,
    pages: Vec<Value>,
}

pub enum Loaded {
    Ready(FieldSet),
    Waiting,
    Failed(NodeError),
}

impl FieldLoader {
    /// Returns the fields at once when cached; otherwise sends the first
    /// request and returns `None`.
    pub fn start(account: &AccountAddress, now_ms: f64, io: &mut Io) -> (FieldLoader, Option<FieldSet>) {
        let loader = FieldLoader {
            page: 1,
            pages: Vec::new(),
        };
        if let Some(pages) = crate::catalog::get(account.origin(), CATALOG_KIND, now_ms) {
            return (loader, Some(build(&pages)));
        }
        io.send(LOADER_TAG, page_request(account, 1), Replay::Safe);
        (loader, None)
    }

    pub fn on_reply(&mut self, account: &AccountAddress, reply: Reply, now_ms: f64, io: &mut Io) -> Loaded {
        let page = match reply {
            Ok(r) if r.status == 204 => None,
            Ok(r) => match parse_json(&r) {
                Ok(v) => Some(v),
                Err(e) => return Loaded::Failed(NodeError::api("Reading the account's custom fields", &e)),
            },
            Err(e) => return Loaded::Failed(NodeError::api("Reading the account's custom fields", &e)),
        };
        let more = page.as_ref().is_some_and(|p| p["_links"]["next"]["href"].is_string());
        if let Some(p) = page {
            self.pages.push(p);
        }
        if more && self.page < MAX_FIELD_PAGES {
            self.page += 1;
            io.send(LOADER_TAG, page_request(account, self.page), Replay::Safe);
            return Loaded::Waiting;
        }
        let pages = std::mem::take(&mut self.pages);
        crate::catalog::put(account.origin(), CATALOG_KIND, pages.clone(), now_ms);
        Loaded::Ready(build(&pages))
    }
}

fn page_request(account: &AccountAddress, page: u32) -> Request {
    let mut q = Query::new();
    q.push("limit", FIELDS_PAGE_SIZE).push("page", page);
    Request::get(account.url(&q.append_to(FIELDS_PATH)))
}

fn build(pages: &[Value]) -> FieldSet {
    let mut set = FieldSet::default();
    for p in pages {
        set.add_page(p);
    }
    set
}
