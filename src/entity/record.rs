//! The body of one record in a create or update batch, built either from the
//! node's parameters ("Map Each Field Manually") or from the input item's own
//! fields ("Map Input Fields Automatically", like the auto-mapping of n8n's
//! database nodes: `name`, `price`, `status_id`… as they are, custom fields
//! by name, code or ID). Both end in the same checks.
//!
//! A value left empty in n8n is simply not sent: clearing a custom field is a
//! separate, explicit list, so an unfilled input can never wipe data.

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::entity::fields::{FieldSet, WriteEntry};
use crate::entity::reference::parse_ref;
use crate::entity::{Entity, RecordId, COMMON_READ_ONLY};
use crate::input::{describe, shorten, InputError, Params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// The type of a writable field, which decides how its value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A whole number of at least `min`.
    Whole {
        min: i64,
    },
    /// An amoCRM object ID; `what` names it in messages ("a user").
    Id {
        what: &'static str,
    },
    /// A date, sent as Unix seconds.
    Date,
    Bool,
}

/// When a field may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Both,
    Create,
    Update,
}

/// A field every write of an entity may set.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// amoCRM's key (`responsible_user_id`).
    pub api: &'static str,
    /// The node parameter inside Additional Fields / Update Fields
    /// (`responsibleUserId`).
    pub param: &'static str,
    /// The label the node shows (`Responsible User`).
    pub label: &'static str,
    pub kind: Kind,
    pub on: On,
    /// A top-level parameter of Create rather than an additional field (the
    /// lead's name, a task's text).
    pub primary: bool,
}

impl FieldSpec {
    pub const fn new(api: &'static str, param: &'static str, label: &'static str, kind: Kind) -> FieldSpec {
        FieldSpec {
            api,
            param,
            label,
            kind,
            on: On::Both,
            primary: false,
        }
    }

    pub const fn on(mut self, on: On) -> FieldSpec {
        self.on = on;
        self
    }

    pub const fn primary(mut self) -> FieldSpec {
        self.primary = true;
        self
    }

    fn applies(&self, mode: Mode) -> bool {
        matches!(
            (self.on, mode),
            (On::Both, _) | (On::Create, Mode::Create) | (On::Update, Mode::Update)
        )
    }

    /// The value of this field, read from `value` as its kind says.
    pub fn read(&self, value: &Value, label: &str) -> Result<Option<Value>, InputError> {
        let holder = json!({ "v": value });
        let p = Params::new(&holder);
        Ok(match self.kind {
            Kind::Text => {
                let text = match value {
                    Value::Number(n) => n.to_string(),
                    _ => p.string("v", label)?.to_string(),
                };
                (!text.trim().is_empty()).then(|| json!(text))
            }
            Kind::Whole { min } => p.whole("v", label, min)?.map(|n| json!(n)),
            Kind::Id { what } => p.id("v", label, what)?.map(|id| json!(id.get())),
            Kind::Date => p.date("v", label)?.map(|t| json!(t)),
            Kind::Bool => match value {
                Value::Null => None,
                Value::String(s) if s.trim().is_empty() => None,
                Value::String(s) => Some(json!(
                    crate::entity::fields::bool_of(&json!(s)).map_err(|e| InputError::new(label, e))?
                )),
                _ => Some(json!(p.bool("v", label)?)),
            },
        })
    }
}

/// Fields most entities share.
pub const NAME: FieldSpec = FieldSpec::new("name", "name", "Name", Kind::Text).primary();
pub const RESPONSIBLE_USER: FieldSpec = FieldSpec::new(
    "responsible_user_id",
    "responsibleUserId",
    "Responsible User",
    Kind::Id { what: "a user" },
);
pub const CREATED_AT: FieldSpec = FieldSpec::new("created_at", "createdAt", "Created At", Kind::Date).on(On::Create);
pub const CREATED_BY: FieldSpec =
    FieldSpec::new("created_by", "createdBy", "Created By", Kind::Id { what: "a user" }).on(On::Create);

/// Where the parameters of a manual write live in the node, and their labels.
pub struct Collection {
    pub key: &'static str,
    pub label: &'static str,
}

