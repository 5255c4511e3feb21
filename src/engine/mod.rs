//! The state machine every node operation runs in.
//!
//! An [`Operation`] knows one amoCRM task (fetch these records, create those
//! in batches, follow the pages); the [`Driver`] around it owns what is common
//! to all of them: numbering requests, how many are in flight, what to do with
//! rate limits, server errors and expired tokens, and when to stop. The
//! shell's loop is the same few lines for every operation:
//!
//! ```text
//! step = driver.start(items)
//! loop { emit step.emit; send step.requests; if step.done break;
//!        step = driver.on_outcome(id, outcome of one request)
//!        (or driver.feed(more items)) }
//! ```
//!
//! * [`step`]: the wire format of a step (what the shell sends and emits).
//! * [`driver`]: the driver.
//! * [`retry`]: which failures are retried, after how long.
//! * [`reauth`]: renewing an expired OAuth token once for all requests.

pub mod driver;
pub mod reauth;
pub mod retry;
pub mod step;
#[cfg(test)]
pub mod testing;

use serde_json::Value;

use crate::api_error::ApiError;
use crate::error::NodeError;
use crate::http::{Request, Response};
use crate::input::{InputError, Params};
use crate::metadata::MetadataCache;

pub use driver::Driver;
pub use retry::Replay;
pub use step::{Emit, Outgoing, RawJson, Step};

/// A 2xx response (204 included), or the error it became.
pub type Reply = Result<Response, ApiError>;

/// What a request is for, so that its reply finds its way back. Each
/// operation uses the variants it needs; the driver only carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    /// The one request of input item `n`.
    Item(usize),
    /// Page `page` (from 1) of the list asked for by input item `item`.
    Page { item: usize, page: u32 },
    /// Batch `n` of a batched write. `writer` tells apart the writers of an
    /// operation that has several (Find or Create creates and updates).
    Batch { writer: u8, n: u32 },
    /// The read, before batch `n` is built, of the records it changes.
    Current { writer: u8, n: u32 },
    /// The read, after batch `n` was written, of the records it wrote.
    ReadBack { writer: u8, n: u32 },
    /// Page `page` of the account's custom field definitions.
    Fields { page: u32 },
    /// Page `page` of search `n` of an operation that looks records up.
    Search { n: u32, page: u32 },
    /// The account's own settings (its time zone, say).
    Account,
    /// The read of what an operation's items are checked against before
    /// any of them is sent (the account's pipelines, say).
    Prefetch,
}

/// What the operation may know about the run it is part of.
pub struct Context<'a> {
    /// The shell's clock (milliseconds since the epoch), for caches.
    pub now_ms: f64,
    /// Whether the node keeps going after an item fails. When it does not,
    /// the driver stops sending at the first item error, and operations
    /// word their messages for that.
    pub continue_on_fail: bool,
    /// Account metadata shared by the executions of the process.
    pub metadata: &'a mut MetadataCache,
    /// The credential the metadata belongs to, beside the account.
    pub scope: &'a str,
}

/// What an operation asks for while handling items or a reply.
pub struct Io<'a> {
    pub(crate) calls: Vec<(Tag, Request, Replay)>,
    pub(crate) emits: Vec<Emit>,
    pub(crate) written: Vec<(usize, u64)>,
    pub ctx: Context<'a>,
}

impl<'a> Io<'a> {
    pub fn new(ctx: Context<'a>) -> Io<'a> {
        Io {
            calls: Vec::new(),
            emits: Vec::new(),
            written: Vec::new(),
            ctx,
        }
    }

    /// Sends `request`; its reply comes back to the operation with `tag`.
    pub fn send(&mut self, tag: Tag, request: Request, replay: Replay) {
        self.calls.push((tag, request, replay));
    }

    pub fn emit(&mut self, index: usize, json: Value) {
        self.emits.push(Emit::Item { index, json });
    }

    pub fn emit_raw(&mut self, index: usize, json: RawJson) {
        self.emits.push(Emit::Raw { index, json });
    }

    pub fn fail(&mut self, index: usize, error: NodeError) {
        self.emits.push(Emit::Error { index, error });
    }

    /// Item `index` created or changed the record `id` in amoCRM. A node that
    /// stops on an error names these, so that no write goes unreported.
    pub fn written(&mut self, index: usize, id: u64) {
        self.written.push((index, id));
    }

    pub fn now_ms(&self) -> f64 {
        self.ctx.now_ms
    }

    /// The metadata-cache key of an account as this call's credential sees
    /// it: two credentials on one origin (say, two integrations with
    /// different scopes) never share what they read.
    pub fn cache_key(&self, account: &crate::account::AccountAddress) -> String {
        format!("{} {}", account.origin(), self.ctx.scope)
    }

    pub fn continue_on_fail(&self) -> bool {
        self.ctx.continue_on_fail
    }
}

pub trait Operation {
    /// Input items `first`, `first + 1`, …: each item's parameters as JSON,
    /// `null` for an item the shell already failed. `last` says that no more
    /// will come. Large inputs arrive in several chunks, so that requests go
    /// out while n8n still reads the parameters of later items.
    fn on_items(&mut self, first: usize, items: Vec<Value>, last: bool, io: &mut Io);

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io);
}

/// Calls `each(index, params)` for every item of a chunk the shell did not
/// already fail.
pub fn live_items(first: usize, items: &[Value]) -> impl Iterator<Item = (usize, &Value)> {
    items
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .map(move |(k, v)| (first + k, v))
}

/// One request per item: every item of the chunk is checked first, so that
/// a bad parameter fails its item before anything is sent, then each good
/// item's request goes out tagged [`Tag::Item`] with its index. `build`
/// returns what the reply will need beside the request; the pairs come back
/// for the caller to keep.
pub fn send_per_item<T>(
    first: usize,
    items: &[Value],
    io: &mut Io,
    mut build: impl FnMut(Params) -> Result<(T, Request), InputError>,
) -> Vec<(usize, T)> {
    let mut requests = Vec::new();
    let mut kept = Vec::new();
    for (index, item) in live_items(first, items) {
        match build(Params::new(item)) {
            Ok((state, request)) => {
                kept.push((index, state));
                requests.push((index, request));
            }
            Err(e) => io.fail(index, NodeError::input(index, &e)),
        }
    }
    for (index, request) in requests {
        io.send(Tag::Item(index), request, Replay::Safe);
    }
    kept
}
