//! The collections of the Account node as entity descriptors, so that the
//! entity machinery lists, reads, creates and deletes them: pipelines and
//! their statuses, users, roles, custom fields and their groups, tags, loss
//! reasons and sources. Statuses, custom fields, groups and tags live under
//! a pipeline or an entity: their [`Scope`].

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use crate::account::AccountAddress;
use crate::api_error::ApiErrorKind;
use crate::engine::{Operation, Replay, Reply};
use crate::entity::batch::{embedded_results, BatchKind, Batcher};
use crate::entity::fields::FieldSet;
use crate::entity::record::{record_body, tag_refs, FieldSpec, Kind, Mode, On, NAME};
use crate::entity::reference::parse_ref;
use crate::entity::{Entity, EntityRef, Features, NoRules, Rules};
use crate::error::NodeError;
use crate::http::{Method, Request};
use crate::input::{shorten, InputError, Params};

use super::per_item::{deleted, not_found, one_record, plain, written, ItemCall, PerItem};
use super::rules;

/// Where a scoped collection lives, read from each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `/api/v4/leads/pipelines/{pipelineId}/statuses`.
    Pipeline,
    /// `/api/v4/{leads|contacts|companies|customers}/custom_fields` or
    /// `/api/v4/catalogs/{catalogId}/custom_fields`.
    FieldEntity,
    /// The same without catalogs (groups).
    GroupEntity,
    /// `/api/v4/{leads|contacts|companies|customers}/tags`.
    TagEntity,
}

/// The entities whose custom fields, groups and tags the node manages.
pub const FIELD_ENTITIES: [&str; 4] = ["leads", "contacts", "companies", "customers"];

fn entity_param(params: Params, catalogs: bool) -> Result<String, InputError> {
    let label = "Entity";
    let e = params.string("entityType", label)?.trim();
    if FIELD_ENTITIES.contains(&e) {
        return Ok(e.to_string());
    }
    if catalogs && e == "catalogs" {
        let id = params
            .id("catalogId", "Catalog ID", "a catalog")?
            .ok_or_else(|| InputError::new("Catalog ID", "is empty; enter the ID of a catalog (list), such as 1001"))?;
        return Ok(format!("catalogs/{id}"));
    }
    let choices = if catalogs {
        "leads, contacts, companies, customers or catalogs"
    } else {
        "leads, contacts, companies or customers"
    };
    Err(InputError::new(
        label,
        if e.is_empty() {
            format!("is empty; choose {choices}")
        } else {
            format!("\"{}\" is not one of {choices}", shorten(e))
        },
    ))
}

impl Scope {
    /// The item's scope as a path segment (`7`, `leads`, `catalogs/1001`).
    pub fn key_of(self, params: Params) -> Result<String, InputError> {
        match self {
            Scope::Pipeline => params
                .id("pipelineId", "Pipeline", "a pipeline")?
                .map(|id| id.to_string())
                .ok_or_else(|| InputError::new("Pipeline", "is empty; choose the pipeline the status belongs to")),
            Scope::FieldEntity => entity_param(params, true),
            Scope::GroupEntity | Scope::TagEntity => entity_param(params, false),
        }
    }
}

/// A collection of the Account node.
#[derive(Clone)]
pub struct Collection {
    pub resource: &'static str,
    pub noun: &'static str,
    pub nouns: &'static str,
    pub label: &'static str,
    /// The path, with `{}` where the scope goes.
    pub path: Cow<'static, str>,
    pub embedded: &'static str,
    pub id_param: &'static str,
    pub fields: &'static [FieldSpec],
    pub rules: &'static dyn Rules,
    pub ops: &'static [&'static str],
    /// Updates go as a batch (`PATCH {path}` with a list) rather than one
    /// `PATCH {path}/{id}` per record.
    pub batch_update: bool,
    pub max_batch: usize,
    pub with_list: &'static [&'static str],
    pub scope: Option<Scope>,
}

const CRUD: &[&str] = &["getMany", "get", "create", "update", "delete"];

pub const PIPELINE_FIELDS: &[FieldSpec] = &[
    NAME,
    FieldSpec::new("sort", "sort", "Sort", Kind::Whole { min: 0 }).primary(),
    FieldSpec::new("is_main", "isMain", "Main Pipeline", Kind::Bool),
    FieldSpec::new("is_unsorted_on", "isUnsortedOn", "Incoming Leads Stage", Kind::Bool),
    FieldSpec::new("is_archive", "isArchive", "Archived", Kind::Bool).on(On::Update),
];

