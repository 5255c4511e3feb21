//! Names that match when they differ only in case and spacing: "ООО  Ромашка "
//! and "ооо ромашка" are one company.

/// Lower-cased, with runs of white space folded to one space and the ends
/// trimmed; `None` for a name with no letters or digits.
pub fn name_key(text: &str) -> Option<String> {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    folded.chars().any(char::is_alphanumeric).then_some(folded)
}

/// A custom field value compared the same way (a tax number, say).
pub fn value_key(text: &str) -> Option<String> {
    name_key(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_spacing_do_not_matter() {
        assert_eq!(name_key("  ООО   Ромашка "), name_key("ооо ромашка"));
        assert_eq!(name_key("Acme\tInc").as_deref(), Some("acme inc"));
        assert_eq!(name_key(" -- "), None);
        assert_ne!(name_key("Acme"), name_key("Acme Inc"));
    }
}
