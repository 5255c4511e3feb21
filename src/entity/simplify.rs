//! The "Simplify" output: a record as a flat object a workflow can use without
//! digging through HAL: custom fields by name, tags as names, linked leads,
//! contacts, companies and customers as IDs, and no `_links`.
//!
//! It works on the JSON text: the record's own fields are copied through in
//! amoCRM's order without being parsed into values, and only the parts that
//! change are read. A 250-record page is shaped without building a tree of
//! hundreds of thousands of nodes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::engine::RawJson;

/// A record's entries in document order, values left as text.
pub struct RecordEntries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RecordEntries<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RecordEntries<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RecordEntries<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RecordEntries<'a>, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(entry) = map.next_entry::<Cow<'a, str>, &'a RawValue>()? {
                    entries.push(entry);
                }
                Ok(RecordEntries(entries))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct FieldIn<'a> {
    #[serde(default, borrow)]
    field_id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    field_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    field_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    values: Option<Vec<ValueIn<'a>>>,
}

#[derive(Deserialize)]
struct ValueIn<'a> {
    #[serde(default, borrow)]
    value: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct EmbeddedIn<'a> {
    #[serde(default, borrow)]
    tags: Option<Vec<PartIn<'a>>>,
    #[serde(default, borrow)]
    contacts: Option<Vec<PartIn<'a>>>,
    #[serde(default, borrow)]
    companies: Option<Vec<PartIn<'a>>>,
    #[serde(default, borrow)]
    loss_reason: Option<Vec<PartIn<'a>>>,
    #[serde(default, borrow)]
    catalog_elements: Option<Vec<PartIn<'a>>>,
    #[serde(default, borrow)]
    leads: Option<Vec<PartIn<'a>>>,
    #[serde(default, borrow)]
    customers: Option<Vec<PartIn<'a>>>,
}

/// The pieces of an embedded entity the simplified record keeps.
#[derive(Deserialize)]
struct PartIn<'a> {
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    name: Option<&'a RawValue>,
    #[serde(default, borrow)]
    is_main: Option<&'a RawValue>,
    #[serde(default, borrow)]
    metadata: Option<MetaIn<'a>>,
}

#[derive(Deserialize)]
struct MetaIn<'a> {
    #[serde(default, borrow)]
    catalog_id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    quantity: Option<&'a RawValue>,
}

const NULL: &str = "null";

fn text(raw: Option<&RawValue>) -> &str {
    raw.map_or(NULL, RawValue::get)
}

fn key(out: &mut String, name: &str) {
    // Keys from amoCRM are plain; field names are users' text and may need escaping.
    if name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(name);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(name).unwrap_or_else(|_| "\"\"".into()));
    }
    out.push(':');
}

fn list<'a, T>(out: &mut String, items: &'a [T], pick: impl Fn(&'a T) -> Option<&'a RawValue>) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(text(pick(item)));
    }
    out.push(']');
}

/// `{field name: value}`: one value as itself, several (multiselect,
/// multitext) as a list; a name used twice gets the field ID appended.
fn custom_fields(out: &mut String, fields: &[FieldIn]) {
    out.push('{');
    let mut used: Vec<Cow<str>> = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let id = text(field.field_id);
        let mut name: Cow<str> = match &field.field_name {
            Some(n) => Cow::Borrowed(n.as_ref()),
            None => Cow::Borrowed(id),
        };
        if used.contains(&name) {
            name = Cow::Owned(format!("{name} ({id})"));
        }
        key(out, &name);
        used.push(name);
        let values = field.values.as_deref().unwrap_or_default();
        let multi = matches!(field.field_type.as_deref(), Some("multiselect" | "multitext")) || values.len() > 1;
        if multi {
            list(out, values, |v| v.value);
        } else {
            out.push_str(text(values.first().and_then(|v| v.value)));
        }
    }
    out.push('}');
}

/// The simplified form of one record (amoCRM's JSON text in, JSON text out).
pub fn simplify_record(lead: &str) -> Result<RawJson, serde_json::Error> {
    match serde_json::from_str::<RecordEntries>(lead) {
        Ok(entries) => simplify_entries(entries),
        // Not an object: nothing to flatten.
        Err(_) => RawJson::parse(lead.to_string()),
    }
}

