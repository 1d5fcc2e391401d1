//! Query strings for ONTAP requests. Every key and value is percent-encoded
//! here and nowhere else, so nothing a caller sends can change the shape of
//! the URL.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An ordered list of query parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a parameter.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.pairs.push((key.into(), value.into()));
        self
    }

    /// Replaces every parameter named `key` with one holding `value`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.remove(key);
        self.push(key, value)
    }

    /// Drops every parameter named `key`.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.pairs.retain(|(k, _)| k != key);
        self
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The decoded parameters in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Parses an encoded query string (without the leading `?`).
    pub fn parse(encoded: &str) -> Self {
        Self {
            pairs: url::form_urlencoded::parse(encoded.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The encoded query string, without the leading `?`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.extend(utf8_percent_encode(k, COMPONENT));
            out.push('=');
            out.extend(utf8_percent_encode(v, COMPONENT));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_operators_and_separators() {
        let mut q = Query::new();
        q.push("svm.name", "vs1|!vs0&x=1 #");
        assert_eq!(q.encode(), "svm.name=vs1%7C%21vs0%26x%3D1%20%23");
    }

    #[test]
    fn parse_round_trips_encode() {
        let mut q = Query::new();
        q.push("client_ip", "10.74.*")
            .push("order_by", "client_ip desc");
        assert_eq!(Query::parse(&q.encode()), q);
    }

    #[test]
    fn set_replaces_every_occurrence() {
        let mut q = Query::parse("max_records=5&a=1&max_records=7");
        q.set("max_records", "9");
        assert_eq!(q.encode(), "a=1&max_records=9");
    }
}
