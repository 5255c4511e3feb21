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
//!
//! Across processes (queue-mode workers) nothing is shared but the stored
//! credential. A refresh token amoCRM refuses as already used is remembered
//! as spent, and reported as [`TokenError::RefreshRevoked`], whose failure
//! code tells the engine to read the credential again after a pause: the
//! process that spent it saves the new pair there. Until then the spent token
//! is refused here, without another request.
//!
//! Memory keys are keyed hashes (HMAC-SHA-256 under the client secret) of the
//! client ID, the account and the token: only a credential holding the secret
//! finds the pair another rotated, and neither the secret nor a spent token
//! is kept as a key.
//!
//! Keep-alive: a refresh token dies after 3 months unused, so any use of a
//! credential whose refresh token is older than [`KEEP_ALIVE_AFTER_MS`]
//! renews it first ([`TokenBroker::renewal_due`], from the stored issue time).
//!
//! The broker's memory can be exported and imported as JSON, so that it
//! survives the WebAssembly instance being replaced after a trap.

pub mod error;
pub mod expiry;
pub mod jwt;
mod memory;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::account::{AccountAddress, AddressConfig, AddressError};
use crate::http::{Method, Request, Response};
pub use error::TokenError;
use memory::Bounded;

/// The token endpoint, on the account's own host.
pub const TOKEN_PATH: &str = "/oauth2/access_token";

/// Rotations remembered per process. One credential rotates once a day, so
/// this covers hundreds of credentials; older entries only matter to callers
/// that held a token for days.
pub const MAX_REMEMBERED_ROTATIONS: usize = 512;

/// Token requests planned but not completed (a shell that never reported
/// back) are forgotten beyond this many.
pub const MAX_PENDING_GRANTS: usize = 64;

/// Failed renewals remembered per process (spent tokens, keep-alives held off).
pub const MAX_REMEMBERED_FAILURES: usize = 64;

/// A refresh token older than this is renewed at the credential's next use,
/// well before amoCRM lets it die (3 months unused).
pub const KEEP_ALIVE_AFTER_MS: f64 = 30.0 * 86_400_000.0;

/// After a renewal of a refresh token failed, it is not renewed ahead of need
/// again for this long (a renewal after a 401 still goes ahead).
pub const KEEP_ALIVE_HOLD_OFF_MS: f64 = 3_600_000.0;

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
    /// When the stored refresh token was issued (ms, our clock).
    pub refresh_issued_at: Option<f64>,
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
    #[serde(deserialize_with = "lenient_number")]
    refresh_issued_at: Option<f64>,
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
            refresh_issued_at: s.refresh_issued_at,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    /// Milliseconds since the epoch, on this machine's clock.
    pub access_expires_at: f64,
    /// When this refresh token was issued (ms, our clock): the keep-alive
    /// counts its age from here.
    pub refresh_issued_at: f64,
    pub grant_fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Grant {
    Code,
    Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingGrant {
    grant: Grant,
    /// Rotation-memory key of what is being exchanged.
    spent_key: String,
    fingerprint: String,
    host: String,
}

/// A renewal that failed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Failure {
    at_ms: f64,
    /// amoCRM refused the refresh token as already used: it is never sent again.
    spent: bool,
}

/// The memory key of a credential's secrets: a keyed hash under the client
/// secret, so that a key proves the secret without containing it.
struct Keyer<'a> {
    client_id: &'a str,
    origin: &'a str,
    client_secret: &'a str,
}

impl Keyer<'_> {
    fn key(&self, kind: &str, secret: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.client_secret.as_bytes())
            .expect("HMAC takes keys of any length");
        for part in [self.client_id, self.origin, kind, secret] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
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

/// Rotation memory, pending grants and failed renewals of one process.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenBroker {
    rotations: Bounded<TokenSet>,
    pending: Bounded<PendingGrant>,
    failures: Bounded<Failure>,
}

impl Default for TokenBroker {
    fn default() -> TokenBroker {
        TokenBroker {
            rotations: Bounded::new(MAX_REMEMBERED_ROTATIONS),
            pending: Bounded::new(MAX_PENDING_GRANTS),
            failures: Bounded::new(MAX_REMEMBERED_FAILURES),
        }
    }
}

/// The settings every OAuth plan needs, checked.
struct OAuthSettings<'a> {
    account: AccountAddress,
    client_id: &'a str,
    client_secret: &'a str,
}

impl OAuthSettings<'_> {
    fn keyer(&self) -> Keyer<'_> {
        Keyer {
            client_id: self.client_id,
            origin: self.account.origin(),
            client_secret: self.client_secret,
        }
    }
}

