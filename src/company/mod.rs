//! Companies: the descriptor the shared machinery reads, and Find or Create
//! by name or by a custom field value ([`find`]).

pub mod find;

use std::borrow::Cow;

use crate::entity::reach::PhonesAndEmails;
use crate::entity::record::{CREATED_AT, CREATED_BY, NAME, RESPONSIBLE_USER};
use crate::entity::{Entity, Features, MAX_WRITE_BATCH, ORDER_BY_UPDATE_OR_ID, PARTY_FILTERS};

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
    order: ORDER_BY_UPDATE_OR_ID,
    filters: PARTY_FILTERS,
    fields: &[NAME, RESPONSIBLE_USER, CREATED_AT, CREATED_BY],
    read_only: &[],
    fields_path: Cow::Borrowed("/api/v4/companies/custom_fields"),
    max_batch: MAX_WRITE_BATCH,
    multitext: true,
    features: Features::all(&["leads", "contacts", "customers", "catalog_elements"]),
    rules: &PhonesAndEmails,
};
