//! IscsiServices through the real gateway onto the real simulator: the
//! lifecycle of the page's example story, its validation, and every ONTAP
//! error the page lists for these operations.

use crate::common::{
    Harness, STOPPED_UUID, SVM1_UUID, SVM2_UUID, bad_fields, error_metadata, mask, reason,
    set_enabled, svm_named, svm_with_uuid,
};
use ontap_grpc_gateway::proto::v1::{
    CreateIscsiServiceRequest, DeleteIscsiServiceRequest, GetIscsiServiceRequest, IscsiService,
    IscsiTarget, ListIscsiServicesRequest, SvmRef, UpdateIscsiServiceRequest,
};
use ontap_simulator::{Fault, FaultKind, Svm};
use tonic::Code;

const SERVICES: &str = "/api/protocols/san/iscsi/services";

fn create(svm: Option<SvmRef>) -> CreateIscsiServiceRequest {
    CreateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm,
            ..Default::default()
        }),
    }
}

fn get(uuid: &str) -> GetIscsiServiceRequest {
    GetIscsiServiceRequest {
        svm_uuid: uuid.into(),
        read_mask: None,
    }
}

fn disable(uuid: &str) -> UpdateIscsiServiceRequest {
    set_enabled(uuid, false)
}

fn delete(uuid: &str) -> DeleteIscsiServiceRequest {
    DeleteIscsiServiceRequest {
        svm_uuid: uuid.into(),
    }
}

/// Creates a service for `svm`, expecting the call to fail.
async fn create_fails(h: &Harness, svm: Option<SvmRef>) -> tonic::Status {
    h.iscsi()
        .await
        .create_iscsi_service(create(svm))
        .await
        .unwrap_err()
}

/// Changes the seed's `svm1` in the running simulator.
fn change_svm1(h: &Harness, change: impl FnOnce(&mut Svm)) {
    h.simulator.cluster().with(|c| {
        change(c.svms.iter_mut().find(|s| s.name == "svm1").unwrap());
    });
}

fn assert_error(status: &tonic::Status, code: Code, why: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason(status), why, "{status:?}");
}

#[tokio::test]
async fn create_by_name_returns_an_enabled_service_with_the_documented_defaults() {
    let h = Harness::start().await;
    let created = h
        .iscsi()
        .await
        .create_iscsi_service(create(svm_named("svm1")))
        .await
        .unwrap()
        .into_inner();
    let service = created;
    assert_eq!(service.enabled, Some(true));
    let svm = service.svm.unwrap();
    assert_eq!(svm.uuid.as_deref(), Some(SVM1_UUID));
    assert_eq!(svm.name.as_deref(), Some("svm1"));
    let target = service.target.unwrap();
    assert_eq!(target.alias.as_deref(), Some("svm1"));
    assert!(
        target
            .name
            .unwrap()
            .starts_with("iqn.1992-08.com.netapp:sn.19d04b8e94d711e88370005056b48fd2:vs."),
        "target name is generated from the SVM UUID"
    );
    assert_eq!(service.metric, None);
    assert_eq!(service.statistics, None);
}

#[tokio::test]
async fn create_by_uuid_with_alias_and_disabled_keeps_them() {
    let h = Harness::start().await;
    let request = CreateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_with_uuid(SVM1_UUID),
            enabled: Some(false),
            target: Some(IscsiTarget {
                alias: Some("lab-target_01".into()),
                name: None,
            }),
            ..Default::default()
        }),
    };
    let service = h
        .iscsi()
        .await
        .create_iscsi_service(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.enabled, Some(false));
    assert_eq!(
        service.target.unwrap().alias.as_deref(),
        Some("lab-target_01")
    );
}

