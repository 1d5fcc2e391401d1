//! An SVM's name from its UUID, read from the cluster: a policy decides by
//! SVM name, and a request may name its SVM by UUID alone.

use serde_json::Value;

use super::{GatewayError, Upstream};
use crate::deadline::Deadline;
use crate::ontap::{ApiPath, CollectionPath, OntapError, Query};

/// Where ONTAP lists its SVMs.
const SVMS: CollectionPath = ApiPath::collection("/api/svm/svms");

/// The name of the SVM whose UUID is `uuid`, read now; `None` when the
/// cluster has no such SVM. Read each time, never remembered: a name read
/// earlier could since have been given to an SVM its caller may not reach,
/// and a name only ever grants access.
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
    match records.as_slice() {
        [] => Ok(None),
        [svm] => svm
            .get("name")
            .and_then(Value::as_str)
            .map(|name| Some(name.to_owned()))
            .ok_or_else(|| OntapError::Malformed("an SVM has no `name`".into()).into()),
        _ => Err(OntapError::Malformed(format!("several SVMs have UUID `{uuid}`")).into()),
    }
}
