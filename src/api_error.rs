//! Reading amoCRM's answers: which statuses mean success, which mean "nothing",
//! and what each failure means for the user.
//!
//! amoCRM answers errors in three dialects: `application/problem+json` from the
//! API itself (400 validation errors, 401, 404), OAuthProblemJson from the
//! token endpoint (handled in the token module), and bare nginx HTML pages for
//! 403 (blocked IP, account or API) and 429 (rate limit, no Retry-After).
//! Messages here never echo response bodies wholesale: only amoCRM's short
//! `detail`/`title` strings, which carry no credentials.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::http::{Response, TransportFailure};
use crate::input::shorten_to;

/// One entry of a 400 `validation-errors` list: the `request_id` of the item
/// amoCRM complains about, and what is wrong with which field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ValidationEntry {
    #[serde(default, deserialize_with = "string_or_number")]
    pub request_id: String,
    #[serde(default)]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldProblem {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub detail: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(whole item)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.detail)?;
        if !self.code.is_empty() {
            write!(f, " [{}]", self.code)?;
        }
        Ok(())
    }
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        // complex create echoes request_id as a one-element list
        Value::Array(items) => items
            .first()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .unwrap_or_default(),
        _ => String::new(),
    })
}

/// What went wrong, as the user should understand it. The details (status,
/// amoCRM's text, the request id) live beside it in [`ApiError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// 400 with per-item `validation-errors` (in [`ApiError::entries`]).
    Validation,
    /// 400 without the per-item list.
    BadRequest,
    /// 413, or a 400 saying the batch holds too many records.
    TooLarge,
    Unauthorized,
    /// 401, and renewing the access token failed too; the detail is the token
    /// error's own message.
    ReauthFailed,
    /// Getting an access token failed before the request could be sent (the
    /// credential's first code exchange, say); the detail is complete.
    TokenFailed,
    /// The credential has no token to send at all: never connected, or its
    /// token field is empty. The detail, when there is one, says which.
    NotConnected,
    PaymentRequired,
    /// A 403 from nginx's block page: the IP, the account or the API is blocked.
    Blocked,
    /// A 403 from the API itself: an admin-only endpoint, missing rights.
    Forbidden,
    NotFound,
    /// 429 that outlived every retry.
    RateLimited,
    /// 5xx that outlived every retry.
    Server,
    /// A request that creates something got a 5xx or lost its connection: it
    /// may or may not have been applied, so it is not sent again. The detail
    /// says what the request did.
    MaybeApplied,
    /// No response at all, after every retry; the detail is the error code.
    Transport,
    /// n8n's SSRF protection refused the address (a loopback emulator, say).
    SsrfBlocked,
    /// A status amoCRM does not document for this call.
    Unexpected,
    /// A 2xx whose body is not what the API documents; the detail says why.
    UnreadableBody,
    /// A customers call refused because the account's customers are off:
    /// 402 (its plan has none) or 422 (switched off, or in the other mode).
    /// Only the customer node's calls are read this way.
    CustomersOff,
}