/// ONTAP's answer to a create, as the page's POST example prints it: the record has no
/// `enabled`.
fn post_answered_like_the_pages_example() -> Fault {
    let body = serde_json::json!({
        "num_records": 1,
        "records": [{
            "svm": {"name": "svm2", "uuid": SVM2_UUID},
            "target": {
                "alias": "svm2",
                "name": "iqn.1992-08.com.netapp:sn.25f617cf94d711e88370005056b48fd2:vs.3"
            }
        }]
    });
    Fault {
        method: Some(http::Method::POST),
        path_prefix: Some(SERVICES.into()),
        ..Fault::once(FaultKind::Raw {
            status: 201,
            content_type: "application/hal+json".into(),
            body: body.to_string().into_bytes(),
        })
    }
}

/// Every GET of SVM `uuid`'s service fails with ONTAP's 500.
fn reading_the_service_fails(uuid: &str) -> Fault {
    Fault {
        method: Some(http::Method::GET),
        path_prefix: Some(format!("{SERVICES}/{uuid}")),
        ..Fault::always(FaultKind::Error {
            status: 500,
            code: None,
            message: "the read failed".into(),
            target: None,
        })
    }
}

#[tokio::test]
async fn create_answers_the_whole_service_when_ontaps_post_record_lacks_fields() {
    let h = Harness::start().await;
    h.simulator
        .faults()
        .push(post_answered_like_the_pages_example());
    let service = h
        .iscsi()
        .await
        .create_iscsi_service(create(svm_named("svm2")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        service.enabled,
        Some(true),
        "read back, not taken from the POST"
    );
    assert_eq!(service.svm.unwrap().uuid.as_deref(), Some(SVM2_UUID));
    assert!(service.target.unwrap().name.is_some());
}

#[tokio::test]
async fn create_whose_read_back_fails_says_the_service_was_created_but_not_read_back() {
    let h = Harness::start().await;
    h.simulator
        .faults()
        .push(reading_the_service_fails(SVM1_UUID));
    let status = create_fails(&h, svm_named("svm1")).await;
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(
        status
            .message()
            .contains("was created, but reading it back failed"),
        "{status:?}"
    );
    assert!(status.message().contains(SVM1_UUID), "{status:?}");
    assert_eq!(
        error_metadata(&status, "written").as_deref(),
        Some("created")
    );
    assert_eq!(
        error_metadata(&status, "http_status").as_deref(),
        Some("500")
    );
    h.simulator.faults().clear();
    let service = h
        .iscsi()
        .await
        .get_iscsi_service(get(SVM1_UUID))
        .await
        .expect("the service was created")
        .into_inner();
    assert_eq!(service.enabled, Some(true));
}

#[tokio::test]
async fn update_whose_read_back_fails_says_the_service_was_updated_but_not_read_back() {
    let h = Harness::start().await;
    h.simulator
        .faults()
        .push(reading_the_service_fails(SVM2_UUID));
    let status = h
        .iscsi()
        .await
        .update_iscsi_service(disable(SVM2_UUID))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(
        status
            .message()
            .contains("was updated, but reading it back failed"),
        "{status:?}"
    );
    assert_eq!(
        error_metadata(&status, "written").as_deref(),
        Some("updated")
    );
    h.simulator.faults().clear();
    let service = h
        .iscsi()
        .await
        .get_iscsi_service(get(SVM2_UUID))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.enabled, Some(false), "the update was made");
}

#[tokio::test]
async fn second_create_for_the_same_svm_is_already_exists() {
    let h = Harness::start().await;
    let status = create_fails(&h, svm_named("svm2")).await;
    assert_error(&status, Code::AlreadyExists, "ISCSI_SERVICE_EXISTS");
    assert_eq!(
        error_metadata(&status, "ontap_code").as_deref(),
        Some("5374077")
    );
}

#[tokio::test]
async fn create_for_an_unknown_svm_is_not_found() {
    let h = Harness::start().await;
    let status = create_fails(&h, svm_named("nosuch")).await;
    assert_error(&status, Code::NotFound, "SVM_NOT_FOUND");
}

