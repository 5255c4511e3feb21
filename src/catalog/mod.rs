//! Catalogs ("lists": products, services, …) and their elements.
//!
//! Lists are an entity like any other ([`CATALOGS`]): Get Many, Create and
//! Update are the generic operations. Elements live under their catalog
//! (`/api/v4/catalogs/{id}/elements`, fields at `…/{id}/custom_fields`), so
//! their descriptor is built for the call from the catalog the node works on
//! ([`elements`]); then Get, Get Many, Create and Update are the generic
//! operations too. A node run works on one catalog: [`InCatalog`] reads it
//! from the first item and refuses items that name another.
//!
//! What only elements have: linking them to a lead with a quantity and a
//! price field, and reading a lead's products ([`products`]).

pub mod products;

use std::borrow::Cow;

use serde_json::Value;

use crate::account::AccountAddress;
use crate::engine::{Io, Operation, Reply, Tag};
use crate::entity::record::{FieldSpec, Kind, On, NAME};
use crate::entity::{Entity, EntityRef, Features, Filter, NoRules, Planned, RecordId, MAX_WRITE_BATCH};
use crate::error::NodeError;
use crate::input::{InputError, Params};
use crate::lookups::{ListKind, Lookup};

pub const CATALOGS_PATH: &str = "/api/v4/catalogs";

/// Nothing of the shared features: no custom fields, notes, tags or links.
const NONE: Features = Features {
    custom_fields: false,
    notes: false,
    tags: false,
    links: &[],
};

/// The account's catalogs ("lists").
pub static CATALOGS: Entity = Entity {
    noun: "list",
    nouns: "lists",
    label: "List",
    path: Cow::Borrowed(CATALOGS_PATH),
    embedded: "catalogs",
    entity_type: "catalogs",
    card: None,
    id_param: "listId",
    with: &[],
    with_list_only: &[],
    order: &[],
    filters: &[],
    fields: &[
        NAME,
        // regular, invoices, products or suppliers; fixed once created.
        FieldSpec::new("type", "type", "Type", Kind::Text).on(On::Create),
        FieldSpec::new("sort", "sort", "Sort", Kind::Whole { min: 0 }),
        FieldSpec::new("can_add_elements", "canAddElements", "Can Add Elements", Kind::Bool),
        FieldSpec::new("can_link_multiple", "canLinkMultiple", "Can Link Multiple", Kind::Bool),
        FieldSpec::new("can_show_in_cards", "canShowInCards", "Show in Cards", Kind::Bool),
    ],
    read_only: &["created_at", "created_by", "can_be_deleted", "sdk_widget_code"],
    fields_path: Cow::Borrowed(CATALOGS_PATH),
    max_batch: MAX_WRITE_BATCH,
    multitext: false,
    features: NONE,
    rules: &NoRules,
};

/// The elements of catalog `catalog`, with that catalog's custom fields.
pub fn elements(catalog: RecordId) -> Entity {
    Entity {
        noun: "catalog element",
        nouns: "catalog elements",
        label: "Element",
        path: Cow::Owned(format!("{CATALOGS_PATH}/{catalog}/elements")),
        embedded: "elements",
        entity_type: "catalog_elements",
        card: None,
        id_param: "elementId",
        with: &[],
        with_list_only: &[],
        // amoCRM documents no sorting of elements.
        order: &[],
        filters: &[Filter::Ids],
        fields: &[NAME],
        read_only: &["catalog_id", "created_at", "created_by"],
        fields_path: Cow::Owned(format!("{CATALOGS_PATH}/{catalog}/custom_fields")),
        max_batch: MAX_WRITE_BATCH,
        multitext: false,
        features: Features {
            custom_fields: true,
            ..NONE
        },
        rules: &NoRules,
    }
}

/// The operations of the Element resource beyond the dropdowns.
const ELEMENT_OPERATIONS: &[&str] = &[
    "get",
    "getMany",
    "search",
    "create",
    "update",
    "linkToLead",
    "getLeadProducts",
];

/// The operation of the Element resource named `name`.
pub fn element_operation(name: &str, account: AccountAddress) -> Option<Planned> {
    // The catalog dropdown itself needs no catalog.
    if name == "listCatalogs" {
        let op = Lookup::new(ListKind::Catalogs, EntityRef::Static(&CATALOGS), account);
        return Some(Planned {
            op: Box::new(op),
            writes: false,
        });
    }
    if !ELEMENT_OPERATIONS.contains(&name) && ListKind::parse(name).is_none() {
        return None;
    }
    Some(Planned {
        op: Box::new(InCatalog::new(name, account)),
        writes: matches!(name, "create" | "update" | "linkToLead"),
    })
}

