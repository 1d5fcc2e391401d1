//! iSCSI sessions in the cluster model, and their JSON rendering.
//!
//! A session is one initiator's login to an SVM's target, through one target portal group,
//! made of one or more TCP connections. Initiators can log in only while the SVM's iSCSI service
//! exists and is enabled, so:
//! - a session is added only to such an SVM ([`Cluster::add_iscsi_session`]);
//! - disabling the service (PATCH `enabled=false`, or [`SharedCluster::set_iscsi_enabled`]) ends
//!   every session of the SVM; deleting it needs it disabled first, so it has none left;
//! - enabling it again brings no login back: the simulator has no initiators of its own that
//!   would retry, so sessions come back only when a test logs them in again;
//! - a session whose service is missing or disabled (the model edited by hand) is not served.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::resources::model::{Cluster, SharedCluster, reference};

/// The only TCP port ONTAP serves iSCSI on.
pub const ISCSI_PORT: u16 = 3260;

documented_enum!(
    /// How one connection of a session authenticated (`connections[].authentication_type`).
    IscsiAuthentication {
        /// `chap`.
        Chap => "chap",
        /// `none`.
        None => "none",
    }
);

/// The initiator of a session, as it announced itself at login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscsiInitiator {
    /// Worldwide unique name (IQN).
    pub name: String,
    /// The alias it announced, if any.
    pub alias: Option<String>,
    /// The administrator's comment on it, if any.
    pub comment: Option<String>,
}

/// An initiator group the session's initiator belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgroupRef {
    /// Igroup name (1 to 96 characters).
    pub name: String,
    /// Igroup UUID.
    pub uuid: String,
}

/// The target-side LIF a connection came in through (on port [`ISCSI_PORT`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscsiInterface {
    /// LIF name.
    pub name: String,
    /// LIF UUID.
    pub uuid: String,
    /// LIF address, IPv4 or IPv6.
    pub address: String,
}

/// One TCP connection of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscsiConnection {
    /// Connection ID inside the session.
    pub cid: u16,
    /// How it authenticated.
    pub authentication_type: IscsiAuthentication,
    /// Initiator end: address.
    pub initiator_address: String,
    /// Initiator end: TCP port.
    pub initiator_port: u16,
    /// Target end.
    pub interface: IscsiInterface,
}

/// One iSCSI session, identified by its SVM, target portal group and TSIH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscsiSession {
    /// UUID of the SVM whose target the initiator logged in to.
    pub svm_uuid: String,
    /// The target portal group (in ONTAP, named like the LIF).
    pub target_portal_group: String,
    /// The portal group's tag number.
    pub target_portal_group_tag: u32,
    /// Target session identifying handle, a 16-bit value in iSCSI.
    pub tsih: u16,
    /// The initiator's half of the session ID (`40:00:01:37:00:00`).
    pub isid: String,
    /// Who logged in.
    pub initiator: IscsiInitiator,
    /// The igroups whose members include the initiator; empty when none does.
    pub igroups: Vec<IgroupRef>,
    /// The TCP connections making up the session.
    pub connections: Vec<IscsiConnection>,
}

impl IscsiSession {
    /// Whether the session is the one named by this SVM, portal group and TSIH.
    pub fn is(&self, svm_uuid: &str, target_portal_group: &str, tsih: i128) -> bool {
        self.svm_uuid == svm_uuid
            && self.target_portal_group == target_portal_group
            && i128::from(self.tsih) == tsih
    }
}

/// Why an iSCSI session was not logged in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IscsiSessionError {
    /// The cluster has no SVM with the session's SVM UUID.
    #[error("no SVM has uuid {0:?}")]
    UnknownSvm(String),
    /// The SVM has no iSCSI service to log in to.
    #[error("SVM {0:?} has no iSCSI service")]
    NoService(String),
    /// The SVM's iSCSI service is disabled, which blocks new sessions.
    #[error("the iSCSI service of SVM {0:?} is disabled")]
    ServiceDisabled(String),
    /// A session with the same SVM, portal group and TSIH is logged in already.
    #[error(
        "SVM {svm_uuid:?} already has a session with TSIH {tsih} in portal group {target_portal_group:?}"
    )]
    KeyInUse {
        /// The SVM.
        svm_uuid: String,
        /// The portal group.
        target_portal_group: String,
        /// The TSIH.
        tsih: u16,
    },
}

impl Cluster {
    /// The sessions served: those of SVMs whose iSCSI service exists and is enabled.
    pub fn served_iscsi_sessions(&self) -> impl Iterator<Item = &IscsiSession> {
        self.iscsi_sessions.iter().filter(|session| {
            self.iscsi_service(&session.svm_uuid)
                .is_some_and(|service| service.enabled)
        })
    }

