//! Query-string decoding and encoding.
//!
//! Splitting on `&` happens before percent-decoding, so an encoded `&` (`%26`) stays inside its
//! value; `+` decodes to a space as in every HTML-form query.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters is encoded, so a value can never be mistaken
/// for query syntax (`&`, `=`, `+`, `|`, `*`, space, ...), nor for a path's `/`.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The decoded `(name, value)` pairs of a raw query string, in order.
pub fn decode(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A query string with every name and value percent-encoded.
pub fn encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(name, COMPONENT),
                utf8_percent_encode(value, COMPONENT)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn plus_decodes_to_space() {
        assert_eq!(
            decode(Some("order_by=client_ip+desc")),
            [pair("order_by", "client_ip desc")]
        );
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(
            decode(Some("client_ip=10.74.%2A%7C10.140.%2A")),
            [pair("client_ip", "10.74.*|10.140.*")]
        );
    }

    #[test]
    fn encoded_ampersand_stays_inside_the_value() {
        assert_eq!(
            decode(Some("svm.name=a%26b&identifier=1")),
            [pair("svm.name", "a&b"), pair("identifier", "1")]
        );
    }

    #[test]
    fn encode_round_trips_through_decode() {
        let pairs = vec![
            pair("svm.name", "a&b=c+d e|*!<"),
            pair("start.node.uuid", "1cd8a442-86d1-11e0-ae1c-123478563412"),
        ];
        assert_eq!(decode(Some(&encode(&pairs))), pairs);
    }

    #[test]
    fn encode_leaves_dotted_names_readable() {
        assert_eq!(encode(&[pair("node.name", "n 1")]), "node.name=n%201");
    }
}
