//! OAuth 2.0 tokens of the "AmoCRM API" credential in OAuth mode.
//!
//! n8n calls the credential's `preAuthentication` when the access token is
//! empty (first use), after a 401 (the token expired or was revoked), and on a
//! credential test. Each time, [`plan`] decides what to do from the stored
//! fields, and [`TokenBroker::complete`] reads amoCRM's answer into the fields
//! n8n persists.
//!
//! amoCRM's refresh tokens are single-use and rotate: every refresh returns a
//! new pair and kills the old refresh token, and a second use of it answers
//! "Token has been revoked" — after which the connection is dead until someone
//! pastes a new authorization code. Two guards keep that from happening within
//! one n8n process:
//! * single flight: concurrent callers holding the same refresh token share
//!   one request (the shell keeps the in-flight promise under [`Plan::Send`]'s
//!   `flight` key);
//! * rotation memory: the broker remembers which refresh token was rotated to
//!   which pair, so a late caller still holding a spent token gets the newest
//!   pair instead of burning the spent one.
//!
//! The code exchange is guarded the same way, and a fingerprint of the code
//! last exchanged tells a freshly pasted code (exchange it) from the spent one
//! still in the field (ignore it).

pub mod error;
pub mod expiry;
pub mod jwt;

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::account::{AccountAddress, AddressConfig, AddressError};
use crate::http::{Method, Request, Response};
pub use error::TokenError;

/// The token endpoint, on the account's own host.
pub const TOKEN_PATH: &str = "/oauth2/access_token";

/// Rotations remembered per process. One credential rotates once a day, so
/// this covers hundreds of credentials; older entries only matter to callers
/// that held a token for days.
pub const MAX_REMEMBERED_ROTATIONS: usize = 512;

/// Token requests planned but not completed (a shell that never reported
/// back) are forgotten beyond this many.
pub const MAX_PENDING_GRANTS: usize = 64;

/// The credential's stored fields that matter here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, from = "StoredFields")]
pub struct CredentialFields {
    pub address: AddressConfig,
    pub connection_type: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub authorization_code: String,
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: Option<f64>,
    pub grant_fingerprint: String,
}

/// The credential as n8n stores it: one flat object. (Read flat and split
/// here rather than with `#[serde(flatten)]`, which costs kilobytes of .wasm.)
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StoredFields {
    environment: String,
    address: String,
    zone: String,
    base_url: String,
    connection_type: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    authorization_code: String,
    access_token: String,
    refresh_token: String,
    #[serde(deserialize_with = "lenient_number")]
    access_expires_at: Option<f64>,
    grant_fingerprint: String,
}

impl From<StoredFields> for CredentialFields {
    fn from(s: StoredFields) -> CredentialFields {
        CredentialFields {
            address: AddressConfig {
                environment: s.environment,
                address: s.address,
                zone: s.zone,
                base_url: s.base_url,
                subdomain_only: false,
            },
            connection_type: s.connection_type,
            client_id: s.client_id,
            client_secret: s.client_secret,
            redirect_uri: s.redirect_uri,
            authorization_code: s.authorization_code,
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            access_expires_at: s.access_expires_at,
            grant_fingerprint: s.grant_fingerprint,
        }
    }
}

/// n8n stores hidden fields as whatever was saved: a number, a numeric
/// string, or the empty default.
fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => serde_json::from_str::<f64>(s.trim()).ok(),
        _ => None,
    })
}

/// The fields to persist after a grant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    /// Milliseconds since the epoch, on this machine's clock.
    pub access_expires_at: f64,
    pub grant_fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Code,
    Refresh,
}

#[derive(Debug, Clone)]
struct PendingGrant {
    /// Rotation-memory key of what is being exchanged.
    spent_key: String,
    fingerprint: String,
    host: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Not an OAuth credential, or nothing to do.
    Nothing,
    /// Another caller in this process already got these; persist them.
    Use(TokenSet),
    /// Send `request`; callers with the same `flight` share one send.
    Send { flight: String, request: Request },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    Address(AddressError),
    Token(TokenError),
}

