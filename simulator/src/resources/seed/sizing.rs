//! Growing (or shrinking) a cluster to the sizes [`crate::SimulatorConfig`] asks for, with
//! records generated as the seed's are, so a big cluster starts with the seed's own.

use std::collections::HashSet;

use super::generated_connection;
use super::iscsi_sessions;
use crate::resources::model::{Cluster, SvmState};

/// Why a cluster could not be brought to a size.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SizingError {
    /// More CIFS connections were asked for than the cluster has, and it has no node or no
    /// running SVM to place new ones on.
    #[error("CIFS connections need a node and a running SVM to be placed on")]
    NoCifsPlacement,
    /// More iSCSI sessions were asked for than the cluster has, and no SVM has an enabled iSCSI
    /// service to log in to.
    #[error("iSCSI sessions need an SVM with an enabled iSCSI service to log in to")]
    NoIscsiTarget,
    /// The generator ran out of identifiers before reaching the size.
    #[error("identifiers ran out after {reached} {what}")]
    Exhausted {
        /// How many there were then.
        reached: usize,
        /// What was being generated.
        what: &'static str,
    },
}

impl Cluster {
    /// Makes the cluster hold exactly `total` CIFS connections (and so their sessions): its own
    /// first, the first `total` if it has more; then connections generated as the seed's are,
    /// on the SVM of its first connection (else its first running SVM), alternating over its
    /// nodes, leaving out any whose identifier its node already uses. On the seed this gives
    /// exactly [`Cluster::seed_with_cifs_connections`]`(total)`.
    pub fn resize_cifs_connections(&mut self, total: usize) -> Result<(), SizingError> {
        if self.cifs_connections.len() >= total {
            self.cifs_connections.truncate(total);
            return Ok(());
        }
        let svm_uuid = match self.cifs_connections.first() {
            Some(first) => first.svm_uuid.clone(),
            None => self
                .svms
                .iter()
                .find(|s| s.state == SvmState::Running)
                .map(|s| s.uuid.clone())
                .ok_or(SizingError::NoCifsPlacement)?,
        };
        if self.nodes.is_empty() {
            return Err(SizingError::NoCifsPlacement);
        }
        let mut taken: HashSet<(String, u32)> = self
            .cifs_connections
            .iter()
            .map(|c| (c.node_uuid.clone(), c.identifier))
            .collect();
        let mut index = u32::try_from(self.cifs_connections.len()).unwrap_or(u32::MAX);
        while self.cifs_connections.len() < total {
            let exhausted = SizingError::Exhausted {
                reached: self.cifs_connections.len(),
                what: "CIFS connections",
            };
            let connection =
                generated_connection(&self.nodes, &svm_uuid, index).ok_or(exhausted.clone())?;
            index = index.checked_add(1).ok_or(exhausted)?;
            if taken.insert((connection.node_uuid.clone(), connection.identifier)) {
                self.cifs_connections.push(connection);
            }
        }
        Ok(())
    }

