//! A lead's products: linking catalog elements to a lead with a quantity
//! and the price field that applies (`POST /api/v4/leads/{id}/link`,
//! `metadata{catalog_id, quantity, price_id}`), and reading them back.
//!
//! Reading uses the lead's links, `GET /api/v4/leads/{id}/links` with
//! `filter[to_entity_type]=catalog_elements` and `filter[to_catalog_id]`
//! (D:entity-links-api): only the node's catalog, filtered by amoCRM, each
//! link with its quantity and price field. Links carry no names or prices,
//! so the elements are then read, one request per 250 of them, and each
//! product comes out as `{lead_id, element_id, name, quantity, price_id,
//! price, catalog_id, element}`: the price is the value of the linked price
//! field, or of the catalog's first price field when the link names none.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{send_per_item, Io, Operation, Replay, Reply, Tag};
use crate::entity::page::read_page;
use crate::entity::reference::parse_ref;
use crate::entity::{EntityRef, RecordId, MAX_WRITE_BATCH};
use crate::error::NodeError;
use crate::http::{Method, Request};
use crate::input::{describe, InputError, Params};
use crate::lead::LEADS;
use crate::query::Query;

const ELEMENTS: &str = "catalog_elements";

/// The lead an item names (ID, card URL or list pick).
fn lead_of(params: Params, account: &AccountAddress) -> Result<RecordId, InputError> {
    parse_ref(params.get("leadId").unwrap_or(&Value::Null), account, &LEADS, "Lead")
}

/// A quantity above 0; amoCRM takes fractions (1.5 kg). Empty means 1.
fn quantity(params: Params) -> Result<Value, InputError> {
    let value = match params.get("quantity") {
        None => return Ok(json!(1)),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(json!(1)),
        Some(v) => v,
    };
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', ".").parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(q) if q > 0.0 && q < 1e15 && q.fract() == 0.0 => Ok(json!(q as i64)),
        Some(q) if q > 0.0 && q.is_finite() => Ok(json!(q)),
        _ => Err(InputError::new(
            "Quantity",
            format!(
                "{} is not a quantity; use a number above 0, such as 3 or 1.5",
                describe(value)
            ),
        )),
    }
}

/// Link to Lead: one element per item, with its quantity and price field.
pub struct LinkToLead {
    elements: EntityRef,
    catalog: RecordId,
    account: AccountAddress,
    /// Each item's lead, element and the metadata sent.
    sent: HashMap<usize, (RecordId, RecordId, Value)>,
}

impl LinkToLead {
    pub fn new(elements: EntityRef, catalog: RecordId, account: AccountAddress) -> LinkToLead {
        LinkToLead {
            elements,
            catalog,
            account,
            sent: HashMap::new(),
        }
    }

    fn request(&self, params: Params) -> Result<((RecordId, RecordId, Value), Request), InputError> {
        let lead = lead_of(params, &self.account)?;
        let element = parse_ref(
            params.get("elementId").unwrap_or(&Value::Null),
            &self.account,
            &self.elements,
            "Element",
        )?;
        let mut metadata = json!({ "catalog_id": self.catalog.get(), "quantity": quantity(params)? });
        if let Some(price) = params.id("priceId", "Price Field", "a price field")? {
            metadata["price_id"] = json!(price.get());
        }
        let body = json!([{ "to_entity_id": element.get(), "to_entity_type": ELEMENTS, "metadata": metadata }]);
        let url = self.account.url(&format!("{}/link", LEADS.record_path(lead)));
        Ok(((lead, element, metadata), Request::new(Method::Post, url).json(&body)))
    }
}

