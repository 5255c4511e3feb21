//! A task's deadline as the node takes it: a date, "in N hours", or "end of
//! day", turned into the Unix time amoCRM stores in `complete_till`.
//!
//! The time comes from the call (the shell's clock, handed to the core), never
//! from a clock read here. "End of day" is 23:59 of today in the account's
//! time zone, as amoCRM's own all-day tasks are (its documentation's examples
//! end at 23:59:00 Moscow time); the zone is the account's UTC offset,
//! `_embedded.datetime_settings.timezone_offset` of `/api/v4/account`.

use serde_json::Value;

use crate::entity::record::Mode;
use crate::input::{describe, InputError, Params};
use crate::time::iso_utc;

/// The latest "in N hours" taken: ten years.
pub const MAX_HOURS: f64 = 24.0 * 366.0 * 10.0;

/// Seconds after local midnight that "end of day" stands for: 23:59:00.
pub const END_OF_DAY_SECONDS: i64 = 23 * 3600 + 59 * 60;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Deadline {
    /// A moment, in Unix seconds.
    At(i64),
    /// This many hours after now.
    InHours(f64),
    /// 23:59 of today, in the account's time zone.
    EndOfDay,
}

/// The node's label of a deadline given by its parameters.
pub const LABEL: &str = "Deadline";

fn hours(value: &Value, label: &str) -> Result<f64, InputError> {
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(h) if h > 0.0 && h <= MAX_HOURS => Ok(h),
        _ => Err(InputError::new(
            label,
            format!(
                "{} is not a number of hours from now; give a number above 0 (1.5 is an hour and a half)",
                describe(value)
            ),
        )),
    }
}

fn is_end_of_day(text: &str) -> bool {
    let squeezed: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    squeezed == "endofday"
}

impl Deadline {
    /// An item's own `complete_till`: a date (ISO 8601 text or Unix time),
    /// `"endOfDay"`, or `{"inHours": N}`.
    pub fn from_value(value: &Value, label: &str) -> Result<Deadline, InputError> {
        if let Value::String(s) = value {
            if is_end_of_day(s) {
                return Ok(Deadline::EndOfDay);
            }
        }
        if let Some(h) = value.as_object().and_then(|o| o.get("inHours")) {
            return hours(h, label).map(Deadline::InHours);
        }
        crate::time::parse_timestamp(value).map(Deadline::At).ok_or_else(|| {
            InputError::new(
                label,
                format!(
                    "{} is not a deadline; give a date (2024-05-01T18:00:00+03:00 or a Unix time), \"endOfDay\", or {{\"inHours\": 3}}",
                    describe(value)
                ),
            )
        })
    }

    /// The node's parameters: `deadline` says how (`date`, `inHours`,
    /// `endOfDay`; `keep` on update), `deadlineDate` and `deadlineHours`
    /// carry the value. `None`: the update keeps the deadline.
    pub fn from_params(p: Params, mode: Mode) -> Result<Option<Deadline>, InputError> {
        let how = match p.string("deadline", LABEL)? {
            "" if mode == Mode::Update => "keep",
            "" => "date",
            other => other,
        };
        match how {
            "keep" if mode == Mode::Update => Ok(None),
            "date" => match p.date("deadlineDate", LABEL)? {
                Some(t) => Ok(Some(Deadline::At(t))),
                None => Err(InputError::new(
                    LABEL,
                    "is empty; pick a date and time, or choose In Hours or End of Day",
                )),
            },
            "inHours" => match p.get("deadlineHours") {
                Some(v) => hours(v, "Hours From Now").map(|h| Some(Deadline::InHours(h))),
                None => Err(InputError::new("Hours From Now", "is empty; give a number of hours")),
            },
            "endOfDay" => Ok(Some(Deadline::EndOfDay)),
            other => Err(InputError::new(
                LABEL,
                format!("\"{other}\" is not a way to set a deadline (date, inHours, endOfDay)"),
            )),
        }
    }

