//! IscsiServices onto `/api/protocols/san/iscsi/services`: the collection,
//! one service (get, create, update, delete), and its metrics history.

use http::Method;

use super::Upstream;
use super::expression::is_uuid;
use super::list::{self, ListRequest, ListRequestFields};
use super::resource::Resource;
use super::resources::{ISCSI_SERVICE as SERVICE_SCHEMA, PERFORMANCE_METRIC as METRIC_SCHEMA};
use super::schema::{Selection, ValueKind, mask_paths};
use super::wire::{OntapJson, OntapRecord};
use super::{FieldViolation, GatewayError, Written};
use crate::deadline::Deadline;
use crate::ontap::iscsi::{CreateBody, SvmSelector, TargetBody, UpdateBody};
use crate::ontap::{ApiPath, Collection, OntapError, Query, time};
use crate::proto::v1::{
    CreateIscsiServiceRequest, GetIscsiServiceMetricRequest, IscsiService,
    ListIscsiServiceMetricsRequest, ListIscsiServiceMetricsResponse, MetricInterval,
    PerformanceMetric, UpdateIscsiServiceRequest,
};

/// ONTAP's error code for "no metrics are available for the requested
/// object", which the metrics collection answers before its first sample.
const NO_METRICS_YET: &str = "8585947";

/// The update_mask paths ONTAP can change, which `*` stands for.
const UPDATABLE: &[&str] = &["enabled", "target.alias"];

/// Creates an SVM's iSCSI service and returns the whole service, read
/// back from ONTAP.
///
/// ONTAP's POST record is not the whole service (the page's example has
/// no `enabled`), so it only tells which SVM the service is on. Once ONTAP
/// has accepted the POST the service exists, so a read-back that fails is
/// [`GatewayError::NotReadBack`], saying so, never a partial answer.
pub async fn create(
    upstream: &Upstream,
    request: &CreateIscsiServiceRequest,
    deadline: Deadline,
) -> Result<IscsiService, GatewayError> {
    let body = create_body(request).map_err(GatewayError::InvalidRequest)?;
    let mut query = Query::new();
    query.push("return_records", "true");
    let response = upstream
        .client
        .send(
            Method::POST,
            &IscsiService::COLLECTION.path(),
            &query,
            Some(json(&body)),
            deadline,
        )
        .await
        .map_err(blame_body_field)?;
    let uuid = body
        .svm
        .uuid
        .clone()
        .or_else(|| created_uuid(&response.body))
        .or_else(|| response.location.as_deref().and_then(uuid_from_location));
    let not_read_back = |source| GatewayError::NotReadBack {
        resource: service_of(uuid.as_deref().or(body.svm.name.as_deref())),
        written: Written::Created,
        source,
    };
    let Some(uuid) = &uuid else {
        return Err(not_read_back(OntapError::Malformed(
            "the reply to the create names no SVM UUID to read the service back by".into(),
        )));
    };
    read_service(upstream, uuid, &Selection::All, deadline)
        .await
        .map_err(not_read_back)
}

/// One SVM's service: `/api/protocols/san/iscsi/services/{svm.uuid}`.
fn service_path(svm_uuid: &str) -> ApiPath {
    let collection = IscsiService::COLLECTION.path();
    collection.segment(svm_uuid, IscsiService::INSTANCE)
}

/// A service's metrics history.
fn metrics_path(svm_uuid: &str) -> ApiPath {
    service_path(svm_uuid).segment(
        "metrics",
        "/api/protocols/san/iscsi/services/{svm.uuid}/metrics",
    )
}

/// One sample of a service's metrics history, by its RFC 3339 timestamp.
fn metric_path(svm_uuid: &str, timestamp: jiff::Timestamp) -> ApiPath {
    metrics_path(svm_uuid).segment(
        &timestamp.to_string(),
        "/api/protocols/san/iscsi/services/{svm.uuid}/metrics/{timestamp}",
    )
}

/// The SVM UUID in a create reply with `return_records=true`; `None` when
/// ONTAP sent no record (202, an older release) or the body is unreadable.
fn created_uuid(body: &[u8]) -> Option<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    match serde_json::from_slice::<Collection<OntapJson<IscsiService>>>(body) {
        Ok(created) => created.records.into_iter().next()?.0.svm?.uuid,
        Err(e) => {
            tracing::warn!("iSCSI service created, but the reply is unreadable: {e}");
            None
        }
    }
}

