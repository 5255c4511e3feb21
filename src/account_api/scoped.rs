//! Items of one operation that address different collections (the statuses
//! of two pipelines, the custom fields of leads and of contacts): each
//! collection gets its own inner operation, and the driver's tags find their
//! way back to it.

use std::collections::HashMap;

use serde_json::Value;

use crate::engine::{live_items, Io, Operation, Reply, Tag};
use crate::error::NodeError;
use crate::input::{InputError, Params};

/// Most collections one run addresses: batch writers are told apart by a
/// byte.
pub const MAX_SCOPES: usize = 256;

type KeyOf = Box<dyn Fn(Params) -> Result<String, InputError>>;
type Make = Box<dyn Fn(&str, u8) -> Box<dyn Operation>>;

pub struct Scoped {
    key_of: KeyOf,
    make: Make,
    scopes: Vec<(String, Box<dyn Operation>)>,
    item_scope: HashMap<usize, usize>,
}

impl Scoped {
    /// `key_of` names an item's collection; `make(key, writer)` builds the
    /// operation for a new one, numbering its batch writer `writer`.
    pub fn new(
        key_of: impl Fn(Params) -> Result<String, InputError> + 'static,
        make: impl Fn(&str, u8) -> Box<dyn Operation> + 'static,
    ) -> Scoped {
        Scoped {
            key_of: Box::new(key_of),
            make: Box::new(make),
            scopes: Vec::new(),
            item_scope: HashMap::new(),
        }
    }

    fn scope_of_tag(&self, tag: Tag) -> Option<usize> {
        match tag {
            Tag::Item(i) | Tag::Page { item: i, .. } => self.item_scope.get(&i).copied(),
            Tag::Batch { writer, .. } | Tag::Current { writer, .. } | Tag::ReadBack { writer, .. } => {
                Some(writer as usize)
            }
            _ => None,
        }
    }
}

impl Operation for Scoped {
    fn on_items(&mut self, first: usize, items: Vec<Value>, last: bool, io: &mut Io) {
        let mut per_scope: Vec<Vec<Value>> = vec![vec![Value::Null; items.len()]; self.scopes.len()];
        for (index, item) in live_items(first, &items) {
            let key = match (self.key_of)(Params::new(item)) {
                Ok(k) => k,
                Err(e) => {
                    io.fail(index, NodeError::input(index, &e));
                    continue;
                }
            };
            let scope = match self.scopes.iter().position(|(k, _)| *k == key) {
                Some(s) => s,
                None if self.scopes.len() < MAX_SCOPES => {
                    let op = (self.make)(&key, self.scopes.len() as u8);
                    self.scopes.push((key, op));
                    per_scope.push(vec![Value::Null; items.len()]);
                    self.scopes.len() - 1
                }
                None => {
                    io.fail(
                        index,
                        NodeError::input(
                            index,
                            &InputError::new(
                                "Input Item",
                                format!(
                                    "one run addresses at most {MAX_SCOPES} different collections; split the input"
                                ),
                            ),
                        ),
                    );
                    continue;
                }
            };
            self.item_scope.insert(index, scope);
            per_scope[scope][index - first] = item.clone();
        }
        // Every scope hears of every chunk, so that each knows when the input ends.
        for ((_, op), items) in self.scopes.iter_mut().zip(per_scope) {
            op.on_items(first, items, last, io);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        if let Some(scope) = self.scope_of_tag(tag) {
            if let Some((_, op)) = self.scopes.get_mut(scope) {
                op.on_reply(tag, reply, io);
            }
        }
    }
}
