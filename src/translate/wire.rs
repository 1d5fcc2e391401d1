//! ONTAP's JSON read straight into the proto messages, which mirror ONTAP's
//! records field for field. `build/resources.rs` generates, from the
//! descriptors, each message's [`OntapRecord`] impl: which reader each JSON
//! key takes and which selection path each field answers to. The readers
//! here are the one place a JSON value's form is checked.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::schema::{EnumWords, Selection};
use crate::ontap::Decoded;
use crate::ontap::time::{parse_duration, parse_timestamp};

/// A proto message that ONTAP's JSON describes, key by key.
pub trait OntapRecord: prost::Message + Default {
    /// What the JSON should have been, for decoding errors.
    const EXPECTING: &'static str;
    /// The most one `{` of the record's JSON can cost decoded: three of the
    /// largest element of any array of messages it holds, at any depth (a
    /// list that doubles holds its old and new buffers while it moves).
    const NESTED_BYTES: usize;

    /// Reads the value of `key` into its field; a key the message does not
    /// have (HAL `_links`, a field of a newer ONTAP) is skipped.
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error>;

    /// Clears every field `selection` does not hold. ONTAP answers more
    /// than `fields=` asked for (it always adds key fields), and a caller
    /// gets only what its read mask named.
    fn keep_selected(&mut self, selection: &Selection);

    /// [`Self::keep_selected`], free when everything is selected.
    fn select(&mut self, selection: &Selection) {
        if *selection != Selection::All {
            self.keep_selected(selection);
        }
    }
}

impl<M: OntapRecord> Decoded for OntapJson<M> {
    const NESTED_OBJECT_BYTES: usize = M::NESTED_BYTES;
}

/// The largest of `sizes` (0 for none), in a constant: `Ord::max` is not a
/// `const fn`.
pub const fn most(sizes: &[usize]) -> usize {
    let mut most = 0;
    let mut i = 0;
    while i < sizes.len() {
        if sizes[i] > most {
            most = sizes[i];
        }
        i += 1;
    }
    most
}

/// A message read from ONTAP's JSON (serde's entry point; the message
/// itself implements no serde trait, its JSON being ONTAP's and not
/// protobuf's JSON mapping).
#[derive(Debug)]
pub struct OntapJson<M>(pub M);

impl<'de, M: OntapRecord> Deserialize<'de> for OntapJson<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(RecordVisitor(PhantomData))
            .map(OntapJson)
    }
}

struct RecordVisitor<M>(PhantomData<M>);

impl<'de, M: OntapRecord> Visitor<'de> for RecordVisitor<M> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(M::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
        let mut message = M::default();
        while let Some(Key(key)) = map.next_key()? {
            message.read_field(&key, &mut map)?;
        }
        Ok(message)
    }
}

/// A JSON key, borrowed from the body unless it holds escapes (serde's own
/// `Cow<str>` always allocates).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A string; `null` is absent.
pub fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    map.next_value()
}

/// `true` or `false`.
pub fn boolean<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<bool>, A::Error> {
    map.next_value()
}

/// An integer, as a JSON number or a decimal string: ONTAP documents some
/// 64-bit values as "represented as string" and shows numbers.
pub fn integer<'de, A, T>(map: &mut A) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: FromStr + TryFrom<u64> + TryFrom<i64>,
{
    Ok(map.next_value::<Option<Integer<T>>>()?.map(|i| i.0))
}

struct Integer<T>(T);

