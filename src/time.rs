//! Dates as amoCRM wants them: Unix timestamps in seconds.
//!
//! n8n hands dates over as ISO 8601 text (its date picker, Luxon's toISO),
//! as epoch numbers, or as text typed by the user. All become whole seconds;
//! anything else is an error for the field.

/// Seconds since the epoch for `value`: an integer of seconds (or of
/// milliseconds, recognised by its size), or ISO 8601 text
/// (`2024-05-01`, `2024-05-01T10:20`, `…:30`, `…:30.123`, with `Z` or an
/// offset such as `+03:00`; without an offset the time is UTC).
pub fn parse_timestamp(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => from_number(n.as_f64()?),
        serde_json::Value::String(s) => {
            let t = s.trim();
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 16 {
                from_number(t.parse::<u64>().ok()? as f64)
            } else {
                parse_iso(t)
            }
        }
        _ => None,
    }
}

/// Epoch numbers above this are milliseconds (it is the year 5138 in seconds).
const MILLIS_THRESHOLD: f64 = 1e11;

fn from_number(n: f64) -> Option<i64> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let seconds = if n >= MILLIS_THRESHOLD { n / 1000.0 } else { n };
    (seconds < 1e13).then_some(seconds.floor() as i64)
}

fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut i = 10;
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    let mut offset_seconds = 0i64;
    if i < b.len() {
        if b[i] != b'T' && b[i] != b't' && b[i] != b' ' {
            return None;
        }
        hour = num(i + 1, 2)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        minute = num(i + 4, 2)?;
        i += 6;
        if b.get(i) == Some(&b':') {
            second = num(i + 1, 2)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                if i == start {
                    return None;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1, 2)?;
                let om = match b.get(i + 3) {
                    Some(b':') if i + 6 == b.len() => num(i + 4, 2)?,
                    Some(_) if i + 5 == b.len() => num(i + 3, 2)?,
                    None if i + 3 == b.len() => 0,
                    _ => return None,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                offset_seconds = (oh * 3600 + om * 60) * if sign == b'+' { 1 } else { -1 };
            }
            _ => return None,
        }
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds)
}

/// `2024-05-01T10:20:30Z`: Unix seconds as UTC text, for messages.
pub fn iso_utc(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_iso_text_in_the_shapes_n8n_produces() {
        assert_eq!(parse_timestamp(&json!("1970-01-01")), Some(0));
        assert_eq!(parse_timestamp(&json!("2024-05-01")), Some(1_714_521_600));
        assert_eq!(parse_timestamp(&json!("2024-05-01T10:20")), Some(1_714_558_800));
        assert_eq!(parse_timestamp(&json!("2024-05-01T10:20:30Z")), Some(1_714_558_830));
        assert_eq!(
            parse_timestamp(&json!("2024-05-01T10:20:30.123+03:00")),
            Some(1_714_558_830 - 3 * 3600)
        );
        assert_eq!(
            parse_timestamp(&json!("2024-05-01T10:20:30.123-0530")),
            Some(1_714_558_830 + 5 * 3600 + 1800)
        );
        assert_eq!(parse_timestamp(&json!("2024-02-29")), Some(1_709_164_800));
    }

    #[test]
    fn reads_epoch_seconds_and_milliseconds() {
        assert_eq!(parse_timestamp(&json!(1_714_558_830)), Some(1_714_558_830));
        assert_eq!(parse_timestamp(&json!(1_714_558_830_123u64)), Some(1_714_558_830));
        assert_eq!(parse_timestamp(&json!("1714558830")), Some(1_714_558_830));
    }

    #[test]
    fn formats_seconds_as_utc_text_and_back() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_714_558_830), "2024-05-01T10:20:30Z");
        assert_eq!(iso_utc(1_709_164_800), "2024-02-29T00:00:00Z");
        for t in [0, 951_782_399, 1_709_251_199, 4_102_444_800] {
            assert_eq!(parse_timestamp(&json!(iso_utc(t))), Some(t), "{t}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            json!("yesterday"),
            json!("2024-13-01"),
            json!("2023-02-29"),
            json!("2024-05-01T25:00"),
            json!("2024-05-01X"),
            json!(-5),
            json!(true),
            json!(""),
            json!("2024-05-01T10:20:30+3"),
            json!("2024-05-01T10:20:30."),
        ] {
            assert_eq!(parse_timestamp(&bad), None, "{bad}");
        }
    }
}
