//! Sans-IO core of the n8n amoCRM/Kommo nodes.
//!
//! Everything that needs knowledge of amoCRM lives here: which hosts an account
//! may live on, how requests are spelled (paths, bracket query strings, bodies,
//! batches), how answers are read (HAL pages, 204 "nothing", problem+json
//! errors), how OAuth tokens are requested and when they expire, and how
//! webhook bodies decode. None of it performs I/O or reads a clock: callers hand
//! in parameters, responses and the current time, and get back requests to send,
//! items to emit and errors to raise. The n8n shell in `n8n-node/` performs the
//! HTTP calls through n8n's helpers and is a few lines per operation.
//!
//! The WebAssembly boundary is [`wasm`]; every other module is plain Rust,
//! tested natively with `cargo test`.

pub mod account;
#[cfg(feature = "account-node")]
pub mod account_api;
pub mod api_error;
pub mod call;
#[cfg(feature = "catalog")]
pub mod catalog;
#[cfg(feature = "company")]
pub mod company;
#[cfg(feature = "contact")]
pub mod contact;
pub mod custom;
#[cfg(feature = "customer")]
pub mod customer;
pub mod engine;
pub mod entity;
pub mod error;
pub mod event;
pub mod http;
pub mod input;
pub mod lead;
pub mod lookups;
pub mod metadata;
pub mod normalize;
pub mod process;
pub mod query;
pub mod ratelimit;
#[cfg(feature = "task")]
pub mod task;
pub mod time;
pub mod token;
#[cfg(feature = "unsorted")]
pub mod unsorted;
pub mod wasm;
pub mod webhook;
