//! iSCSI services in the cluster model, and their JSON rendering.
//!
//! A service keeps the history of its administrative state and counter resets rather than any
//! counter values: its performance data is computed from that history and its SVM's workload
//! at whatever time a request asks about, so it needs no background task and every reading is
//! consistent with every other.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::perf::MetricStatus;
use crate::perf::workload::Workload;
use crate::perf::{self, Counters, PerOp, Sample, Timeline};
use crate::resources::model::Cluster;
use crate::time;
use crate::time::clock::unix_secs;

/// An SVM's iSCSI service (at most one per SVM, identified by the SVM's UUID).
///
/// Performance data follows [`IscsiService::history`], so change `enabled` through a PATCH or
/// [`crate::SharedCluster::set_iscsi_enabled`], which record when it changed; setting the field
/// directly changes what responses say about the state but not the counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscsiService {
    /// UUID of the SVM the service belongs to.
    pub svm_uuid: String,
    /// Administrative state: a disabled service accepts no iSCSI traffic.
    pub enabled: bool,
    /// Target alias; `None` once cleared, and then left out of responses.
    pub alias: Option<String>,
    /// Target name (IQN), generated at creation.
    pub target_name: String,
    /// When the service was created, in simulated time; no performance data exists before.
    pub created_at: SystemTime,
    /// State changes and counter resets, oldest first; creation records the initial state.
    pub history: Vec<IscsiEvent>,
    /// A status every sample, history record and `statistics` reading of the service reports
    /// instead of its own, so a client can be tested against each status (and an unknown one).
    pub forced_status: Option<MetricStatus>,
    /// Where the raw counters started at creation, so tests can serve counters above 2^63 (see
    /// [`crate::SharedCluster::set_iscsi_counter_base`]).
    pub counter_base: u64,
}

/// Something that happened to a service at a point in simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IscsiEvent {
    /// When.
    pub at: SystemTime,
    /// What.
    pub kind: IscsiEventKind,
}

/// What happened to a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IscsiEventKind {
    /// It was created enabled or became enabled: counters grow from here.
    Enabled,
    /// It was created disabled or became disabled: counters stand still from here.
    Disabled,
    /// Its counters restarted from zero.
    CountersReset,
}

impl IscsiService {
    /// A service created at `created_at` in the given state.
    pub fn new(
        svm_uuid: impl Into<String>,
        target_name: impl Into<String>,
        alias: Option<String>,
        enabled: bool,
        created_at: SystemTime,
    ) -> IscsiService {
        IscsiService {
            svm_uuid: svm_uuid.into(),
            enabled,
            alias,
            target_name: target_name.into(),
            created_at,
            history: vec![IscsiEvent {
                at: created_at,
                kind: state_event(enabled),
            }],
            forced_status: None,
            counter_base: 0,
        }
    }

    /// Sets the administrative state at `at`, recording the change (if it is one).
    pub fn set_enabled(&mut self, enabled: bool, at: SystemTime) {
        if self.enabled != enabled {
            self.enabled = enabled;
            self.record(at, state_event(enabled));
        }
    }

    /// Restarts the counters from zero at `at`.
    pub fn reset_counters(&mut self, at: SystemTime) {
        self.record(at, IscsiEventKind::CountersReset);
    }

    /// Keeps the history sorted even when a test has pinned the clock to an earlier time.
    fn record(&mut self, at: SystemTime, kind: IscsiEventKind) {
        let index = self.history.partition_point(|event| event.at <= at);
        self.history.insert(index, IscsiEvent { at, kind });
    }

    /// The service's own history in the form the performance model reads; the collector's part
    /// is the cluster's (see [`Cluster::iscsi_timeline`]).
    fn timeline(&self) -> Timeline {
        let mut states = Vec::new();
        let mut resets = Vec::new();
        for event in &self.history {
            let at = unix_secs(event.at);
            match event.kind {
                IscsiEventKind::Enabled => states.push((at, true)),
                IscsiEventKind::Disabled => states.push((at, false)),
                IscsiEventKind::CountersReset => resets.push(at),
            }
        }
        Timeline {
            created: unix_secs(self.created_at),
            states,
            resets,
            fallback: self.enabled,
            unanswered: Vec::new(),
            backfilled: Vec::new(),
            forced_status: self.forced_status.clone(),
            counter_base: self.counter_base,
        }
    }

