//! The simulator as a real third-party ONTAP client sees it: NetApp's own
//! Python library (netapp-ontap) over HTTPS, reading every endpoint of the two
//! reference pages through its resources (whose schemas validate timestamps,
//! durations and statuses), paging, filtering, and the iSCSI
//! create/disable/delete story.

use std::time::Duration;

use crate::common::tools::{python_trusting_only_its_ca, stdout_of};
use ontap_simulator::{Cluster, Simulator, SimulatorConfig, clock_start};
use serde_json::{Value, json};

const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const NODE2: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";

/// Gives svm2's last hour every status the collector's history produces, then pins the clock
/// 7 s past the clock's start, so the newest sample of every series ends at the start:
/// a collection made up later (23:58:30), node2 silent from 23:58:45 to 23:59:05 (two partial
/// samples, then an inconsistent one) and a counter reset at 23:59:35.
fn eventful_last_hour(simulator: &Simulator) {
    let cluster = simulator.cluster();
    cluster.pin_clock(clock_start() - Duration::from_secs(100));
    cluster.backfill_next_collection();
    cluster.advance_clock(Duration::from_secs(25));
    assert!(cluster.set_node_responding(NODE2, false));
    cluster.advance_clock(Duration::from_secs(20));
    assert!(cluster.set_node_responding(NODE2, true));
    cluster.advance_clock(Duration::from_secs(30));
    assert!(cluster.reset_iscsi_counters(SVM2));
    cluster.pin_clock(clock_start() + Duration::from_secs(7));
}

async fn run_netapp_ontap_client(simulator: &Simulator) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, simulator.ca_certificate_pem().unwrap()).unwrap();
    let port = simulator.local_addr().port().to_string();
    let ca = ca.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&python_trusting_only_its_ca(
            "netapp_ontap_client.py",
            &["127.0.0.1", &port, &ca],
        ))
    })
    .await
    .unwrap();
    serde_json::from_str(out.trim()).expect("one JSON line")
}

#[tokio::test]
async fn netapp_ontap_library_reads_every_endpoint_and_runs_the_iscsi_story() {
    let simulator = Simulator::start(
        SimulatorConfig {
            tls: true,
            ..SimulatorConfig::default()
        },
        Cluster::seed(),
    )
    .await
    .unwrap();
    eventful_last_hour(&simulator);
    let (all, on_10_74, sessions) = simulator.cluster().with(|c| {
        (
            c.cifs_connections.len(),
            c.cifs_connections
                .iter()
                .filter(|c| c.client_ip.starts_with("10.74."))
                .count(),
            c.cifs_connections
                .iter()
                .map(|c| c.session_ids.len())
                .sum::<usize>(),
        )
    });

    let summary = run_netapp_ontap_client(&simulator).await;

    assert_eq!(summary["connections"], all, "followed every next link");
    assert_eq!(summary["distinct"], all);
    assert_eq!(summary["all_fields_connections"], all);
    assert_eq!(summary["all_fields_sessions"], sessions);
    assert_eq!(
        summary["all_fields_server_ips"],
        json!(["10.140.70.197", "10.140.70.198"])
    );
    assert_eq!(summary["wildcard"], on_10_74);

    assert_eq!(summary["services"], 1);
    for read in ["listed", "single"] {
        let live = &summary[read];
        assert_eq!(
            live["metric_timestamp"], "2026-01-01T00:00:00+00:00",
            "{read}"
        );
        assert_eq!(live["metric_status"], "ok", "{read}");
        assert_eq!(live["metric_duration"], "PT15S", "{read}");
        assert!(live["metric_iops_total"].as_u64() > Some(0), "{read}");
        assert_eq!(
            live["statistics_timestamp"], "2026-01-01T00:00:07+00:00",
            "{read}"
        );
        assert_eq!(live["statistics_status"], "ok", "{read}");
        assert!(
            live["statistics_iops_raw_total"].as_u64() > Some(0),
            "{read}"
        );
    }
    assert_eq!(
        summary["listed"]["statistics_iops_raw_total"],
        summary["single"]["statistics_iops_raw_total"]
    );

    for (interval, count, duration, oldest, statuses) in [
        (
            "1h",
            240,
            "PT15S",
            "2025-12-31T23:00:15+00:00",
            json!([
                "backfilled_data",
                "inconsistent_delta_time",
                "negative_delta",
                "ok",
                "partial_no_response"
            ]),
        ),
        (
            "1d",
            288,
            "PT5M",
            "2025-12-31T00:05:00+00:00",
            json!(["negative_delta", "ok"]),
        ),
        (
            "1w",
            336,
            "PT30M",
            "2025-12-25T00:30:00+00:00",
            json!(["negative_delta", "ok"]),
        ),
        (
            "1m",
            360,
            "PT2H",
            "2025-12-02T02:00:00+00:00",
            json!(["negative_delta", "ok"]),
        ),
        (
            "1y",
            365,
            "P1D",
            "2025-01-02T00:00:00+00:00",
            json!(["negative_delta", "ok"]),
        ),
    ] {
        let series = &summary["series"][interval];
        assert_eq!(series["count"], count, "{interval}");
        assert_eq!(series["distinct"], count, "{interval}: no sample twice");
        assert_eq!(series["newest"], "2026-01-01T00:00:00+00:00", "{interval}");
        assert_eq!(series["oldest"], oldest, "{interval}");
        assert_eq!(series["durations"], json!([duration]), "{interval}");
        assert_eq!(series["statuses"], statuses, "{interval}");
    }
    let sample = &summary["sample"];
    assert_eq!(sample["asked"], "2025-12-25T00:30:00+00:00");
    assert_eq!(sample["got"], sample["asked"], "the timestamp round-trips");
    assert_eq!(sample["duration"], "PT30M");
    assert_eq!(sample["status"], "ok");

    assert_eq!(summary["created"]["alias"], "svm1");
    assert_eq!(summary["created"]["enabled"], true);
    assert!(
        summary["created"]["target"]
            .as_str()
            .unwrap()
            .starts_with("iqn.1992-08.com.netapp:sn.19d04b8e94d711e88370005056b48fd2:vs.")
    );
    assert_eq!(summary["disabled_enabled"], false);
    assert_eq!(summary["gone_code"], "5374078");
}