    /// Logs a session in, if its SVM exists with an enabled iSCSI service and its key is free.
    pub fn add_iscsi_session(&mut self, session: IscsiSession) -> Result<(), IscsiSessionError> {
        let svm_uuid = &session.svm_uuid;
        if self.svm(svm_uuid).is_none() {
            return Err(IscsiSessionError::UnknownSvm(svm_uuid.clone()));
        }
        match self.iscsi_service(svm_uuid) {
            None => return Err(IscsiSessionError::NoService(svm_uuid.clone())),
            Some(service) if !service.enabled => {
                return Err(IscsiSessionError::ServiceDisabled(svm_uuid.clone()));
            }
            Some(_) => {}
        }
        let tsih = i128::from(session.tsih);
        if self
            .iscsi_sessions
            .iter()
            .any(|s| s.is(svm_uuid, &session.target_portal_group, tsih))
        {
            return Err(IscsiSessionError::KeyInUse {
                svm_uuid: session.svm_uuid,
                target_portal_group: session.target_portal_group,
                tsih: session.tsih,
            });
        }
        self.iscsi_sessions.push(session);
        Ok(())
    }

    /// Enables or disables the SVM's iSCSI service at `at`; disabling ends every session of the
    /// SVM. `false` when the SVM has no service.
    pub(crate) fn set_iscsi_enabled_at(
        &mut self,
        svm_uuid: &str,
        enabled: bool,
        at: SystemTime,
    ) -> bool {
        let Some(service) = self.iscsi_service_mut(svm_uuid) else {
            return false;
        };
        service.set_enabled(enabled, at);
        if !enabled {
            self.iscsi_sessions.retain(|s| s.svm_uuid != svm_uuid);
        }
        true
    }

    /// A session as ONTAP renders it, with every field; the SVM's name is left out when the SVM
    /// is unknown, and empty arrays and absent alias and comment are left out (`x-omitempty`).
    pub(crate) fn iscsi_session_json(&self, session: &IscsiSession) -> Value {
        let svm_name = self.svm(&session.svm_uuid).map(|s| s.name.as_str());
        let mut initiator = Map::new();
        initiator.insert("name".to_owned(), json!(session.initiator.name));
        for (name, value) in [
            ("alias", &session.initiator.alias),
            ("comment", &session.initiator.comment),
        ] {
            if let Some(value) = value {
                initiator.insert(name.to_owned(), json!(value));
            }
        }
        let mut record = Map::new();
        record.insert("svm".to_owned(), reference(&session.svm_uuid, svm_name));
        record.insert(
            "target_portal_group".to_owned(),
            json!(session.target_portal_group),
        );
        record.insert(
            "target_portal_group_tag".to_owned(),
            json!(session.target_portal_group_tag),
        );
        record.insert("tsih".to_owned(), json!(session.tsih));
        record.insert("isid".to_owned(), json!(session.isid));
        record.insert("initiator".to_owned(), Value::Object(initiator));
        if !session.igroups.is_empty() {
            let igroups = session
                .igroups
                .iter()
                .map(|g| json!({ "name": g.name, "uuid": g.uuid }))
                .collect();
            record.insert("igroups".to_owned(), Value::Array(igroups));
        }
        if !session.connections.is_empty() {
            let connections = session.connections.iter().map(connection_json).collect();
            record.insert("connections".to_owned(), Value::Array(connections));
        }
        Value::Object(record)
    }
}

fn connection_json(connection: &IscsiConnection) -> Value {
    json!({
        "cid": connection.cid,
        "authentication_type": connection.authentication_type.as_str(),
        "initiator_address": {
            "address": connection.initiator_address,
            "port": connection.initiator_port,
        },
        "interface": {
            "name": connection.interface.name,
            "uuid": connection.interface.uuid,
            "ip": { "address": connection.interface.address, "port": ISCSI_PORT },
        },
    })
}

impl SharedCluster {
    /// Logs an initiator in, as if it had just done so: refused unless the SVM exists with an
    /// enabled iSCSI service and no session has the same SVM, portal group and TSIH.
    pub fn add_iscsi_session(&self, session: IscsiSession) -> Result<(), IscsiSessionError> {
        self.with(|cluster| cluster.add_iscsi_session(session))
    }

