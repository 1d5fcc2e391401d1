//! iSCSI performance data through the gateway: live `metric`/`statistics`
//! that behave like a cluster's counters, and the metrics history at each
//! interval's documented spacing.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{Harness, SVM1_UUID, SVM2_UUID, bad_fields, mask, reason, simulator_status};
use ontap_grpc_gateway::proto::v1::iscsi_services_client::IscsiServicesClient;
use ontap_grpc_gateway::proto::v1::{
    CreateIscsiServiceRequest, GetIscsiServiceMetricRequest, GetIscsiServiceRequest, IoTypeCounter,
    IscsiService, ListIscsiServiceMetricsRequest, ListIscsiServicesRequest, MetricInterval,
    MetricStatus, PerformanceMetric, PerformanceMetricRaw, SvmRef, UpdateIscsiServiceRequest,
};
use ontap_simulator::{Fault, FaultKind, MetricStatus as OntapStatus};
use tonic::Code;
use tonic::transport::Channel;

/// A 15-second boundary well after the simulator's epoch.
fn boundary() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600 + 3 * 86_400)
}

async fn live(h: &Harness) -> IscsiService {
    h.iscsi()
        .await
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: SVM2_UUID.into(),
            read_mask: mask(&["metric", "statistics"]),
        })
        .await
        .unwrap()
        .into_inner()
}

fn history(interval: MetricInterval, page_size: i32) -> ListIscsiServiceMetricsRequest {
    ListIscsiServiceMetricsRequest {
        svm_uuid: SVM2_UUID.into(),
        interval: interval as i32,
        page_size,
        ..Default::default()
    }
}

async fn set_enabled(h: &Harness, enabled: bool) {
    h.iscsi()
        .await
        .update_iscsi_service(UpdateIscsiServiceRequest {
            iscsi_service: Some(IscsiService {
                svm: Some(SvmRef {
                    uuid: Some(SVM2_UUID.into()),
                    name: None,
                }),
                enabled: Some(enabled),
                ..Default::default()
            }),
            update_mask: mask(&["enabled"]),
        })
        .await
        .unwrap();
}

fn seconds(m: &PerformanceMetric) -> i64 {
    m.timestamp.as_ref().unwrap().seconds
}

#[tokio::test]
async fn each_interval_samples_at_its_documented_spacing() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    for (interval, spacing) in [
        (MetricInterval::Unspecified, 15),
        (MetricInterval::OneHour, 15),
        (MetricInterval::OneDay, 300),
        (MetricInterval::OneWeek, 1800),
        (MetricInterval::OneMonth, 7200),
        (MetricInterval::OneYear, 86_400),
    ] {
        let page = h
            .iscsi()
            .await
            .list_iscsi_service_metrics(history(interval, 3))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.metrics.len(), 3, "{interval:?}");
        for pair in page.metrics.windows(2) {
            assert_eq!(
                seconds(&pair[0]) - seconds(&pair[1]),
                spacing,
                "{interval:?}: newest first, evenly spaced"
            );
        }
        for m in &page.metrics {
            assert_eq!(
                m.duration.as_ref().unwrap().seconds,
                spacing,
                "{interval:?}"
            );
            assert_eq!(m.status, Some(MetricStatus::Ok as i32));
            assert_eq!(
                seconds(m) % spacing,
                0,
                "{interval:?}: on a spacing boundary"
            );
            assert!(m.iops.as_ref().unwrap().total.unwrap() > 0);
        }
    }
}

#[tokio::test]
async fn one_hour_history_pages_through_every_sample_once() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    let mut client = h.iscsi().await;
    let mut request = history(MetricInterval::OneHour, 100);
    let mut stamps = Vec::new();
    loop {
        let page = client
            .list_iscsi_service_metrics(request.clone())
            .await
            .unwrap()
            .into_inner();
        stamps.extend(page.metrics.iter().map(seconds));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    let unique: BTreeSet<_> = stamps.iter().collect();
    assert_eq!(unique.len(), stamps.len());
    assert!(
        (239..=241).contains(&stamps.len()),
        "an hour of 15 s samples, got {}",
        stamps.len()
    );
}

