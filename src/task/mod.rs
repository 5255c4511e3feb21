//! Tasks: the descriptor the shared machinery reads, and what only tasks
//! have: a deadline that may be given as "in N hours" or "end of day"
//! ([`deadline`], resolved against the call's clock by [`write`]), the record
//! a task is attached to (a type and an ID, always together), a result text
//! that amoCRM keeps as `{"text": …}`, and Complete ([`complete`]).

pub mod complete;
pub mod deadline;
pub mod write;

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::entity::batch::Batcher;
use crate::entity::filter::ATTACHABLE_TYPES;
use crate::entity::record::{FieldSpec, Kind, Mode, CREATED_AT, CREATED_BY, RESPONSIBLE_USER};
use crate::entity::{Entity, EntityRef, Features, Filter, Planned, Rules};
use crate::input::InputError;

pub const TASKS_PATH: &str = "/api/v4/tasks";

pub static TASKS: Entity = Entity {
    noun: "task",
    nouns: "tasks",
    label: "Task",
    path: Cow::Borrowed(TASKS_PATH),
    embedded: "tasks",
    entity_type: "tasks",
    // A task opens in a pop-up over a list, not on a card of its own.
    card: None,
    id_param: "taskId",
    with: &[],
    with_list_only: &[],
    order: &["created_at", "complete_till", "id"],
    filters: &[
        Filter::Ids,
        Filter::ResponsibleUsers,
        Filter::CreatedBy,
        Filter::UpdatedAt,
        Filter::Deadline,
        Filter::Completed,
        Filter::TaskTypes,
        Filter::LinkedEntity,
    ],
    fields: &[
        FieldSpec::new("text", "text", "Text", Kind::Text).primary(),
        FieldSpec::new("complete_till", "completeTill", "Deadline", Kind::Date).primary(),
        FieldSpec::new(
            "task_type_id",
            "taskTypeId",
            "Task Type",
            Kind::Id { what: "a task type" },
        ),
        FieldSpec::new("duration", "duration", "Duration (Seconds)", Kind::Whole { min: 0 }),
        RESPONSIBLE_USER,
        FieldSpec::new("entity_type", "entityType", "Attached To", Kind::Text).primary(),
        FieldSpec::new(
            "entity_id",
            "entityId",
            "Attached To ID",
            Kind::Id {
                what: "a lead, contact, company or customer",
            },
        )
        .primary(),
        FieldSpec::new("is_completed", "isCompleted", "Completed", Kind::Bool),
        FieldSpec::new("result", "resultText", "Result", Kind::Text),
        CREATED_AT,
        CREATED_BY,
    ],
    read_only: &[],
    // Tasks have no custom fields.
    fields_path: Cow::Borrowed(""),
    max_batch: crate::entity::MAX_WRITE_BATCH,
    multitext: false,
    features: Features::NONE,
    rules: &TaskRules,
};

pub struct TaskRules;

impl Rules for TaskRules {
    /// amoCRM keeps a task's result as `{"text": …}`.
    fn finish(&self, body: &mut Map<String, Value>, _mode: Mode) -> Result<(), InputError> {
        if let Some(Value::String(text)) = body.remove("result") {
            body.insert("result".into(), json!({ "text": text }));
        }
        Ok(())
    }

    fn check(&self, body: &Map<String, Value>, mode: Mode) -> Result<(), InputError> {
        if mode == Mode::Create {
            if !body.contains_key("text") {
                return Err(InputError::new("Text", "is empty; a task needs a text"));
            }
            if !body.contains_key("complete_till") {
                return Err(InputError::new(
                    "Deadline",
                    "is missing; a task needs a deadline (a date, a number of hours from now, or the end of the day)",
                ));
            }
        }
        let kind = body.get("entity_type");
        if let Some(kind) = kind {
            if !kind.as_str().is_some_and(|k| ATTACHABLE_TYPES.contains(&k)) {
                return Err(InputError::new(
                    "Attached To",
                    format!(
                        "{kind} is not a type a task attaches to; use one of {}",
                        ATTACHABLE_TYPES.join(", ")
                    ),
                ));
            }
        }
        if kind.is_some() != body.contains_key("entity_id") {
            return Err(InputError::new(
                "Attached To",
                "a task is attached by a type (entity_type: leads, contacts, companies or customers) and an ID (entity_id) together; give both",
            ));
        }
        Ok(())
    }
}

