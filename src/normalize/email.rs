//! E-mail addresses: trimmed and lower-cased. Mailbox names are
//! case-sensitive by the letter of RFC 5321, but no provider a CRM meets
//! treats them so, and amoCRM's own duplicate control compares them without
//! case.

/// The key of an address, or `None` when it is not one (no `@`, or spaces
/// inside).
pub fn email_key(text: &str) -> Option<String> {
    let t = text.trim().trim_matches(|c| c == '<' || c == '>').trim();
    let (local, domain) = t.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || t.chars().any(char::is_whitespace) || !domain.contains('.') {
        return None;
    }
    Some(t.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            email_key("  Ivan.Petrov@Example.COM ").as_deref(),
            Some("ivan.petrov@example.com")
        );
        assert_eq!(email_key("<a@b.ru>").as_deref(), Some("a@b.ru"));
        for bad in ["", "ivan", "@b.ru", "a@", "a b@c.ru", "a@localhost"] {
            assert_eq!(email_key(bad), None, "{bad}");
        }
    }
}
