//! What the build derives for each resource that names where it lives
//! (the `ontap.v1.resource` option of its message), and for the Stream and
//! Watch requests of its service: the glue the generic List, Stream and
//! Watch code runs on, so that a new endpoint is its `.proto`.

use super::schema::Schema;
use super::wire::OntapRecord;
use crate::ontap::CollectionPath;

/// A record ONTAP keeps in a collection.
pub trait Resource:
    OntapRecord + prost::Message + Clone + PartialEq + Default + Send + Sync + 'static
{
    /// The collection, e.g. `/api/protocols/cifs/sessions`.
    const COLLECTION: CollectionPath;
    /// Its fields.
    const SCHEMA: &'static Schema;
    /// The fields that name one record, in instance path order.
    const KEYS: &'static [&'static str];
    /// The instance path's template, its keys in braces: a metric's label.
    const INSTANCE: &'static str;
    /// The values of [`Self::KEYS`] in this record.
    fn key(&self) -> RecordKey;
    /// Whether `other`, the same record at another time, differs in a field
    /// that does not change with time alone.
    fn changed(&self, other: &Self) -> bool;
}

/// A record's keys, in [`Resource::KEYS`] order.
pub type RecordKey = Vec<KeyPart>;

/// One key's value. A number compares as a number, so that records are
/// ordered by key as ONTAP's identifiers count, not as their digits sort.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyPart {
    Number(u64),
    Text(String),
}

/// A Stream or Watch request, whose filters (and, for a Stream, mask,
/// order and return timeout) are those of its service's List request, by
/// the same names.
pub trait ListedBy {
    /// The List request of the same service.
    type List;
    /// The List request carrying this request's fields.
    fn list_request(&self) -> Self::List;
    /// A Watch request's poll interval; `None` for a Stream, or unset.
    fn poll_interval(&self) -> Option<&prost_types::Duration>;
}
