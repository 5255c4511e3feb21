//! Contacts: the descriptor the shared machinery reads, and Find or Create
//! by phone and e-mail ([`find`]).

pub mod find;

use std::borrow::Cow;

use crate::entity::reach::PhonesAndEmails;
use crate::entity::record::{FieldSpec, Kind, CREATED_AT, CREATED_BY, NAME, RESPONSIBLE_USER};
use crate::entity::{Entity, Features, MAX_WRITE_BATCH, ORDER_BY_UPDATE_OR_ID, PARTY_FILTERS};

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
    order: ORDER_BY_UPDATE_OR_ID,
    filters: PARTY_FILTERS,
    fields: &[
        NAME,
        FieldSpec::new("first_name", "firstName", "First Name", Kind::Text),
        FieldSpec::new("last_name", "lastName", "Last Name", Kind::Text),
        RESPONSIBLE_USER,
        CREATED_AT,
        CREATED_BY,
    ],
    read_only: &["is_unsorted"],
    fields_path: Cow::Borrowed("/api/v4/contacts/custom_fields"),
    max_batch: MAX_WRITE_BATCH,
    multitext: true,
    features: Features::all(&["leads", "companies", "customers", "catalog_elements"]),
    rules: &PhonesAndEmails,
};
