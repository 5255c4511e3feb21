//! A short-lived memory of account metadata (custom field definitions…), so
//! that executions running close together do not fetch it again for every
//! node. It is part of the process's state ([`crate::process::Process`]) and
//! handed to each call; time is handed in.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

/// How long fetched metadata is reused. Long enough to spare a burst of
/// executions the extra request, short enough that a field added in amoCRM
/// shows up within a minute.
pub const METADATA_TTL_MS: f64 = 60_000.0;

/// Distinct entries kept (accounts × kinds); the oldest go first.
pub const MAX_ENTRIES: usize = 256;

/// The pages of one kind of metadata, shared without copying.
pub type Pages = Rc<Vec<Value>>;

#[derive(Debug, Default)]
pub struct MetadataCache {
    entries: HashMap<String, (f64, Pages)>,
}

fn key(origin: &str, kind: &str) -> String {
    format!("{origin}\n{kind}")
}

impl MetadataCache {
    /// The pages stored for `kind` of the account at `origin`, if still fresh.
    pub fn get(&self, origin: &str, kind: &str, now_ms: f64) -> Option<Pages> {
        let (at, pages) = self.entries.get(&key(origin, kind))?;
        (now_ms - at < METADATA_TTL_MS && now_ms >= *at).then(|| pages.clone())
    }

    /// Stores the complete pages of `kind`. Only a complete set may be
    /// stored: a truncated one would be served as the whole for a minute.
    pub fn put(&mut self, origin: &str, kind: &str, pages: Pages, now_ms: f64) {
        if self.entries.len() >= MAX_ENTRIES {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key(origin, kind), (now_ms, pages));
    }

    /// Forgets `kind` of the account (after a write that changed it).
    pub fn forget(&mut self, origin: &str, kind: &str) {
        self.entries.remove(&key(origin, kind));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_expire_after_the_ttl() {
        let mut cache = MetadataCache::default();
        cache.put("https://a.amocrm.ru", "fields", Rc::new(vec![json!(1)]), 1_000.0);
        assert_eq!(
            cache
                .get("https://a.amocrm.ru", "fields", 1_000.0 + METADATA_TTL_MS - 1.0)
                .as_deref(),
            Some(&vec![json!(1)])
        );
        assert!(cache
            .get("https://a.amocrm.ru", "fields", 1_000.0 + METADATA_TTL_MS)
            .is_none());
        assert!(cache.get("https://b.amocrm.ru", "fields", 1_000.0).is_none());
        cache.forget("https://a.amocrm.ru", "fields");
        assert!(cache.get("https://a.amocrm.ru", "fields", 1_000.0).is_none());
    }
}
