//! A short-lived, per-process memory of account metadata (custom field
//! definitions, pipelines…) so that an execution does not fetch them again
//! for every node. Time is handed in.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

/// How long fetched metadata is reused. Long enough to spare a burst of
/// executions the extra request, short enough that a field added in amoCRM
/// shows up within a minute.
pub const CATALOG_TTL_MS: f64 = 60_000.0;

/// Distinct entries kept (accounts × kinds); the oldest go first.
pub const MAX_ENTRIES: usize = 256;

thread_local! {
    static ENTRIES: RefCell<HashMap<String, (f64, Vec<Value>)>> = RefCell::new(HashMap::new());
}

fn key(origin: &str, kind: &str) -> String {
    format!("{origin}\n{kind}")
}

/// The pages stored for `kind` of the account at `origin`, if still fresh.
pub fn get(origin: &str, kind: &str, now_ms: f64) -> Option<Vec<Value>> {
    ENTRIES.with(|e| {
        let entries = e.borrow();
        let (at, pages) = entries.get(&key(origin, kind))?;
        (now_ms - at < CATALOG_TTL_MS && now_ms >= *at).then(|| pages.clone())
    })
}

pub fn put(origin: &str, kind: &str, pages: Vec<Value>, now_ms: f64) {
    ENTRIES.with(|e| {
        let mut entries = e.borrow_mut();
        if entries.len() >= MAX_ENTRIES {
            if let Some(oldest) = entries
                .iter()
                .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key(origin, kind), (now_ms, pages));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_expire_after_the_ttl() {
        put("https://a.amocrm.ru", "fields", vec![json!(1)], 1_000.0);
        assert_eq!(
            get("https://a.amocrm.ru", "fields", 1_000.0 + CATALOG_TTL_MS - 1.0),
            Some(vec![json!(1)])
        );
        assert_eq!(get("https://a.amocrm.ru", "fields", 1_000.0 + CATALOG_TTL_MS), None);
        assert_eq!(get("https://b.amocrm.ru", "fields", 1_000.0), None);
    }
}