impl Operation for LinkToLead {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let sent = send_per_item(first, &items, io, |params| self.request(params));
        self.sent.extend(sent);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let Tag::Item(index) = tag else { return };
        let Some((lead, element, sent)) = self.sent.remove(&index) else {
            return;
        };
        let context = format!("Linking element {element} to lead {lead}");
        let answer = match reply {
            Ok(r) if r.status == 204 => Value::Null,
            Ok(r) => match parse_json(&r) {
                Ok(answer) => answer,
                Err(e) => return io.fail(index, NodeError::api(&context, &e)),
            },
            Err(e) => return io.fail(index, NodeError::api(&context, &e)),
        };
        // The link as amoCRM now has it, or what was sent.
        let metadata = answer["_embedded"]["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["to_entity_id"].as_u64() == Some(element.get()))
            .map(|l| l["metadata"].clone())
            .filter(Value::is_object)
            .unwrap_or(sent);
        io.written(index, lead.get());
        io.emit(
            index,
            json!({
                "lead_id": lead.get(),
                "element_id": element.get(),
                "catalog_id": metadata.get("catalog_id").cloned().unwrap_or(json!(self.catalog.get())),
                "quantity": metadata["quantity"].clone(),
                "price_id": metadata.get("price_id").cloned().unwrap_or(Value::Null),
            }),
        );
    }
}

/// The products of one lead being read.
struct Products {
    lead: RecordId,
    /// `(element, link metadata)` in amoCRM's order.
    links: Vec<(u64, Value)>,
    /// Element reads still under way.
    waiting: usize,
    found: HashMap<u64, Value>,
}

/// Get a Lead's Products: the lead's elements of the node's catalog.
pub struct LeadProducts {
    elements: EntityRef,
    catalog: RecordId,
    account: AccountAddress,
    leads: HashMap<usize, Products>,
}

/// A number for a value amoCRM may send as text ("15000").
fn number_or_as_is(value: &Value) -> Value {
    match value.as_str().and_then(|s| s.trim().parse::<f64>().ok()) {
        Some(n) if n.fract() == 0.0 && n.abs() < 1e15 => json!(n as i64),
        Some(n) => json!(n),
        None => value.clone(),
    }
}

/// The element's value of the price field `price_id`, or of its first
/// price field.
fn price_of(element: &Value, price_id: Option<u64>) -> Value {
    let fields = element["custom_fields_values"].as_array().into_iter().flatten();
    let field = match price_id {
        Some(id) => fields.into_iter().find(|f| f["field_id"].as_u64() == Some(id)),
        None => fields.into_iter().find(|f| f["field_type"] == "price"),
    };
    field.map_or(Value::Null, |f| number_or_as_is(&f["values"][0]["value"]))
}

impl Products {
    fn items(&self, catalog: u64) -> impl Iterator<Item = Value> + '_ {
        self.links.iter().map(move |(id, metadata)| {
            let element = self.found.get(id);
            let price_id = metadata["price_id"].as_u64();
            json!({
                "lead_id": self.lead.get(),
                "element_id": id,
                "name": element.map_or(Value::Null, |e| e["name"].clone()),
                "quantity": metadata["quantity"].clone(),
                "price_id": price_id,
                "price": element.map_or(Value::Null, |e| price_of(e, price_id)),
                "catalog_id": catalog,
                "element": element.cloned().unwrap_or(Value::Null),
            })
        })
    }
}

impl LeadProducts {
    pub fn new(elements: EntityRef, catalog: RecordId, account: AccountAddress) -> LeadProducts {
        LeadProducts {
            elements,
            catalog,
            account,
            leads: HashMap::new(),
        }
    }

    fn request(&self, params: Params) -> Result<(Products, Request), InputError> {
        let lead = lead_of(params, &self.account)?;
        let mut q = Query::new();
        q.push("filter[to_entity_type]", ELEMENTS);
        q.push("filter[to_catalog_id]", self.catalog);
        let path = q.append_to(&format!("{}/links", LEADS.record_path(lead)));
        let products = Products {
            lead,
            links: Vec::new(),
            waiting: 0,
            found: HashMap::new(),
        };
        Ok((products, Request::get(self.account.url(&path))))
    }