#[tokio::test]
async fn history_can_be_ordered_and_filtered() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    let page = h
        .iscsi()
        .await
        .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
            order_by: vec!["timestamp asc".into()],
            status: "ok".into(),
            read_mask: mask(&["timestamp", "iops.total"]),
            ..history(MetricInterval::OneDay, 5)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        page.metrics
            .windows(2)
            .all(|p| seconds(&p[0]) < seconds(&p[1]))
    );
    let first = &page.metrics[0];
    assert_eq!(first.duration, None, "not in the read mask");
    assert!(first.iops.as_ref().unwrap().total.is_some());
    assert_eq!(first.iops.as_ref().unwrap().read, None);
}

#[tokio::test]
async fn history_duration_filter_compares_durations_not_text() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    let count = async |duration: &str| {
        h.iscsi()
            .await
            .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
                duration: duration.into(),
                count_only: true,
                ..history(MetricInterval::OneMonth, 0)
            })
            .await
            .unwrap()
            .into_inner()
            .total_size
    };
    let month = count("").await;
    assert!(month > Some(0));
    assert_eq!(count(">PT30M").await, month, "PT2H is longer than PT30M");
    assert_eq!(count("PT120M").await, month, "PT120M is PT2H");
    assert_eq!(count("<PT30M").await, Some(0));
}

/// A metrics record has `svm.uuid` and no `svm.name` (the page's
/// `records` and the sample at a timestamp), so ONTAP answers 400 to
/// either; the gateway refuses them first.
#[tokio::test]
async fn svm_name_is_no_field_of_a_sample_for_read_mask_or_order_by() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    let status = client
        .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
            read_mask: mask(&["timestamp", "svm.name"]),
            order_by: vec!["svm.name desc".into()],
            ..history(MetricInterval::OneHour, 5)
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["read_mask.paths[1]", "order_by[0]"]);
    let status = client
        .get_iscsi_service_metric(GetIscsiServiceMetricRequest {
            svm_uuid: SVM2_UUID.into(),
            timestamp: Some(prost_types::Timestamp {
                seconds: 1_767_225_600,
                nanos: 0,
            }),
            read_mask: mask(&["svm.name"]),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["read_mask.paths[0]"]);
    assert_eq!(h.simulator.stats().requests, 0);
    let metrics = format!("/api/protocols/san/iscsi/services/{SVM2_UUID}/metrics");
    for query in ["order_by=svm.name", "fields=svm.name"] {
        let answered = simulator_status(&h.simulator, &format!("{metrics}?{query}")).await;
        assert_eq!(answered, 400, "the simulator, as ONTAP, refuses {query}");
    }
    let page = client
        .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
            read_mask: mask(&["svm.uuid"]),
            order_by: vec!["svm.uuid desc".into()],
            ..history(MetricInterval::OneHour, 5)
        })
        .await
        .expect("svm.uuid is a field of a sample")
        .into_inner();
    assert!(page.metrics.iter().all(|m| m.svm.is_some()));
}

#[tokio::test]
async fn sample_is_fetched_by_its_exact_timestamp() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    let mut client = h.iscsi().await;
    let listed = client
        .list_iscsi_service_metrics(history(MetricInterval::OneDay, 20))
        .await
        .unwrap()
        .into_inner();
    // 95 minutes old: no finer series than the day's 5-minute one covers it.
    let wanted = listed.metrics[19].clone();
    let got = client
        .get_iscsi_service_metric(GetIscsiServiceMetricRequest {
            svm_uuid: SVM2_UUID.into(),
            timestamp: wanted.timestamp,
            read_mask: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.timestamp, wanted.timestamp);
    assert_eq!(got.iops, wanted.iops);
    assert_eq!(got.duration, wanted.duration);
}

#[tokio::test]
async fn instant_without_a_sample_is_not_found() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    let at = boundary().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 - 7;
    let status = h
        .iscsi()
        .await
        .get_iscsi_service_metric(GetIscsiServiceMetricRequest {
            svm_uuid: SVM2_UUID.into(),
            timestamp: Some(prost_types::Timestamp {
                seconds: at,
                nanos: 0,
            }),
            read_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "METRICS_NOT_AVAILABLE");
}