    /// The traffic the service sees while enabled.
    pub(crate) fn workload(&self) -> Workload {
        Workload::for_svm(&self.svm_uuid)
    }
}

fn state_event(enabled: bool) -> IscsiEventKind {
    if enabled {
        IscsiEventKind::Enabled
    } else {
        IscsiEventKind::Disabled
    }
}

/// The target name ONTAP generates: `iqn.1992-08.com.netapp:sn.<SVM UUID without dashes>:vs.<n>`,
/// `n` being the SVM's number in the cluster.
pub fn target_name(svm_uuid: &str, vserver_id: usize) -> String {
    format!(
        "iqn.1992-08.com.netapp:sn.{}:vs.{vserver_id}",
        svm_uuid.replace('-', "")
    )
}

impl Cluster {
    /// The service of the SVM with this UUID.
    pub(crate) fn iscsi_service(&self, svm_uuid: &str) -> Option<&IscsiService> {
        self.iscsi_services.iter().find(|s| s.svm_uuid == svm_uuid)
    }

    /// The service of the SVM with this UUID, for changing it.
    pub(crate) fn iscsi_service_mut(&mut self, svm_uuid: &str) -> Option<&mut IscsiService> {
        self.iscsi_services
            .iter_mut()
            .find(|s| s.svm_uuid == svm_uuid)
    }

    /// The SVM's number in target names: ONTAP numbers the admin SVM 1 and data SVMs after it,
    /// so the SVM's 1-based position plus one.
    pub(crate) fn vserver_id(&self, svm_uuid: &str) -> Option<usize> {
        self.svms
            .iter()
            .position(|s| s.uuid == svm_uuid)
            .map(|index| index + 2)
    }

    /// Everything the service's performance data is computed from: its own history plus the
    /// collector's (nodes that did not answer, collections made up later), which every service
    /// shares because each aggregates over all nodes.
    pub(crate) fn iscsi_timeline(&self, service: &IscsiService) -> Timeline {
        let mut timeline = service.timeline();
        timeline.unanswered = self
            .node_outages
            .iter()
            .map(|outage| (unix_secs(outage.from), outage.until.map(unix_secs)))
            .collect();
        timeline.backfilled = self
            .backfilled_collections
            .iter()
            .copied()
            .map(unix_secs)
            .collect();
        timeline
    }

    /// A service with every field, expensive ones included, as of `now` (seconds since the
    /// epoch); the SVM's name is left out when the SVM is unknown.
    pub(crate) fn iscsi_service_json(&self, service: &IscsiService, now: i64) -> Value {
        let mut svm = Map::new();
        svm.insert("uuid".to_owned(), json!(service.svm_uuid));
        if let Some(found) = self.svm(&service.svm_uuid) {
            svm.insert("name".to_owned(), json!(found.name));
        }
        let mut target = Map::new();
        target.insert("name".to_owned(), json!(service.target_name));
        if let Some(alias) = &service.alias {
            target.insert("alias".to_owned(), json!(alias));
        }
        let workload = service.workload();
        let timeline = self.iscsi_timeline(service);
        let counters = perf::counters_at(&workload, &timeline, now);
        json!({
            "svm": svm,
            "enabled": service.enabled,
            "target": target,
            "metric": sample_json(&perf::live_metric(&workload, &timeline, now)),
            "statistics": statistics_json(&counters, &timeline.statistics_status(now), now),
        })
    }
}

/// A sample as `metric` and the metrics records render it. Throughput has no `other`: other
/// operations move no data, and the page lists only read, write and total.
pub(crate) fn sample_json(sample: &Sample) -> Value {
    json!({
        "timestamp": time::format_rfc3339(sample.timestamp),
        "duration": time::format_duration(sample.duration),
        "status": sample.status.as_str(),
        "iops": per_op_json(&sample.iops, true),
        "latency": per_op_json(&sample.latency, true),
        "throughput": per_op_json(&sample.throughput, false),
    })
}

