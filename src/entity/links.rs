//! Link, Unlink and Get Links: the records linked to a record (a lead's
//! contacts, companies and catalog elements; a contact's leads, customers
//! and company…). One request per item (`{path}/{id}/link|unlink|links`);
//! linking what is linked, or unlinking what is not, changes nothing, so
//! these are safe to repeat.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{send_per_item, Io, Operation, Reply, Tag};
use crate::entity::reference::parse_ref;
use crate::entity::{EntityRef, RecordId};
use crate::error::NodeError;
use crate::http::{Method, Request};
use crate::input::{InputError, Params};
use crate::query::Query;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Link,
    Unlink,
    List,
}

/// The node parameter, label and amoCRM type of each kind of link target.
const TARGETS: [(&str, &str, &str, &str); 4] = [
    ("contactIds", "Contact IDs", "contacts", "a contact"),
    ("companyIds", "Company IDs", "companies", "a company"),
    ("leadIds", "Lead IDs", "leads", "a lead"),
    ("customerIds", "Customer IDs", "customers", "a customer"),
];

pub struct Links {
    entity: EntityRef,
    action: LinkAction,
    account: AccountAddress,
    sent: HashMap<usize, RecordId>,
}

impl Links {
    pub fn new(entity: EntityRef, action: LinkAction, account: AccountAddress) -> Links {
        Links {
            entity,
            action,
            account,
            sent: HashMap::new(),
        }
    }

    /// `[{to_entity_id, to_entity_type, metadata?}]` from the item's targets.
    fn targets(&self, params: Params) -> Result<Vec<Value>, InputError> {
        let allowed = self.entity.features.links;
        let mut out = Vec::new();
        for (param, label, kind, what) in TARGETS {
            let ids = params.ids(param, label, what)?;
            if !ids.is_empty() && !allowed.contains(&kind) {
                return Err(InputError::new(
                    label,
                    format!("{} cannot be linked to {kind}", self.entity.nouns),
                ));
            }
            for id in ids {
                out.push(json!({ "to_entity_id": id.get(), "to_entity_type": kind }));
            }
        }
        let elements = params.object("catalogElements");
        for element in elements.get("elements").and_then(Value::as_array).into_iter().flatten() {
            let e = Params::new(element);
            let label = "Catalog Elements";
            if !allowed.contains(&"catalog_elements") {
                return Err(InputError::new(
                    label,
                    format!("{} cannot be linked to catalog elements", self.entity.nouns),
                ));
            }
            let id = e
                .id("elementId", label, "a catalog element")?
                .ok_or_else(|| InputError::new(label, "every entry needs an element ID"))?;
            let catalog = e
                .id("catalogId", label, "a catalog")?
                .ok_or_else(|| InputError::new(label, "every entry needs a catalog ID"))?;
            let quantity = e.whole("quantity", "Catalog Elements › Quantity", 0)?.unwrap_or(1);
            let mut metadata = json!({ "catalog_id": catalog.get(), "quantity": quantity });
            if let Some(price) = e.id("priceId", "Catalog Elements › Price Field", "a price field")? {
                metadata["price_id"] = json!(price.get());
            }
            out.push(json!({ "to_entity_id": id.get(), "to_entity_type": "catalog_elements", "metadata": metadata }));
        }
        if out.is_empty() {
            let first = TARGETS
                .iter()
                .find(|t| allowed.contains(&t.2))
                .map_or("Catalog Elements", |t| t.1);
            return Err(InputError::new(
                first,
                format!(
                    "nothing to link: give the IDs of {}",
                    allowed.join(", ").replace('_', " ")
                ),
            ));
        }
        Ok(out)
    }

    fn request(&self, params: Params) -> Result<(RecordId, Request), InputError> {
        let e = self.entity.clone();
        let id = parse_ref(
            params.get(e.id_param).unwrap_or(&Value::Null),
            &self.account,
            &e,
            e.label,
        )?;
        let path = e.record_path(id);
        let request = match self.action {
            LinkAction::List => {
                let mut q = Query::new();
                let types = params
                    .object("filters")
                    .strings("toEntityTypes", "Filters › Linked Types")?;
                q.push_list("filter[to_entity_type]", types);
                Request::get(self.account.url(&q.append_to(&format!("{path}/links"))))
            }
            LinkAction::Link | LinkAction::Unlink => {
                let verb = if self.action == LinkAction::Link {
                    "link"
                } else {
                    "unlink"
                };
                Request::new(Method::Post, self.account.url(&format!("{path}/{verb}")))
                    .json(&Value::Array(self.targets(params)?))
            }
        };
        Ok((id, request))
    }
}