pub const STATUS_FIELDS: &[FieldSpec] = &[
    NAME,
    FieldSpec::new("sort", "sort", "Sort", Kind::Whole { min: 0 }).primary(),
    FieldSpec::new("color", "color", "Color", Kind::Text),
];

pub const USER_FIELDS: &[FieldSpec] = &[
    NAME,
    FieldSpec::new("email", "email", "Email", Kind::Text).primary(),
    FieldSpec::new("password", "password", "Password", Kind::Text),
    FieldSpec::new("lang", "lang", "Language", Kind::Text),
];

pub const CUSTOM_FIELD_FIELDS: &[FieldSpec] = &[
    NAME,
    FieldSpec::new("type", "type", "Type", Kind::Text)
        .primary()
        .on(On::Create),
    FieldSpec::new("code", "code", "Code", Kind::Text),
    FieldSpec::new("sort", "sort", "Sort", Kind::Whole { min: 0 }),
    FieldSpec::new("group_id", "groupId", "Group ID", Kind::Text),
    FieldSpec::new("is_api_only", "isApiOnly", "API Only", Kind::Bool),
    FieldSpec::new("remind", "remind", "Remind", Kind::Text),
    FieldSpec::new("currency", "currency", "Currency", Kind::Text),
];

pub const GROUP_FIELDS: &[FieldSpec] = &[
    NAME,
    FieldSpec::new("sort", "sort", "Sort", Kind::Whole { min: 0 }).primary(),
];

pub const TAG_FIELDS: &[FieldSpec] = &[NAME, FieldSpec::new("color", "color", "Color", Kind::Text)];

pub const LOSS_REASON_FIELDS: &[FieldSpec] = &[NAME, FieldSpec::new("sort", "sort", "Sort", Kind::Whole { min: 0 })];

pub const SOURCE_FIELDS: &[FieldSpec] = &[
    NAME,
    FieldSpec::new("external_id", "externalId", "External ID", Kind::Text).primary(),
    FieldSpec::new("pipeline_id", "pipelineId", "Pipeline", Kind::Id { what: "a pipeline" }),
    FieldSpec::new("default", "default", "Default", Kind::Bool),
    FieldSpec::new("origin_code", "originCode", "Origin Code", Kind::Text),
];

impl Collection {
    #[allow(clippy::too_many_arguments)]
    const fn new(
        resource: &'static str,
        (noun, nouns, label): (&'static str, &'static str, &'static str),
        path: &'static str,
        embedded: &'static str,
        id_param: &'static str,
        fields: &'static [FieldSpec],
        rules: &'static dyn Rules,
        ops: &'static [&'static str],
    ) -> Collection {
        Collection {
            resource,
            noun,
            nouns,
            label,
            path: Cow::Borrowed(path),
            embedded,
            id_param,
            fields,
            rules,
            ops,
            batch_update: false,
            max_batch: crate::entity::MAX_WRITE_BATCH,
            with_list: &[],
            scope: None,
        }
    }

