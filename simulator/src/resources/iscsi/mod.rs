//! `/api/protocols/san/iscsi/services` (list, create) and `.../services/{svm.uuid}` (get,
//! update, delete); the sessions logged in to the services are in [`sessions`].
//!
//! Each handler validates the query, then the body, then checks the request against the cluster
//! under one lock, so a rejected request changes nothing and an accepted one is applied whole.

pub mod bodies;
pub mod metrics;
pub mod service;
pub mod session;
pub mod sessions;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde_json::{Value, json};

use crate::errors::{ApiError, SvmNamed, Unexpected, done_or_error};
use crate::http::media::Media;
use crate::http::params;
use crate::query::collection;
use crate::query::fields::Selection;
use crate::query::instance;
use crate::query::schema::{FieldSpec, FieldType, LinkSpec, SVM_LINK, Schema};
use crate::resources::iscsi::service::{IscsiService, target_name};
use crate::resources::model::{Cluster, SharedCluster, SvmState};
use crate::resources::request::{body_bytes, no_parameters};
use crate::time::clock::unix_secs;
use bodies::{ALIAS_MAX_CHARS, CreateBody};

/// Path of the collection.
pub const PATH: &str = "/api/protocols/san/iscsi/services";
/// Route of one service, named by its SVM's UUID.
pub const ITEM_PATH: &str = "/api/protocols/san/iscsi/services/{svm_uuid}";

const RETURN_RECORDS: &str = "return_records";

/// The pages' maxLength of `target.name` and `target.alias` (minLength is 1).
const TARGET_MAX_CHARS: usize = ALIAS_MAX_CHARS;

