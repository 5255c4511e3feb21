//! The machinery every amoCRM entity shares, driven by a descriptor.
//!
//! An entity (leads, contacts, companies, …) is an [`Entity`]: its paths, the
//! key of its lists under `_embedded`, the `with` values it accepts, its card
//! URL, the fields it writes, and which of custom fields, notes, tags and
//! links it has. The generic operations read the descriptor; what is truly
//! specific to one entity (a lead's pipeline and status, a contact's phones)
//! lives in the entity's own module as [`Rules`].
//!
//! * [`reference`]: naming a record by ID, card URL or picker value.
//! * [`embed`]: the `with` values of reads.
//! * [`get`]: one record per item.
//! * [`pager`]: the one paging machine, for Get Many, dropdowns and field
//!   definitions; [`page`] reads one page.
//! * [`get_many`]: Get Many and every other listing of records.
//! * [`filter`]: Get Many's filters in bracket syntax.
//! * [`batch`]: writes in batches, paired back through `request_id`.
//! * [`record`]: the body of one record from node parameters or from the
//!   item's own fields; [`write`]: create and update.
//! * [`fields`]: custom field definitions and typed values; [`field_loader`]
//!   fetches them.
//! * [`links`], [`notes`]: links between records, and notes.
//! * [`simplify`]: the flat output.
//! * [`search`]: the record picker.

pub mod batch;
pub mod embed;
pub mod field_loader;
pub mod fields;
pub mod filter;
pub mod find_or_create;
pub mod get;
pub mod get_many;
pub mod links;
pub mod multitext;
pub mod notes;
pub mod page;
pub mod pager;
pub mod reach;
pub mod record;
pub mod reference;
pub mod search;
pub mod simplify;
pub mod write;

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::input::{InputError, Params};
use fields::FieldSet;
use record::{FieldSpec, Mode};

pub use reference::RecordId;

/// Records per write request unless the node's Batch Size says otherwise.
/// amoCRM documents no maximum; its official PHP client advises at most 50
/// entities per write request (250 is only the page size).
pub const DEFAULT_WRITE_BATCH: usize = 50;

/// The largest Batch Size the node accepts, for accounts whose owners have
/// measured that amoCRM takes it: amoCRM's page size.
pub const MAX_WRITE_BATCH: usize = 250;

/// Get Many's filters, in the order they are written to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Ids,
    Names,
    Price,
    Pipelines,
    Statuses,
    ResponsibleUsers,
    CreatedBy,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
    ClosestTaskAt,
    CustomFields,
    /// `filter[is_completed]`: done or open (tasks).
    Completed,
    /// `filter[task_type]`: the task types (tasks).
    TaskTypes,
    /// `filter[entity_type]` and `filter[entity_id]`: what the records are
    /// attached to (tasks).
    LinkedEntity,
    /// `filter[complete_till][from|to]`: the deadline (tasks).
    Deadline,
    /// `filter[status_id]`: statuses without a pipeline (customers).
    StatusIds,
    /// `filter[next_price][from|to]`: the expected next purchase (customers).
    NextPrice,
    /// `filter[next_date][from|to]`: when the next purchase is expected (customers).
    NextDate,
    /// Incoming leads' categories: `filter[category][]`.
    Categories,
    /// One pipeline, `filter[pipeline_id]=N`, where amoCRM takes a single
    /// ID (incoming leads).
    Pipeline,
}

/// The Get Many filters of the entities that are people or organisations
/// (contacts, companies, customers).
pub const PARTY_FILTERS: &[Filter] = &[
    Filter::Ids,
    Filter::Names,
    Filter::ResponsibleUsers,
    Filter::CreatedBy,
    Filter::UpdatedBy,
    Filter::CreatedAt,
    Filter::UpdatedAt,
    Filter::ClosestTaskAt,
    Filter::CustomFields,
];

/// Sort keys of the entities that amoCRM sorts by update or ID only.
pub const ORDER_BY_UPDATE_OR_ID: &[&str] = &["updated_at", "id"];

/// What is specific to one entity, beyond what the descriptor says.
pub trait Rules: Sync {
    /// Adds what the node's parameters say beyond the common fields (a lead's
    /// contacts on create, a contact's phones) to a body built in manual mode.
    fn manual_extras(
        &self,
        _params: Params,
        _mode: Mode,
        _body: &mut Map<String, Value>,
        _fields: Option<&FieldSet>,
    ) -> Result<(), InputError> {
        Ok(())
    }

    /// Whether the item's own parameters need the custom field definitions
    /// (a contact's phones are written to its PHONE field).
    fn needs_fields(&self, _params: Params) -> bool {
        false
    }

    /// Puts a finished body, whichever mode built it, into the shape amoCRM
    /// reads (a task's result text becomes `{"text": …}`).
    fn finish(&self, _body: &mut Map<String, Value>, _mode: Mode) -> Result<(), InputError> {
        Ok(())
    }

    /// Checks amoCRM's rules on a finished body (a loss reason only on a lost
    /// lead, say), whichever mode built it.
    fn check(&self, _body: &Map<String, Value>, _mode: Mode) -> Result<(), InputError> {
        Ok(())
    }
}

/// The rules of an entity with nothing specific.
pub struct NoRules;

impl Rules for NoRules {}

/// Which of the shared features an entity has.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    pub custom_fields: bool,
    pub notes: bool,
    pub tags: bool,
    /// The entity types its records link to (`contacts`, `companies`,
    /// `catalog_elements`, …); empty when it has no links.
    pub links: &'static [&'static str],
}

