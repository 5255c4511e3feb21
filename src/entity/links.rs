//! Link, Unlink and Get Links: a lead's contacts, companies and catalog
//! elements. One request per item (`/api/v4/leads/{id}/link|unlink|links`);
//! linking what is linked, or unlinking what is not, changes nothing, so
//! these are safe to repeat.

use serde_json::{json, Value};

use crate::account::AccountAddress;
use crate::api_error::parse_json;
use crate::engine::{Io, Operation, Replay, Reply};
use crate::error::NodeError;
use crate::http::{Method, Request};
use crate::input::{InputError, Params};
use crate::lead::reference::{parse_lead_ref, LeadId};
use crate::query::Query;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Link,
    Unlink,
    List,
}

pub struct Links {
    action: LinkAction,
    account: AccountAddress,
    items: Vec<Value>,
    leads: Vec<Option<LeadId>>,
}

impl Links {
    pub fn new(action: LinkAction, account: AccountAddress, items: Vec<Value>) -> Links {
        Links {
            action,
            account,
            items,
            leads: Vec::new(),
        }
    }

    /// `[{to_entity_id, to_entity_type, metadata?}]` from the item's targets.
    fn targets(params: Params) -> Result<Vec<Value>, InputError> {
        let mut out = Vec::new();
        for id in params.ids("contactIds", "Contact IDs", "a contact")? {
            out.push(json!({ "to_entity_id": id.get(), "to_entity_type": "contacts" }));
        }
        for id in params.ids("companyIds", "Company IDs", "a company")? {
            out.push(json!({ "to_entity_id": id.get(), "to_entity_type": "companies" }));
        }
        let elements = params.object("catalogElements");
        for element in elements.get("elements").and_then(Value::as_array).into_iter().flatten() {
            let e = Params::new(element);
            let label = "Catalog Elements";
            let id = e
                .id("elementId", label, "a catalog element")?
                .ok_or_else(|| InputError::new(label, "every entry needs an element ID"))?;
            let catalog = e
                .id("catalogId", label, "a catalog")?
                .ok_or_else(|| InputError::new(label, "every entry needs a catalog ID"))?;
            let quantity = e.whole("quantity", "Catalog Elements › Quantity", 0)?.unwrap_or(1);
            out.push(json!({ "to_entity_id": id.get(), "to_entity_type": "catalog_elements", "metadata": { "catalog_id": catalog.get(), "quantity": quantity } }));
        }
        if out.is_empty() {
            return Err(InputError::new(
                "Contact IDs",
                "nothing to link: give contact IDs, company IDs or catalog elements",
            ));
        }
        Ok(out)
    }

    fn request(&self, params: Params) -> Result<(LeadId, Request), InputError> {
        let lead = parse_lead_ref(params.get("leadId").unwrap_or(&Value::Null), &self.account, "Lead")?;
        let request = match self.action {
            LinkAction::List => {
                let mut q = Query::new();
                let types = params
                    .object("filters")
                    .strings("toEntityTypes", "Filters › Linked Types")?;
                q.push_list("filter[to_entity_type]", types);
                Request::get(self.account.url(&q.append_to(&format!("/api/v4/leads/{lead}/links"))))
            }
            LinkAction::Link | LinkAction::Unlink => {
                let verb = if self.action == LinkAction::Link {
                    "link"
                } else {
                    "unlink"
                };
                Request::new(Method::Post, self.account.url(&format!("/api/v4/leads/{lead}/{verb}")))
                    .json(&Value::Array(Links::targets(params)?))
            }
        };
        Ok((lead, request))
    }
}

impl Operation for Links {
    fn start(&mut self, io: &mut Io) {
        let mut requests = Vec::new();
        for (index, item) in self.items.iter().enumerate() {
            if item.is_null() {
                self.leads.push(None);
                continue;
            }
            match self.request(Params::new(item)) {
                Ok((lead, request)) => {
                    self.leads.push(Some(lead));
                    requests.push((index, request));
                }
                Err(e) => {
                    self.leads.push(None);
                    io.fail(index, NodeError::input(index, &e));
                }
            }
        }
        for (index, request) in requests {
            io.send(index as u64, request, Replay::Safe);
        }
    }

    fn on_reply(&mut self, tag: u64, reply: Reply, io: &mut Io) {
        let index = tag as usize;
        let lead = self
            .leads
            .get(index)
            .copied()
            .flatten()
            .map(|l| l.get())
            .unwrap_or_default();
        let context = match self.action {
            LinkAction::Link => format!("Linking to lead {lead}"),
            LinkAction::Unlink => format!("Unlinking from lead {lead}"),
            LinkAction::List => format!("Reading the links of lead {lead}"),
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
        match self.action {
            // One item per link; a lead without links gives none.
            LinkAction::List => links.into_iter().for_each(|l| io.emit(index, l)),
            LinkAction::Link => io.emit(index, json!({ "lead_id": lead, "linked": links })),
            LinkAction::Unlink => io.emit(index, json!({ "lead_id": lead, "unlinked": true })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Zone;
    use crate::engine::{Driver, Emit};
    use crate::http::{Outcome, Response};

    fn driver(action: LinkAction, items: Vec<Value>) -> Driver {
        Driver::new(Box::new(Links::new(
            action,
            AccountAddress::parse("shop", Zone::AmocrmRu).unwrap(),
            items,
        )))
    }

    #[test]
    fn link_sends_every_target_kind() {
        let item = json!({"leadId": "7", "contactIds": "1,2", "companyIds": [3], "catalogElements": {"elements": [{"elementId": 4, "catalogId": 5, "quantity": 2}]}});
        let s = driver(LinkAction::Link, vec![item]).start();
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
        let mut d = driver(LinkAction::List, vec![json!({"leadId": 7}), json!({"leadId": 8})]);
        let s = d.start();
        assert_eq!(s.requests[1].request.url, "https://shop.amocrm.ru/api/v4/leads/8/links");
        let body = json!({"_embedded": {"links": [{"to_entity_id": 1}, {"to_entity_id": 2}]}});
        let a = d.on_outcome(
            s.requests[0].id,
            Outcome::Response(Response::new(200, body.to_string())),
        );
        assert_eq!(a.emit.len(), 2);
        let b = d.on_outcome(s.requests[1].id, Outcome::Response(Response::new(204, "")));
        assert!(b.emit.is_empty() && b.done);
    }

    #[test]
    fn nothing_to_link_is_an_input_error() {
        let s = driver(LinkAction::Unlink, vec![json!({"leadId": 7})]).start();
        assert!(s.requests.is_empty());
        assert!(matches!(&s.emit[0], Emit::Error { error, .. } if error.message.contains("nothing to link")));
    }
}