#[tokio::test]
async fn history_of_an_svm_without_a_service_is_not_found() {
    let h = Harness::start().await;
    let status = h
        .iscsi()
        .await
        .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
            svm_uuid: SVM1_UUID.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "ISCSI_SERVICE_NOT_FOUND");
}

/// The seed at a pinned instant, with a service just created for svm1 (so
/// no sample of it exists yet), and a client.
async fn svm1_service_created_just_now() -> (Harness, IscsiServicesClient<Channel>) {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    let mut client = h.iscsi().await;
    client
        .create_iscsi_service(CreateIscsiServiceRequest {
            iscsi_service: Some(IscsiService {
                svm: Some(SvmRef {
                    name: Some("svm1".into()),
                    uuid: None,
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    (h, client)
}

#[tokio::test]
async fn history_of_a_service_created_just_now_is_an_empty_page() {
    let (_h, mut client) = svm1_service_created_just_now().await;
    let page = client
        .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
            svm_uuid: SVM1_UUID.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(page.metrics.is_empty());
    assert_eq!(page.num_records, 0);
    assert!(page.next_page_token.is_empty());
}

#[tokio::test]
async fn count_of_a_history_not_yet_started_is_zero() {
    let (_h, mut client) = svm1_service_created_just_now().await;
    let page = client
        .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
            svm_uuid: SVM1_UUID.into(),
            count_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total_size, Some(0));
}

#[tokio::test]
async fn sample_of_a_history_not_yet_started_is_not_found() {
    let (_h, mut client) = svm1_service_created_just_now().await;
    let status = client
        .get_iscsi_service_metric(GetIscsiServiceMetricRequest {
            svm_uuid: SVM1_UUID.into(),
            timestamp: Some(prost_types::Timestamp {
                seconds: i64::try_from(boundary().duration_since(UNIX_EPOCH).unwrap().as_secs())
                    .unwrap(),
                nanos: 0,
            }),
            read_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "METRICS_NOT_AVAILABLE");
}

#[tokio::test]
async fn failing_metrics_collection_is_internal() {
    let h = Harness::start().await;
    h.simulator.cluster().with(|c| c.metrics_failure = true);
    let status = h
        .iscsi()
        .await
        .list_iscsi_service_metrics(history(MetricInterval::OneHour, 5))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(reason(&status), "METRICS_RETRIEVAL_FAILED");
}

#[tokio::test]
async fn unknown_interval_value_is_invalid_argument() {
    let h = Harness::start().await;
    let mut request = history(MetricInterval::OneHour, 5);
    request.interval = 42;
    let status = h
        .iscsi()
        .await
        .list_iscsi_service_metrics(request)
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&status), ["interval"]);
}

#[tokio::test]
async fn counters_grow_while_enabled_and_freeze_while_disabled() {
    let h = Harness::start().await;
    let cluster = h.simulator.cluster();
    cluster.pin_clock(boundary());
    let before = live(&h).await.statistics.unwrap();
    cluster.advance_clock(Duration::from_secs(60));
    let grown = live(&h).await.statistics.unwrap();
    for (a, b) in [
        (&before.iops_raw, &grown.iops_raw),
        (&before.latency_raw, &grown.latency_raw),
    ] {
        assert!(b.as_ref().unwrap().total > a.as_ref().unwrap().total);
    }
    let bytes = |s: &PerformanceMetricRaw| s.throughput_raw.as_ref().unwrap().total;
    assert!(bytes(&grown) > bytes(&before));
    set_enabled(&h, false).await;
    let frozen_at = live(&h).await.statistics.unwrap();
    cluster.advance_clock(Duration::from_secs(600));
    let later = live(&h).await.statistics.unwrap();
    assert_eq!(later.iops_raw, frozen_at.iops_raw);
    assert_eq!(later.throughput_raw, frozen_at.throughput_raw);
    assert!(later.timestamp.unwrap().seconds > frozen_at.timestamp.unwrap().seconds);
}

#[tokio::test]
async fn live_metric_is_the_15_second_average_of_the_counters() {
    let h = Harness::start().await;
    let cluster = h.simulator.cluster();
    cluster.pin_clock(boundary());
    let start = live(&h).await.statistics.unwrap();
    cluster.advance_clock(Duration::from_secs(15));
    let now = live(&h).await;
    let (end, metric) = (now.statistics.unwrap(), now.metric.unwrap());
    assert_eq!(metric.duration.unwrap().seconds, 15);
    assert_eq!(metric.timestamp, end.timestamp);
    let delta = |a: &Option<IoTypeCounter>, b: &Option<IoTypeCounter>| {
        let total = |c: &Option<IoTypeCounter>| c.as_ref().unwrap().total.unwrap();
        i64::try_from(total(b) - total(a)).unwrap()
    };
    let ops = delta(&start.iops_raw, &end.iops_raw);
    let latency = delta(&start.latency_raw, &end.latency_raw);
    let bytes_total = |s: &PerformanceMetricRaw| s.throughput_raw.as_ref().unwrap().total.unwrap();
    let bytes = i64::try_from(bytes_total(&end) - bytes_total(&start)).unwrap();
    let close = |got: i64, want: i64| (got - want).abs() <= 1 + want / 1000;
    assert!(close(metric.iops.unwrap().total.unwrap(), ops / 15));
    assert!(close(
        metric.latency.unwrap().total.unwrap(),
        latency / ops.max(1)
    ));
    assert!(close(metric.throughput.unwrap().total.unwrap(), bytes / 15));
}

#[tokio::test]
async fn counter_reset_is_reported_as_negative_delta() {
    let h = Harness::start().await;
    let cluster = h.simulator.cluster();
    cluster.pin_clock(boundary());
    cluster.reset_iscsi_counters(SVM2_UUID);
    cluster.advance_clock(Duration::from_secs(5));
    let metric = live(&h).await.metric.unwrap();
    assert_eq!(metric.status, Some(MetricStatus::NegativeDelta as i32));
}

/// One service record as ONTAP sends it, with `statistics` and `metric`
/// given in full.
fn one_service_page(statistics: &str, metric: &str) -> FaultKind {
    FaultKind::Raw {
        status: 200,
        content_type: "application/hal+json".into(),
        body: format!(
            r#"{{"records": [{{"svm": {{"uuid": "{SVM2_UUID}", "name": "svm2"}},
                "statistics": {statistics}, "metric": {metric}}}], "num_records": 1}}"#
        )
        .into_bytes(),
    }
}