pub const CREATE_COLLECTION: Collection = Collection {
    key: "additionalFields",
    label: "Additional Fields",
};
pub const UPDATE_COLLECTION: Collection = Collection {
    key: "updateFields",
    label: "Update Fields",
};

pub fn collection(mode: Mode) -> Collection {
    match mode {
        Mode::Create => CREATE_COLLECTION,
        Mode::Update => UPDATE_COLLECTION,
    }
}

/// Whether the item's fields are taken as they are.
pub fn is_auto(params: Params) -> bool {
    params.string("mapping", "Mapping").unwrap_or_default() == "auto"
}

/// The item's own fields, in automatic mode.
fn record<'a>(params: Params<'a>) -> Result<&'a Map<String, Value>, InputError> {
    match params.get("record") {
        Some(Value::Object(map)) => Ok(map),
        other => Err(InputError::new(
            "Input Item",
            format!(
                "expected the item's fields as an object, got {}",
                other.map_or("nothing".to_string(), describe)
            ),
        )),
    }
}

/// Whether `key` of an item names a field of the entity rather than a
/// custom field.
fn known_key(entity: &Entity, key: &str) -> bool {
    key == "id"
        || matches!(
            key,
            "tags" | "tags_to_add" | "tags_to_delete" | "custom_fields" | "custom_fields_values"
        )
        || entity.fields.iter().any(|s| s.api == key || s.param == key)
        || entity.read_only.contains(&key)
        || COMMON_READ_ONLY.contains(&key)
}

/// Custom field values as the node hands them over: a resource-mapper value
/// (`{"mappingMode", "value": {...}}`) or a plain object of field → value.
pub fn custom_field_map(params: Params) -> Result<Map<String, Value>, InputError> {
    let Some(raw) = params.get("customFields") else {
        return Ok(Map::new());
    };
    let values = match raw {
        Value::Object(o) if o.contains_key("mappingMode") || o.contains_key("value") => {
            o.get("value").cloned().unwrap_or(Value::Null)
        }
        other => other.clone(),
    };
    object_of(values, "Custom Fields")
}

fn object_of(values: Value, label: &str) -> Result<Map<String, Value>, InputError> {
    match values {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        Value::String(s) if s.trim().is_empty() => Ok(Map::new()),
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(InputError::new(label, "is not a JSON object of field → value")),
        },
        other => Err(InputError::new(
            label,
            format!("expected field → value pairs, got {}", describe(&other)),
        )),
    }
}

/// Whether the item sets or clears any custom field (the account's field
/// definitions are fetched only then).
pub fn needs_fields(entity: &Entity, params: Params) -> bool {
    if !entity.features.custom_fields {
        return false;
    }
    if entity.rules.needs_fields(params) {
        return true;
    }
    if is_auto(params) {
        return record(params).is_ok_and(|r| {
            r.iter().any(|(k, v)| match k.as_str() {
                "custom_fields" | "custom_fields_values" => !v.is_null(),
                k => !known_key(entity, k),
            })
        });
    }
    custom_field_map(params)
        .map(|m| m.values().any(|v| !v.is_null() && v != ""))
        .unwrap_or(true)
        || params
            .strings("customFieldsToClear", "Custom Fields to Clear")
            .map(|v| !v.is_empty())
            .unwrap_or(true)
}

/// Tag references from names and IDs: `[{"id": 12}, {"name": "vip"}]`.
pub fn tag_refs(values: Vec<&str>) -> Vec<Value> {
    values
        .into_iter()
        .map(|t| match t.parse::<u64>() {
            Ok(id) if id > 0 => json!({ "id": id }),
            _ => json!({ "name": t }),
        })
        .collect()
}

/// The record an update writes to, from the node's locator or the item's `id`.
pub fn record_id(entity: &Entity, params: Params, account: &AccountAddress) -> Result<RecordId, InputError> {
    if is_auto(params) {
        let id = record(params)?.get("id").ok_or_else(|| {
            InputError::new(
                "id",
                format!("the item has no `id` field naming the {} to update", entity.noun),
            )
        })?;
        return parse_ref(id, account, entity, "id");
    }
    parse_ref(
        params.get(entity.id_param).unwrap_or(&Value::Null),
        account,
        entity,
        entity.label,
    )
}

