//! An upstream response body: read within the size limit and the memory
//! budget, then decoded into what the documentation describes. What
//! decoding makes of a body is charged to the budget as well as the body
//! itself: a page of small JSON objects decodes into many times its size.

use std::mem::size_of;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use serde::de::{DeserializeOwned, DeserializeSeed};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::collection::{Collection, CollectionSeed};
use super::error::OntapError;
use super::untrusted::Scrubber;

/// The least one `{` of a body is charged decoded beyond its text, whatever
/// it decodes into; a type whose nested arrays hold larger elements says so
/// ([`Decoded::NESTED_OBJECT_BYTES`]).
pub const NESTED_OBJECT_BYTES: usize = 48;

/// What a body decodes into, and the most one `{` of it can cost decoded
/// beyond its text: an element of a nested array in a list that doubles as
/// it grows, holding its old and new buffers while it moves (three
/// elements' worth). The records themselves are charged by their size;
/// strings decode into no more than their text.
pub trait Decoded: DeserializeOwned {
    /// At least [`NESTED_OBJECT_BYTES`].
    const NESTED_OBJECT_BYTES: usize = NESTED_OBJECT_BYTES;
}

impl<T: Decoded> Decoded for Collection<T> {
    const NESTED_OBJECT_BYTES: usize = T::NESTED_OBJECT_BYTES;
}

impl Decoded for serde_json::Value {
    /// A map node and the value holding it, three times over.
    const NESTED_OBJECT_BYTES: usize = 3 * (size_of::<serde_json::Value>() + 64);
}

/// A successful response; clones share one body (a coalesced read's).
#[derive(Debug, Default, Clone)]
pub struct Response {
    /// 200, 201 or 202.
    pub status: u16,
    /// The `Location` header of a 201: the path of the created object.
    pub location: Option<String>,
    /// The body, at most `max_response_bytes`.
    pub body: Bytes,
    /// The body's share of the memory budget, returned when the last
    /// clone of the response is dropped.
    pub reservation: Arc<Reservation>,
    /// Scrubs what a decoding failure quotes from the body.
    pub scrubber: Scrubber,
    /// Where each decoding of the body is charged; none for a response
    /// made by hand (tests, fuzzing, benches).
    pub budget: Option<MemoryBudget>,
}

impl Response {
    /// Decodes the body into a documented wire shape. A syntax error or a
    /// field of the wrong type names the JSON path, e.g. `records[3].client_port`.
    pub fn json<T: Decoded>(&self) -> Result<T, OntapError> {
        let text = self.text()?;
        let _charge = match &self.budget {
            Some(_) => {
                let objects = objects_in(&self.body);
                self.charge(decoded_cost::<T>(&self.body, objects))?
            }
            None => Reservation::default(),
        };
        self.decode(text, std::marker::PhantomData::<T>)
    }

    /// Decodes a collection page of at most `max_records` records: the read
    /// stops at the first record past them. What the records decode into
    /// stays charged to the memory budget while the collection is held.
    pub fn collection<T: Decoded>(&self, max_records: u32) -> Result<Collection<T>, OntapError> {
        let text = self.text()?;
        let objects = objects_in(&self.body);
        let limit = usize::try_from(max_records).unwrap_or(usize::MAX);
        let capacity = objects.min(limit);
        let records = capacity.saturating_mul(size_of::<T>());
        let charge = self.charge(decoded_cost::<T>(&self.body, objects).saturating_add(records))?;
        let mut collection = self.decode(text, CollectionSeed::new(limit, capacity))?;
        collection.charge = charge;
        Ok(collection)
    }

    /// The body as text. JSON is UTF-8 (RFC 8259): one check of the whole
    /// body costs less than serde_json's check of each string it reads from
    /// bytes.
    fn text(&self) -> Result<&str, OntapError> {
        std::str::from_utf8(&self.body)
            .map_err(|e| OntapError::Malformed(format!("the body is not UTF-8: {e}")))
    }

    /// `bytes` of the memory budget, held until the reservation is dropped.
    fn charge(&self, bytes: usize) -> Result<Reservation, OntapError> {
        let mut reservation = Reservation::default();
        if let Some(budget) = &self.budget {
            budget.reserve(&mut reservation, bytes)?;
        }
        Ok(reservation)
    }

