//! CIFS (SMB) sessions in the cluster model, and their JSON rendering.
//!
//! A session is one entry of a connection's [`CifsConnection::session_ids`]: that list is the one
//! source of truth for which sessions exist, so the sessions collection and the connections'
//! `sessions[]` cannot disagree, whoever changes them (a REST DELETE, the admin API, the churn, or
//! a test editing the model). Everything else about a session (user, dialect, security,
//! counters, volumes) is derived from its key and its connection, deterministically, so every
//! session, seeded, churned, posted through the admin API or pushed by a test, has plausible
//! fields that nobody has to store or keep in step. Its durations run with the simulated clock.

use std::hash::Hasher;
use std::time::Duration;

use fnv::FnvHasher;
use serde_json::{Map, Value, json};

use crate::resources::model::{CifsConnection, Cluster, reference};
use crate::time;

/// What names one session: its node, SVM, session ID and the connection carrying it (the
/// instance path's four keys).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CifsSessionKey {
    /// UUID of the node holding the session.
    pub node_uuid: String,
    /// UUID of the SVM owning it.
    pub svm_uuid: String,
    /// SMB session ID, an unsigned 64-bit value.
    pub identifier: u64,
    /// The carrying connection's identifier, an unsigned 32-bit value.
    pub connection_id: u32,
}

documented_enum!(
    /// How a session was authenticated (`authentication`).
    SmbAuthentication {
        /// `none`.
        None => "none",
        /// `ntlmv1`.
        Ntlmv1 => "ntlmv1",
        /// `ntlmv2`.
        Ntlmv2 => "ntlmv2",
        /// `kerberos`.
        Kerberos => "kerberos",
        /// `anonymous`.
        Anonymous => "anonymous",
    }
);

documented_enum!(
    /// The negotiated SMB dialect (`protocol`); later dialects order after earlier ones.
    SmbProtocol {
        /// `smb1`.
        Smb1 => "smb1",
        /// `smb2`.
        Smb2 => "smb2",
        /// `smb2_1`.
        Smb2_1 => "smb2_1",
        /// `smb3`.
        Smb3 => "smb3",
        /// `smb3_1`.
        Smb3_1 => "smb3_1",
    }
);

documented_enum!(
    /// The continuous-availability protection of the session's open files.
    ContinuousAvailability {
        /// `unavailable`: open files, none continuously available.
        Unavailable => "unavailable",
        /// `available`: every open file continuously available.
        Available => "available",
        /// `partial`: some are, some are not.
        Partial => "partial",
    }
);

documented_enum!(
    /// The session's encryption state (`smb_encryption`).
    SmbEncryption {
        /// `unencrypted`.
        Unencrypted => "unencrypted",
        /// `encrypted`: SVM-level encryption, the whole session.
        Encrypted => "encrypted",
        /// `partially_encrypted`: share-level encryption, from tree connect on.
        PartiallyEncrypted => "partially_encrypted",
    }
);

/// A volume a session is touching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeRef {
    /// Volume name, unique in its SVM.
    pub name: String,
    /// Volume instance UUID.
    pub uuid: String,
}

/// One SMB session, as derived from its connection (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CifsSession {
    /// Node, SVM, session ID and connection ID.
    pub key: CifsSessionKey,
    /// The SVM address the client connected to (the connection's).
    pub server_ip: String,
    /// The client's address (the connection's).
    pub client_ip: String,
    /// How the session was authenticated.
    pub authentication: SmbAuthentication,
    /// The Windows user (`DOMAIN\user`); `None` for anonymous and unauthenticated sessions.
    pub user: Option<String>,
    /// The UNIX user the Windows user maps to (`pcuser` without one).
    pub mapped_unix_user: String,
    /// The negotiated dialect.
    pub protocol: SmbProtocol,
    /// Continuous-availability protection of its open files.
    pub continuous_availability: ContinuousAvailability,
    /// Whether signing is in effect.
    pub smb_signing: bool,
    /// Encryption state; only SMB 3 dialects encrypt.
    pub smb_encryption: SmbEncryption,
    /// Whether large MTU is on; SMB 2.1 brought it.
    pub large_mtu: bool,
    /// How long the session had existed when the simulated clock started.
    pub connected_at_start: Duration,
    /// How long it has been idle, at most as long as it has existed.
    pub idle: Duration,
    /// The page's `connection_count` (the docs' examples show 1).
    pub connection_count: u32,
    /// Files open.
    pub open_files: u32,
    /// Other objects open.
    pub open_other: u32,
    /// Shares open, one per volume touched.
    pub open_shares: u32,
    /// Volumes touched; empty with no share open.
    pub volumes: Vec<VolumeRef>,
}

