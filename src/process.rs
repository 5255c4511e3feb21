//! Everything the core keeps between calls in one n8n process, as one value:
//! the accounts' request budgets, the OAuth token broker's rotation memory,
//! and the short-lived account metadata. The WebAssembly boundary owns the
//! process's instance and hands it to each call; a test builds its own.

use crate::metadata::MetadataCache;
use crate::ratelimit::RateLimiter;
use crate::token::TokenBroker;

#[derive(Debug, Default)]
pub struct Process {
    pub limiter: RateLimiter,
    pub broker: TokenBroker,
    pub metadata: MetadataCache,
}
