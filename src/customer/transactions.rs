//! A customer's transactions (purchases): Add, in batches per customer
//! (`POST /api/v4/customers/{id}/transactions`, price required); Get, of one
//! customer or of all, page by page; Delete by ID (`DELETE
//! /api/v4/customers/transactions/{id}` → 204). amoCRM has no update for
//! transactions. Each one adds its price to the customer's totals and may set
//! the customer's next purchase (`next_price`, `next_date`).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::account::AccountAddress;
use crate::entity::batch::{embedded_results, BatchKind, Batcher};
use crate::entity::fields::FieldSet;
use crate::entity::get::GetRecords;
use crate::entity::get_many::{ListRecords, Listing};
use crate::entity::record::{is_auto, record_body, FieldSpec, Kind, Mode, CREATED_BY};
use crate::entity::reference::parse_ref;
use crate::entity::{Entity, EntityRef, Features, Filter, Planned, Rules, MAX_WRITE_BATCH};
use crate::http::Method;
use crate::input::{InputError, Params};

use super::CUSTOMERS;

pub static TRANSACTIONS: Entity = Entity {
    noun: "transaction",
    nouns: "transactions",
    label: "Transaction",
    path: Cow::Borrowed("/api/v4/customers/transactions"),
    embedded: "transactions",
    entity_type: "transactions",
    card: None,
    id_param: "transactionId",
    with: &[],
    with_list_only: &[],
    order: &[],
    filters: &[Filter::Ids],
    fields: &[
        FieldSpec::new("price", "price", "Price", Kind::Whole { min: 0 }).primary(),
        FieldSpec::new("comment", "comment", "Comment", Kind::Text),
        FieldSpec::new("completed_at", "completedAt", "Completed At", Kind::Date),
        FieldSpec::new("next_price", "nextPrice", "Next Purchase Price", Kind::Whole { min: 0 }),
        FieldSpec::new("next_date", "nextDate", "Next Purchase Date", Kind::Date),
        CREATED_BY,
    ],
    // Which customer a transaction belongs to is its path, not its body.
    read_only: &["customer_id", "created_at", "is_deleted"],
    fields_path: Cow::Borrowed(""),
    max_batch: MAX_WRITE_BATCH,
    multitext: false,
    features: Features::NONE,
    rules: &TransactionRules,
};

pub struct TransactionRules;

impl Rules for TransactionRules {
    fn check(&self, body: &Map<String, Value>, _mode: Mode) -> Result<(), InputError> {
        if !body.contains_key("price") {
            return Err(InputError::new(
                "Price",
                "is missing; amoCRM needs the price of a purchase",
            ));
        }
        Ok(())
    }
}

pub struct AddTransactions {
    pub account: AccountAddress,
}

impl BatchKind for AddTransactions {
    fn nouns(&self) -> (&'static str, &'static str) {
        (TRANSACTIONS.noun, TRANSACTIONS.nouns)
    }
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &str {
        &TRANSACTIONS.path
    }
    fn unsafe_to_repeat(&self) -> bool {
        true
    }
    fn body(&self, params: Params, _fields: Option<&FieldSet>) -> Result<Map<String, Value>, InputError> {
        record_body(&TRANSACTIONS, params, Mode::Create, None)
    }
    /// The customer's own path: from the node's picker, or the item's
    /// `customer_id` when its fields are mapped automatically.
    fn item_path(&self, params: Params) -> Result<Option<String>, InputError> {
        let customer = if is_auto(params) {
            let id = params.object("record").get("customer_id").ok_or_else(|| {
                InputError::new(
                    "customer_id",
                    "the item has no `customer_id` naming the customer who bought",
                )
            })?;
            parse_ref(id, &self.account, &CUSTOMERS, "customer_id")?
        } else {
            parse_ref(
                params.get(CUSTOMERS.id_param).unwrap_or(&Value::Null),
                &self.account,
                &CUSTOMERS,
                CUSTOMERS.label,
            )?
        };
        Ok(Some(format!("{}/transactions", CUSTOMERS.record_path(customer))))
    }
    fn results(&self, answer: &Value) -> Vec<(String, Value)> {
        embedded_results(answer, TRANSACTIONS.embedded)
    }
    fn reads_back(&self) -> Option<EntityRef> {
        Some(EntityRef::Static(&TRANSACTIONS))
    }
}

