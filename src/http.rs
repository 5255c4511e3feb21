//! Plain values describing HTTP exchanges: what the shell must send, and what
//! came back. The core never opens a socket; these cross the boundary as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PATCH" => Some(Method::Patch),
            "PUT" => Some(Method::Put),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A request for the shell to send, exactly as described: the URL already
/// carries its query string (amoCRM's bracket syntax is encoded here, not by
/// the shell's HTTP library), and the body is already serialised JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: Method,
    /// Send through n8n's own 401 handling, which renews an OAuth access token
    /// and resends once; set only on the re-authentication probe.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reauthenticate: bool,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// The body is bytes of an input item's binary data rather than `body`
    /// (a part of a file upload): the shell reads them, the core chose them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary_body: Option<BinarySlice>,
    /// The response body is a file: the shell keeps its bytes under this key
    /// (for the item the core emits with [`BINARY_KEY`]) and hands the core
    /// only the status and headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_body: Option<String>,
}

/// Bytes `start..end` of the binary property `property` of input item
/// `index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinarySlice {
    pub index: usize,
    pub property: String,
    pub start: u64,
    pub end: u64,
}

/// The key of an emitted item's JSON naming a kept response body (see
/// [`Request::keep_body`]): `{"key", "property", "fileName", "mimeType"}`.
/// The shell turns it into the item's binary data and removes it.
pub const BINARY_KEY: &str = "$binary";

impl Request {
    pub fn new(method: Method, url: String) -> Request {
        let mut headers = BTreeMap::new();
        headers.insert(
            "accept".to_string(),
            "application/json, application/hal+json, application/problem+json".to_string(),
        );
        Request {
            method,
            reauthenticate: false,
            url,
            body: None,
            headers,
            binary_body: None,
            keep_body: None,
        }
    }

    pub fn get(url: String) -> Request {
        Request::new(Method::Get, url)
    }

    /// Attaches a JSON body.
    pub fn json(mut self, body: &serde_json::Value) -> Request {
        self.headers
            .insert("content-type".to_string(), "application/json".to_string());
        self.body = Some(body.to_string());
        self
    }
}

/// What came back for a request: a response with any status, or a failure to
/// get one (connection refused or dropped, timeout).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(Response),
    Transport(TransportFailure),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
}

impl Response {
    pub fn new(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: BTreeMap::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.insert(name.to_ascii_lowercase(), value.to_string());
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn is_html(&self) -> bool {
        self.header("content-type").is_some_and(|c| c.contains("text/html")) || self.body.trim_start().starts_with('<')
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportFailure {
    /// Node's error code (`ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, ...), if any.
    #[serde(default)]
    pub code: String,
    /// The error's message, for re-authentication failures: it is the text of
    /// the credential's own token error.
    #[serde(default)]
    pub message: String,
}

impl TransportFailure {
    pub fn new(code: &str, message: &str) -> TransportFailure {
        TransportFailure {
            code: code.to_string(),
            message: message.to_string(),
        }
    }
}

impl TransportFailure {
    /// Failures that happen before any byte of the request left this machine,
    /// so even a create is safe to send again.
    pub fn request_never_sent(&self) -> bool {
        matches!(self.code.as_str(), "ECONNREFUSED" | "ENOTFOUND" | "EAI_AGAIN")
    }
}
