//! When an access token stops working, as an absolute time on our clock.
//!
//! amoCRM says `expires_in` (seconds from now, 86400 for OAuth tokens) and
//! puts `exp` in the JWT (seconds since the epoch on amoCRM's clock). When the
//! token answer carries `server_time`, the difference between the clocks is
//! known and `exp` is moved onto ours; the earlier of the two readings wins,
//! so an odd claim can shorten a token's life but never extend it.

/// amoCRM's documented access-token lifetime, used when the answer has no
/// usable `expires_in` and the token no `exp`.
pub const DEFAULT_ACCESS_TTL_SECONDS: f64 = 86_400.0;

/// Longer than any token amoCRM issues (long-lived tokens: 5 years); larger
/// values are taken as garbage and capped.
pub const MAX_TTL_SECONDS: f64 = 5.0 * 366.0 * 86_400.0;

/// A token is treated as expired this long before its expiry, so that a
/// request started just before does not arrive just after.
pub const FRESHNESS_MARGIN_MS: f64 = 60_000.0;

/// Beyond this difference between amoCRM's `server_time` and our clock the
/// reading is not believed (a broken proxy, a unit mix-up).
pub const MAX_BELIEVED_SKEW_MS: f64 = 86_400_000.0;

/// Absolute expiry (ms since the epoch, our clock) of a token issued now.
pub fn expires_at(
    now_ms: f64,
    expires_in: Option<f64>,
    jwt_exp_seconds: Option<f64>,
    server_time_seconds: Option<f64>,
) -> f64 {
    let skew_ms = server_time_seconds
        .map(|s| s * 1000.0 - now_ms)
        .filter(|skew| skew.is_finite() && skew.abs() <= MAX_BELIEVED_SKEW_MS)
        .unwrap_or(0.0);
    let from_expires_in = expires_in
        .filter(|s| s.is_finite())
        .map(|s| now_ms + s.clamp(0.0, MAX_TTL_SECONDS) * 1000.0);
    let from_jwt = jwt_exp_seconds
        .map(|exp| exp * 1000.0 - skew_ms)
        .filter(|at| at.is_finite())
        .map(|at| at.min(now_ms + MAX_TTL_SECONDS * 1000.0));
    match (from_expires_in, from_jwt) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => now_ms + DEFAULT_ACCESS_TTL_SECONDS * 1000.0,
    }
}

/// Whether a token expiring at `expires_at_ms` can still be used at `now_ms`.
pub fn is_fresh(expires_at_ms: f64, now_ms: f64) -> bool {
    now_ms + FRESHNESS_MARGIN_MS < expires_at_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000_000.0;

    #[test]
    fn expires_in_counts_from_now() {
        assert_eq!(expires_at(NOW, Some(86_400.0), None, None), NOW + 86_400_000.0);
    }

    #[test]
    fn the_jwt_exp_can_shorten_but_not_extend() {
        let exp_early = NOW / 1000.0 + 3_600.0;
        assert_eq!(
            expires_at(NOW, Some(86_400.0), Some(exp_early), None),
            NOW + 3_600_000.0
        );
        let exp_late = NOW / 1000.0 + 999_999.0;
        assert_eq!(
            expires_at(NOW, Some(86_400.0), Some(exp_late), None),
            NOW + 86_400_000.0
        );
    }

    #[test]
    fn server_time_moves_exp_onto_our_clock() {
        // amoCRM's clock runs 120 s ahead: its exp is 120 s later than ours.
        let server_time = NOW / 1000.0 + 120.0;
        let exp = server_time + 3_600.0;
        assert_eq!(expires_at(NOW, None, Some(exp), Some(server_time)), NOW + 3_600_000.0);
        // An unbelievable server_time is ignored.
        assert_eq!(
            expires_at(NOW, None, Some(NOW / 1000.0 + 60.0), Some(1.0)),
            NOW + 60_000.0
        );
    }

    #[test]
    fn odd_or_missing_fields_fall_back_safely() {
        assert_eq!(expires_at(NOW, None, None, None), NOW + 86_400_000.0);
        assert_eq!(expires_at(NOW, Some(-5.0), None, None), NOW);
        assert_eq!(expires_at(NOW, Some(f64::NAN), None, None), NOW + 86_400_000.0);
        assert_eq!(expires_at(NOW, Some(1e30), None, None), NOW + MAX_TTL_SECONDS * 1000.0);
        assert_eq!(expires_at(NOW, None, Some(1e30), None), NOW + MAX_TTL_SECONDS * 1000.0);
    }

    #[test]
    fn freshness_keeps_a_margin() {
        assert!(is_fresh(NOW + FRESHNESS_MARGIN_MS + 1.0, NOW));
        assert!(!is_fresh(NOW + FRESHNESS_MARGIN_MS, NOW));
        assert!(!is_fresh(NOW - 1.0, NOW));
    }
}