    /// Whether resolving it needs the account's time zone.
    pub fn needs_zone(&self) -> bool {
        matches!(self, Deadline::EndOfDay)
    }

    /// Unix seconds at `now_ms`, with the account's UTC offset in seconds
    /// (needed for "end of day" only); refused when not in the future.
    pub fn resolve(&self, now_ms: f64, utc_offset: Option<i64>, label: &str) -> Result<i64, InputError> {
        let now = (now_ms / 1000.0).floor() as i64;
        let at = match *self {
            Deadline::At(t) => t,
            Deadline::InHours(h) => now + (h * 3600.0).round() as i64,
            Deadline::EndOfDay => {
                let offset = utc_offset.ok_or_else(|| {
                    InputError::new(
                        label,
                        "\"end of day\" needs the account's time zone, which is not known",
                    )
                })?;
                end_of_day(now, offset)
            }
        };
        if at <= now {
            let hint = if *self == Deadline::EndOfDay {
                "the account's day is over (23:59); use a number of hours or a date"
            } else {
                "amoCRM would show the task as overdue at once; give a later time"
            };
            return Err(InputError::new(
                label,
                format!("{} is in the past (it is now {}): {hint}", iso_utc(at), iso_utc(now)),
            ));
        }
        Ok(at)
    }
}

/// 23:59:00 of the day `now` falls in, at UTC offset `offset` (seconds).
pub fn end_of_day(now: i64, offset: i64) -> i64 {
    let local = now + offset;
    local.div_euclid(86_400) * 86_400 + END_OF_DAY_SECONDS - offset
}

