//! The fixed fixture cluster. UUIDs and values are stable because README examples and tests
//! quote them; everything is computed from indices, never from randomness or the clock.

use crate::resources::iscsi::service::{IscsiService, target_name};
use crate::resources::model::{CifsConnection, Cluster, Node, Svm, SvmState};
use crate::time::clock::from_unix_secs;

const NODE1_UUID: &str = "1cd8a442-86d1-11e0-ae1c-123478563412";
const NODE2_UUID: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";
const VS1_UUID: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
const SVM1_UUID: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
const SVM2_UUID: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const SVM_STOPPED_UUID: &str = "3b1e5d2a-94d7-11e8-8370-005056b48fd2";

/// Connections per node; 36 in all.
const CONNECTIONS_PER_NODE: u32 = 18;
/// First session identifier, taken from the reference page's example.
const FIRST_SESSION_ID: u64 = 625_718_873_227_788_312;
/// When `svm2`'s iSCSI service was created: 2024-12-01T00:00:00Z, more than a year before the
/// clock's default start, so every metrics interval has a full series from the first request on;
/// a clock started later (at the wall-clock time) only has more history behind it.
const SVM2_ISCSI_CREATED_UNIX_SECS: i64 = 1_733_011_200;

impl Cluster {
    /// `cluster1`, running ONTAP 9.14.1, with two nodes, four SVMs (`vs1` serving CIFS, `svm1`,
    /// `svm2`, stopped `svm_stopped`), 36 CIFS connections on `vs1` including the two from the
    /// reference page's example, and an enabled iSCSI service on `svm2` (the others have none, so
    /// one can be created on `svm1`).
    pub fn seed() -> Cluster {
        Self::seed_with_cifs_connections(2 * CONNECTIONS_PER_NODE)
    }

    /// The seed cluster with `total` CIFS connections on `vs1` instead of 36, alternating
    /// between the nodes and computed the same way, so the seed's 36 come first (for
    /// measuring what paging through a large collection costs).
    pub fn seed_with_cifs_connections(total: u32) -> Cluster {
        let nodes = vec![node(NODE1_UUID, "node1"), node(NODE2_UUID, "node2")];
        let svms = vec![
            svm(VS1_UUID, "vs1", SvmState::Running),
            svm(SVM1_UUID, "svm1", SvmState::Running),
            svm(SVM2_UUID, "svm2", SvmState::Running),
            svm(SVM_STOPPED_UUID, "svm_stopped", SvmState::Stopped),
        ];
        let cifs_connections = (0..total).map(|i| connection(i % 2, i / 2)).collect();
        let iscsi_services = vec![IscsiService::new(
            SVM2_UUID,
            target_name(SVM2_UUID, 4),
            Some("svm2".to_owned()),
            true,
            from_unix_secs(SVM2_ISCSI_CREATED_UNIX_SECS),
        )];
        Cluster {
            nodes,
            svms,
            cifs_connections,
            iscsi_services,
            ..Cluster::empty()
        }
    }
}

fn node(uuid: &str, name: &str) -> Node {
    Node {
        uuid: uuid.to_owned(),
        name: name.to_owned(),
    }
}

fn svm(uuid: &str, name: &str, state: SvmState) -> Svm {
    Svm::new(uuid, name, state)
}

