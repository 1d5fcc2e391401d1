//! The envelope every ONTAP collection GET (and POST with
//! `return_records=true`) answers with.

use serde::Deserialize;

/// `{"records": [...], "num_records": N, "_links": {"next": {"href": ...}}}`.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct Collection<T> {
    /// The records in this response; absent with `return_records=false`.
    #[serde(default)]
    pub records: Vec<T>,
    /// The number of records in this response, or the count of all matches
    /// with `return_records=false`.
    #[serde(default)]
    pub num_records: Option<u64>,
    /// HAL links; only `next` matters to the gateway.
    #[serde(default, rename = "_links")]
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
