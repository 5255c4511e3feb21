//! amoCRM's rules for the Account node's writes, checked before anything is
//! sent, each broken rule an error naming the item and the field:
//!
//! * pipelines (D:leads_pipelines): at most 50 per account; the main one and
//!   the last one cannot be deleted;
//! * statuses: at most 100 per pipeline (system ones included); 142 (won),
//!   143 (lost) and the incoming-leads status are amoCRM's own and are
//!   neither changed nor deleted; colours from amoCRM's fixed palette;
//! * tags: colours only on lead tags, from their palette (D:tags-api);
//! * custom fields: a known type, options for the list types;
//! * users: an e-mail, and a password amoCRM accepts.
//!
//! Rules that depend on the account (how many pipelines it has, which one
//! is main) are checked against one read of its pipelines ([`guard`]).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::engine::Operation;
use crate::entity::fields::FieldSet;
use crate::entity::record::{collection, Mode};
use crate::entity::Rules;
use crate::input::{describe, InputError, Params};

use super::prefetch::{Check, Prefetch};
use super::resources::Collection;

/// D:leads_pipelines.
pub const MAX_PIPELINES: usize = 50;
pub const MAX_STATUSES: usize = 100;
/// Won and lost: in every pipeline, amoCRM's own.
pub const WON: u64 = 142;
pub const LOST: u64 = 143;

/// The colours amoCRM offers lead (and customer) statuses: its fixed palette.
pub const STATUS_COLORS: [&str; 21] = [
    "#fffeb2", "#fffd7f", "#fff000", "#ffeab2", "#ffdc7f", "#ffce5a", "#ffdbdb", "#ffc8c8", "#ff8f92", "#d6eaff",
    "#c1e0ff", "#98cbff", "#ebffb1", "#deff81", "#87f2c0", "#f9deff", "#f3beff", "#ccc8f9", "#eb93ff", "#f2f3f4",
    "#e6e8ea",
];

/// The colours of lead tags (D:tags-api), hex without `#`.
pub const TAG_COLORS: [&str; 23] = [
    "EBEBEB", "D0D0D0", "F2DDF7", "D1A4DC", "FF8F92", "FFC8C8", "C7DB8C", "DDEBB5", "8699DA", "AABDFF", "FFCE5A",
    "FFE193", "90CDB0", "C6F4DE", "A9A5D7", "D8D5FF", "86C0FC", "832161", "6A0F49", "0C7C59", "10599D", "9D2B32",
    "247BA0",
];

/// Custom field types amoCRM creates (D:custom-fields).
pub const FIELD_TYPES: [&str; 26] = [
    "text",
    "numeric",
    "checkbox",
    "select",
    "multiselect",
    "multitext",
    "date",
    "url",
    "textarea",
    "radiobutton",
    "streetaddress",
    "smart_address",
    "birthday",
    "legal_entity",
    "date_time",
    "price",
    "category",
    "items",
    "tracking_data",
    "linked_entity",
    "chained_list",
    "monetary",
    "file",
    "payer",
    "supplier",
    "org_legal_name",
];

/// Types whose values are chosen among options (`enums`).
pub const ENUM_TYPES: [&str; 4] = ["select", "multiselect", "radiobutton", "category"];

fn label(mode: Mode, name: &str) -> String {
    format!("{} › {name}", collection(mode).label)
}

/// The colour of a status as amoCRM stores it (`#fffeb2`), if it is one of
/// its palette.
pub fn status_color(text: &str) -> Option<&'static str> {
    let t = text.trim().trim_start_matches('#').to_ascii_lowercase();
    STATUS_COLORS.iter().copied().find(|c| c[1..] == t)
}

pub fn tag_color(text: &str) -> Option<&'static str> {
    let t = text.trim().trim_start_matches('#').to_ascii_uppercase();
    TAG_COLORS.iter().copied().find(|c| *c == t)
}

pub struct PipelineRules;
pub static PIPELINE_RULES: PipelineRules = PipelineRules;

