//! Naming a record: by ID, or by the URL of its card as the browser shows it
//! (`https://example.amocrm.ru/leads/detail/12345`), possibly wrapped in n8n's
//! resource-locator value `{"__rl": true, "mode": "url", "value": "…"}`.

use std::num::NonZeroU64;

use serde_json::Value;
use url::Url;

use crate::account::AccountAddress;
use crate::entity::Entity;
use crate::input::{describe, parse_id, shorten, InputError};

/// The ID of an amoCRM record: a positive whole number within JavaScript's
/// safe range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(NonZeroU64);

impl RecordId {
    pub fn get(self) -> u64 {
        self.0.get()
    }

    pub fn new(id: u64) -> Option<RecordId> {
        NonZeroU64::new(id).map(RecordId)
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn record_id(value: &Value, label: &str, entity: &Entity) -> Result<RecordId, InputError> {
    parse_id(value, label, &format!("a {}", entity.noun)).map(RecordId)
}

/// Reads a record reference in any of the forms n8n may hand over.
pub fn parse_ref(
    value: &Value,
    account: &AccountAddress,
    entity: &Entity,
    label: &str,
) -> Result<RecordId, InputError> {
    if let Some(obj) = value
        .as_object()
        .filter(|o| o.contains_key("__rl") || o.contains_key("mode"))
    {
        let inner = obj.get("value").unwrap_or(&Value::Null);
        return match obj.get("mode").and_then(Value::as_str) {
            Some("url") => from_url(inner, account, entity, label),
            _ => from_text_or_id(inner, account, entity, label),
        };
    }
    from_text_or_id(value, account, entity, label)
}

fn from_text_or_id(
    value: &Value,
    account: &AccountAddress,
    entity: &Entity,
    label: &str,
) -> Result<RecordId, InputError> {
    match value {
        Value::String(s) if s.contains("://") => from_url(value, account, entity, label),
        Value::String(s) if s.trim().is_empty() => Err(InputError::new(
            label,
            format!("is empty; enter a {} ID such as 12345", entity.noun),
        )),
        _ => record_id(value, label, entity),
    }
}

fn from_url(value: &Value, account: &AccountAddress, entity: &Entity, label: &str) -> Result<RecordId, InputError> {
    let noun = entity.noun;
    let Some(text) = value.as_str() else {
        return Err(InputError::new(
            label,
            format!("expected a {noun} URL, got {}", describe(value)),
        ));
    };
    let Some(card) = entity.card else {
        return Err(InputError::new(label, format!("a {noun} has no card URL; give its ID")));
    };
    let expected = format!("{}{card}12345", account.origin());
    let not_a_card = || {
        InputError::new(
            label,
            format!(
                "\"{}\" is not a {noun} URL; expected one like {expected}",
                shorten(text)
            ),
        )
    };
    let url = Url::parse(text.trim()).map_err(|_| not_a_card())?;
    if !account.owns_url(url.as_str()) {
        return Err(InputError::new(
            label,
            format!(
                "the URL belongs to {}, but the credential is for {}; open the {noun} in this account or use its ID",
                url.host_str().unwrap_or("another site"),
                account.host()
            ),
        ));
    }
    let wanted: Vec<&str> = card.split('/').filter(|s| !s.is_empty()).collect();
    let got: Vec<&str> = url
        .path_segments()
        .ok_or_else(not_a_card)?
        .filter(|s| !s.is_empty())
        .collect();
    match got.split_last() {
        Some((id, prefix)) if prefix == wanted.as_slice() => record_id(&Value::String(id.to_string()), label, entity),
        _ => Err(not_a_card()),
    }
}

/// The URL of a record's card, when the entity has cards.
pub fn card_url(account: &AccountAddress, entity: &Entity, id: u64) -> Option<String> {
    entity.card.map(|card| account.url(&format!("{card}{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::lead::LEADS;
    use serde_json::json;

    fn account() -> AccountAddress {
        AccountAddress::parse("example", Zone::AmocrmRu).unwrap()
    }

    #[test]
    fn reads_ids_locators_and_card_urls() {
        let a = account();
        for v in [
            json!(12345),
            json!("12345"),
            json!({"__rl": true, "mode": "id", "value": "12345"}),
            json!({"__rl": true, "mode": "list", "value": "12345", "cachedResultName": "Deal"}),
            json!({"__rl": true, "mode": "url", "value": "https://example.amocrm.ru/leads/detail/12345"}),
            json!({"__rl": true, "mode": "url", "value": "https://example.amocrm.ru/leads/detail/12345/?tab=notes#x"}),
            json!("https://example.amocrm.ru/leads/detail/12345"),
        ] {
            assert_eq!(parse_ref(&v, &a, &LEADS, "Lead").unwrap().get(), 12345, "{v}");
        }
    }

    #[test]
    fn refuses_urls_of_other_accounts_and_other_pages() {
        let a = account();
        let other = parse_ref(
            &json!({"mode": "url", "value": "https://other.amocrm.ru/leads/detail/1"}),
            &a,
            &LEADS,
            "Lead",
        )
        .unwrap_err();
        assert!(
            other.problem.contains("other.amocrm.ru") && other.problem.contains("example.amocrm.ru"),
            "{other}"
        );
        for bad in [
            "https://example.amocrm.ru/contacts/detail/1",
            "https://example.amocrm.ru/leads/detail/abc",
            "https://example.amocrm.ru/leads/detail/1/2",
            "not a url",
        ] {
            assert!(
                parse_ref(&json!({"mode": "url", "value": bad}), &a, &LEADS, "Lead").is_err(),
                "{bad}"
            );
        }
        let empty = parse_ref(&json!({"mode": "id", "value": ""}), &a, &LEADS, "Lead").unwrap_err();
        assert!(empty.problem.contains("empty"));
    }
}
