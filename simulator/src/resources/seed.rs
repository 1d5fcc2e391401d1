//! The fixed fixture cluster. UUIDs and values are stable because README examples and tests
//! quote them; everything is computed from indices, never from randomness or the clock.
//!
//! The CIFS connections (and so the CIFS sessions, their `session_ids`) come from one generator,
//! which also grows any cluster to a size ([`Cluster::resize_cifs_connections`]); the iSCSI
//! sessions are hand-written in [`iscsi_sessions`], which also generates more.

pub(crate) mod iscsi_sessions;
pub(crate) mod sizing;

use crate::resources::iscsi::service::{IscsiService, target_name};
use crate::resources::model::{CifsConnection, Cluster, Node, Svm, SvmState};
use crate::time::clock::from_unix_secs;

const NODE1_UUID: &str = "1cd8a442-86d1-11e0-ae1c-123478563412";
const NODE2_UUID: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";
const VS1_UUID: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
const SVM1_UUID: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
pub(crate) const SVM2_UUID: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
const SVM_STOPPED_UUID: &str = "3b1e5d2a-94d7-11e8-8370-005056b48fd2";
/// Sorts after every other SVM's UUID: a listing without `order_by` is sorted by its identity
/// fields (for CIFS, the node's UUID, then the SVM's), so it serves each node's `vs1` records
/// before its `svm3` ones, and `svm2`'s iSCSI service and sessions before `svm3`'s.
pub(crate) const SVM3_UUID: &str = "fd3a6b25-94d7-11e8-8370-005056b48fd2";

/// `vs1`'s connections per node; 36 in all.
const VS1_CONNECTIONS_PER_NODE: u32 = 18;
/// `svm3`'s connections, two per node: the generator's next four after `vs1`'s 36.
const SVM3_CONNECTIONS: u32 = 4;
/// The seed's CIFS connections: `vs1`'s 36, then `svm3`'s 4.
const SEED_CIFS_CONNECTIONS: u32 = 2 * VS1_CONNECTIONS_PER_NODE + SVM3_CONNECTIONS;
/// First session identifier, taken from the reference page's example.
const FIRST_SESSION_ID: u64 = 625_718_873_227_788_312;
/// A session identifier above 2^63 - 1, as NetApp's own example has one, so a client that reads
/// session IDs as signed 64-bit (or as doubles) fails on the seed rather than on a cluster.
pub(crate) const SESSION_ID_ABOVE_I64: u64 = 9_876_543_210_987_654_321;
/// The generated connection whose first session carries [`SESSION_ID_ABOVE_I64`]: the third on
/// node 2 (identifier 91869), which is none of the page's examples.
const INDEX_ABOVE_I64: u32 = 5;
/// When `svm2`'s and `svm3`'s iSCSI services were created: 2024-12-01T00:00:00Z, more than a
/// year before the clock's default start, so every metrics interval has a full series from the
/// first request on; a clock started later (at the wall-clock time) only has more history behind
/// it.
const ISCSI_CREATED_UNIX_SECS: i64 = 1_733_011_200;
/// `svm3`'s CIFS LIF on the node at position `n` is `10.140.70.(201 + n)` (`vs1`'s are
/// `10.140.70.(197 + n)`).
const SVM3_CIFS_LIF_BASE: u32 = 201;

impl Cluster {
    /// `cluster1`, running ONTAP 9.14.1, with two nodes and five SVMs: `vs1` serving CIFS,
    /// `svm1`, `svm2`, stopped `svm_stopped`, and `svm3` serving CIFS and iSCSI. 40 CIFS
    /// connections across both nodes (their sessions are the CIFS sessions): 36 on `vs1`,
    /// including the two from the reference page's example and a session with an ID above
    /// 2^63, then 4 on `svm3`. Enabled iSCSI services on `svm2`, with four sessions from three
    /// initiators, and on `svm3`, with three sessions from two; `svm1` has none, so one can be
    /// created there.
    pub fn seed() -> Cluster {
        Self::seed_with_cifs_connections(SEED_CIFS_CONNECTIONS)
    }