impl<'de, T: FromStr + TryFrom<u64> + TryFrom<i64>> Deserialize<'de> for Integer<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntegerVisitor<T>(PhantomData<T>);
        impl<T: FromStr + TryFrom<u64> + TryFrom<i64>> Visitor<'_> for IntegerVisitor<T> {
            type Value = Integer<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "an integer within {} (a number or a decimal string)",
                    std::any::type_name::<T>()
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Integer<T>, E> {
                T::try_from(v)
                    .map(Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Integer<T>, E> {
                T::try_from(v)
                    .map(Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Integer<T>, E> {
                v.parse()
                    .map(Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(IntegerVisitor(PhantomData))
    }
}

/// An ONTAP timestamp (RFC 3339, or the reference pages' form).
pub fn timestamp<'de, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<prost_types::Timestamp>, A::Error> {
    let Some(text) = map.next_value::<Option<String>>()? else {
        return Ok(None);
    };
    let instant = parse_timestamp(&text).map_err(de::Error::custom)?;
    Ok(Some(prost_types::Timestamp {
        seconds: instant.as_second(),
        nanos: instant.subsec_nanosecond(),
    }))
}

/// An ISO-8601 duration (`PT15S`).
pub fn duration<'de, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<prost_types::Duration>, A::Error> {
    let Some(text) = map.next_value::<Option<String>>()? else {
        return Ok(None);
    };
    let seconds = parse_duration(&text).map_err(de::Error::custom)?;
    Ok(Some(prost_types::Duration { seconds, nanos: 0 }))
}

/// One of ONTAP's words, as the proto enum's number and as the word itself:
/// a word this gateway does not know yet is UNSPECIFIED rather than a
/// failed call, and the word is kept for the message's `*_text` field.
pub fn word<'de, A: MapAccess<'de>>(
    map: &mut A,
    words: &EnumWords,
) -> Result<(Option<i32>, Option<String>), A::Error> {
    let word: Option<String> = map.next_value()?;
    Ok((word.as_deref().map(|w| words.number(w)), word))
}

/// A nested object.
pub fn message<'de, A: MapAccess<'de>, M: OntapRecord>(map: &mut A) -> Result<Option<M>, A::Error> {
    Ok(map.next_value::<Option<OntapJson<M>>>()?.map(|m| m.0))
}

/// An array of objects; `null` is empty.
pub fn messages<'de, A: MapAccess<'de>, M: OntapRecord>(map: &mut A) -> Result<Vec<M>, A::Error> {
    Ok(map
        .next_value::<Option<Vec<OntapJson<M>>>>()?
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.0)
        .collect())
}

/// A value the message has no field for.
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// Clears a field `selection` does not hold.
pub fn keep<T>(field: &mut Option<T>, at: &str, selection: &Selection) {
    if !selection.includes(at) {
        *field = None;
    }
}

/// Clears a nested object `selection` does not hold, or what of it the
/// selection does not hold.
pub fn keep_message<M: OntapRecord>(field: &mut Option<M>, at: &str, selection: &Selection) {
    match field {
        Some(_) if !selection.includes(at) => *field = None,
        Some(message) => message.select(&selection.scoped(at)),
        None => {}
    }
}

/// [`keep_message`] for an array of objects.
pub fn keep_messages<M: OntapRecord>(field: &mut Vec<M>, at: &str, selection: &Selection) {
    if !selection.includes(at) {
        field.clear();
        return;
    }
    let selection = selection.scoped(at);
    for message in field {
        message.select(&selection);
    }
}

/// Decodes `body` as every upstream response the gateway reads, for the
/// property tests and fuzz targets: arbitrary bytes must be refused with an
/// error, never a panic.
#[cfg(any(test, fuzzing))]
pub(crate) fn decode_every_response(body: &[u8]) {
    use crate::ontap::{Collection, Response};
    use crate::proto::v1::{CifsConnection, IscsiService, PerformanceMetric, PerformanceMetricRaw};
    let response = Response {
        status: 200,
        body: bytes::Bytes::copy_from_slice(body),
        ..Response::default()
    };
    let _ = response.json::<Collection<OntapJson<CifsConnection>>>();
    let _ = response.json::<Collection<OntapJson<IscsiService>>>();
    let _ = response.json::<OntapJson<IscsiService>>();
    let _ = response.json::<Collection<OntapJson<PerformanceMetric>>>();
    let _ = response.json::<OntapJson<PerformanceMetricRaw>>();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::{
        CifsConnection, CifsSession, IscsiService, MetricStatus, NodeRef, PerformanceMetric,
        PerformanceMetricRaw,
    };

    fn read<M: OntapRecord>(json: &str) -> Result<M, serde_json::Error> {
        serde_json::from_str::<OntapJson<M>>(json).map(|m| m.0)
    }

    #[test]
    fn a_64_bit_identifier_reads_as_number_or_string() {
        let n: CifsSession = read(r#"{"identifier": 625718873227788312}"#).unwrap();
        let s: CifsSession = read(r#"{"identifier": "625718873227788312"}"#).unwrap();
        assert_eq!(n.identifier, Some(625718873227788312));
        assert_eq!(s.identifier, Some(625718873227788312));
    }

    #[test]
    fn an_integer_out_of_the_fields_range_fails() {
        let e = read::<CifsConnection>(r#"{"client_port": 4294967296}"#).unwrap_err();
        assert!(e.to_string().contains("u32"), "{e}");
        assert!(read::<CifsConnection>(r#"{"client_port": -1}"#).is_err());
        assert!(read::<CifsConnection>(r#"{"client_port": "port"}"#).is_err());
        assert!(read::<CifsConnection>(r#"{"client_port": 1.5}"#).is_err());
    }

    #[test]
    fn a_record_that_is_not_an_object_says_what_was_expected() {
        let e = read::<CifsConnection>("[3]").unwrap_err();
        assert!(
            e.to_string()
                .contains("an object of ONTAP's JSON for ontap.v1.CifsConnection"),
            "{e}"
        );
    }

    #[test]
    fn a_key_that_is_not_a_string_says_a_field_name_was_expected() {
        let e = Key::deserialize(serde_json::json!(3))
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("a field name"), "{e}");
    }

    #[test]
    fn an_integer_of_the_wrong_type_says_which_integer_was_expected() {
        let e = read::<CifsConnection>(r#"{"client_port": true}"#).unwrap_err();
        assert!(e.to_string().contains("an integer within u32"), "{e}");
    }

    #[test]
    fn raw_counters_above_two_to_the_63_read() {
        let s: PerformanceMetricRaw =
            read(r#"{"iops_raw": {"total": 18446744073709551615}}"#).unwrap();
        assert_eq!(s.iops_raw.unwrap().total, Some(u64::MAX));
    }

    #[test]
    fn unknown_keys_and_links_are_skipped() {
        let c: CifsConnection = read(
            r#"{"identifier": 1, "server_name": "x", "future": {"a": [1]},
                "_links": {"self": {"href": "/api/x"}}}"#,
        )
        .unwrap();
        assert_eq!(c.identifier, Some(1));
    }

    #[test]
    fn null_is_absent() {
        let c: CifsConnection =
            read(r#"{"client_ip": null, "node": null, "sessions": null}"#).unwrap();
        assert_eq!(c, CifsConnection::default());
    }

    #[test]
    fn an_escaped_key_still_names_its_field() {
        let c: CifsConnection = read(r#"{"client\u005fip": "10.0.0.1"}"#).unwrap();
        assert_eq!(c.client_ip.as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn a_malformed_timestamp_fails() {
        let e = read::<PerformanceMetric>(r#"{"timestamp": "yesterday"}"#).unwrap_err();
        assert!(e.to_string().contains("yesterday"), "{e}");
    }

    #[test]
    fn timestamps_and_durations_read_in_ontaps_forms() {
        let m: PerformanceMetric =
            read(r#"{"timestamp": "2017-01-25 11:20:13 +0000", "duration": "PT15S"}"#).unwrap();
        assert_eq!(m.timestamp.unwrap().seconds, 1_485_343_213);
        assert_eq!(m.duration.unwrap().seconds, 15);
        assert!(read::<PerformanceMetric>(r#"{"duration": "15s"}"#).is_err());
    }

    #[test]
    fn a_status_word_is_the_enum_and_kept_as_text() {
        let m: PerformanceMetric = read(r#"{"status": "partial_no_data"}"#).unwrap();
        assert_eq!(m.status, Some(MetricStatus::PartialNoData as i32));
        assert_eq!(m.status_text.as_deref(), Some("partial_no_data"));
    }

    #[test]
    fn an_unknown_status_word_is_unspecified_and_kept() {
        let m: PerformanceMetric = read(r#"{"status": "quantum_flux"}"#).unwrap();
        assert_eq!(m.status, Some(MetricStatus::Unspecified as i32));
        assert_eq!(m.status_text.as_deref(), Some("quantum_flux"));
    }

    #[test]
    fn throughput_other_is_not_read() {
        let m: PerformanceMetric =
            read(r#"{"throughput": {"read": 1, "other": 5, "total": 6}}"#).unwrap();
        let t = m.throughput.unwrap();
        assert_eq!((t.read, t.write, t.total), (Some(1), None, Some(6)));
    }

    #[test]
    fn selecting_a_leaf_keeps_its_objects_and_clears_siblings() {
        let mut c: CifsConnection = read(
            r#"{"identifier": 1, "client_ip": "10.0.0.1",
                "node": {"name": "n1", "uuid": "u"}, "svm": {"name": "vs1"}}"#,
        )
        .unwrap();
        c.select(&Selection::Paths(vec!["node.name"]));
        assert_eq!(
            c,
            CifsConnection {
                node: Some(NodeRef {
                    name: Some("n1".into()),
                    uuid: None
                }),
                ..CifsConnection::default()
            }
        );
    }

    #[test]
    fn an_unselected_status_clears_its_text_too() {
        let mut m: PerformanceMetric = read(r#"{"status": "ok", "iops": {"read": 1}}"#).unwrap();
        m.select(&Selection::Paths(vec!["iops"]));
        assert_eq!((m.status, m.status_text), (None, None));
        assert_eq!(m.iops.unwrap().read, Some(1));
    }

    #[test]
    fn selection_reaches_into_nested_samples_and_arrays() {
        let mut s: IscsiService = read(
            r#"{"enabled": true, "metric": {"iops": {"read": 1, "write": 2}, "status": "ok"}}"#,
        )
        .unwrap();
        s.select(&Selection::Paths(vec!["metric.iops.write"]));
        let metric = s.metric.unwrap();
        assert_eq!(s.enabled, None);
        assert_eq!(metric.status, None);
        assert_eq!(metric.iops.unwrap().read, None);

        let mut c: CifsConnection =
            read(r#"{"sessions": [{"identifier": 1}, {"identifier": 2}]}"#).unwrap();
        c.select(&Selection::Paths(vec!["client_ip"]));
        assert!(c.sessions.is_empty());
    }

    #[test]
    fn selecting_everything_keeps_everything() {
        let json = r#"{"client_ip": "10.0.0.1", "sessions": [{"identifier": 1}]}"#;
        let mut c: CifsConnection = read(json).unwrap();
        c.select(&Selection::All);
        assert_eq!(c, read(json).unwrap());
    }

    /// JSON shaped like ONTAP's records, with ONTAP's keys and any values.
    fn ontapish_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let key = proptest::sample::select(vec![
            "records",
            "num_records",
            "_links",
            "client_ip",
            "client_port",
            "identifier",
            "sessions",
            "svm",
            "node",
            "uuid",
            "name",
            "enabled",
            "target",
            "alias",
            "metric",
            "statistics",
            "timestamp",
            "duration",
            "status",
            "iops",
            "latency",
            "throughput",
            "iops_raw",
            "read",
            "write",
            "other",
            "total",
            "error",
        ]);
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            ".{0,12}".prop_map(serde_json::Value::from),
            Just(serde_json::Value::from("2017-01-25T11:20:13Z")),
            Just(serde_json::Value::from("PT15S")),
        ];
        leaf.prop_recursive(4, 64, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| {
                    serde_json::Value::Object(
                        m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    )
                }),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_decoders(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
        ) {
            decode_every_response(&body);
        }

        #[test]
        fn ontap_shaped_json_never_panics_the_decoders(value in ontapish_json()) {
            decode_every_response(&serde_json::to_vec(&value).unwrap());
        }

        #[test]
        fn a_decoded_record_keeps_only_what_is_selected(value in ontapish_json()) {
            if let Ok(OntapJson(mut c)) = serde_json::from_value::<OntapJson<CifsConnection>>(value) {
                c.select(&Selection::Paths(vec!["client_ip"]));
                proptest::prop_assert!(c.node.is_none() && c.svm.is_none() && c.sessions.is_empty());
                proptest::prop_assert!(c.identifier.is_none() && c.client_port.is_none());
            }
        }
    }
}
