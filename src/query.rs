//! Query strings in amoCRM's spelling.
//!
//! amoCRM reads PHP-style nested parameters: `filter[id][0]=1&filter[id][1]=2`,
//! `filter[price][from]=100`, `order[created_at]=desc`. Keys keep their
//! brackets unescaped, as amoCRM's own documentation writes them; everything
//! else outside RFC 3986's unreserved set is percent-encoded, except the comma
//! that separates `with` values.

use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    pub fn push(&mut self, key: impl Into<String>, value: impl ToString) -> &mut Query {
        self.pairs.push((key.into(), value.to_string()));
        self
    }

    /// `key[0]=a&key[1]=b`.
    pub fn push_list<T: ToString>(&mut self, key: &str, values: impl IntoIterator<Item = T>) -> &mut Query {
        for (i, v) in values.into_iter().enumerate() {
            self.pairs.push((format!("{key}[{i}]"), v.to_string()));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode_into(&mut out, k, b"[]");
            out.push('=');
            encode_into(&mut out, v, b",");
        }
        out
    }

    /// `path?query`, or `path` alone when there is no parameter.
    pub fn append_to(&self, path: &str) -> String {
        if self.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", self.encode())
        }
    }
}

fn encode_into(out: &mut String, s: &str, keep: &[u8]) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_amocrm_bracket_filters_as_documented() {
        let mut q = Query::new();
        q.push_list("filter[id]", [123, 234]);
        q.push("filter[updated_at][from]", 123);
        q.push("filter[updated_at][to]", 987);
        q.push("filter[statuses][0][pipeline_id]", 7);
        q.push("filter[statuses][0][status_id]", 142);
        q.push("limit", 50).push("page", 1);
        assert_eq!(
            q.encode(),
            "filter[id][0]=123&filter[id][1]=234&filter[updated_at][from]=123&filter[updated_at][to]=987&filter[statuses][0][pipeline_id]=7&filter[statuses][0][status_id]=142&limit=50&page=1"
        );
    }

    #[test]
    fn escapes_values_but_keeps_with_commas() {
        let mut q = Query::new();
        q.push("query", "Иван & Co=1 [x]");
        q.push("with", "contacts,loss_reason");
        assert_eq!(
            q.encode(),
            "query=%D0%98%D0%B2%D0%B0%D0%BD%20%26%20Co%3D1%20%5Bx%5D&with=contacts,loss_reason"
        );
    }

    #[test]
    fn append_to_skips_empty_queries() {
        assert_eq!(Query::new().append_to("/api/v4/leads/1"), "/api/v4/leads/1");
        let mut q = Query::new();
        q.push("with", "contacts");
        assert_eq!(q.append_to("/api/v4/leads/1"), "/api/v4/leads/1?with=contacts");
    }
}