    /// The collection of a node resource.
    pub fn of(resource: &str) -> Option<Collection> {
        let c = match resource {
            "pipeline" => Collection::new(
                "pipeline",
                ("pipeline", "pipelines", "Pipeline"),
                "/api/v4/leads/pipelines",
                "pipelines",
                "pipelineId",
                PIPELINE_FIELDS,
                &rules::PIPELINE_RULES,
                CRUD,
            ),
            "pipelineStatus" => Collection {
                scope: Some(Scope::Pipeline),
                with_list: &["descriptions"],
                ..Collection::new(
                    "pipelineStatus",
                    ("status", "statuses", "Status"),
                    "/api/v4/leads/pipelines/{}/statuses",
                    "statuses",
                    "statusId",
                    STATUS_FIELDS,
                    &rules::STATUS_RULES,
                    CRUD,
                )
            },
            // D:users-api: at most 10 users per request.
            "user" => Collection {
                max_batch: 10,
                with_list: &["role", "group", "uuid", "amojo_id", "user_rank", "phone_number"],
                ..Collection::new(
                    "user",
                    ("user", "users", "User"),
                    "/api/v4/users",
                    "users",
                    "userId",
                    USER_FIELDS,
                    &rules::USER_RULES,
                    &["getMany", "get", "create"],
                )
            },
            "role" => Collection {
                with_list: &["users"],
                ..Collection::new(
                    "role",
                    ("role", "roles", "Role"),
                    "/api/v4/roles",
                    "roles",
                    "roleId",
                    &[],
                    &NoRules,
                    &["getMany", "get"],
                )
            },
            "customField" => Collection {
                scope: Some(Scope::FieldEntity),
                batch_update: true,
                ..Collection::new(
                    "customField",
                    ("custom field", "custom fields", "Custom Field"),
                    "/api/v4/{}/custom_fields",
                    "custom_fields",
                    "fieldId",
                    CUSTOM_FIELD_FIELDS,
                    &rules::CUSTOM_FIELD_RULES,
                    CRUD,
                )
            },
            "fieldGroup" => Collection {
                scope: Some(Scope::GroupEntity),
                ..Collection::new(
                    "fieldGroup",
                    ("custom field group", "custom field groups", "Group"),
                    "/api/v4/{}/custom_fields/groups",
                    "custom_field_groups",
                    "groupId",
                    GROUP_FIELDS,
                    &NoRules,
                    &["getMany", "create"],
                )
            },
            "tag" => Collection {
                scope: Some(Scope::TagEntity),
                ..Collection::new(
                    "tag",
                    ("tag", "tags", "Tag"),
                    "/api/v4/{}/tags",
                    "tags",
                    "tagId",
                    TAG_FIELDS,
                    &rules::TAG_RULES,
                    &["getMany", "create"],
                )
            },
            "lossReason" => Collection::new(
                "lossReason",
                ("loss reason", "loss reasons", "Loss Reason"),
                "/api/v4/leads/loss_reasons",
                "loss_reasons",
                "lossReasonId",
                LOSS_REASON_FIELDS,
                &NoRules,
                CRUD,
            ),
            "source" => Collection {
                batch_update: true,
                ..Collection::new(
                    "source",
                    ("source", "sources", "Source"),
                    "/api/v4/sources",
                    "sources",
                    "sourceId",
                    SOURCE_FIELDS,
                    &NoRules,
                    CRUD,
                )
            },
            _ => return None,
        };
        Some(c)
    }

    /// The collection of one scope: its path, and for lead tags the rules
    /// of their colours.
    pub fn for_scope(&self, key: &str) -> Collection {
        let mut c = self.clone();
        c.path = Cow::Owned(self.path.replace("{}", key));
        if self.scope == Some(Scope::TagEntity) && key == "leads" {
            c.rules = &rules::LEAD_TAG_RULES;
        }
        c
    }

    /// The descriptor the entity machinery reads.
    pub fn entity(&self) -> EntityRef {
        EntityRef::from(Entity {
            noun: self.noun,
            nouns: self.nouns,
            label: self.label,
            path: self.path.clone(),
            embedded: self.embedded,
            entity_type: self.embedded,
            card: None,
            id_param: self.id_param,
            with: &[],
            with_list_only: self.with_list,
            order: &[],
            filters: &[],
            fields: self.fields,
            read_only: &[],
            fields_path: self.path.clone(),
            max_batch: self.max_batch,
            multitext: false,
            features: Features::NONE,
            rules: self.rules,
        })
    }
}

/// Update of one record: `PATCH {path}/{id}` with an object, where amoCRM
/// takes no list (pipelines, statuses, loss reasons, groups).
pub struct SingleUpdate {
    pub entity: EntityRef,
    pub account: AccountAddress,
}

impl ItemCall for SingleUpdate {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let e = &self.entity;
        let id = parse_ref(
            params.get(e.id_param).unwrap_or(&Value::Null),
            &self.account,
            e,
            e.label,
        )?;
        let body = record_body(e, params, Mode::Update, None)?;
        Ok((
            Request::new(Method::Patch, self.account.url(&e.record_path(id))).json(&Value::Object(body)),
            Replay::Safe,
        ))
    }

    fn reply(&self, params: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        let e = &self.entity;
        let id = params.get(e.id_param).cloned().unwrap_or(Value::Null);
        let id = id.get("value").cloned().unwrap_or(id);
        match reply {
            Err(err) if err.kind == ApiErrorKind::NotFound => Err(not_found(e.label, e.noun, &id, 404)),
            other => written(&format!("Updating {} {}", e.noun, plain(&id)), other),
        }
    }

    fn writes(&self) -> bool {
        true
    }
}

/// Custom field groups have text IDs (`leads_1591…`): Get, Update and
/// Delete name them as text.
struct GroupCall {
    account: AccountAddress,
    op: &'static str,
}