impl Rules for PipelineRules {
    /// Statuses of a new pipeline, by name, in the order given.
    fn manual_extras(
        &self,
        params: Params,
        mode: Mode,
        body: &mut Map<String, Value>,
        _: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        let c = params.object(collection(mode).key);
        let names = c.strings("statuses", &label(mode, "Statuses"))?;
        if mode == Mode::Create && !names.is_empty() {
            if names.len() + 3 > MAX_STATUSES {
                return Err(InputError::new(
                    label(mode, "Statuses"),
                    format!(
                        "{} statuses and amoCRM's 3 own are more than the {MAX_STATUSES} a pipeline may have",
                        names.len()
                    ),
                ));
            }
            let statuses: Vec<Value> = names
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"name": n, "sort": (i + 1) * 10}))
                .collect();
            body.insert("_embedded".into(), json!({ "statuses": statuses }));
        }
        Ok(())
    }

    /// amoCRM requires sort, is_main and is_unsorted_on on create.
    fn finish(&self, body: &mut Map<String, Value>, mode: Mode) -> Result<(), InputError> {
        if mode == Mode::Create {
            body.entry("sort").or_insert(json!(1));
            body.entry("is_main").or_insert(json!(false));
            body.entry("is_unsorted_on").or_insert(json!(false));
        }
        Ok(())
    }
}

pub struct StatusRules;
pub static STATUS_RULES: StatusRules = StatusRules;

impl Rules for StatusRules {
    fn finish(&self, body: &mut Map<String, Value>, mode: Mode) -> Result<(), InputError> {
        if let Some(Value::String(c)) = body.get("color") {
            let color = status_color(c).ok_or_else(|| {
                InputError::new(
                    label(mode, "Color"),
                    format!(
                        "\"{}\" is not one of amoCRM's status colours: {}",
                        c,
                        STATUS_COLORS.join(", ")
                    ),
                )
            })?;
            body.insert("color".into(), json!(color));
        }
        if mode == Mode::Create {
            body.entry("sort").or_insert(json!(10));
        }
        Ok(())
    }
}

pub struct TagRules {
    lead: bool,
}
pub static TAG_RULES: TagRules = TagRules { lead: false };
pub static LEAD_TAG_RULES: TagRules = TagRules { lead: true };

impl Rules for TagRules {
    fn finish(&self, body: &mut Map<String, Value>, mode: Mode) -> Result<(), InputError> {
        if let Some(Value::String(c)) = body.get("color") {
            if !self.lead {
                return Err(InputError::new(
                    label(mode, "Color"),
                    "only lead tags have a colour in amoCRM",
                ));
            }
            let color = tag_color(c).ok_or_else(|| {
                InputError::new(
                    label(mode, "Color"),
                    format!("\"{c}\" is not one of amoCRM's tag colours: {}", TAG_COLORS.join(", ")),
                )
            })?;
            body.insert("color".into(), json!(color));
        }
        Ok(())
    }
}

pub struct UserRules;
pub static USER_RULES: UserRules = UserRules;

/// D:users-api: at least 6 characters, with a digit, a lower-case and an
/// upper-case letter.
pub fn password_problem(p: &str) -> Option<&'static str> {
    if p.chars().count() < 6 {
        Some("is shorter than the 6 characters amoCRM requires")
    } else if !p.chars().any(|c| c.is_ascii_digit()) {
        Some("needs a digit, as amoCRM requires")
    } else if !p.chars().any(char::is_lowercase) {
        Some("needs a lower-case letter, as amoCRM requires")
    } else if !p.chars().any(char::is_uppercase) {
        Some("needs an upper-case letter, as amoCRM requires")
    } else {
        None
    }
}

