//! The one error shape that crosses the boundary, for one item or for the whole
//! node call. The shell turns `Api` errors into n8n's `NodeApiError` (with the
//! HTTP code) and the others into `NodeOperationError`.

use serde::Serialize;

use crate::account::AddressError;
use crate::api_error::ApiError;
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

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_code: Option<u16>,
    /// The item the message is about and how it joins the message ("Item 3,
    /// field …", "Item 3: amoCRM rejected …"). Numbered when the step is
    /// written, so that a call handed items 1000 to 1999 names them as such.
    #[serde(skip)]
    pub item: Option<(usize, &'static str)>,
}

impl NodeError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> NodeError {
        NodeError {
            kind,
            message: message.into(),
            description: None,
            http_code: None,
            item: None,
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
    pub fn about_item(mut self, index: usize, sep: &'static str) -> NodeError {
        self.item = Some((index, sep));
        self
    }

    /// The message with its item named, items counted from `first`.
    pub fn numbered(mut self, first: usize) -> NodeError {
        if let Some((index, sep)) = self.item.take() {
            self.message = format!("Item {}{sep}{}", first + index, self.message);
        }
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
            item: None,
        }
    }
}

impl From<AddressError> for NodeError {
    fn from(e: AddressError) -> NodeError {
        NodeError::new(ErrorKind::Address, format!("Credential account address: {e}"))
    }
}
