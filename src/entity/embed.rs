//! The `with=` embeds amoCRM offers for leads.

use crate::input::InputError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embed {
    Contacts,
    LossReason,
    CatalogElements,
    IsPriceModifiedByRobot,
    SourceId,
    /// Lists only: return deleted leads (mostly-null models) instead of live ones.
    OnlyDeleted,
}

impl Embed {
    pub const ALL: [Embed; 6] = [
        Embed::Contacts,
        Embed::LossReason,
        Embed::CatalogElements,
        Embed::IsPriceModifiedByRobot,
        Embed::SourceId,
        Embed::OnlyDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Embed::Contacts => "contacts",
            Embed::LossReason => "loss_reason",
            Embed::CatalogElements => "catalog_elements",
            Embed::IsPriceModifiedByRobot => "is_price_modified_by_robot",
            Embed::SourceId => "source_id",
            Embed::OnlyDeleted => "only_deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Embed> {
        Embed::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Parses the chosen embeds, refusing names amoCRM does not know and, for a
/// single lead, `only_deleted`, which only applies to lists. Duplicates collapse.
pub fn parse_embeds(names: &[&str], label: &str, for_list: bool) -> Result<Vec<Embed>, InputError> {
    let mut out: Vec<Embed> = Vec::new();
    for name in names {
        let embed = Embed::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Embed::ALL.iter().map(|e| e.as_str()).collect();
            InputError::new(
                label,
                format!(
                    "\"{name}\" is not an amoCRM lead embed; use one of {}",
                    known.join(", ")
                ),
            )
        })?;
        if embed == Embed::OnlyDeleted && !for_list {
            return Err(InputError::new(
                label,
                "\"only_deleted\" applies to lists of leads, not to a single lead",
            ));
        }
        if !out.contains(&embed) {
            out.push(embed);
        }
    }
    Ok(out)
}

/// `contacts,loss_reason`, for the `with` query parameter.
pub fn join(embeds: &[Embed]) -> String {
    embeds.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_embeds_and_refuses_others() {
        let e = parse_embeds(&["contacts", "source_id", "contacts"], "With", false).unwrap();
        assert_eq!(join(&e), "contacts,source_id");
        let err = parse_embeds(&["companies"], "With", false).unwrap_err();
        assert!(err.problem.contains("\"companies\""), "{err}");
        assert!(parse_embeds(&["only_deleted"], "With", false).is_err());
        assert!(parse_embeds(&["only_deleted"], "With", true).is_ok());
    }
}
