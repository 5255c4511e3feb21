//! One execution of a node operation: the JSON the shell hands over, checked
//! and turned into a running [`Driver`], fed with the process's state.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::account::{AccountAddress, AddressConfig};
use crate::engine::driver::Env;
use crate::engine::{Driver, Operation, Step};
use crate::entity::{self, EntityRef, Planned};
use crate::error::{ErrorKind, NodeError};
use crate::http::{Outcome, Request, Response, TransportFailure};
use crate::process::Process;
use crate::ratelimit::{Limit, DEFAULT_PER_SECOND};

/// Upper bound for the credential's request-rate setting: far above amoCRM's
/// documented 7/s, to allow accounts with a raised limit, and low enough that a
/// typo cannot get the server's IP banned in seconds.
pub const MAX_PER_SECOND: u32 = 50;

/// The most n8n processes a credential can say share its account.
pub const MAX_PROCESSES: u32 = 32;

/// A whole-number credential setting, or its default when absent.
fn whole_setting(value: Option<f64>, field: &str, default: u32, max: u32, hint: &str) -> Result<u32, NodeError> {
    match value {
        None => Ok(default),
        Some(r) if r.fract() == 0.0 && (1.0..=f64::from(max)).contains(&r) => Ok(r as u32),
        Some(r) => Err(NodeError::new(
            ErrorKind::Input,
            format!(
                "Credential field \"{field}\": {} is not allowed; use a whole number from 1 to {max}{hint}",
                serde_json::Value::from(r)
            ),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallInput {
    pub resource: String,
    pub operation: String,
    pub account: AddressConfig,
    /// The first input items (all of them unless `more`).
    #[serde(default)]
    pub items: Vec<Value>,
    /// More items will be fed after these.
    #[serde(default)]
    pub more: bool,
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// How many n8n processes the credential says spend on the account.
    #[serde(default)]
    pub sharing_processes: Option<f64>,

    /// How the credential authenticates: `longLivedToken`, `oauth` (tokens
    /// managed by this package) or `oauth2` (n8n's OAuth2 credential).
    #[serde(default)]
    pub auth: String,
    /// n8n's "Continue On Fail" (the node's On Error setting).
    #[serde(default)]
    pub continue_on_fail: bool,
    /// The credential's ID in n8n: cached account metadata is kept per
    /// credential, so that one that is not connected never sees what another
    /// one read.
    #[serde(default)]
    pub credential: String,
}

/// The cheapest authenticated read amoCRM offers, used to renew an expired
/// access token through n8n's 401 handling.
pub const REAUTH_PROBE_PATH: &str = "/api/v4/account";

/// The entity a node resource works on.
pub fn entity_of(resource: &str) -> Option<EntityRef> {
    match resource {
        "lead" => Some(EntityRef::Static(&crate::lead::LEADS)),
        #[cfg(feature = "contact")]
        "contact" => Some(EntityRef::Static(&crate::contact::CONTACTS)),
        #[cfg(feature = "company")]
        "company" => Some(EntityRef::Static(&crate::company::COMPANIES)),
        #[cfg(feature = "task")]
        "task" => Some(EntityRef::Static(&crate::task::TASKS)),
        #[cfg(feature = "customer")]
        "customer" => Some(EntityRef::Static(&crate::customer::CUSTOMERS)),
        #[cfg(feature = "unsorted")]
        "unsorted" => Some(EntityRef::Static(&crate::unsorted::UNSORTED)),
        #[cfg(feature = "catalog")]
        "catalog" => Some(EntityRef::Static(&crate::catalog::CATALOGS)),
        _ => None,
    }
}

/// The operation `resource`/`operation` names.
fn plan(resource: &str, operation: &str, account: AccountAddress, auth: &str) -> Result<Planned, NodeError> {
    #[cfg(feature = "account-node")]
    if crate::account_api::handles(resource) {
        return crate::account_api::operation(resource, operation, account, auth)
            .ok_or_else(|| NodeError::internal(format!("the {resource} resource has no operation \"{operation}\"")));
    }
    let _ = auth;
    let op: Box<dyn Operation> = match (resource, operation) {
        ("request", _) => Box::new(crate::custom::CustomRequest::new(account)),
        ("webhook", name) => crate::webhook::operation(name, account)?,
        ("event", name) => {
            return crate::event::operation(name, account)
                .ok_or_else(|| NodeError::internal(format!("the event resource has no operation \"{name}\"")));
        }
        ("lead", "createComplex") => {
            let op = crate::entity::batch::Batcher::new(crate::lead::complex::CreateComplex, account);
            return Ok(Planned {
                op: Box::new(op),
                writes: true,
            });
        }
        #[cfg(feature = "contact")]
        ("contact", "findOrCreate") => {
            let op = crate::entity::find_or_create::FindOrCreate::new(&crate::contact::find::ContactMatcher, account);
            return Ok(Planned {
                op: Box::new(op),
                writes: true,
            });
        }
        #[cfg(feature = "company")]
        ("company", "findOrCreate") => {
            let op = crate::entity::find_or_create::FindOrCreate::new(&crate::company::find::CompanyMatcher, account);
            return Ok(Planned {
                op: Box::new(op),
                writes: true,
            });
        }
        #[cfg(feature = "task")]
        ("task", name) => {
            return crate::task::operation(name, account).ok_or_else(|| no_operation(resource, name));
        }
        #[cfg(feature = "customer")]
        ("customer", name) => {
            return crate::customer::operation(name, account).ok_or_else(|| no_operation(resource, name));
        }
        // Incoming leads and catalog elements have operations of their own.
        #[cfg(feature = "unsorted")]
        ("unsorted", name) => {
            return crate::unsorted::operation(name, account).ok_or_else(|| no_operation(resource, name))
        }
        #[cfg(feature = "catalog")]
        ("catalogElement", name) => {
            return crate::catalog::element_operation(name, account).ok_or_else(|| no_operation(resource, name))
        }
        (resource, name) => {
            let entity =
                entity_of(resource).ok_or_else(|| NodeError::internal(format!("unknown resource \"{resource}\"")))?;
            return entity::operation(entity, name, account).ok_or_else(|| no_operation(resource, name));
        }
    };
    Ok(Planned { op, writes: false })
}

fn no_operation(resource: &str, name: &str) -> NodeError {
    NodeError::internal(format!("the {resource} resource has no operation \"{name}\""))
}

pub struct Call {
    driver: Driver,
    scope: String,
    account_key: String,
    limit: Limit,
    first_items: Option<(Vec<Value>, bool)>,
}

impl Call {
    pub fn prepare(input_json: &str) -> Result<Call, NodeError> {
        let input: CallInput = serde_json::from_str(input_json)
            .map_err(|e| NodeError::internal(format!("the node sent the core unreadable input: {e}")))?;
        let account = AccountAddress::from_config(&input.account)?;

        let limit = Limit {
            per_second: whole_setting(
                input.requests_per_second,
                "Requests per Second",
                DEFAULT_PER_SECOND,
                MAX_PER_SECOND,
                " (amoCRM allows 7)",
            )?,
            processes: whole_setting(
                input.sharing_processes,
                "n8n Processes Sharing the Account",
                1,
                MAX_PROCESSES,
                "",
            )?,
        };
        let account_key = account.origin().to_string();
        let probe = Request::get(account.url(REAUTH_PROBE_PATH));
        let Planned { op, writes } = plan(&input.resource, &input.operation, account, &input.auth)?;
        let driver = Driver::new(op).continue_on_fail(input.continue_on_fail).writes(writes);
        let driver = match input.auth.as_str() {
            "longLivedToken" => driver,
            _ => driver.with_reauthentication(probe),
        };
        Ok(Call {
            driver,
            scope: input.credential,
            account_key,
            limit,
            first_items: Some((input.items, !input.more)),
        })
    }

    pub fn start(&mut self, process: &mut Process, now_ms: f64) -> Step {
        let (items, last) = self.first_items.take().unwrap_or((Vec::new(), true));
        self.driver.start(items, last, env(process, now_ms, &self.scope))
    }

    /// Further input items, numbered from `first`, as a JSON list.
    pub fn feed(&mut self, process: &mut Process, first: usize, items_json: &str, last: bool, now_ms: f64) -> Step {
        let items: Vec<Box<RawValue>> = match serde_json::from_str(items_json) {
            Ok(items) => items,
            Err(e) => return Step::fatal(NodeError::internal(format!("the node sent unreadable items: {e}"))),
        };
        let items = items
            .into_iter()
            .map(|raw| serde_json::from_str(raw.get()).unwrap_or(Value::Null))
            .collect();
        self.driver.feed(first, items, last, env(process, now_ms, &self.scope))
    }

    pub fn on_response(&mut self, process: &mut Process, id: u32, response: Response, now_ms: f64) -> Step {
        let step = self
            .driver
            .on_outcome(id, Outcome::Response(response), env(process, now_ms, &self.scope));
        if step.throttled {
            process.limiter.throttle(&self.account_key);
        }
        step
    }

    pub fn on_transport_failure(
        &mut self,
        process: &mut Process,
        id: u32,
        code: &str,
        message: &str,
        now_ms: f64,
    ) -> Step {
        let step = self.driver.on_outcome(
            id,
            Outcome::Transport(TransportFailure::new(code, message)),
            env(process, now_ms, &self.scope),
        );
        if step.throttled {
            process.limiter.throttle(&self.account_key);
        }
        step
    }

    /// Asks the account's shared budget for a send at `now_ms` on a
    /// monotonic clock: 0 when granted, else how long to wait before asking
    /// again.
    pub fn acquire(&self, process: &mut Process, now_ms: f64) -> f64 {
        process.limiter.acquire(&self.account_key, now_ms, self.limit)
    }
}

fn env<'a>(process: &'a mut Process, now_ms: f64, scope: &'a str) -> Env<'a> {
    Env {
        now_ms,
        metadata: &mut process.metadata,
        scope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(extra: &str) -> Result<Call, NodeError> {
        Call::prepare(&format!(
            r#"{{"resource":"lead","operation":"get","account":{{"environment":"local","baseUrl":"http://127.0.0.1:9"}}{extra}}}"#
        ))
    }

    #[test]
    fn the_credentials_rate_settings_make_one_limit() {
        assert_eq!(prepare("").ok().unwrap().limit, Limit::DEFAULT);
        let call = prepare(r#","requestsPerSecond":5,"sharingProcesses":2"#).ok().unwrap();
        assert_eq!(
            call.limit,
            Limit {
                per_second: 5,
                processes: 2
            }
        );
        assert_eq!(call.limit.ceiling(), 2.5);
    }

    #[test]
    fn a_bad_rate_setting_names_the_credential_field() {
        for (extra, field) in [
            (r#","requestsPerSecond":0"#, "Requests per Second"),
            (r#","requestsPerSecond":7.5"#, "Requests per Second"),
            (r#","sharingProcesses":0"#, "n8n Processes Sharing the Account"),
            (r#","sharingProcesses":33"#, "n8n Processes Sharing the Account"),
        ] {
            let message = prepare(extra).err().unwrap().message;
            assert!(
                message.starts_with(&format!("Credential field \"{field}\"")),
                "{message}"
            );
        }
    }
}