/// The `k`th connection on node `n` (0 or 1).
fn connection(n: u32, k: u32) -> CifsConnection {
    let index = 2 * k + n;
    let (node_uuid, server_ip, identifier) = if n == 0 {
        // Steps of 14 put the page's second example, 92080, at k = 17.
        (NODE1_UUID, "10.140.70.197", 91_842 + 14 * k)
    } else {
        (NODE2_UUID, "10.140.70.198", 91_843 + 13 * k)
    };
    let client_ip = if index % 3 == 1 {
        format!("10.140.133.{}", (index * 37) % 200 + 20)
    } else {
        format!("10.74.7.{}", (index * 53) % 150 + 100)
    };
    // Independent of the client IP choice (index % 3), so neither predicts the other.
    let sessions = u64::from(index / 3 % 3 + 1);
    let mut c = CifsConnection {
        node_uuid: node_uuid.to_owned(),
        svm_uuid: VS1_UUID.to_owned(),
        identifier,
        network_context_id: (index * 5 + 2) % 8 + 1,
        client_ip,
        client_port: 1025 + (index * 7919 + 4099) % 63_975,
        server_ip: server_ip.to_owned(),
        session_ids: (0..sessions)
            .map(|j| FIRST_SESSION_ID + u64::from(index) * 10 + j)
            .collect(),
    };
    match identifier {
        91_842 if n == 0 => {
            c.client_ip = "10.74.7.182".to_owned();
            c.client_port = 12345;
            c.network_context_id = 3;
            c.session_ids = vec![FIRST_SESSION_ID];
        }
        92_080 if n == 0 => {
            c.client_ip = "10.140.133.97".to_owned();
            c.client_port = 23413;
            c.network_context_id = 5;
            c.session_ids = vec![625_718_873_227_788_579, 625_718_873_227_788_577];
        }
        _ => {}
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf;
    use std::collections::HashSet;

    #[test]
    fn seed_has_36_connections_on_vs1_across_both_nodes() {
        let cluster = Cluster::seed();
        assert_eq!(cluster.cifs_connections.len(), 36);
        assert!(
            cluster
                .cifs_connections
                .iter()
                .all(|c| c.svm_uuid == VS1_UUID)
        );
        for node in [NODE1_UUID, NODE2_UUID] {
            assert_eq!(
                cluster
                    .cifs_connections
                    .iter()
                    .filter(|c| c.node_uuid == node)
                    .count(),
                18
            );
        }
    }

    #[test]
    fn identifiers_are_unique_per_node() {
        let cluster = Cluster::seed();
        let keys: HashSet<_> = cluster
            .cifs_connections
            .iter()
            .map(|c| (&c.node_uuid, c.identifier))
            .collect();
        assert_eq!(keys.len(), 36);
    }

    #[test]
    fn session_identifiers_are_unique() {
        let cluster = Cluster::seed();
        let all: Vec<u64> = cluster
            .cifs_connections
            .iter()
            .flat_map(|c| c.session_ids.iter().copied())
            .collect();
        let unique: HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn values_stay_in_their_documented_ranges() {
        for c in Cluster::seed().cifs_connections {
            assert!((1025..=65000).contains(&c.client_port), "{c:?}");
            assert!((1..=8).contains(&c.network_context_id), "{c:?}");
            assert!((1..=3).contains(&c.session_ids.len()), "{c:?}");
            assert!(
                c.client_ip.starts_with("10.74.7.") || c.client_ip.starts_with("10.140.133."),
                "{c:?}"
            );
        }
    }

    #[test]
    fn page_examples_are_included() {
        let cluster = Cluster::seed();
        let first = cluster
            .cifs_connections
            .iter()
            .find(|c| c.identifier == 91842)
            .expect("91842");
        assert_eq!(
            (
                first.client_ip.as_str(),
                first.client_port,
                first.network_context_id
            ),
            ("10.74.7.182", 12345, 3)
        );
        assert_eq!(first.session_ids, [625_718_873_227_788_312]);
        let second = cluster
            .cifs_connections
            .iter()
            .find(|c| c.identifier == 92080)
            .expect("92080");
        assert_eq!(second.server_ip, "10.140.70.197");
        assert_eq!(
            second.session_ids,
            [625_718_873_227_788_579, 625_718_873_227_788_577]
        );
    }

    #[test]
    fn only_svm2_has_an_iscsi_service_and_it_is_enabled() {
        let cluster = Cluster::seed();
        assert_eq!(cluster.iscsi_services.len(), 1);
        let service = &cluster.iscsi_services[0];
        assert_eq!(service.svm_uuid, SVM2_UUID);
        assert!(service.enabled);
        assert_eq!(cluster.vserver_id(SVM2_UUID), Some(4));
        assert!(service.target_name.ends_with(":vs.4"));
        assert!(cluster.iscsi_licensed && !cluster.asa_r2 && !cluster.metrics_failure);
    }

    #[test]
    fn svm2_service_predates_a_year_of_history() {
        let created = Cluster::seed().iscsi_services[0].created_at;
        let year = std::time::Duration::from_secs(365 * 86_400);
        assert!(created + year < crate::time::clock::clock_start());
    }

    #[test]
    fn seed_is_cluster1_running_ontap_9_14_1() {
        let cluster = Cluster::seed();
        assert_eq!(cluster.name, "cluster1");
        assert_eq!(cluster.uuid, "1cd8a442-86d1-11e0-ae1c-123478563411");
        let version = &cluster.version;
        assert_eq!(
            (version.generation, version.major, version.minor),
            (9, 14, 1)
        );
        assert!(
            version.full.starts_with("NetApp Release 9.14.1: "),
            "{}",
            version.full
        );
    }

    /// The default start, the end of 2026, and years on: the gateway starts the clock at the
    /// wall-clock time.
    const LATER_STARTS: [&str; 3] = [
        "2026-01-01T00:00:00Z",
        "2026-11-30T00:00:00Z",
        "2030-01-01T00:00:00Z",
    ];

    #[test]
    fn svm2_service_has_a_full_year_of_growing_history_from_any_later_start() {
        let cluster = Cluster::seed();
        let service = &cluster.iscsi_services[0];
        let timeline = cluster.iscsi_timeline(service);
        let workload = service.workload();
        for start in LATER_STARTS {
            let now = crate::time::parse_timestamp(start).expect("a timestamp");
            let year = perf::history(&workload, &timeline, now, perf::Interval::Year);
            assert_eq!(year.len(), 365, "{start}");
            assert!(year.iter().all(|s| s.iops.total > 0), "{start}");
            let before = perf::counters_at(&workload, &timeline, now - 15);
            let after = perf::counters_at(&workload, &timeline, now);
            assert!(before.ops.total < after.ops.total, "{start}");
            assert!(before.bytes.total < after.bytes.total, "{start}");
            assert!(before.latency_us.total < after.latency_us.total, "{start}");
        }
    }

    #[test]
    fn a_larger_seed_starts_with_the_seed_and_has_unique_connections() {
        let large = Cluster::seed_with_cifs_connections(100_001);
        assert_eq!(large.cifs_connections.len(), 100_001);
        assert_eq!(
            large.cifs_connections[..36],
            Cluster::seed().cifs_connections[..]
        );
        let keys: HashSet<_> = large
            .cifs_connections
            .iter()
            .map(|c| (c.node_uuid.as_str(), c.identifier))
            .collect();
        assert_eq!(keys.len(), 100_001);
    }

    #[test]
    fn seed_is_deterministic() {
        assert_eq!(Cluster::seed(), Cluster::seed());
    }
}
