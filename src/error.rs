//! The one error shape that crosses the boundary, for one item or for the whole
//! node call. The shell turns `Api` errors into n8n's `NodeApiError` (with the
//! HTTP code) and the others into `NodeOperationError`.

use serde::Serialize;

use crate::account::AddressError;
use crate::api_error::{ApiError, ApiErrorKind};
use crate::input::InputError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// A node parameter is wrong; no request was sent for the item.
    Input,
    /// The credential's account address is not allowed.
    Address,
    /// amoCRM answered with an error, or could not be reached.
    Api,
    /// Obtaining or refreshing an OAuth token failed.
    Token,
    /// The shell sent the core something it does not understand (a bug).
    Internal,
}

/// A record an input item wrote to amoCRM, named by a node that stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Written {
    pub index: usize,
    pub id: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_code: Option<u16>,
    /// What the node wrote before it stopped at this error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<Written>,
    /// The input item a node stopped at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_index: Option<usize>,
    /// The failed request may have been applied (a create that got a 5xx).
    #[serde(skip)]
    pub unsure: bool,
}

impl NodeError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> NodeError {
        NodeError {
            kind,
            message: message.into(),
            description: None,
            http_code: None,
            written: Vec::new(),
            item_index: None,
            unsure: false,
        }
    }

    pub fn internal(message: impl Into<String>) -> NodeError {
        NodeError::new(ErrorKind::Internal, message)
    }

    pub fn with_description(mut self, description: impl Into<String>) -> NodeError {
        self.description = Some(description.into());
        self
    }

    /// An input error of item `index` (n8n counts items from 0).
    pub fn input(index: usize, error: &InputError) -> NodeError {
        NodeError::new(ErrorKind::Input, error.to_string()).about_item(index, ", ")
    }

    /// Names item `index` at the start of the message, joined by `sep`.
    pub fn about_item(mut self, index: usize, sep: &str) -> NodeError {
        self.message = format!("Item {index}{sep}{}", self.message);
        self
    }

    /// Prefixes the message with what the failed request was doing.
    pub fn api(context: &str, error: &ApiError) -> NodeError {
        let message = if context.is_empty() {
            error.to_string()
        } else {
            format!("{context}: {error}")
        };
        NodeError {
            kind: ErrorKind::Api,
            message,
            description: error.description(),
            http_code: error.http_code(),
            written: Vec::new(),
            item_index: None,
            unsure: error.kind == ApiErrorKind::MaybeApplied,
        }
    }
}

impl From<AddressError> for NodeError {
    fn from(e: AddressError) -> NodeError {
        NodeError::new(ErrorKind::Address, format!("Credential account address: {e}"))
    }
}