    /// Tracking the path costs on every field; failures are rare, so this
    /// decodes plainly and decodes again with the path only to explain one.
    fn decode<'de, S>(&self, text: &'de str, seed: S) -> Result<S::Value, OntapError>
    where
        S: DeserializeSeed<'de> + Clone,
    {
        let mut de = serde_json::Deserializer::from_str(text);
        let decoded = seed
            .clone()
            .deserialize(&mut de)
            .and_then(|value| de.end().map(|()| value));
        decoded.map_err(|_| match explain_malformed(text, seed) {
            OntapError::Malformed(why) => OntapError::Malformed(self.scrubber.scrub(&why)),
            other => other,
        })
    }
}

/// Why `text` does not decode with `seed`, naming the JSON path.
fn explain_malformed<'de, S: DeserializeSeed<'de>>(text: &'de str, seed: S) -> OntapError {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let decoded = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let inner = match decoded {
        Ok(_) => match de.end() {
            Ok(()) => return OntapError::Malformed("the body does not decode".into()),
            Err(e) => return OntapError::Malformed(e.to_string()),
        },
        Err(e) => e,
    };
    let path = track.path().to_string();
    if path == "." {
        OntapError::Malformed(inner.to_string())
    } else {
        OntapError::Malformed(format!("field `{path}`: {inner}"))
    }
}

/// The `{` bytes of `body`, those inside strings too: at least as many as
/// the objects it holds (15 µs for a 1,000-record page).
fn objects_in(body: &[u8]) -> usize {
    memchr::memchr_iter(b'{', body).count()
}

/// The most decoding `body` (holding at most `objects` objects) allocates,
/// apart from the records themselves: its strings, and the nested objects.
fn decoded_cost<T: Decoded>(body: &[u8], objects: usize) -> usize {
    let per_object = T::NESTED_OBJECT_BYTES.max(NESTED_OBJECT_BYTES);
    body.len()
        .saturating_add(objects.saturating_mul(per_object))
}

