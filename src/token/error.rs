//! What went wrong while getting or renewing an OAuth token, in words that say
//! what to do next.
//!
//! amoCRM's token endpoint answers errors as OAuthProblemJson: no `error` key
//! (so generic OAuth clients see nothing), a `hint` from league/oauth2-server
//! that names the cause, and Russian `title`/`detail`. The hint decides.
//! Messages never contain a token, a code or the client secret.

use std::fmt;

use serde_json::Value;

use crate::http::Response;

/// Where amoCRM shows an integration's keys and codes.
const KEYS_PATH: &str = "amoCRM → Settings → Integrations → your integration → Keys and scopes";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Neither an authorization code nor a refresh token to start from.
    NoGrant,
    /// Client ID, secret or redirect URI missing from the credential.
    MissingSetting {
        field: &'static str,
    },
    RefreshRevoked,
    RefreshExpired,
    RefreshUndecryptable,
    CodeExpired,
    CodeReused,
    CodeUndecryptable,
    RedirectMismatch,
    InvalidClient,
    MissingParameter {
        name: String,
    },
    AccountNotFound {
        host: String,
    },
    Blocked {
        status: u16,
    },
    Server {
        status: u16,
    },
    Unexpected {
        status: u16,
        hint: String,
    },
    /// 200, but no usable token in the body.
    BadAnswer {
        what: &'static str,
    },
    Transport {
        code: String,
    },
}

impl TokenError {
    /// Reads a non-200 answer of the token endpoint.
    pub fn from_response(response: &Response, host: &str) -> TokenError {
        let problem: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        let text = |k: &str| problem.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let hint = text("hint");
        let hint_lower = hint.to_ascii_lowercase();
        match (response.status, hint.as_str()) {
            (_, "Token has been revoked") => TokenError::RefreshRevoked,
            (_, "Token has expired") => TokenError::RefreshExpired,
            (_, "Cannot decrypt the refresh token") => TokenError::RefreshUndecryptable,
            (_, "Authorization code has expired") => TokenError::CodeExpired,
            (_, "Authorization code has been revoked") => TokenError::CodeReused,
            (_, "Cannot decrypt the authorization code") => TokenError::CodeUndecryptable,
            _ if hint_lower.contains("redirect") => TokenError::RedirectMismatch,
            _ if hint_lower.starts_with("check the `") => TokenError::MissingParameter {
                name: hint.split('`').nth(1).unwrap_or_default().to_string(),
            },
            // league's invalid_client carries no hint; amoCRM titles it
            // "Некорректный клиент" (wrong client_id, or a redirect_uri that
            // does not match the integration).
            (401, "") if text("title").contains("клиент") || text("detail").contains("клиент") => {
                TokenError::InvalidClient
            }
            (404, _) => TokenError::AccountNotFound { host: host.to_string() },
            (403 | 429, _) => TokenError::Blocked {
                status: response.status,
            },
            (500..=599, _) => TokenError::Server {
                status: response.status,
            },
            (status, _) => TokenError::Unexpected {
                status,
                hint: crate::input::shorten_to(&hint, 200),
            },
        }
    }

    /// Whether the credential needs the user (a new code, a fixed setting),
    /// as opposed to a passing failure worth retrying later.
    pub fn needs_reconnect(&self) -> bool {
        !matches!(
            self,
            TokenError::Blocked { .. } | TokenError::Server { .. } | TokenError::Transport { .. }
        )
    }