fn oauth_settings(fields: &CredentialFields) -> Result<Option<OAuthSettings<'_>>, PlanError> {
    if fields.connection_type != "oauth" {
        return Ok(None);
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
    Ok(Some(OAuthSettings {
        account,
        client_id: fields.client_id.trim(),
        client_secret: fields.client_secret.trim(),
    }))
}

impl TokenBroker {
    /// Decides what `preAuthentication` does for `fields` at `now_ms`.
    pub fn plan(&mut self, fields: &CredentialFields, now_ms: f64) -> Result<Plan, PlanError> {
        let Some(settings) = oauth_settings(fields)? else {
            return Ok(Plan::Nothing);
        };
        let keyer = settings.keyer();
        let OAuthSettings {
            ref account,
            client_id,
            client_secret,
        } = settings;
        let code = fields.authorization_code.trim();
        let code_fingerprint = (!code.is_empty()).then(|| fingerprint(&[client_id, account.origin(), code]));

        let (grant, spent_key, secret, grant_fp) = match code_fingerprint {
            // A code that has not been exchanged yet: a new connection.
            Some(fp) if fp != fields.grant_fingerprint => (Grant::Code, keyer.key("code", code), code.to_string(), fp),
            _ if !fields.refresh_token.trim().is_empty() => {
                let key = keyer.key("refresh", fields.refresh_token.trim());
                match self.newest(&keyer, &key) {
                    // Someone in this process already rotated this token.
                    Some(newest) if expiry::is_fresh(newest.access_expires_at, now_ms) => return Ok(Plan::Use(newest)),
                    // Rotated, but that pair has expired too: renew the newest.
                    Some(newest) => (
                        Grant::Refresh,
                        keyer.key("refresh", &newest.refresh_token),
                        newest.refresh_token.clone(),
                        newest.grant_fingerprint.clone(),
                    ),
                    // amoCRM already refused it as used: another process spent
                    // it, and its new pair is not in the credential yet.
                    None if self.failures.get(&key).is_some_and(|f| f.spent) => {
                        return Err(PlanError::Token(TokenError::RefreshRevoked))
                    }
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
        if let Some(newest) = self.newest(&keyer, &spent_key) {
            // A code another caller exchanged a moment ago.
            return Ok(Plan::Use(newest));
        }

        let mut body = json!({
            "client_id": client_id,
            "client_secret": client_secret,
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
        self.pending.insert(
            flight.clone(),
            PendingGrant {
                grant,
                spent_key,
                fingerprint: grant_fp,
                host: account.host().to_string(),
            },
        );
        Ok(Plan::Send { flight, request })
    }

    /// Whether the credential's refresh token should be renewed before this
    /// use although nothing has failed: it is older than
    /// [`KEEP_ALIVE_AFTER_MS`] (by its stored issue time; an unknown age is
    /// learnt at the next renewal), and no renewal of it failed within
    /// [`KEEP_ALIVE_HOLD_OFF_MS`].
    pub fn renewal_due(&self, fields: &CredentialFields, now_ms: f64) -> bool {
        let refresh = fields.refresh_token.trim();
        let Some(issued_at) = fields.refresh_issued_at else {
            return false;
        };
        if refresh.is_empty() || now_ms - issued_at < KEEP_ALIVE_AFTER_MS {
            return false;
        }
        let Ok(Some(settings)) = oauth_settings(fields) else {
            return false;
        };
        let held_off = self
            .failures
            .get(&settings.keyer().key("refresh", refresh))
            .is_some_and(|f| f.spent || now_ms - f.at_ms < KEEP_ALIVE_HOLD_OFF_MS);
        !held_off
    }

    /// The broker's memory as JSON, to carry it into a new instance.
    pub fn export(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A broker with the memory [`TokenBroker::export`] wrote.
    pub fn import(state: &str) -> Result<TokenBroker, serde_json::Error> {
        let mut broker: TokenBroker = serde_json::from_str(state)?;
        broker.rotations.set_capacity(MAX_REMEMBERED_ROTATIONS);
        broker.pending.set_capacity(MAX_PENDING_GRANTS);
        broker.failures.set_capacity(MAX_REMEMBERED_FAILURES);
        Ok(broker)
    }

    /// Reads the token endpoint's answer to flight `flight`.
    pub fn complete(&mut self, flight: &str, response: &Response, now_ms: f64) -> Result<TokenSet, TokenError> {
        let Some(pending) = self.pending.remove(flight) else {
            return Err(TokenError::BadAnswer {
                what: "matching request (the answer came for a request this process did not plan)",
            });
        };
        let set = read_grant(response, &pending, now_ms);
        match &set {
            Ok(set) => self.rotations.insert(pending.spent_key, set.clone()),
            Err(e) => self.remember_failure(&pending, e, now_ms),
        }
        set
    }

    /// Forgets a planned grant whose request never got an answer.
    pub fn abandon(&mut self, flight: &str, now_ms: f64) -> Option<String> {
        let pending = self.pending.remove(flight)?;
        let error = TokenError::Transport { code: String::new() };
        self.remember_failure(&pending, &error, now_ms);
        Some(pending.host)
    }

    fn remember_failure(&mut self, pending: &PendingGrant, error: &TokenError, now_ms: f64) {
        if pending.grant == Grant::Refresh {
            let spent = *error == TokenError::RefreshRevoked;
            self.failures
                .insert(pending.spent_key.clone(), Failure { at_ms: now_ms, spent });
        }
    }

    /// The newest pair `key` was rotated to, following the chain of
    /// rotations (bounded: a cycle cannot occur with real tokens, but the
    /// walk must end even if one did).
    fn newest(&self, keyer: &Keyer, key: &str) -> Option<TokenSet> {
        let mut current = self.rotations.get(key)?;
        for _ in 0..self.rotations.len() {
            match self.rotations.get(&keyer.key("refresh", &current.refresh_token)) {
                Some(next) => current = next,
                None => break,
            }
        }
        Some(current.clone())
    }
}

/// The token endpoint's answer to `pending`, read into the fields to persist.
fn read_grant(response: &Response, pending: &PendingGrant, now_ms: f64) -> Result<TokenSet, TokenError> {
    if response.status != 200 {
        return Err(TokenError::from_response(response, &pending.host));
    }
    let body: Value = serde_json::from_str(&response.body).map_err(|_| TokenError::BadAnswer { what: "JSON body" })?;
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
    Ok(TokenSet {
        access_token,
        refresh_token,
        access_expires_at,
        refresh_issued_at: now_ms,
        grant_fingerprint: pending.fingerprint.clone(),
    })
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

    /// A connected credential holding refresh token `rt`.
    fn holding(rt: &str) -> CredentialFields {
        let mut f = fields();
        f.authorization_code.clear();
        f.refresh_token = rt.into();
        f
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
        let f = holding("RT1");
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
        let f = holding("RT1");
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
        let f = holding("RT1");
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

    /// A credential connected by a refresh that rotated RT1 to RT2.
    fn rotated(broker: &mut TokenBroker) -> CredentialFields {
        let f = holding("RT1");
        let (flight, _) = send(broker.plan(&f, NOW).unwrap());
        broker.complete(&flight, &tokens("AT2", "RT2", 86_400), NOW).unwrap();
        f
    }

    #[test]
    fn only_a_credential_holding_the_client_secret_gets_the_rotated_pair() {
        let mut broker = TokenBroker::default();
        let f = rotated(&mut broker);
        // Same client ID, account and spent refresh token, another secret:
        // no pair from memory, its own request (which amoCRM will refuse).
        let mut other = f.clone();
        other.client_secret = "not-the-secret".into();
        let (_, request) = send(broker.plan(&other, NOW + 1.0).unwrap());
        assert!(request.body.unwrap().contains("\"refresh_token\":\"RT1\""));
        // The holder of the secret gets it.
        assert!(matches!(broker.plan(&f, NOW + 2.0).unwrap(), Plan::Use(set) if set.refresh_token == "RT2"));
        // Keys are keyed hashes: neither the secret nor a token is kept as one.
        let memory = broker.export();
        for secret in ["csecret", "\"RT1\"", "CODE1"] {
            assert!(!memory.contains(secret), "{secret} in {memory}");
        }
    }

    #[test]
    fn a_refresh_token_amocrm_refused_as_used_is_not_sent_again_and_reads_as_spent() {
        let mut broker = TokenBroker::default();
        let mut f = holding("RT1");
        let (flight, _) = send(broker.plan(&f, NOW).unwrap());
        let revoked = Response::new(401, r#"{"hint":"Token has been revoked","status":401}"#);
        let e = broker.complete(&flight, &revoked, NOW).unwrap_err();
        assert_eq!(e.failure_code(), crate::engine::retry::TOKEN_SPENT);
        // The credential still holds RT1 (the winner has not saved yet): refused here.
        assert_eq!(
            broker.plan(&f, NOW + 500.0),
            Err(PlanError::Token(TokenError::RefreshRevoked))
        );
        // Once it holds the pair another process saved, that one is used.
        f.refresh_token = "RT2".into();
        assert!(matches!(broker.plan(&f, NOW + 600.0).unwrap(), Plan::Send { .. }));
        // Other failures are not "spent".
        assert_eq!(
            TokenError::RefreshExpired.failure_code(),
            crate::engine::retry::TOKEN_FAILURE
        );
    }

    #[test]
    fn a_refresh_token_older_than_30_days_is_renewed_at_the_next_use() {
        let mut broker = TokenBroker::default();
        let mut f = rotated(&mut broker);
        f.refresh_token = "RT2".into();
        f.refresh_issued_at = Some(NOW);
        assert!(!broker.renewal_due(&f, NOW + KEEP_ALIVE_AFTER_MS - 1.0));
        assert!(broker.renewal_due(&f, NOW + KEEP_ALIVE_AFTER_MS));
        // Unknown age (a credential saved before the issue time was stored):
        // learnt at the next renewal, which any use after a day brings.
        f.refresh_issued_at = None;
        assert!(!broker.renewal_due(&f, NOW + 89.0 * 86_400_000.0));
        // Long-lived tokens have nothing to renew.
        let mut long = f.clone();
        long.connection_type = "longLivedToken".into();
        long.refresh_issued_at = Some(NOW);
        assert!(!broker.renewal_due(&long, NOW + 89.0 * 86_400_000.0));
    }

    #[test]
    fn a_failed_keep_alive_is_held_off_for_an_hour_and_a_spent_token_for_good() {
        let mut broker = TokenBroker::default();
        let mut f = holding("RT1");
        f.refresh_issued_at = Some(NOW - KEEP_ALIVE_AFTER_MS);
        assert!(broker.renewal_due(&f, NOW));
        let (flight, _) = send(broker.plan(&f, NOW).unwrap());
        broker.complete(&flight, &Response::new(502, ""), NOW).unwrap_err();
        assert!(!broker.renewal_due(&f, NOW + 1.0), "no second try in the same request");
        assert!(broker.renewal_due(&f, NOW + KEEP_ALIVE_HOLD_OFF_MS));
        let (flight, _) = send(broker.plan(&f, NOW + KEEP_ALIVE_HOLD_OFF_MS).unwrap());
        assert_eq!(
            broker.abandon(&flight, NOW + KEEP_ALIVE_HOLD_OFF_MS).as_deref(),
            Some("shop.amocrm.ru")
        );
        assert!(!broker.renewal_due(&f, NOW + KEEP_ALIVE_HOLD_OFF_MS + 1.0));
        let mut spent = f.clone();
        spent.refresh_token = "RT-spent".into();
        let (flight, _) = send(broker.plan(&spent, NOW).unwrap());
        let revoked = Response::new(401, r#"{"hint":"Token has been revoked"}"#);
        broker.complete(&flight, &revoked, NOW).unwrap_err();
        assert!(!broker.renewal_due(&spent, NOW + 10.0 * KEEP_ALIVE_HOLD_OFF_MS));
    }

    #[test]
    fn a_renewal_records_when_the_refresh_token_was_issued() {
        let mut broker = TokenBroker::default();
        let (flight, _) = send(broker.plan(&fields(), NOW).unwrap());
        let set = broker.complete(&flight, &tokens("AT1", "RT1", 86_400), NOW).unwrap();
        assert_eq!(set.refresh_issued_at, NOW);
        let f: CredentialFields = serde_json::from_value(json!({"refreshIssuedAt": "1700000000000"})).unwrap();
        assert_eq!(f.refresh_issued_at, Some(NOW));
    }

    #[test]
    fn the_memory_survives_export_and_import_with_grants_in_flight() {
        let mut broker = TokenBroker::default();
        let f = rotated(&mut broker);
        let mut f2 = f.clone();
        f2.refresh_token = "RT-other".into();
        let (flight, _) = send(broker.plan(&f2, NOW).unwrap());
        let mut fresh = TokenBroker::import(&broker.export()).unwrap();
        // The rotation is remembered, and the grant in flight completes.
        assert!(matches!(fresh.plan(&f, NOW + 1.0).unwrap(), Plan::Use(set) if set.refresh_token == "RT2"));
        let set = fresh.complete(&flight, &tokens("AT9", "RT9", 86_400), NOW).unwrap();
        assert_eq!(set.refresh_token, "RT9");
        assert!(TokenBroker::import("not json").is_err());
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
