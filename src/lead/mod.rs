//! The lead API: one module per operation, sharing how leads are named
//! (IDs, resource locators, URLs) and which embeds exist.

pub mod batch;
pub mod body;
pub mod complex;
pub mod embed;
pub mod field_loader;
pub mod fields;
pub mod filter;
pub mod get;
pub mod links;
pub mod list;
pub mod lists;
pub mod notes;
pub mod reference;
pub mod search;
pub mod simplify;
pub mod write;

use serde_json::Value;

use crate::account::AccountAddress;
use crate::engine::Operation;
use crate::error::NodeError;

pub const LEADS_PATH: &str = "/api/v4/leads";

/// Builds the operation the node asked for. `items` holds each input item's
/// parameters, in input order (null for items the shell already failed).
pub fn operation(
    name: &str,
    account: AccountAddress,
    items: Vec<Value>,
    now_ms: f64,
) -> Result<Box<dyn Operation>, NodeError> {
    use batch::Batcher;
    match name {
        "get" => Ok(Box::new(get::GetLeads::new(account, items))),
        "search" => Ok(Box::new(search::SearchLeads::new(account, items))),
        "getMany" => Ok(Box::new(list::ListLeads::new(account, items))),
        "createComplex" => Ok(Box::new(Batcher::new(complex::CreateComplex, account, items, now_ms))),
        "link" => Ok(Box::new(links::Links::new(links::LinkAction::Link, account, items))),
        "unlink" => Ok(Box::new(links::Links::new(links::LinkAction::Unlink, account, items))),
        "getLinks" => Ok(Box::new(links::Links::new(links::LinkAction::List, account, items))),
        "addNote" => Ok(Box::new(Batcher::new(
            notes::AddNotes {
                account: account.clone(),
            },
            account,
            items,
            now_ms,
        ))),
        "getNotes" => Ok(Box::new(list::ListLeads::of(list::Listing::Notes, account, items))),
        "create" => Ok(Box::new(Batcher::new(write::CreateLeads, account, items, now_ms))),
        "update" => Ok(Box::new(Batcher::new(
            write::UpdateLeads {
                account: account.clone(),
            },
            account,
            items,
            now_ms,
        ))),
        other => match lists::ListKind::parse(other) {
            Some(kind) => Ok(Box::new(lists::Lists::new(kind, account, items, now_ms))),
            None => Err(NodeError::internal(format!(
                "the lead resource has no operation \"{other}\""
            ))),
        },
    }
}