/// The catalog an item names.
fn catalog_of(params: Params) -> Result<RecordId, InputError> {
    let id = params
        .id("catalogId", "Catalog", "a catalog")?
        .ok_or_else(|| InputError::new("Catalog", "is empty; choose the catalog whose elements to work on"))?;
    Ok(RecordId::new(id.get()).expect("IDs are positive"))
}

/// Runs an element operation on the catalog the first item names; items
/// naming another catalog fail, since one run works on one catalog.
pub struct InCatalog {
    name: String,
    account: AccountAddress,
    catalog: Option<RecordId>,
    inner: Option<Box<dyn Operation>>,
}

impl InCatalog {
    fn new(name: &str, account: AccountAddress) -> InCatalog {
        InCatalog {
            name: name.to_string(),
            account,
            catalog: None,
            inner: None,
        }
    }

    fn start(&self, catalog: RecordId) -> Option<Box<dyn Operation>> {
        let entity = EntityRef::from(elements(catalog));
        match self.name.as_str() {
            "linkToLead" => Some(Box::new(products::LinkToLead::new(
                entity,
                catalog,
                self.account.clone(),
            ))),
            "getLeadProducts" => Some(Box::new(products::LeadProducts::new(
                entity,
                catalog,
                self.account.clone(),
            ))),
            other => crate::entity::operation(entity, other, self.account.clone()).map(|p| p.op),
        }
    }
}

