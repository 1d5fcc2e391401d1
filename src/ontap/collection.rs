//! The envelope every ONTAP collection GET (and POST with
//! `return_records=true`) answers with.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// `{"records": [...], "num_records": N, "_links": {"next": {"href": ...}}}`,
/// read strictly: an object holding `records` or `num_records` (a count
/// answers only the latter) and no `error`. Anything else with HTTP 200 is
/// not what a collection endpoint returns.
#[derive(Debug)]
pub struct Collection<T> {
    /// The records in this response; absent with `return_records=false`.
    pub records: Vec<T>,
    /// The number of records in this response, or the count of all matches
    /// with `return_records=false`.
    pub num_records: Option<u64>,
    /// HAL links; only `next` matters to the gateway.
    pub links: Option<CollectionLinks>,
}

/// A collection's `_links`.
#[derive(Debug, Default, Deserialize)]
pub struct CollectionLinks {
    /// The link to the next batch of records, when there is one.
    #[serde(default)]
    pub next: Option<Href>,
}

/// A HAL link.
#[derive(Debug, Clone, Deserialize)]
pub struct Href {
    /// A path with query, under `/api/`.
    pub href: String,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Collection<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CollectionVisitor(PhantomData))
    }
}

struct CollectionVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for CollectionVisitor<T> {
    type Value = Collection<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ONTAP collection object with `records` or `num_records`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Collection<T>, A::Error> {
        let (mut records, mut num_records, mut links) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "records" => records = Some(map.next_value()?),
                "num_records" => num_records = map.next_value()?,
                "_links" => links = map.next_value()?,
                "error" => {
                    return Err(de::Error::custom(
                        "an `error` object in a successful (2xx) response",
                    ));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if records.is_none() && num_records.is_none() {
            return Err(de::Error::custom("neither `records` nor `num_records`"));
        }
        Ok(Collection {
            records: records.unwrap_or_default(),
            num_records,
            links,
        })
    }
}

impl<T> Default for Collection<T> {
    /// An empty collection: what a bodiless success amounts to.
    fn default() -> Self {
        Self {
            records: Vec::new(),
            num_records: None,
            links: None,
        }
    }
}

impl<T> Collection<T> {
    /// The next-batch link, if ONTAP gave one.
    pub fn next_href(&self) -> Option<&str> {
        self.links
            .as_ref()
            .and_then(|l| l.next.as_ref())
            .map(|h| h.href.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Collection<serde_json::Value>, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn records_or_a_count_are_a_collection() {
        assert_eq!(
            read(r#"{"records": [{}], "num_records": 1}"#)
                .unwrap()
                .records
                .len(),
            1
        );
        assert_eq!(read(r#"{"num_records": 7}"#).unwrap().num_records, Some(7));
        assert!(read(r#"{"records": []}"#).unwrap().records.is_empty());
    }

    #[test]
    fn what_no_collection_endpoint_returns_is_refused() {
        for body in [
            "{}",
            "[]",
            "[[], 3]",
            "3",
            r#"{"_links": {}}"#,
            r#"{"error": {"message": "x"}, "records": []}"#,
        ] {
            assert!(read(body).is_err(), "{body}");
        }
    }

    #[test]
    fn the_next_link_is_read_from_links() {
        let page =
            read(r#"{"records": [], "_links": {"next": {"href": "/api/x?start.a=1"}}}"#).unwrap();
        assert_eq!(page.next_href(), Some("/api/x?start.a=1"));
    }

    #[test]
    fn a_body_of_another_type_is_told_what_was_expected() {
        let why = read("[]").unwrap_err().to_string();
        assert!(
            why.contains("an ONTAP collection object with `records` or `num_records`"),
            "{why}"
        );
    }
}
