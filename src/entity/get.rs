//! Get: one record per input item, `GET {path}/{id}?with=…`; and Delete,
//! `DELETE {path}/{id}`, for the few records amoCRM's API deletes (a
//! customer's transactions).
//!
//! amoCRM answers an unknown ID with 204 and an empty body rather than 404, so
//! 204 becomes "Lead N not found" for that item (an error item under
//! "continue on fail"), never a crash on an empty body. A delete answers 204
//! when done and 404 for a record that is not there (or no longer).

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::{ApiError, ApiErrorKind};
use crate::engine::{send_per_item, Io, Operation, RawJson, Reply, Tag};
use crate::entity::embed::parse_with;
use crate::entity::reference::parse_ref;
use crate::entity::simplify::simplify_record;
use crate::entity::{EntityRef, RecordId};
use crate::error::{ErrorKind, NodeError};
use crate::http::{Method, Request};
use crate::input::{InputError, Params};
use crate::query::Query;

pub const WITH_LABEL: &str = "Include";

/// `{path}?filter[id][0]=…&limit=250`: the records with these IDs (sorted,
/// once each) in one list request, with `with` values if any. amoCRM's page
/// holds 250, so at most that many IDs go in one request.
pub fn by_ids_path(entity: &crate::entity::Entity, ids: impl IntoIterator<Item = u64>, with: &[&str]) -> String {
    let mut ids: Vec<u64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut q = Query::new();
    q.push_list("filter[id]", ids);
    if !with.is_empty() {
        q.push("with", with.join(","));
    }
    q.push("limit", crate::entity::MAX_WRITE_BATCH);
    q.append_to(&entity.path)
}

pub struct GetRecords {
    entity: EntityRef,
    account: AccountAddress,
    delete: bool,
    /// The ID and Simplify choice of each item sent.
    sent: HashMap<usize, (RecordId, bool)>,
}

impl GetRecords {
    pub fn new(entity: EntityRef, account: AccountAddress) -> GetRecords {
        GetRecords {
            entity,
            account,
            delete: false,
            sent: HashMap::new(),
        }
    }

    /// Deletes the record each item names instead.
    pub fn delete(entity: EntityRef, account: AccountAddress) -> GetRecords {
        GetRecords {
            delete: true,
            ..GetRecords::new(entity, account)
        }
    }

    fn request(&self, params: Params) -> Result<(RecordId, Request, bool), InputError> {
        let e = self.entity.clone();
        let id = parse_ref(
            params.get(e.id_param).unwrap_or(&Value::Null),
            &self.account,
            &e,
            e.label,
        )?;
        if self.delete {
            // Deleting twice ends the same way: safe to resend after a lost answer.
            return Ok((
                id,
                Request::new(Method::Delete, self.account.url(&e.record_path(id))),
                false,
            ));
        }
        let with = parse_with(&e, &params.strings("with", WITH_LABEL)?, WITH_LABEL, false)?;
        let mut query = Query::new();
        if !with.is_empty() {
            query.push("with", with.join(","));
        }
        let path = query.append_to(&e.record_path(id));
        Ok((
            id,
            Request::get(self.account.url(&path)),
            params.bool("simplify", "Simplify")?,
        ))
    }
}

impl Operation for GetRecords {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        // Every item of the chunk is checked before anything is sent, so a
        // bad parameter stops the node before the first request.
        let sent = send_per_item(first, &items, io, |params| {
            self.request(params)
                .map(|(id, request, simplify)| ((id, simplify), request))
        });
        self.sent.extend(sent);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let Tag::Item(index) = tag else { return };
        let Some((id, simplify)) = self.sent.remove(&index) else {
            return;
        };
        let e = self.entity.clone();
        if self.delete {
            return match reply {
                Ok(_) => {
                    io.written(index, id.get());
                    io.emit(index, json!({ "id": id.get(), "deleted": true }));
                }
                Err(err) if err.kind == ApiErrorKind::NotFound => io.fail(
                    index,
                    NodeError::new(ErrorKind::Api, format!("{} {id} not found", e.label)).with_description(format!(
                        "amoCRM has no {} with this ID (it answered 404): the ID is wrong, or the {} was deleted already.",
                        e.noun, e.noun
                    )),
                ),
                Err(err) => io.fail(index, NodeError::api(&format!("Deleting {} {id}", e.noun), &err)),
            };
        }
        match reply {
            Ok(r) if r.status == 204 => io.fail(
                index,
                NodeError::new(ErrorKind::Api, format!("{} {id} not found", e.label)).with_description(format!(
                    "amoCRM has no {} with this ID in the account (it answered 204 No Content). Check the ID, or whether the {} was deleted.",
                    e.noun, e.noun
                )),
            ),
            // The record as amoCRM sent it (checked to be JSON, not rebuilt), or simplified.
            Ok(r) => {
                let shaped = RawJson::parse(r.body).and_then(|record| if simplify { simplify_record(record.get()) } else { Ok(record) });
                match shaped {
                    Ok(record) => io.emit_raw(index, record),
                    Err(err) => io.fail(
                        index,
                        NodeError::api(&format!("Getting {} {id}", e.noun), &ApiError::unreadable(200, format!("not JSON ({err})"))),
                    ),
                }
            }
            Err(err) => io.fail(index, NodeError::api(&format!("Getting {} {id}", e.noun), &err)),
        }
    }
}
