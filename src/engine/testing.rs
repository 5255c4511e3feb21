//! Test support: a driver run with its own process state and clock, so that
//! a test sets up only the operation it is about.

use serde_json::Value;

use crate::engine::driver::{Driver, Env};
use crate::engine::Step;
use crate::http::{Outcome, Response, TransportFailure};
use crate::metadata::MetadataCache;

pub struct Run {
    pub driver: Driver,
    pub metadata: MetadataCache,
    pub now_ms: f64,
}

impl Run {
    pub fn new(driver: Driver) -> Run {
        Run {
            driver,
            metadata: MetadataCache::default(),
            now_ms: 0.0,
        }
    }

    /// Hands over the whole input at once.
    pub fn start(&mut self, items: Vec<Value>) -> Step {
        self.feed(0, items, true)
    }

    pub fn feed(&mut self, first: usize, items: Vec<Value>, last: bool) -> Step {
        let env = Env {
            now_ms: self.now_ms,
            metadata: &mut self.metadata,
            scope: "",
        };
        self.driver.feed(first, items, last, env)
    }

    pub fn outcome(&mut self, id: u32, outcome: Outcome) -> Step {
        let env = Env {
            now_ms: self.now_ms,
            metadata: &mut self.metadata,
            scope: "",
        };
        self.driver.on_outcome(id, outcome, env)
    }

    pub fn reply(&mut self, id: u32, response: Response) -> Step {
        self.outcome(id, Outcome::Response(response))
    }

    pub fn status(&mut self, id: u32, status: u16, body: &str) -> Step {
        self.reply(id, Response::new(status, body))
    }

    pub fn transport(&mut self, id: u32, code: &str, message: &str) -> Step {
        self.outcome(id, Outcome::Transport(TransportFailure::new(code, message)))
    }
}