/// The simplified form of a record already read into its entries.
pub fn simplify_entries(RecordEntries(entries): RecordEntries) -> Result<RawJson, serde_json::Error> {
    let mut out = String::with_capacity(entries.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum::<usize>() + 64);
    out.push('{');
    let mut fields: Vec<FieldIn> = Vec::new();
    let mut embedded = EmbeddedIn::default();
    let mut first = true;
    for (name, value) in &entries {
        match name.as_ref() {
            "_links" => {}
            "custom_fields_values" => {
                fields = serde_json::from_str::<Option<Vec<FieldIn>>>(value.get())?.unwrap_or_default()
            }
            "_embedded" => embedded = serde_json::from_str::<Option<EmbeddedIn>>(value.get())?.unwrap_or_default(),
            _ => {
                if !first {
                    out.push(',');
                }
                first = false;
                key(&mut out, name);
                out.push_str(value.get());
            }
        }
    }
    if !first {
        out.push(',');
    }
    key(&mut out, "custom_fields");
    custom_fields(&mut out, &fields);
    out.push(',');
    key(&mut out, "tags");
    list(&mut out, embedded.tags.as_deref().unwrap_or_default(), |t| t.name);
    if let Some(contacts) = &embedded.contacts {
        out.push(',');
        key(&mut out, "contacts");
        list(&mut out, contacts, |c| c.id);
        out.push(',');
        key(&mut out, "main_contact_id");
        let main = contacts.iter().find(|c| c.is_main.is_some_and(|m| m.get() == "true"));
        out.push_str(text(main.and_then(|c| c.id)));
    }
    out.push(',');
    key(&mut out, "companies");
    list(&mut out, embedded.companies.as_deref().unwrap_or_default(), |c| c.id);
    for (name, linked) in [("leads", &embedded.leads), ("customers", &embedded.customers)] {
        if let Some(linked) = linked {
            out.push(',');
            key(&mut out, name);
            list(&mut out, linked, |c| c.id);
        }
    }
    if let Some(reason) = embedded.loss_reason.as_deref().and_then(<[PartIn]>::first) {
        out.push(',');
        key(&mut out, "loss_reason");
        out.push_str(text(reason.name));
    }
    if let Some(elements) = &embedded.catalog_elements {
        out.push(',');
        key(&mut out, "catalog_elements");
        out.push('[');
        for (i, e) in elements.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let meta = e.metadata.as_ref();
            out.push_str(&format!(
                "{{\"id\":{},\"catalog_id\":{},\"quantity\":{}}}",
                text(e.id),
                text(meta.and_then(|m| m.catalog_id)),
                text(meta.and_then(|m| m.quantity))
            ));
        }
        out.push(']');
    }
    out.push('}');
    // Built from validated pieces by the writers above.
    Ok(RawJson::trusted(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn simplify(lead: Value) -> Value {
        serde_json::from_str(simplify_record(&lead.to_string()).unwrap().get()).unwrap()
    }

    #[test]
    fn flattens_a_lead_the_way_the_readme_shows() {
        let lead = json!({
            "id": 7, "name": "Deal", "price": 100, "status_id": 142, "_links": {"self": {"href": "x"}},
            "custom_fields_values": [
                {"field_id": 1, "field_name": "Source", "field_type": "select", "values": [{"value": "Web", "enum_id": 3}]},
                {"field_id": 2, "field_name": "Tags2", "field_type": "multiselect", "values": [{"value": "A"}, {"value": "B"}]},
                {"field_id": 9, "field_name": "Source", "field_type": "text", "values": [{"value": "dup"}]}
            ],
            "_embedded": {
                "tags": [{"id": 1, "name": "vip", "color": null}],
                "contacts": [{"id": 10, "is_main": false}, {"id": 11, "is_main": true}],
                "companies": [{"id": 20, "_links": {}}],
                "loss_reason": [{"id": 4, "name": "Too expensive"}],
                "catalog_elements": [{"id": 5, "metadata": {"quantity": 2, "catalog_id": 9}}]
            }
        });
        assert_eq!(
            simplify(lead),
            json!({
                "id": 7, "name": "Deal", "price": 100, "status_id": 142,
                "custom_fields": {"Source": "Web", "Tags2": ["A", "B"], "Source (9)": "dup"}, "tags": ["vip"],
                "contacts": [10, 11], "main_contact_id": 11, "companies": [20],
                "loss_reason": "Too expensive", "catalog_elements": [{"id": 5, "catalog_id": 9, "quantity": 2}]
            })
        );
    }

    #[test]
    fn keeps_amocrm_field_order() {
        let raw = r#"{"name":"b","id":1,"price":2}"#;
        assert_eq!(
            simplify_record(raw).unwrap().get(),
            r#"{"name":"b","id":1,"price":2,"custom_fields":{},"tags":[],"companies":[]}"#
        );
    }

    #[test]
    fn leads_without_embeds_still_have_the_list_fields() {
        assert_eq!(
            simplify(json!({"id": 1, "custom_fields_values": null})),
            json!({"id": 1, "custom_fields": {}, "tags": [], "companies": []})
        );
        assert_eq!(
            simplify(json!({})),
            json!({"custom_fields": {}, "tags": [], "companies": []})
        );
    }

    #[test]
    fn output_is_valid_json_whatever_the_names() {
        let lead = json!({"a\u{1}": 1, "custom_fields_values": [{"field_id": 1, "field_name": "\\", "values": []}]});
        let out = simplify_record(&lead.to_string()).unwrap();
        assert!(serde_json::from_str::<Value>(out.get()).is_ok(), "{}", out.get());
    }

    #[test]
    fn field_names_are_escaped() {
        let lead =
            json!({"custom_fields_values": [{"field_id": 1, "field_name": "a \"b\"\n", "values": [{"value": 1}]}]});
        assert_eq!(simplify(lead)["custom_fields"], json!({"a \"b\"\n": 1}));
    }
}
