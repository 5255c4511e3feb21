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

/// A failed exchange with amoCRM, as the user should understand it.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400 with per-item `validation-errors`.
    Validation {
        entries: Vec<ValidationEntry>,
        request_id: Option<String>,
    },
    /// 400 without the per-item list.
    BadRequest {
        detail: Option<String>,
        request_id: Option<String>,
    },
    Unauthorized {
        detail: Option<String>,
        request_id: Option<String>,
    },
    /// 401, and renewing the access token failed too; `reason` is the token
    /// error's own message.
    ReauthFailed {
        reason: String,
    },
    /// Getting an access token failed before the request could be sent
    /// (the credential's first code exchange, say); `reason` is complete.
    TokenFailed {
        reason: String,
    },
    PaymentRequired {
        request_id: Option<String>,
    },
    /// A 403; `html` tells nginx's block page (IP, account or API blocked)
    /// from the API's JSON refusal (admin-only endpoint, missing rights).
    Forbidden {
        html: bool,
        detail: Option<String>,
        request_id: Option<String>,
    },
    NotFound {
        detail: Option<String>,
        request_id: Option<String>,
    },
    /// 429 that outlived every retry.
    RateLimited,
    /// 5xx that outlived every retry.
    Server {
        status: u16,
        request_id: Option<String>,
    },
    /// A request that creates something got a 5xx or lost its connection: it
    /// may or may not have been applied, so it is not sent again.
    MaybeApplied {
        what: String,
        status: Option<u16>,
    },
    /// No response at all, after every retry.
    Transport {
        code: String,
    },
    /// A status amoCRM does not document for this call.
    Unexpected {
        status: u16,
        request_id: Option<String>,
    },
    /// A 2xx whose body is not what the API documents.
    UnreadableBody {
        status: u16,
        reason: String,
    },
}

impl ApiError {
    /// Classifies a non-success response. Callers handle 2xx themselves.
    pub fn from_response(response: &Response) -> ApiError {
        let request_id = response.header("x-request-id").map(str::to_string);
        let problem: Option<Value> = if response.is_html() {
            None
        } else {
            serde_json::from_str(&response.body).ok()
        };
        let detail = problem.as_ref().and_then(problem_detail);
        match response.status {
            400 => {
                let entries = problem
                    .as_ref()
                    .and_then(|p| p.get("validation-errors"))
                    .and_then(|v| serde_json::from_value::<Vec<ValidationEntry>>(v.clone()).ok())
                    .filter(|e| !e.is_empty());
                match entries {
                    Some(entries) => ApiError::Validation { entries, request_id },
                    None => ApiError::BadRequest { detail, request_id },
                }
            }
            401 => ApiError::Unauthorized { detail, request_id },
            402 => ApiError::PaymentRequired { request_id },
            403 => ApiError::Forbidden {
                html: problem.is_none(),
                detail,
                request_id,
            },
            404 => ApiError::NotFound { detail, request_id },
            429 => ApiError::RateLimited,
            500..=599 => ApiError::Server {
                status: response.status,
                request_id,
            },
            status => ApiError::Unexpected { status, request_id },
        }
    }

    pub fn from_transport(failure: &TransportFailure) -> ApiError {
        ApiError::Transport {
            code: failure.code.clone(),
        }
    }

    pub fn http_code(&self) -> Option<u16> {
        Some(match self {
            ApiError::Validation { .. } | ApiError::BadRequest { .. } => 400,
            ApiError::Unauthorized { .. } | ApiError::ReauthFailed { .. } => 401,
            ApiError::PaymentRequired { .. } => 402,
            ApiError::Forbidden { .. } => 403,
            ApiError::NotFound { .. } => 404,
            ApiError::RateLimited => 429,
            ApiError::Server { status, .. }
            | ApiError::Unexpected { status, .. }
            | ApiError::UnreadableBody { status, .. } => *status,
            ApiError::MaybeApplied { status, .. } => return *status,
            ApiError::Transport { .. } | ApiError::TokenFailed { .. } => return None,
        })
    }