fn statistics_json(counters: &Counters, status: &MetricStatus, now: i64) -> Value {
    json!({
        "timestamp": time::format_rfc3339(now),
        "status": status.as_str(),
        "iops_raw": per_op_json(&counters.ops, true),
        "latency_raw": per_op_json(&counters.latency_us, true),
        "throughput_raw": per_op_json(&counters.bytes, false),
    })
}

fn per_op_json(values: &PerOp, with_other: bool) -> Value {
    let mut object = Map::new();
    object.insert("read".to_owned(), json!(values.read));
    object.insert("write".to_owned(), json!(values.write));
    if with_other {
        object.insert("other".to_owned(), json!(values.other));
    }
    object.insert("total".to_owned(), json!(values.total));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::model::{Svm, SvmState};
    use crate::time::clock::{clock_start, from_unix_secs};
    use std::time::Duration;

    const UUID: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";

    fn service(enabled: bool) -> IscsiService {
        IscsiService::new(UUID, target_name(UUID, 3), None, enabled, clock_start())
    }

    fn cluster_with(service: IscsiService) -> Cluster {
        Cluster {
            svms: vec![Svm::new(UUID, "svm1", SvmState::Running)],
            iscsi_services: vec![service],
            ..Cluster::empty()
        }
    }

    #[test]
    fn target_name_is_the_documented_iqn() {
        assert_eq!(
            target_name(UUID, 4),
            "iqn.1992-08.com.netapp:sn.19d04b8e94d711e88370005056b48fd2:vs.4"
        );
    }

    #[test]
    fn creation_records_the_initial_state() {
        let timeline = service(false).timeline();
        assert_eq!(timeline.states, [(unix_secs(clock_start()), false)]);
        assert!(timeline.resets.is_empty());
    }

    #[test]
    fn setting_the_same_state_records_nothing() {
        let mut s = service(true);
        s.set_enabled(true, clock_start() + Duration::from_secs(5));
        assert_eq!(s.history.len(), 1);
        s.set_enabled(false, clock_start() + Duration::from_secs(9));
        assert_eq!(s.history.len(), 2);
        assert!(!s.enabled);
    }

    #[test]
    fn events_stay_in_time_order_when_recorded_out_of_order() {
        let mut s = service(true);
        s.reset_counters(clock_start() + Duration::from_secs(60));
        s.set_enabled(false, clock_start() + Duration::from_secs(30));
        let times: Vec<_> = s.history.iter().map(|e| unix_secs(e.at)).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }

    #[test]
    fn cleared_alias_is_left_out() {
        let cluster = cluster_with(service(true));
        let json = cluster.iscsi_service_json(&cluster.iscsi_services[0], unix_secs(clock_start()));
        assert!(json["target"].get("alias").is_none());
        assert_eq!(json["svm"]["name"], "svm1");
    }

    #[test]
    fn record_carries_metric_and_statistics_in_the_documented_shape() {
        let cluster = cluster_with(service(true));
        let now = unix_secs(clock_start()) + 100;
        let json = cluster.iscsi_service_json(&cluster.iscsi_services[0], now);
        assert_eq!(json["metric"]["duration"], "PT15S");
        assert_eq!(json["metric"]["status"], "ok");
        assert_eq!(json["metric"]["timestamp"], "2026-01-01T00:01:30Z");
        assert!(json["metric"]["iops"]["other"].is_u64());
        assert!(json["metric"]["throughput"].get("other").is_none());
        assert_eq!(json["statistics"]["timestamp"], "2026-01-01T00:01:40Z");
        assert!(json["statistics"]["iops_raw"]["total"].as_u64() > Some(0));
        assert!(json["statistics"]["throughput_raw"].get("other").is_none());
    }

    #[test]
    fn vserver_id_is_the_position_plus_one() {
        let cluster = cluster_with(service(true));
        assert_eq!(cluster.vserver_id(UUID), Some(2));
        assert_eq!(cluster.vserver_id("nope"), None);
        assert_eq!(from_unix_secs(unix_secs(clock_start())), clock_start());
    }
}
