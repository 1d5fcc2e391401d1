//! WatchIscsiServiceMetrics through the real gateway onto the simulator,
//! whose pinned clock makes every sample exact: rates from the counters,
//! ONTAP's own samples once each, history replayed before going live, and
//! one shared upstream poller however many watch.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{
    GUARD, Gateway, SVM1_UUID, SVM2_UUID, SVM3_UUID, bad_fields, client_config, eventually,
    eventually_within, failing_every_try, final_status, mask, next_message, reason, requests_to,
    simulator_with, watching_gateway,
};
use ontap_grpc_gateway::proto::v1::iscsi_services_client::IscsiServicesClient;
use ontap_grpc_gateway::proto::v1::{
    GetIscsiServiceRequest, IoTypeCounter, MetricStatus, PerformanceMetricRaw,
    WatchCifsConnectionsRequest, WatchIscsiServiceMetricsRequest, WatchIscsiServiceMetricsResponse,
    WatchSource,
};
use ontap_grpc_gateway::server::ServeOptions;
use ontap_grpc_gateway::watch::Watches;
use ontap_simulator::{Cluster, IscsiService, Simulator, Svm, SvmState, clock_start};
use tonic::transport::Channel;
use tonic::{Code, Streaming};

/// The service path the watch polls for svm2.
fn svm2_service_path() -> String {
    format!("/api/protocols/san/iscsi/services/{SVM2_UUID}")
}

/// A 15-second boundary well after the simulator's epoch.
fn boundary() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600 + 3 * 86_400)
}

fn watch(source: WatchSource, poll_seconds: i64) -> WatchIscsiServiceMetricsRequest {
    WatchIscsiServiceMetricsRequest {
        svm_uuid: SVM2_UUID.into(),
        poll_interval: Some(prost_types::Duration {
            seconds: poll_seconds,
            nanos: 0,
        }),
        source: source as i32,
        start_time: None,
    }
}

/// Opens a watch through `gateway`, which must accept it.
async fn open(
    gateway: &Gateway,
    request: impl tonic::IntoRequest<WatchIscsiServiceMetricsRequest>,
) -> Streaming<WatchIscsiServiceMetricsResponse> {
    gateway
        .iscsi()
        .await
        .watch_iscsi_service_metrics(request)
        .await
        .unwrap()
        .into_inner()
}

/// A watch of svm2's ONTAP samples replaying from `seconds_back` before
/// [`boundary`], and that start time.
async fn replaying(
    gateway: &Gateway,
    seconds_back: i64,
) -> (
    prost_types::Timestamp,
    Streaming<WatchIscsiServiceMetricsResponse>,
) {
    let boundary_seconds = boundary().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let start = prost_types::Timestamp {
        seconds: boundary_seconds - seconds_back,
        nanos: 0,
    };
    let request = WatchIscsiServiceMetricsRequest {
        start_time: Some(start),
        ..watch(WatchSource::OntapMetric, 1)
    };
    (start, open(gateway, request).await)
}

async fn statistics(client: &mut IscsiServicesClient<Channel>) -> PerformanceMetricRaw {
    client
        .get_iscsi_service(GetIscsiServiceRequest {
            svm_uuid: SVM2_UUID.into(),
            read_mask: mask(&["statistics"]),
        })
        .await
        .unwrap()
        .into_inner()
        .statistics
        .unwrap()
}

/// Waits until the watch has polled at least `polls` times in all.
async fn polled(simulator: &Simulator, polls: u64) {
    let path = svm2_service_path();
    eventually_within(GUARD, &format!("{polls} polls of {path}"), || {
        requests_to(simulator, &path) >= polls
    })
    .await;
}

fn delta_per(
    a: &Option<IoTypeCounter>,
    b: &Option<IoTypeCounter>,
    pick: fn(&IoTypeCounter) -> Option<u64>,
) -> u64 {
    pick(b.as_ref().unwrap()).unwrap() - pick(a.as_ref().unwrap()).unwrap()
}