    /// What the user should do about it; `None` when the message says it all.
    pub fn description(&self) -> Option<String> {
        let hint = match self {
            ApiError::Validation { .. } | ApiError::BadRequest { .. } => {
                "Check the values sent for the fields named above; custom field values must match the field's type and options in amoCRM."
            }
            ApiError::Unauthorized { .. } => {
                "The access token is missing, expired or revoked, or belongs to another account. For a long-lived token, create a new one in amoCRM (Settings → Integrations → your private integration → Keys and scopes) and paste it into the credential. For OAuth, reconnect the credential."
            }
            ApiError::ReauthFailed { .. } => {
                "Reconnect the credential: open it in n8n, follow the instructions of the error above, and save it. Tokens are renewed automatically afterwards."
            }
            ApiError::PaymentRequired { .. } => {
                "amoCRM refuses API calls while the account's subscription is unpaid or its trial has ended. Renew the subscription in amoCRM (Settings → Billing), then run the workflow again."
            }
            ApiError::Forbidden { html: true, .. } => {
                "amoCRM's gateway blocked the request: the API, the account or this server's IP address is blocked, often after too many requests. Requests are not retried, because retrying extends a ban. Wait, lower the credential's request rate, and contact amoCRM support if it persists."
            }
            ApiError::Forbidden { html: false, .. } => {
                "The user that authorised this credential lacks the rights for this call (some endpoints, such as webhooks, are for account administrators only), or the account's IP allow-list excludes this server."
            }
            ApiError::NotFound { .. } => "The path does not exist in amoCRM API v4, or the object it names was deleted.",
            ApiError::RateLimited => {
                "amoCRM allows about 7 requests per second per account. Other integrations using the same account share that budget; lower the credential's request rate or run fewer workflows at once."
            }
            ApiError::Server { .. } => "amoCRM failed to answer after several attempts. Try again later; check status.amocrm.ru.",
            ApiError::MaybeApplied { .. } => {
                "The request may have been applied by amoCRM even though no success answer arrived, so it was not sent again (that could create duplicates). Check amoCRM for the records before running these items again."
            }
            ApiError::Transport { .. } => "No answer from amoCRM after several attempts. Check this server's network connection and the account address.",
            ApiError::Unexpected { .. } | ApiError::UnreadableBody { .. } | ApiError::TokenFailed { .. } => return None,
        };
        let mut text = hint.to_string();
        if let Some(id) = self.request_id() {
            text.push_str(&format!(" amoCRM request id: {id}."));
        }
        Some(text)
    }

    fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Validation { request_id, .. }
            | ApiError::BadRequest { request_id, .. }
            | ApiError::Unauthorized { request_id, .. }
            | ApiError::PaymentRequired { request_id }
            | ApiError::Forbidden { request_id, .. }
            | ApiError::NotFound { request_id, .. }
            | ApiError::Server { request_id, .. }
            | ApiError::Unexpected { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_detail = |f: &mut fmt::Formatter<'_>, head: &str, detail: &Option<String>| match detail {
            Some(d) => write!(f, "{head}: {d}"),
            None => write!(f, "{head}"),
        };
        match self {
            ApiError::Validation { entries, .. } => {
                write!(f, "amoCRM rejected the request (400)")?;
                let problems: Vec<String> = entries
                    .iter()
                    .flat_map(|e| e.errors.iter().map(|p| p.to_string()))
                    .collect();
                if !problems.is_empty() {
                    write!(f, ": {}", problems.join("; "))?;
                }
                Ok(())
            }
            ApiError::BadRequest { detail, .. } => with_detail(f, "amoCRM rejected the request (400)", detail),
            ApiError::Unauthorized { detail, .. } => {
                with_detail(f, "amoCRM did not accept the credential (401)", detail)
            }
            ApiError::ReauthFailed { reason } if reason.is_empty() => {
                write!(
                    f,
                    "amoCRM did not accept the credential (401), and renewing the access token failed"
                )
            }
            ApiError::ReauthFailed { reason } => write!(
                f,
                "amoCRM did not accept the credential (401), and renewing the access token failed: {}",
                crate::input::shorten_to(reason, 400)
            ),
            ApiError::PaymentRequired { .. } => {
                write!(f, "The amoCRM account's subscription has lapsed (402 Payment Required)")
            }
            ApiError::Forbidden { html: true, .. } => write!(f, "amoCRM blocked access (403)"),
            ApiError::Forbidden { detail, .. } => with_detail(f, "amoCRM denied access to this call (403)", detail),
            ApiError::NotFound { detail, .. } => with_detail(f, "amoCRM found nothing at this address (404)", detail),
            ApiError::RateLimited => write!(
                f,
                "amoCRM's rate limit was still exceeded after several retries (429 Too Many Requests)"
            ),
            ApiError::Server { status, .. } => write!(f, "amoCRM had a server error ({status})"),
            ApiError::MaybeApplied {
                what,
                status: Some(status),
            } => {
                write!(
                    f,
                    "amoCRM answered {status} to the request that {what}; it may have been applied anyway"
                )
            }
            ApiError::MaybeApplied { what, status: None } => {
                write!(
                    f,
                    "The connection to amoCRM broke during the request that {what}; it may have been applied anyway"
                )
            }
            ApiError::TokenFailed { reason } => write!(f, "{}", crate::input::shorten_to(reason, 600)),
            ApiError::Transport { code } if code.is_empty() => write!(f, "Could not reach amoCRM"),
            ApiError::Transport { code } => write!(f, "Could not reach amoCRM ({code})"),
            ApiError::Unexpected { status, .. } => write!(f, "amoCRM answered with the unexpected status {status}"),
            ApiError::UnreadableBody { status, reason } => {
                write!(f, "amoCRM's answer ({status}) could not be read: {reason}")
            }
        }
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
    serde_json::from_str(&response.body).map_err(|e| ApiError::UnreadableBody {
        status: response.status,
        reason: format!("not JSON ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALIDATION: &str = r#"{"validation-errors":[{"request_id":"0","errors":[{"code":"NotSupportedChoice","path":"custom_fields_values.0.field_id","detail":"The value you selected is not a valid choice."}]}],"title":"Bad Request","type":"https://httpstatus.es/400","status":400,"detail":"Request validation failed"}"#;

    #[test]
    fn validation_errors_keep_request_ids_and_paths() {
        let r = Response::new(400, VALIDATION).with_header("content-type", "application/problem+json");
        let e = ApiError::from_response(&r);
        let ApiError::Validation { entries, .. } = &e else {
            panic!("{e:?}")
        };
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
        assert_eq!(
            e,
            ApiError::Forbidden {
                html: true,
                detail: None,
                request_id: None
            }
        );
        assert!(!e.to_string().contains("nginx"));
        assert!(e.description().unwrap().contains("not retried"));
        let e = ApiError::from_response(&Response::new(
            403,
            r#"{"title":"Forbidden","status":403,"detail":"Access denied"}"#,
        ));
        assert_eq!(e.to_string(), "amoCRM denied access to this call (403): Access denied");
        let e = ApiError::from_response(&Response::new(429, "<html><title>429 Too Many Requests</title></html>"));
        assert_eq!(e, ApiError::RateLimited);
    }

    #[test]
    fn payment_required_and_server_errors() {
        assert!(ApiError::from_response(&Response::new(402, ""))
            .to_string()
            .contains("subscription has lapsed"));
        assert_eq!(
            ApiError::from_response(&Response::new(503, "<html>")),
            ApiError::Server {
                status: 503,
                request_id: None
            }
        );
        assert_eq!(
            ApiError::from_response(&Response::new(302, "")),
            ApiError::Unexpected {
                status: 302,
                request_id: None
            }
        );
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
