//! Companies: the descriptor the shared machinery reads, and Find or Create
//! by name or by a custom field value ([`find`]).

pub mod find;

use std::borrow::Cow;

use crate::entity::reach::PhonesAndEmails;
use crate::entity::record::{FieldSpec, Kind, On};
use crate::entity::{Entity, Features, Filter, MAX_WRITE_BATCH};

pub static COMPANIES: Entity = Entity {
    noun: "company",
    nouns: "companies",
    label: "Company",
    path: Cow::Borrowed("/api/v4/companies"),
    embedded: "companies",
    entity_type: "companies",
    card: Some("/companies/detail/"),
    id_param: "companyId",
    with: &["leads", "customers", "contacts", "catalog_elements"],
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
        FieldSpec::new(
            "responsible_user_id",
            "responsibleUserId",
            "Responsible User",
            Kind::Id { what: "a user" },
        ),
        FieldSpec::new("created_at", "createdAt", "Created At", Kind::Date).on(On::Create),
        FieldSpec::new("created_by", "createdBy", "Created By", Kind::Id { what: "a user" }).on(On::Create),
    ],
    read_only: &[],
    fields_path: Cow::Borrowed("/api/v4/companies/custom_fields"),
    max_batch: MAX_WRITE_BATCH,
    multitext: true,
    features: Features {
        custom_fields: true,
        notes: true,
        tags: true,
        links: &["leads", "contacts", "customers", "catalog_elements"],
    },
    rules: &PhonesAndEmails,
};