#[tokio::test]
async fn create_with_name_and_uuid_of_different_svms_is_invalid_argument() {
    let h = Harness::start().await;
    let svm = Some(SvmRef {
        name: Some("svm1".into()),
        uuid: Some(SVM2_UUID.into()),
    });
    let status = create_fails(&h, svm).await;
    assert_error(&status, Code::InvalidArgument, "SVM_UUID_NAME_MISMATCH");
}

#[tokio::test]
async fn create_on_a_stopped_svm_is_failed_precondition() {
    let h = Harness::start().await;
    let status = create_fails(&h, svm_with_uuid(STOPPED_UUID)).await;
    assert_error(&status, Code::FailedPrecondition, "SVM_STOPPED");
}

#[tokio::test]
async fn create_without_an_iscsi_license_is_failed_precondition() {
    let h = Harness::start().await;
    h.simulator.cluster().with(|c| c.iscsi_licensed = false);
    let status = create_fails(&h, svm_named("svm1")).await;
    assert_error(&status, Code::FailedPrecondition, "ISCSI_LICENSE_MISSING");
}

#[tokio::test]
async fn create_where_iscsi_is_not_allowed_is_failed_precondition() {
    let h = Harness::start().await;
    change_svm1(&h, |svm| svm.iscsi_allowed = false);
    let status = create_fails(&h, svm_named("svm1")).await;
    assert_error(&status, Code::FailedPrecondition, "PROTOCOL_NOT_ALLOWED");
}

#[tokio::test]
async fn create_on_an_nvme_svm_is_failed_precondition() {
    let h = Harness::start().await;
    change_svm1(&h, |svm| svm.nvme_configured = true);
    let status = create_fails(&h, svm_named("svm1")).await;
    assert_error(&status, Code::FailedPrecondition, "SVM_CONFIGURED_FOR_NVME");
}

#[tokio::test]
async fn create_on_asa_r2_is_unimplemented() {
    let h = Harness::start().await;
    h.simulator.cluster().with(|c| c.asa_r2 = true);
    let status = create_fails(&h, svm_named("svm1")).await;
    assert_error(&status, Code::Unimplemented, "NOT_SUPPORTED_ON_ASA_R2");
}

#[tokio::test]
async fn create_without_an_svm_is_rejected_before_going_upstream() {
    let h = Harness::start().await;
    let status = create_fails(&h, None).await;
    assert_error(&status, Code::InvalidArgument, "INVALID_REQUEST");
    assert_eq!(bad_fields(&status), ["iscsi_service.svm"]);
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn create_with_an_alias_containing_a_space_is_rejected_before_going_upstream() {
    let h = Harness::start().await;
    let request = CreateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_named("svm1"),
            target: Some(IscsiTarget {
                alias: Some("has space".into()),
                name: None,
            }),
            ..Default::default()
        }),
    };
    let status = h
        .iscsi()
        .await
        .create_iscsi_service(request)
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["iscsi_service.target.alias"]);
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn list_by_default_returns_ordinary_fields_but_not_the_expensive_ones() {
    let h = Harness::start().await;
    let page = h
        .iscsi()
        .await
        .list_iscsi_services(ListIscsiServicesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.num_records, 2);
    for (service, name) in page.iscsi_services.iter().zip(["svm2", "svm3"]) {
        assert_eq!(service.svm.as_ref().unwrap().name.as_deref(), Some(name));
        assert_eq!(service.enabled, Some(true));
        assert!(service.target.as_ref().unwrap().name.is_some());
        assert_eq!(service.metric, None);
        assert_eq!(service.statistics, None);
    }
}

