//! The policy in force, swapped whole when its file changes or on SIGHUP: a
//! call checks against the policy it started with, and a file that does not
//! parse leaves the one before it in force.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use super::{Policy, PolicyError};

/// How often the policy file is looked at for a change.
pub const POLICY_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// The policy in force, read from its file.
#[derive(Debug, Clone)]
pub struct SharedPolicy(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    clusters: Vec<String>,
    methods: Vec<String>,
    current: RwLock<(Arc<Policy>, Option<SystemTime>)>,
}

impl SharedPolicy {
    /// Reads `path` now, its rules checked against the configured
    /// `clusters` and the API's `methods`.
    pub fn load(
        path: PathBuf,
        clusters: Vec<String>,
        methods: Vec<String>,
    ) -> Result<Self, PolicyError> {
        let stamp = modified(&path);
        let policy = read(&path, &clusters, &methods)?;
        Ok(Self(Arc::new(Shared {
            path,
            clusters,
            methods,
            current: RwLock::new((Arc::new(policy), stamp)),
        })))
    }

    /// The policy in force.
    pub fn current(&self) -> Arc<Policy> {
        let current = self
            .0
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&current.0)
    }

    /// Reads the file again if it changed since it was last read (or
    /// whatever its time, when `forced`); `Ok(true)` when a new policy is
    /// in force. On an error the policy before stays in force.
    pub fn reload(&self, forced: bool) -> Result<bool, PolicyError> {
        let stamp = modified(&self.0.path);
        let known = self
            .0
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1;
        if !forced && stamp == known {
            return Ok(false);
        }
        let shared = &self.0;
        let read = read(&shared.path, &shared.clusters, &shared.methods);
        let mut current = shared
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // A file that does not parse is not read again until it changes.
        current.1 = stamp;
        current.0 = Arc::new(read?);
        Ok(true)
    }
}

fn read(
    path: &std::path::Path,
    clusters: &[String],
    methods: &[String],
) -> Result<Policy, PolicyError> {
    let clusters: Vec<&str> = clusters.iter().map(String::as_str).collect();
    let methods: Vec<&str> = methods.iter().map(String::as_str).collect();
    Policy::from_file(path, &clusters, &methods)
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Keeps `policy` its file's, looking `every` so often and whenever
/// `hangups` yields (SIGHUP); logs each new policy and each file it could
/// not take.
pub async fn keep_policy_current(
    policy: SharedPolicy,
    every: Duration,
    mut hangups: impl futures_util::Stream<Item = ()> + Unpin,
) {
    use futures_util::StreamExt;
    let mut looks = tokio::time::interval(every);
    looks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let forced = tokio::select! {
            _ = looks.tick() => false,
            hangup = hangups.next() => hangup.is_some(),
        };
        match policy.reload(forced) {
            Ok(false) => {}
            Ok(true) => tracing::info!(
                rules = policy.current().len(),
                "the policy file was read again: its rules decide from now on"
            ),
            Err(error) => tracing::warn!(
                %error,
                "the policy file cannot be used; the policy before it stays in force"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READER: &str = "[[rule]]\ncallers = [\"token:a\"]\nsvms = [\"vs1\"]\naccess = \"read\"\n";

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn shared(path: PathBuf) -> SharedPolicy {
        SharedPolicy::load(path, vec!["east".into()], vec!["ListCifsSessions".into()]).unwrap()
    }

    fn allows(policy: &SharedPolicy, svm: &str) -> bool {
        let current = policy.current();
        current
            .decide("token:a", "east", svm, "ListCifsSessions")
            .is_ok()
    }

    #[test]
    fn a_changed_file_is_in_force_after_a_reload() {
        let (_dir, path) = file(READER);
        let policy = shared(path.clone());
        std::fs::write(&path, READER.replace("vs1", "vs2")).unwrap();
        assert!(policy.reload(true).unwrap());
        assert!(allows(&policy, "vs2"));
        assert!(!allows(&policy, "vs1"));
    }

    #[test]
    fn a_broken_file_leaves_the_policy_before_in_force() {
        let (_dir, path) = file(READER);
        let policy = shared(path.clone());
        std::fs::write(&path, "[[rule]]\ncallers = [\n").unwrap();
        let error = policy.reload(true).unwrap_err();
        assert!(error.to_string().contains("policy.toml"), "{error}");
        assert!(allows(&policy, "vs1"));
    }

    #[test]
    fn an_unchanged_file_is_not_read_again_unless_forced() {
        let (_dir, path) = file(READER);
        let policy = shared(path);
        assert!(!policy.reload(false).unwrap());
        assert!(policy.reload(true).unwrap());
    }

    #[test]
    fn a_file_whose_modification_time_changed_is_read_again_unforced() {
        let (_dir, path) = file(READER);
        let policy = shared(path.clone());
        crate::test_files::rewrite(&path, &READER.replace("vs1", "vs2"));
        assert!(policy.reload(false).unwrap());
        assert!(allows(&policy, "vs2"));
        assert!(!policy.reload(false).unwrap(), "read once per change");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hangup_reads_the_file_again() {
        let (_dir, path) = file(READER);
        let policy = shared(path.clone());
        let (hangup, hangups) = tokio::sync::mpsc::unbounded_channel();
        let hangups = tokio_stream::wrappers::UnboundedReceiverStream::new(hangups);
        let task = tokio::spawn(keep_policy_current(
            policy.clone(),
            Duration::from_secs(3600),
            hangups,
        ));
        std::fs::write(&path, READER.replace("vs1", "vs2")).unwrap();
        hangup.send(()).unwrap();
        // Paused time moves on only once the task has done all it can.
        tokio::time::sleep(Duration::from_millis(1)).await;
        task.abort();
        assert!(
            allows(&policy, "vs2"),
            "the new rules are in force after SIGHUP"
        );
    }
}
