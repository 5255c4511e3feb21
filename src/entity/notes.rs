//! Notes on records: adding them in batches, and reading a record's notes.

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::entity::batch::{embedded_results, BatchKind};
use crate::entity::fields::FieldSet;
use crate::entity::reference::parse_ref;
use crate::entity::{Entity, EntityRef};
use crate::http::Method;
use crate::input::{InputError, Params};
use crate::query::Query;

/// The note types this node writes, and the `params` each takes.
pub const NOTE_TYPES: [&str; 4] = ["common", "service_message", "call_in", "call_out"];

pub struct AddNotes {
    pub entity: EntityRef,
    pub account: AccountAddress,
    /// `{entity path}/notes`.
    pub path: String,
}

impl AddNotes {
    pub fn new(entity: EntityRef, account: AccountAddress) -> AddNotes {
        AddNotes {
            entity: entity.clone(),
            account,
            path: format!("{}/notes", entity.path),
        }
    }
}

impl BatchKind for AddNotes {
    fn nouns(&self) -> (&'static str, &'static str) {
        ("note", "notes")
    }
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn unsafe_to_repeat(&self) -> bool {
        true
    }
    fn body(&self, params: Params, _fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        let e = self.entity.clone();
        let lead = parse_ref(
            params.get(e.id_param).unwrap_or(&Value::Null),
            &self.account,
            &e,
            e.label,
        )?;
        let note_type = match params.string("noteType", "Note Type")? {
            "" => "common",
            t if NOTE_TYPES.contains(&t) => t,
            other => {
                return Err(InputError::new(
                    "Note Type",
                    format!(
                        "\"{other}\" is not a note type this node writes ({})",
                        NOTE_TYPES.join(", ")
                    ),
                ))
            }
        };
        let text = params.string("text", "Text")?;
        let extra = params.object("callDetails");
        let note_params = match note_type {
            "common" | "service_message" if text.trim().is_empty() => {
                return Err(InputError::new("Text", "is empty; a note needs text"))
            }
            "common" => json!({ "text": text }),
            "service_message" => {
                json!({ "service": extra.string("service", "Call Details › Service")?.trim().to_string().or_default("n8n"), "text": text })
            }
            _ => {
                let phone = extra.string("phone", "Call Details › Phone")?;
                if phone.trim().is_empty() {
                    return Err(InputError::new(
                        "Call Details › Phone",
                        "is empty; a call note needs the phone number",
                    ));
                }
                let mut p = json!({
                    "uniq": extra.string("uniq", "Call Details › Call ID")?,
                    "duration": extra.whole("duration", "Call Details › Duration (Seconds)", 0)?.unwrap_or(0),
                    "source": extra.string("source", "Call Details › Source")?.trim().to_string().or_default("n8n"),
                    "phone": phone,
                });
                let link = extra.string("link", "Call Details › Recording URL")?;
                if !link.is_empty() {
                    p["link"] = json!(link);
                }
                if !text.is_empty() {
                    p["call_result"] = json!(text);
                }
                p
            }
        };
        let mut body = Map::new();
        body.insert("entity_id".into(), json!(lead.get()));
        body.insert("note_type".into(), json!(note_type));
        body.insert("params".into(), note_params);
        Ok(body)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, "notes")
    }
}

trait OrDefault {
    fn or_default(self, default: &str) -> String;
}

impl OrDefault for String {
    fn or_default(self, default: &str) -> String {
        if self.is_empty() {
            default.to_string()
        } else {
            self
        }
    }
}

/// The path and filters of "Get Notes" for one item.
pub fn notes_query(entity: &Entity, params: Params, account: &AccountAddress) -> Result<(String, Query), InputError> {
    let id = parse_ref(
        params.get(entity.id_param).unwrap_or(&Value::Null),
        account,
        entity,
        entity.label,
    )?;
    let mut q = Query::new();
    let types = params.object("filters").strings("noteTypes", "Filters › Note Types")?;
    q.push_list("filter[note_type]", types);
    Ok((format!("{}/notes", entity.record_path(id)), q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::lead::LEADS;

    fn body(p: Value) -> Result<Value, InputError> {
        let kind = AddNotes::new(
            EntityRef::Static(&LEADS),
            AccountAddress::parse("shop", Zone::AmocrmRu).unwrap(),
        );
        kind.body(Params::new(&p), None).map(Value::Object)
    }

    #[test]
    fn common_notes_and_call_notes() {
        assert_eq!(
            body(json!({"leadId": "5", "text": "Called back"})).unwrap(),
            json!({"entity_id": 5, "note_type": "common", "params": {"text": "Called back"}})
        );
        assert_eq!(
            body(json!({"leadId": 5, "noteType": "call_in", "text": "ok", "callDetails": {"phone": "+7900", "duration": 61, "uniq": "c-1"}})).unwrap(),
            json!({"entity_id": 5, "note_type": "call_in", "params": {"uniq": "c-1", "duration": 61, "source": "n8n", "phone": "+7900", "call_result": "ok"}})
        );
    }

    #[test]
    fn notes_need_their_content() {
        assert_eq!(body(json!({"leadId": 5, "text": " "})).unwrap_err().field, "Text");
        assert_eq!(
            body(json!({"leadId": 5, "noteType": "call_out"})).unwrap_err().field,
            "Call Details › Phone"
        );
        assert_eq!(
            body(json!({"leadId": 5, "noteType": "sms", "text": "x"}))
                .unwrap_err()
                .field,
            "Note Type"
        );
    }

    #[test]
    fn get_notes_path_and_type_filter() {
        let account = AccountAddress::parse("shop", Zone::AmocrmRu).unwrap();
        let p = json!({"leadId": {"__rl": true, "mode": "id", "value": "9"}, "filters": {"noteTypes": ["common"]}});
        let (path, q) = notes_query(&LEADS, Params::new(&p), &account).unwrap();
        assert_eq!(q.append_to(&path), "/api/v4/leads/9/notes?filter[note_type][0]=common");
    }
}
