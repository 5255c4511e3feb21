//! Subscription operations fed arbitrary parameters and arbitrary answers
//! from amoCRM (any status, any body): they must finish with one item or one
//! error, never panic, never loop.
#![no_main]

use amocrm_core::account::{AccountAddress, Zone};
use amocrm_core::engine::driver::Env;
use amocrm_core::engine::Driver;
use amocrm_core::http::{Outcome, Response};
use amocrm_core::metadata::MetadataCache;
use amocrm_core::webhook::operation;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    op: u8,
    destination: String,
    events: Vec<String>,
    statuses: Vec<u16>,
    body: String,
}

fuzz_target!(|input: Input| {
    let name = ["checkExists", "subscribe", "unsubscribe"][input.op as usize % 3];
    let account = AccountAddress::parse("shop", Zone::AmocrmRu).expect("a valid account");
    let params = serde_json::json!({ "destination": input.destination, "events": input.events });
    let op = operation(name, account).expect("a known operation");
    let mut driver = Driver::new(op);
    let mut metadata = MetadataCache::default();
    let mut step = driver.start(vec![params], true, Env { now_ms: 0.0, metadata: &mut metadata, scope: "" });
    let mut statuses = input.statuses.iter().copied().chain(std::iter::repeat(200));
    let mut rounds = 0;
    while !step.done {
        rounds += 1;
        assert!(rounds < 50, "the operation keeps asking");
        let request = step.requests.first().expect("a pending step has a request").clone();
        let status = statuses.next().unwrap_or(200) % 600;
        step = driver.on_outcome(request.id, Outcome::Response(Response::new(status, input.body.clone())), Env { now_ms: 0.0, metadata: &mut metadata, scope: "" });
    }
    assert_eq!(step.emit.len(), 1, "{:?}", step.emit);
});