    /// The lead's links arrived: read their elements.
    fn on_links(&mut self, index: usize, body: Option<String>, io: &mut Io) {
        let Some(products) = self.leads.get_mut(&index) else {
            return;
        };
        let context = format!("Reading the products of lead {}", products.lead);
        let answer = match body.map(|b| parse_json(&crate::http::Response::new(200, b))) {
            // 204: the lead has no products of this catalog.
            None => Value::Null,
            Some(Ok(answer)) => answer,
            Some(Err(e)) => {
                self.leads.remove(&index);
                return io.fail(index, NodeError::api(&context, &e));
            }
        };
        let catalog = self.catalog.get();
        products.links = answer["_embedded"]["links"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["to_entity_type"] == ELEMENTS)
            .filter(|l| l["metadata"]["catalog_id"].as_u64().is_none_or(|c| c == catalog))
            .filter_map(|l| Some((l["to_entity_id"].as_u64()?, l["metadata"].clone())))
            .collect();
        let mut ids: Vec<u64> = products.links.iter().map(|l| l.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let chunks: Vec<&[u64]> = ids.chunks(MAX_WRITE_BATCH).collect();
        products.waiting = chunks.len();
        if chunks.is_empty() {
            self.leads.remove(&index);
            return;
        }
        for (k, chunk) in chunks.into_iter().enumerate() {
            let mut q = Query::new();
            q.push_list("filter[id]", chunk);
            q.push("limit", MAX_WRITE_BATCH);
            io.send(
                Tag::Page {
                    item: index,
                    page: k as u32 + 1,
                },
                Request::get(self.account.url(&q.append_to(&self.elements.path))),
                Replay::Safe,
            );
        }
    }

    /// Some of the lead's elements arrived; the products go out once all did.
    fn on_elements(&mut self, index: usize, reply: Reply, io: &mut Io) {
        let Some(products) = self.leads.get_mut(&index) else {
            return;
        };
        let found = match reply {
            Ok(r) if r.status == 204 => Ok(Vec::new()),
            Ok(r) => read_page::<Value>(&r.body, self.elements.embedded).map(|p| p.entries),
            Err(e) => Err(e),
        };
        match found {
            Ok(found) => {
                for element in found {
                    if let Some(id) = element["id"].as_u64() {
                        products.found.insert(id, element);
                    }
                }
            }
            Err(e) => {
                let context = format!("Reading the products of lead {}", products.lead);
                self.leads.remove(&index);
                return io.fail(index, NodeError::api(&context, &e));
            }
        }
        products.waiting -= 1;
        if products.waiting == 0 {
            for item in products.items(self.catalog.get()) {
                io.emit(index, item);
            }
            self.leads.remove(&index);
        }
    }
}

impl Operation for LeadProducts {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let sent = send_per_item(first, &items, io, |params| self.request(params));
        self.leads.extend(sent);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        match tag {
            Tag::Item(index) => match reply {
                Ok(r) if r.status == 204 => self.on_links(index, None, io),
                Ok(r) => self.on_links(index, Some(r.body), io),
                Err(e) => {
                    if let Some(products) = self.leads.remove(&index) {
                        let context = format!("Reading the products of lead {}", products.lead);
                        io.fail(index, NodeError::api(&context, &e));
                    }
                }
            },
            Tag::Page { item, .. } => self.on_elements(item, reply, io),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::catalog::elements;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit, Step};
    use crate::http::Response;

    fn account() -> AccountAddress {
        AccountAddress::parse("shop", Zone::AmocrmRu).unwrap()
    }

    fn catalog() -> RecordId {
        RecordId::new(5001).unwrap()
    }

    fn link_run(items: Vec<Value>) -> (Run, Step) {
        let op = LinkToLead::new(EntityRef::from(elements(catalog())), catalog(), account());
        let mut r = Run::new(Driver::new(Box::new(op)));
        let s = r.start(items);
        (r, s)
    }