/// A failed exchange with amoCRM.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub kind: ApiErrorKind,
    /// The HTTP status, when a response came.
    pub status: Option<u16>,
    /// amoCRM's short text, or what the kind says it holds.
    pub detail: Option<String>,
    /// The per-item complaints of a 400.
    pub entries: Vec<ValidationEntry>,
    /// amoCRM's `x-request-id`, for its support.
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(kind: ApiErrorKind) -> ApiError {
        let status = match kind {
            ApiErrorKind::Validation | ApiErrorKind::BadRequest => Some(400),
            ApiErrorKind::TooLarge => Some(413),
            ApiErrorKind::Unauthorized | ApiErrorKind::ReauthFailed => Some(401),
            ApiErrorKind::PaymentRequired => Some(402),
            ApiErrorKind::Blocked | ApiErrorKind::Forbidden => Some(403),
            ApiErrorKind::NotFound => Some(404),
            ApiErrorKind::RateLimited => Some(429),
            _ => None,
        };
        ApiError {
            kind,
            status,
            detail: None,
            entries: Vec::new(),
            request_id: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> ApiError {
        self.status = Some(status);
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> ApiError {
        let detail = detail.into();
        self.detail = (!detail.is_empty()).then_some(detail);
        self
    }

    /// A request that `what` ("creates 50 leads") may have been applied.
    pub fn maybe_applied(what: &str, status: Option<u16>) -> ApiError {
        ApiError {
            status,
            ..ApiError::new(ApiErrorKind::MaybeApplied).with_detail(what)
        }
    }

    /// A 2xx body that is not what amoCRM documents.
    pub fn unreadable(status: u16, reason: impl Into<String>) -> ApiError {
        ApiError::new(ApiErrorKind::UnreadableBody)
            .with_status(status)
            .with_detail(reason)
    }

    /// Classifies a non-success response. Callers handle 2xx themselves.
    pub fn from_response(response: &Response) -> ApiError {
        let request_id = response.header("x-request-id").map(str::to_string);
        let problem: Option<Value> = if response.is_html() {
            None
        } else {
            serde_json::from_str(&response.body).ok()
        };
        let detail = problem.as_ref().and_then(problem_detail);
        let entries = problem
            .as_ref()
            .and_then(|p| p.get("validation-errors"))
            .and_then(|v| serde_json::from_value::<Vec<ValidationEntry>>(v.clone()).ok())
            .unwrap_or_default();
        let kind = match response.status {
            400 if !entries.is_empty() => ApiErrorKind::Validation,
            400 if detail.as_deref().is_some_and(says_too_large) => ApiErrorKind::TooLarge,
            400 => ApiErrorKind::BadRequest,
            413 => ApiErrorKind::TooLarge,
            401 => ApiErrorKind::Unauthorized,
            402 => ApiErrorKind::PaymentRequired,
            403 if problem.is_none() => ApiErrorKind::Blocked,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Unexpected,
        };
        ApiError {
            kind,
            status: Some(response.status),
            detail,
            entries,
            request_id,
        }
    }

    pub fn from_transport(failure: &TransportFailure) -> ApiError {
        ApiError::new(ApiErrorKind::Transport).with_detail(failure.code.clone())
    }

    pub fn http_code(&self) -> Option<u16> {
        self.status
    }

    /// The headline and what the user should do about it, from one table.
    fn texts(&self) -> (String, Option<&'static str>) {
        use ApiErrorKind::*;
        let status = self.status.unwrap_or_default();
        let detail = self.detail.as_deref();
        let with = |head: String| match detail {
            Some(d) => format!("{head}: {}", shorten_to(d, 600)),
            None => head,
        };
        match self.kind {
            Validation => {
                let problems: Vec<String> = self
                    .entries
                    .iter()
                    .flat_map(|e| e.errors.iter().map(|p| p.to_string()))
                    .collect();
                let head = "amoCRM rejected the request (400)".to_string();
                let head = if problems.is_empty() { head } else { format!("{head}: {}", problems.join("; ")) };
                (head, Some(HINT_VALUES))
            }
            BadRequest => (with("amoCRM rejected the request (400)".into()), Some(HINT_VALUES)),
            TooLarge => (
                with(format!("amoCRM refused the request as too large ({status})")),
                Some("Lower Options › Batch Size of the node: amoCRM does not document its limit, and some accounts refuse large batches."),
            ),
            Unauthorized => (
                with("amoCRM did not accept the credential (401)".into()),
                Some("The access token is missing, expired or revoked, or belongs to another account. For a long-lived token, create a new one in amoCRM (Settings → Integrations → your private integration → Keys and scopes) and paste it into the credential. For OAuth, reconnect the credential."),
            ),
            ReauthFailed => (
                with("amoCRM did not accept the credential (401), and renewing the access token failed".into()),
                Some("Reconnect the credential: open it in n8n, follow the instructions of the error above, and save it. Tokens are renewed automatically afterwards."),
            ),
            TokenFailed => (detail.map(|d| shorten_to(d, 600)).unwrap_or_else(|| "Getting an access token failed".into()), None),
            NotConnected => (
                match detail {
                    Some(d) => format!("This amoCRM credential is not connected yet: {}", shorten_to(d, 300)),
                    None => "This amoCRM credential is not connected yet: open it and click Connect my account".into(),
                },
                Some("Open the credential in n8n (Credentials, or the pencil next to it in the node) and connect it: for AmoCRM OAuth2 API click \"Connect my account\" and allow access in amoCRM; for AmoCRM API paste a long-lived token, or an authorization code with the integration's client ID, secret and redirect URI. Then save it."),
            ),
            PaymentRequired => (
                "The amoCRM account's subscription has lapsed (402 Payment Required)".into(),
                Some("amoCRM refuses API calls while the account's subscription is unpaid or its trial has ended. Renew the subscription in amoCRM (Settings → Billing), then run the workflow again."),
            ),
            Blocked => (
                "amoCRM blocked access (403)".into(),
                Some("amoCRM's gateway blocked the request: the API, the account or this server's IP address is blocked, often after too many requests. Requests are not retried, because retrying extends a ban. Wait, lower the credential's request rate, and contact amoCRM support if it persists."),
            ),
            Forbidden => (
                with("amoCRM denied access to this call (403)".into()),
                Some("The user that authorised this credential lacks the rights for this call (some endpoints, such as webhooks, are for account administrators only), or the account's IP allow-list excludes this server."),
            ),
            NotFound => (
                with("amoCRM found nothing at this address (404)".into()),
                Some("The path does not exist in amoCRM API v4, or the object it names was deleted."),
            ),
            RateLimited => (
                "amoCRM's rate limit was still exceeded after several retries (429 Too Many Requests)".into(),
                Some("amoCRM allows about 7 requests per second per account. Other integrations using the same account share that budget; lower the credential's request rate or run fewer workflows at once."),
            ),
            Server => (
                format!("amoCRM had a server error ({status})"),
                Some("amoCRM failed to answer after several attempts. Try again later; check status.amocrm.ru."),
            ),
            MaybeApplied => {
                let what = detail.unwrap_or("was sent");
                let head = match self.status {
                    Some(s) => format!("amoCRM answered {s} to the request that {what}; it may have been applied anyway"),
                    None => format!("The connection to amoCRM broke during the request that {what}; it may have been applied anyway"),
                };
                (head, Some("The request may have been applied by amoCRM even though no success answer arrived, so it was not sent again (that could create duplicates). Check amoCRM for the records before running these items again."))
            }
            Transport => (
                match detail {
                    Some(code) => format!("Could not reach amoCRM ({code})"),
                    None => "Could not reach amoCRM".into(),
                },
                Some("No answer from amoCRM after several attempts. Check this server's network connection and the account address."),
            ),
            SsrfBlocked => (
                with("n8n's SSRF protection refused the request to the credential's address".into()),
                Some("n8n was started with N8N_SSRF_PROTECTION_ENABLED=true, which blocks loopback and private addresses such as the local emulator's. An n8n administrator can allow the address with N8N_SSRF_ALLOWED_IP_RANGES (for the emulator: 127.0.0.0/8) or N8N_SSRF_ALLOWED_HOSTNAMES; accounts on amoCRM's own addresses are not affected."),
            ),
            Unexpected => (format!("amoCRM answered with the unexpected status {status}"), None),
            UnreadableBody => (
                format!("amoCRM's answer ({status}) could not be read: {}", detail.unwrap_or("unknown shape")),
                None,
            ),
            CustomersOff if status == 402 => (
                with("amoCRM refused the customers call (402): the account's plan does not include customers, or its subscription has lapsed".into()),
                Some(CUSTOMERS_HINT),
            ),
            CustomersOff => (
                with(format!("Customers are switched off in this amoCRM account, or set to another mode ({status})")),
                Some(CUSTOMERS_HINT),
            ),
        }
    }

    /// What the user should do about it; `None` when the message says it all.
    pub fn description(&self) -> Option<String> {
        let (_, hint) = self.texts();
        let mut text = hint?.to_string();
        if let Some(id) = &self.request_id {
            text.push_str(&format!(" amoCRM request id: {id}."));
        }
        Some(text)
    }
}

/// Where customers are switched on. The menu path is amoCRM's interface;
/// the API call is the one amoCRM documents (admin only, 402 when the plan
/// has no customers).
const CUSTOMERS_HINT: &str = "The AmoCRM Customer node needs amoCRM's Customers (periodic purchases). An account administrator switches them on in amoCRM under Settings → General settings → Customers (choose periodic purchases), or through the API: PATCH /api/v4/customers/mode with {\"mode\": \"periodicity\", \"is_enabled\": true} (this node's Custom API Call can send it). If amoCRM answered 402, the account's plan does not include customers: see Settings → Billing.";

const HINT_VALUES: &str = "Check the values sent for the fields named above; custom field values must match the field's type and options in amoCRM.";

/// amoCRM documents no batch limit; a 400 whose text speaks of a batch or
/// request that is too large (or holds too many entities) is read as one.
fn says_too_large(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    (d.contains("too large") || d.contains("too many") || d.contains("too big"))
        && !d.contains("request validation failed")
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.texts().0)
    }
}