async fn list_performance(h: &Harness) -> IscsiService {
    let page = h
        .iscsi()
        .await
        .list_iscsi_services(ListIscsiServicesRequest {
            read_mask: mask(&["statistics", "metric"]),
            ..Default::default()
        })
        .await
        .expect("the page is served")
        .into_inner();
    page.iscsi_services.into_iter().next().unwrap()
}

#[tokio::test]
async fn raw_counters_above_two_to_the_63_are_served_in_a_page() {
    let h = Harness::start().await;
    let big = (1u64 << 63) + 12_345;
    h.simulator.faults().push(Fault::once(one_service_page(
        &format!(
            r#"{{"timestamp": "2026-01-04T00:00:00Z", "status": "ok",
                "iops_raw": {{"read": {big}, "write": 1, "other": 2, "total": {}}},
                "latency_raw": {{"total": 18446744073709551615}}}}"#,
            big + 3
        ),
        "{}",
    )));
    let statistics = list_performance(&h).await.statistics.unwrap();
    assert_eq!(statistics.iops_raw.unwrap().read, Some(big));
    assert_eq!(statistics.latency_raw.unwrap().total, Some(u64::MAX));
}

#[tokio::test]
async fn every_documented_status_reaches_the_caller_as_its_enum_value_and_word() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    for status in OntapStatus::DOCUMENTED {
        let word = status.as_str().to_owned();
        assert!(h.simulator.cluster().force_iscsi_status(SVM2_UUID, status));
        let service = live(&h).await;
        let expected =
            MetricStatus::from_str_name(&format!("METRIC_STATUS_{}", word.to_uppercase()))
                .unwrap_or_else(|| panic!("MetricStatus has no value for `{word}`"));
        let metric = service.metric.unwrap();
        assert_eq!(metric.status, Some(expected as i32), "{word}");
        assert_eq!(metric.status_text.as_deref(), Some(word.as_str()));
        let statistics = service.statistics.unwrap();
        assert_eq!(statistics.status, Some(expected as i32), "{word}");
        assert_eq!(statistics.status_text.as_deref(), Some(word.as_str()));
    }
}

