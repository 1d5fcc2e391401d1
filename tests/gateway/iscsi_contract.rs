//! The gRPC contract's conventions (Google's AIPs) for IscsiServices, end to
//! end: output-only fields, update masks, and what a write answers when ONTAP
//! made the change but did not say enough to read it back (the read-back's
//! own failures are in tests/iscsi_services.rs).

use crate::common::{Harness, SVM2_UUID, bad_fields, mask, svm_named, svm_with_uuid};
use http::Method;
use ontap_grpc_gateway::proto::v1::{
    CreateIscsiServiceRequest, GetIscsiServiceRequest, IscsiService, IscsiTarget,
    PerformanceMetric, PerformanceMetricRaw, UpdateIscsiServiceRequest,
};
use ontap_simulator::{Fault, FaultKind};
use tonic::Code;

const SERVICES: &str = "/api/protocols/san/iscsi/services";

/// A fault on the next request with `method` under `path`.
fn once_on(method: Method, path: &str, kind: FaultKind) -> Fault {
    Fault {
        method: Some(method),
        path_prefix: Some(path.to_owned()),
        kind,
        times: Some(1),
    }
}

/// A 201 to the next POST of a service, with `body`, and no `Location`.
fn created_without_location(body: &[u8]) -> Fault {
    once_on(
        Method::POST,
        SERVICES,
        FaultKind::Raw {
            status: 201,
            content_type: "application/hal+json".into(),
            body: body.to_vec(),
        },
    )
}

/// What the simulator holds for an SVM's service: (enabled, alias).
fn stored(h: &Harness, svm_uuid: &str) -> (bool, Option<String>) {
    h.simulator.cluster().with(|c| {
        let s = c
            .iscsi_services
            .iter()
            .find(|s| s.svm_uuid == svm_uuid)
            .expect("the service exists");
        (s.enabled, s.alias.clone())
    })
}

fn target(name: Option<&str>, alias: Option<&str>) -> Option<IscsiTarget> {
    Some(IscsiTarget {
        name: name.map(str::to_owned),
        alias: alias.map(str::to_owned),
    })
}

fn update(service: IscsiService, paths: &[&str]) -> UpdateIscsiServiceRequest {
    UpdateIscsiServiceRequest {
        iscsi_service: Some(service),
        update_mask: mask(paths),
    }
}

/// Updates svm2's service to `enabled` and `alias` under `paths`.
async fn update_svm2(
    h: &Harness,
    enabled: bool,
    alias: &str,
    paths: &[&str],
) -> Result<IscsiService, tonic::Status> {
    h.iscsi()
        .await
        .update_iscsi_service(update(
            IscsiService {
                svm: svm_with_uuid(SVM2_UUID),
                enabled: Some(enabled),
                target: target(None, Some(alias)),
                ..Default::default()
            },
            paths,
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Creates `service` through the gateway; the call must succeed.
async fn create(h: &Harness, service: IscsiService) -> IscsiService {
    h.iscsi()
        .await
        .create_iscsi_service(CreateIscsiServiceRequest {
            iscsi_service: Some(service),
        })
        .await
        .expect("the create succeeds")
        .into_inner()
}

#[tokio::test]
async fn create_ignores_output_only_fields() {
    let h = Harness::start().await;
    let created = create(
        &h,
        IscsiService {
            svm: svm_named("svm1"),
            target: target(Some("iqn.chosen-by-the-caller"), None),
            metric: Some(PerformanceMetric::default()),
            statistics: Some(PerformanceMetricRaw::default()),
            ..Default::default()
        },
    )
    .await;
    let name = created.target.unwrap().name.unwrap();
    assert!(
        name.starts_with("iqn.1992-08.com.netapp:sn.19d04b8e94d711e88370005056b48fd2:vs."),
        "ONTAP generated the name: {name}"
    );
}

#[tokio::test]
async fn update_ignores_output_only_fields_it_is_sent() {
    let h = Harness::start().await;
    let updated = h
        .iscsi()
        .await
        .update_iscsi_service(update(
            IscsiService {
                svm: svm_with_uuid(SVM2_UUID),
                enabled: Some(false),
                target: target(Some("iqn.chosen-by-the-caller"), None),
                metric: Some(PerformanceMetric::default()),
                ..Default::default()
            },
            &["enabled"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.enabled, Some(false));
    assert_ne!(
        updated.target.unwrap().name.as_deref(),
        Some("iqn.chosen-by-the-caller")
    );
}

#[tokio::test]
async fn star_update_mask_sets_every_updatable_field() {
    let h = Harness::start().await;
    let updated = update_svm2(&h, false, "starred", &["*"]).await.unwrap();
    assert_eq!(updated.enabled, Some(false));
    assert_eq!(updated.target.unwrap().alias.as_deref(), Some("starred"));
    assert_eq!(stored(&h, SVM2_UUID), (false, Some("starred".to_owned())));
}

#[tokio::test]
async fn target_update_mask_changes_the_alias_and_nothing_else() {
    let h = Harness::start().await;
    update_svm2(&h, false, "parent-path", &["target"])
        .await
        .unwrap();
    assert_eq!(
        stored(&h, SVM2_UUID),
        (true, Some("parent-path".to_owned()))
    );
}

#[tokio::test]
async fn create_that_ontap_answers_with_neither_record_nor_location_says_it_was_created() {
    let h = Harness::start().await;
    h.simulator.faults().push(created_without_location(b""));
    let status = h
        .iscsi()
        .await
        .create_iscsi_service(CreateIscsiServiceRequest {
            iscsi_service: Some(IscsiService {
                svm: svm_named("svm1"),
                ..Default::default()
            }),
        })
        .await
        .expect_err("no partial service is answered");
    assert!(
        status
            .message()
            .contains("was created, but reading it back failed"),
        "{status:?}"
    );
    assert!(status.message().contains("svm1"), "{status:?}");
}

#[tokio::test]
async fn create_reads_the_service_back_when_the_reply_has_no_record() {
    let h = Harness::start().await;
    h.simulator
        .faults()
        .push(created_without_location(br#"{"num_records": 0}"#));
    let created = create(
        &h,
        IscsiService {
            svm: svm_with_uuid(SVM2_UUID),
            ..Default::default()
        },
    )
    .await;
    let name = created.target.unwrap().name.unwrap_or_default();
    assert!(name.starts_with("iqn."), "read back from ONTAP: {name:?}");
}

#[tokio::test]
async fn read_mask_naming_an_svm_inside_the_live_metric_is_invalid_argument_and_never_goes_upstream()
 {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    let before = h.simulator.stats().requests;
    let status = client
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: SVM2_UUID.to_owned(),
            read_mask: mask(&["metric.iops", "metric.svm.name"]),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["read_mask.paths[1]"]);
    assert_eq!(h.simulator.stats().requests, before);
}
