//! Fetching an entity's custom field definitions before a write that needs
//! them, all pages, reusing what another execution fetched within the last
//! minute (see [`crate::metadata`]).

use std::rc::Rc;

use serde_json::Value;

use crate::account::AccountAddress;
use crate::engine::{Io, Replay, Reply, Tag};
use crate::entity::fields::FieldSet;
use crate::entity::page::read_page;
use crate::entity::pager::{Pager, MAX_PAGE_SIZE};
use crate::entity::EntityRef;
use crate::error::{ErrorKind, NodeError};
use crate::http::Request;
use crate::query::Query;

/// More pages than any account has fields for (10,000 fields); a server that
/// always answers with a `next` link is stopped there, with an error.
pub const MAX_FIELD_PAGES: u32 = 40;

pub struct FieldLoader {
    entity: EntityRef,
    pager: Pager<Value>,
    definitions: Vec<Value>,
}

pub enum Loaded {
    Ready(Rc<FieldSet>),
    Waiting,
    Failed(NodeError),
}

impl FieldLoader {
    /// Returns the fields at once when cached; otherwise sends the first
    /// request and returns the loader that waits for the answers.
    pub fn start(entity: EntityRef, account: &AccountAddress, io: &mut Io) -> Result<Rc<FieldSet>, Box<FieldLoader>> {
        if let Some(definitions) = io
            .ctx
            .metadata
            .get(&io.cache_key(account), &entity.fields_kind(), io.now_ms())
        {
            return Ok(Rc::new(FieldSet::from_definitions(&definitions)));
        }
        let mut loader = FieldLoader {
            entity: entity.clone(),
            pager: Pager::new(
                &entity.fields_path,
                &Query::new(),
                MAX_PAGE_SIZE,
                None,
                MAX_FIELD_PAGES,
                1,
            ),
            definitions: Vec::new(),
        };
        loader.request_more(account, io);
        Err(Box::new(loader))
    }

    fn request_more(&mut self, account: &AccountAddress, io: &mut Io) {
        for (page, path) in self.pager.requests() {
            io.send(Tag::Fields { page }, Request::get(account.url(&path)), Replay::Safe);
        }
    }

    pub fn on_reply(&mut self, account: &AccountAddress, page: u32, reply: Reply, io: &mut Io) -> Loaded {
        let context = format!("Reading the account's {} custom fields", self.entity.noun);
        let got = match reply {
            Ok(r) if r.status == 204 => None,
            Ok(r) => match read_page::<Value>(&r.body, "custom_fields") {
                Ok(p) => Some(p),
                Err(e) => return Loaded::Failed(NodeError::api(&context, &e)),
            },
            Err(e) => return Loaded::Failed(NodeError::api(&context, &e)),
        };
        self.pager.on_page(page, got);
        self.definitions.extend(self.pager.ready());
        if self.pager.truncated() {
            return Loaded::Failed(NodeError::new(
                ErrorKind::Api,
                format!(
                    "{context}: amoCRM still linked to further pages after {} pages of fields",
                    MAX_FIELD_PAGES
                ),
            ).with_description("The definitions were not used, since a field missing from them would be refused. Report this: no account is known to have this many fields."));
        }
        if !self.pager.is_done() {
            self.request_more(account, io);
            return Loaded::Waiting;
        }
        let definitions = Rc::new(std::mem::take(&mut self.definitions));
        io.ctx.metadata.put(
            &io.cache_key(account),
            &self.entity.fields_kind(),
            definitions.clone(),
            io.now_ms(),
        );
        Loaded::Ready(Rc::new(FieldSet::from_definitions(&definitions)))
    }
}