#[tokio::test]
async fn status_the_gateway_does_not_know_is_kept_as_text_in_the_history() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    h.simulator
        .cluster()
        .force_iscsi_status(SVM2_UUID, "quantum_flux");
    let page = h
        .iscsi()
        .await
        .list_iscsi_service_metrics(history(MetricInterval::OneHour, 3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.metrics.len(), 3);
    for sample in page.metrics {
        assert_eq!(sample.status, Some(MetricStatus::Unspecified as i32));
        assert_eq!(sample.status_text.as_deref(), Some("quantum_flux"));
    }
}

#[tokio::test]
async fn silent_node_makes_the_live_sample_partial() {
    let h = Harness::start().await;
    let cluster = h.simulator.cluster();
    cluster.pin_clock(boundary());
    let node = cluster.with(|c| c.nodes[0].uuid.clone());
    assert!(cluster.set_node_responding(&node, false));
    cluster.advance_clock(Duration::from_secs(30));
    let metric = live(&h).await.metric.unwrap();
    assert_eq!(metric.status, Some(MetricStatus::PartialNoResponse as i32));
}

#[tokio::test]
async fn history_filter_on_status_takes_the_enum_name() {
    let h = Harness::start().await;
    h.simulator.cluster().pin_clock(boundary());
    h.simulator
        .cluster()
        .force_iscsi_status(SVM2_UUID, OntapStatus::BackfilledData);
    let filtered = |status: &str| {
        let mut request = history(MetricInterval::OneHour, 5);
        request.status = status.into();
        request
    };
    let mut client = h.iscsi().await;
    let backfilled = client
        .list_iscsi_service_metrics(filtered("METRIC_STATUS_BACKFILLED_DATA"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(backfilled.metrics.len(), 5);
    let ok = client
        .list_iscsi_service_metrics(filtered("Ok"))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.metrics.is_empty());
}

#[tokio::test]
async fn raw_counters_past_two_to_the_63_are_served_as_unsigned() {
    let h = Harness::start().await;
    let cluster = h.simulator.cluster();
    cluster.pin_clock(boundary());
    let base = 1u64 << 63;
    assert!(cluster.set_iscsi_counter_base(SVM2_UUID, base));
    let statistics = list_performance(&h).await.statistics.unwrap();
    let total = statistics.iops_raw.unwrap().total.unwrap();
    assert!(total > base, "{total}");
}

#[tokio::test]
async fn sample_timestamp_with_nanos_outside_a_second_is_invalid_argument() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    for nanos in [-1, 1_000_000_000] {
        let status = client
            .get_iscsi_service_metric(GetIscsiServiceMetricRequest {
                svm_uuid: SVM2_UUID.into(),
                timestamp: Some(prost_types::Timestamp {
                    seconds: 1_767_225_600,
                    nanos,
                }),
                read_mask: None,
            })
            .await
            .unwrap_err();
        assert_eq!(bad_fields(&status), ["timestamp"], "nanos {nanos}");
    }
}

#[tokio::test]
async fn sample_timestamp_outside_1970_to_9999_is_invalid_argument_and_never_sent() {
    let h = Harness::start().await;
    let mut client = h.iscsi().await;
    let before = h.simulator.stats().requests;
    for seconds in [-1, -62_135_596_800, 253_402_300_800] {
        let status = client
            .get_iscsi_service_metric(GetIscsiServiceMetricRequest {
                svm_uuid: SVM2_UUID.into(),
                timestamp: Some(prost_types::Timestamp { seconds, nanos: 0 }),
                read_mask: None,
            })
            .await
            .unwrap_err();
        assert_eq!(bad_fields(&status), ["timestamp"], "seconds {seconds}");
    }
    assert_eq!(h.simulator.stats().requests, before);
}

/// Time values (issue 25, item 5) are checked, and sent as ONTAP takes them
/// (whole seconds), before anything goes upstream.
mod time_values {
    use super::*;
    use ontap_grpc_gateway::proto::v1::{WatchIscsiServiceMetricsRequest, WatchSource};