#[tokio::test]
async fn rates_are_counter_deltas_over_the_seconds_between_polls() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.cluster().pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut client = gateway.iscsi().await;
    let mut stream = client
        .watch_iscsi_service_metrics(watch(WatchSource::RatesFromCounters, 1))
        .await
        .unwrap()
        .into_inner();
    polled(&simulator, 1).await;
    let before = statistics(&mut client).await;
    simulator.cluster().advance_clock(Duration::from_secs(15));
    let after = statistics(&mut client).await;

    let sample = next_message(&mut stream).await.metric.unwrap();

    let reads = delta_per(&before.iops_raw, &after.iops_raw, |c| c.read);
    let writes = delta_per(&before.iops_raw, &after.iops_raw, |c| c.write);
    let read_latency = delta_per(&before.latency_raw, &after.latency_raw, |c| c.read);
    let bytes_read =
        after.throughput_raw.unwrap().read.unwrap() - before.throughput_raw.unwrap().read.unwrap();
    let per_second = |n: u64| (n as f64 / 15.0).round() as i64;
    let iops = sample.iops.unwrap();
    assert_eq!(iops.read, Some(per_second(reads)));
    assert_eq!(iops.write, Some(per_second(writes)));
    assert_eq!(
        sample.latency.unwrap().read,
        Some((read_latency as f64 / reads as f64).round() as i64)
    );
    assert_eq!(
        sample.throughput.unwrap().read,
        Some(per_second(bytes_read))
    );
    assert_eq!(sample.duration.unwrap().seconds, 15);
    assert_eq!(sample.timestamp, after.timestamp);
    assert_eq!(sample.svm.unwrap().uuid.as_deref(), Some(SVM2_UUID));
    assert_eq!(sample.status, Some(MetricStatus::Ok as i32));
}

#[tokio::test]
async fn a_counter_reset_gives_a_negative_delta_sample_then_rates_again() {
    let simulator = simulator_with(Cluster::seed()).await;
    let cluster = simulator.cluster();
    cluster.pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut stream = open(&gateway, watch(WatchSource::RatesFromCounters, 1)).await;
    polled(&simulator, 1).await;
    cluster.reset_iscsi_counters(SVM2_UUID);
    cluster.advance_clock(Duration::from_secs(15));

    let reset = next_message(&mut stream).await.metric.unwrap();
    assert_eq!(reset.status, Some(MetricStatus::NegativeDelta as i32));
    assert!(reset.iops.is_none() && reset.latency.is_none() && reset.throughput.is_none());

    cluster.advance_clock(Duration::from_secs(15));
    let next = next_message(&mut stream).await.metric.unwrap();
    assert_eq!(next.status, Some(MetricStatus::Ok as i32));
    assert!(next.iops.unwrap().total.unwrap() > 0);
}

#[tokio::test]
async fn each_ontap_metric_sample_is_sent_once() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.cluster().pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut stream = open(&gateway, watch(WatchSource::OntapMetric, 1)).await;
    let first = next_message(&mut stream).await.metric.unwrap();
    // Three more polls find the same sample.
    polled(&simulator, 4).await;
    simulator.cluster().advance_clock(Duration::from_secs(15));

    let second = next_message(&mut stream).await.metric.unwrap();
    let seconds = |m: &ontap_grpc_gateway::proto::v1::PerformanceMetric| {
        m.timestamp.as_ref().unwrap().seconds
    };
    assert_eq!(seconds(&second), seconds(&first) + 15);
    assert!(second.iops.unwrap().total.unwrap() > 0);
}

#[tokio::test]
async fn a_new_watcher_of_a_running_poller_starts_with_its_newest_sample_live() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.cluster().pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut first = open(&gateway, watch(WatchSource::OntapMetric, 1)).await;
    let newest = next_message(&mut first).await;

    let mut second = open(&gateway, watch(WatchSource::OntapMetric, 1)).await;
    let joined_with = next_message(&mut second).await;

    assert_eq!(joined_with.metric, newest.metric);
    assert!(
        !joined_with.replayed,
        "the poller's own sample, not history"
    );
}