    /// The seed cluster with `total` CIFS connections instead of 40: the seed's first `total`
    /// (`vs1`'s 36 come first, then `svm3`'s 4), and past the seed's 40 more on `vs1`, computed
    /// the same way and alternating between the nodes (for measuring what paging through a
    /// large collection costs). It is the seed grown (or shrunk) by
    /// [`Cluster::resize_cifs_connections`].
    pub fn seed_with_cifs_connections(total: u32) -> Cluster {
        let nodes = vec![node(NODE1_UUID, "node1"), node(NODE2_UUID, "node2")];
        let svms = vec![
            svm(VS1_UUID, "vs1", SvmState::Running),
            svm(SVM1_UUID, "svm1", SvmState::Running),
            svm(SVM2_UUID, "svm2", SvmState::Running),
            svm(SVM_STOPPED_UUID, "svm_stopped", SvmState::Stopped),
            svm(SVM3_UUID, "svm3", SvmState::Running),
        ];
        let cifs_connections = (0..total)
            .filter_map(|i| seed_connection(&nodes, i))
            .collect();
        let iscsi_services = vec![
            IscsiService::new(
                SVM2_UUID,
                target_name(SVM2_UUID, 4),
                Some("svm2".to_owned()),
                true,
                from_unix_secs(ISCSI_CREATED_UNIX_SECS),
            ),
            IscsiService::new(
                SVM3_UUID,
                target_name(SVM3_UUID, 6),
                Some("svm3".to_owned()),
                true,
                from_unix_secs(ISCSI_CREATED_UNIX_SECS),
            ),
        ];
        Cluster {
            nodes,
            svms,
            cifs_connections,
            iscsi_services,
            iscsi_sessions: iscsi_sessions::seeded(),
            ..Cluster::empty()
        }
    }
}