/// Builds one record's body. `fields` is required when the item uses custom
/// fields ([`needs_fields`]).
pub fn record_body(
    entity: &Entity,
    params: Params,
    mode: Mode,
    fields: Option<&FieldSet>,
) -> Result<Map<String, Value>, InputError> {
    let mut body = if is_auto(params) {
        auto_body(entity, params, mode, fields)?
    } else {
        manual_body(entity, params, mode, fields)?
    };
    entity.rules.finish(&mut body, mode)?;
    entity.rules.check(&body, mode)?;
    if mode == Mode::Update {
        body.remove("id");
        if body.is_empty() {
            let where_ = if is_auto(params) {
                "Input Item"
            } else {
                collection(mode).label
            };
            return Err(InputError::new(where_, "nothing to update: set at least one field"));
        }
    }
    Ok(body)
}

fn manual_body(
    entity: &Entity,
    params: Params,
    mode: Mode,
    fields: Option<&FieldSet>,
) -> Result<Map<String, Value>, InputError> {
    let coll = collection(mode);
    let c = params.object(coll.key);
    let mut body = Map::new();
    for spec in entity.fields.iter().filter(|s| s.applies(mode)) {
        let (source, label) = if spec.primary && mode == Mode::Create {
            (params, spec.label.to_string())
        } else {
            (c, format!("{} › {}", coll.label, spec.label))
        };
        if let Some(value) = source.get(spec.param) {
            if let Some(v) = spec.read(value, &label)? {
                body.insert(spec.api.into(), v);
            }
        }
    }
    entity.rules.manual_extras(params, mode, &mut body, fields)?;
    if entity.features.tags {
        let label = |n: &str| format!("{} › {n}", coll.label);
        match mode {
            Mode::Create => {
                let tags = tag_refs(c.strings("tags", &label("Tags"))?);
                if !tags.is_empty() {
                    embedded(&mut body).insert("tags".into(), Value::Array(tags));
                }
            }
            Mode::Update => {
                for (param, key, name) in [
                    ("tagsToAdd", "tags_to_add", "Tags to Add"),
                    ("tagsToRemove", "tags_to_delete", "Tags to Remove"),
                ] {
                    let tags = tag_refs(c.strings(param, &label(name))?);
                    if !tags.is_empty() {
                        body.insert(key.into(), Value::Array(tags));
                    }
                }
            }
        }
    }
    if entity.features.custom_fields {
        let values = custom_field_map(params)?;
        let to_clear = params.strings("customFieldsToClear", "Custom Fields to Clear")?;
        if !values.is_empty() || !to_clear.is_empty() {
            let fields = loaded(fields)?;
            let mut custom = fields
                .write_values(&values, entity.noun)
                .map_err(|p| InputError::new("Custom Fields", p))?;
            let cleared = fields
                .clear_values(&to_clear, entity.noun)
                .map_err(|p| InputError::new("Custom Fields to Clear", p))?;
            for entry in cleared {
                if custom.iter().any(|c| c.same_field(&entry)) {
                    return Err(InputError::new(
                        "Custom Fields to Clear",
                        format!("field {} is both set and cleared; choose one", entry.field_label()),
                    ));
                }
                custom.push(entry);
            }
            merge_custom(&mut body, custom);
        }
    }
    Ok(body)
}

fn loaded(fields: Option<&FieldSet>) -> Result<&FieldSet, InputError> {
    fields.ok_or_else(|| InputError::new("Custom Fields", "the account's field definitions are not loaded"))
}

fn embedded(body: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let slot = body.entry("_embedded").or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("just made an object")
}

/// Appends custom field entries to the body's `custom_fields_values`.
pub fn merge_custom(body: &mut Map<String, Value>, entries: Vec<WriteEntry>) {
    if entries.is_empty() {
        return;
    }
    let list = body
        .entry("custom_fields_values")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = list {
        list.extend(entries.into_iter().map(WriteEntry::into_json));
    }
}