#[tokio::test]
async fn a_replay_fetches_the_history_in_pages_of_a_thousand() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.cluster().pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let (_, mut stream) = replaying(&gateway, 50 * 60).await;

    // Fifty minutes of 15-second samples.
    for _ in 0..200 {
        assert!(next_message(&mut stream).await.replayed);
    }
    let history = format!("{}/metrics", svm2_service_path());
    assert_eq!(requests_to(&simulator, &history), 1);
}

#[tokio::test]
async fn watchers_of_one_svm_share_one_upstream_poll() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, watches) = watching_gateway(&simulator).await;
    let client = gateway.iscsi().await;
    let mut streams = Vec::new();
    for _ in 0..50 {
        // Ten minutes between polls: all of this happens within the first.
        let mut stream = client
            .clone()
            .watch_iscsi_service_metrics(watch(WatchSource::OntapMetric, 600))
            .await
            .unwrap()
            .into_inner();
        let first: WatchIscsiServiceMetricsResponse = next_message(&mut stream).await;
        assert!(first.metric.is_some());
        streams.push(stream);
    }
    assert_eq!(requests_to(&simulator, &svm2_service_path()), 1);
    assert_eq!(
        (watches.live().pollers(), watches.live().watchers()),
        (1, 50)
    );
}

#[tokio::test]
async fn different_intervals_or_sources_poll_separately() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, watches) = watching_gateway(&simulator).await;
    let client = gateway.iscsi().await;
    let mut held = Vec::new();
    for request in [
        watch(WatchSource::OntapMetric, 600),
        watch(WatchSource::OntapMetric, 300),
        watch(WatchSource::RatesFromCounters, 600),
    ] {
        held.push(
            client
                .clone()
                .watch_iscsi_service_metrics(request)
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        (watches.live().pollers(), watches.live().watchers()),
        (3, 3)
    );
}

#[tokio::test]
async fn cancelling_the_last_watch_stops_its_upstream_polling() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, watches) = watching_gateway(&simulator).await;
    let mut stream = open(&gateway, watch(WatchSource::OntapMetric, 1)).await;
    next_message(&mut stream).await;
    assert_eq!(watches.live().pollers(), 1);

    drop(stream);

    eventually("the poller stops", || watches.live().pollers() == 0).await;
    assert_eq!(watches.live().watchers(), 0);
    let stopped_at = requests_to(&simulator, &svm2_service_path());
    // A CIFS watch at the same interval keeps time: after three of its
    // polls, a metrics poller still running would have polled again.
    let connections = "/api/protocols/cifs/connections";
    let _witness = gateway
        .cifs()
        .await
        .watch_cifs_connections(WatchCifsConnectionsRequest {
            poll_interval: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    eventually_within(GUARD, "three polls of the connections", || {
        requests_to(&simulator, connections) >= 3
    })
    .await;
    assert_eq!(requests_to(&simulator, &svm2_service_path()), stopped_at);
}

#[tokio::test]
async fn the_call_deadline_ends_the_watch_and_its_polling() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, watches) = watching_gateway(&simulator).await;
    let request =
        crate::common::with_deadline(watch(WatchSource::OntapMetric, 1), Duration::from_secs(2));
    let mut stream = open(&gateway, request).await;
    let status = final_status(&mut stream).await;
    assert_eq!(status.code(), Code::DeadlineExceeded);
    eventually("the poller stops", || watches.live().pollers() == 0).await;
}

#[tokio::test]
async fn deleting_the_service_ends_the_watch_with_not_found() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut stream = open(&gateway, watch(WatchSource::OntapMetric, 1)).await;
    next_message(&mut stream).await;
    simulator
        .cluster()
        .with(|c| c.iscsi_services.retain(|s| s.svm_uuid != SVM2_UUID));

    let status = final_status(&mut stream).await;
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason(&status), "ISCSI_SERVICE_NOT_FOUND");
}

