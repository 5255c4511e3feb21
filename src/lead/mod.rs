//! The lead API: one module per operation, sharing how leads are named
//! (IDs, resource locators, URLs) and which embeds exist.

pub mod embed;
pub mod get;
pub mod reference;
pub mod search;

use serde_json::Value;

use crate::account::AccountAddress;
use crate::engine::Operation;
use crate::error::NodeError;

pub const LEADS_PATH: &str = "/api/v4/leads";

/// Builds the operation the node asked for. `items` holds each input item's
/// parameters, in input order.
pub fn operation(name: &str, account: AccountAddress, items: Vec<Value>) -> Result<Box<dyn Operation>, NodeError> {
    match name {
        "get" => Ok(Box::new(get::GetLeads::new(account, items))),
        "search" => Ok(Box::new(search::SearchLeads::new(account, items))),
        other => Err(NodeError::internal(format!(
            "the lead resource has no operation \"{other}\""
        ))),
    }
}
