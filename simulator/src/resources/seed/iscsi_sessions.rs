//! The seed's iSCSI sessions, and more of them computed the same way for a larger cluster.
//!
//! `svm2` and `svm3` each serve their target through two LIFs, one per node, each its own target
//! portal group (named like the LIF, as in NetApp's examples). Three initiators are logged in to
//! `svm2`: a Linux host through both portal groups (two paths), a Windows host with two
//! connections in one session, and an ESXi host that is in no igroup, so it reaches no LUN. Two
//! are logged in to `svm3`: another Linux host through both portal groups, and an ESXi host in
//! an igroup of ESXi hosts.

use std::hash::Hasher;

use fnv::FnvHasher;

use super::{SVM2_UUID, SVM3_UUID};
use crate::resources::iscsi::session::{
    IgroupRef, IscsiAuthentication, IscsiConnection, IscsiInitiator, IscsiInterface, IscsiSession,
};

/// An iSCSI LIF: name (also the portal group), UUID, address, portal group tag.
type Lif = (&'static str, &'static str, &'static str, u32);

/// The LIFs of `svm2`.
const SVM2_LIFS: [Lif; 2] = [
    (
        "svm2_iscsi_lif1",
        "9e1d2c3b-5d12-11ef-8b0e-005056a7c0a1",
        "10.140.71.21",
        1027,
    ),
    (
        "svm2_iscsi_lif2",
        "9e1d2c3b-5d12-11ef-8b0e-005056a7c0a2",
        "10.140.71.22",
        1028,
    ),
];

/// The LIFs of `svm3`.
const SVM3_LIFS: [Lif; 2] = [
    (
        "svm3_iscsi_lif1",
        "9e1d2c3b-5d12-11ef-8b0e-005056a7c0b1",
        "10.140.71.31",
        1029,
    ),
    (
        "svm3_iscsi_lif2",
        "9e1d2c3b-5d12-11ef-8b0e-005056a7c0b2",
        "10.140.71.32",
        1030,
    ),
];

/// The seven hand-written sessions: `svm2`'s four, then `svm3`'s three.
pub(crate) fn seeded() -> Vec<IscsiSession> {
    let mut sessions = svm2_sessions();
    sessions.extend(svm3_sessions());
    sessions
}

/// The four sessions on `svm2`.
fn svm2_sessions() -> Vec<IscsiSession> {
    let svm2 = |lif: usize, tsih, isid, initiator, igroups| {
        session(SVM2_UUID, SVM2_LIFS[lif], tsih, isid, initiator, igroups)
    };
    let linux = IscsiInitiator {
        name: "iqn.1994-05.com.redhat:host1".to_owned(),
        alias: Some("host1".to_owned()),
        comment: Some("rack 4, db tier".to_owned()),
    };
    let linux_igroup = vec![igroup("host1_ig", "5b6a7c8d-5d13-11ef-8b0e-005056a7c0a1")];
    vec![
        svm2(
            0,
            10,
            "40:00:01:37:00:00",
            linux.clone(),
            linux_igroup.clone(),
        )
        .with_connection(0, IscsiAuthentication::Chap, "10.74.8.11", 51_344),
        svm2(1, 11, "40:00:01:37:00:01", linux, linux_igroup).with_connection(
            0,
            IscsiAuthentication::Chap,
            "10.74.8.11",
            51_345,
        ),
        svm2(
            0,
            12,
            "40:00:01:37:00:02",
            IscsiInitiator {
                name: "iqn.1991-05.com.microsoft:host2.cifslab.example".to_owned(),
                alias: Some("HOST2".to_owned()),
                comment: None,
            },
            vec![
                igroup("windows_ig", "5b6a7c8d-5d13-11ef-8b0e-005056a7c0a2"),
                igroup("backup_ig", "5b6a7c8d-5d13-11ef-8b0e-005056a7c0a3"),
            ],
        )
        .with_connection(0, IscsiAuthentication::None, "10.74.8.12", 49_152)
        .with_connection(1, IscsiAuthentication::None, "10.74.8.12", 49_153),
        svm2(
            1,
            13,
            "80:12:34:56:78:9a",
            IscsiInitiator {
                name: "iqn.1998-01.com.vmware:esx3-4c1d2e3f".to_owned(),
                alias: None,
                comment: None,
            },
            Vec::new(),
        )
        .with_connection(0, IscsiAuthentication::Chap, "10.74.8.13", 61_000),
    ]
}

/// The three sessions on `svm3`.
fn svm3_sessions() -> Vec<IscsiSession> {
    let svm3 = |lif: usize, tsih, isid, initiator, igroups| {
        session(SVM3_UUID, SVM3_LIFS[lif], tsih, isid, initiator, igroups)
    };
    let linux = IscsiInitiator {
        name: "iqn.1994-05.com.redhat:host5".to_owned(),
        alias: Some("host5".to_owned()),
        comment: Some("rack 7, web tier".to_owned()),
    };
    let linux_igroup = vec![igroup("host5_ig", "5b6a7c8d-5d13-11ef-8b0e-005056a7c0b1")];
    vec![
        svm3(
            0,
            20,
            "40:00:01:37:00:10",
            linux.clone(),
            linux_igroup.clone(),
        )
        .with_connection(0, IscsiAuthentication::Chap, "10.74.8.15", 52_410),
        svm3(1, 21, "40:00:01:37:00:11", linux, linux_igroup).with_connection(
            0,
            IscsiAuthentication::Chap,
            "10.74.8.15",
            52_411,
        ),
        svm3(
            1,
            22,
            "80:12:34:56:78:b4",
            IscsiInitiator {
                name: "iqn.1998-01.com.vmware:esx6-7a8b9c0d".to_owned(),
                alias: None,
                comment: None,
            },
            vec![igroup("esx_ig", "5b6a7c8d-5d13-11ef-8b0e-005056a7c0b2")],
        )
        .with_connection(0, IscsiAuthentication::None, "10.74.8.16", 61_004),
    ]
}

/// A session on the SVM `svm_uuid` through `lif`, without connections yet.
fn session(
    svm_uuid: &str,
    lif: Lif,
    tsih: u16,
    isid: &str,
    initiator: IscsiInitiator,
    igroups: Vec<IgroupRef>,
) -> IscsiSession {
    let (name, _, _, tag) = lif;
    IscsiSession {
        svm_uuid: svm_uuid.to_owned(),
        target_portal_group: name.to_owned(),
        target_portal_group_tag: tag,
        tsih,
        isid: isid.to_owned(),
        initiator,
        igroups,
        connections: Vec::new(),
    }
}

fn igroup(name: &str, uuid: &str) -> IgroupRef {
    IgroupRef {
        name: name.to_owned(),
        uuid: uuid.to_owned(),
    }
}

impl IscsiSession {
    /// Adds a connection from `address:port` through the LIF of the session's portal group.
    fn with_connection(
        mut self,
        cid: u16,
        authentication_type: IscsiAuthentication,
        address: &str,
        port: u16,
    ) -> IscsiSession {
        let (name, uuid, lif_address, _) = SVM2_LIFS
            .iter()
            .chain(&SVM3_LIFS)
            .copied()
            .find(|(name, ..)| *name == self.target_portal_group)
            .unwrap_or(SVM2_LIFS[0]);
        self.connections.push(IscsiConnection {
            cid,
            authentication_type,
            initiator_address: address.to_owned(),
            initiator_port: port,
            interface: IscsiInterface {
                name: name.to_owned(),
                uuid: uuid.to_owned(),
                address: lif_address.to_owned(),
            },
        });
        self
    }
}

/// Sessions per portal-group pair before the generator opens another pair, so TSIHs (16-bit)
/// never run out.
const SESSIONS_PER_PAIR: u64 = 130_000;
/// Generated TSIHs start here, clear of the hand-written ones.
const FIRST_GENERATED_TSIH: u64 = 100;

/// The `index`th generated session on the SVM `svm_uuid` (named `svm_name`): hosts log in
/// through two portal groups each, `iqn.1994-05.com.example:host<h>` as host `h`, in an igroup
/// of their own, one connection per session, CHAP for two hosts in three. `None` past what
/// 16-bit TSIHs and 32-bit tags can name.
pub(crate) fn generated(svm_uuid: &str, svm_name: &str, index: u64) -> Option<IscsiSession> {
    let pair = index / SESSIONS_PER_PAIR;
    let within = index % SESSIONS_PER_PAIR;
    let group = pair * 2 + within % 2;
    let tsih = u16::try_from(FIRST_GENERATED_TSIH + within / 2).ok()?;
    let host = index / 2;
    let lif = format!("{svm_name}_iscsi_lif{}", group + 1);
    let lif_uuid = uuid_of(&[svm_uuid, &lif]);
    let authentication = if host.is_multiple_of(3) {
        IscsiAuthentication::None
    } else {
        IscsiAuthentication::Chap
    };
    Some(IscsiSession {
        svm_uuid: svm_uuid.to_owned(),
        target_portal_group: lif.clone(),
        target_portal_group_tag: u32::try_from(2_000 + group).ok()?,
        tsih,
        isid: format!(
            "40:00:01:{:02x}:{:02x}:{:02x}",
            (index >> 16) & 0xff,
            (index >> 8) & 0xff,
            index & 0xff
        ),
        initiator: IscsiInitiator {
            name: format!("iqn.1994-05.com.example:host{host}"),
            alias: Some(format!("host{host}")),
            comment: None,
        },
        igroups: vec![IgroupRef {
            name: format!("host{host}_ig"),
            uuid: uuid_of(&[svm_uuid, &format!("host{host}_ig")]),
        }],
        connections: vec![IscsiConnection {
            cid: 0,
            authentication_type: authentication,
            initiator_address: format!("10.75.{}.{}", (host / 250) % 250, host % 250 + 1),
            initiator_port: u16::try_from(1025 + (index * 7919) % 60_000).ok()?,
            interface: IscsiInterface {
                name: lif,
                uuid: lif_uuid,
                address: format!("10.140.{}.{}", 72 + (group / 200) % 100, group % 200 + 21),
            },
        }],
    })
}

/// A UUID computed from `parts`, stable across runs (FNV-1a), in the 8-4-4-4-12 form.
fn uuid_of(parts: &[&str]) -> String {
    let mut hasher = FnvHasher::default();
    for part in parts {
        hasher.write(part.as_bytes());
        hasher.write_u8(0);
    }
    let a = hasher.finish();
    hasher.write_u8(1);
    let b = hasher.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn seeded_sessions_have_distinct_keys_and_connections_through_their_portal_group() {
        let sessions = seeded();
        let keys: HashSet<_> = sessions
            .iter()
            .map(|s| (&s.svm_uuid, &s.target_portal_group, s.tsih))
            .collect();
        assert_eq!(keys.len(), sessions.len());
        for s in &sessions {
            let lifs = if s.svm_uuid == SVM2_UUID {
                SVM2_LIFS
            } else {
                SVM3_LIFS
            };
            let lif = lifs.iter().find(|lif| lif.0 == s.target_portal_group);
            assert_eq!(
                lif.map(|lif| lif.3),
                Some(s.target_portal_group_tag),
                "{s:?}"
            );
            assert!(!s.connections.is_empty());
            assert!(
                s.connections
                    .iter()
                    .all(|c| c.interface.name == s.target_portal_group)
            );
        }
    }

    #[test]
    fn svm2_has_four_seeded_sessions_and_svm3_three_each_through_both_its_portal_groups() {
        let sessions = seeded();
        for (svm, count) in [(SVM2_UUID, 4), (SVM3_UUID, 3)] {
            let on_svm: Vec<_> = sessions.iter().filter(|s| s.svm_uuid == svm).collect();
            assert_eq!(on_svm.len(), count, "{svm}");
            let groups: HashSet<_> = on_svm.iter().map(|s| &s.target_portal_group).collect();
            assert_eq!(groups.len(), 2, "{svm}");
        }
        assert_eq!(sessions.len(), 7);
    }

    #[test]
    fn generated_sessions_have_distinct_keys_and_16_bit_tsihs_far_past_65535_sessions() {
        let keys: HashSet<_> = [0, 1, 2, 129_999, 130_000, 130_001, 300_000]
            .into_iter()
            .map(|i| {
                let s = generated("u", "svm", i).expect("a session");
                assert!(s.tsih >= 100, "{s:?}");
                (s.target_portal_group, s.tsih)
            })
            .collect();
        assert_eq!(keys.len(), 7);
    }

    #[test]
    fn generated_sessions_alternate_over_a_pair_of_portal_groups_then_open_the_next_pair() {
        let at = |index| {
            let s = generated("u", "svm", index).expect("a session");
            (s.target_portal_group, s.target_portal_group_tag, s.tsih)
        };
        let lif = |n: u32| format!("svm_iscsi_lif{n}");
        assert_eq!(at(0), (lif(1), 2_000, 100));
        assert_eq!(at(1), (lif(2), 2_001, 100));
        assert_eq!(at(2), (lif(1), 2_000, 101));
        assert_eq!(at(129_999), (lif(2), 2_001, 100 + 64_999));
        assert_eq!(at(130_000), (lif(3), 2_002, 100));
        assert_eq!(at(130_003), (lif(4), 2_003, 101));
        // Each host logs in through both groups of a pair.
        let host = |index| generated("u", "svm", index).unwrap().initiator.name;
        assert_eq!(host(0), "iqn.1994-05.com.example:host0");
        assert_eq!(host(1), host(0));
        assert_eq!(host(2), "iqn.1994-05.com.example:host1");
        assert_eq!(host(7), "iqn.1994-05.com.example:host3");
    }

    #[test]
    fn generated_uuids_are_stable_and_distinct() {
        assert_eq!(uuid_of(&["a", "b"]), uuid_of(&["a", "b"]));
        assert_ne!(uuid_of(&["a", "b"]), uuid_of(&["ab"]));
        assert_eq!(uuid_of(&["a"]).len(), 36);
    }
}