    #[test]
    fn link_to_lead_sends_the_element_with_quantity_catalog_and_price_field() {
        let (mut r, s) = link_run(vec![
            json!({"leadId": "20000001", "elementId": {"__rl": true, "mode": "id", "value": "600002"}, "quantity": "2.5", "priceId": 900402}),
            json!({"leadId": 20000001, "elementId": 600003}),
            json!({"leadId": 20000001, "elementId": 600004, "quantity": 0}),
        ]);
        assert_eq!(s.requests.len(), 2);
        let q = &s.requests[0].request;
        assert_eq!(q.url, "https://shop.amocrm.ru/api/v4/leads/20000001/link");
        let body: Value = serde_json::from_str(q.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!([{"to_entity_id": 600002, "to_entity_type": "catalog_elements",
                    "metadata": {"catalog_id": 5001, "quantity": 2.5, "price_id": 900402}}])
        );
        let body: Value = serde_json::from_str(s.requests[1].request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body[0]["metadata"], json!({"catalog_id": 5001, "quantity": 1}));
        assert!(matches!(&s.emit[0], Emit::Error { index: 2, error } if error.message.contains("\"Quantity\"")));
        let answer = json!({"_embedded": {"links": [{"entity_id": 20000001, "entity_type": "leads", "to_entity_id": 600002,
            "to_entity_type": "catalog_elements", "metadata": {"quantity": 2.5, "catalog_id": 5001, "price_id": 900402}}]}});
        let out = r.reply(s.requests[0].id, Response::new(200, answer.to_string()));
        assert_eq!(
            out.emit[0].json().unwrap(),
            json!({"lead_id": 20000001, "element_id": 600002, "catalog_id": 5001, "quantity": 2.5, "price_id": 900402})
        );
    }

    fn products_run(items: Vec<Value>) -> (Run, Step) {
        let op = LeadProducts::new(EntityRef::from(elements(catalog())), catalog(), account());
        let mut r = Run::new(Driver::new(Box::new(op)));
        let s = r.start(items);
        (r, s)
    }

    #[test]
    fn a_leads_products_come_with_name_quantity_and_price() {
        let (mut r, s) = products_run(vec![json!({"leadId": 20000001}), json!({"leadId": 20000002})]);
        assert_eq!(
            s.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/leads/20000001/links?filter[to_entity_type]=catalog_elements&filter[to_catalog_id]=5001"
        );
        let links = json!({"_embedded": {"links": [
            {"to_entity_id": 600002, "to_entity_type": "catalog_elements", "metadata": {"quantity": 3, "catalog_id": 5001, "price_id": 900402}},
            {"to_entity_id": 600001, "to_entity_type": "catalog_elements", "metadata": {"quantity": 1, "catalog_id": 5001}},
            {"to_entity_id": 39000001, "to_entity_type": "contacts", "metadata": {"main_contact": true}}
        ]}});
        let s2 = r.reply(s.requests[0].id, Response::new(200, links.to_string()));
        assert!(s2.emit.is_empty());
        assert_eq!(
            s2.requests[0].request.url,
            "https://shop.amocrm.ru/api/v4/catalogs/5001/elements?filter[id][0]=600001&filter[id][1]=600002&limit=250"
        );
        let price = |v: &str| json!([{"field_id": 900402, "field_name": "PRICE", "field_type": "price", "values": [{"value": v}]}]);
        let elements = json!({"_embedded": {"elements": [
            {"id": 600001, "name": "Base licence", "custom_fields_values": price("15000")},
            {"id": 600002, "name": "Pro licence", "custom_fields_values": price("45000.5")}
        ]}});
        let out = r.reply(s2.requests[0].id, Response::new(200, elements.to_string()));
        let got: Vec<Value> = out.emit.iter().map(|e| e.json().unwrap()).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (
                got[0]["element_id"].clone(),
                got[0]["name"].clone(),
                got[0]["quantity"].clone(),
                got[0]["price"].clone()
            ),
            (json!(600002), json!("Pro licence"), json!(3), json!(45000.5))
        );
        assert_eq!(
            got[1]["price"], 15000,
            "no price field on the link: the catalog's price field"
        );
        assert_eq!(got[1]["price_id"], Value::Null);
        assert_eq!(got[0]["element"]["name"], "Pro licence");
        // A lead without products of this catalog: no items, no error.
        let done = r.status(s.requests[1].id, 204, "");
        assert!(done.emit.is_empty() && done.done);
    }
}