/// `"+03:00"`, `"-05:30"`, `"+0300"` → seconds east of UTC.
pub fn parse_offset(text: &str) -> Option<i64> {
    let t = text.trim();
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = (digits[..2].parse::<i64>().ok()?, digits[2..].parse::<i64>().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// The UTC offset in an answer of `/api/v4/account?with=datetime_settings`
/// (amoCRM documents it under `_embedded`; a top-level copy is read too).
pub fn account_offset(account: &Value) -> Option<i64> {
    let settings = account["_embedded"]
        .get("datetime_settings")
        .or_else(|| account.get("datetime_settings"))?;
    parse_offset(settings["timezone_offset"].as_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2024-05-01T10:20:30Z, 13:20:30 in Moscow.
    const NOW_MS: f64 = 1_714_558_830_000.0;
    const MOSCOW: i64 = 3 * 3600;

    #[test]
    fn end_of_day_is_23_59_in_the_accounts_zone() {
        // 2024-05-01T23:59:00+03:00
        assert_eq!(end_of_day(1_714_558_830, MOSCOW), 1_714_597_140);
        assert_eq!(iso_utc(end_of_day(1_714_558_830, 0)), "2024-05-01T23:59:00Z");
        // 02:00 in Moscow is still the previous day in UTC.
        let after_midnight_moscow = 1_714_604_400; // 2024-05-01T23:00:00Z = 02:00 +03
        assert_eq!(
            iso_utc(end_of_day(after_midnight_moscow, MOSCOW)),
            "2024-05-02T20:59:00Z"
        );
        assert_eq!(iso_utc(end_of_day(1_714_558_830, -5 * 3600)), "2024-05-02T04:59:00Z");
    }

    #[test]
    fn helpers_resolve_against_the_calls_clock() {
        assert_eq!(
            Deadline::InHours(3.0).resolve(NOW_MS, None, LABEL).unwrap(),
            1_714_558_830 + 3 * 3600
        );
        assert_eq!(
            Deadline::InHours(0.5).resolve(NOW_MS, None, LABEL).unwrap(),
            1_714_558_830 + 1800
        );
        assert_eq!(
            Deadline::EndOfDay.resolve(NOW_MS, Some(MOSCOW), LABEL).unwrap(),
            1_714_597_140
        );
        assert!(Deadline::EndOfDay.resolve(NOW_MS, None, LABEL).is_err());
        assert_eq!(
            Deadline::At(1_714_600_000).resolve(NOW_MS, None, LABEL).unwrap(),
            1_714_600_000
        );
    }

    #[test]
    fn a_deadline_in_the_past_is_refused_with_both_times() {
        let e = Deadline::At(1_714_500_000).resolve(NOW_MS, None, LABEL).unwrap_err();
        assert_eq!(e.field, "Deadline");
        assert!(
            e.problem
                .starts_with("2024-04-30T18:00:00Z is in the past (it is now 2024-05-01T10:20:30Z)"),
            "{e}"
        );
        // 23:59:30 in Moscow: the day is over.
        let late = (1_714_597_170_i64 * 1000) as f64;
        let e = Deadline::EndOfDay.resolve(late, Some(MOSCOW), LABEL).unwrap_err();
        assert!(e.problem.contains("day is over"), "{e}");
    }

    #[test]
    fn an_items_own_value_may_be_a_date_or_a_helper() {
        assert_eq!(
            Deadline::from_value(&json!("2024-05-02T09:00:00+03:00"), "complete_till").unwrap(),
            Deadline::At(1_714_629_600)
        );
        assert_eq!(
            Deadline::from_value(&json!(1_714_629_600), "complete_till").unwrap(),
            Deadline::At(1_714_629_600)
        );
        for eod in ["endOfDay", "end of day", "END_OF_DAY"] {
            assert_eq!(
                Deadline::from_value(&json!(eod), "complete_till").unwrap(),
                Deadline::EndOfDay
            );
        }
        assert_eq!(
            Deadline::from_value(&json!({"inHours": "2"}), "complete_till").unwrap(),
            Deadline::InHours(2.0)
        );
        for bad in [
            json!("tomorrow"),
            json!({"inHours": 0}),
            json!({"inHours": -1}),
            json!(true),
        ] {
            let e = Deadline::from_value(&bad, "complete_till").unwrap_err();
            assert_eq!(e.field, "complete_till", "{bad}");
        }
    }

    #[test]
    fn the_nodes_parameters_say_how_the_deadline_is_given() {
        let at = |p: Value, mode| Deadline::from_params(Params::new(&p), mode);
        assert_eq!(
            at(json!({"deadlineDate": "2024-05-02T09:00:00Z"}), Mode::Create).unwrap(),
            Some(Deadline::At(1_714_640_400))
        );
        assert_eq!(
            at(json!({"deadline": "inHours", "deadlineHours": 4}), Mode::Create).unwrap(),
            Some(Deadline::InHours(4.0))
        );
        assert_eq!(
            at(json!({"deadline": "endOfDay"}), Mode::Update).unwrap(),
            Some(Deadline::EndOfDay)
        );
        assert_eq!(at(json!({}), Mode::Update).unwrap(), None);
        assert_eq!(at(json!({}), Mode::Create).unwrap_err().field, "Deadline");
        assert!(at(json!({"deadline": "keep"}), Mode::Create).is_err());
        assert_eq!(
            at(json!({"deadline": "inHours"}), Mode::Create).unwrap_err().field,
            "Hours From Now"
        );
        let unreadable = at(json!({"deadlineDate": "next week"}), Mode::Create).unwrap_err();
        assert!(unreadable.problem.contains("is not a date"), "{unreadable}");
    }

    #[test]
    fn the_accounts_offset_is_read_where_amocrm_documents_it() {
        let documented =
            json!({"_embedded": {"datetime_settings": {"timezone": "Europe/Moscow", "timezone_offset": "+03:00"}}});
        assert_eq!(account_offset(&documented), Some(MOSCOW));
        assert_eq!(
            account_offset(&json!({"datetime_settings": {"timezone_offset": "-05:30"}})),
            Some(-(5 * 3600 + 1800))
        );
        assert_eq!(account_offset(&json!({"id": 1})), None);
        assert_eq!(parse_offset("+0545"), Some(5 * 3600 + 45 * 60));
        for bad in ["03:00", "+3", "+25:00", "", "+03:75"] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
    }
}
