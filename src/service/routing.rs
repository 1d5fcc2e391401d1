//! Where a call goes: the cluster its `x-ontap-cluster` metadata names (or
//! the only one), as the caller when that cluster takes callers' own
//! credentials. And whether its `x-ontap-svm` metadata, which a load
//! balancer hashes so that every watcher of one SVM reaches the replica
//! polling it, agrees with the request: a client that routes by one SVM and
//! asks about another would quietly defeat the sharing.

use std::borrow::Cow;

use http::header::AUTHORIZATION;
use tonic::Request;

use crate::proto::v1::{CreateIscsiServiceRequest, UpdateIscsiServiceRequest};
use crate::translate::{Clusters, FieldViolation, GatewayError, Upstream};

/// The metadata that picks a cluster.
pub const CLUSTER_METADATA: &str = "x-ontap-cluster";

/// The metadata a balancer routes by: the SVM the call concerns.
pub const SVM_METADATA: &str = "x-ontap-svm";

/// A request that may concern one SVM.
pub trait SvmScoped {
    /// The SVM's name and UUID as the request gives them; empty when it
    /// gives neither, and so concerns every SVM.
    fn svm(&self) -> [(&'static str, &str); 2];

    /// Narrows the request to the SVMs `filter` (ONTAP's query syntax)
    /// matches, in place of the SVM name filter it gives; `false` for a
    /// request without one (it names one record, or creates one), which
    /// stays as it is.
    fn narrow_to(&mut self, filter: String) -> bool {
        let _ = filter;
        false
    }
}

/// The cluster `request` goes to, checked against its `x-ontap-svm`, and
/// the call checked against the gateway's policy.
pub(super) async fn upstream_for<'c, Req: SvmScoped>(
    clusters: &'c Clusters,
    request: &mut Request<Req>,
) -> Result<Cow<'c, Upstream>, GatewayError> {
    let headers = request.metadata().as_ref();
    check_svm(
        headers.get(SVM_METADATA).map(text),
        &request.get_ref().svm(),
    )?;
    let name = headers.get(CLUSTER_METADATA).map(text);
    let upstream = clusters.pick(name.as_deref(), headers.get(AUTHORIZATION))?;
    super::authorize::authorize(request, &upstream).await?;
    Ok(upstream)
}

/// Metadata as text; bytes that are not are shown escaped.
fn text(value: &http::HeaderValue) -> Cow<'_, str> {
    match value.to_str() {
        Ok(text) => text.into(),
        Err(_) => value.as_bytes().escape_ascii().to_string().into(),
    }
}

/// `x-ontap-svm`, when set, must be the name or UUID the request gives.
fn check_svm(routed_by: Option<impl AsRef<str>>, svm: &[(&str, &str)]) -> Result<(), GatewayError> {
    let Some(routed_by) = routed_by else {
        return Ok(());
    };
    let routed_by = routed_by.as_ref();
    let given: Vec<_> = svm.iter().filter(|(_, value)| !value.is_empty()).collect();
    if given.iter().any(|(_, value)| *value == routed_by) {
        return Ok(());
    }
    let violation = match given.first() {
        Some((field, value)) => FieldViolation::new(
            *field,
            format!(
                "`{value}` disagrees with {SVM_METADATA} metadata `{routed_by}`: set the \
                 metadata to the SVM the request names, as the request names it"
            ),
        ),
        None => FieldViolation::new(
            SVM_METADATA,
            format!(
                "`{routed_by}` names one SVM but the request concerns every SVM: name the SVM \
                 in the request, or send no {SVM_METADATA}"
            ),
        ),
    };
    Err(GatewayError::InvalidRequest(vec![violation]))
}

macro_rules! service_svm {
    ($($request:ty),*) => {$(
        impl SvmScoped for $request {
            fn svm(&self) -> [(&'static str, &str); 2] {
                let svm = self.iscsi_service.as_ref().and_then(|s| s.svm.as_ref());
                let name = svm.and_then(|s| s.name.as_deref()).unwrap_or_default();
                let uuid = svm.and_then(|s| s.uuid.as_deref()).unwrap_or_default();
                [("iscsi_service.svm.name", name), ("iscsi_service.svm.uuid", uuid)]
            }
        }
    )*};
}

service_svm!(CreateIscsiServiceRequest, UpdateIscsiServiceRequest);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::SvmRef;

    const NAMED: [(&str, &str); 2] = [("svm_name", "vs1"), ("svm_uuid", "")];

    #[test]
    fn no_svm_metadata_is_no_check() {
        assert!(check_svm(None::<&str>, &NAMED).is_ok());
        assert!(check_svm(None::<&str>, &[]).is_ok());
    }

    #[test]
    fn svm_metadata_naming_the_requests_svm_agrees() {
        assert!(check_svm(Some("vs1"), &NAMED).is_ok());
        let by_uuid = [("svm_uuid", "19d04b8e"), ("svm_name", "")];
        assert!(check_svm(Some("19d04b8e"), &by_uuid).is_ok());
    }

    #[test]
    fn svm_metadata_naming_another_svm_blames_the_request_field() {
        let Err(GatewayError::InvalidRequest(violations)) = check_svm(Some("vs2"), &NAMED) else {
            panic!("expected a bad request");
        };
        assert_eq!(violations[0].field, "svm_name");
        assert!(violations[0].description.contains("`vs2`"));
    }

    #[test]
    fn svm_metadata_on_a_request_for_every_svm_blames_the_metadata() {
        let every = [("svm_name", ""), ("svm_uuid", "")];
        let Err(GatewayError::InvalidRequest(violations)) = check_svm(Some("vs1"), &every) else {
            panic!("expected a bad request");
        };
        assert_eq!(violations[0].field, SVM_METADATA);
    }

    #[test]
    fn a_create_names_its_svm_inside_the_service() {
        let request = CreateIscsiServiceRequest {
            iscsi_service: Some(crate::proto::v1::IscsiService {
                svm: Some(SvmRef {
                    name: Some("svm1".into()),
                    uuid: None,
                }),
                ..Default::default()
            }),
        };
        assert_eq!(request.svm()[0], ("iscsi_service.svm.name", "svm1"));
    }
}