/// Users of the simulated domain; a session's is drawn from its key.
const USERS: &[&str] = &[
    "administrator",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "svc_backup",
    "svc_sql",
];
/// The Windows domain of every user.
const DOMAIN: &str = "CIFSLAB";
/// Volumes of every CIFS SVM, as NetApp's examples name them; UUIDs differ per SVM.
const VOLUMES: &[&str] = &["home_vol", "eng_vol", "data_vol", "scratch_vol"];
/// The UNIX user ONTAP maps guests and unauthenticated sessions to.
const GUEST_UNIX_USER: &str = "pcuser";
/// The longest a seeded session had existed when the clock started: eight hours.
const MAX_AGE_SECS: u64 = 8 * 3600;
/// The longest a session has been idle: ten minutes.
const MAX_IDLE_SECS: u64 = 600;

/// A stream of numbers drawn from a hash, so a session's fields are stable for its key across
/// runs, platforms and Rust versions (FNV-1a, then SplitMix64).
struct Draw(u64);

impl Draw {
    fn of(parts: &[&[u8]]) -> Draw {
        let mut hasher = FnvHasher::default();
        for part in parts {
            hasher.write(part);
            hasher.write_u8(0);
        }
        Draw(hasher.finish())
    }

    /// A number below `n` (SplitMix64's step, reduced).
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }

    /// Picks by weight: the index of the bucket a draw below the weights' sum falls in.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut left = self.below(weights.iter().sum());
        for (index, weight) in weights.iter().enumerate() {
            if left < *weight {
                return index;
            }
            left -= weight;
        }
        weights.len() - 1
    }
}

impl CifsSession {
    /// The session `identifier` of `connection`, with every field derived from its key.
    pub fn of(connection: &CifsConnection, identifier: u64) -> CifsSession {
        let key = CifsSessionKey {
            node_uuid: connection.node_uuid.clone(),
            svm_uuid: connection.svm_uuid.clone(),
            identifier,
            connection_id: connection.identifier,
        };
        let mut draw = Draw::of(&[
            key.node_uuid.as_bytes(),
            key.svm_uuid.as_bytes(),
            &identifier.to_le_bytes(),
            &key.connection_id.to_le_bytes(),
        ]);
        let authentication = [
            SmbAuthentication::Kerberos,
            SmbAuthentication::Ntlmv2,
            SmbAuthentication::Ntlmv1,
            SmbAuthentication::Anonymous,
            SmbAuthentication::None,
        ][draw.weighted(&[45, 35, 8, 8, 4])];
        let (user, mapped_unix_user) = user_of(&mut draw, authentication);
        let protocol = [
            SmbProtocol::Smb3_1,
            SmbProtocol::Smb3,
            SmbProtocol::Smb2_1,
            SmbProtocol::Smb2,
            SmbProtocol::Smb1,
        ][draw.weighted(&[40, 25, 15, 12, 8])];
        let smb_encryption = if protocol >= SmbProtocol::Smb3 {
            [
                SmbEncryption::Unencrypted,
                SmbEncryption::Encrypted,
                SmbEncryption::PartiallyEncrypted,
            ][draw.weighted(&[60, 25, 15])]
        } else {
            SmbEncryption::Unencrypted
        };
        let continuous_availability = [
            ContinuousAvailability::Unavailable,
            ContinuousAvailability::Available,
            ContinuousAvailability::Partial,
        ][draw.weighted(&[75, 15, 10])];
        let open_shares = [0, 1, 2][draw.weighted(&[10, 60, 30])];
        let volumes = volumes_of(&mut draw, &key.svm_uuid, open_shares);
        let connected_at_start = Duration::from_secs(30 + draw.below(MAX_AGE_SECS));
        CifsSession {
            server_ip: connection.server_ip.clone(),
            client_ip: connection.client_ip.clone(),
            authentication,
            user,
            mapped_unix_user,
            protocol,
            continuous_availability,
            smb_signing: draw.below(5) < 2,
            smb_encryption,
            large_mtu: protocol >= SmbProtocol::Smb2_1,
            idle: Duration::from_secs(draw.below(MAX_IDLE_SECS)).min(connected_at_start),
            connected_at_start,
            connection_count: 1,
            open_files: if open_shares == 0 {
                0
            } else {
                u32::try_from(draw.below(12)).unwrap_or(0)
            },
            open_other: u32::try_from(draw.below(3)).unwrap_or(0),
            open_shares,
            volumes,
            key,
        }
    }

    /// How long the session has existed, `elapsed` after the simulated clock started.
    pub fn connected_duration(&self, elapsed: Duration) -> Duration {
        self.connected_at_start + elapsed
    }
}

