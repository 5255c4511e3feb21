//! The wire format of a step: what the driver hands the shell after each
//! event (requests to send, items to emit, whether the call is done), and how
//! it is written as JSON.

use serde::Serialize;
use serde_json::Value;

use crate::error::NodeError;
use crate::http::Request;

#[derive(Debug, Clone, PartialEq)]
pub enum Emit {
    Item {
        index: usize,
        json: Value,
    },
    /// An item already in JSON text (a record passed through as amoCRM sent
    /// it, or shaped without building a `Value`): spliced into the step as is.
    /// The shell sees it as an item like any other.
    Raw {
        index: usize,
        json: RawJson,
    },
    Error {
        index: usize,
        error: NodeError,
    },
}

impl Emit {
    fn size_hint(&self) -> usize {
        match self {
            Emit::Raw { json, .. } => json.get().len() + 40,
            _ => 256,
        }
    }

    pub fn index(&self) -> usize {
        match self {
            Emit::Item { index, .. } | Emit::Raw { index, .. } | Emit::Error { index, .. } => *index,
        }
    }

    /// The item's JSON as a `Value` (for tests and callers that inspect it).
    pub fn json(&self) -> Option<Value> {
        match self {
            Emit::Item { json, .. } => Some(json.clone()),
            Emit::Raw { json, .. } => serde_json::from_str(json.get()).ok(),
            Emit::Error { .. } => None,
        }
    }
}

/// Text known to be one JSON value, written into a step verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct RawJson(String);

impl RawJson {
    /// Checks that `text` is one JSON value.
    pub fn parse(text: String) -> Result<RawJson, serde_json::Error> {
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(RawJson(text))
    }

    /// Text that is JSON by construction: a slice serde_json already
    /// validated, or the output of a writer in this crate.
    pub(crate) fn trusted(text: String) -> RawJson {
        RawJson(text)
    }

    pub fn get(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub id: u32,
    /// Wait this long before sending (a back-off); the shared rate limiter may
    /// add more.
    pub delay_ms: u64,
    pub timeout_ms: u64,
    pub request: Request,
}

/// One flat object for the shell: `{id, delayMs, timeoutMs, method, url, …}`.
/// Written by hand because `#[serde(flatten)]` costs kilobytes of .wasm.
impl Serialize for Outgoing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = &self.request;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("delayMs", &self.delay_ms)?;
        map.serialize_entry("timeoutMs", &self.timeout_ms)?;
        map.serialize_entry("method", &r.method)?;
        map.serialize_entry("url", &r.url)?;
        if let Some(body) = &r.body {
            map.serialize_entry("body", body)?;
        }
        map.serialize_entry("headers", &r.headers)?;
        if r.reauthenticate {
            map.serialize_entry("reauthenticate", &true)?;
        }
        if let Some(slice) = &r.binary_body {
            map.serialize_entry("binaryBody", slice)?;
        }
        if let Some(key) = &r.keep_body {
            map.serialize_entry("keepBody", key)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Step {
    pub requests: Vec<Outgoing>,
    pub emit: Vec<Emit>,
    pub done: bool,
    /// A 429 arrived: the shell's rate limiter should slow down for the account.
    pub throttled: bool,
    /// The whole call failed: the input was refused before any item could be
    /// processed, or the node stops on an item's error (the error says what
    /// was written before it stopped).
    pub fatal: Option<NodeError>,
}

impl Step {
    /// The step as JSON for the shell: `{"requests", "emit", "done",
    /// "throttled"?, "fatal"?}`. Written by hand so that items already in JSON
    /// text are spliced in without being parsed and printed again.
    pub fn to_json(&self) -> String {
        // The step's plain parts, serialised with serde.
        fn text<T: Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
        }
        fn head(out: &mut String, kind: &str, index: usize, field: &str) {
            out.push_str("{\"type\":\"");
            out.push_str(kind);
            out.push_str("\",\"index\":");
            out.push_str(&index.to_string());
            out.push_str(",\"");
            out.push_str(field);
            out.push_str("\":");
        }
        let mut out = String::with_capacity(self.emit.iter().map(Emit::size_hint).sum::<usize>() + 256);
        out.push_str("{\"requests\":");
        out.push_str(&text(&self.requests));
        out.push_str(",\"emit\":[");
        for (i, emit) in self.emit.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match emit {
                Emit::Item { index, json } => {
                    head(&mut out, "item", *index, "json");
                    out.push_str(&text(json));
                }
                Emit::Raw { index, json } => {
                    head(&mut out, "item", *index, "json");
                    out.push_str(json.get());
                }
                Emit::Error { index, error } => {
                    head(&mut out, "error", *index, "error");
                    out.push_str(&text(error));
                }
            }
            out.push('}');
        }
        out.push_str("],\"done\":");
        out.push_str(if self.done { "true" } else { "false" });
        if self.throttled {
            out.push_str(",\"throttled\":true");
        }
        if let Some(fatal) = &self.fatal {
            out.push_str(",\"fatal\":");
            out.push_str(&text(fatal));
        }
        out.push('}');
        out
    }

    pub fn fatal(error: NodeError) -> Step {
        Step {
            done: true,
            fatal: Some(error),
            ..Step::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_are_json_with_raw_items_spliced_in() {
        let step = Step {
            requests: vec![],
            emit: vec![
                Emit::Raw {
                    index: 0,
                    json: RawJson::trusted(r#"{"id":1,"name":"Сделка"}"#.into()),
                },
                Emit::Item {
                    index: 1,
                    json: json!({"x": "a\"b"}),
                },
                Emit::Error {
                    index: 2,
                    error: NodeError::internal("bad"),
                },
            ],
            done: true,
            throttled: true,
            fatal: None,
        };
        let parsed: Value = serde_json::from_str(&step.to_json()).unwrap();
        assert_eq!(
            parsed,
            json!({"requests": [], "done": true, "throttled": true, "emit": [
                {"type": "item", "index": 0, "json": {"id": 1, "name": "Сделка"}},
                {"type": "item", "index": 1, "json": {"x": "a\"b"}},
                {"type": "error", "index": 2, "error": {"kind": "internal", "message": "bad"}}
            ]})
        );
        assert!(RawJson::parse("{not json".into()).is_err());
    }
}
