//! The account: Get with the `with` values amoCRM offers (D:account-info),
//! and Check Connection, one cheap authenticated read that says what a user
//! wants to know: which account, whose credential, and whether it works.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::engine::{Replay, Reply};
use crate::error::NodeError;
use crate::http::Request;
use crate::input::{shorten, InputError, Params};
use crate::query::Query;

use super::per_item::{answer_items, ItemCall};

pub const ACCOUNT_PATH: &str = "/api/v4/account";

/// D:account-info's `with` values.
pub const ACCOUNT_WITH: [&str; 10] = [
    "amojo_id",
    "amojo_rights",
    "users_groups",
    "task_types",
    "version",
    "entity_names",
    "datetime_settings",
    "drive_url",
    "is_api_filter_enabled",
    "invoices_settings",
];

pub struct AccountGet {
    pub account: AccountAddress,
}

impl ItemCall for AccountGet {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let with = params.strings("with", "Include")?;
        if let Some(bad) = with.iter().find(|w| !ACCOUNT_WITH.contains(w)) {
            return Err(InputError::new(
                "Include",
                format!("\"{}\" is not one of {}", shorten(bad), ACCOUNT_WITH.join(", ")),
            ));
        }
        let mut q = Query::new();
        if !with.is_empty() {
            q.push("with", with.join(","));
        }
        Ok((Request::get(self.account.url(&q.append_to(ACCOUNT_PATH))), Replay::Safe))
    }

    fn reply(&self, _: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        match reply {
            Ok(r) => answer_items(&r, "Reading the account"),
            Err(e) => Err(NodeError::api("Reading the account", &e)),
        }
    }
}

/// The credential's kind as a user reads it.
pub fn credential_kind(auth: &str) -> &'static str {
    match auth {
        "longLivedToken" => "Long-lived token",
        "oauth" => "OAuth 2.0 (tokens kept in the credential)",
        "oauth2" => "OAuth 2.0 (n8n Connect button)",
        _ => "Unknown",
    }
}

pub struct CheckConnection {
    pub account: AccountAddress,
    pub auth: String,
}

impl ItemCall for CheckConnection {
    fn request(&self, _: Params) -> Result<(Request, Replay), InputError> {
        Ok((Request::get(self.account.url(ACCOUNT_PATH)), Replay::Safe))
    }

    /// A failure is an answer too: `connected: false` and why, so that a
    /// workflow can branch on it.
    fn reply(&self, _: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        let kind = credential_kind(&self.auth);
        let read = reply
            .map_err(|e| NodeError::api("Checking the connection", &e))
            .and_then(|r| {
                answer_items(&r, "Checking the connection")?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        NodeError::new(
                            crate::error::ErrorKind::Api,
                            "amoCRM answered the account read with nothing",
                        )
                    })
            });
        Ok(vec![match read {
            Ok(a) => json!({
                "connected": true,
                "accountId": a["id"],
                "subdomain": a["subdomain"],
                "name": a["name"],
                "currentUserId": a["current_user_id"],
                "country": a["country"],
                "credentialKind": kind,
                "address": self.account.origin(),
            }),
            Err(e) => json!({
                "connected": false,
                "credentialKind": kind,
                "address": self.account.origin(),
                "error": e.message,
                "description": e.description,
                "httpCode": e.http_code,
            }),
        }])
    }
}
