//! Phone numbers to one key per number: the digits of its international form
//! (E.164 without the `+`). `+7 900 123-45-67`, `8 (900) 123 45 67`,
//! `7-900-1234567` and, with Russia as the default country, `900 123 45 67`
//! are all `79001234567`.
//!
//! A number written with `+` or the international prefix `00` is taken as
//! international. One written without is read as the default country reads
//! it: its trunk prefix (8 in Russia and Kazakhstan, 0 in most of Europe) is
//! replaced by the calling code, and a bare national number gets the code.
//! What fits no rule keeps its digits as they are, so that two numbers that
//! differ are never made equal.

/// A calling code and how national numbers are written there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// The calling code, digits only (`7`).
    pub code: &'static str,
    /// The trunk prefix of national numbers (`8`, `0`), or `""`.
    pub trunk: &'static str,
    /// Digits of a national number without the trunk prefix.
    pub national: usize,
}

/// The countries the node's Default Country offers, by ISO code.
pub const COUNTRIES: &[(&str, Country)] = &[
    (
        "RU",
        Country {
            code: "7",
            trunk: "8",
            national: 10,
        },
    ),
    (
        "KZ",
        Country {
            code: "7",
            trunk: "8",
            national: 10,
        },
    ),
    (
        "BY",
        Country {
            code: "375",
            trunk: "80",
            national: 9,
        },
    ),
    (
        "UA",
        Country {
            code: "380",
            trunk: "0",
            national: 9,
        },
    ),
    (
        "UZ",
        Country {
            code: "998",
            trunk: "",
            national: 9,
        },
    ),
    (
        "KG",
        Country {
            code: "996",
            trunk: "0",
            national: 9,
        },
    ),
    (
        "AM",
        Country {
            code: "374",
            trunk: "0",
            national: 8,
        },
    ),
    (
        "GE",
        Country {
            code: "995",
            trunk: "0",
            national: 9,
        },
    ),
    (
        "AZ",
        Country {
            code: "994",
            trunk: "0",
            national: 9,
        },
    ),
    (
        "US",
        Country {
            code: "1",
            trunk: "1",
            national: 10,
        },
    ),
    (
        "GB",
        Country {
            code: "44",
            trunk: "0",
            national: 10,
        },
    ),
    (
        "DE",
        Country {
            code: "49",
            trunk: "0",
            national: 11,
        },
    ),
    (
        "ES",
        Country {
            code: "34",
            trunk: "",
            national: 9,
        },
    ),
    (
        "BR",
        Country {
            code: "55",
            trunk: "0",
            national: 11,
        },
    ),
    (
        "MX",
        Country {
            code: "52",
            trunk: "",
            national: 10,
        },
    ),
    (
        "IN",
        Country {
            code: "91",
            trunk: "0",
            national: 10,
        },
    ),
    (
        "TR",
        Country {
            code: "90",
            trunk: "0",
            national: 10,
        },
    ),
];

impl Country {
    pub fn by_iso(iso: &str) -> Option<Country> {
        COUNTRIES
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(iso.trim()))
            .map(|(_, c)| *c)
    }

    pub const RUSSIA: Country = Country {
        code: "7",
        trunk: "8",
        national: 10,
    };
}

/// Fewest digits a phone number has (a short internal extension is not one).
pub const MIN_DIGITS: usize = 5;
/// Most digits an international number has (E.164).
pub const MAX_DIGITS: usize = 15;