/// How a [`GatewayError::NotReadBack`] names the service.
fn service_of(svm: Option<&str>) -> String {
    format!("the iSCSI service of SVM `{}`", svm.unwrap_or_default())
}

/// Applies the update mask and returns the whole service after the change,
/// read back from ONTAP.
///
/// Once ONTAP has accepted the PATCH the change is made, so a read-back
/// that fails is [`GatewayError::NotReadBack`], saying so, never the
/// request's fields answered as if they were the service.
pub async fn update(
    upstream: &Upstream,
    request: &UpdateIscsiServiceRequest,
    deadline: Deadline,
) -> Result<IscsiService, GatewayError> {
    let (uuid, body) = update_body(request).map_err(GatewayError::InvalidRequest)?;
    upstream
        .client
        .send(
            Method::PATCH,
            &service_path(&uuid),
            &Query::new(),
            Some(json(&body)),
            deadline,
        )
        .await
        .map_err(blame_body_field)?;
    read_service(upstream, &uuid, &Selection::All, deadline)
        .await
        .map_err(|source| GatewayError::NotReadBack {
            resource: service_of(Some(&uuid)),
            written: Written::Updated,
            source,
        })
}

/// Lists one page of a service's metrics history.
pub async fn list_metrics(
    upstream: &Upstream,
    request: &ListIscsiServiceMetricsRequest,
    deadline: Deadline,
) -> Result<ListIscsiServiceMetricsResponse, GatewayError> {
    let r = request;
    let mut violations = Vec::new();
    check_uuid("svm_uuid", &r.svm_uuid, &mut violations);
    let interval = match MetricInterval::try_from(r.interval) {
        Ok(interval) => interval_param(interval),
        Err(_) => {
            violations.push(FieldViolation::new(
                "interval",
                format!("{} is not a MetricInterval", r.interval),
            ));
            None
        }
    };
    reject(violations)?;
    let extra = interval.map(|i| ("interval", i)).into_iter().collect();
    let list_request = ListRequest::of(request, extra);
    let path = metrics_path(&r.svm_uuid);
    let page = list::fetch_or_empty(
        upstream,
        &METRIC_SCHEMA,
        &path,
        &list_request,
        deadline,
        |e| e.ontap_code() == Some(NO_METRICS_YET),
    )
    .await?;
    Ok(ListIscsiServiceMetricsRequest::response(page))
}

/// Gets the history sample taken at one instant.
pub async fn get_metric(
    upstream: &Upstream,
    request: &GetIscsiServiceMetricRequest,
    deadline: Deadline,
) -> Result<PerformanceMetric, GatewayError> {
    let mut violations = Vec::new();
    check_uuid("svm_uuid", &request.svm_uuid, &mut violations);
    let instant = match &request.timestamp {
        None => {
            violations.push(FieldViolation::new("timestamp", "is required"));
            None
        }
        Some(t) => time::whole_second(t.seconds, t.nanos)
            .map_err(|why| violations.push(FieldViolation::new("timestamp", why)))
            .ok(),
    };
    let selection = METRIC_SCHEMA.selection(
        mask_paths(request.read_mask.as_ref()),
        "read_mask",
        &mut violations,
    );
    let (Some(instant), true) = (instant, violations.is_empty()) else {
        return Err(GatewayError::InvalidRequest(violations));
    };
    let mut query = Query::new();
    query.push("fields", selection.fields_param());
    let response = upstream
        .client
        .get(&metric_path(&request.svm_uuid, instant), &query, deadline)
        .await?;
    let OntapJson(mut metric) = response.json::<OntapJson<PerformanceMetric>>()?;
    if metric.timestamp.is_none() {
        return Err(OntapError::Malformed("the sample has no `timestamp`".into()).into());
    }
    metric.select(&selection);
    Ok(metric)
}