impl Operation for InCatalog {
    fn on_items(&mut self, first: usize, mut items: Vec<Value>, last: bool, io: &mut Io) {
        for (k, item) in items.iter_mut().enumerate() {
            if item.is_null() {
                continue;
            }
            let index = first + k;
            let problem = match (catalog_of(Params::new(item)), self.catalog) {
                (Err(e), _) => Some(e),
                (Ok(c), None) => {
                    self.catalog = Some(c);
                    self.inner = self.start(c);
                    None
                }
                (Ok(c), Some(run)) if c == run => None,
                (Ok(c), Some(run)) => Some(InputError::new(
                    "Catalog",
                    format!("is {c}, but this run works on catalog {run} (the first item's); one run works on one catalog, so split the items by catalog"),
                )),
            };
            if let Some(e) = problem {
                io.fail(index, NodeError::input(index, &e));
                *item = Value::Null;
            }
        }
        if let Some(inner) = self.inner.as_mut() {
            inner.on_items(first, items, last, io);
        }
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        if let Some(inner) = self.inner.as_mut() {
            inner.on_reply(tag, reply, io);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit};
    use crate::http::{Method, Response};
    use serde_json::json;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    fn run(name: &str, items: Vec<Value>) -> (Run, crate::engine::Step) {
        let op = element_operation(name, account()).unwrap().op;
        let mut r = Run::new(Driver::new(op));
        let s = r.start(items);
        (r, s)
    }

    #[test]
    fn elements_live_under_their_catalog_with_its_custom_fields() {
        let e = elements(RecordId::new(5001).unwrap());
        assert_eq!(e.path, "/api/v4/catalogs/5001/elements");
        assert_eq!(e.fields_path, "/api/v4/catalogs/5001/custom_fields");
        assert_eq!(e.fields_kind(), "custom_fields /api/v4/catalogs/5001/custom_fields");
        let (_, s) = run("get", vec![json!({"catalogId": "5001", "elementId": 600002})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/catalogs/5001/elements/600002"
        );
        let (_, s) = run(
            "getMany",
            vec![json!({"catalogId": 5001, "query": "LIC", "filters": {"ids": "600001, 600002"}, "returnAll": true})],
        );
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/catalogs/5001/elements?filter[id][0]=600001&filter[id][1]=600002&query=LIC&limit=250&page=1"
        );
    }

    #[test]
    fn create_loads_the_catalogs_fields_then_writes_in_batches_and_needs_no_read_back() {
        let items: Vec<Value> = (0..3)
            .map(|i| json!({"catalogId": 5001, "name": format!("P{i}"), "customFields": {"value": {"SKU": format!("S{i}")}}}))
            .collect();
        let (mut r, s) = run("create", items);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/catalogs/5001/custom_fields?limit=250&page=1"
        );
        let fields =
            json!({"_embedded": {"custom_fields": [{"id": 900401, "name": "SKU", "code": "SKU", "type": "text"}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, fields.to_string()));
        let q = &s.requests[0].request;
        assert_eq!(
            (q.method, q.url.as_str()),
            (Method::Post, "https://shop.amocrm.ru/api/v4/catalogs/5001/elements")
        );
        let body: Value = serde_json::from_str(q.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body[2],
            json!({"name": "P2", "custom_fields_values": [{"field_id": 900401, "values": [{"value": "S2"}]}], "request_id": "2"})
        );
        // amoCRM answers with whole elements: they are the output, no read.
        let answer: Vec<Value> = (0..3)
            .map(|i| json!({"id": 600010 + i, "catalog_id": 5001, "name": format!("P{i}"), "created_at": 1, "request_id": i.to_string()}))
            .collect();
        let s = r.reply(
            s.requests[0].id,
            Response::new(200, json!({"_embedded": {"elements": answer}}).to_string()),
        );
        assert!(s.done && s.requests.is_empty());
        assert_eq!(s.emit.len(), 3);
        assert_eq!(s.emit[1].json().unwrap()["id"], 600011);
    }

    #[test]
    fn lists_are_written_with_their_type_only_on_create() {
        use crate::entity::record::{record_body, Mode};
        let p = json!({"name": "Services", "additionalFields": {"type": "regular", "sort": 20, "canLinkMultiple": true},
                       "updateFields": {"name": "Services 2", "canShowInCards": "true"}});
        let created = record_body(&CATALOGS, Params::new(&p), Mode::Create, None).unwrap();
        assert_eq!(
            Value::Object(created),
            json!({"name": "Services", "type": "regular", "sort": 20, "can_link_multiple": true})
        );
        let updated = record_body(&CATALOGS, Params::new(&p), Mode::Update, None).unwrap();
        assert_eq!(
            Value::Object(updated),
            json!({"name": "Services 2", "can_show_in_cards": true})
        );
        let auto = json!({"mapping": "auto", "record": {"id": 5001, "name": "Goods", "type": "products", "created_at": 1, "can_be_deleted": false}});
        let updated = record_body(&CATALOGS, Params::new(&auto), Mode::Update, None).unwrap();
        assert_eq!(
            Value::Object(updated),
            json!({"name": "Goods"}),
            "a list read with Get Many goes back as it is"
        );
    }

    #[test]
    fn one_run_works_on_one_catalog() {
        let (_, s) = run(
            "get",
            vec![
                json!({"catalogId": 5001, "elementId": 1}),
                json!({"catalogId": 5002, "elementId": 2}),
                json!({"elementId": 3}),
            ],
        );
        assert_eq!(s.requests.len(), 1);
        let errors: Vec<(usize, String)> = s
            .emit
            .iter()
            .filter_map(|e| match e {
                Emit::Error { index, error } => Some((*index, error.message.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].1.contains("works on catalog 5001"), "{errors:?}");
        assert!(
            errors[1].1.starts_with("Item 2, field \"Catalog\": is empty"),
            "{errors:?}"
        );
    }

    #[test]
    fn lists_and_the_catalog_dropdown() {
        let (mut r, s) = run("listCatalogs", vec![json!({})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/catalogs?limit=250&page=1"
        );
        let page = json!({"_embedded": {"catalogs": [{"id": 5002, "name": "Services", "type": "regular"}, {"id": 5001, "name": "Products", "type": "products"}]}});
        let s = r.reply(s.requests[0].id, Response::new(200, page.to_string()));
        assert_eq!(
            s.emit[0].json().unwrap()["options"],
            json!([{"name": "Products", "value": 5001, "description": "products"}, {"name": "Services", "value": 5002, "description": "regular"}])
        );
        let (mut r, s) = run("listPriceFields", vec![json!({"catalogId": 5001})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/catalogs/5001/custom_fields?limit=250&page=1"
        );
        let fields = json!({"_embedded": {"custom_fields": [
            {"id": 900401, "name": "SKU", "type": "text"},
            {"id": 900402, "name": "Price", "type": "price"},
            {"id": 900405, "name": "Wholesale price", "type": "price"}
        ]}});
        let s = r.reply(s.requests[0].id, Response::new(200, fields.to_string()));
        assert_eq!(
            s.emit[0].json().unwrap(),
            json!({"options": [{"name": "Price", "value": 900402}, {"name": "Wholesale price", "value": 900405}]}),
            "only the price fields"
        );
        assert!(element_operation("addNote", account()).is_none());
    }
}