/// A list of tag names from a list or comma-separated text.
fn tag_list(value: &Value, label: &str) -> Result<Vec<Value>, InputError> {
    let holder = json!({ "v": value });
    let names = Params::new(&holder).strings("v", label).or_else(|_| match value {
        // `[{"id": 1, "name": "vip"}]`, the shape amoCRM reads back.
        Value::Array(items) => items
            .iter()
            .map(|t| match t {
                Value::Object(o) => o
                    .get("name")
                    .and_then(Value::as_str)
                    .or_else(|| o.get("id").and_then(Value::as_str))
                    .ok_or_else(|| InputError::new(label, "a tag needs a name")),
                other => Err(InputError::new(
                    label,
                    format!("expected tag names, found {}", describe(other)),
                )),
            })
            .collect(),
        other => Err(InputError::new(
            label,
            format!("expected tag names, got {}", describe(other)),
        )),
    })?;
    Ok(tag_refs(names))
}

fn auto_body(
    entity: &Entity,
    params: Params,
    mode: Mode,
    fields: Option<&FieldSet>,
) -> Result<Map<String, Value>, InputError> {
    let record = record(params)?;
    let ignore_unknown = params
        .object("options")
        .bool("ignoreUnknownFields", "Options › Ignore Unknown Fields")?;
    let mut body = Map::new();
    let mut custom = Map::new();
    let mut custom_raw: Vec<WriteEntry> = Vec::new();
    for (key, value) in record {
        if let Some(spec) = entity.fields.iter().find(|s| s.api == key || s.param == key) {
            if !spec.applies(mode) {
                continue;
            }
            if let Some(v) = spec.read(value, key)? {
                body.insert(spec.api.into(), v);
            }
            continue;
        }
        match key.as_str() {
            "id" => {}
            "tags" | "tags_to_add" | "tags_to_delete" if entity.features.tags && !value.is_null() => {
                let tags = tag_list(value, key)?;
                match (key.as_str(), mode) {
                    (_, _) if tags.is_empty() => {}
                    ("tags", Mode::Create) => {
                        embedded(&mut body).insert("tags".into(), Value::Array(tags));
                    }
                    ("tags" | "tags_to_add", _) => {
                        body.insert("tags_to_add".into(), Value::Array(tags));
                    }
                    _ => {
                        body.insert("tags_to_delete".into(), Value::Array(tags));
                    }
                }
            }
            "custom_fields" if entity.features.custom_fields => {
                custom.extend(object_of(value.clone(), "custom_fields")?);
            }
            "custom_fields_values" if entity.features.custom_fields && !value.is_null() => {
                custom_raw.extend(
                    loaded(fields)?
                        .entries_from_json(value, entity.noun)
                        .map_err(|p| InputError::new("custom_fields_values", p))?,
                );
            }
            k if entity.read_only.contains(&k) || COMMON_READ_ONLY.contains(&k) => {}
            k if entity.features.custom_fields => match fields.and_then(|f| f.find(k)) {
                Some(_) => {
                    custom.insert(k.to_string(), value.clone());
                }
                None if ignore_unknown => {}
                None => return Err(unknown_key(entity, k, fields.is_some())),
            },
            k if ignore_unknown => {
                let _ = k;
            }
            k => return Err(unknown_key(entity, k, false)),
        }
    }
    if !custom.is_empty() {
        let entries = loaded(fields)?
            .write_values(&custom, entity.noun)
            .map_err(|p| InputError::new("Custom Fields", p))?;
        custom_raw.extend(entries);
    }
    merge_custom(&mut body, custom_raw);
    Ok(body)
}

fn unknown_key(entity: &Entity, key: &str, has_fields: bool) -> InputError {
    let mut known: Vec<&str> = entity.fields.iter().map(|s| s.api).collect();
    if entity.features.tags {
        known.push("tags");
    }
    let custom = if has_fields {
        format!(
            " nor a {} custom field of the account (by name, code or ID)",
            entity.noun
        )
    } else {
        String::new()
    };
    InputError::new(
        shorten(key),
        format!(
            "is not a {} field ({}){custom}; rename or remove it, or turn on Options › Ignore Unknown Fields",
            entity.noun,
            known.join(", ")
        ),
    )
}