/// One service, holding only the selected fields, failing only as ONTAP or the way to it can.
async fn read_service(
    upstream: &Upstream,
    svm_uuid: &str,
    selection: &Selection,
    deadline: Deadline,
) -> Result<IscsiService, OntapError> {
    let mut query = Query::new();
    query.push("fields", selection.fields_param());
    let response = upstream
        .client
        .get(&service_path(svm_uuid), &query, deadline)
        .await?;
    let OntapJson(mut service) = response.json::<OntapJson<IscsiService>>()?;
    // ONTAP always answers a record's key, whatever `fields` asked for.
    if service.svm.as_ref().and_then(|s| s.uuid.as_ref()).is_none() {
        return Err(OntapError::Malformed(
            "the service has no `svm.uuid`".into(),
        ));
    }
    service.select(selection);
    Ok(service)
}

/// The POST body. Output-only fields (`target.name`, `metric`,
/// `statistics`) are ignored, as AIP-203 asks.
fn create_body(request: &CreateIscsiServiceRequest) -> Result<CreateBody, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let Some(service) = &request.iscsi_service else {
        return Err(vec![FieldViolation::new("iscsi_service", "is required")]);
    };
    let svm = service.svm.clone().unwrap_or_default();
    if svm.uuid.is_none() && svm.name.is_none() {
        violations.push(FieldViolation::new(
            "iscsi_service.svm",
            "give svm.name or svm.uuid",
        ));
    }
    if let Some(uuid) = &svm.uuid {
        check_uuid("iscsi_service.svm.uuid", uuid, &mut violations);
    }
    if let Some(name) = &svm.name {
        check_name("iscsi_service.svm.name", name, &mut violations);
    }
    let alias = service.target.as_ref().and_then(|t| t.alias.clone());
    if let Some(alias) = &alias {
        check_alias("iscsi_service.target.alias", alias, false, &mut violations);
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(CreateBody {
        svm: SvmSelector {
            name: svm.name,
            uuid: svm.uuid,
        },
        enabled: service.enabled,
        target: alias.map(|alias| TargetBody { alias }),
    })
}

/// The SVM UUID and PATCH body. The mask may name `enabled`,
/// `target.alias`, `target` (its updatable fields) or `*` (every updatable
/// field); an empty mask updates what is set. Output-only fields, in the
/// service or named by the mask, are ignored (AIP-161, AIP-203), so a
/// client may send back every path of a service it read; a mask that then
/// names nothing to update is refused, as an empty one with nothing set is.
fn update_body(
    request: &UpdateIscsiServiceRequest,
) -> Result<(String, UpdateBody), Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let Some(service) = &request.iscsi_service else {
        return Err(vec![FieldViolation::new("iscsi_service", "is required")]);
    };
    let uuid = service
        .svm
        .as_ref()
        .and_then(|s| s.uuid.clone())
        .unwrap_or_default();
    check_uuid("iscsi_service.svm.uuid", &uuid, &mut violations);
    let alias = service.target.as_ref().and_then(|t| t.alias.clone());
    let mut paths: Vec<&str> = Vec::new();
    match &request.update_mask {
        Some(mask) if !mask.paths.is_empty() => {
            for (i, path) in mask.paths.iter().enumerate() {
                match expand_update_path(path) {
                    Ok(expanded) => paths.extend_from_slice(expanded),
                    Err(why) => {
                        violations.push(FieldViolation::new(format!("update_mask.paths[{i}]"), why))
                    }
                }
            }
            if paths.is_empty() && violations.is_empty() {
                violations.push(FieldViolation::new(
                    "update_mask",
                    "names only output-only fields, which are ignored, so nothing to update: \
                     name enabled and/or target.alias",
                ));
            }
        }
        _ => {
            if service.enabled.is_some() {
                paths.push("enabled");
            }
            if alias.is_some() {
                paths.push("target.alias");
            }
            if paths.is_empty() {
                violations.push(FieldViolation::new(
                    "update_mask",
                    "names nothing to update: set enabled and/or target.alias",
                ));
            }
        }
    }
    paths.sort_unstable();
    paths.dedup();
    let mut body = UpdateBody::default();
    for path in paths {
        if path == "enabled" {
            match service.enabled {
                Some(enabled) => body.enabled = Some(enabled),
                None => violations.push(FieldViolation::new(
                    "iscsi_service.enabled",
                    "is in update_mask but not set",
                )),
            }
        } else {
            let alias = alias.clone().unwrap_or_default();
            check_alias("iscsi_service.target.alias", &alias, true, &mut violations);
            body.target = Some(TargetBody { alias });
        }
    }
    if violations.is_empty() {
        Ok((uuid, body))
    } else {
        Err(violations)
    }
}

