//! CIFS connections and sessions that open and close by themselves, as on a cluster with
//! clients. A connection's `session_ids` are the CIFS sessions, so every event shows in both
//! collections at once: opening a connection starts its sessions, closing one ends them, and a
//! session event starts or ends one session of a connection (never its last, so a connection
//! never stays open without one). A watcher of connections and a watcher of sessions see the
//! same changes.
//!
//! Churn is a function of the simulated clock, not of real time or of when anyone looks: events
//! happen at the instants of a Poisson process drawn from a seeded generator, counted from when
//! churn was set, and each is applied, in order, the next time the cluster is read or changed at
//! or after its instant. So a test that pins and advances the clock sees exactly reproducible
//! changes: the same seed and the same clock positions give the same connections, and as long as
//! nobody changes the connections by hand in between, so does reaching the same position in any
//! number of steps. A simulator whose clock runs with real time shows connections coming and
//! going live, with no background task.
//!
//! When events happen is drawn from one generator and what each does from another, so a
//! connection added or removed by hand changes what later events do but never when they happen.
//! The clock set back in time undoes nothing: events already applied stay applied, and the next
//! one waits for its instant.

use std::time::{Duration, SystemTime};

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::resources::model::{CifsConnection, Cluster, SvmState};

/// How fast CIFS connections churn: the average number of events per simulated minute (each
/// opens a connection, closes one, or starts or ends a session in one), and the seed of the
/// generators that draw them. Zero events per minute, the default, is off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CifsChurn {
    per_minute: f64,
    seed: u64,
}

/// A churn rate that is negative, not finite, or above [`CifsChurn::MAX_PER_MINUTE`].
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("a CIFS churn rate is a number of events per minute from 0 to 60000, not {0}")]
pub struct InvalidChurnRate(pub f64);

impl CifsChurn {
    /// No churn: connections change only when a test or a client changes them.
    pub const OFF: CifsChurn = CifsChurn {
        per_minute: 0.0,
        seed: CifsChurn::DEFAULT_SEED,
    };

    /// The seed the simulator uses unless told otherwise.
    pub const DEFAULT_SEED: u64 = 0x5eed_c1f5;

    /// The highest rate accepted, a thousand events per second: enough to stress a watcher,
    /// low enough that catching up after a pause stays cheap.
    pub const MAX_PER_MINUTE: f64 = 60_000.0;

    /// `per_minute` events per simulated minute on average (0: off), drawn from `seed`.
    pub fn new(per_minute: f64, seed: u64) -> Result<CifsChurn, InvalidChurnRate> {
        if per_minute.is_finite() && (0.0..=CifsChurn::MAX_PER_MINUTE).contains(&per_minute) {
            Ok(CifsChurn { per_minute, seed })
        } else {
            Err(InvalidChurnRate(per_minute))
        }
    }

    /// Average events per simulated minute.
    pub fn per_minute(&self) -> f64 {
        self.per_minute
    }

    /// The generators' seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether no events happen.
    pub fn is_off(&self) -> bool {
        self.per_minute == 0.0
    }
}

impl Default for CifsChurn {
    /// [`CifsChurn::OFF`].
    fn default() -> CifsChurn {
        CifsChurn::OFF
    }
}

/// The churn never closes a connection when this few are open (half the seed's 40)...
pub(crate) const MIN_CONNECTIONS: usize = 20;
/// ...nor opens one when this many are (twice the seed's), so a long run stays bounded.
pub(crate) const MAX_CONNECTIONS: usize = 80;
/// Sessions per connection the churn keeps to, as the seed does: ending a session never leaves a
/// connection without one, and starting one never makes more than this.
const MAX_SESSIONS: usize = 3;
/// How many due events one catch-up applies at most; the rest are dropped and the schedule
/// restarts from now, so reading the cluster after a clock jump of days costs milliseconds.
pub(crate) const MAX_CATCH_UP: u64 = 10_000;
/// New identifiers are a random step of at most this above the highest in use, so they grow as
/// ONTAP's do without looking sequential.
const MAX_STEP: u64 = 16;
/// Mixed into the seed for the generator of what events do, so it is independent of the one of
/// when they happen.
const EVENTS_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;