#[tokio::test]
async fn an_unreachable_upstream_is_reported_and_the_watch_goes_on() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut stream = open(&gateway, watch(WatchSource::OntapMetric, 1)).await;
    next_message(&mut stream).await;
    simulator
        .faults()
        .push(failing_every_try(503, "ONTAP is restarting"));

    let failure = next_message(&mut stream).await.poll_failure.unwrap();
    assert_eq!(failure.code, Code::Unavailable as i32);
    assert_eq!(failure.reason, "SERVICE_UNAVAILABLE");
    assert_eq!(failure.consecutive_failures, 1);
    assert!(failure.retry_in.unwrap().seconds >= 1);

    simulator.cluster().advance_clock(Duration::from_secs(15));
    let recovered = next_message(&mut stream).await;
    assert!(recovered.metric.is_some() && recovered.poll_failure.is_none());
}

#[tokio::test]
async fn a_replay_sends_history_since_start_time_then_goes_live_without_duplicates() {
    let simulator = simulator_with(Cluster::seed()).await;
    let cluster = simulator.cluster();
    cluster.pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let (start, mut stream) = replaying(&gateway, 120).await;

    // Two minutes of 15-second history after start: 8 samples, oldest first.
    let mut seen = Vec::new();
    for _ in 0..8 {
        let message = next_message(&mut stream).await;
        assert!(message.replayed);
        seen.push(message.metric.unwrap().timestamp.unwrap().seconds);
    }
    let expected: Vec<i64> = (1..=8).map(|k| start.seconds + 15 * k).collect();
    assert_eq!(seen, expected);

    cluster.advance_clock(Duration::from_secs(15));
    let live = next_message(&mut stream).await;
    assert!(!live.replayed);
    assert_eq!(
        live.metric.unwrap().timestamp.unwrap().seconds,
        start.seconds + 135
    );
}

#[tokio::test]
async fn a_replay_reaching_back_past_an_hour_uses_the_five_minute_history() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.cluster().pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let (start, mut stream) = replaying(&gateway, 2 * 3_600).await;

    let first = next_message(&mut stream).await;
    let second = next_message(&mut stream).await;
    assert!(first.replayed && second.replayed);
    let at = |m: WatchIscsiServiceMetricsResponse| m.metric.unwrap().timestamp.unwrap().seconds;
    let (first, second) = (at(first), at(second));
    assert_eq!(
        second - first,
        300,
        "one day's history holds a sample every 5 minutes"
    );
    assert!(first > start.seconds && first <= start.seconds + 300);
}

#[tokio::test]
async fn invalid_watch_requests_name_the_field() {
    let simulator = simulator_with(Cluster::seed()).await;
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut client = gateway.iscsi().await;
    let cases = [
        (
            WatchIscsiServiceMetricsRequest {
                poll_interval: Some(prost_types::Duration {
                    seconds: 0,
                    nanos: 500_000_000,
                }),
                ..watch(WatchSource::OntapMetric, 1)
            },
            "poll_interval",
        ),
        (
            WatchIscsiServiceMetricsRequest {
                svm_uuid: "not-a-uuid".into(),
                ..watch(WatchSource::OntapMetric, 1)
            },
            "svm_uuid",
        ),
        (
            WatchIscsiServiceMetricsRequest {
                source: 7,
                ..watch(WatchSource::OntapMetric, 1)
            },
            "source",
        ),
    ];
    for (request, field) in cases {
        let status = client
            .watch_iscsi_service_metrics(request)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(bad_fields(&status), [field]);
    }
    assert_eq!(simulator.stats().requests, 0, "nothing went upstream");
}