/// The updatable fields an update_mask path stands for (none for an
/// output-only field, which is ignored), or why it is refused.
fn expand_update_path(path: &str) -> Result<&'static [&'static str], String> {
    match path {
        "*" => Ok(UPDATABLE),
        "enabled" => Ok(&UPDATABLE[..1]),
        "target" | "target.alias" => Ok(&UPDATABLE[1..]),
        "svm" | "svm.uuid" | "svm.name" => Err(format!(
            "`{path}` identifies the service and cannot be changed"
        )),
        _ if is_output_only(path) => Ok(&[]),
        _ => Err(format!(
            "`{path}` is not a field of IscsiService; only enabled and target.alias can be updated"
        )),
    }
}

/// Whether `path` names an output-only field of IscsiService: any of
/// ONTAP's fields but the SVM and the updatable ones (`target.name`,
/// `metric...`, `statistics...`), or the gateway's own `<enum>_text` beside
/// one of them (`metric.status_text`), which the schema leaves out.
fn is_output_only(path: &str) -> bool {
    let settable = matches!(path, "enabled" | "target" | "target.alias")
        || path == "svm"
        || path.starts_with("svm.");
    let ontaps = SERVICE_SCHEMA.field(path).is_some() && !settable;
    ontaps
        || path.strip_suffix("_text").is_some_and(|enum_field| {
            SERVICE_SCHEMA
                .field(enum_field)
                .is_some_and(|f| matches!(f.kind, ValueKind::Enum(_)))
        })
}

/// Checks a required SVM UUID; named by `field` in the violation.
pub(crate) fn check_uuid(field: &str, value: &str, violations: &mut Vec<FieldViolation>) {
    if value.is_empty() {
        violations.push(FieldViolation::new(field, "is required"));
    } else if !is_uuid(value) {
        violations.push(FieldViolation::new(
            field,
            format!("`{value}` is not a UUID"),
        ));
    }
}

fn check_name(field: &str, value: &str, violations: &mut Vec<FieldViolation>) {
    if value.is_empty() || value.len() > 255 || value.chars().any(|c| c.is_control()) {
        violations.push(FieldViolation::new(
            field,
            "must be 1 to 255 printable characters",
        ));
    }
}

/// The page: 1 to 128 characters, any printable character except space;
/// in an update, an empty alias clears it. "Space" is read as any Unicode
/// whitespace (a no-break space too), which is what the simulator enforces.
fn check_alias(field: &str, alias: &str, may_clear: bool, violations: &mut Vec<FieldViolation>) {
    let max = alias_max_chars();
    let length = alias.chars().count();
    if length == 0 && may_clear {
        return;
    }
    if length == 0 || length > max {
        violations.push(FieldViolation::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    } else if alias.chars().any(|c| c.is_whitespace() || c.is_control()) {
        violations.push(FieldViolation::new(
            field,
            "must be printable characters without whitespace",
        ));
    }
}

/// The alias's maxLength, as `iscsi_services.proto` annotates it.
fn alias_max_chars() -> usize {
    match SERVICE_SCHEMA.field("target.alias").map(|f| f.kind) {
        Some(ValueKind::BoundedText { max_chars }) => max_chars,
        other => unreachable!("target.alias is annotated with a max_length, not {other:?}"),
    }
}

fn reject(violations: Vec<FieldViolation>) -> Result<(), GatewayError> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(GatewayError::InvalidRequest(violations))
    }
}

fn interval_param(interval: MetricInterval) -> Option<&'static str> {
    match interval {
        MetricInterval::Unspecified => None,
        MetricInterval::OneHour => Some("1h"),
        MetricInterval::OneDay => Some("1d"),
        MetricInterval::OneWeek => Some("1w"),
        MetricInterval::OneMonth => Some("1m"),
        MetricInterval::OneYear => Some("1y"),
    }
}