/// Every documented field; `metric.*` and `statistics.*` are expensive.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::new("svm.name", FieldType::String),
    FieldSpec::new("svm.uuid", FieldType::String),
    FieldSpec::new("enabled", FieldType::Boolean),
    FieldSpec::new("target.name", FieldType::String).length(1, TARGET_MAX_CHARS),
    FieldSpec::new("target.alias", FieldType::String).length(1, TARGET_MAX_CHARS),
    FieldSpec::new("metric.timestamp", FieldType::DateTime).expensive(),
    FieldSpec::new("metric.duration", FieldType::Duration).expensive(),
    FieldSpec::new("metric.status", FieldType::String).expensive(),
    FieldSpec::new("metric.iops.read", FieldType::Integer).expensive(),
    FieldSpec::new("metric.iops.write", FieldType::Integer).expensive(),
    FieldSpec::new("metric.iops.other", FieldType::Integer).expensive(),
    FieldSpec::new("metric.iops.total", FieldType::Integer).expensive(),
    FieldSpec::new("metric.latency.read", FieldType::Integer).expensive(),
    FieldSpec::new("metric.latency.write", FieldType::Integer).expensive(),
    FieldSpec::new("metric.latency.other", FieldType::Integer).expensive(),
    FieldSpec::new("metric.latency.total", FieldType::Integer).expensive(),
    FieldSpec::new("metric.throughput.read", FieldType::Integer).expensive(),
    FieldSpec::new("metric.throughput.write", FieldType::Integer).expensive(),
    FieldSpec::new("metric.throughput.total", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.timestamp", FieldType::DateTime).expensive(),
    FieldSpec::new("statistics.status", FieldType::String).expensive(),
    FieldSpec::new("statistics.iops_raw.read", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.iops_raw.write", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.iops_raw.other", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.iops_raw.total", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.latency_raw.read", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.latency_raw.write", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.latency_raw.other", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.latency_raw.total", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.throughput_raw.read", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.throughput_raw.write", FieldType::Integer).expensive(),
    FieldSpec::new("statistics.throughput_raw.total", FieldType::Integer).expensive(),
];

/// `metric._links.self`: the service's metrics collection.
const METRIC_LINK: LinkSpec = LinkSpec {
    object: "metric",
    href: metrics_href,
};

/// The services collection: key fields `svm.uuid` and `svm.name`, as the page's listing shows;
/// a service's own path, and so its `_links.self`, is named by its SVM's UUID.
pub const SCHEMA: Schema = Schema {
    path: PATH,
    fields: FIELDS,
    key_fields: &["svm.uuid", "svm.name"],
    default_fields: &[],
    identity: &["svm.uuid"],
    default_order: &[],
    parameters: &[],
    links: &[SVM_LINK, METRIC_LINK],
    path_keys: &["svm.uuid"],
};

fn metrics_href(record: &Value, _: &Value) -> Option<String> {
    Some(format!(
        "{PATH}/{}/metrics",
        record.get("svm")?.get("uuid")?.as_str()?
    ))
}

/// Lists the services.
pub async fn list(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    let record_cost = cluster.iteration_cost(uri.path());
    collection::get(&SCHEMA, &uri, &headers, record_cost, || {
        let now = unix_secs(cluster.now());
        cluster.with(|c| {
            c.iscsi_services
                .iter()
                .map(|service| c.iscsi_service_json(service, now))
                .collect()
        })
    })
}

/// Retrieves one service: an unknown SVM or an SVM without a service is an error of its own,
/// so the path never names nothing.
pub async fn get(State(cluster): State<SharedCluster>, uri: Uri, headers: HeaderMap) -> Response {
    instance::get_keyed(&SCHEMA, &uri, &headers, |key| {
        let svm_uuid = key.text("svm.uuid").unwrap_or_default();
        let now = unix_secs(cluster.now());
        cluster.with(|c| Ok(Some(c.iscsi_service_json(existing(c, svm_uuid)?, now))))
    })
}

/// Creates a service: 201 with `Location`, and the new record when `return_records=true`.
pub async fn create(
    State(cluster): State<SharedCluster>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = Media::from_headers(&headers);
    match create_service(&cluster, &uri, body, media) {
        Ok(response) => response,
        Err(error) => error.into_response_as(media),
    }
}

fn create_service(
    cluster: &SharedCluster,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
    media: Media,
) -> Result<Response, ApiError> {
    let return_records = return_records(uri)?;
    let body = bodies::parse_create(&body_bytes(body)?)?;
    let selection = Selection::parse_or(&SCHEMA, &[], &["*"])?;
    let now = cluster.now();
    let (svm_uuid, record) = cluster.with(|c| {
        let svm_uuid = validate_create(c, &body)?;
        let vserver_id = c.vserver_id(&svm_uuid).unwrap_or(0);
        let alias = body
            .alias
            .clone()
            .or_else(|| c.svm(&svm_uuid).map(|svm| svm.name.clone()));
        let service = IscsiService::new(
            svm_uuid.clone(),
            target_name(&svm_uuid, vserver_id),
            alias,
            body.enabled.unwrap_or(true),
            now,
        );
        let record = c.iscsi_service_json(&service, unix_secs(now));
        c.iscsi_services.push(service);
        Ok::<_, ApiError>((svm_uuid, record))
    })?;
    let body = if return_records {
        json!({
            "num_records": 1,
            "records": [collection::render(&SCHEMA, &selection, &record, media)],
        })
    } else {
        json!({})
    };
    let mut response = media.respond(StatusCode::CREATED, &body);
    if let Ok(location) = HeaderValue::from_str(&format!("{PATH}/{svm_uuid}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Checks a create request against the cluster, in this order: an SVM is named, the named SVM
/// exists (by UUID, then by name) and both names agree, the cluster is licensed, the SVM allows
/// iSCSI, is not configured for NVMe and is running, the cluster is not ASA r2, and the SVM has
/// no service yet. Returns the SVM's UUID.
fn validate_create(cluster: &Cluster, body: &CreateBody) -> Result<String, ApiError> {
    let by_uuid = body
        .svm_uuid
        .as_deref()
        .map(|uuid| {
            cluster
                .svm(uuid)
                .ok_or_else(|| ApiError::svm_does_not_exist(SvmNamed::ByUuid(uuid)))
        })
        .transpose()?;
    let by_name = body
        .svm_name
        .as_deref()
        .map(|name| {
            cluster
                .svm_named(name)
                .ok_or_else(|| ApiError::svm_does_not_exist(SvmNamed::ByName(name)))
        })
        .transpose()?;
    let svm = match (by_uuid, by_name) {
        (Some(a), Some(b)) if a.uuid != b.uuid => {
            return Err(ApiError::svm_mismatch(&a.uuid, &b.name));
        }
        (Some(svm), _) | (None, Some(svm)) => svm,
        (None, None) => return Err(ApiError::svm_not_specified()),
    };
    if !cluster.iscsi_licensed {
        return Err(ApiError::not_licensed());
    }
    if !svm.iscsi_allowed {
        return Err(ApiError::protocol_not_allowed(&svm.name));
    }
    if svm.nvme_configured {
        return Err(ApiError::svm_has_nvme(&svm.name));
    }
    if svm.state != SvmState::Running {
        return Err(ApiError::svm_stopped(&svm.name));
    }
    if cluster.asa_r2 {
        return Err(ApiError::not_on_asa_r2());
    }
    if cluster.iscsi_service(&svm.uuid).is_some() {
        return Err(ApiError::service_exists(&svm.name));
    }
    Ok(svm.uuid.clone())
}

/// Updates `enabled` and the target alias; `""` clears the alias. Disabling ends every iSCSI
/// session of the SVM (see [`session`]).
pub async fn update(
    State(cluster): State<SharedCluster>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = Media::from_headers(&headers);
    let result = (|| {
        no_parameters(&uri)?;
        let svm_uuid = svm_uuid_from(path)?;
        let update = bodies::parse_update(&body_bytes(body)?)?;
        let now = cluster.now();
        cluster.with(|c| {
            existing(c, &svm_uuid)?;
            if let Some(enabled) = update.enabled {
                c.set_iscsi_enabled_at(&svm_uuid, enabled, now);
            }
            let Some(service) = c.iscsi_service_mut(&svm_uuid) else {
                return Err(ApiError::no_service(&svm_uuid));
            };
            if let Some(alias) = update.alias {
                service.alias = Some(alias).filter(|a| !a.is_empty());
            }
            Ok(())
        })
    })();
    done_or_error(result, media)
}

/// Deletes a disabled service.
pub async fn delete(
    State(cluster): State<SharedCluster>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let media = Media::from_headers(&headers);
    let result = no_parameters(&uri).and_then(|()| {
        let svm_uuid = svm_uuid_from(path)?;
        cluster.with(|c| {
            if c.svm(&svm_uuid).is_none() {
                return Err(ApiError::svm_does_not_exist(SvmNamed::InPath(&svm_uuid)));
            }
            if c.asa_r2 {
                return Err(ApiError::not_on_asa_r2());
            }
            if existing(c, &svm_uuid)?.enabled {
                return Err(ApiError::service_enabled(&svm_uuid));
            }
            c.iscsi_services.retain(|s| s.svm_uuid != svm_uuid);
            c.iscsi_sessions.retain(|s| s.svm_uuid != svm_uuid);
            Ok(())
        })
    });
    done_or_error(result, media)
}

/// The service of the SVM named in a path: 404 when the SVM or its service does not exist.
pub fn existing<'c>(cluster: &'c Cluster, svm_uuid: &str) -> Result<&'c IscsiService, ApiError> {
    if cluster.svm(svm_uuid).is_none() {
        return Err(ApiError::svm_does_not_exist(SvmNamed::InPath(svm_uuid)));
    }
    cluster
        .iscsi_service(svm_uuid)
        .ok_or_else(|| ApiError::no_service(svm_uuid))
}

/// The `{svm_uuid}` path segment; axum only fails to extract it when it is not valid UTF-8.
pub fn svm_uuid_from(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(uuid)| uuid)
        .map_err(|rejection| ApiError::invalid_value("svm.uuid", "", &rejection.body_text()))
}

/// POST takes only `return_records` (default false).
fn return_records(uri: &Uri) -> Result<bool, ApiError> {
    let mut wanted = false;
    for (name, value) in params::decode(uri.query()) {
        if name != RETURN_RECORDS {
            return Err(ApiError::unexpected_argument(&name, Unexpected::Unknown));
        }
        wanted = match value.as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(ApiError::invalid_value(
                    RETURN_RECORDS,
                    &value,
                    "expected true or false",
                ));
            }
        };
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::model::Svm;

    const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
    const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";

    fn body(name: Option<&str>, uuid: Option<&str>) -> CreateBody {
        CreateBody {
            svm_name: name.map(str::to_owned),
            svm_uuid: uuid.map(str::to_owned),
            ..CreateBody::default()
        }
    }

    fn code(result: Result<String, ApiError>) -> (u16, String) {
        let error = result.expect_err("rejected");
        (error.status.as_u16(), error.code.unwrap_or_default())
    }

    /// A cluster where every check fails for `svm1`, so each step of the order shows by
    /// fixing the previous ones one at a time.
    fn hostile() -> Cluster {
        let mut cluster = Cluster::seed();
        cluster.iscsi_licensed = false;
        cluster.asa_r2 = true;
        let svm = svm1(&mut cluster);
        svm.iscsi_allowed = false;
        svm.nvme_configured = true;
        svm.state = SvmState::Stopped;
        cluster
    }

    fn svm1(cluster: &mut Cluster) -> &mut Svm {
        cluster
            .svms
            .iter_mut()
            .find(|s| s.uuid == SVM1)
            .expect("svm1")
    }

    #[test]
    fn create_checks_run_in_the_documented_order() {
        let mut cluster = hostile();
        let request = body(Some("svm1"), Some(SVM1));
        assert_eq!(
            code(validate_create(&cluster, &body(None, None))),
            (400, "2621707".into())
        );
        assert_eq!(
            code(validate_create(&cluster, &body(Some("nope"), Some(SVM1)))),
            (400, "2621462".into())
        );
        assert_eq!(
            code(validate_create(&cluster, &body(Some("svm2"), Some(SVM1)))),
            (400, "2621706".into())
        );
        assert_eq!(
            code(validate_create(&cluster, &request)),
            (400, "1115127".into())
        );
        cluster.iscsi_licensed = true;
        assert_eq!(
            code(validate_create(&cluster, &request)),
            (400, "2621507".into())
        );
        svm1(&mut cluster).iscsi_allowed = true;
        assert_eq!(
            code(validate_create(&cluster, &request)),
            (400, "5373966".into())
        );
        svm1(&mut cluster).nvme_configured = false;
        assert_eq!(
            code(validate_create(&cluster, &request)),
            (400, "5374893".into())
        );
        svm1(&mut cluster).state = SvmState::Running;
        assert_eq!(
            code(validate_create(&cluster, &request)),
            (400, "5376452".into())
        );
        cluster.asa_r2 = false;
        assert_eq!(validate_create(&cluster, &request).expect("valid"), SVM1);
    }

    #[test]
    fn second_service_for_an_svm_conflicts() {
        let cluster = Cluster::seed();
        assert_eq!(
            code(validate_create(&cluster, &body(None, Some(SVM2)))),
            (409, "5374077".into())
        );
    }

    #[test]
    fn unknown_svm_targets_the_field_that_named_it() {
        let cluster = Cluster::seed();
        let error = validate_create(&cluster, &body(None, Some("nope"))).expect_err("missing");
        assert_eq!(error.target.as_deref(), Some("svm.uuid"));
        let error = validate_create(&cluster, &body(Some("nope"), None)).expect_err("missing");
        assert_eq!(error.target.as_deref(), Some("svm.name"));
    }

    #[test]
    fn key_identity_and_link_fields_are_declared_fields() {
        for path in SCHEMA.key_fields.iter().chain(SCHEMA.identity) {
            assert!(SCHEMA.field(path).is_some(), "{path}");
        }
    }
}