/// The key of `text` as a phone number, or `None` when it holds too few or
/// too many digits to be one.
pub fn phone_key(text: &str, country: Country) -> Option<String> {
    let trimmed = text.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < MIN_DIGITS {
        return None;
    }
    let key = if trimmed.starts_with('+') {
        // No calling code starts with 0.
        digits.trim_start_matches('0').to_string()
    } else if let Some(rest) = digits.strip_prefix("00").filter(|r| r.len() >= MIN_DIGITS) {
        rest.to_string()
    } else if let Some(rest) = (country.trunk == "8")
        .then(|| digits.strip_prefix("810"))
        .flatten()
        .filter(|r| r.len() > country.national)
    {
        // Russia's old international prefix, "8 10".
        rest.to_string()
    } else if digits.len() == country.code.len() + country.national && digits.starts_with(country.code) {
        digits
    } else if !country.trunk.is_empty()
        && digits.len() == country.trunk.len() + country.national
        && digits.starts_with(country.trunk)
    {
        format!("{}{}", country.code, &digits[country.trunk.len()..])
    } else if digits.len() == country.national {
        format!("{}{digits}", country.code)
    } else {
        digits
    };
    (MIN_DIGITS..=MAX_DIGITS).contains(&key.len()).then_some(key)
}

/// What amoCRM's text search is given for a phone: its last ten digits, which
/// every way of writing the number contains.
pub fn search_text(key: &str) -> &str {
    &key[key.len().saturating_sub(10)..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RU: Country = Country::RUSSIA;

    #[test]
    fn russian_numbers_in_every_usual_shape_are_one_key() {
        for text in [
            "+7 900 123-45-67",
            "+7 (900) 123-45-67",
            "8 900 123 45 67",
            "8(900)1234567",
            "7 900 1234567",
            "79001234567",
            "900 123-45-67",
            " +79001234567 ",
            "8 10 7 900 123 45 67",
        ] {
            assert_eq!(phone_key(text, RU).as_deref(), Some("79001234567"), "{text}");
        }
        assert_eq!(search_text("79001234567"), "9001234567");
    }

    #[test]
    fn the_default_country_reads_national_numbers() {
        let uk = Country::by_iso("gb").unwrap();
        assert_eq!(phone_key("07911 123456", uk).as_deref(), Some("447911123456"));
        assert_eq!(phone_key("+44 7911 123456", RU).as_deref(), Some("447911123456"));
        assert_eq!(phone_key("0044 7911 123456", RU).as_deref(), Some("447911123456"));
        let us = Country::by_iso("US").unwrap();
        assert_eq!(phone_key("(415) 555-0100", us).as_deref(), Some("14155550100"));
        assert_eq!(phone_key("1-415-555-0100", us).as_deref(), Some("14155550100"));
    }

    #[test]
    fn what_is_not_a_phone_has_no_key() {
        assert_eq!(phone_key("", RU), None);
        assert_eq!(phone_key("ext 12", RU), None);
        assert_eq!(phone_key("1234567890123456789", RU), None);
    }

    /// A Russian mobile number's ten national digits, and ways to write it.
    fn formatted() -> impl Strategy<Value = (String, String)> {
        ("9[0-9]{9}", 0usize..8).prop_map(|(n, style)| {
            let (a, b, c, d) = (&n[0..3], &n[3..6], &n[6..8], &n[8..10]);
            let text = match style {
                0 => format!("+7 {a} {b}-{c}-{d}"),
                1 => format!("8 ({a}) {b} {c} {d}"),
                2 => format!("7{n}"),
                3 => format!("8{n}"),
                4 => format!("{a}-{b}-{c}{d}"),
                5 => format!("+7({a}){b}{c}{d}"),
                6 => format!("  +7 {n} "),
                _ => format!("8-{a}-{b}-{c}-{d}"),
            };
            (n, text)
        })
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(text in "[+0-9 ()-]{0,20}") {
            if let Some(key) = phone_key(&text, RU) {
                prop_assert_eq!(phone_key(&key, RU), Some(key.clone()));
                if !key.starts_with('0') {
                    prop_assert_eq!(phone_key(&format!("+{key}"), RU), Some(key));
                }
            }
        }

        #[test]
        fn every_formatting_of_one_number_gives_one_key((n, text) in formatted()) {
            prop_assert_eq!(phone_key(&text, RU), Some(format!("7{n}")));
        }

        #[test]
        fn different_numbers_never_share_a_key((n, text) in formatted(), (m, other) in formatted()) {
            prop_assume!(n != m);
            prop_assert_ne!(phone_key(&text, RU), phone_key(&other, RU));
        }
    }
}
