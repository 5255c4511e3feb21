//! Reading the claims of amoCRM's JWT access tokens, unverified.
//!
//! amoCRM publishes no key to check the RS256 signature, so the claims are
//! advisory: `exp` can shorten the expiry we keep (never lengthen it), and
//! `account_id`/`api_domain` help messages. Nothing here is trusted for
//! security decisions.

use serde_json::Value;

/// The claims of a JWT, or `None` when the token is not JWT-shaped (long-lived
/// tokens and test tokens need not be).
pub fn claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64url_decode(payload)?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

/// `exp` in seconds since the epoch, when it is a plausible number.
pub fn expiry_seconds(token: &str) -> Option<f64> {
    let exp = claims(token)?.get("exp")?.as_f64()?;
    (exp.is_finite() && exp > 0.0).then_some(exp)
}

fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    // JWTs are small; refuse anything absurd before allocating.
    if input.len() > 64 * 1024 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for byte in input.bytes() {
        let v = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token shaped like amoCRM's (claims from the reference's public sample).
    fn token(payload: &str) -> String {
        let enc = |s: &str| {
            const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = s.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
                for i in 0..=chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        };
        format!("{}.{}.c2ln", enc(r#"{"typ":"JWT","alg":"RS256"}"#), enc(payload))
    }

    #[test]
    fn reads_exp_and_account_claims() {
        let t = token(r#"{"aud":"cid","exp":1735689600,"account_id":31000001,"api_domain":"api-b.amocrm.ru"}"#);
        assert_eq!(expiry_seconds(&t), Some(1_735_689_600.0));
        assert_eq!(claims(&t).unwrap()["api_domain"], "api-b.amocrm.ru");
    }

    #[test]
    fn tolerates_tokens_that_are_not_jwts() {
        for t in ["", "opaque-token", "a.b", "a.b.c.d", "a.!!!.c", "a.bm90IGpzb24.c"] {
            assert_eq!(expiry_seconds(t), None, "{t}");
        }
        assert_eq!(expiry_seconds(&token(r#"{"exp":"soon"}"#)), None);
        assert_eq!(expiry_seconds(&token(r#"{"exp":-5}"#)), None);
        assert_eq!(expiry_seconds(&token(r#"[1,2]"#)), None);
    }
}