    /// Makes the cluster hold exactly `total` iSCSI sessions: its own first, the first `total`
    /// if it has more; then sessions generated round-robin over the SVMs whose iSCSI service is
    /// enabled, leaving out any whose key is taken. Generated hosts
    /// (`iqn.1994-05.com.example:host<h>`) log in through two portal groups each, in an igroup
    /// of their own, one connection per session.
    pub fn resize_iscsi_sessions(&mut self, total: usize) -> Result<(), SizingError> {
        if self.iscsi_sessions.len() >= total {
            self.iscsi_sessions.truncate(total);
            return Ok(());
        }
        let targets: Vec<(String, String)> = self
            .svms
            .iter()
            .filter(|svm| self.iscsi_service(&svm.uuid).is_some_and(|s| s.enabled))
            .map(|svm| (svm.uuid.clone(), svm.name.clone()))
            .collect();
        let count = u64::try_from(targets.len()).unwrap_or(u64::MAX);
        if count == 0 {
            return Err(SizingError::NoIscsiTarget);
        }
        let mut taken: HashSet<(String, String, u16)> = self
            .iscsi_sessions
            .iter()
            .map(|s| (s.svm_uuid.clone(), s.target_portal_group.clone(), s.tsih))
            .collect();
        let mut index: u64 = 0;
        while self.iscsi_sessions.len() < total {
            let (svm_uuid, svm_name) = &targets[usize::try_from(index % count).unwrap_or(0)];
            let session = iscsi_sessions::generated(svm_uuid, svm_name, index / count).ok_or(
                SizingError::Exhausted {
                    reached: self.iscsi_sessions.len(),
                    what: "iSCSI sessions",
                },
            )?;
            index += 1;
            let key = (
                session.svm_uuid.clone(),
                session.target_portal_group.clone(),
                session.tsih,
            );
            if taken.insert(key) {
                self.iscsi_sessions.push(session);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::iscsi::service::IscsiService;
    use crate::resources::model::Svm;
    use crate::time::clock::clock_start;

    #[test]
    fn growing_the_seeds_connections_gives_the_larger_seed() {
        let mut grown = Cluster::seed();
        grown.resize_cifs_connections(1_001).expect("room");
        assert_eq!(grown, Cluster::seed_with_cifs_connections(1_001));
    }

    #[test]
    fn shrinking_keeps_the_first_records() {
        let mut small = Cluster::seed();
        small.resize_cifs_connections(3).expect("fewer");
        small.resize_iscsi_sessions(1).expect("fewer");
        assert_eq!(
            small.cifs_connections,
            Cluster::seed().cifs_connections[..3]
        );
        assert_eq!(small.iscsi_sessions, Cluster::seed().iscsi_sessions[..1]);
    }

    #[test]
    fn iscsi_sessions_grow_over_every_enabled_service_with_distinct_keys() {
        let mut cluster = Cluster::seed();
        let svm1 = cluster.svms[1].uuid.clone();
        cluster.iscsi_services.push(IscsiService::new(
            svm1.clone(),
            "iqn.1992-08.com.netapp:sn.x:vs.3",
            None,
            true,
            clock_start(),
        ));
        cluster.resize_iscsi_sessions(1_000).expect("room");
        assert_eq!(cluster.iscsi_sessions.len(), 1_000);
        assert_eq!(
            cluster.iscsi_sessions[..7],
            Cluster::seed().iscsi_sessions[..]
        );
        let keys: HashSet<_> = cluster
            .iscsi_sessions
            .iter()
            .map(|s| (&s.svm_uuid, &s.target_portal_group, s.tsih))
            .collect();
        assert_eq!(keys.len(), 1_000);
        for svm in [&svm1, &cluster.svms[2].uuid, &cluster.svms[4].uuid] {
            let on_svm = cluster.iscsi_sessions.iter().filter(|s| &s.svm_uuid == svm);
            assert!(on_svm.count() > 300, "{svm}");
        }
        assert_eq!(cluster.served_iscsi_sessions().count(), 1_000);
    }

    #[test]
    fn connections_grown_from_none_go_to_the_first_running_svm() {
        let mut cluster = Cluster {
            cifs_connections: Vec::new(),
            ..Cluster::seed()
        };
        cluster.svms.rotate_left(3);
        assert_eq!(cluster.svms[0].state, SvmState::Stopped);
        let running = cluster.svms[1].uuid.clone();
        cluster.resize_cifs_connections(5).expect("room");
        assert!(
            cluster
                .cifs_connections
                .iter()
                .all(|c| c.svm_uuid == running)
        );
    }

    #[test]
    fn each_svm_takes_its_generated_sessions_in_order() {
        let mut cluster = Cluster::seed();
        cluster.resize_iscsi_sessions(7 + 8).expect("room");
        for svm in [&cluster.svms[2], &cluster.svms[4]] {
            let generated: Vec<_> = cluster.iscsi_sessions[7..]
                .iter()
                .filter(|s| s.svm_uuid == svm.uuid)
                .cloned()
                .collect();
            let expected: Vec<_> = (0..generated.len() as u64)
                .map(|i| iscsi_sessions::generated(&svm.uuid, &svm.name, i).unwrap())
                .collect();
            assert_eq!(generated, expected, "{}", svm.name);
        }
    }

    #[test]
    fn growing_without_a_place_to_grow_is_refused() {
        let mut bare = Cluster {
            svms: vec![Svm::new("s", "s", SvmState::Running)],
            ..Cluster::empty()
        };
        assert_eq!(
            bare.resize_cifs_connections(1),
            Err(SizingError::NoCifsPlacement)
        );
        assert_eq!(
            bare.resize_iscsi_sessions(1),
            Err(SizingError::NoIscsiTarget)
        );
        assert_eq!(bare.resize_iscsi_sessions(0), Ok(()));
    }
}