    /// Ends the iSCSI sessions matching `pred`, as if their initiators had logged out, returning
    /// how many ended.
    pub fn remove_iscsi_sessions(&self, pred: impl Fn(&IscsiSession) -> bool) -> usize {
        self.with(|cluster| {
            let before = cluster.iscsi_sessions.len();
            cluster.iscsi_sessions.retain(|s| !pred(s));
            before - cluster.iscsi_sessions.len()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::clock::clock_start;

    const SVM2: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
    const SVM1: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
    const SVM3: &str = "fd3a6b25-94d7-11e8-8370-005056b48fd2";

    fn session(svm_uuid: &str, tsih: u16) -> IscsiSession {
        IscsiSession {
            svm_uuid: svm_uuid.into(),
            target_portal_group: "lif_a".into(),
            target_portal_group_tag: 1027,
            tsih,
            isid: "40:00:01:37:00:00".into(),
            initiator: IscsiInitiator {
                name: "iqn.1994-05.com.example:h".into(),
                alias: None,
                comment: None,
            },
            igroups: Vec::new(),
            connections: Vec::new(),
        }
    }

    #[test]
    fn a_session_logs_in_only_to_an_enabled_service_with_a_free_key() {
        let mut cluster = Cluster::seed();
        assert_eq!(cluster.add_iscsi_session(session(SVM2, 500)), Ok(()));
        assert!(matches!(
            cluster.add_iscsi_session(session(SVM2, 500)),
            Err(IscsiSessionError::KeyInUse { tsih: 500, .. })
        ));
        assert_eq!(
            cluster.add_iscsi_session(session(SVM1, 500)),
            Err(IscsiSessionError::NoService(SVM1.into()))
        );
        assert_eq!(
            cluster.add_iscsi_session(session("nope", 500)),
            Err(IscsiSessionError::UnknownSvm("nope".into()))
        );
        cluster.set_iscsi_enabled_at(SVM2, false, clock_start());
        assert_eq!(
            cluster.add_iscsi_session(session(SVM2, 501)),
            Err(IscsiSessionError::ServiceDisabled(SVM2.into()))
        );
    }

    #[test]
    fn a_session_is_named_by_its_svm_portal_group_and_tsih_together() {
        let s = session(SVM2, 500);
        assert!(s.is(SVM2, "lif_a", 500));
        assert!(!s.is(SVM3, "lif_a", 500));
        assert!(!s.is(SVM2, "lif_b", 500));
        assert!(!s.is(SVM2, "lif_a", 501));
    }

    #[test]
    fn disabling_the_service_ends_the_svms_sessions_and_enabling_brings_none_back() {
        let mut cluster = Cluster::seed();
        assert!(cluster.iscsi_sessions.iter().any(|s| s.svm_uuid == SVM2));
        assert!(cluster.set_iscsi_enabled_at(SVM2, false, clock_start()));
        assert!(cluster.iscsi_sessions.iter().all(|s| s.svm_uuid != SVM2));
        cluster.set_iscsi_enabled_at(SVM2, true, clock_start());
        assert!(cluster.served_iscsi_sessions().all(|s| s.svm_uuid == SVM3));
        assert_eq!(cluster.served_iscsi_sessions().count(), 3, "svm3's stay");
        assert!(!cluster.set_iscsi_enabled_at(SVM1, false, clock_start()));
    }

    #[test]
    fn sessions_of_a_disabled_service_set_by_hand_are_not_served() {
        let mut cluster = Cluster::seed();
        cluster.iscsi_services[0].enabled = false;
        assert_eq!(cluster.iscsi_services[0].svm_uuid, SVM2);
        assert!(cluster.served_iscsi_sessions().all(|s| s.svm_uuid == SVM3));
        assert_eq!(cluster.served_iscsi_sessions().count(), 3, "svm3's");
    }

    #[test]
    fn json_leaves_out_what_is_empty_and_carries_port_3260() {
        let mut cluster = Cluster::seed();
        let mut s = session(SVM2, 7);
        s.connections.push(IscsiConnection {
            cid: 0,
            authentication_type: IscsiAuthentication::Chap,
            initiator_address: "192.0.2.7".into(),
            initiator_port: 51_000,
            interface: IscsiInterface {
                name: "lif_a".into(),
                uuid: "u".into(),
                address: "198.51.100.1".into(),
            },
        });
        cluster.iscsi_sessions = vec![s];
        let json = cluster.iscsi_session_json(&cluster.iscsi_sessions[0]);
        assert!(json.get("igroups").is_none());
        assert_eq!(
            json["initiator"],
            json!({"name": "iqn.1994-05.com.example:h"})
        );
        assert_eq!(json["svm"]["name"], "svm2");
        assert_eq!(json["connections"][0]["interface"]["ip"]["port"], 3260);
        assert_eq!(json["connections"][0]["authentication_type"], "chap");
    }
}
