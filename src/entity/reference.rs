//! Naming a lead: by ID, or by the URL of its card as the browser shows it
//! (`https://example.amocrm.ru/leads/detail/12345`), possibly wrapped in n8n's
//! resource-locator value `{"__rl": true, "mode": "url", "value": "…"}`.

use std::num::NonZeroU64;

use serde_json::Value;
use url::Url;

use crate::account::AccountAddress;
use crate::input::{describe, parse_id, shorten, InputError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeadId(NonZeroU64);

impl LeadId {
    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl std::fmt::Display for LeadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

pub fn lead_id(value: &Value, label: &str) -> Result<LeadId, InputError> {
    parse_id(value, label, "a lead").map(LeadId)
}

/// Reads a lead reference in any of the forms n8n may hand over.
pub fn parse_lead_ref(value: &Value, account: &AccountAddress, label: &str) -> Result<LeadId, InputError> {
    if let Some(obj) = value
        .as_object()
        .filter(|o| o.contains_key("__rl") || o.contains_key("mode"))
    {
        let inner = obj.get("value").unwrap_or(&Value::Null);
        return match obj.get("mode").and_then(Value::as_str) {
            Some("url") => lead_from_url(inner, account, label),
            _ => from_text_or_id(inner, account, label),
        };
    }
    from_text_or_id(value, account, label)
}

fn from_text_or_id(value: &Value, account: &AccountAddress, label: &str) -> Result<LeadId, InputError> {
    match value {
        Value::String(s) if s.contains("://") => lead_from_url(value, account, label),
        Value::String(s) if s.trim().is_empty() => {
            Err(InputError::new(label, "is empty; enter a lead ID such as 12345"))
        }
        _ => lead_id(value, label),
    }
}

fn lead_from_url(value: &Value, account: &AccountAddress, label: &str) -> Result<LeadId, InputError> {
    let Some(text) = value.as_str() else {
        return Err(InputError::new(
            label,
            format!("expected a lead URL, got {}", describe(value)),
        ));
    };
    let expected = format!("{}/leads/detail/12345", account.origin());
    let not_a_lead = || {
        InputError::new(
            label,
            format!("\"{}\" is not a lead URL; expected one like {expected}", shorten(text)),
        )
    };
    let url = Url::parse(text.trim()).map_err(|_| not_a_lead())?;
    if !account.owns_url(url.as_str()) {
        return Err(InputError::new(
            label,
            format!(
                "the URL belongs to {}, but the credential is for {}; open the lead in this account or use its ID",
                url.host_str().unwrap_or("another site"),
                account.host()
            ),
        ));
    }
    let mut segments = url.path_segments().ok_or_else(not_a_lead)?.filter(|s| !s.is_empty());
    match (segments.next(), segments.next(), segments.next(), segments.next()) {
        (Some("leads"), Some("detail"), Some(id), None) => lead_id(&Value::String(id.to_string()), label),
        _ => Err(not_a_lead()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
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
            assert_eq!(parse_lead_ref(&v, &a, "Lead").unwrap().get(), 12345, "{v}");
        }
    }

    #[test]
    fn refuses_urls_of_other_accounts_and_other_pages() {
        let a = account();
        let other = parse_lead_ref(
            &json!({"mode": "url", "value": "https://other.amocrm.ru/leads/detail/1"}),
            &a,
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
                parse_lead_ref(&json!({"mode": "url", "value": bad}), &a, "Lead").is_err(),
                "{bad}"
            );
        }
        let empty = parse_lead_ref(&json!({"mode": "id", "value": ""}), &a, "Lead").unwrap_err();
        assert!(empty.problem.contains("empty"));
    }
}