/// Churn in progress: its setting, the generators, the next event's instant, and a count of the
/// events applied so far.
#[derive(Debug)]
pub(crate) struct Churner {
    setting: CifsChurn,
    timing: Pcg64Mcg,
    events: Pcg64Mcg,
    next: Option<SystemTime>,
    applied: u64,
}

impl Churner {
    /// Churn as `setting` says, with the first event drawn after `from`.
    pub(crate) fn new(setting: CifsChurn, from: SystemTime) -> Churner {
        let mut churner = Churner {
            setting,
            timing: Pcg64Mcg::seed_from_u64(setting.seed),
            events: Pcg64Mcg::seed_from_u64(setting.seed ^ EVENTS_STREAM),
            next: None,
            applied: 0,
        };
        churner.next = churner.next_after(from);
        churner
    }

    /// Starts churning as `setting` says from `from`, generators reseeded, keeping the count.
    pub(crate) fn restart(&mut self, setting: CifsChurn, from: SystemTime) {
        let applied = self.applied;
        *self = Churner::new(setting, from);
        self.applied = applied;
    }

    pub(crate) fn setting(&self) -> CifsChurn {
        self.setting
    }

    /// Events applied since the simulator started.
    pub(crate) fn applied(&self) -> u64 {
        self.applied
    }

    /// Applies, in order, every event due at or before `now` (at most [`MAX_CATCH_UP`]).
    pub(crate) fn catch_up(&mut self, cluster: &mut Cluster, now: SystemTime) {
        let mut applied_now = 0;
        while let Some(at) = self.next.filter(|at| *at <= now) {
            if applied_now == MAX_CATCH_UP {
                self.next = self.next_after(now);
                return;
            }
            apply(&mut self.events, cluster);
            applied_now += 1;
            self.applied += 1;
            self.next = self.next_after(at);
        }
    }

    /// The instant of the event after one at `at`: exponentially distributed waits make the
    /// events a Poisson process at the set rate. `None` when off, or too far off to represent.
    fn next_after(&mut self, at: SystemTime) -> Option<SystemTime> {
        if self.setting.is_off() {
            return None;
        }
        let per_second = self.setting.per_minute / 60.0;
        let uniform: f64 = self.timing.random();
        let wait = -(1.0 - uniform).ln() / per_second;
        Duration::try_from_secs_f64(wait)
            .ok()
            .and_then(|wait| at.checked_add(wait))
    }
}

/// What one event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Open,
    Close,
    Session,
}

/// One event: opening, closing and a session change are equally likely, except that the bounds
/// turn an open into a close and a close into an open, and a session change with no connection
/// to change is an open.
fn apply(draw: &mut Pcg64Mcg, cluster: &mut Cluster) {
    let count = cluster.cifs_connections.len();
    let event = match draw.random_range(0..3) {
        0 => Event::Open,
        1 => Event::Close,
        _ => Event::Session,
    };
    let event = match event {
        Event::Open if count >= MAX_CONNECTIONS => Event::Close,
        Event::Close if count <= MIN_CONNECTIONS => Event::Open,
        Event::Session if count == 0 => Event::Open,
        other => other,
    };
    match event {
        Event::Open => open(draw, cluster),
        Event::Close => {
            let index = draw.random_range(0..count);
            cluster.cifs_connections.remove(index);
        }
        Event::Session => change_session(draw, cluster),
    }
}