/// Rotation memory and pending grants of one process.
#[derive(Debug, Default)]
pub struct TokenBroker {
    rotations: HashMap<String, TokenSet>,
    rotation_order: VecDeque<String>,
    pending: HashMap<String, PendingGrant>,
    pending_order: VecDeque<String>,
}

impl TokenBroker {
    /// Decides what `preAuthentication` does for `fields` at `now_ms`.
    pub fn plan(&mut self, fields: &CredentialFields, now_ms: f64) -> Result<Plan, PlanError> {
        if fields.connection_type != "oauth" {
            return Ok(Plan::Nothing);
        }
        let account = AccountAddress::from_config(&fields.address).map_err(PlanError::Address)?;
        for (value, field) in [
            (&fields.client_id, "Client ID"),
            (&fields.client_secret, "Client Secret"),
            (&fields.redirect_uri, "Redirect URI"),
        ] {
            if value.trim().is_empty() {
                return Err(PlanError::Token(TokenError::MissingSetting { field }));
            }
        }
        let client_id = fields.client_id.trim();
        let code = fields.authorization_code.trim();
        let code_fingerprint = (!code.is_empty()).then(|| fingerprint(&[client_id, account.origin(), code]));

        let (grant, spent_key, secret, grant_fp) = match code_fingerprint {
            // A code that has not been exchanged yet: a new connection.
            Some(fp) if fp != fields.grant_fingerprint => (
                Grant::Code,
                memory_key(client_id, account.origin(), "code", code),
                code.to_string(),
                fp,
            ),
            _ if !fields.refresh_token.trim().is_empty() => {
                let key = memory_key(client_id, account.origin(), "refresh", fields.refresh_token.trim());
                match self.newest(client_id, account.origin(), &key) {
                    // Someone in this process already rotated this token.
                    Some(newest) if expiry::is_fresh(newest.access_expires_at, now_ms) => return Ok(Plan::Use(newest)),
                    // Rotated, but that pair has expired too: renew the newest.
                    Some(newest) => (
                        Grant::Refresh,
                        memory_key(client_id, account.origin(), "refresh", &newest.refresh_token),
                        newest.refresh_token.clone(),
                        newest.grant_fingerprint.clone(),
                    ),
                    None => (
                        Grant::Refresh,
                        key,
                        fields.refresh_token.trim().to_string(),
                        fields.grant_fingerprint.clone(),
                    ),
                }
            }
            _ => return Err(PlanError::Token(TokenError::NoGrant)),
        };
        if let Some(newest) = self.newest(client_id, account.origin(), &spent_key) {
            // A code another caller exchanged a moment ago.
            return Ok(Plan::Use(newest));
        }

        let mut body = json!({
            "client_id": client_id,
            "client_secret": fields.client_secret.trim(),
            "redirect_uri": fields.redirect_uri.trim(),
        });
        match grant {
            Grant::Code => {
                body["grant_type"] = json!("authorization_code");
                body["code"] = json!(secret);
            }
            Grant::Refresh => {
                // amoCRM's documentation and official clients send
                // redirect_uri on refresh too (n8n's own OAuth2 never does).
                body["grant_type"] = json!("refresh_token");
                body["refresh_token"] = json!(secret);
            }
        }
        let mut request = Request::new(Method::Post, account.url(TOKEN_PATH)).json(&body);
        request.headers.insert("accept".into(), "application/json".into());
        let flight = fingerprint(&[&spent_key]);
        self.remember_pending(
            flight.clone(),
            PendingGrant {
                spent_key,
                fingerprint: grant_fp,
                host: account.host().to_string(),
            },
        );
        Ok(Plan::Send { flight, request })
    }

