//! Reading one page of a HAL list: the entries under `_embedded.<key>`, and
//! whether `_links` points at a next page. One pass over the body, with the
//! entries read as the caller wants them (kept as JSON text, or as a record's
//! entries for Simplify, or as values).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::api_error::ApiError;

pub struct PageOf<T> {
    pub entries: Vec<T>,
    /// The page links to a next one.
    pub next: bool,
}

/// Reads `body` as a page of `key` entries.
pub fn read_page<'a, T: Deserialize<'a>>(body: &'a str, key: &str) -> Result<PageOf<T>, ApiError> {
    let mut de = serde_json::Deserializer::from_str(body);
    let page = PageSeed::<T> {
        key,
        marker: PhantomData,
    }
    .deserialize(&mut de)
    .and_then(|p| de.end().map(|()| p))
    .map_err(|e| ApiError::unreadable(200, format!("not a page of {key} ({e})")))?;
    Ok(page)
}

struct PageSeed<'k, T> {
    key: &'k str,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = PageOf<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PageOf<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for PageSeed<'_, T> {
    type Value = PageOf<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAL page object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<PageOf<T>, M::Error> {
        let mut page = PageOf {
            entries: Vec::new(),
            next: false,
        };
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match name.as_ref() {
                "_embedded" => {
                    page.entries = map
                        .next_value_seed(EmbeddedSeed::<T> {
                            key: self.key,
                            marker: PhantomData,
                        })?
                        .unwrap_or_default()
                }
                "_links" => page.next = map.next_value::<Option<Links>>()?.is_some_and(|l| l.next.is_some()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<IgnoredAny>,
}

/// `_embedded`: the list under the wanted key; the others are skipped.
struct EmbeddedSeed<'k, T> {
    key: &'k str,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for EmbeddedSeed<'_, T> {
    type Value = Option<Vec<T>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Vec<T>>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for EmbeddedSeed<'_, T> {
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an _embedded object")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut found = None;
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if name == self.key && found.is_none() {
                found = map.next_value::<Option<Vec<T>>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;
    use serde_json::Value;

    #[test]
    fn reads_the_entries_of_the_named_key_and_the_next_link() {
        let body = r#"{"_page":1,"_links":{"self":{"href":"a"},"next":{"href":"b"}},"_embedded":{"other":[1],"notes":[{"id":1},{"id":2}]}}"#;
        let page: PageOf<&RawValue> = read_page(body, "notes").unwrap();
        assert_eq!(
            page.entries.iter().map(|r| r.get()).collect::<Vec<_>>(),
            [r#"{"id":1}"#, r#"{"id":2}"#]
        );
        assert!(page.next);
        let page: PageOf<Value> = read_page(r#"{"_links":{},"_embedded":{"leads":null}}"#, "leads").unwrap();
        assert!(page.entries.is_empty() && !page.next);
        let page: PageOf<Value> = read_page(r#"{}"#, "leads").unwrap();
        assert!(page.entries.is_empty());
    }

    #[test]
    fn a_body_that_is_not_a_page_is_an_error() {
        assert!(read_page::<Value>("[1,2]", "leads").is_err());
        assert!(read_page::<Value>(r#"{"_embedded":{"leads":{}}}"#, "leads").is_err());
        assert!(read_page::<Value>(r#"{"_embedded":{}} trailing"#, "leads").is_err());
    }
}
