//! An SVM's name from its UUID, read from the cluster: a policy decides by
//! SVM name, and a request may name its SVM by UUID alone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{GatewayError, Upstream};
use crate::deadline::Deadline;
use crate::ontap::{ApiPath, CollectionPath, OntapError, Query};

/// Where ONTAP lists its SVMs.
const SVMS: CollectionPath = ApiPath::collection("/api/svm/svms");

/// How long a name read is remembered. An SVM renamed (or deleted and its
/// name reused) within it may be refused to a caller its new name lets in
/// for this long; it is never let in by its old name.
pub const SVM_NAME_MEMORY: Duration = Duration::from_secs(60);

/// UUIDs remembered per cluster at most; past it, all are forgotten and
/// read again. A cluster has a few hundred SVMs, and a caller asking for
/// made-up UUIDs must not grow this without bound.
pub const MAX_REMEMBERED_SVMS: usize = 4096;

/// The names one cluster's SVMs had when last read, by UUID: what refuses
/// a call naming its SVM by UUID with nothing sent upstream. A remembered
/// name only ever refuses; a call it would let through is decided by a
/// name read anew (see `service::authorize`).
///
/// Hand-written: a map with an age and a bound is all it needs; a caching
/// crate (moka) would bring a dependency tree for it.
#[derive(Debug, Default)]
pub struct SvmNames {
    read: Mutex<HashMap<String, Remembered>>,
}

/// What a read of one UUID found, and when.
#[derive(Debug, Clone)]
struct Remembered {
    /// The SVM's name; `None` when no SVM had the UUID.
    name: Option<String>,
    read_at: Instant,
}

impl SvmNames {
    /// What the last read of `uuid` found (`Some(None)`: no SVM had it),
    /// if it was within [`SVM_NAME_MEMORY`].
    pub fn remembered(&self, uuid: &str) -> Option<Option<String>> {
        let read = self
            .read
            .lock()
            .expect("the SVM names' lock is never poisoned");
        read.get(uuid)
            .filter(|entry| entry.read_at.elapsed() < SVM_NAME_MEMORY)
            .map(|entry| entry.name.clone())
    }

    fn remember(&self, uuid: &str, name: Option<String>) {
        let mut read = self
            .read
            .lock()
            .expect("the SVM names' lock is never poisoned");
        if read.len() >= MAX_REMEMBERED_SVMS && !read.contains_key(uuid) {
            read.retain(|_, entry| entry.read_at.elapsed() < SVM_NAME_MEMORY);
            if read.len() >= MAX_REMEMBERED_SVMS {
                read.clear();
            }
        }
        let read_at = Instant::now();
        read.insert(uuid.to_owned(), Remembered { name, read_at });
    }

    /// How many UUIDs are held, remembered or expired.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.read
            .lock()
            .expect("the SVM names' lock is never poisoned")
            .len()
    }
}

/// The name of the SVM whose UUID is `uuid`, read now (and remembered in
/// the cluster's [`SvmNames`]); `None` when the cluster has no such SVM.
pub async fn name_of(
    upstream: &Upstream,
    uuid: &str,
    deadline: Deadline,
) -> Result<Option<String>, GatewayError> {
    let mut query = Query::new();
    query.push("uuid", uuid).push("fields", "name");
    let response = upstream.client.get(&SVMS.path(), &query, deadline).await?;
    let body: Value = response.json()?;
    let records = body
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| OntapError::Malformed("the SVMs have no `records`".into()))?;
    let name = match records.as_slice() {
        [] => None,
        [svm] => Some(
            svm.get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| OntapError::Malformed("an SVM has no `name`".into()))?,
        ),
        _ => {
            let several = format!("several SVMs have UUID `{uuid}`");
            return Err(OntapError::Malformed(several).into());
        }
    };
    upstream.svm_names.remember(uuid, name.clone());
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "02c9e252-41be-11e9-81d5-00a0986138f7";

    #[tokio::test(start_paused = true)]
    async fn a_name_is_remembered_until_its_memory_ends() {
        let names = SvmNames::default();
        assert_eq!(names.remembered(UUID), None);
        names.remember(UUID, Some("vs1".to_owned()));
        assert_eq!(names.remembered(UUID), Some(Some("vs1".to_owned())));
        tokio::time::advance(SVM_NAME_MEMORY - Duration::from_secs(1)).await;
        assert_eq!(names.remembered(UUID), Some(Some("vs1".to_owned())));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(names.remembered(UUID), None);
    }

    #[test]
    fn a_uuid_no_svm_has_is_remembered_as_such() {
        let names = SvmNames::default();
        names.remember(UUID, None);
        assert_eq!(names.remembered(UUID), Some(None));
    }

    #[test]
    fn a_name_read_again_replaces_the_one_before() {
        let names = SvmNames::default();
        names.remember(UUID, Some("vs1".to_owned()));
        names.remember(UUID, Some("renamed".to_owned()));
        assert_eq!(names.remembered(UUID), Some(Some("renamed".to_owned())));
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn past_the_bound_everything_is_forgotten_and_the_new_one_kept() {
        let names = SvmNames::default();
        for i in 0..MAX_REMEMBERED_SVMS {
            names.remember(&format!("uuid-{i}"), None);
        }
        assert_eq!(names.len(), MAX_REMEMBERED_SVMS);
        names.remember("uuid-0", Some("vs1".to_owned()));
        assert_eq!(names.len(), MAX_REMEMBERED_SVMS, "one read again");
        names.remember(UUID, Some("vs1".to_owned()));
        assert_eq!(names.len(), 1);
        assert_eq!(names.remembered(UUID), Some(Some("vs1".to_owned())));
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_bound_the_expired_go_first() {
        let names = SvmNames::default();
        for i in 0..MAX_REMEMBERED_SVMS - 1 {
            names.remember(&format!("old-{i}"), None);
        }
        tokio::time::advance(SVM_NAME_MEMORY).await;
        names.remember("recent", Some("vs1".to_owned()));
        names.remember(UUID, Some("vs2".to_owned()));
        assert_eq!(names.len(), 2);
        assert_eq!(names.remembered("recent"), Some(Some("vs1".to_owned())));
    }
}
