//! Reading node parameters handed over by the shell as JSON, with errors that
//! name the field as the user sees it in n8n.

use std::fmt;
use std::num::NonZeroU64;

use serde_json::{Map, Value};

/// A parameter value the user must fix. `field` is the label shown in n8n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub field: String,
    pub problem: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> InputError {
        InputError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field \"{}\": {}", self.field, self.problem)
    }
}

/// JavaScript's largest exactly representable integer: IDs above it would be
/// corrupted on their way through n8n.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One item's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    map: &'a Map<String, Value>,
}

static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

impl<'a> Params<'a> {
    pub fn new(value: &'a Value) -> Params<'a> {
        Params {
            map: value.as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string parameter; missing means empty.
    pub fn string(&self, key: &str, label: &str) -> Result<&'a str, InputError> {
        match self.get(key) {
            None => Ok(""),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(InputError::new(
                label,
                format!("expected text, got {}", describe(other)),
            )),
        }
    }

    /// A list of strings (multiOptions).
    pub fn strings(&self, key: &str, label: &str) -> Result<Vec<&'a str>, InputError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().ok_or_else(|| {
                        InputError::new(label, format!("expected a list of texts, found {}", describe(v)))
                    })
                })
                .collect(),
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect()),
            Some(other) => Err(InputError::new(
                label,
                format!("expected a list, got {}", describe(other)),
            )),
        }
    }

    /// A nested collection (n8n's "Additional Fields" and the like); missing
    /// means empty.
    pub fn object(&self, key: &str) -> Params<'a> {
        match self.get(key) {
            Some(v @ Value::Object(_)) => Params::new(v),
            _ => Params::new(&Value::Null),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.map.values().all(Value::is_null)
    }

    /// An optional object ID.
    pub fn id(&self, key: &str, label: &str, what: &str) -> Result<Option<NonZeroU64>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => parse_id(v, label, what).map(Some),
        }
    }

    /// A list of object IDs: an array, or text separated by commas.
    pub fn ids(&self, key: &str, label: &str, what: &str) -> Result<Vec<NonZeroU64>, InputError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(|v| parse_id(v, label, what)).collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| parse_id(&Value::String(p.to_string()), label, what))
                .collect(),
            Some(v) => parse_id(v, label, what).map(|id| vec![id]),
        }
    }

    /// An optional whole number of at least `min`.
    pub fn whole(&self, key: &str, label: &str, min: i64) -> Result<Option<i64>, InputError> {
        let value = match self.get(key) {
            None => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(v) => v,
        };
        let bad = || {
            InputError::new(
                label,
                format!("{} is not a whole number of at least {min}", describe(value)),
            )
        };
        let n = match value {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(bad)?;
        if n < min {
            return Err(bad());
        }
        Ok(Some(n))
    }

    /// An optional date, as Unix seconds.
    pub fn date(&self, key: &str, label: &str) -> Result<Option<i64>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => crate::time::parse_timestamp(v).map(Some).ok_or_else(|| {
                InputError::new(
                    label,
                    format!(
                        "{} is not a date; use ISO 8601 such as 2024-05-01T10:00:00+03:00 or a Unix timestamp",
                        describe(v)
                    ),
                )
            }),
        }
    }

    pub fn bool(&self, key: &str, label: &str) -> Result<bool, InputError> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(InputError::new(
                label,
                format!("expected true or false, got {}", describe(other)),
            )),
        }
    }
}

/// Short description of a JSON value for error messages: its type and, for
/// scalars, a bounded rendering of the value.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_string(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.is_empty() => "an empty text".to_string(),
        Value::String(s) => format!("\"{}\"", shorten(s)),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

pub fn shorten(s: &str) -> String {
    shorten_to(s, 60)
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub fn shorten_to(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// Parses an amoCRM object ID: a positive whole number (as a JSON number or as
/// text), at most JavaScript's safe-integer limit.
pub fn parse_id(value: &Value, label: &str, what: &str) -> Result<NonZeroU64, InputError> {
    let bad = || {
        InputError::new(
            label,
            format!(
                "{} is not {what} ID; expected a positive whole number such as 12345",
                describe(value)
            ),
        )
    };
    let n = match value {
        Value::Number(n) => n.as_u64().ok_or_else(bad)?,
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) || t.len() > 16 {
                return Err(bad());
            }
            t.parse::<u64>().map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    if n > MAX_SAFE_INTEGER {
        return Err(bad());
    }
    NonZeroU64::new(n).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_accept_numbers_and_digit_strings_only() {
        assert_eq!(parse_id(&json!(42), "Lead", "a lead").unwrap().get(), 42);
        assert_eq!(parse_id(&json!(" 42 "), "Lead", "a lead").unwrap().get(), 42);
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("12a"),
            json!(""),
            json!("1e3"),
            json!("+5"),
            json!(null),
            json!([1]),
            json!(9007199254740992u64),
        ] {
            let e = parse_id(&bad, "Lead", "a lead").unwrap_err();
            assert_eq!(e.field, "Lead");
            assert!(e.problem.contains("not a lead ID"), "{e}");
        }
    }

    #[test]
    fn describe_bounds_long_text() {
        let long = "y".repeat(500);
        assert!(describe(&json!(long)).chars().count() < 70);
    }

    #[test]
    fn strings_accept_lists_and_comma_text() {
        let v = json!({"a": ["x", "y"], "b": "x, y,", "c": 3});
        let p = Params::new(&v);
        assert_eq!(p.strings("a", "A").unwrap(), vec!["x", "y"]);
        assert_eq!(p.strings("b", "B").unwrap(), vec!["x", "y"]);
        assert!(p.strings("c", "C").is_err());
        assert!(p.strings("missing", "M").unwrap().is_empty());
    }
}