impl Operation for Links {
    fn on_items(&mut self, first: usize, items: Vec<Value>, _last: bool, io: &mut Io) {
        let sent = send_per_item(first, &items, io, |params| self.request(params));
        self.sent.extend(sent);
    }

    fn on_reply(&mut self, tag: Tag, reply: Reply, io: &mut Io) {
        let Tag::Item(index) = tag else { return };
        let Some(id) = self.sent.remove(&index) else { return };
        let noun = self.entity.noun;
        let context = match self.action {
            LinkAction::Link => format!("Linking to {noun} {id}"),
            LinkAction::Unlink => format!("Unlinking from {noun} {id}"),
            LinkAction::List => format!("Reading the links of {noun} {id}"),
        };
        let body = match reply {
            Ok(r) if r.status == 204 => None,
            Ok(r) => match parse_json(&r) {
                Ok(v) => Some(v),
                Err(e) => return io.fail(index, NodeError::api(&context, &e)),
            },
            Err(e) => return io.fail(index, NodeError::api(&context, &e)),
        };
        let links: Vec<Value> = body
            .as_ref()
            .and_then(|b| b["_embedded"]["links"].as_array().cloned())
            .unwrap_or_default();
        let key = format!("{noun}_id");
        match self.action {
            // One item per link; a record without links gives none.
            LinkAction::List => links.into_iter().for_each(|l| io.emit(index, l)),
            LinkAction::Link => io.emit(index, json!({ key: id.get(), "linked": links })),
            LinkAction::Unlink => io.emit(index, json!({ key: id.get(), "unlinked": true })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::testing::Run;
    use crate::engine::{Driver, Emit};
    use crate::http::Response;
    use crate::lead::LEADS;

    fn driver(action: LinkAction) -> Run {
        Run::new(Driver::new(Box::new(Links::new(
            EntityRef::Static(&LEADS),
            action,
            AccountAddress::parse("shop", Zone::AmocrmRu).unwrap(),
        ))))
    }

    #[test]
    fn link_sends_every_target_kind() {
        let item = json!({"leadId": "7", "contactIds": "1,2", "companyIds": [3], "catalogElements": {"elements": [{"elementId": 4, "catalogId": 5, "quantity": 2}]}});
        let s = driver(LinkAction::Link).start(vec![item]);
        assert_eq!(s.requests[0].request.url, "https://shop.amocrm.ru/api/v4/leads/7/link");
        let body: Value = serde_json::from_str(s.requests[0].request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!([
                {"to_entity_id": 1, "to_entity_type": "contacts"},
                {"to_entity_id": 2, "to_entity_type": "contacts"},
                {"to_entity_id": 3, "to_entity_type": "companies"},
                {"to_entity_id": 4, "to_entity_type": "catalog_elements", "metadata": {"catalog_id": 5, "quantity": 2}}
            ])
        );
    }

    #[test]
    fn get_links_emits_one_item_per_link_and_nothing_for_204() {
        let mut d = driver(LinkAction::List);
        let s = d.start(vec![json!({"leadId": 7}), json!({"leadId": 8})]);
        assert_eq!(s.requests[1].request.url, "https://shop.amocrm.ru/api/v4/leads/8/links");
        let body = json!({"_embedded": {"links": [{"to_entity_id": 1}, {"to_entity_id": 2}]}});
        let a = d.reply(s.requests[0].id, Response::new(200, body.to_string()));
        assert_eq!(a.emit.len(), 2);
        let b = d.reply(s.requests[1].id, Response::new(204, ""));
        assert!(b.emit.is_empty() && b.done);
    }

    #[test]
    fn nothing_to_link_is_an_input_error() {
        let s = driver(LinkAction::Unlink).start(vec![json!({"leadId": 7})]);
        assert!(s.requests.is_empty());
        assert!(matches!(&s.emit[0], Emit::Error { error, .. } if error.message.contains("nothing to link")));
    }
}