#[tokio::test]
async fn list_with_a_read_mask_on_metric_and_statistics_returns_them() {
    let h = Harness::start().await;
    let page = h
        .iscsi()
        .await
        .list_iscsi_services(ListIscsiServicesRequest {
            read_mask: mask(&["metric", "statistics.iops_raw"]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let service = &page.iscsi_services[0];
    assert_eq!(service.svm, None, "not in the mask");
    let metric = service.metric.as_ref().expect("metric");
    assert_eq!(metric.duration.as_ref().map(|d| d.seconds), Some(15));
    assert!(metric.timestamp.is_some() && metric.iops.is_some() && metric.latency.is_some());
    let statistics = service.statistics.as_ref().expect("statistics");
    assert!(statistics.iops_raw.as_ref().unwrap().total.unwrap() > 0);
    assert_eq!(statistics.latency_raw, None, "only iops_raw was asked for");
    assert_eq!(statistics.timestamp, None);
}

#[tokio::test]
async fn list_filters_on_enabled_and_statistics() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    client
        .create_iscsi_service(create(svm_named("svm1")))
        .await
        .unwrap();
    client
        .update_iscsi_service(disable(SVM1_UUID))
        .await
        .unwrap();
    let enabled = client
        .list_iscsi_services(ListIscsiServicesRequest {
            enabled: "true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = enabled
        .iscsi_services
        .iter()
        .map(|s| s.svm.clone().unwrap().name.unwrap())
        .collect();
    assert_eq!(names, ["svm2", "svm3"]);
    let busy = client
        .list_iscsi_services(ListIscsiServicesRequest {
            statistics_iops_raw_total: ">0".into(),
            count_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        busy.total_size,
        Some(2),
        "svm2 and svm3 have done I/O, svm1's new disabled service none"
    );
}

#[tokio::test]
async fn list_with_a_bad_boolean_filter_names_it() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .list_iscsi_services(ListIscsiServicesRequest {
            enabled: "yes".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["enabled"]);
}

#[tokio::test]
async fn get_returns_the_service() {
    let h = Harness::start().await;
    let service = h
        .iscsi()
        .await
        .get_iscsi_service(get(SVM2_UUID))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.svm.unwrap().name.as_deref(), Some("svm2"));
    assert_eq!(service.enabled, Some(true));
}

#[tokio::test]
async fn get_with_a_read_mask_returns_only_those_fields() {
    let h = Harness::start().await;
    let request = GetIscsiServiceRequest {
        svm_uuid: SVM2_UUID.into(),
        read_mask: mask(&["enabled"]),
    };
    let service = h
        .iscsi()
        .await
        .get_iscsi_service(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        service,
        IscsiService {
            enabled: Some(true),
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn get_of_an_svm_without_a_service_is_not_found() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(get(SVM1_UUID))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ISCSI_SERVICE_NOT_FOUND");
}

#[tokio::test]
async fn get_of_an_unknown_svm_is_not_found() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(get("00000000-0000-0000-0000-000000000000"))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "SVM_NOT_FOUND");
}

#[tokio::test]
async fn get_with_a_malformed_uuid_never_goes_upstream() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .get_iscsi_service(get("../../cluster"))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["svm_uuid"]);
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn disable_returns_and_persists_the_new_state() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    let updated = client
        .update_iscsi_service(disable(SVM2_UUID))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.enabled, Some(false));
    let service = client
        .get_iscsi_service(get(SVM2_UUID))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.enabled, Some(false));
}

#[tokio::test]
async fn empty_alias_in_the_update_mask_clears_the_alias() {
    let h = Harness::start().await;
    let request = UpdateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_with_uuid(SVM2_UUID),
            ..Default::default()
        }),
        update_mask: mask(&["target.alias"]),
    };
    let service = h
        .iscsi()
        .await
        .update_iscsi_service(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.target.unwrap().alias, None);
}

#[tokio::test]
async fn alias_update_is_returned() {
    let h = Harness::start().await;
    let request = UpdateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_with_uuid(SVM2_UUID),
            target: Some(IscsiTarget {
                alias: Some("renamed".into()),
                name: None,
            }),
            ..Default::default()
        }),
        update_mask: mask(&["target.alias"]),
    };
    let service = h
        .iscsi()
        .await
        .update_iscsi_service(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.target.unwrap().alias.as_deref(), Some("renamed"));
}