/// The seed's `index`th connection: the generator's, on `vs1` except for the four after `vs1`'s
/// 36, which are on `svm3` through its own LIFs. Past the seed's 40 they are on `vs1` again, as
/// [`Cluster::resize_cifs_connections`] grows the seed.
fn seed_connection(nodes: &[Node], index: u32) -> Option<CifsConnection> {
    let vs1 = 2 * VS1_CONNECTIONS_PER_NODE;
    if (vs1..SEED_CIFS_CONNECTIONS).contains(&index) {
        let mut c = generated_connection(nodes, SVM3_UUID, index)?;
        let n = index % u32::try_from(nodes.len()).ok()?;
        c.server_ip = format!("10.140.70.{}", SVM3_CIFS_LIF_BASE + n);
        Some(c)
    } else {
        generated_connection(nodes, VS1_UUID, index)
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

/// The `index`th connection the generator makes on `svm_uuid`, alternating over `nodes`: the
/// `k`th connection on the node at position `n` has identifier `91842 + n + (14 - n % 2) * k`
/// (91842 + 14k on the first node, 91843 + 13k on the second, as the seed has always had them)
/// and the server address `10.140.70.(197 + n)`. `None` without nodes, or past the identifiers'
/// range.
pub(crate) fn generated_connection(
    nodes: &[Node],
    svm_uuid: &str,
    index: u32,
) -> Option<CifsConnection> {
    let count = u32::try_from(nodes.len()).ok().filter(|count| *count > 0)?;
    let (n, k) = (index % count, index / count);
    let node = nodes.get(usize::try_from(n).ok()?)?;
    // Steps of 14 put the page's second example, 92080, at k = 17 on the first node.
    let identifier = (14 - n % 2)
        .checked_mul(k)?
        .checked_add(91_842_u32.checked_add(n)?)?;
    let client_ip = if index % 3 == 1 {
        format!("10.140.133.{}", (u64::from(index) * 37) % 200 + 20)
    } else {
        format!("10.74.7.{}", (u64::from(index) * 53) % 150 + 100)
    };
    // Independent of the client IP choice (index % 3), so neither predicts the other.
    let sessions = u64::from(index / 3 % 3 + 1);
    let first_session = FIRST_SESSION_ID.checked_add(u64::from(index) * 10)?;
    let mut c = CifsConnection {
        node_uuid: node.uuid.clone(),
        svm_uuid: svm_uuid.to_owned(),
        identifier,
        network_context_id: (index.wrapping_mul(5).wrapping_add(2)) % 8 + 1,
        client_ip,
        client_port: u32::try_from((u64::from(index) * 7919 + 4099) % 63_975).ok()? + 1025,
        server_ip: format!("10.140.70.{}", 197 + n % 58),
        session_ids: (0..sessions).map(|j| first_session + j).collect(),
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
        _ if index == INDEX_ABOVE_I64 => c.session_ids[0] = SESSION_ID_ABOVE_I64,
        _ => {}
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf;
    use std::collections::HashSet;

    #[test]
    fn seed_has_36_connections_on_vs1_then_4_on_svm3_across_both_nodes() {
        let cluster = Cluster::seed();
        assert_eq!(cluster.cifs_connections.len(), 40);
        let (vs1, svm3) = cluster.cifs_connections.split_at(36);
        assert!(vs1.iter().all(|c| c.svm_uuid == VS1_UUID));
        assert!(svm3.iter().all(|c| c.svm_uuid == SVM3_UUID));
        for (node, n) in [(NODE1_UUID, 0), (NODE2_UUID, 1)] {
            let on = |connections: &[CifsConnection]| {
                connections.iter().filter(|c| c.node_uuid == node).count()
            };
            assert_eq!((on(vs1), on(svm3)), (18, 2), "{node}");
            // Each SVM's clients reach it through its own LIF on the node.
            for (connections, lif) in [(vs1, 197 + n), (svm3, 201 + n)] {
                assert!(
                    connections
                        .iter()
                        .filter(|c| c.node_uuid == node)
                        .all(|c| c.server_ip == format!("10.140.70.{lif}")),
                    "{node}"
                );
            }
        }
        let sessions = |connections: &[CifsConnection]| {
            connections
                .iter()
                .map(|c| c.session_ids.len())
                .sum::<usize>()
        };
        assert_eq!((sessions(vs1), sessions(svm3)), (71, 5));
    }

    #[test]
    fn fewer_connections_are_the_seeds_first_so_36_are_vs1s() {
        let seed = Cluster::seed();
        for total in [0, 3, 36, 38, 40] {
            let fewer = Cluster::seed_with_cifs_connections(total);
            assert_eq!(
                fewer.cifs_connections,
                seed.cifs_connections[..total as usize]
            );
            assert_eq!(
                Cluster {
                    cifs_connections: seed.cifs_connections.clone(),
                    ..fewer
                },
                seed
            );
        }
        assert!(
            Cluster::seed_with_cifs_connections(36)
                .cifs_connections
                .iter()
                .all(|c| c.svm_uuid == VS1_UUID)
        );
    }

    #[test]
    fn without_nodes_no_connection_is_generated() {
        assert_eq!(generated_connection(&[], VS1_UUID, 0), None);
    }

    #[test]
    fn generated_connections_alternate_over_nodes_with_the_documented_identifiers() {
        let nodes = Cluster::seed().nodes;
        let at = |index| generated_connection(&nodes, VS1_UUID, index).unwrap();
        // 91842 + 14k on the first node, 91843 + 13k on the second.
        assert_eq!(
            (at(0).identifier, at(0).node_uuid.as_str()),
            (91_842, NODE1_UUID)
        );
        assert_eq!(
            (at(3).identifier, at(3).node_uuid.as_str()),
            (91_856, NODE2_UUID)
        );
        assert_eq!(at(34).identifier, 92_080);
        assert_eq!(at(3).server_ip, "10.140.70.198");
    }

    #[test]
    fn one_generated_client_in_three_is_on_the_second_subnet() {
        let nodes = Cluster::seed().nodes;
        for index in 0..300 {
            let c = generated_connection(&nodes, VS1_UUID, index).unwrap();
            let second = c.client_ip.starts_with("10.140.133.");
            assert_eq!(second, index % 3 == 1, "{index}: {}", c.client_ip);
        }
    }

    #[test]
    fn generated_client_ports_step_by_a_prime_through_the_unprivileged_range() {
        let nodes = Cluster::seed().nodes;
        let port = |index| {
            generated_connection(&nodes, VS1_UUID, index)
                .unwrap()
                .client_port
        };
        // (7919 * index + 4099) mod 63975, from 1025: index 0 is the seed's fixed 12345.
        assert_eq!(port(1), 13_043);
        assert_eq!(port(2), 20_962);
        let ports: HashSet<u32> = (0..63_975).map(port).collect();
        assert!(ports.iter().all(|p| (1025..=65_000).contains(p)));
        assert!(ports.len() > 63_000, "{}", ports.len());
    }

    #[test]
    fn identifiers_are_unique_per_node() {
        let cluster = Cluster::seed();
        let keys: HashSet<_> = cluster
            .cifs_connections
            .iter()
            .map(|c| (&c.node_uuid, c.identifier))
            .collect();
        assert_eq!(keys.len(), 40);
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
    fn svm2_and_svm3_have_enabled_iscsi_services_and_no_other_svm_has_one() {
        let cluster = Cluster::seed();
        assert_eq!(cluster.iscsi_services.len(), 2);
        for (service, (uuid, id)) in cluster
            .iscsi_services
            .iter()
            .zip([(SVM2_UUID, 4), (SVM3_UUID, 6)])
        {
            assert_eq!(service.svm_uuid, uuid);
            assert!(service.enabled);
            assert_eq!(cluster.vserver_id(uuid), Some(id));
            assert_eq!(service.target_name, target_name(uuid, id));
        }
        for uuid in [VS1_UUID, SVM1_UUID, SVM_STOPPED_UUID] {
            assert!(cluster.iscsi_service(uuid).is_none(), "{uuid}");
        }
        assert!(cluster.iscsi_licensed && !cluster.asa_r2 && !cluster.metrics_failure);
    }

    #[test]
    fn every_service_predates_a_year_of_history() {
        let year = std::time::Duration::from_secs(365 * 86_400);
        for service in Cluster::seed().iscsi_services {
            assert!(service.created_at + year < crate::time::clock::clock_start());
        }
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
    fn every_service_has_a_full_year_of_growing_history_from_any_later_start() {
        let cluster = Cluster::seed();
        for service in &cluster.iscsi_services {
            let timeline = cluster.iscsi_timeline(service);
            let workload = service.workload();
            for start in LATER_STARTS {
                let at = (&service.svm_uuid, start);
                let now = crate::time::parse_timestamp(start).expect("a timestamp");
                let year = perf::history(&workload, &timeline, now, perf::Interval::Year);
                assert_eq!(year.len(), 365, "{at:?}");
                assert!(year.iter().all(|s| s.iops.total > 0), "{at:?}");
                let before = perf::counters_at(&workload, &timeline, now - 15);
                let after = perf::counters_at(&workload, &timeline, now);
                assert!(before.ops.total < after.ops.total, "{at:?}");
                assert!(before.bytes.total < after.bytes.total, "{at:?}");
                assert!(before.latency_us.total < after.latency_us.total, "{at:?}");
            }
        }
    }

    #[test]
    fn a_larger_seed_starts_with_the_seed_and_has_unique_connections() {
        let large = Cluster::seed_with_cifs_connections(100_001);
        assert_eq!(large.cifs_connections.len(), 100_001);
        assert_eq!(
            large.cifs_connections[..40],
            Cluster::seed().cifs_connections[..]
        );
        assert!(
            large.cifs_connections[40..]
                .iter()
                .all(|c| c.svm_uuid == VS1_UUID)
        );
        let keys: HashSet<_> = large
            .cifs_connections
            .iter()
            .map(|c| (c.node_uuid.as_str(), c.identifier))
            .collect();
        assert_eq!(keys.len(), 100_001);
    }

    #[test]
    fn one_seeded_session_identifier_is_above_i64_max() {
        let cluster = Cluster::seed();
        let holders: Vec<_> = cluster
            .cifs_connections
            .iter()
            .filter(|c| c.session_ids.contains(&SESSION_ID_ABOVE_I64))
            .collect();
        assert_eq!(holders.len(), 1);
        assert!(SESSION_ID_ABOVE_I64 > i64::MAX as u64);
        assert_eq!(holders[0].identifier, 91_869);
    }

    #[test]
    fn svm2_has_four_iscsi_sessions_and_svm3_three_all_served() {
        let cluster = Cluster::seed();
        assert_eq!(cluster.served_iscsi_sessions().count(), 7);
        for (svm, count) in [(SVM2_UUID, 4), (SVM3_UUID, 3)] {
            let on_svm = cluster
                .served_iscsi_sessions()
                .filter(|s| s.svm_uuid == svm);
            assert_eq!(on_svm.count(), count, "{svm}");
        }
    }

    #[test]
    fn seed_is_deterministic() {
        assert_eq!(Cluster::seed(), Cluster::seed());
    }
}