/// amoCRM's short human-readable text from a problem+json body.
fn problem_detail(problem: &Value) -> Option<String> {
    let pick = |key: &str| {
        problem
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let text = pick("detail").or_else(|| pick("title"))?;
    // Bound what we repeat, in case a proxy answers with something huge.
    Some(text.chars().take(300).collect())
}

/// Parses a 2xx JSON body, naming the status when it is not JSON.
pub fn parse_json(response: &Response) -> Result<Value, ApiError> {
    serde_json::from_str(&response.body).map_err(|e| ApiError::unreadable(response.status, format!("not JSON ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALIDATION: &str = r#"{"validation-errors":[{"request_id":"0","errors":[{"code":"NotSupportedChoice","path":"custom_fields_values.0.field_id","detail":"The value you selected is not a valid choice."}]}],"title":"Bad Request","type":"https://httpstatus.es/400","status":400,"detail":"Request validation failed"}"#;

    #[test]
    fn validation_errors_keep_request_ids_and_paths() {
        let r = Response::new(400, VALIDATION).with_header("content-type", "application/problem+json");
        let e = ApiError::from_response(&r);
        assert_eq!(e.kind, ApiErrorKind::Validation, "{e:?}");
        let entries = &e.entries;
        assert_eq!(entries[0].request_id, "0");
        assert_eq!(entries[0].errors[0].path, "custom_fields_values.0.field_id");
        assert_eq!(
            e.to_string(),
            "amoCRM rejected the request (400): custom_fields_values.0.field_id: The value you selected is not a valid choice. [NotSupportedChoice]"
        );
        assert_eq!(e.http_code(), Some(400));
    }

    #[test]
    fn unauthorized_keeps_detail_and_request_id() {
        let r = Response::new(401, r#"{"title":"Unauthorized","type":"https://httpstatus.es/401","status":401,"detail":"Неверный логин или пароль"}"#)
            .with_header("x-request-id", "abc123");
        let e = ApiError::from_response(&r);
        assert_eq!(
            e.to_string(),
            "amoCRM did not accept the credential (401): Неверный логин или пароль"
        );
        assert!(e.description().unwrap().contains("abc123"));
    }

    #[test]
    fn html_403_and_429_are_recognised_without_echoing_html() {
        let page = "<html><head><title>403 Forbidden</title></head><body>nginx</body></html>";
        let e = ApiError::from_response(&Response::new(403, page).with_header("content-type", "text/html"));
        assert_eq!(e.kind, ApiErrorKind::Blocked);
        assert_eq!(e.detail, None);
        assert!(!e.to_string().contains("nginx"));
        assert!(e.description().unwrap().contains("not retried"));
        let e = ApiError::from_response(&Response::new(
            403,
            r#"{"title":"Forbidden","status":403,"detail":"Access denied"}"#,
        ));
        assert_eq!(e.to_string(), "amoCRM denied access to this call (403): Access denied");
        let e = ApiError::from_response(&Response::new(429, "<html><title>429 Too Many Requests</title></html>"));
        assert_eq!(e.kind, ApiErrorKind::RateLimited);
    }

    #[test]
    fn payment_required_and_server_errors() {
        assert!(ApiError::from_response(&Response::new(402, ""))
            .to_string()
            .contains("subscription has lapsed"));
        let e = ApiError::from_response(&Response::new(503, "<html>"));
        assert_eq!((e.kind, e.status), (ApiErrorKind::Server, Some(503)));
        let e = ApiError::from_response(&Response::new(302, ""));
        assert_eq!((e.kind, e.status), (ApiErrorKind::Unexpected, Some(302)));
        assert_eq!(e.to_string(), "amoCRM answered with the unexpected status 302");
    }

    #[test]
    fn long_details_are_cut() {
        let body = serde_json::json!({"detail": "x".repeat(10_000)}).to_string();
        let e = ApiError::from_response(&Response::new(400, body));
        assert!(e.to_string().len() < 400);
    }

    #[test]
    fn complex_request_id_lists_are_read() {
        let entries: Vec<ValidationEntry> =
            serde_json::from_str(r#"[{"request_id":["7"],"errors":[]},{"request_id":3}]"#).unwrap();
        assert_eq!(entries[0].request_id, "7");
        assert_eq!(entries[1].request_id, "3");
    }
}