#[tokio::test]
async fn update_mask_outside_enabled_and_alias_is_invalid_argument_naming_the_path() {
    let h = Harness::start().await;
    let request = UpdateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_with_uuid(SVM2_UUID),
            ..Default::default()
        }),
        update_mask: mask(&["enabled", "svm.name"]),
    };
    let status = h
        .iscsi()
        .await
        .update_iscsi_service(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&status),
        ["update_mask.paths[1]", "iscsi_service.enabled"]
    );
}

#[tokio::test]
async fn update_mask_naming_output_only_fields_ignores_them() {
    let h = Harness::start().await;
    let request = UpdateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_with_uuid(SVM2_UUID),
            enabled: Some(false),
            target: Some(IscsiTarget {
                name: Some("iqn.ignored".into()),
                alias: None,
            }),
            ..Default::default()
        }),
        update_mask: mask(&[
            "enabled",
            "target.name",
            "metric",
            "statistics.iops_raw.read",
            "metric.status_text",
        ]),
    };
    let service = h
        .iscsi()
        .await
        .update_iscsi_service(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(service.enabled, Some(false));
    let target = service.target.unwrap();
    assert!(target.name.unwrap().starts_with("iqn.1992-08.com.netapp:"));
    assert_eq!(
        target.alias.as_deref(),
        Some("svm2"),
        "the alias is not in the mask"
    );
}

#[tokio::test]
async fn update_mask_naming_only_output_only_fields_has_nothing_to_update() {
    let h = Harness::start().await;
    let request = UpdateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_with_uuid(SVM2_UUID),
            enabled: Some(false),
            ..Default::default()
        }),
        update_mask: mask(&["metric", "target.name"]),
    };
    let status = h
        .iscsi()
        .await
        .update_iscsi_service(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["update_mask"]);
    assert_eq!(h.simulator.stats().requests, 0);
}

#[tokio::test]
async fn update_mask_path_naming_no_field_is_invalid_argument_naming_it() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .update_iscsi_service(UpdateIscsiServiceRequest {
            update_mask: mask(&["enabled", "metric.nope"]),
            ..disable(SVM2_UUID)
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["update_mask.paths[1]"]);
}

#[tokio::test]
async fn update_of_an_svm_without_a_service_is_not_found() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .update_iscsi_service(disable(SVM1_UUID))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ISCSI_SERVICE_NOT_FOUND");
}

#[tokio::test]
async fn delete_of_an_enabled_service_is_failed_precondition() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .delete_iscsi_service(delete(SVM2_UUID))
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "ISCSI_SERVICE_ENABLED");
}

#[tokio::test]
async fn delete_of_a_disabled_service_removes_it() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    client
        .update_iscsi_service(disable(SVM2_UUID))
        .await
        .unwrap();
    client
        .delete_iscsi_service(delete(SVM2_UUID))
        .await
        .unwrap();
    let status = client.get_iscsi_service(get(SVM2_UUID)).await.unwrap_err();
    assert_error(&status, Code::NotFound, "ISCSI_SERVICE_NOT_FOUND");
}

#[tokio::test]
async fn delete_of_an_svm_without_a_service_is_not_found() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .delete_iscsi_service(delete(SVM1_UUID))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ISCSI_SERVICE_NOT_FOUND");
}

#[tokio::test]
async fn delete_of_an_unknown_svm_is_not_found() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .delete_iscsi_service(delete("00000000-0000-0000-0000-000000000000"))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "SVM_NOT_FOUND");
}

#[tokio::test]
async fn delete_on_asa_r2_is_unimplemented() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    client
        .update_iscsi_service(disable(SVM2_UUID))
        .await
        .unwrap();
    h.simulator.cluster().with(|c| c.asa_r2 = true);
    let status = client
        .delete_iscsi_service(delete(SVM2_UUID))
        .await
        .unwrap_err();
    assert_error(&status, Code::Unimplemented, "NOT_SUPPORTED_ON_ASA_R2");
}