impl Rules for UserRules {
    fn manual_extras(
        &self,
        params: Params,
        mode: Mode,
        body: &mut Map<String, Value>,
        _: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        let c = params.object(collection(mode).key);
        match c.get("rights") {
            None => {}
            Some(Value::String(s)) if s.trim().is_empty() => {}
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => {
                    body.insert("rights".into(), v);
                }
                _ => return Err(InputError::new(label(mode, "Rights"), "is not a JSON object")),
            },
            Some(v @ Value::Object(_)) => {
                body.insert("rights".into(), v.clone());
            }
            Some(other) => {
                return Err(InputError::new(
                    label(mode, "Rights"),
                    format!("expected a JSON object, got {}", describe(other)),
                ))
            }
        }
        Ok(())
    }

    fn check(&self, body: &Map<String, Value>, _mode: Mode) -> Result<(), InputError> {
        match body.get("email").and_then(Value::as_str) {
            Some(e) if e.contains('@') && !e.starts_with('@') && !e.ends_with('@') => {}
            Some(e) => return Err(InputError::new("Email", format!("\"{e}\" is not an e-mail address"))),
            None => return Err(InputError::new("Email", "is empty; amoCRM invites users by e-mail")),
        }
        if let Some(Value::String(p)) = body.get("password") {
            if let Some(problem) = password_problem(p) {
                return Err(InputError::new(label(Mode::Create, "Password"), problem));
            }
        }
        Ok(())
    }
}

pub struct CustomFieldRules;
pub static CUSTOM_FIELD_RULES: CustomFieldRules = CustomFieldRules;

impl Rules for CustomFieldRules {
    /// Options of list fields, and the statuses in which a lead field must
    /// be filled.
    fn manual_extras(
        &self,
        params: Params,
        mode: Mode,
        body: &mut Map<String, Value>,
        _: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        let c = params.object(collection(mode).key);
        let options = c.strings("enums", &label(mode, "Options"))?;
        if !options.is_empty() {
            let enums: Vec<Value> = options
                .iter()
                .enumerate()
                .map(|(i, v)| json!({"value": v, "sort": (i + 1) * 10}))
                .collect();
            body.insert("enums".into(), Value::Array(enums));
        }
        let mut required = Vec::new();
        for s in c.strings("requiredStatuses", &label(mode, "Required in Statuses"))? {
            let pair = s
                .split_once(':')
                .and_then(|(p, st)| Some((p.trim().parse::<u64>().ok()?, st.trim().parse::<u64>().ok()?)));
            let (pipeline_id, status_id) = pair.ok_or_else(|| {
                InputError::new(
                    label(mode, "Required in Statuses"),
                    format!(
                        "\"{s}\" is not a status; pick statuses from the list (values look like pipelineID:statusID)"
                    ),
                )
            })?;
            required.push(json!({"pipeline_id": pipeline_id, "status_id": status_id}));
        }
        if !required.is_empty() {
            body.insert("required_statuses".into(), Value::Array(required));
        }
        Ok(())
    }

    fn check(&self, body: &Map<String, Value>, mode: Mode) -> Result<(), InputError> {
        if mode == Mode::Create {
            let kind = body.get("type").and_then(Value::as_str).unwrap_or("");
            if !FIELD_TYPES.contains(&kind) {
                return Err(InputError::new(
                    "Type",
                    if kind.is_empty() {
                        "is empty; choose the type of the field".to_string()
                    } else {
                        format!(
                            "\"{kind}\" is not an amoCRM field type; use one of {}",
                            FIELD_TYPES.join(", ")
                        )
                    },
                ));
            }
            if ENUM_TYPES.contains(&kind) && !body.contains_key("enums") {
                return Err(InputError::new(
                    label(mode, "Options"),
                    format!("a {kind} field needs its options: enter them separated by commas"),
                ));
            }
        }
        Ok(())
    }
}

/// What the pipeline checks count as the run goes: pipelines created and
/// deleted, statuses created per pipeline.
#[derive(Default)]
struct Tally {
    created: usize,
    deleted: Vec<u64>,
    statuses: HashMap<u64, usize>,
}

fn pipelines(snapshot: &Value) -> &[Value] {
    snapshot["_embedded"]["pipelines"].as_array().map_or(&[], Vec::as_slice)
}

fn find_pipeline(snapshot: &Value, id: u64) -> Option<&Value> {
    pipelines(snapshot).iter().find(|p| p["id"].as_u64() == Some(id))
}

fn id_param(params: Params, key: &str, label: &str, what: &str) -> Result<u64, InputError> {
    params
        .id(key, label, what)?
        .map(|i| i.get())
        .ok_or_else(|| InputError::new(label, format!("is empty; enter {what} ID")))
}

