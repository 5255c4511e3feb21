//! The "Simplify" output: a lead as a flat record a workflow can use without
//! digging through HAL: custom fields by name, tags as names, linked
//! contacts and companies as IDs, and no `_links`.

use serde_json::{Map, Value};

use crate::lead::fields::simplify_values;

pub fn simplify_lead(lead: &Value) -> Value {
    let Some(obj) = lead.as_object() else {
        return lead.clone();
    };
    let mut out = Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "_links" | "_embedded" | "custom_fields_values" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out.insert("custom_fields".into(), simplify_values(&lead["custom_fields_values"]));
    let embedded = &lead["_embedded"];
    let names = |key: &str, field: &str| -> Vec<Value> {
        embedded[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.get(field).cloned())
            .collect()
    };
    out.insert("tags".into(), Value::Array(names("tags", "name")));
    if embedded.get("contacts").is_some() {
        out.insert("contacts".into(), Value::Array(names("contacts", "id")));
        let main = embedded["contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["is_main"] == true)
            .and_then(|c| c.get("id").cloned());
        out.insert("main_contact_id".into(), main.unwrap_or(Value::Null));
    }
    out.insert("companies".into(), Value::Array(names("companies", "id")));
    if let Some(reason) = embedded["loss_reason"].as_array().and_then(|r| r.first()) {
        out.insert("loss_reason".into(), reason.get("name").cloned().unwrap_or(Value::Null));
    }
    if let Some(elements) = embedded["catalog_elements"].as_array() {
        let items: Vec<Value> = elements
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("id".into(), e["id"].clone());
                m.insert("catalog_id".into(), e["metadata"]["catalog_id"].clone());
                m.insert("quantity".into(), e["metadata"]["quantity"].clone());
                Value::Object(m)
            })
            .collect();
        out.insert("catalog_elements".into(), Value::Array(items));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_a_lead_the_way_the_readme_shows() {
        let lead = json!({
            "id": 7, "name": "Deal", "price": 100, "status_id": 142, "_links": {"self": {"href": "x"}},
            "custom_fields_values": [{"field_id": 1, "field_name": "Source", "field_type": "select", "values": [{"value": "Web", "enum_id": 3}]}],
            "_embedded": {
                "tags": [{"id": 1, "name": "vip", "color": null}],
                "contacts": [{"id": 10, "is_main": false}, {"id": 11, "is_main": true}],
                "companies": [{"id": 20, "_links": {}}],
                "loss_reason": [{"id": 4, "name": "Too expensive"}],
                "catalog_elements": [{"id": 5, "metadata": {"quantity": 2, "catalog_id": 9}}]
            }
        });
        assert_eq!(
            simplify_lead(&lead),
            json!({
                "id": 7, "name": "Deal", "price": 100, "status_id": 142,
                "custom_fields": {"Source": "Web"}, "tags": ["vip"],
                "contacts": [10, 11], "main_contact_id": 11, "companies": [20],
                "loss_reason": "Too expensive", "catalog_elements": [{"id": 5, "catalog_id": 9, "quantity": 2}]
            })
        );
    }

    #[test]
    fn leads_without_embeds_still_have_the_list_fields() {
        let s = simplify_lead(&json!({"id": 1, "custom_fields_values": null}));
        assert_eq!(s, json!({"id": 1, "custom_fields": {}, "tags": [], "companies": []}));
    }
}