    /// The failure code the shell reports for a request that could not get a
    /// token because of this error. A refresh token refused as already used
    /// may have been spent by another process (a queue-mode worker) that
    /// saves the new pair: the engine reads the credential again after a
    /// pause instead of failing at once.
    pub fn failure_code(&self) -> &'static str {
        match self {
            TokenError::RefreshRevoked => crate::engine::retry::TOKEN_SPENT,
            _ => crate::engine::retry::TOKEN_FAILURE,
        }
    }

    /// What to do about it.
    pub fn description(&self) -> String {
        let reconnect = format!(
            "To reconnect: in {KEYS_PATH}, copy a fresh authorization code (valid 20 minutes), paste it into the credential's Authorization Code field and save; the credential exchanges it on its next use."
        );
        match self {
            TokenError::NoGrant | TokenError::RefreshRevoked | TokenError::RefreshExpired | TokenError::CodeExpired | TokenError::CodeReused => reconnect,
            TokenError::RefreshUndecryptable | TokenError::CodeUndecryptable => format!(
                "Check that Client ID and Client Secret are the ones shown in {KEYS_PATH} for the integration that issued the code, and that the account address is that of the account the code is for. {reconnect}"
            ),
            TokenError::RedirectMismatch | TokenError::InvalidClient => format!(
                "The Redirect URI in the credential must be exactly the one saved in the integration's settings in amoCRM (same scheme, host, path and trailing slash), and the Client ID that of the integration ({KEYS_PATH})."
            ),
            TokenError::MissingSetting { .. } | TokenError::MissingParameter { .. } => {
                format!("Fill in the field from {KEYS_PATH} and save the credential.")
            }
            TokenError::AccountNotFound { .. } => {
                "Check the account address: it is the address of your account as the browser shows it (for example example.amocrm.ru), and the zone (amocrm.ru, amocrm.com, kommo.com) must be right.".to_string()
            }
            TokenError::Transport { code } if code == crate::engine::retry::SSRF_BLOCKED => {
                "An n8n administrator can allow the address with N8N_SSRF_ALLOWED_IP_RANGES (for the local emulator: 127.0.0.0/8) or N8N_SSRF_ALLOWED_HOSTNAMES. The tokens are kept.".to_string()
            }
            TokenError::Blocked { .. } | TokenError::Server { .. } | TokenError::Transport { .. } => {
                "Nothing is wrong with the credential; the tokens are kept and the next run tries again.".to_string()
            }
            TokenError::Unexpected { .. } | TokenError::BadAnswer { .. } => {
                "If it persists, reconnect the credential with a fresh authorization code.".to_string()
            }
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::NoGrant => write!(f, "The credential has no authorization code and no refresh token yet, so it cannot get an access token"),
            TokenError::MissingSetting { field } => write!(f, "The credential's {field} is empty"),
            TokenError::RefreshRevoked => write!(
                f,
                "amoCRM refused to renew the access token: the refresh token was already used or revoked (\"Token has been revoked\"). amoCRM accepts each refresh token once; another program may have renewed with this credential's tokens, or the integration was disabled"
            ),
            TokenError::RefreshExpired => write!(
                f,
                "amoCRM refused to renew the access token: the refresh token has expired (\"Token has expired\"); refresh tokens die after 3 months without use"
            ),
            TokenError::RefreshUndecryptable => write!(
                f,
                "amoCRM could not read the refresh token (\"Cannot decrypt the refresh token\"): it was issued to another integration, or the client secret is wrong"
            ),
            TokenError::CodeExpired => write!(f, "The authorization code has expired (\"Authorization code has expired\"); codes are valid for 20 minutes"),
            TokenError::CodeReused => write!(
                f,
                "The authorization code was already exchanged (\"Authorization code has been revoked\"); each code works once"
            ),
            TokenError::CodeUndecryptable => write!(
                f,
                "amoCRM could not read the authorization code (\"Cannot decrypt the authorization code\"): the client secret is wrong, or the code belongs to another integration or account"
            ),
            TokenError::RedirectMismatch => write!(f, "amoCRM rejected the redirect URI: it differs from the one in the integration's settings"),
            TokenError::InvalidClient => write!(
                f,
                "amoCRM did not recognise the integration (\"Некорректный клиент\"): the client ID is wrong, or the redirect URI differs from the integration's"
            ),
            TokenError::MissingParameter { name } => write!(f, "amoCRM's token endpoint says the request lacks a valid `{name}`"),
            TokenError::AccountNotFound { host } => write!(f, "amoCRM has no account at {host} (404 from the token endpoint)"),
            TokenError::Blocked { status } => write!(f, "amoCRM blocked the token request ({status}); it may be rate-limited or banned for a while"),
            TokenError::Server { status } => write!(f, "amoCRM's token endpoint failed ({status})"),
            TokenError::Unexpected { status, hint } if hint.is_empty() => write!(f, "amoCRM's token endpoint answered {status}"),
            TokenError::Unexpected { status, hint } => write!(f, "amoCRM's token endpoint answered {status}: {hint}"),
            TokenError::BadAnswer { what } => write!(f, "amoCRM's token answer has no {what}"),
            TokenError::Transport { code } if code == crate::engine::retry::SSRF_BLOCKED => write!(
                f,
                "n8n's SSRF protection refused the token request to the credential's address (N8N_SSRF_PROTECTION_ENABLED)"
            ),
            TokenError::Transport { code } if code.is_empty() => write!(f, "Could not reach amoCRM's token endpoint"),
            TokenError::Transport { code } => write!(f, "Could not reach amoCRM's token endpoint ({code})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(status: u16, hint: &str) -> Response {
        let body = serde_json::json!({"hint": hint, "title": "Некорректный запрос", "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson", "status": status, "detail": "В запросе отсутствует ряд параметров или параметры невалидны"});
        Response::new(status, body.to_string())
    }

    #[test]
    fn hints_map_to_causes() {
        let cases = [
            (problem(401, "Token has been revoked"), TokenError::RefreshRevoked),
            (problem(401, "Token has expired"), TokenError::RefreshExpired),
            (
                problem(401, "Cannot decrypt the refresh token"),
                TokenError::RefreshUndecryptable,
            ),
            (problem(400, "Authorization code has expired"), TokenError::CodeExpired),
            (
                problem(400, "Authorization code has been revoked"),
                TokenError::CodeReused,
            ),
            (
                problem(400, "Cannot decrypt the authorization code"),
                TokenError::CodeUndecryptable,
            ),
            (problem(400, "Invalid redirect URI"), TokenError::RedirectMismatch),
            (
                problem(400, "Check the `redirect_uri` parameter"),
                TokenError::RedirectMismatch,
            ),
            (
                problem(400, "Check the `client_secret` parameter"),
                TokenError::MissingParameter {
                    name: "client_secret".into(),
                },
            ),
        ];
        for (response, expected) in cases {
            assert_eq!(TokenError::from_response(&response, "x.amocrm.ru"), expected);
        }
    }

    #[test]
    fn invalid_client_has_no_hint_but_a_title() {
        let r = Response::new(
            401,
            r#"{"title":"Некорректный клиент","type":"https://developers.amocrm.ru/v3/errors/OAuthProblemJson","status":401,"detail":"Авторизация клиента не прошла"}"#,
        );
        assert_eq!(TokenError::from_response(&r, "x.amocrm.ru"), TokenError::InvalidClient);
    }

    #[test]
    fn transport_level_answers_are_passing_failures() {
        let html = Response::new(429, "<html>429</html>");
        let e = TokenError::from_response(&html, "x.amocrm.ru");
        assert_eq!(e, TokenError::Blocked { status: 429 });
        assert!(!e.needs_reconnect());
        assert_eq!(
            TokenError::from_response(&Response::new(502, ""), "h"),
            TokenError::Server { status: 502 }
        );
        assert_eq!(
            TokenError::from_response(&Response::new(404, ""), "nope.amocrm.ru"),
            TokenError::AccountNotFound {
                host: "nope.amocrm.ru".into()
            }
        );
    }

    #[test]
    fn every_message_says_what_to_do() {
        for e in [
            TokenError::RefreshRevoked,
            TokenError::CodeExpired,
            TokenError::CodeReused,
        ] {
            assert!(e.description().contains("authorization code"), "{e}");
            assert!(e.needs_reconnect());
        }
        assert!(TokenError::RedirectMismatch.description().contains("Redirect URI"));
        assert!(TokenError::CodeUndecryptable.description().contains("Client Secret"));
    }
}
