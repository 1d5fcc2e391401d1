//! The simulator as a real third-party ONTAP client sees it: NetApp's own
//! Python library (netapp-ontap) over HTTPS, reading every endpoint of the
//! reference pages through its resources (whose schemas validate timestamps,
//! durations, statuses and enums), paging, filtering, the iSCSI
//! create/disable/delete story, CIFS and iSCSI sessions read by their keys,
//! and a CIFS session (its identifier above 2^63) closed with `delete()`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::tools::{python_trusting_only_its_ca, stdout_of};
use ontap_simulator::{Cluster, Simulator, SimulatorConfig, clock_start};
use serde_json::{Value, json};

const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const VS1: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
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
async fn netapp_ontap_library_reads_every_endpoint_runs_the_iscsi_story_and_closes_a_cifs_session()
{
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
    let (on_vs1, all, on_10_74, sessions) = simulator.cluster().with(|c| {
        (
            c.cifs_connections
                .iter()
                .filter(|c| c.svm_uuid == VS1)
                .count(),
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

    let (cifs_sessions, above_i64, iscsi_sessions) = simulator.cluster().with(|c| {
        let sessions = c.cifs_sessions();
        let above_i64 = sessions
            .iter()
            .find(|s| s.key.identifier > i64::MAX.unsigned_abs())
            .expect("the seed has a session ID above 2^63 - 1")
            .clone();
        let name = |s: &ontap_simulator::IscsiSession| {
            c.svms
                .iter()
                .find(|svm| svm.uuid == s.svm_uuid)
                .map(|svm| svm.name.clone())
                .expect("a seed SVM")
        };
        let mut iscsi: Vec<_> = c
            .served_iscsi_sessions()
            .map(|s| (name(s), s.clone()))
            .collect();
        iscsi.sort_by(|(a_svm, a), (b_svm, b)| {
            (a_svm, &a.target_portal_group, a.tsih).cmp(&(b_svm, &b.target_portal_group, b.tsih))
        });
        (sessions, above_i64, iscsi)
    });

    let summary = run_netapp_ontap_client(&simulator).await;

    assert_eq!(on_vs1, 36);
    assert_eq!(summary["connections"], on_vs1, "followed every next link");
    assert_eq!(summary["distinct"], on_vs1);
    assert_eq!(all, 40);
    assert_eq!(summary["all_fields_connections"], all);
    assert_eq!(summary["all_fields_sessions"], sessions);
    // vs1's LIF on each node, then svm3's.
    assert_eq!(
        summary["all_fields_server_ips"],
        json!([
            "10.140.70.197",
            "10.140.70.198",
            "10.140.70.201",
            "10.140.70.202"
        ])
    );
    assert_eq!(summary["wildcard"], on_10_74);

    assert_eq!(summary["services"], 2, "svm2's and svm3's");
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

    assert_cifs_sessions(
        &simulator,
        &summary["cifs_sessions"],
        &cifs_sessions,
        &above_i64,
    );
    assert_iscsi_sessions(&summary["iscsi_sessions"], &iscsi_sessions);
}

/// The library paged through every session of vs1, filtered them by dialect,
/// read the one above 2^63 by its four keys as listed, was refused a session
/// ID with connection ID 0 (655503), closed the session, and then found it
/// neither by its keys (code 4) nor in its connection, as the cluster says.
fn assert_cifs_sessions(
    simulator: &Simulator,
    summary: &Value,
    sessions: &[ontap_simulator::CifsSession],
    above_i64: &ontap_simulator::CifsSession,
) {
    // The seed's sessions are on vs1 and svm3.
    let on_vs1: Vec<_> = sessions.iter().filter(|s| s.key.svm_uuid == VS1).collect();
    assert!(on_vs1.len() < sessions.len(), "svm3 has sessions too");
    assert_eq!(summary["listed"], on_vs1.len(), "every session of vs1");
    assert_eq!(summary["distinct"], on_vs1.len());
    let protocols: BTreeSet<&str> = on_vs1.iter().map(|s| s.protocol.as_str()).collect();
    assert_eq!(summary["protocols"], json!(protocols));
    // protocol=smb3*, of every SVM.
    let smb3 = sessions
        .iter()
        .filter(|s| s.protocol.as_str().starts_with("smb3"))
        .count();
    assert!(smb3 > 0);
    assert_eq!(summary["smb3"], smb3, "protocol=smb3*");
    assert_eq!(summary["smb3_protocols"], json!(["smb3", "smb3_1"]));

    let key = &above_i64.key;
    assert_eq!(key.identifier, 9_876_543_210_987_654_321);
    assert_eq!(summary["above_i64"], key.identifier, "exact, not rounded");
    let single = &summary["single"];
    assert_eq!(
        single["location"],
        format!(
            "/api/protocols/cifs/sessions/{}/{}/{}/{}",
            key.node_uuid, key.svm_uuid, key.identifier, key.connection_id
        )
    );
    assert_eq!(single["identifier"], key.identifier);
    assert_eq!(single["connection_id"], key.connection_id);
    assert_eq!(single["node_name"], "node2");
    assert_eq!(single["svm_name"], "vs1");
    assert_eq!(single["client_ip"], above_i64.client_ip);
    assert_eq!(single["server_ip"], above_i64.server_ip);
    assert_eq!(single["user"], json!(above_i64.user));
    assert_eq!(single["authentication"], above_i64.authentication.as_str());
    assert_eq!(single["protocol"], above_i64.protocol.as_str());
    assert_eq!(single["smb_encryption"], above_i64.smb_encryption.as_str());
    assert_eq!(single["open_shares"], above_i64.open_shares);
    let volumes: Vec<&str> = above_i64.volumes.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(single["volumes"], json!(volumes));
    assert!(
        single["connected_duration"]
            .as_str()
            .is_some_and(|d| d.starts_with("PT")),
        "{single}"
    );
    assert_eq!(single["same_as_listed"], true, "{single}");

    assert_eq!(summary["refused_code"], "655503");
    assert_eq!(summary["gone_code"], "4");
    let (gone, left) = simulator.cluster().with(|c| {
        let left: Vec<Vec<u64>> = c
            .cifs_connections
            .iter()
            .filter(|c| {
                c.node_uuid == key.node_uuid
                    && c.svm_uuid == key.svm_uuid
                    && c.identifier == key.connection_id
            })
            .map(|c| c.session_ids.clone())
            .collect();
        (c.cifs_session(key).is_none(), left)
    });
    assert!(gone, "the cluster closed {key:?}");
    assert_eq!(left.len(), 1, "its connection carries another session");
    assert!(!left[0].contains(&key.identifier));
    assert_eq!(summary["connection_sessions"], json!(left));
    // The refused delete closed nothing: one session fewer in all.
    let after = simulator.cluster().with(|c| c.cifs_sessions().len());
    assert_eq!(after, sessions.len() - 1);
}

/// The library read every iSCSI session, then one by its keys: with its own
/// IscsiSession (whose key `tpgroup` no field holds, so the portal group
/// drops out of the path) the path is no session's; with the key named by
/// its field, it reads the session as listed.
fn assert_iscsi_sessions(summary: &Value, sessions: &[(String, ontap_simulator::IscsiSession)]) {
    assert_eq!(summary["listed"], sessions.len());
    let keys: Vec<Value> = sessions
        .iter()
        .map(|(svm, s)| json!([svm, s.target_portal_group, s.tsih]))
        .collect();
    assert_eq!(summary["keys"], json!(keys));
    let svms: BTreeSet<&str> = sessions.iter().map(|(svm, _)| svm.as_str()).collect();
    assert_eq!(svms, BTreeSet::from(["svm2", "svm3"]));
    assert_eq!(summary["authentication_types"], json!(["chap", "none"]));
    // The first listed: svm2's, whose UUID sorts first.
    let (svm, first) = &sessions[0];
    assert_eq!(svm, "svm2");
    assert_eq!(
        summary["stock_location"],
        format!("/api/protocols/san/iscsi/sessions/{SVM2}/{}", first.tsih),
        "netapp-ontap 9.19.1 leaves the portal group out"
    );
    let single = &summary["single"];
    assert_eq!(
        single["location"],
        format!(
            "/api/protocols/san/iscsi/sessions/{SVM2}/{}/{}",
            first.target_portal_group, first.tsih
        )
    );
    assert_eq!(single["initiator"], first.initiator.name);
    assert_eq!(single["isid"], first.isid);
    let igroups: Vec<&str> = first.igroups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(single["igroups"], json!(igroups));
    let interfaces: Vec<&str> = first
        .connections
        .iter()
        .map(|c| c.interface.name.as_str())
        .collect();
    assert_eq!(single["interfaces"], json!(interfaces));
    assert_eq!(single["same_as_listed"], true, "{single}");
}
