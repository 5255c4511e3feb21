//! Talks (D:talks-api) and salesbots: Get Talk, Close Talk, Run and Stop a
//! salesbot on a lead or contact.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::ApiErrorKind;
use crate::engine::{Replay, Reply};
use crate::error::{ErrorKind, NodeError};
use crate::http::{Method, Request};
use crate::input::{InputError, Params};

use super::per_item::{one_record, ItemCall};

fn talk_id(params: Params) -> Result<u64, InputError> {
    Ok(params
        .id("talkId", "Talk ID", "a talk")?
        .ok_or_else(|| InputError::new("Talk ID", "is empty; enter the ID of a talk (chat conversation)"))?
        .get())
}

pub struct TalkGet {
    pub account: AccountAddress,
}

impl ItemCall for TalkGet {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let id = talk_id(params)?;
        Ok((
            Request::get(self.account.url(&format!("/api/v4/talks/{id}"))),
            Replay::Safe,
        ))
    }
    fn reply(&self, params: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        // D:talks-api answers an unknown talk with 404, not 204.
        one_record("Talk", "talk", &json!(talk_id(params).unwrap_or(0)), reply)
    }
}

pub struct TalkClose {
    pub account: AccountAddress,
}

impl ItemCall for TalkClose {
    /// `{"force_close": true}` closes without asking the client for a
    /// rating; without it amoCRM runs the NPS bot first (if the account has
    /// it on).
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let id = talk_id(params)?;
        let force = params.bool("forceClose", "Skip Rating Request")?;
        Ok((
            Request::new(Method::Post, self.account.url(&format!("/api/v4/talks/{id}/close")))
                .json(&json!({ "force_close": force })),
            Replay::Safe,
        ))
    }
    fn reply(&self, params: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        let id = talk_id(params).unwrap_or(0);
        match reply {
            Ok(_) => Ok(vec![json!({ "id": id, "closed": true })]),
            Err(e) if e.status == Some(422) => {
                Err(NodeError::new(ErrorKind::Api, format!("Talk {id} is already closed"))
                    .with_description("amoCRM answered 422: a closed talk cannot be closed again."))
            }
            Err(e) if e.kind == ApiErrorKind::NotFound => {
                Err(super::per_item::not_found("Talk", "talk", &json!(id), 404))
            }
            Err(e) => Err(NodeError::api(&format!("Closing talk {id}"), &e)),
        }
    }
    fn writes(&self) -> bool {
        true
    }
}

/// Salesbots, through amoCRM's documented v2 calls (D:salesbot-api):
/// `POST /api/v2/salesbot/run` with `[{bot_id, entity_id, entity_type}]`
/// (entity type 1 contact, 2 lead) and `POST /api/v2/salesbot/{bot_id}/stop`
/// with `{entity_id, entity_type}`; both answer 202. The official PHP
/// client has no salesbot calls; the list body of run and the shape of
/// stop are UNVERIFIED beyond those pages.
pub struct Salesbot {
    pub account: AccountAddress,
    pub stop: bool,
}

fn entity_code(params: Params) -> Result<u8, InputError> {
    match params.string("entityType", "Entity")?.trim() {
        "leads" | "" => Ok(2),
        "contacts" => Ok(1),
        other => Err(InputError::new(
            "Entity",
            format!("\"{other}\" is not leads or contacts; salesbots run on those"),
        )),
    }
}

impl ItemCall for Salesbot {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let bot = params
            .id("botId", "Salesbot ID", "a salesbot")?
            .ok_or_else(|| InputError::new("Salesbot ID", "is empty; enter the ID of the salesbot"))?
            .get();
        let entity = params
            .id("entityId", "Record ID", "a record")?
            .ok_or_else(|| InputError::new("Record ID", "is empty; enter the ID of the lead or contact"))?
            .get();
        let kind = entity_code(params)?;
        Ok(if self.stop {
            (
                Request::new(Method::Post, self.account.url(&format!("/api/v2/salesbot/{bot}/stop")))
                    .json(&json!({"entity_id": entity, "entity_type": kind})),
                Replay::Safe,
            )
        } else {
            (
                Request::new(Method::Post, self.account.url("/api/v2/salesbot/run"))
                    .json(&json!([{"bot_id": bot, "entity_id": entity, "entity_type": kind}])),
                Replay::Unsafe(format!("starts salesbot {bot}")),
            )
        })
    }
    fn reply(&self, params: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        let bot = params.get("botId").cloned().unwrap_or(Value::Null);
        let entity = params.get("entityId").cloned().unwrap_or(Value::Null);
        let doing = if self.stop { "Stopping" } else { "Running" };
        match reply {
            Ok(_) => Ok(vec![json!({
                "botId": bot, "entityId": entity,
                "entityType": params.string("entityType", "").unwrap_or_default(),
                if self.stop { "stopped" } else { "started" }: true,
            })]),
            Err(e) => Err(NodeError::api(
                &format!("{doing} salesbot {}", super::per_item::plain(&bot)),
                &e,
            )),
        }
    }
    fn writes(&self) -> bool {
        true
    }
}
