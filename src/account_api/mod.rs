//! The AmoCRM Account node: everything in amoCRM's API that is not an
//! entity (the account, pipelines and statuses, users and roles, custom
//! fields and groups, tags, loss reasons, sources, calls, talks, salesbots,
//! webhooks and files), built on the entity machinery wherever amoCRM's
//! calls have its shape (lists, batched creates, reads by ID, deletes).
//!
//! * [`resources`]: each resource's collection as an entity descriptor.
//! * [`rules`]: amoCRM's rules checked before anything is sent (statuses
//!   142 and 143, the pipeline and status limits, the colour palettes).
//! * [`per_item`], [`scoped`], [`prefetch`]: one request per item; items
//!   addressing different collections; a read the items are checked against.
//! * [`info`]: the account itself and Check Connection.
//! * [`calls`], [`talks`], [`hooks`], [`files`]: what has a shape of its own.
//!
//! Events are read by the events module; a resource is one more arm of
//! [`operation`].

pub mod calls;
pub mod files;
pub mod hooks;
pub mod info;
pub mod per_item;
pub mod prefetch;
pub mod resources;
pub mod rules;
pub mod scoped;
pub mod talks;

use crate::account::AccountAddress;
use crate::engine::Operation;
use crate::entity::batch::Batcher;
use crate::entity::get::GetRecords;
use crate::entity::get_many::{ListRecords, Listing};
use crate::entity::write::{CreateRecords, UpdateRecords};
use crate::entity::{EntityRef, Planned};
use crate::lookups::{ListKind, Lookup};
use per_item::PerItem;
use resources::{Collection, SingleUpdate};
use scoped::Scoped;

/// The node's resources, as the core names them.
pub const RESOURCES: &[&str] = &[
    "account",
    "pipeline",
    "pipelineStatus",
    "user",
    "role",
    "customField",
    "fieldGroup",
    "tag",
    "lossReason",
    "source",
    "call",
    "talk",
    "salesbot",
    "webhookSubscription",
    "file",
];

pub fn handles(resource: &str) -> bool {
    RESOURCES.contains(&resource)
}

fn read(op: impl Operation + 'static) -> Option<Planned> {
    Some(Planned {
        op: Box::new(op),
        writes: false,
    })
}

fn write(op: impl Operation + 'static) -> Option<Planned> {
    Some(Planned {
        op: Box::new(op),
        writes: true,
    })
}

/// One generic operation on a collection of one scope.
fn build(c: &Collection, name: &'static str, account: AccountAddress, writer: u8) -> Box<dyn Operation> {
    let e: EntityRef = c.entity();
    match name {
        "getMany" => Box::new(ListRecords::new(e, Listing::Records, account)),
        "get" => Box::new(GetRecords::new(e, account)),
        "delete" => Box::new(GetRecords::delete(e, account)),
        "update" if c.batch_update => Box::new(
            Batcher::new(
                UpdateRecords {
                    entity: e,
                    account: account.clone(),
                },
                account,
            )
            .writer(writer),
        ),
        "update" => Box::new(PerItem::new(SingleUpdate { entity: e, account })),
        _ => Box::new(Batcher::new(CreateRecords { entity: e }, account).writer(writer)),
    }
}

/// The generic operations of a collection: Get Many, Get, Create (in
/// batches), Update (in batches, or one by one where amoCRM takes only one),
/// Delete; items of different scopes (pipelines, entities) each in their
/// own, and amoCRM's rules checked first where it has any.
fn generic(c: Collection, name: &str, account: AccountAddress) -> Option<Planned> {
    let name: &'static str = c.ops.iter().copied().find(|o| *o == name)?;
    let writes = matches!(name, "create" | "update" | "delete");
    let op: Box<dyn Operation> = match c.scope {
        None => build(&c, name, account.clone(), 0),
        Some(scope) => {
            let template = c.clone();
            let acc = account.clone();
            Box::new(Scoped::new(
                move |p| scope.key_of(p),
                move |key, writer| build(&template.for_scope(key), name, acc.clone(), writer),
            ))
        }
    };
    let op = rules::guard(&c, name, op, &account);
    Some(Planned { op, writes })
}

/// The operation `name` of resource `resource`; `auth` is the credential's
/// kind (`longLivedToken`, `oauth`, `oauth2`), for Check Connection.
pub fn operation(resource: &str, name: &str, account: AccountAddress, auth: &str) -> Option<Planned> {
    if let Some(kind) = ListKind::parse(name) {
        // The node's dropdowns (pipelines, statuses, users, loss reasons).
        return read(Lookup::new(kind, EntityRef::Static(&crate::lead::LEADS), account));
    }
    match (resource, name) {
        ("account", "get") => read(PerItem::new(info::AccountGet { account })),
        ("account", "checkConnection") => read(PerItem::new(info::CheckConnection {
            account,
            auth: auth.to_string(),
        })),
        ("fieldGroup", "get" | "update" | "delete") => Some(Planned {
            op: resources::group_operation(name, account),
            writes: name != "get",
        }),
        ("tag", "delete") => write(resources::untag(account)),
        ("call", "create") => write(Batcher::new(calls::AddCalls, account)),
        ("talk", "get") => read(PerItem::new(talks::TalkGet { account })),
        ("talk", "close") => write(PerItem::new(talks::TalkClose { account })),
        ("salesbot", "run") => write(PerItem::new(talks::Salesbot { account, stop: false })),
        ("salesbot", "stop") => write(PerItem::new(talks::Salesbot { account, stop: true })),
        ("webhookSubscription", "getMany") => read(PerItem::new(hooks::ListHooks { account })),
        ("webhookSubscription", "subscribe") => write(PerItem::new(hooks::Subscribe { account })),
        ("webhookSubscription", "unsubscribe") => write(PerItem::new(hooks::Unsubscribe { account })),
        ("file", "upload") => write(files::FileJobs::upload(account)),
        ("file", "getMany") => read(files::entity_files(account)),
        ("file", "download") => read(files::FileJobs::download(account)),
        (resource, name) => generic(Collection::of(resource)?, name, account),
    }
}

#[cfg(test)]
mod tests;