/// The SVM UUID at the end of a `Location` such as
/// `/api/protocols/san/iscsi/services/<uuid>`.
fn uuid_from_location(location: &str) -> Option<String> {
    let last = location.trim_end_matches('/').rsplit('/').next()?;
    is_uuid(last).then(|| last.to_owned())
}

/// Blames a body field ONTAP names (`svm.name`) as the request field
/// (`iscsi_service.svm.name`).
fn blame_body_field(source: OntapError) -> GatewayError {
    GatewayError::upstream(source, |target| {
        SERVICE_SCHEMA
            .field(target)
            .map(|f| format!("iscsi_service.{}", f.path))
    })
}

fn json<T: serde::Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(body).expect("request bodies always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::{IscsiTarget, SvmRef};
    use prost_types::FieldMask;

    const UUID: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";

    #[test]
    fn paths_encode_the_svm_uuid_as_one_segment() {
        assert_eq!(
            service_path("a/b?c").as_str(),
            "/api/protocols/san/iscsi/services/a%2Fb%3Fc"
        );
    }

    #[test]
    fn metric_path_carries_an_encoded_rfc3339_timestamp() {
        let t = crate::ontap::time::parse_timestamp("2017-01-25 11:20:15 +0000").unwrap();
        assert_eq!(
            metric_path("u", t).as_str(),
            "/api/protocols/san/iscsi/services/u/metrics/2017-01-25T11%3A20%3A15Z"
        );
    }

    fn update(service: IscsiService, paths: &[&str]) -> Result<(String, UpdateBody), Vec<String>> {
        update_body(&UpdateIscsiServiceRequest {
            iscsi_service: Some(service),
            update_mask: Some(FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        })
        .map_err(|v| v.into_iter().map(|v| v.field).collect())
    }

    fn svm() -> Option<SvmRef> {
        Some(SvmRef {
            uuid: Some(UUID.into()),
            name: None,
        })
    }

    #[test]
    fn empty_alias_in_the_mask_clears_it() {
        let (_, body) = update(
            IscsiService {
                svm: svm(),
                ..Default::default()
            },
            &["target.alias"],
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"target":{"alias":""}}"#
        );
    }

    #[test]
    fn path_outside_the_fields_is_named() {
        let err = update(
            IscsiService {
                svm: svm(),
                ..Default::default()
            },
            &["target.nickname"],
        )
        .unwrap_err();
        assert_eq!(err, ["update_mask.paths[0]"]);
    }

    #[test]
    fn masked_enabled_must_be_set() {
        let err = update(
            IscsiService {
                svm: svm(),
                ..Default::default()
            },
            &["enabled"],
        )
        .unwrap_err();
        assert_eq!(err, ["iscsi_service.enabled"]);
    }

    #[test]
    fn empty_mask_updates_what_is_set() {
        let service = IscsiService {
            svm: svm(),
            enabled: Some(false),
            ..Default::default()
        };
        let (uuid, body) = update(service, &[]).unwrap();
        assert_eq!(uuid, UUID);
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"enabled":false}"#
        );
    }

    #[test]
    fn alias_with_a_space_is_rejected() {
        let service = IscsiService {
            svm: svm(),
            target: Some(IscsiTarget {
                alias: Some("my alias".into()),
                name: None,
            }),
            ..Default::default()
        };
        assert_eq!(
            update(service, &["target.alias"]).unwrap_err(),
            ["iscsi_service.target.alias"]
        );
    }

    #[test]
    fn create_needs_an_svm() {
        let err = create_body(&CreateIscsiServiceRequest {
            iscsi_service: Some(IscsiService::default()),
        })
        .unwrap_err();
        let fields: Vec<_> = err.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["iscsi_service.svm"]);
    }

    #[test]
    fn create_ignores_output_only_fields() {
        let body = create_body(&CreateIscsiServiceRequest {
            iscsi_service: Some(IscsiService {
                svm: svm(),
                target: Some(IscsiTarget {
                    name: Some("iqn.x".into()),
                    alias: None,
                }),
                metric: Some(PerformanceMetric::default()),
                statistics: Some(crate::proto::v1::PerformanceMetricRaw::default()),
                ..Default::default()
            }),
        })
        .unwrap();
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            format!(r#"{{"svm":{{"uuid":"{UUID}"}}}}"#)
        );
    }

    fn full_service() -> IscsiService {
        IscsiService {
            svm: svm(),
            enabled: Some(true),
            target: Some(IscsiTarget {
                name: Some("iqn.ignored".into()),
                alias: Some("new".into()),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn star_mask_updates_every_updatable_field() {
        let (_, body) = update(full_service(), &["*"]).unwrap();
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"enabled":true,"target":{"alias":"new"}}"#
        );
    }

    #[test]
    fn star_mask_needs_enabled_and_clears_an_unset_alias() {
        let service = IscsiService {
            svm: svm(),
            ..Default::default()
        };
        assert_eq!(
            update(service.clone(), &["*"]).unwrap_err(),
            ["iscsi_service.enabled"]
        );
        let (_, body) = update(
            IscsiService {
                enabled: Some(false),
                ..service
            },
            &["*"],
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"enabled":false,"target":{"alias":""}}"#
        );
    }

    #[test]
    fn target_mask_updates_the_alias_only() {
        let (_, body) = update(full_service(), &["target"]).unwrap();
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"target":{"alias":"new"}}"#
        );
    }

    #[test]
    fn mask_naming_an_output_only_field_ignores_it() {
        for path in [
            "target.name",
            "metric",
            "metric.iops.read",
            "statistics.iops_raw.read",
            "metric.status_text",
            "statistics.status_text",
        ] {
            let (_, body) = update(full_service(), &["enabled", path]).unwrap();
            assert_eq!(
                serde_json::to_string(&body).unwrap(),
                r#"{"enabled":true}"#,
                "{path}"
            );
        }
    }

    #[test]
    fn mask_naming_only_output_only_fields_has_nothing_to_update() {
        assert_eq!(
            update(full_service(), &["metric", "target.name"]).unwrap_err(),
            ["update_mask"]
        );
    }

    #[test]
    fn mask_path_that_only_looks_like_a_field_is_refused() {
        for path in [
            "metric.nope",
            "target.name_text",
            "enabled_text",
            "metric.iops_text",
        ] {
            assert_eq!(
                update(full_service(), &["enabled", path]).unwrap_err(),
                ["update_mask.paths[1]"],
                "{path}"
            );
        }
    }

    #[test]
    fn mask_naming_the_svm_or_an_unknown_field_is_refused() {
        assert_eq!(
            update(full_service(), &["svm.name", "nope"]).unwrap_err(),
            ["update_mask.paths[0]", "update_mask.paths[1]"]
        );
    }

    #[test]
    fn mask_naming_the_svm_says_it_identifies_the_service() {
        for path in ["svm", "svm.uuid", "svm.name"] {
            let why = expand_update_path(path).unwrap_err();
            assert!(why.contains("identifies the service"), "{why}");
        }
    }

    #[test]
    fn empty_mask_ignores_output_only_fields() {
        let service = IscsiService {
            svm: svm(),
            target: Some(IscsiTarget {
                name: Some("iqn.ignored".into()),
                alias: None,
            }),
            metric: Some(PerformanceMetric::default()),
            ..Default::default()
        };
        assert_eq!(update(service, &[]).unwrap_err(), ["update_mask"]);
    }

    #[test]
    fn alias_with_a_no_break_space_is_rejected() {
        let mut violations = Vec::new();
        check_alias("a", "my\u{a0}alias", false, &mut violations);
        assert_eq!(violations.len(), 1);
    }

    #[test]
    fn alias_of_129_characters_is_too_long() {
        let mut violations = Vec::new();
        check_alias("a", &"x".repeat(129), false, &mut violations);
        check_alias("b", &"x".repeat(128), false, &mut violations);
        let fields: Vec<_> = violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["a"]);
    }

    #[test]
    fn location_yields_the_svm_uuid() {
        assert_eq!(
            uuid_from_location(&format!("/api/protocols/san/iscsi/services/{UUID}")).as_deref(),
            Some(UUID)
        );
        assert_eq!(uuid_from_location("/api/elsewhere"), None);
    }
}
