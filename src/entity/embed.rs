//! The `with=` values of reads: related data amoCRM embeds in a record.

use crate::entity::Entity;
use crate::input::InputError;

/// Checks the chosen `with` values against what the entity accepts, refusing
/// list-only values (such as leads' `only_deleted`) for a single record.
/// Duplicates collapse; the order of the first mention is kept.
pub fn parse_with<'a>(
    entity: &Entity,
    names: &[&'a str],
    label: &str,
    for_list: bool,
) -> Result<Vec<&'a str>, InputError> {
    let mut out: Vec<&str> = Vec::new();
    for &name in names {
        let single = entity.with.contains(&name);
        let list_only = entity.with_list_only.contains(&name);
        if !single && !list_only {
            let mut known: Vec<&str> = entity.with.to_vec();
            if for_list {
                known.extend(entity.with_list_only);
            }
            return Err(InputError::new(
                label,
                format!(
                    "\"{name}\" is not something amoCRM embeds in {}; use one of {}",
                    entity.nouns,
                    known.join(", ")
                ),
            ));
        }
        if list_only && !for_list {
            return Err(InputError::new(
                label,
                format!(
                    "\"{name}\" applies to lists of {}, not to a single {}",
                    entity.nouns, entity.noun
                ),
            ));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::LEADS;

    #[test]
    fn parses_known_embeds_and_refuses_others() {
        let e = parse_with(&LEADS, &["contacts", "source_id", "contacts"], "With", false).unwrap();
        assert_eq!(e.join(","), "contacts,source_id");
        let err = parse_with(&LEADS, &["companies"], "With", false).unwrap_err();
        assert!(err.problem.contains("\"companies\""), "{err}");
        assert!(parse_with(&LEADS, &["only_deleted"], "With", false).is_err());
        assert!(parse_with(&LEADS, &["only_deleted"], "With", true).is_ok());
    }
}