    /// A watch of svm2's ONTAP samples replaying from `start_time`.
    fn replaying_from(start_time: prost_types::Timestamp) -> WatchIscsiServiceMetricsRequest {
        WatchIscsiServiceMetricsRequest {
            svm_uuid: SVM2_UUID.into(),
            poll_interval: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            source: WatchSource::OntapMetric as i32,
            start_time: Some(start_time),
        }
    }

    /// The status a watch of `request` is refused with.
    async fn watch_refused(h: &Harness, request: WatchIscsiServiceMetricsRequest) -> tonic::Status {
        h.iscsi()
            .await
            .watch_iscsi_service_metrics(request)
            .await
            .expect_err("the watch is refused")
    }

    #[tokio::test]
    async fn a_sample_timestamp_between_whole_seconds_is_invalid_argument_and_never_sent() {
        let h = Harness::start().await;
        let mut client = h.iscsi().await;
        let before = h.simulator.stats().requests;
        for nanos in [1, 999_999_999] {
            let status = client
                .get_iscsi_service_metric(GetIscsiServiceMetricRequest {
                    svm_uuid: SVM2_UUID.into(),
                    timestamp: Some(prost_types::Timestamp {
                        seconds: 1_767_225_600,
                        nanos,
                    }),
                    read_mask: None,
                })
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "nanos {nanos}");
            assert_eq!(bad_fields(&status), ["timestamp"], "nanos {nanos}");
            assert!(
                status.message().contains("whole second"),
                "{}",
                status.message()
            );
        }
        assert_eq!(h.simulator.stats().requests, before);
    }

    #[tokio::test]
    async fn a_watch_start_time_with_nanos_outside_a_second_is_invalid_argument_and_never_sent() {
        let h = Harness::start().await;
        let before = h.simulator.stats().requests;
        for nanos in [-1, 1_000_000_000] {
            let start = prost_types::Timestamp {
                seconds: 1_767_225_600,
                nanos,
            };
            let status = watch_refused(&h, replaying_from(start)).await;
            assert_eq!(status.code(), Code::InvalidArgument, "nanos {nanos}");
            assert_eq!(bad_fields(&status), ["start_time"], "nanos {nanos}");
            assert!(status.message().contains("nanos"), "{}", status.message());
        }
        assert_eq!(h.simulator.stats().requests, before);
    }

    #[tokio::test]
    async fn a_watch_start_time_in_the_future_is_invalid_argument_and_never_sent() {
        let h = Harness::start().await;
        let tomorrow = SystemTime::now() + Duration::from_secs(86_400);
        let start = prost_types::Timestamp::from(tomorrow);
        let before = h.simulator.stats().requests;
        let status = watch_refused(&h, replaying_from(start)).await;
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(bad_fields(&status), ["start_time"]);
        assert!(status.message().contains("future"), "{}", status.message());
        assert_eq!(h.simulator.stats().requests, before);
    }

    #[tokio::test]
    async fn a_watch_start_time_between_whole_seconds_replays_the_samples_after_it() {
        let h = Harness::start().await;
        h.simulator.cluster().pin_clock(boundary());
        let boundary_seconds = boundary().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let start = prost_types::Timestamp {
            seconds: boundary_seconds - 120,
            nanos: 999_999_999,
        };
        let mut stream = h
            .iscsi()
            .await
            .watch_iscsi_service_metrics(replaying_from(start))
            .await
            .unwrap()
            .into_inner();
        let first = crate::common::next_message(&mut stream).await;
        assert!(first.replayed);
        assert_eq!(
            first.metric.unwrap().timestamp.unwrap().seconds,
            boundary_seconds - 105
        );
    }

    #[tokio::test]
    async fn a_history_timestamp_filter_between_whole_seconds_is_invalid_argument_and_never_sent() {
        let h = Harness::start().await;
        let before = h.simulator.stats().requests;
        let status = h
            .iscsi()
            .await
            .list_iscsi_service_metrics(ListIscsiServiceMetricsRequest {
                timestamp: ">2017-01-25T11:20:13.5Z".into(),
                ..history(MetricInterval::OneDay, 5)
            })
            .await
            .expect_err("a fraction of a second is refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(bad_fields(&status), ["timestamp"]);
        assert!(
            status.message().contains("whole seconds"),
            "{}",
            status.message()
        );
        assert_eq!(h.simulator.stats().requests, before);
    }
}