/// The task node's operation `name`: Create and Update resolve the deadline
/// first ([`write`]), Complete is a batched update of its own; the rest is
/// the shared machinery's.
pub fn operation(name: &str, account: AccountAddress) -> Option<Planned> {
    let write = |op: Box<dyn crate::engine::Operation>| Some(Planned { op, writes: true });
    match name {
        "create" => write(Box::new(write::TaskWrites::new(Mode::Create, account))),
        "update" => write(Box::new(write::TaskWrites::new(Mode::Update, account))),
        "complete" => write(Box::new(Batcher::new(
            complete::CompleteTasks {
                account: account.clone(),
            },
            account,
        ))),
        other => crate::entity::operation(EntityRef::Static(&TASKS), other, account),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::filter::list_query;
    use crate::entity::record::record_body;
    use crate::input::Params;

    fn body(p: Value, mode: Mode) -> Result<Value, InputError> {
        record_body(&TASKS, Params::new(&p), mode, None).map(Value::Object)
    }

    #[test]
    fn a_new_task_needs_text_and_a_deadline() {
        let p = json!({
            "text": "Call back", "completeTill": 1_900_000_000, "entityType": "leads", "entityId": "7",
            "additionalFields": {"taskTypeId": "2", "duration": 1800, "responsibleUserId": 3}
        });
        assert_eq!(
            body(p, Mode::Create).unwrap(),
            json!({"text": "Call back", "complete_till": 1_900_000_000, "task_type_id": 2, "duration": 1800,
                   "responsible_user_id": 3, "entity_type": "leads", "entity_id": 7})
        );
        let e = body(json!({"completeTill": 1_900_000_000}), Mode::Create).unwrap_err();
        assert_eq!(e.field, "Text");
        let e = body(json!({"text": "x"}), Mode::Create).unwrap_err();
        assert_eq!(e.field, "Deadline");
    }

    #[test]
    fn the_result_text_becomes_amocrms_object() {
        let p = json!({"updateFields": {"resultText": "Done by phone", "isCompleted": true}});
        assert_eq!(
            body(p, Mode::Update).unwrap(),
            json!({"is_completed": true, "result": {"text": "Done by phone"}})
        );
    }

    #[test]
    fn an_attachment_needs_a_known_type_and_an_id_together() {
        let no_id = json!({"text": "x", "completeTill": 1_900_000_000, "entityType": "leads"});
        assert!(body(no_id, Mode::Create).unwrap_err().problem.contains("together"));
        let auto = json!({"mapping": "auto", "record": {"text": "x", "complete_till": 1_900_000_000, "entity_type": "deals", "entity_id": 5}});
        let e = body(auto, Mode::Create).unwrap_err();
        assert!(e.problem.contains("\"deals\" is not a type"), "{e}");
    }

    #[test]
    fn task_filters_in_bracket_syntax() {
        let p = json!({
            "filters": {
                "ids": "5", "responsibleUserIds": [3], "completed": "no", "taskTypeIds": ["1", "2190001"],
                "entityType": "leads", "entityIds": "20000001, 20000002",
                "completeTillFrom": "2024-05-01T00:00:00Z", "completeTillTo": 1_714_600_000, "updatedAtFrom": 1_714_000_000
            },
            "options": {"sortBy": "complete_till", "sortDirection": "asc"}
        });
        assert_eq!(
            list_query(&TASKS, Params::new(&p)).unwrap().encode(),
            "filter[id][0]=5&filter[responsible_user_id][0]=3&filter[updated_at][from]=1714000000\
&filter[complete_till][from]=1714521600&filter[complete_till][to]=1714600000&filter[is_completed]=0\
&filter[task_type][0]=1&filter[task_type][1]=2190001&filter[entity_type]=leads\
&filter[entity_id][0]=20000001&filter[entity_id][1]=20000002&order[complete_till]=asc"
        );
        let done = json!({"filters": {"completed": true}});
        assert_eq!(
            list_query(&TASKS, Params::new(&done)).unwrap().encode(),
            "filter[is_completed]=1"
        );
        let ids_alone = json!({"filters": {"entityIds": "1"}});
        assert_eq!(
            list_query(&TASKS, Params::new(&ids_alone)).unwrap_err().field,
            "Filters › Attached To IDs"
        );
        let bad = json!({"filters": {"completed": "maybe"}});
        assert_eq!(
            list_query(&TASKS, Params::new(&bad)).unwrap_err().field,
            "Filters › Completed"
        );
        let sort = json!({"options": {"sortBy": "updated_at"}});
        assert!(list_query(&TASKS, Params::new(&sort)).is_err());
    }
}