/// The SVM names of the services a list request finds.
async fn listed_names(h: &Harness, request: ListIscsiServicesRequest) -> Vec<String> {
    h.iscsi()
        .await
        .list_iscsi_services(request)
        .await
        .unwrap()
        .into_inner()
        .iscsi_services
        .into_iter()
        .map(|s| s.svm.unwrap().name.unwrap())
        .collect()
}

#[tokio::test]
async fn status_filter_takes_the_enum_names_in_any_case() {
    let h = Harness::start().await;
    let by_word = listed_names(
        &h,
        ListIscsiServicesRequest {
            metric_status: "ok".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_word, ["svm2", "svm3"]);
    for spelling in ["METRIC_STATUS_OK", "OK", "Ok|Error"] {
        let names = listed_names(
            &h,
            ListIscsiServicesRequest {
                metric_status: spelling.into(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(names, by_word, "{spelling}");
    }
}

#[tokio::test]
async fn negated_status_filter_in_enum_spelling_excludes_it() {
    let h = Harness::start().await;
    let names = listed_names(
        &h,
        ListIscsiServicesRequest {
            statistics_status: "!METRIC_STATUS_OK".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(names.is_empty(), "{names:?}");
}

#[tokio::test]
async fn target_filters_longer_than_128_characters_never_go_upstream() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    let before = h.simulator.stats().requests;
    let status = client
        .list_iscsi_services(ListIscsiServicesRequest {
            target_alias: "a".repeat(129),
            target_name: format!("iqn.x|{}", "n".repeat(129)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["target_name", "target_alias"]);
    assert_eq!(h.simulator.stats().requests, before);
}

#[tokio::test]
async fn target_filter_of_128_characters_is_sent() {
    let h = Harness::start().await;
    let names = listed_names(
        &h,
        ListIscsiServicesRequest {
            target_alias: "a".repeat(128),
            ..Default::default()
        },
    )
    .await;
    assert!(names.is_empty());
}

#[tokio::test]
async fn gateway_and_simulator_agree_on_what_a_valid_alias_is() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    let longest = "x".repeat(128);
    let too_long = "x".repeat(129);
    for alias in [
        "a",
        "lab-01_é",
        "emoji😀",
        longest.as_str(),
        too_long.as_str(),
        "two words",
        "no\u{a0}break",
        "tab\there",
        "ideographic\u{3000}space",
        "line\u{2028}separator",
        "bell\u{7}",
    ] {
        let result = client
            .update_iscsi_service(UpdateIscsiServiceRequest {
                iscsi_service: Some(IscsiService {
                    svm: svm_with_uuid(SVM2_UUID),
                    target: Some(IscsiTarget {
                        name: None,
                        alias: Some(alias.to_owned()),
                    }),
                    ..Default::default()
                }),
                update_mask: mask(&["target.alias"]),
            })
            .await;
        let valid = ontap_simulator::is_valid_alias(alias);
        match result {
            Ok(_) => assert!(valid, "the gateway let {alias:?} through to be refused"),
            Err(status) => {
                assert!(!valid, "the gateway refused {alias:?}, which ONTAP takes");
                assert_eq!(reason(&status), "INVALID_REQUEST", "{alias:?}: {status:?}");
                assert_eq!(bad_fields(&status), ["iscsi_service.target.alias"]);
            }
        }
    }
}

#[tokio::test]
async fn ontap_error_arguments_name_the_missing_svm() {
    let h = Harness::start().await;
    let status = create_fails(&h, svm_named("no_such_svm")).await;
    assert_eq!(reason(&status), "SVM_NOT_FOUND");
    assert_eq!(
        error_metadata(&status, "argument_0").as_deref(),
        Some("no_such_svm")
    );
}