fn pipeline_of<'a>(snapshot: &'a Value, params: Params) -> Result<(u64, &'a Value), InputError> {
    let id = id_param(params, "pipelineId", "Pipeline", "a pipeline")?;
    let p = find_pipeline(snapshot, id)
        .ok_or_else(|| InputError::new("Pipeline", format!("the account has no pipeline {id}")))?;
    Ok((id, p))
}

/// The checks of pipeline and status writes, against the account's pipelines.
fn pipeline_check(resource: &str, op: &'static str) -> Option<Check> {
    let mut tally = Tally::default();
    Some(match (resource, op) {
        ("pipeline", "create") => {
            Box::new(move |snapshot, _| {
                let have = pipelines(snapshot).len() + tally.created - tally.deleted.len();
                if have >= MAX_PIPELINES {
                    return Err(InputError::new(
                    "Name",
                    format!("the account would have more than the {MAX_PIPELINES} pipelines amoCRM allows (it has {have})"),
                ));
                }
                tally.created += 1;
                Ok(())
            })
        }
        ("pipeline", "update") => Box::new(|snapshot, params| pipeline_of(snapshot, params).map(|_| ())),
        ("pipeline", "delete") => Box::new(move |snapshot, params| {
            let (id, p) = pipeline_of(snapshot, params)?;
            if p["is_main"].as_bool() == Some(true) {
                return Err(InputError::new(
                    "Pipeline",
                    format!("pipeline {id} is the account's main pipeline, which amoCRM cannot delete; make another pipeline the main one first"),
                ));
            }
            if pipelines(snapshot).len() + tally.created <= tally.deleted.len() + 1 {
                return Err(InputError::new(
                    "Pipeline",
                    format!("pipeline {id} is the account's last pipeline, which amoCRM cannot delete"),
                ));
            }
            tally.deleted.push(id);
            Ok(())
        }),
        ("pipelineStatus", "create") => {
            Box::new(move |snapshot, params| {
                let (id, p) = pipeline_of(snapshot, params)?;
                let have = p["_embedded"]["statuses"].as_array().map_or(0, Vec::len)
                    + tally.statuses.get(&id).copied().unwrap_or(0);
                if have >= MAX_STATUSES {
                    return Err(InputError::new(
                    "Name",
                    format!("pipeline {id} would have more than the {MAX_STATUSES} statuses amoCRM allows (it has {have})"),
                ));
                }
                *tally.statuses.entry(id).or_default() += 1;
                Ok(())
            })
        }
        ("pipelineStatus", "update" | "delete") => {
            Box::new(move |snapshot, params| {
                let status = id_param(params, "statusId", "Status", "a status")?;
                let doing = if op == "update" { "changed" } else { "deleted" };
                if status == WON || status == LOST {
                    let which = if status == WON { "won" } else { "lost" };
                    return Err(InputError::new(
                    "Status",
                    format!("{status} is amoCRM's own \"{which}\" status, in every pipeline; it cannot be {doing} through the API"),
                ));
                }
                let (id, p) = pipeline_of(snapshot, params)?;
                let s = p["_embedded"]["statuses"]
                    .as_array()
                    .and_then(|l| l.iter().find(|s| s["id"].as_u64() == Some(status)))
                    .ok_or_else(|| InputError::new("Status", format!("pipeline {id} has no status {status}")))?;
                if s["is_editable"].as_bool() == Some(false) || s["type"].as_u64() == Some(1) {
                    return Err(InputError::new(
                    "Status",
                    format!("status {status} is one of amoCRM's own (incoming leads, won or lost); it cannot be {doing}"),
                ));
                }
                Ok(())
            })
        }
        _ => return None,
    })
}

/// Wraps the writes of pipelines and statuses in the checks against the
/// account's pipelines; other operations go as they are.
pub fn guard(
    c: &Collection,
    op: &'static str,
    inner: Box<dyn Operation>,
    account: &AccountAddress,
) -> Box<dyn Operation> {
    match pipeline_check(c.resource, op) {
        Some(check) => Box::new(Prefetch::new(
            account.url("/api/v4/leads/pipelines"),
            "the account's pipelines",
            check,
            inner,
        )),
        None => inner,
    }
}