impl Features {
    /// None of them (tasks, transactions).
    pub const NONE: Features = Features {
        custom_fields: false,
        notes: false,
        tags: false,
        links: &[],
    };

    /// Custom fields, notes and tags, and links to `links`.
    pub const fn all(links: &'static [&'static str]) -> Features {
        Features {
            custom_fields: true,
            notes: true,
            tags: true,
            links,
        }
    }
}

/// One amoCRM entity, as data.
pub struct Entity {
    /// Singular and plural nouns for messages: "lead", "leads".
    pub noun: &'static str,
    pub nouns: &'static str,
    /// Title-case name for field labels: "Lead".
    pub label: &'static str,
    /// The collection path, such as `/api/v4/leads`.
    pub path: Cow<'static, str>,
    /// The key of lists and write answers under `_embedded`.
    pub embedded: &'static str,
    /// How links, notes and tasks name the entity (`leads`, `contacts`, …).
    pub entity_type: &'static str,
    /// The path of a record's card in amoCRM's web interface before its ID
    /// (`/leads/detail/`), when records have one.
    pub card: Option<&'static str>,
    /// The node parameter that names a record (`leadId`).
    pub id_param: &'static str,
    /// `with` values a single record accepts, and those only lists accept.
    pub with: &'static [&'static str],
    pub with_list_only: &'static [&'static str],
    /// Fields Get Many may sort by.
    pub order: &'static [&'static str],
    /// Get Many's filters.
    pub filters: &'static [Filter],
    /// The fields a write sets, common to both modes.
    pub fields: &'static [FieldSpec],
    /// Keys of amoCRM's read shape that writes ignore (so that a record read
    /// with Get can be written back with its fields mapped automatically).
    pub read_only: &'static [&'static str],
    /// Where the custom field definitions live.
    pub fields_path: Cow<'static, str>,
    /// The largest write batch amoCRM takes for this entity.
    pub max_batch: usize,
    /// Update offers Add, Replace and Remove for multi-value fields
    /// (phones, e-mails): see [`multitext`].
    pub multitext: bool,
    pub features: Features,
    pub rules: &'static dyn Rules,
}

/// An entity descriptor as operations hold it: one of the static ones, or
/// one built for this call (the elements of one catalog live under that
/// catalog's path).
#[derive(Clone)]
pub enum EntityRef {
    Static(&'static Entity),
    Built(std::rc::Rc<Entity>),
}

impl std::ops::Deref for EntityRef {
    type Target = Entity;

    fn deref(&self) -> &Entity {
        match self {
            EntityRef::Static(e) => e,
            EntityRef::Built(e) => e,
        }
    }
}

impl From<&'static Entity> for EntityRef {
    fn from(e: &'static Entity) -> EntityRef {
        EntityRef::Static(e)
    }
}

impl From<Entity> for EntityRef {
    fn from(e: Entity) -> EntityRef {
        EntityRef::Built(std::rc::Rc::new(e))
    }
}

impl Entity {
    /// The path of one record.
    pub fn record_path(&self, id: RecordId) -> String {
        format!("{}/{id}", self.path)
    }

    /// The metadata cache's name for this entity's field definitions.
    pub fn fields_kind(&self) -> String {
        format!("custom_fields {}", self.fields_path)
    }
}

/// Keys amoCRM returns on every entity and never takes in a write.
pub const COMMON_READ_ONLY: &[&str] = &[
    "_links",
    "_embedded",
    "account_id",
    "group_id",
    "is_deleted",
    "updated_at",
    "updated_by",
    "closest_task_at",
];

/// A running operation and whether it writes to amoCRM.
pub struct Planned {
    pub op: Box<dyn crate::engine::Operation>,
    pub writes: bool,
}

/// The operations every entity has, by the node's operation name: get,
/// getMany, search, create, update; link, unlink and getLinks when it has
/// links; addNote and getNotes when it has notes; its dropdowns (list…).
pub fn operation(entity: EntityRef, name: &str, account: crate::account::AccountAddress) -> Option<Planned> {
    use batch::Batcher;
    let read = |op: Box<dyn crate::engine::Operation>| Some(Planned { op, writes: false });
    let write = |op: Box<dyn crate::engine::Operation>| Some(Planned { op, writes: true });
    let links = !entity.features.links.is_empty();
    match name {
        "get" => read(Box::new(get::GetRecords::new(entity, account))),
        "getMany" => read(Box::new(get_many::ListRecords::new(
            entity,
            get_many::Listing::Records,
            account,
        ))),
        "search" => read(Box::new(search::SearchRecords::new(entity, account))),
        "create" => write(Box::new(Batcher::new(write::CreateRecords { entity }, account))),
        "update" => write(Box::new(Batcher::new(
            write::UpdateRecords {
                entity,
                account: account.clone(),
            },
            account,
        ))),
        "link" if links => write(Box::new(links::Links::new(entity, links::LinkAction::Link, account))),
        "unlink" if links => write(Box::new(links::Links::new(entity, links::LinkAction::Unlink, account))),
        "getLinks" if links => read(Box::new(links::Links::new(entity, links::LinkAction::List, account))),
        "addNote" if entity.features.notes => write(Box::new(Batcher::new(
            notes::AddNotes::new(entity, account.clone()),
            account,
        ))),
        "getNotes" if entity.features.notes => read(Box::new(get_many::ListRecords::new(
            entity,
            get_many::Listing::Notes,
            account,
        ))),
        other => crate::lookups::ListKind::parse(other).map(|kind| Planned {
            op: Box::new(crate::lookups::Lookup::new(kind, entity, account)),
            writes: false,
        }),
    }
}
