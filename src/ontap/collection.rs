//! The envelope every ONTAP collection GET (and POST with
//! `return_records=true`) answers with, read as a stream: records past the
//! most a page may hold are never decoded, and a page that contradicts
//! itself is refused before anything is made of it.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::body::Reservation;

/// The most records a collection read without a `max_records` of its own
/// holds: the gateway never asks for more in one page (a POST's
/// `return_records=true` reply holds one).
pub const MAX_RECORDS: usize = 1000;

/// `{"records": [...], "num_records": N, "_links": {"next": {"href": ...}}}`,
/// read strictly: an object holding `records` or `num_records` (a count
/// answers only the latter), each at most once, and no `error`; where both
/// are present, `num_records` is the count of `records` (ONTAP: "the count
/// in this response"). Anything else with HTTP 200 is not what a collection
/// endpoint returns.
#[derive(Debug)]
pub struct Collection<T> {
    /// The records in this response; absent with `return_records=false`.
    pub records: Vec<T>,
    /// The number of records in this response, or the count of all matches
    /// with `return_records=false`.
    pub num_records: Option<u64>,
    /// HAL links; only `next` matters to the gateway.
    pub links: Option<CollectionLinks>,
    /// The decoded records' share of the memory budget, returned when the
    /// collection is dropped.
    pub(crate) charge: Reservation,
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
        CollectionSeed::new(MAX_RECORDS, 0).deserialize(deserializer)
    }
}

/// Reads a collection of at most `max_records` records: past them, the
/// read stops and fails, so a page of millions costs what one record more
/// than asked for does.
pub struct CollectionSeed<T> {
    max_records: usize,
    /// Room made for the records at once, instead of growing (and copying)
    /// the list as they come.
    capacity: usize,
    records: PhantomData<fn() -> T>,
}

impl<T> CollectionSeed<T> {
    /// A page of at most `max_records` records, with room for `capacity`
    /// (at most `max_records`) made at once.
    pub fn new(max_records: usize, capacity: usize) -> Self {
        Self {
            max_records,
            capacity: capacity.min(max_records),
            records: PhantomData,
        }
    }
}

impl<T> Clone for CollectionSeed<T> {
    fn clone(&self) -> Self {
        Self::new(self.max_records, self.capacity)
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for CollectionSeed<T> {
    type Value = Collection<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for CollectionSeed<T> {
    type Value = Collection<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ONTAP collection object with `records` or `num_records`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Collection<T>, A::Error> {
        let (mut records, mut num_records, mut links) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "records" => once(&mut records, "records", || {
                    map.next_value_seed(Records(self.clone()))
                })?,
                "num_records" => once(&mut num_records, "num_records", || {
                    map.next_value::<Option<u64>>()
                })?,
                "_links" => once(&mut links, "_links", || {
                    map.next_value::<Option<CollectionLinks>>()
                })?,
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
        let num_records = num_records.flatten();
        match (&records, num_records) {
            (None, None) => return Err(de::Error::custom("neither `records` nor `num_records`")),
            (Some(records), Some(count)) if count != records.len() as u64 => {
                return Err(de::Error::custom(format_args!(
                    "`num_records` is {count}, but the page holds {} records",
                    records.len()
                )));
            }
            _ => {}
        }
        Ok(Collection {
            records: records.unwrap_or_default(),
            num_records,
            links: links.flatten(),
            charge: Reservation::default(),
        })
    }
}

/// Reads a key's value into `slot`, refusing a key seen before: serde_json
/// keeps the last of duplicate keys, so a second `records` would otherwise
/// replace the first unnoticed.
fn once<V, E: de::Error>(
    slot: &mut Option<V>,
    key: &'static str,
    read: impl FnOnce() -> Result<V, E>,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(key));
    }
    *slot = Some(read()?);
    Ok(())
}

/// The `records` array, read one record at a time up to the limit.
struct Records<T>(CollectionSeed<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Records<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Records<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let limit = self.0.max_records;
        let mut records = Vec::with_capacity(self.0.capacity);
        while records.len() < limit {
            match seq.next_element()? {
                Some(record) => records.push(record),
                None => return Ok(records),
            }
        }
        // One more is skipped over, not decoded, only to learn it is there.
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format_args!(
                "more than {limit} records where `max_records` asked for at most {limit}"
            )));
        }
        Ok(records)
    }
}

impl<T> Default for Collection<T> {
    /// An empty collection: what a bodiless success amounts to.
    fn default() -> Self {
        Self {
            records: Vec::new(),
            num_records: None,
            links: None,
            charge: Reservation::default(),
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

    /// `json` read as a page of at most `max_records` records.
    fn page(json: &str, max_records: usize) -> Result<Collection<Record>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(json);
        CollectionSeed::new(max_records, max_records).deserialize(&mut de)
    }

    /// A record that must be an object.
    #[derive(Debug, Deserialize)]
    struct Record {}

    #[test]
    fn records_that_are_not_an_array_are_refused_saying_what_was_expected() {
        let err = page(r#"{"records": 5}"#, 10).unwrap_err();
        assert!(
            err.to_string().contains("expected an array of records"),
            "{err}"
        );
        let err = page("5", 10).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected an ONTAP collection object"),
            "{err}"
        );
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

    #[test]
    fn a_page_of_at_most_the_records_asked_for_is_read() {
        let read = page(r#"{"records": [{}, {}], "num_records": 2}"#, 2).unwrap();
        assert_eq!(read.records.len(), 2);
    }

    #[test]
    fn the_record_past_the_limit_stops_the_read_before_anything_after_it() {
        // Decoded, the third record (a number) or the cut-off end would
        // fail otherwise.
        for body in [
            r#"{"records": [{}, {}, 3, "#,
            r#"{"records": [{}, {}, {}, 4]}"#,
        ] {
            let why = page(body, 2).unwrap_err().to_string();
            assert!(
                why.starts_with("more than 2 records where `max_records` asked for at most 2"),
                "{body}: {why}"
            );
        }
    }

    #[test]
    fn a_collection_read_without_a_limit_holds_at_most_the_most_any_page_does() {
        let records = vec!["{}"; MAX_RECORDS + 1].join(",");
        let why = read(&format!(r#"{{"records": [{records}]}}"#)).unwrap_err();
        assert!(why.to_string().contains("more than 1000 records"), "{why}");
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        for body in [
            r#"{"records": [], "records": [{}]}"#,
            r#"{"num_records": 0, "records": [], "num_records": 0}"#,
            r#"{"num_records": 1, "_links": null, "_links": {}}"#,
        ] {
            let why = read(body).unwrap_err().to_string();
            assert!(why.contains("duplicate field"), "{body}: {why}");
        }
    }

    #[test]
    fn a_count_that_disagrees_with_the_records_present_is_refused() {
        for body in [
            r#"{"records": [], "num_records": 1099511627776}"#,
            r#"{"num_records": 1, "records": [{}, {}]}"#,
        ] {
            let why = read(body).unwrap_err().to_string();
            assert!(why.contains("`num_records` is"), "{body}: {why}");
        }
    }

    #[test]
    fn a_count_without_records_is_the_count_of_every_match() {
        let count = read(r#"{"num_records": 1099511627776}"#).unwrap();
        assert_eq!(count.num_records, Some(1 << 40));
    }

    #[test]
    fn room_is_made_for_no_more_records_than_the_limit() {
        let seed = CollectionSeed::<Record>::new(2, 1_000_000);
        assert_eq!(seed.capacity, 2);
    }
}