fn user_of(draw: &mut Draw, authentication: SmbAuthentication) -> (Option<String>, String) {
    if matches!(
        authentication,
        SmbAuthentication::Anonymous | SmbAuthentication::None
    ) {
        return (None, GUEST_UNIX_USER.to_owned());
    }
    let index = usize::try_from(draw.below(USERS.len() as u64)).unwrap_or(0);
    let name = USERS.get(index).copied().unwrap_or("administrator");
    let unix = if name == "administrator" {
        "root"
    } else {
        name
    };
    (Some(format!("{DOMAIN}\\{name}")), unix.to_owned())
}

fn volumes_of(draw: &mut Draw, svm_uuid: &str, count: u32) -> Vec<VolumeRef> {
    let first = usize::try_from(draw.below(VOLUMES.len() as u64)).unwrap_or(0);
    (0..count as usize)
        .map(|offset| {
            let name = VOLUMES[(first + offset) % VOLUMES.len()];
            VolumeRef {
                name: name.to_owned(),
                uuid: volume_uuid(svm_uuid, name),
            }
        })
        .collect()
}

/// A UUID for the SVM's volume, stable across runs, shaped like ONTAP's (version 1 layout).
fn volume_uuid(svm_uuid: &str, name: &str) -> String {
    let mut draw = Draw::of(&[svm_uuid.as_bytes(), name.as_bytes()]);
    let (a, b) = (draw.below(u64::MAX), draw.below(u64::MAX));
    format!(
        "{:08x}-{:04x}-11ef-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

impl Cluster {
    /// Every CIFS session: each connection's sessions in its order, connections in theirs.
    pub fn cifs_sessions(&self) -> Vec<CifsSession> {
        self.cifs_connections
            .iter()
            .flat_map(|connection| {
                connection
                    .session_ids
                    .iter()
                    .map(|id| CifsSession::of(connection, *id))
            })
            .collect()
    }

    /// The session with this key, if its connection lists it.
    pub fn cifs_session(&self, key: &CifsSessionKey) -> Option<CifsSession> {
        self.cifs_connections
            .iter()
            .find(|c| {
                c.node_uuid == key.node_uuid
                    && c.svm_uuid == key.svm_uuid
                    && c.identifier == key.connection_id
                    && c.session_ids.contains(&key.identifier)
            })
            .map(|connection| CifsSession::of(connection, key.identifier))
    }

    /// Closes the sessions whose keys `closing` accepts, as `vserver cifs session close` does:
    /// each leaves its connection's `session_ids`, and a connection this leaves without
    /// sessions goes away with its last one. Returns the keys closed, in connection order.
    pub fn close_cifs_sessions(
        &mut self,
        closing: impl Fn(&CifsSessionKey) -> bool,
    ) -> Vec<CifsSessionKey> {
        let mut closed = Vec::new();
        self.cifs_connections.retain_mut(|connection| {
            let before = closed.len();
            connection.session_ids.retain(|id| {
                let key = CifsSessionKey {
                    node_uuid: connection.node_uuid.clone(),
                    svm_uuid: connection.svm_uuid.clone(),
                    identifier: *id,
                    connection_id: connection.identifier,
                };
                let close = closing(&key);
                if close {
                    closed.push(key);
                }
                !close
            });
            closed.len() == before || !connection.session_ids.is_empty()
        });
        closed
    }

    /// A session as ONTAP renders it, with every field, `elapsed` after the simulated clock
    /// started; names are left out when the node or SVM is unknown, `user` when there is none,
    /// and `volumes` when empty (the page's `x-omitempty`).
    pub(crate) fn cifs_session_json(&self, session: &CifsSession, elapsed: Duration) -> Value {
        let key = &session.key;
        let node_name = self.node(&key.node_uuid).map(|n| n.name.as_str());
        let svm_name = self.svm(&key.svm_uuid).map(|s| s.name.as_str());
        let connected = session.connected_duration(elapsed);
        let mut record = Map::new();
        let mut put = |name: &str, value: Value| {
            record.insert(name.to_owned(), value);
        };
        put("node", reference(&key.node_uuid, node_name));
        put("svm", reference(&key.svm_uuid, svm_name));
        put("identifier", json!(key.identifier));
        put("connection_id", json!(key.connection_id));
        put("server_ip", json!(session.server_ip));
        put("client_ip", json!(session.client_ip));
        put("authentication", json!(session.authentication.as_str()));
        if let Some(user) = &session.user {
            put("user", json!(user));
        }
        put("mapped_unix_user", json!(session.mapped_unix_user));
        put("protocol", json!(session.protocol.as_str()));
        put(
            "continuous_availability",
            json!(session.continuous_availability.as_str()),
        );
        put("smb_signing", json!(session.smb_signing));
        put("smb_encryption", json!(session.smb_encryption.as_str()));
        put("large_mtu", json!(session.large_mtu));
        put("connected_duration", json!(duration_text(connected)));
        put("idle_duration", json!(duration_text(session.idle)));
        put("connection_count", json!(session.connection_count));
        put("open_files", json!(session.open_files));
        put("open_other", json!(session.open_other));
        put("open_shares", json!(session.open_shares));
        if !session.volumes.is_empty() {
            let volumes: Vec<Value> = session
                .volumes
                .iter()
                .map(|v| json!({ "name": v.name, "uuid": v.uuid }))
                .collect();
            put("volumes", Value::Array(volumes));
        }
        Value::Object(record)
    }
}

fn duration_text(duration: Duration) -> String {
    time::format_duration(duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn connection(identifier: u32, session_ids: Vec<u64>) -> CifsConnection {
        CifsConnection {
            node_uuid: "n1".into(),
            svm_uuid: "s1".into(),
            identifier,
            network_context_id: 1,
            client_ip: "10.74.7.9".into(),
            client_port: 4000,
            server_ip: "10.140.70.197".into(),
            session_ids,
        }
    }

    fn cluster(connections: Vec<CifsConnection>) -> Cluster {
        Cluster {
            cifs_connections: connections,
            ..Cluster::seed()
        }
    }

    #[test]
    fn a_session_is_derived_the_same_way_every_time_from_its_key() {
        let c = connection(7, vec![9_876_543_210_987_654_321]);
        assert_eq!(
            CifsSession::of(&c, 9_876_543_210_987_654_321),
            CifsSession::of(&c, 9_876_543_210_987_654_321)
        );
    }

    #[test]
    fn a_session_shares_its_connections_addresses() {
        let session = CifsSession::of(&connection(7, vec![1]), 1);
        assert_eq!(session.client_ip, "10.74.7.9");
        assert_eq!(session.server_ip, "10.140.70.197");
        assert_eq!(session.key.connection_id, 7);
    }

    #[test]
    fn derived_fields_keep_to_what_a_real_session_can_be() {
        let c = connection(7, (1..=500).collect());
        let mut seen = HashSet::new();
        for id in &c.session_ids {
            let s = CifsSession::of(&c, *id);
            assert!(
                s.smb_encryption == SmbEncryption::Unencrypted || s.protocol >= SmbProtocol::Smb3
            );
            assert_eq!(s.large_mtu, s.protocol >= SmbProtocol::Smb2_1);
            assert_eq!(s.volumes.len(), s.open_shares as usize);
            assert!(s.idle <= s.connected_at_start);
            assert_eq!(
                s.user.is_none(),
                s.mapped_unix_user == GUEST_UNIX_USER,
                "{s:?}"
            );
            seen.insert((
                s.authentication,
                s.protocol,
                s.smb_encryption,
                s.continuous_availability,
            ));
        }
        for authentication in ["none", "ntlmv1", "ntlmv2", "kerberos", "anonymous"] {
            assert!(
                seen.iter().any(|(a, ..)| a.as_str() == authentication),
                "{authentication}"
            );
        }
        for encryption in SmbEncryption::WORDS {
            assert!(
                seen.iter().any(|(_, _, e, _)| e.as_str() == *encryption),
                "{encryption}"
            );
        }
    }

    #[test]
    fn a_volume_has_one_uuid_per_svm() {
        assert_eq!(volume_uuid("s1", "eng_vol"), volume_uuid("s1", "eng_vol"));
        assert_ne!(volume_uuid("s1", "eng_vol"), volume_uuid("s2", "eng_vol"));
        assert_eq!(volume_uuid("s1", "eng_vol").len(), 36);
    }

    #[test]
    fn sessions_are_the_connections_session_ids() {
        let c = cluster(vec![connection(1, vec![10, 11]), connection(2, vec![12])]);
        let ids: Vec<(u32, u64)> = c
            .cifs_sessions()
            .iter()
            .map(|s| (s.key.connection_id, s.key.identifier))
            .collect();
        assert_eq!(ids, [(1, 10), (1, 11), (2, 12)]);
    }

    #[test]
    fn closing_a_session_leaves_its_connection_with_the_others() {
        let mut c = cluster(vec![connection(1, vec![10, 11])]);
        let closed = c.close_cifs_sessions(|k| k.identifier == 10);
        assert_eq!(closed.len(), 1);
        assert_eq!(c.cifs_connections[0].session_ids, [11]);
    }

    #[test]
    fn closing_the_last_session_removes_the_connection_and_only_that_one() {
        let mut c = cluster(vec![connection(1, vec![10]), connection(2, vec![])]);
        c.close_cifs_sessions(|k| k.identifier == 10);
        let left: Vec<u32> = c.cifs_connections.iter().map(|c| c.identifier).collect();
        assert_eq!(left, [2]);
    }

    #[test]
    fn json_has_every_documented_field_and_the_exact_identifier() {
        let c = cluster(vec![connection(1, vec![u64::MAX])]);
        let session = &c.cifs_sessions()[0];
        let json = c.cifs_session_json(session, Duration::from_secs(60));
        assert_eq!(json["identifier"].as_u64(), Some(u64::MAX));
        assert_eq!(
            json["connected_duration"],
            duration_text(session.connected_at_start + Duration::from_secs(60))
        );
        for field in [
            "node",
            "svm",
            "identifier",
            "connection_id",
            "server_ip",
            "client_ip",
            "authentication",
            "mapped_unix_user",
            "protocol",
            "continuous_availability",
            "smb_signing",
            "smb_encryption",
            "large_mtu",
            "connected_duration",
            "idle_duration",
            "connection_count",
            "open_files",
            "open_other",
            "open_shares",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
    }

    /// 10,000 sessions of one connection, for the shares of derived values.
    fn many_sessions() -> Vec<CifsSession> {
        let c = connection(7, Vec::new());
        (1..=10_000).map(|id| CifsSession::of(&c, id)).collect()
    }

    /// The fraction of `sessions` for which `holds` holds.
    fn share(sessions: &[CifsSession], holds: impl Fn(&CifsSession) -> bool) -> f64 {
        sessions.iter().filter(|s| holds(s)).count() as f64 / sessions.len() as f64
    }

    #[test]
    fn draws_are_splitmix64_seeded_with_fnv1a() {
        // FNV-1a's offset basis is the hash of nothing.
        assert_eq!(Draw::of(&[]).0, 0xcbf2_9ce4_8422_2325);
        // SplitMix64's published outputs for seed 0.
        let mut draw = Draw(0);
        assert_eq!(draw.below(u64::MAX), 0xe220_a839_7b1d_cdaf);
        assert_eq!(draw.below(u64::MAX), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(draw.below(u64::MAX), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn a_weighted_pick_falls_in_each_bucket_by_its_weight() {
        let mut draw = Draw::of(&[b"weights"]);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[draw.weighted(&[1, 1, 1])] += 1;
        }
        for count in counts {
            assert!((9_000..=11_000).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn two_sessions_in_five_sign_their_messages() {
        let signing = share(&many_sessions(), |s| s.smb_signing);
        assert!((0.37..=0.43).contains(&signing), "{signing}");
    }

    #[test]
    fn sessions_had_existed_up_to_eight_hours_when_the_clock_started() {
        let sessions = many_sessions();
        let oldest = sessions.iter().map(|s| s.connected_at_start).max().unwrap();
        assert!(
            oldest <= Duration::from_secs(30 + MAX_AGE_SECS),
            "{oldest:?}"
        );
        assert!(oldest >= Duration::from_secs(7 * 3600), "{oldest:?}");
    }

    #[test]
    fn files_are_open_only_on_sessions_with_open_shares() {
        let sessions = many_sessions();
        assert!(
            sessions
                .iter()
                .all(|s| s.open_shares > 0 || s.open_files == 0)
        );
        assert!(share(&sessions, |s| s.open_files > 0) > 0.5);
    }

    #[test]
    fn the_administrator_maps_to_root_and_every_other_user_to_itself() {
        for s in many_sessions() {
            let Some(user) = &s.user else { continue };
            let name = user.strip_prefix("CIFSLAB\\").unwrap();
            let expected = if name == "administrator" {
                "root"
            } else {
                name
            };
            assert_eq!(s.mapped_unix_user, expected, "{s:?}");
        }
    }

    #[test]
    fn a_sessions_volumes_are_consecutive_in_the_svms_list() {
        let sessions = many_sessions();
        let mut firsts = HashSet::new();
        for s in sessions.iter().filter(|s| s.volumes.len() == 2) {
            let at = |v: &VolumeRef| VOLUMES.iter().position(|n| *n == v.name).unwrap();
            let first = at(&s.volumes[0]);
            assert_eq!(at(&s.volumes[1]), (first + 1) % VOLUMES.len(), "{s:?}");
            firsts.insert(first);
        }
        assert_eq!(firsts.len(), VOLUMES.len());
    }
}