/// Opens a connection beside a random existing one (same node, SVM and server address), or, with
/// none open, on a random node and running SVM; with neither, nothing happens.
fn open(draw: &mut Pcg64Mcg, cluster: &mut Cluster) {
    let Some((node_uuid, svm_uuid, server_ip)) = placement(draw, cluster) else {
        return;
    };
    let on_node = |id: u64| {
        cluster
            .cifs_connections
            .iter()
            .any(|c| c.node_uuid == node_uuid && u64::from(c.identifier) == id)
    };
    let highest = cluster
        .cifs_connections
        .iter()
        .filter(|c| c.node_uuid == node_uuid)
        .map(|c| u64::from(c.identifier))
        .max();
    let Some(identifier) =
        fresh(draw, highest, u64::from(u32::MAX), on_node).and_then(|id| u32::try_from(id).ok())
    else {
        return;
    };
    let mut highest = highest_session(cluster);
    let mut session_ids: Vec<u64> = Vec::new();
    for _ in 0..draw.random_range(1..=MAX_SESSIONS) {
        let in_use = |id| session_in_use(cluster, id) || session_ids.contains(&id);
        if let Some(id) = fresh(draw, highest, u64::MAX, in_use) {
            highest = highest.max(Some(id));
            session_ids.push(id);
        }
    }
    let client_ip = if draw.random_ratio(1, 3) {
        format!("10.140.133.{}", draw.random_range(20..220))
    } else {
        format!("10.74.7.{}", draw.random_range(100..250))
    };
    cluster.cifs_connections.push(CifsConnection {
        node_uuid,
        svm_uuid,
        identifier,
        network_context_id: draw.random_range(1..=8),
        client_ip,
        client_port: draw.random_range(1025..=65_000),
        server_ip,
        session_ids,
    });
}

/// Node UUID, SVM UUID and server address for a new connection.
fn placement(draw: &mut Pcg64Mcg, cluster: &Cluster) -> Option<(String, String, String)> {
    if !cluster.cifs_connections.is_empty() {
        let index = draw.random_range(0..cluster.cifs_connections.len());
        let beside = cluster.cifs_connections.get(index)?;
        return Some((
            beside.node_uuid.clone(),
            beside.svm_uuid.clone(),
            beside.server_ip.clone(),
        ));
    }
    let running: Vec<&str> = cluster
        .svms
        .iter()
        .filter(|s| s.state == SvmState::Running)
        .map(|s| s.uuid.as_str())
        .collect();
    if cluster.nodes.is_empty() || running.is_empty() {
        return None;
    }
    let node_index = draw.random_range(0..cluster.nodes.len());
    let node = cluster.nodes.get(node_index)?;
    let svm = running.get(draw.random_range(0..running.len()))?;
    Some((
        node.uuid.clone(),
        (*svm).to_owned(),
        format!("10.140.70.{}", 197 + node_index % 50),
    ))
}

/// Starts a session in a random connection or ends one there, keeping between one and
/// [`MAX_SESSIONS`].
fn change_session(draw: &mut Pcg64Mcg, cluster: &mut Cluster) {
    let index = draw.random_range(0..cluster.cifs_connections.len());
    let starting = draw.random_bool(0.5);
    let new_id = fresh(draw, highest_session(cluster), u64::MAX, |id| {
        session_in_use(cluster, id)
    });
    let Some(connection) = cluster.cifs_connections.get_mut(index) else {
        return;
    };
    let sessions = connection.session_ids.len();
    if sessions > 1 && (sessions >= MAX_SESSIONS || !starting) {
        let gone = draw.random_range(0..sessions);
        connection.session_ids.remove(gone);
    } else if let Some(id) = new_id {
        connection.session_ids.push(id);
    }
}

fn highest_session(cluster: &Cluster) -> Option<u64> {
    cluster
        .cifs_connections
        .iter()
        .flat_map(|c| c.session_ids.iter().copied())
        .max()
}

fn session_in_use(cluster: &Cluster, id: u64) -> bool {
    cluster
        .cifs_connections
        .iter()
        .any(|c| c.session_ids.contains(&id))
}

