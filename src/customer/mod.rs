//! Customers (amoCRM's periodic purchases): the descriptor the shared
//! machinery reads, their transactions ([`transactions`]), and what an
//! account with customers switched off answers.
//!
//! Every `/api/v4/customers/**` call answers 402 when the account's plan has
//! no customers and 422 when they are switched off (or in the other mode,
//! for statuses and segments). The customer node's operations run inside
//! [`CustomersGate`], which reads those answers as
//! [`ApiErrorKind::CustomersOff`], whose message says where to switch them on.

pub mod transactions;

use std::borrow::Cow;

use serde_json::Value;

use crate::account::AccountAddress;
use crate::api_error::{ApiError, ApiErrorKind};
use crate::engine::{Io, Operation, Reply, Tag};
use crate::entity::record::{FieldSpec, Kind, CREATED_AT, CREATED_BY, NAME, RESPONSIBLE_USER};
use crate::entity::{Entity, EntityRef, Features, Filter, NoRules, Planned, MAX_WRITE_BATCH};

pub static CUSTOMERS: Entity = Entity {
    noun: "customer",
    nouns: "customers",
    label: "Customer",
    path: Cow::Borrowed("/api/v4/customers"),
    embedded: "customers",
    entity_type: "customers",
    card: Some("/customers/detail/"),
    id_param: "customerId",
    with: &["contacts", "companies", "catalog_elements"],
    with_list_only: &[],
    // amoCRM documents no order for customers.
    order: &[],
    filters: &[
        Filter::Ids,
        Filter::Names,
        Filter::NextPrice,
        Filter::StatusIds,
        Filter::ResponsibleUsers,
        Filter::CreatedBy,
        Filter::UpdatedBy,
        Filter::CreatedAt,
        Filter::UpdatedAt,
        Filter::ClosestTaskAt,
        Filter::NextDate,
        Filter::CustomFields,
    ],
    fields: &[
        NAME,
        FieldSpec::new("next_date", "nextDate", "Next Purchase Date", Kind::Date).primary(),
        FieldSpec::new("next_price", "nextPrice", "Next Purchase Price", Kind::Whole { min: 0 }),
        FieldSpec::new(
            "periodicity",
            "periodicity",
            "Periodicity (Days)",
            Kind::Whole { min: 0 },
        ),
        FieldSpec::new(
            "status_id",
            "statusId",
            "Status",
            Kind::Id {
                what: "a customer status",
            },
        ),
        RESPONSIBLE_USER,
        CREATED_AT,
        CREATED_BY,
    ],
    read_only: &["ltv", "purchases_count", "average_check"],
    fields_path: Cow::Borrowed("/api/v4/customers/custom_fields"),
    max_batch: MAX_WRITE_BATCH,
    multitext: false,
    features: Features::all(&["contacts", "companies", "catalog_elements"]),
    rules: &NoRules,
};

/// Runs a customer operation, reading 402 and 422 as customers being off.
pub struct CustomersGate(pub Box<dyn Operation>);

/// `error` as the customer node explains it.
pub fn customers_off(mut error: ApiError) -> ApiError {
    let off = matches!(
        (error.kind, error.status),
        (ApiErrorKind::PaymentRequired, _) | (ApiErrorKind::Unexpected, Some(422))
    );
    if off {
        error.kind = ApiErrorKind::CustomersOff;
    }
    error
}

impl Operation for CustomersGate {
    fn on_items(&mut self, first: usize, items: Vec<Value>, last: bool, io: &mut Io) {
        self.0.on_items(first, items, last, io);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        self.0.on_reply(tag, reply.map_err(customers_off), io);
    }
}

/// The customer node's operation `name`: the shared ones, and those of
/// transactions, all inside the [`CustomersGate`].
pub fn operation(name: &str, account: AccountAddress) -> Option<Planned> {
    let planned = match transactions::operation(name, account.clone()) {
        Some(planned) => planned,
        None => crate::entity::operation(EntityRef::Static(&CUSTOMERS), name, account)?,
    };
    Some(Planned {
        op: Box::new(CustomersGate(planned.op)),
        writes: planned.writes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit};
    use crate::entity::filter::list_query;
    use crate::entity::record::{record_body, Mode};
    use crate::http::Response;
    use crate::input::Params;
    use serde_json::json;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    #[test]
    fn a_customer_body_has_its_purchase_fields_and_tags() {
        let p = json!({
            "name": "Acme supply", "nextDate": "2024-06-01",
            "additionalFields": {"nextPrice": 5000, "periodicity": "30", "statusId": 62000001, "tags": "vip", "responsibleUserId": 3}
        });
        assert_eq!(
            Value::Object(record_body(&CUSTOMERS, Params::new(&p), Mode::Create, None).unwrap()),
            json!({"name": "Acme supply", "next_date": 1_717_200_000, "next_price": 5000, "periodicity": 30,
                   "status_id": 62_000_001, "responsible_user_id": 3, "_embedded": {"tags": [{"name": "vip"}]}})
        );
        let read_back = json!({"mapping": "auto", "record": {"id": 5, "name": "A", "ltv": 9000, "purchases_count": 2, "average_check": 4500, "next_price": 10}});
        assert_eq!(
            Value::Object(record_body(&CUSTOMERS, Params::new(&read_back), Mode::Update, None).unwrap()),
            json!({"name": "A", "next_price": 10})
        );
    }

    #[test]
    fn customer_filters_in_bracket_syntax() {
        let p = json!({"filters": {
            "statusIds": ["62000001", 62000002], "nextPriceFrom": 100, "nextDateFrom": "2024-06-01", "nextDateTo": 1_719_792_000, "names": "Acme"
        }});
        assert_eq!(
            list_query(&CUSTOMERS, Params::new(&p)).unwrap().encode(),
            "filter[name][0]=Acme&filter[next_price][from]=100&filter[status_id][0]=62000001&filter[status_id][1]=62000002\
&filter[next_date][from]=1717200000&filter[next_date][to]=1719792000"
        );
        let sort = json!({"options": {"sortBy": "id"}});
        assert!(
            list_query(&CUSTOMERS, Params::new(&sort)).is_err(),
            "amoCRM documents no order"
        );
    }

    #[test]
    fn customers_switched_off_say_where_to_switch_them_on() {
        let planned = operation("get", account()).unwrap();
        let mut r = Run::new(Driver::new(planned.op));
        let s = r.start(vec![json!({"customerId": 60000001})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/customers/60000001"
        );
        let s = r.reply(
            s.requests[0].id,
            Response::new(
                422,
                r#"{"title":"Unprocessable Entity","status":422,"detail":"Customers are disabled in the account"}"#,
            ),
        );
        let Emit::Error { error, .. } = &s.emit[0] else {
            panic!("{:?}", s.emit)
        };
        assert_eq!(
            error.message,
            "Getting customer 60000001: Customers are switched off in this amoCRM account, or set to another mode (422): Customers are disabled in the account"
        );
        let hint = error.description.as_deref().unwrap();
        assert!(hint.contains("Settings → General settings → Customers"), "{hint}");
        assert!(hint.contains("PATCH /api/v4/customers/mode"), "{hint}");
        let plan = customers_off(ApiError::from_response(&Response::new(
            402,
            r#"{"title":"Payment Required","status":402,"detail":"Customers are not available on the account tariff"}"#,
        )));
        assert!(plan.to_string().contains("plan does not include customers"), "{plan}");
        // Other errors stay what they are.
        let other = customers_off(ApiError::from_response(&Response::new(404, "")));
        assert_eq!(other.kind, ApiErrorKind::NotFound);
    }
}
