//! Contacts: the descriptor the shared machinery reads, and Find or Create
//! by phone and e-mail ([`find`]).

pub mod find;

use std::borrow::Cow;

use crate::entity::reach::PhonesAndEmails;
use crate::entity::record::{FieldSpec, Kind, On};
use crate::entity::{Entity, Features, Filter, MAX_WRITE_BATCH};

pub static CONTACTS: Entity = Entity {
    noun: "contact",
    nouns: "contacts",
    label: "Contact",
    path: Cow::Borrowed("/api/v4/contacts"),
    embedded: "contacts",
    entity_type: "contacts",
    card: Some("/contacts/detail/"),
    id_param: "contactId",
    with: &["leads", "customers", "catalog_elements"],
    with_list_only: &[],
    order: &["updated_at", "id"],
    filters: &[
        Filter::Ids,
        Filter::Names,
        Filter::ResponsibleUsers,
        Filter::CreatedBy,
        Filter::UpdatedBy,
        Filter::CreatedAt,
        Filter::UpdatedAt,
        Filter::ClosestTaskAt,
        Filter::CustomFields,
    ],
    fields: &[
        FieldSpec::new("name", "name", "Name", Kind::Text).primary(),
        FieldSpec::new("first_name", "firstName", "First Name", Kind::Text),
        FieldSpec::new("last_name", "lastName", "Last Name", Kind::Text),
        FieldSpec::new(
            "responsible_user_id",
            "responsibleUserId",
            "Responsible User",
            Kind::Id { what: "a user" },
        ),
        FieldSpec::new("created_at", "createdAt", "Created At", Kind::Date).on(On::Create),
        FieldSpec::new("created_by", "createdBy", "Created By", Kind::Id { what: "a user" }).on(On::Create),
    ],
    read_only: &["is_unsorted"],
    fields_path: Cow::Borrowed("/api/v4/contacts/custom_fields"),
    max_batch: MAX_WRITE_BATCH,
    multitext: true,
    features: Features {
        custom_fields: true,
        notes: true,
        tags: true,
        links: &["leads", "companies", "customers", "catalog_elements"],
    },
    rules: &PhonesAndEmails,
};