/// The bytes all responses being read and decoded may hold at once: the
/// worst case is this budget, not callers times `max_response_bytes`.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl MemoryBudget {
    /// A budget of `total` bytes.
    pub fn new(total: usize) -> Self {
        Self {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Adds `more` bytes to `reservation` now, or fails: waiting while
    /// holding a partly read body could leave every response waiting on the
    /// others.
    fn reserve(&self, reservation: &mut Reservation, more: usize) -> Result<(), OntapError> {
        if more == 0 {
            return Ok(());
        }
        let permit = u32::try_from(more)
            .ok()
            .and_then(|n| Arc::clone(&self.bytes).try_acquire_many_owned(n).ok())
            .ok_or(OntapError::MemoryBudget { budget: self.total })?;
        match &mut reservation.0 {
            Some(held) => held.merge(permit),
            None => reservation.0 = Some(permit),
        }
        Ok(())
    }
}

/// Bytes held against a client's memory budget; dropping it returns them.
#[derive(Debug, Default)]
pub struct Reservation(Option<OwnedSemaphorePermit>);

impl Reservation {
    /// The bytes reserved.
    pub fn bytes(&self) -> usize {
        self.0.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
    }
}

/// The room made at first for a body of unknown length (chunked): most
/// answers fit in it.
const FIRST_ROOM: usize = 64 * 1024;

/// Reads the body, at most `limit` bytes of it, each byte reserved from
/// `budget` before it is buffered. A body of unknown length that outgrows
/// [`FIRST_ROOM`] moves once into room for `limit` bytes, of which only the
/// pages written become resident: a buffer that doubled as it grew would
/// leave each outgrown copy resident until the allocator returns it,
/// nearly twice the body in all.
pub(super) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
    budget: &MemoryBudget,
    classify: impl Fn(reqwest::Error) -> OntapError,
) -> Result<(Bytes, Reservation), OntapError> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(OntapError::ResponseTooLarge { limit });
    }
    let declared = declared.map(|n| n as usize);
    let mut reservation = Reservation::default();
    budget.reserve(&mut reservation, declared.unwrap_or(0))?;
    let mut body = BytesMut::with_capacity(declared.unwrap_or(FIRST_ROOM.min(limit)));
    while let Some(chunk) = response.chunk().await.map_err(&classify)? {
        if body.len() + chunk.len() > limit {
            return Err(OntapError::ResponseTooLarge { limit });
        }
        let needed = (body.len() + chunk.len()).saturating_sub(reservation.bytes());
        budget.reserve(&mut reservation, needed)?;
        if declared.is_none() && body.capacity() - body.len() < chunk.len() {
            let mut room = BytesMut::with_capacity(limit);
            room.extend_from_slice(&body);
            body = room;
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), reservation))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &'static [u8], budget: Option<&MemoryBudget>) -> Response {
        Response {
            status: 200,
            body: Bytes::from_static(body),
            budget: budget.cloned(),
            ..Response::default()
        }
    }

    #[test]
    fn decoding_failure_names_the_json_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Record {
            #[allow(dead_code)]
            port: Option<u32>,
        }
        impl Decoded for Record {}
        let body = br#"{"records": [{"port": 1}, {"port": "x"}]}"#;
        let err = response(body, None)
            .json::<Collection<Record>>()
            .unwrap_err();
        assert!(err.to_string().contains("records[1].port"), "{err}");
        let err = response(body, None).collection::<Record>(10).unwrap_err();
        assert!(err.to_string().contains("records[1].port"), "{err}");
    }

    #[test]
    fn a_body_that_is_not_utf8_is_malformed() {
        let response = response(b"{\"records\": [{\"name\": \"\xff\"}]}", None);
        let err = response.json::<serde_json::Value>().unwrap_err();
        assert!(matches!(err, OntapError::Malformed(_)), "{err:?}");
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn a_page_past_its_record_limit_is_malformed_naming_max_records() {
        let err = response(br#"{"records": [{}, {}, {}]}"#, None)
            .collection::<serde_json::Value>(2)
            .unwrap_err();
        assert!(matches!(err, OntapError::Malformed(_)), "{err:?}");
        assert!(err.to_string().contains("`max_records`"), "{err}");
    }

    #[test]
    fn a_decoded_collection_holds_its_charge_until_dropped() {
        let budget = MemoryBudget::new(1 << 20);
        let body = br#"{"records": [{"a": "bc"}], "num_records": 1}"#;
        let page = response(body, Some(&budget))
            .collection::<serde_json::Value>(5)
            .unwrap();
        let charged =
            decoded_cost::<serde_json::Value>(body, 2) + 2 * size_of::<serde_json::Value>();
        assert_eq!(page.charge.bytes(), charged);
        assert_eq!(budget.bytes.available_permits(), (1 << 20) - charged);
        drop(page);
        assert_eq!(budget.bytes.available_permits(), 1 << 20);
    }

    #[test]
    fn a_body_that_would_decode_past_the_budget_is_refused_before_decoding() {
        let budget = MemoryBudget::new(1024);
        let body = br#"{"records": [{"sessions": [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}]}]}"#;
        assert!(body.len() < 1024);
        let err = response(body, Some(&budget))
            .collection::<serde_json::Value>(1)
            .unwrap_err();
        assert!(
            matches!(err, OntapError::MemoryBudget { budget: 1024 }),
            "{err:?}"
        );
        assert_eq!(budget.bytes.available_permits(), 1024, "nothing stays held");
    }

    #[test]
    fn every_object_is_counted_with_the_text_it_decodes_from() {
        let body = br#"{"a": [{}, {"b": "{"}]}"#;
        assert_eq!(objects_in(body), 4, "one inside a string, an upper bound");
        let per_object = <serde_json::Value as Decoded>::NESTED_OBJECT_BYTES;
        assert_eq!(
            decoded_cost::<serde_json::Value>(body, 4),
            body.len() + 4 * per_object
        );
    }

    #[test]
    fn a_json_value_object_is_charged_a_map_node_and_its_value_three_times_over() {
        let node_and_value = size_of::<serde_json::Value>() + 64;
        assert_eq!(
            <serde_json::Value as Decoded>::NESTED_OBJECT_BYTES,
            3 * node_and_value,
            "what a growing map holds while it moves, for one element"
        );
    }

    #[test]
    fn no_type_is_charged_less_than_the_floor_for_an_object() {
        #[derive(serde::Deserialize)]
        struct Small {}
        impl Decoded for Small {
            const NESTED_OBJECT_BYTES: usize = 0;
        }
        assert_eq!(decoded_cost::<Small>(b"{}", 1), 2 + NESTED_OBJECT_BYTES);
    }

    /// A body of `chunks` without a `Content-Length`.
    fn chunked(chunks: Vec<Bytes>) -> reqwest::Response {
        let stream = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
        reqwest::Response::from(http::Response::new(reqwest::Body::wrap_stream(stream)))
    }

    #[tokio::test]
    async fn a_body_of_unknown_length_past_the_first_room_is_read_whole() {
        let chunks: Vec<Bytes> = (0..5u8)
            .map(|i| Bytes::from(vec![b'a' + i; 40_000]))
            .collect();
        let budget = MemoryBudget::new(1 << 20);
        let lost = |e: reqwest::Error| OntapError::ConnectionLost(e.to_string());
        let (body, held) = read_limited(chunked(chunks.clone()), 1 << 20, &budget, lost)
            .await
            .unwrap();
        assert_eq!(body, chunks.concat());
        assert_eq!(held.bytes(), body.len());
    }

    #[tokio::test]
    async fn a_body_of_unknown_length_past_the_limit_is_too_large() {
        let chunks = vec![Bytes::from(vec![b'a'; 40_000]); 3];
        let budget = MemoryBudget::new(1 << 20);
        let lost = |e: reqwest::Error| OntapError::ConnectionLost(e.to_string());
        let err = read_limited(chunked(chunks), 100_000, &budget, lost)
            .await
            .unwrap_err();
        assert!(
            matches!(err, OntapError::ResponseTooLarge { limit: 100_000 }),
            "{err:?}"
        );
    }

    /// A body of `bytes` that says its length.
    fn declared(bytes: &'static [u8]) -> reqwest::Response {
        let response = http::Response::builder()
            .header(CONTENT_LENGTH, bytes.len())
            .body(reqwest::Body::from(bytes))
            .unwrap();
        reqwest::Response::from(response)
    }

    fn lost(e: reqwest::Error) -> OntapError {
        OntapError::ConnectionLost(e.to_string())
    }

    #[tokio::test]
    async fn a_body_declared_as_long_as_the_limit_is_read() {
        let budget = MemoryBudget::new(1 << 20);
        let (body, _) = read_limited(declared(b"0123456789"), 10, &budget, lost)
            .await
            .unwrap();
        assert_eq!(body, &b"0123456789"[..]);
    }

    #[tokio::test]
    async fn a_body_declared_past_the_limit_is_too_large_before_the_budget_is_asked() {
        // A budget too small for the declared length: refusing on the
        // length alone answers why, instead of blaming the budget.
        let budget = MemoryBudget::new(10);
        let err = read_limited(declared(b"0123456789a"), 10, &budget, lost)
            .await
            .unwrap_err();
        assert!(
            matches!(err, OntapError::ResponseTooLarge { limit: 10 }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_body_of_unknown_length_as_long_as_the_limit_is_read() {
        let chunks = vec![Bytes::from_static(b"01234"), Bytes::from_static(b"56789")];
        let budget = MemoryBudget::new(1 << 20);
        let (body, held) = read_limited(chunked(chunks), 10, &budget, lost)
            .await
            .unwrap();
        assert_eq!(body, &b"0123456789"[..]);
        assert_eq!(held.bytes(), 10);
    }

    #[test]
    fn a_reservation_past_the_budget_fails_at_once_and_holds_nothing() {
        let budget = MemoryBudget::new(10);
        let mut held = Reservation::default();
        budget.reserve(&mut held, 6).unwrap();
        let mut more = Reservation::default();
        assert!(budget.reserve(&mut more, 5).is_err());
        assert_eq!(more.bytes(), 0);
        budget.reserve(&mut held, 4).unwrap();
        assert_eq!(held.bytes(), 10);
    }
}