#[tokio::test]
async fn without_an_svm_every_service_is_watched() {
    let simulator = simulator_with(Cluster::seed()).await;
    simulator.cluster().pin_clock(boundary());
    let (gateway, _) = watching_gateway(&simulator).await;
    let mut client = gateway.iscsi().await;
    client
        .create_iscsi_service(ontap_grpc_gateway::proto::v1::CreateIscsiServiceRequest {
            iscsi_service: Some(ontap_grpc_gateway::proto::v1::IscsiService {
                svm: crate::common::svm_with_uuid(SVM1_UUID),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let mut stream = client
        .watch_iscsi_service_metrics(WatchIscsiServiceMetricsRequest {
            svm_uuid: String::new(),
            ..watch(WatchSource::OntapMetric, 1)
        })
        .await
        .unwrap()
        .into_inner();
    let mut svms = std::collections::BTreeSet::new();
    for _ in 0..3 {
        let metric = next_message(&mut stream).await.metric.unwrap();
        svms.insert(metric.svm.unwrap().uuid.unwrap());
    }
    let every = [SVM1_UUID, SVM2_UUID, SVM3_UUID].map(str::to_owned);
    assert_eq!(svms, every.into(), "svm1's new service and the seed's two");
}

/// The seed cluster with `count` more SVMs, each with an iSCSI service.
fn with_services(count: u32) -> Cluster {
    let mut cluster = Cluster::seed();
    for i in 0..count {
        let uuid = format!("{i:08x}-0000-4000-8000-00000000b01c");
        cluster.svms.push(Svm::new(
            uuid.clone(),
            format!("bulk{i}"),
            SvmState::Running,
        ));
        cluster.iscsi_services.push(IscsiService::new(
            uuid,
            format!("iqn.1992-08.com.netapp:sn.{i}:vs.bulk"),
            None,
            true,
            clock_start(),
        ));
    }
    cluster
}

#[tokio::test]
async fn a_slow_watcher_misses_samples_without_stalling_a_fast_one() {
    let simulator = simulator_with(with_services(40)).await;
    // Two polls kept for laggards.
    let options = ServeOptions {
        watches: Arc::new(Watches::with_buffer(2)),
        ..ServeOptions::default()
    };
    let gateway = Gateway::start_with_options(client_config(&simulator), options).await;
    let every_service = WatchIscsiServiceMetricsRequest {
        svm_uuid: String::new(),
        ..watch(WatchSource::RatesFromCounters, 1)
    };
    // A flow-control window of 1 KiB: unread, the stream fills it with a
    // few samples and the gateway can send it no more.
    let tight = tonic::transport::Endpoint::from_shared(format!("http://{}", gateway.addr))
        .unwrap()
        .initial_stream_window_size(1024)
        .connect()
        .await
        .unwrap();
    let mut slow = IscsiServicesClient::new(tight)
        .watch_iscsi_service_metrics(every_service.clone())
        .await
        .unwrap()
        .into_inner();
    let mut fast = IscsiServicesClient::new(gateway.channel().await)
        .watch_iscsi_service_metrics(every_service)
        .await
        .unwrap()
        .into_inner();

    // Six polls' samples (41 services each) reach the fast watcher while
    // the slow one reads nothing, and it misses none of them.
    for _ in 0..6 * 41 {
        let message = next_message(&mut fast).await;
        assert_eq!(message.missed_samples, 0);
    }

    // Reading at last, the slow watcher is told how many it missed.
    let mut missed = 0;
    while missed == 0 {
        missed = next_message(&mut slow).await.missed_samples;
    }
    assert!(missed >= 41, "at least a poll's samples: {missed}");
}

#[tokio::test]
async fn refused_gateway_credentials_end_the_watch_after_one_poll() {
    let simulator = simulator_with(Cluster::seed()).await;
    let config = ontap_grpc_gateway::ontap::ClientConfig::new(
        simulator.base_url(),
        "admin",
        "not-the-password",
    );
    let gateway = Gateway::start(config).await;
    let opened = gateway
        .iscsi()
        .await
        .watch_iscsi_service_metrics(watch(WatchSource::OntapMetric, 1))
        .await;
    let status = match opened {
        Ok(response) => final_status(&mut response.into_inner()).await,
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "GATEWAY_CREDENTIALS_REJECTED");
    assert_eq!(requests_to(&simulator, &svm2_service_path()), 1);
}
