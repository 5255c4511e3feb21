//! Get: one lead per input item, `GET /api/v4/leads/{id}?with=…`.
//!
//! amoCRM answers an unknown ID with 204 and an empty body rather than 404, so
//! 204 becomes "lead N not found" for that item (an error item under
//! "continue on fail"), never a crash on an empty body.

use serde_json::Value;

use crate::account::AccountAddress;
use crate::api_error::ApiError;
use crate::engine::{Io, Operation, RawJson, Replay, Reply};
use crate::error::{ErrorKind, NodeError};
use crate::http::Request;
use crate::input::{InputError, Params};
use crate::lead::embed::{self, parse_embeds};
use crate::lead::reference::{parse_lead_ref, LeadId};
use crate::lead::simplify::simplify_lead;
use crate::lead::LEADS_PATH;
use crate::query::Query;

pub const LEAD_LABEL: &str = "Lead";
pub const WITH_LABEL: &str = "Include";

pub struct GetLeads {
    account: AccountAddress,
    items: Vec<Value>,
    ids: Vec<Option<LeadId>>,
    simplify: Vec<bool>,
}

impl GetLeads {
    pub fn new(account: AccountAddress, items: Vec<Value>) -> GetLeads {
        GetLeads {
            account,
            items,
            ids: Vec::new(),
            simplify: Vec::new(),
        }
    }

    fn request(&self, params: Params) -> Result<(LeadId, Request, bool), InputError> {
        let id = parse_lead_ref(params.get("leadId").unwrap_or(&Value::Null), &self.account, LEAD_LABEL)?;
        let embeds = parse_embeds(&params.strings("with", WITH_LABEL)?, WITH_LABEL, false)?;
        let mut query = Query::new();
        if !embeds.is_empty() {
            query.push("with", embed::join(&embeds));
        }
        let path = query.append_to(&format!("{LEADS_PATH}/{id}"));
        Ok((
            id,
            Request::get(self.account.url(&path)),
            params.bool("simplify", "Simplify")?,
        ))
    }
}

impl Operation for GetLeads {
    fn start(&mut self, io: &mut Io) {
        // Every item is checked before anything is sent, so a bad parameter
        // anywhere stops the node before the first request.
        let mut requests = Vec::new();
        for (index, item) in self.items.iter().enumerate() {
            if item.is_null() {
                // The shell already failed this item (its parameters could not be read).
                self.ids.push(None);
                self.simplify.push(false);
                continue;
            }
            match self.request(Params::new(item)) {
                Ok((id, request, simplify)) => {
                    self.ids.push(Some(id));
                    self.simplify.push(simplify);
                    requests.push((index, request));
                }
                Err(e) => {
                    self.ids.push(None);
                    self.simplify.push(false);
                    io.fail(index, NodeError::input(index, &e));
                }
            }
        }
        for (index, request) in requests {
            io.send(index as u64, request, Replay::Safe);
        }
    }

    fn on_reply(&mut self, tag: u64, reply: Reply, io: &mut Io) {
        let index = tag as usize;
        let id = self
            .ids
            .get(index)
            .copied()
            .flatten()
            .map(|id| id.get())
            .unwrap_or_default();
        match reply {
            Ok(r) if r.status == 204 => io.fail(
                index,
                NodeError::new(ErrorKind::Api, format!("Lead {id} not found"))
                    .with_description("amoCRM has no lead with this ID in the account (it answered 204 No Content). Check the ID, or whether the lead was deleted."),
            ),
            // The lead as amoCRM sent it (checked to be JSON, not rebuilt), or simplified.
            Ok(r) => {
                let simplify = self.simplify.get(index) == Some(&true);
                let shaped = RawJson::parse(r.body).and_then(|lead| if simplify { simplify_lead(lead.get()) } else { Ok(lead) });
                match shaped {
                    Ok(lead) => io.emit_raw(index, lead),
                    Err(e) => io.fail(
                        index,
                        NodeError::api(&format!("Getting lead {id}"), &ApiError::UnreadableBody { status: 200, reason: format!("not JSON ({e})") }),
                    ),
                }
            }
            Err(e) => io.fail(index, NodeError::api(&format!("Getting lead {id}"), &e)),
        }
    }
}