/// A value a random step above `highest` (the highest in use, if any), or, if that would pass
/// `limit`, the lowest from 1 not `in_use`; `None` when every value up to `limit` is in use.
fn fresh(
    draw: &mut Pcg64Mcg,
    highest: Option<u64>,
    limit: u64,
    in_use: impl Fn(u64) -> bool,
) -> Option<u64> {
    let step = draw.random_range(1..=MAX_STEP);
    highest
        .unwrap_or(0)
        .checked_add(step)
        .filter(|value| *value <= limit)
        .or_else(|| (1..=limit).find(|value| !in_use(*value)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::time::clock::clock_start;

    const MINUTE: Duration = Duration::from_secs(60);

    fn churn(per_minute: f64) -> CifsChurn {
        CifsChurn::new(per_minute, 7).expect("a valid rate")
    }

    /// The seed cluster after churning at `per_minute` through each of `steps` in turn.
    fn churned(per_minute: f64, seed: u64, steps: &[Duration]) -> Cluster {
        let mut cluster = Cluster::seed();
        let setting = CifsChurn::new(per_minute, seed).expect("a valid rate");
        let mut churner = Churner::new(setting, clock_start());
        let mut now = clock_start();
        for step in steps {
            now += *step;
            churner.catch_up(&mut cluster, now);
        }
        cluster
    }

    /// The gateway's README gets, then closes, session 625718873227788553 of connection 92010
    /// on node 1 and `vs1`, and says `serve --simulate`'s churn (6 a minute, the default seed)
    /// leaves it alone for its first two hours.
    #[test]
    fn the_readmes_session_outlives_two_hours_of_the_demo_churn() {
        let mut cluster = Cluster::seed();
        let setting = CifsChurn::new(6.0, CifsChurn::DEFAULT_SEED).expect("a valid rate");
        let mut churner = Churner::new(setting, clock_start());
        let holds_it = |cluster: &Cluster| {
            cluster.cifs_connections.iter().any(|c| {
                c.node_uuid == "1cd8a442-86d1-11e0-ae1c-123478563412"
                    && c.svm_uuid == "fc824aa8-4e60-11ea-afb1-0050568ec4e4"
                    && c.identifier == 92_010
                    && c.session_ids.contains(&625_718_873_227_788_553)
            })
        };
        for minute in 0..=120 {
            churner.catch_up(&mut cluster, clock_start() + MINUTE * minute);
            assert!(holds_it(&cluster), "gone by minute {minute}");
        }
        assert!(churner.applied() > 600, "{}", churner.applied());
    }

    #[test]
    fn rates_outside_zero_to_the_maximum_are_refused() {
        for bad in [-1.0, f64::NAN, f64::INFINITY, 60_000.5] {
            assert!(CifsChurn::new(bad, 1).is_err(), "{bad}");
        }
        for good in [0.0, 0.001, 6.0, 60_000.0] {
            assert!(CifsChurn::new(good, 1).is_ok(), "{good}");
        }
    }

    #[test]
    fn refusal_names_the_rate() {
        let message = CifsChurn::new(-2.5, 1).expect_err("negative").to_string();
        assert!(message.contains("-2.5"), "{message}");
    }

    #[test]
    fn default_is_off() {
        assert!(CifsChurn::default().is_off());
        assert_eq!(CifsChurn::default(), CifsChurn::OFF);
    }

    #[test]
    fn same_seed_and_clock_steps_give_the_same_connections() {
        let steps = [MINUTE; 30];
        assert_eq!(churned(6.0, 3, &steps), churned(6.0, 3, &steps));
    }

    #[test]
    fn another_seed_gives_other_connections() {
        let steps = [MINUTE; 30];
        assert_ne!(churned(6.0, 3, &steps), churned(6.0, 4, &steps));
    }

    #[test]
    fn reaching_a_time_in_one_step_or_many_gives_the_same_connections() {
        let many = [Duration::from_secs(7); 300];
        let one = [Duration::from_secs(7 * 300)];
        assert_eq!(churned(6.0, 3, &many), churned(6.0, 3, &one));
    }

    #[test]
    fn connections_change_as_the_clock_advances() {
        let after = churned(6.0, 3, &[MINUTE * 10]);
        assert_ne!(after.cifs_connections, Cluster::seed().cifs_connections);
    }

    #[test]
    fn churn_off_changes_nothing_as_the_clock_advances() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(CifsChurn::OFF, clock_start());
        for hours in 1..=48 {
            churner.catch_up(&mut cluster, clock_start() + MINUTE * 60 * hours);
        }
        assert_eq!(cluster, Cluster::seed());
        assert_eq!(churner.applied(), 0);
    }

    #[test]
    fn nothing_happens_before_the_first_event_is_due() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(churn(6.0), clock_start());
        churner.catch_up(&mut cluster, clock_start());
        assert_eq!(cluster, Cluster::seed());
    }

    #[test]
    fn rate_is_honoured_over_a_long_span() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(churn(6.0), clock_start());
        let hours = 100;
        for minute in 1..=60 * hours {
            churner.catch_up(&mut cluster, clock_start() + MINUTE * minute);
        }
        let expected = 6.0 * 60.0 * f64::from(hours);
        let applied = churner.applied() as f64;
        // A Poisson count has a standard deviation of √36000 ≈ 190; 3 % is over five of them.
        assert!((applied - expected).abs() < expected * 0.03, "{applied}");
    }

    #[test]
    fn every_kind_of_event_happens() {
        let before = Cluster::seed();
        let after = churned(6.0, 3, &[MINUTE * 60]);
        let key = |c: &CifsConnection| (c.node_uuid.clone(), c.identifier);
        let old: HashSet<_> = before.cifs_connections.iter().map(key).collect();
        let new: HashSet<_> = after.cifs_connections.iter().map(key).collect();
        assert!(new.difference(&old).count() > 0, "some opened");
        assert!(old.difference(&new).count() > 0, "some closed");
        let sessions_changed = after.cifs_connections.iter().any(|c| {
            before
                .cifs_connections
                .iter()
                .any(|b| key(b) == key(c) && b.session_ids != c.session_ids)
        });
        assert!(sessions_changed, "sessions came or went in a connection");
    }

    #[test]
    fn connections_stay_within_the_bounds() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(churn(60.0), clock_start());
        let mut seen = HashSet::new();
        for minute in 1..=400 {
            churner.catch_up(&mut cluster, clock_start() + MINUTE * minute);
            let count = cluster.cifs_connections.len();
            assert!(
                (MIN_CONNECTIONS..=MAX_CONNECTIONS).contains(&count),
                "{count} at minute {minute}"
            );
            seen.insert(count);
        }
        assert!(
            seen.contains(&MIN_CONNECTIONS) && seen.contains(&MAX_CONNECTIONS),
            "{seen:?}"
        );
    }

    #[test]
    fn a_cluster_above_the_cap_only_shrinks() {
        let mut cluster = Cluster::seed();
        let template = cluster.cifs_connections[0].clone();
        cluster.cifs_connections = (1..=100)
            .map(|id| CifsConnection {
                identifier: id,
                session_ids: vec![u64::from(id)],
                ..template.clone()
            })
            .collect();
        let mut churner = Churner::new(churn(60.0), clock_start());
        let mut previous = cluster.cifs_connections.len();
        for minute in 1..=10 {
            churner.catch_up(&mut cluster, clock_start() + MINUTE * minute);
            let count = cluster.cifs_connections.len();
            assert!(
                count <= previous.max(MAX_CONNECTIONS),
                "{count} after {previous}"
            );
            previous = count;
        }
        assert!(previous < 100);
    }

    #[test]
    fn identifiers_stay_unique_per_node_and_sessions_unique_overall() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(churn(60.0), clock_start());
        for minute in 1..=300 {
            churner.catch_up(&mut cluster, clock_start() + MINUTE * minute);
            let keys: HashSet<_> = cluster
                .cifs_connections
                .iter()
                .map(|c| (&c.node_uuid, c.identifier))
                .collect();
            assert_eq!(keys.len(), cluster.cifs_connections.len(), "{minute}");
            let sessions: Vec<u64> = cluster
                .cifs_connections
                .iter()
                .flat_map(|c| c.session_ids.iter().copied())
                .collect();
            let unique: HashSet<_> = sessions.iter().collect();
            assert_eq!(unique.len(), sessions.len(), "{minute}");
        }
    }

    #[test]
    fn new_connections_look_like_the_seed_ones() {
        let after = churned(60.0, 5, &[MINUTE * 60]);
        for c in &after.cifs_connections {
            assert!((1025..=65_000).contains(&c.client_port), "{c:?}");
            assert!((1..=8).contains(&c.network_context_id), "{c:?}");
            assert!((1..=MAX_SESSIONS).contains(&c.session_ids.len()), "{c:?}");
            assert!(
                c.client_ip.starts_with("10.74.7.") || c.client_ip.starts_with("10.140.133."),
                "{c:?}"
            );
            let seeded = Cluster::seed();
            assert!(seeded.node(&c.node_uuid).is_some(), "{c:?}");
            assert!(
                seeded
                    .cifs_connections
                    .iter()
                    .any(|s| (&s.node_uuid, &s.svm_uuid, &s.server_ip)
                        == (&c.node_uuid, &c.svm_uuid, &c.server_ip)),
                "on a node, SVM and LIF of the seed's: {c:?}"
            );
        }
        let svms: HashSet<&str> = after
            .cifs_connections
            .iter()
            .map(|c| c.svm_uuid.as_str())
            .collect();
        assert_eq!(svms.len(), 2, "beside vs1's and svm3's: {svms:?}");
    }

    #[test]
    fn an_empty_cluster_with_a_node_and_a_running_svm_gets_connections() {
        let cluster = after_ten_busy_minutes(Cluster {
            nodes: Cluster::seed().nodes,
            svms: Cluster::seed().svms,
            ..Cluster::empty()
        });
        assert!(!cluster.cifs_connections.is_empty());
        let running: Vec<_> = cluster
            .svms
            .iter()
            .filter(|s| s.state == SvmState::Running)
            .map(|s| s.uuid.clone())
            .collect();
        assert!(
            cluster
                .cifs_connections
                .iter()
                .all(|c| running.contains(&c.svm_uuid))
        );
    }

    #[test]
    fn a_cluster_without_nodes_stays_empty() {
        let mut cluster = Cluster::empty();
        let mut churner = Churner::new(churn(60.0), clock_start());
        churner.catch_up(&mut cluster, clock_start() + MINUTE * 10);
        assert!(cluster.cifs_connections.is_empty());
        assert!(churner.applied() > 0);
    }

    /// `cluster` after ten minutes of churn at 60 events a minute.
    fn after_ten_busy_minutes(mut cluster: Cluster) -> Cluster {
        let mut churner = Churner::new(churn(60.0), clock_start());
        churner.catch_up(&mut cluster, clock_start() + MINUTE * 10);
        cluster
    }

    #[test]
    fn nodes_without_a_running_svm_get_no_connections() {
        let cluster = after_ten_busy_minutes(Cluster {
            nodes: Cluster::seed().nodes,
            ..Cluster::empty()
        });
        assert!(cluster.cifs_connections.is_empty());
    }

    #[test]
    fn running_svms_without_a_node_get_no_connections() {
        let cluster = after_ten_busy_minutes(Cluster {
            svms: Cluster::seed().svms,
            ..Cluster::empty()
        });
        assert!(cluster.cifs_connections.is_empty());
    }

    /// The seed cluster with its first connection's identifier and one session at the highest
    /// values they can take, so new ones must be found among the lowest free; identifier 1 is
    /// taken on another node only.
    fn cluster_at_the_top_of_the_ranges() -> Cluster {
        let mut cluster = Cluster::seed();
        let first = &mut cluster.cifs_connections[0];
        first.identifier = u32::MAX;
        first.session_ids.push(u64::MAX);
        let top_node = first.node_uuid.clone();
        let elsewhere = cluster
            .cifs_connections
            .iter_mut()
            .find(|c| c.node_uuid != top_node)
            .expect("a connection on another node");
        elsewhere.identifier = 1;
        cluster
    }

    /// Opens one connection with each of `seeds` on a copy of `cluster`, giving the copy and the
    /// connection opened.
    fn opened(cluster: &Cluster, seeds: std::ops::Range<u64>) -> Vec<(Cluster, CifsConnection)> {
        seeds
            .map(|seed| {
                let mut after = cluster.clone();
                open(&mut Pcg64Mcg::seed_from_u64(seed), &mut after);
                let new = after.cifs_connections.last().expect("a connection").clone();
                assert_eq!(
                    after.cifs_connections.len(),
                    cluster.cifs_connections.len() + 1
                );
                (after, new)
            })
            .collect()
    }

    #[test]
    fn past_the_highest_identifier_a_new_connection_takes_the_lowest_free_on_its_node() {
        let cluster = cluster_at_the_top_of_the_ranges();
        let top_node = &cluster.cifs_connections[0].node_uuid;
        let mut on_the_top_node = 0;
        for (after, new) in opened(&cluster, 0..40) {
            let on_its_node: HashSet<u32> = cluster
                .cifs_connections
                .iter()
                .filter(|c| c.node_uuid == new.node_uuid)
                .map(|c| c.identifier)
                .collect();
            let lowest_free = (1..).find(|id| !on_its_node.contains(id));
            if &new.node_uuid == top_node {
                on_the_top_node += 1;
                assert_eq!(Some(new.identifier), lowest_free, "{after:?}");
            } else {
                assert!(!on_its_node.contains(&new.identifier), "{after:?}");
            }
        }
        assert!(on_the_top_node > 0);
    }

    #[test]
    fn past_the_highest_session_a_new_connection_takes_sessions_nobody_holds() {
        let cluster = cluster_at_the_top_of_the_ranges();
        let held: HashSet<u64> = cluster
            .cifs_connections
            .iter()
            .flat_map(|c| c.session_ids.iter().copied())
            .collect();
        for (_, new) in opened(&cluster, 0..40) {
            assert!(!new.session_ids.is_empty(), "{new:?}");
            let unique: HashSet<u64> = new.session_ids.iter().copied().collect();
            assert_eq!(unique.len(), new.session_ids.len(), "{new:?}");
            assert!(unique.is_disjoint(&held), "{new:?}");
        }
    }

    #[test]
    fn a_long_jump_applies_at_most_the_catch_up_bound() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(churn(60_000.0), clock_start());
        churner.catch_up(&mut cluster, clock_start() + MINUTE * 60);
        assert_eq!(churner.applied(), MAX_CATCH_UP);
        let resumed = churner.next.expect("a next event");
        assert!(resumed > clock_start() + MINUTE * 60);
    }

    #[test]
    fn setting_the_clock_back_undoes_nothing() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(churn(60.0), clock_start());
        churner.catch_up(&mut cluster, clock_start() + MINUTE * 5);
        let reached = cluster.clone();
        churner.catch_up(&mut cluster, clock_start());
        assert_eq!(cluster, reached);
    }

    #[test]
    fn restart_keeps_the_count_and_takes_the_new_rate() {
        let mut cluster = Cluster::seed();
        let mut churner = Churner::new(churn(60.0), clock_start());
        churner.catch_up(&mut cluster, clock_start() + MINUTE);
        let applied = churner.applied();
        assert!(applied > 0);
        churner.restart(CifsChurn::OFF, clock_start() + MINUTE);
        churner.catch_up(&mut cluster, clock_start() + MINUTE * 100);
        assert_eq!(churner.applied(), applied);
        assert!(churner.setting().is_off());
    }

    #[test]
    fn fresh_values_climb_above_the_highest_and_wrap_to_the_lowest_free() {
        let mut draw = Pcg64Mcg::seed_from_u64(1);
        let above = fresh(&mut draw, Some(9), 100, |id| [5, 9].contains(&id)).expect("room");
        assert!((10..=9 + MAX_STEP).contains(&above), "{above}");
        let near_the_top = |id| [1, 2, 10].contains(&id);
        assert_eq!(fresh(&mut draw, Some(10), 10, near_the_top), Some(3));
        assert_eq!(fresh(&mut draw, Some(4), 4, |id| id <= 4), None);
    }
}
