//! Get and Delete of one record of any resource with keys: the request's
//! key fields checked and encoded into the instance path, and for a Get
//! the record read within its read mask. What a generated service's
//! standard Get and Delete run.

use http::Method;

use super::expression::is_uuid;
use super::message_size;
use super::resource::{KeyPart, Resource};
use super::schema::ValueKind;
use super::wire::{OntapJson, OntapRecord};
use super::{FieldViolation, GatewayError, Upstream};
use crate::deadline::Deadline;
use crate::ontap::{ApiPath, OntapError, Query};

/// A Get or Delete request, which names one record by its keys.
pub trait InstanceRequest {
    /// The resource it names a record of.
    type Resource: Resource;
    /// Each key's request field and value, in the instance path's order.
    fn keys(&self) -> Vec<(&'static str, KeyPart)>;
    /// The read mask's paths; none for a Delete.
    fn read_mask(&self) -> &[String];
}

/// Reads the record `request` names.
pub async fn get<G: InstanceRequest>(
    upstream: &Upstream,
    request: &G,
    deadline: Deadline,
) -> Result<G::Resource, GatewayError> {
    let mut violations = Vec::new();
    let path = instance_path(request, &mut violations);
    let schema = G::Resource::SCHEMA;
    let selection = schema.selection(request.read_mask(), "read_mask", &mut violations);
    reject(violations)?;
    let mut query = Query::new();
    query.push("fields", selection.fields_param());
    let response = upstream.client.get(&path, &query, deadline).await?;
    let OntapJson(mut record) = response.json::<OntapJson<G::Resource>>()?;
    if let Some(missing) = missing_key(&record) {
        // ONTAP always answers a record's keys, whatever `fields` asked for.
        let why = format!("the record has no `{missing}`");
        return Err(OntapError::Malformed(why).into());
    }
    record.select(&selection);
    message_size::within_one_response(record)
}

/// Deletes the record (or, where ONTAP reads a key as a wildcard, the
/// records) `request` names.
pub async fn delete<D: InstanceRequest>(
    upstream: &Upstream,
    request: &D,
    deadline: Deadline,
) -> Result<(), GatewayError> {
    let mut violations = Vec::new();
    let path = instance_path(request, &mut violations);
    reject(violations)?;
    let query = Query::new();
    upstream
        .client
        .send(Method::DELETE, &path, &query, None, deadline)
        .await?;
    Ok(())
}

/// The instance path of the record `request` names, each key checked as
/// the resource's schema says it holds, and encoded as one segment.
fn instance_path<R: InstanceRequest>(request: &R, violations: &mut Vec<FieldViolation>) -> ApiPath {
    let schema = R::Resource::SCHEMA;
    let mut path = R::Resource::COLLECTION.path();
    for ((field, value), key) in request.keys().into_iter().zip(R::Resource::KEYS) {
        let segment = match value {
            KeyPart::Number(number) => number.to_string(),
            KeyPart::Text(text) => {
                let kind = schema.field(key).map(|f| f.kind);
                if text.is_empty() {
                    violations.push(FieldViolation::new(field, "is required"));
                } else if kind == Some(ValueKind::Uuid) && !is_uuid(&text) {
                    violations.push(FieldViolation::new(
                        field,
                        format!("`{text}` is not a UUID"),
                    ));
                } else if text.chars().any(char::is_control) {
                    let why = "must not hold control characters";
                    violations.push(FieldViolation::new(field, why));
                }
                text
            }
        };
        path = path.segment(&segment, R::Resource::INSTANCE);
    }
    path
}

/// The first key a record read from ONTAP lacks.
fn missing_key<R: Resource>(record: &R) -> Option<&'static str> {
    let keys = record.key();
    R::KEYS
        .iter()
        .zip(keys)
        .find(|(_, value)| matches!(value, KeyPart::Text(text) if text.is_empty()))
        .map(|(key, _)| *key)
}

fn reject(violations: Vec<FieldViolation>) -> Result<(), GatewayError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(GatewayError::InvalidRequest(violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::{CifsConnection, NodeRef};

    #[test]
    fn a_record_without_a_text_key_names_the_first_missing_one() {
        let record = CifsConnection {
            node: Some(NodeRef {
                uuid: Some("n".into()),
                name: None,
            }),
            ..CifsConnection::default()
        };
        assert_eq!(missing_key(&record), Some("svm.uuid"));
    }

    #[test]
    fn a_record_with_every_text_key_lacks_none() {
        let mut record = CifsConnection::default();
        record.node.get_or_insert_default().uuid = Some("n".into());
        record.svm.get_or_insert_default().uuid = Some("s".into());
        assert_eq!(missing_key(&record), None);
    }
}