    /// Reads the token endpoint's answer to flight `flight`.
    pub fn complete(&mut self, flight: &str, response: &Response, now_ms: f64) -> Result<TokenSet, TokenError> {
        let Some(pending) = self.pending.remove(flight) else {
            return Err(TokenError::BadAnswer {
                what: "matching request (the answer came for a request this process did not plan)",
            });
        };
        self.pending_order.retain(|k| k != flight);
        if response.status != 200 {
            return Err(TokenError::from_response(response, &pending.host));
        }
        let body: Value =
            serde_json::from_str(&response.body).map_err(|_| TokenError::BadAnswer { what: "JSON body" })?;
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let access_token = text("access_token")
            .ok_or(TokenError::BadAnswer { what: "access_token" })?
            .to_string();
        let refresh_token = text("refresh_token")
            .ok_or(TokenError::BadAnswer { what: "refresh_token" })?
            .to_string();
        let number = |k: &str| {
            body.get(k)
                .and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
        };
        let access_expires_at = expiry::expires_at(
            now_ms,
            number("expires_in"),
            jwt::expiry_seconds(&access_token),
            number("server_time"),
        );
        let set = TokenSet {
            access_token,
            refresh_token,
            access_expires_at,
            grant_fingerprint: pending.fingerprint,
        };
        self.remember_rotation(pending.spent_key, set.clone());
        Ok(set)
    }

    /// Forgets a planned grant whose request never got an answer.
    pub fn abandon(&mut self, flight: &str) -> Option<String> {
        self.pending_order.retain(|k| k != flight);
        self.pending.remove(flight).map(|p| p.host)
    }

    /// The newest pair `key` was rotated to, following the chain of
    /// rotations (bounded: a cycle cannot occur with real tokens, but the
    /// walk must end even if one did).
    fn newest(&self, client_id: &str, origin: &str, key: &str) -> Option<TokenSet> {
        let mut current = self.rotations.get(key)?;
        for _ in 0..self.rotations.len() {
            match self
                .rotations
                .get(&memory_key(client_id, origin, "refresh", &current.refresh_token))
            {
                Some(next) => current = next,
                None => break,
            }
        }
        Some(current.clone())
    }

    fn remember_rotation(&mut self, spent_key: String, set: TokenSet) {
        if self.rotations.insert(spent_key.clone(), set).is_none() {
            self.rotation_order.push_back(spent_key);
        }
        while self.rotation_order.len() > MAX_REMEMBERED_ROTATIONS {
            if let Some(old) = self.rotation_order.pop_front() {
                self.rotations.remove(&old);
            }
        }
    }

    fn remember_pending(&mut self, flight: String, grant: PendingGrant) {
        if self.pending.insert(flight.clone(), grant).is_none() {
            self.pending_order.push_back(flight);
        }
        while self.pending_order.len() > MAX_PENDING_GRANTS {
            if let Some(old) = self.pending_order.pop_front() {
                self.pending.remove(&old);
            }
        }
    }
}

fn memory_key(client_id: &str, origin: &str, kind: &str, secret: &str) -> String {
    format!("{client_id}\n{origin}\n{kind}\n{secret}")
}