fn group_id(params: Params) -> Result<String, InputError> {
    let id = params.string("groupId", "Group ID")?.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(InputError::new(
            "Group ID",
            format!("\"{}\" is not a group ID such as leads_16281573493640", shorten(id)),
        ));
    }
    Ok(id.to_string())
}

impl ItemCall for GroupCall {
    fn request(&self, params: Params) -> Result<(Request, Replay), InputError> {
        let path = format!(
            "/api/v4/{}/custom_fields/groups/{}",
            entity_param(params, false)?,
            group_id(params)?
        );
        let url = self.account.url(&path);
        Ok(match self.op {
            "get" => (Request::get(url), Replay::Safe),
            "delete" => (Request::new(Method::Delete, url), Replay::Safe),
            _ => {
                let u = params.object("updateFields");
                let mut body = Map::new();
                let name = u.string("name", "Update Fields › Name")?.trim();
                if !name.is_empty() {
                    body.insert("name".into(), json!(name));
                }
                if let Some(sort) = u.whole("sort", "Update Fields › Sort", 0)? {
                    body.insert("sort".into(), json!(sort));
                }
                let fields = u.ids("fieldIds", "Update Fields › Custom Field IDs", "a custom field")?;
                if !fields.is_empty() {
                    body.insert(
                        "fields".into(),
                        json!(fields.iter().map(|f| f.get()).collect::<Vec<_>>()),
                    );
                }
                if body.is_empty() {
                    return Err(InputError::new(
                        "Update Fields",
                        "nothing to update: set at least one field",
                    ));
                }
                (
                    Request::new(Method::Patch, url).json(&Value::Object(body)),
                    Replay::Safe,
                )
            }
        })
    }

    fn reply(&self, params: Params, reply: Reply) -> Result<Vec<Value>, NodeError> {
        let id = json!(params.string("groupId", "").unwrap_or_default().trim());
        match self.op {
            "get" => one_record("Group", "custom field group", &id, reply),
            "delete" => deleted(&id, "Group", "custom field group", reply),
            _ => match reply {
                Err(e) if e.kind == ApiErrorKind::NotFound => Err(not_found("Group", "custom field group", &id, 404)),
                other => written(&format!("Updating custom field group {}", plain(&id)), other),
            },
        }
    }

    fn writes(&self) -> bool {
        self.op != "get"
    }
}

pub fn group_operation(op: &str, account: AccountAddress) -> Box<dyn Operation> {
    let op = match op {
        "get" => "get",
        "delete" => "delete",
        _ => "update",
    };
    Box::new(PerItem::new(GroupCall { account, op }))
}

/// Tags: Delete takes tags off records. amoCRM's API has no call that
/// removes a tag from the account (its tags page lists only reading and
/// creating, and the official PHP client has none either); what it offers is
/// `tags_to_delete` on a record update, sent here in batches of records.
pub struct Untag;

impl BatchKind for Untag {
    fn nouns(&self) -> (&'static str, &'static str) {
        ("record", "records")
    }
    fn method(&self) -> Method {
        Method::Patch
    }
    fn path(&self) -> &str {
        ""
    }
    fn unsafe_to_repeat(&self) -> bool {
        false
    }
    fn item_path(&self, params: Params) -> Result<Option<String>, InputError> {
        Ok(Some(format!("/api/v4/{}", entity_param(params, false)?)))
    }
    fn body(&self, params: Params, _: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        let id = params
            .id("recordId", "Record ID", "a record")?
            .ok_or_else(|| InputError::new("Record ID", "is empty; enter the ID of the record to take the tags off"))?;
        let tags = params.strings("tags", "Tags")?;
        if tags.is_empty() {
            return Err(InputError::new(
                "Tags",
                "is empty; enter tag names or IDs separated by commas",
            ));
        }
        let mut body = Map::new();
        body.insert("id".into(), json!(id.get()));
        body.insert("tags_to_delete".into(), Value::Array(tag_refs(tags)));
        Ok(body)
    }
    fn key(&self, body: &Map<String, Value>) -> Option<String> {
        body.get("id").map(Value::to_string)
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        ["leads", "contacts", "companies", "customers"]
            .iter()
            .flat_map(|k| embedded_results(answer, k))
            .collect()
    }
}

pub fn untag(account: AccountAddress) -> Batcher {
    Batcher::new(Untag, account)
}
