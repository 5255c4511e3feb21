//! Leads: the descriptor the shared machinery reads, and what only leads
//! have (pipelines and statuses, loss reasons, price, complex create).

pub mod complex;
pub mod rules;

use std::borrow::Cow;

use crate::entity::record::{FieldSpec, Kind, CREATED_AT, CREATED_BY, NAME, RESPONSIBLE_USER};
use crate::entity::{Entity, Features, Filter};

pub const LEADS_PATH: &str = "/api/v4/leads";

pub static LEADS: Entity = Entity {
    noun: "lead",
    nouns: "leads",
    label: "Lead",
    path: Cow::Borrowed(LEADS_PATH),
    embedded: "leads",
    entity_type: "leads",
    card: Some("/leads/detail/"),
    id_param: "leadId",
    with: &[
        "catalog_elements",
        "contacts",
        "is_price_modified_by_robot",
        "loss_reason",
        "source_id",
    ],
    with_list_only: &["only_deleted"],
    order: &["created_at", "updated_at", "id"],
    filters: &[
        Filter::Ids,
        Filter::Names,
        Filter::Price,
        Filter::Pipelines,
        Filter::Statuses,
        Filter::ResponsibleUsers,
        Filter::CreatedBy,
        Filter::UpdatedBy,
        Filter::CreatedAt,
        Filter::UpdatedAt,
        Filter::ClosedAt,
        Filter::ClosestTaskAt,
        Filter::CustomFields,
    ],
    fields: &[
        NAME,
        FieldSpec::new("price", "price", "Price", Kind::Whole { min: 0 }),
        FieldSpec::new("pipeline_id", "pipelineId", "Pipeline", Kind::Id { what: "a pipeline" }),
        FieldSpec::new("status_id", "statusId", "Status", Kind::Id { what: "a status" }),
        FieldSpec::new(
            "loss_reason_id",
            "lossReasonId",
            "Loss Reason",
            Kind::Id { what: "a loss reason" },
        ),
        RESPONSIBLE_USER,
        FieldSpec::new("closed_at", "closedAt", "Closed At", Kind::Date),
        CREATED_AT,
        CREATED_BY,
    ],
    read_only: &["score", "labor_cost", "is_price_modified_by_robot", "source_id"],
    fields_path: Cow::Borrowed("/api/v4/leads/custom_fields"),
    max_batch: crate::entity::MAX_WRITE_BATCH,
    multitext: false,
    features: Features::all(&["contacts", "companies", "catalog_elements"]),
    rules: &rules::LeadRules,
};