/// A short, stable, non-reversible-enough tag (64-bit FNV-1a, hex). It only
/// tells two values apart; it is not a security measure.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0u8)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000_000.0;

    fn fields() -> CredentialFields {
        CredentialFields {
            address: AddressConfig {
                environment: "cloud".into(),
                address: "shop".into(),
                zone: "amocrm.ru".into(),
                base_url: String::new(),
                subdomain_only: false,
            },
            connection_type: "oauth".into(),
            client_id: "cid".into(),
            client_secret: "csecret".into(),
            redirect_uri: "https://example.com/oauth".into(),
            authorization_code: "CODE1".into(),
            ..CredentialFields::default()
        }
    }

    fn tokens(at: &str, rt: &str, expires_in: u64) -> Response {
        Response::new(
            200,
            json!({"token_type": "Bearer", "expires_in": expires_in, "access_token": at, "refresh_token": rt})
                .to_string(),
        )
    }

    fn send(plan: Plan) -> (String, Request) {
        match plan {
            Plan::Send { flight, request } => (flight, request),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn first_use_exchanges_the_code_with_every_parameter_amocrm_documents() {
        let mut broker = TokenBroker::default();
        let (flight, request) = send(broker.plan(&fields(), NOW).unwrap());
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url, "https://shop.amocrm.ru/oauth2/access_token");
        assert_eq!(request.headers["content-type"], "application/json");
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"client_id": "cid", "client_secret": "csecret", "grant_type": "authorization_code", "code": "CODE1", "redirect_uri": "https://example.com/oauth"})
        );
        let set = broker.complete(&flight, &tokens("AT1", "RT1", 86_400), NOW).unwrap();
        assert_eq!(set.access_token, "AT1");
        assert_eq!(set.refresh_token, "RT1");
        assert_eq!(set.access_expires_at, NOW + 86_400_000.0);
        assert_eq!(
            set.grant_fingerprint,
            fingerprint(&["cid", "https://shop.amocrm.ru", "CODE1"])
        );
    }

    #[test]
    fn an_exchanged_code_is_not_sent_again_and_the_refresh_token_is_used() {
        let mut broker = TokenBroker::default();
        let mut f = fields();
        f.grant_fingerprint = fingerprint(&["cid", "https://shop.amocrm.ru", "CODE1"]);
        f.access_token = "AT1".into();
        f.refresh_token = "RT1".into();
        let (flight, request) = send(broker.plan(&f, NOW).unwrap());
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"client_id": "cid", "client_secret": "csecret", "grant_type": "refresh_token", "refresh_token": "RT1", "redirect_uri": "https://example.com/oauth"})
        );
        let set = broker.complete(&flight, &tokens("AT2", "RT2", 86_400), NOW).unwrap();
        assert_eq!(
            set.grant_fingerprint, f.grant_fingerprint,
            "the fingerprint carries over"
        );
    }

    #[test]
    fn a_newly_pasted_code_wins_over_the_old_refresh_token() {
        let mut broker = TokenBroker::default();
        let mut f = fields();
        f.grant_fingerprint = fingerprint(&["cid", "https://shop.amocrm.ru", "OLD"]);
        f.refresh_token = "RT-old".into();
        let (_, request) = send(broker.plan(&f, NOW).unwrap());
        assert!(request.body.unwrap().contains("\"grant_type\":\"authorization_code\""));
    }

    #[test]
    fn concurrent_callers_share_a_flight_and_late_callers_get_the_rotated_pair() {
        let mut broker = TokenBroker::default();
        let mut f = fields();
        f.authorization_code.clear();
        f.refresh_token = "RT1".into();
        let (flight_a, _) = send(broker.plan(&f, NOW).unwrap());
        let (flight_b, _) = send(broker.plan(&f, NOW).unwrap());
        assert_eq!(flight_a, flight_b, "same token, same flight");
        broker.complete(&flight_a, &tokens("AT2", "RT2", 86_400), NOW).unwrap();
        // A caller that read the credential before the rotation was saved.
        match broker.plan(&f, NOW + 5_000.0).unwrap() {
            Plan::Use(set) => assert_eq!((set.access_token.as_str(), set.refresh_token.as_str()), ("AT2", "RT2")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn late_callers_follow_the_chain_to_the_newest_pair() {
        let mut broker = TokenBroker::default();
        let mut f = fields();
        f.authorization_code.clear();
        f.refresh_token = "RT1".into();
        let (flight, _) = send(broker.plan(&f, NOW).unwrap());
        broker.complete(&flight, &tokens("AT2", "RT2", 60), NOW).unwrap();
        // RT2's access token expired, so a holder of RT2 refreshes again.
        let mut f2 = f.clone();
        f2.refresh_token = "RT2".into();
        let (flight, _) = send(broker.plan(&f2, NOW + 120_000.0).unwrap());
        broker
            .complete(&flight, &tokens("AT3", "RT3", 86_400), NOW + 120_000.0)
            .unwrap();
        // The holder of RT1 must get AT3/RT3, not the spent RT2 pair.
        match broker.plan(&f, NOW + 121_000.0).unwrap() {
            Plan::Use(set) => assert_eq!(set.refresh_token, "RT3"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_expired_rotated_pair_is_renewed_with_its_own_refresh_token() {
        let mut broker = TokenBroker::default();
        let mut f = fields();
        f.authorization_code.clear();
        f.refresh_token = "RT1".into();
        let (flight, _) = send(broker.plan(&f, NOW).unwrap());
        broker.complete(&flight, &tokens("AT2", "RT2", 60), NOW).unwrap();
        let (_, request) = send(broker.plan(&f, NOW + 3_600_000.0).unwrap());
        assert!(
            request.body.unwrap().contains("\"refresh_token\":\"RT2\""),
            "never the spent RT1"
        );
    }

    #[test]
    fn the_same_code_is_exchanged_once() {
        let mut broker = TokenBroker::default();
        let (flight, _) = send(broker.plan(&fields(), NOW).unwrap());
        broker.complete(&flight, &tokens("AT1", "RT1", 86_400), NOW).unwrap();
        // A caller that read the credential before the exchange was saved.
        assert!(matches!(broker.plan(&fields(), NOW + 1.0).unwrap(), Plan::Use(_)));
    }

    #[test]
    fn errors_say_what_is_missing_and_never_carry_secrets() {
        let mut broker = TokenBroker::default();
        let mut f = fields();
        f.client_secret.clear();
        assert_eq!(
            broker.plan(&f, NOW),
            Err(PlanError::Token(TokenError::MissingSetting { field: "Client Secret" }))
        );
        let mut f = fields();
        f.authorization_code.clear();
        assert_eq!(broker.plan(&f, NOW), Err(PlanError::Token(TokenError::NoGrant)));
        let mut f = fields();
        f.address.address = "evil.test".into();
        assert!(matches!(broker.plan(&f, NOW), Err(PlanError::Address(_))));
        let (flight, _) = send(broker.plan(&fields(), NOW).unwrap());
        let revoked = Response::new(401, r#"{"hint":"Token has been revoked","status":401}"#);
        let e = broker.complete(&flight, &revoked, NOW).unwrap_err();
        assert_eq!(e, TokenError::RefreshRevoked);
        for text in [e.to_string(), e.description()] {
            assert!(!text.contains("CODE1") && !text.contains("csecret"), "{text}");
        }
    }

    #[test]
    fn long_lived_credentials_plan_nothing() {
        let mut f = fields();
        f.connection_type = "longLivedToken".into();
        assert_eq!(TokenBroker::default().plan(&f, NOW), Ok(Plan::Nothing));
    }

    #[test]
    fn answers_without_tokens_are_refused() {
        let mut broker = TokenBroker::default();
        let (flight, _) = send(broker.plan(&fields(), NOW).unwrap());
        let e = broker
            .complete(&flight, &Response::new(200, r#"{"access_token":"AT"}"#), NOW)
            .unwrap_err();
        assert_eq!(e, TokenError::BadAnswer { what: "refresh_token" });
    }

    #[test]
    fn stored_expiry_reads_numbers_and_strings() {
        let f: CredentialFields = serde_json::from_value(
            json!({"accessExpiresAt": "1700000000000", "environment": "local", "baseUrl": "http://127.0.0.1:1"}),
        )
        .unwrap();
        assert_eq!(f.access_expires_at, Some(1.7e12));
        assert_eq!(f.address.base_url, "http://127.0.0.1:1");
        let f: CredentialFields = serde_json::from_value(json!({"accessExpiresAt": ""})).unwrap();
        assert_eq!(f.access_expires_at, None);
    }
}