/// The transaction operations of the customer node, by name.
pub fn operation(name: &str, account: AccountAddress) -> Option<Planned> {
    Some(match name {
        "addTransaction" => Planned {
            op: Box::new(Batcher::new(
                AddTransactions {
                    account: account.clone(),
                },
                account,
            )),
            writes: true,
        },
        "getTransactions" => Planned {
            op: Box::new(ListRecords::new(
                EntityRef::Static(&CUSTOMERS),
                Listing::Nested("transactions"),
                account,
            )),
            writes: false,
        },
        "deleteTransaction" => Planned {
            op: Box::new(GetRecords::delete(EntityRef::Static(&TRANSACTIONS), account)),
            writes: true,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::Response;
    use serde_json::json;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    fn start(name: &str, items: Vec<Value>) -> (Run, Step) {
        let mut r = Run::new(Driver::new(operation(name, account()).unwrap().op).writes(true));
        let s = r.start(items);
        (r, s)
    }

    fn body(s: &Step, i: usize) -> Value {
        serde_json::from_str(s.requests[i].request.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn transactions_go_out_in_one_batch_per_customer() {
        let (mut r, s) = start(
            "addTransaction",
            vec![
                json!({"customerId": 60000001, "price": 1200, "additionalFields": {"comment": "Order 1", "nextDate": "2024-06-01"}}),
                json!({"customerId": {"__rl": true, "mode": "url", "value": "https://shop.amocrm.ru/customers/detail/60000002"}, "price": 50}),
                json!({"mapping": "auto", "record": {"customer_id": 60000001, "price": 300, "completed_at": 1_714_558_830}}),
                json!({"customerId": 60000001, "additionalFields": {"comment": "no price"}}),
            ],
        );
        let Emit::Error { index: 3, error } = &s.emit[0] else {
            panic!("{:?}", s.emit)
        };
        assert!(error.message.contains("\"Price\": is missing"), "{}", error.message);
        assert_eq!(s.requests.len(), 2);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/customers/60000001/transactions"
        );
        assert_eq!(
            body(&s, 0),
            json!([
                {"price": 1200, "comment": "Order 1", "next_date": 1_717_200_000, "request_id": "0"},
                {"price": 300, "completed_at": 1_714_558_830, "request_id": "2"}
            ])
        );
        assert_eq!(
            s.requests[1].request.url,
            "https://shop.amocrm.ru/api/v4/customers/60000002/transactions"
        );
        assert_eq!(body(&s, 1), json!([{"price": 50, "request_id": "1"}]));
        // The answer carries IDs; the transactions are read back in one request.
        let answer = json!({"_embedded": {"transactions": [
            {"id": 65000010, "customer_id": 60000001, "request_id": "0"}, {"id": 65000011, "customer_id": 60000001, "request_id": "2"}
        ]}});
        let s = r.reply(s.requests[0].id, Response::new(200, answer.to_string()));
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/customers/transactions?filter[id][0]=65000010&filter[id][1]=65000011&limit=250"
        );
    }

    #[test]
    fn transactions_are_listed_for_one_customer_or_for_all() {
        let (_, s) = start(
            "getTransactions",
            vec![
                json!({"customerId": {"__rl": true, "mode": "id", "value": "60000001"}, "returnAll": true}),
                json!({"customerId": {"__rl": true, "mode": "list", "value": ""}, "limit": 10}),
                json!({"limit": 5}),
            ],
        );
        let urls: Vec<&str> = s.requests.iter().map(|q| q.request.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://shop.amocrm.ru/api/v4/customers/60000001/transactions?limit=250&page=1",
                "https://shop.amocrm.ru/api/v4/customers/transactions?limit=10&page=1",
                "https://shop.amocrm.ru/api/v4/customers/transactions?limit=5&page=1",
            ]
        );
    }

    #[test]
    fn a_transaction_is_deleted_by_id_and_a_404_says_it_is_gone() {
        let (mut r, s) = start(
            "deleteTransaction",
            vec![json!({"transactionId": "65000001"}), json!({"transactionId": 65000009})],
        );
        assert_eq!(s.requests[0].request.method, Method::Delete);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/customers/transactions/65000001"
        );
        let done = r.reply(s.requests[0].id, Response::new(204, ""));
        assert_eq!(
            done.emit,
            vec![Emit::Item {
                index: 0,
                json: json!({"id": 65000001, "deleted": true})
            }]
        );
        let gone = r.status(
            s.requests[1].id,
            404,
            r#"{"title":"Not Found","status":404,"detail":"Entity not found"}"#,
        );
        let Emit::Error { error, .. } = &gone.emit[0] else {
            panic!("{:?}", gone.emit)
        };
        assert_eq!(error.message, "Transaction 65000009 not found");
        assert!(error.description.as_deref().unwrap().contains("deleted already"));
    }
}
