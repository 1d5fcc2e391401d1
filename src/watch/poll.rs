//! The loop every shared poller runs: poll, publish, wait for the next
//! interval; back off while ONTAP fails in a way worth retrying, and end
//! the watch on a failure that retrying cannot fix.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::Code;

use crate::ontap::OntapError;
use crate::translate::GatewayError;
use crate::translate::error_table;

/// The longest wait between polls while they keep failing, unless the poll
/// interval itself is longer.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A poll that failed in a way the watch goes on after.
#[derive(Debug)]
pub struct PollFailed {
    /// Why.
    pub error: GatewayError,
    /// Failed polls in a row, this one included.
    pub consecutive: u32,
    /// How long until the next poll.
    pub retry_in: Duration,
}

/// What a poller polls and where it publishes.
pub trait Source: Send + 'static {
    /// Polls ONTAP once and publishes what changed.
    fn poll(&mut self) -> impl Future<Output = Result<(), GatewayError>> + Send;
    /// Publishes a failed poll that the watch goes on after.
    fn failed(&mut self, failure: PollFailed);
    /// Publishes the failure that ends the watch.
    fn ended(&mut self, error: GatewayError);
}

/// Whether polling again can cure `error`: ONTAP or the way to it was down,
/// slow or busy. A missing object, refused credentials, a bad request or a
/// record too large to send stay so, and end the watch; refused
/// credentials are UNAVAILABLE to the caller (another replica may hold good
/// ones), but polling on would only pile up failed logins that can lock the
/// account, and a watcher of a record it can never be sent learns so and
/// can watch again with a narrower read mask.
pub fn is_transient(error: &GatewayError) -> bool {
    let stays = matches!(
        error,
        GatewayError::Upstream {
            source: OntapError::CredentialsRejected { .. },
            ..
        } | GatewayError::RecordTooLarge { .. }
    );
    !stays
        && matches!(
            error_table::classify(error).code,
            Code::Unavailable
                | Code::DeadlineExceeded
                | Code::ResourceExhausted
                | Code::Internal
                | Code::Unknown
                | Code::Aborted
        )
}

/// Polls `source` every `interval` until `stop` is cancelled or a failure
/// ends the watch. Polls never overlap: a slow poll delays the next.
pub async fn run(mut source: impl Source, interval: Duration, stop: CancellationToken) {
    let backoff = ExponentialBuilder::new()
        .with_min_delay(interval)
        .with_max_delay(MAX_BACKOFF.max(interval))
        .with_jitter()
        .without_max_times();
    let mut delays = backoff.build();
    let mut consecutive = 0;
    loop {
        let started = Instant::now();
        let polled = tokio::select! {
            () = stop.cancelled() => return,
            polled = source.poll() => polled,
        };
        let next = match polled {
            Ok(()) => {
                if consecutive > 0 {
                    consecutive = 0;
                    delays = backoff.build();
                }
                started + interval
            }
            Err(error) if is_transient(&error) => {
                consecutive += 1;
                let retry_in = delays.next().unwrap_or(MAX_BACKOFF.max(interval));
                source.failed(PollFailed {
                    error,
                    consecutive,
                    retry_in,
                });
                Instant::now() + retry_in
            }
            Err(error) => {
                source.ended(error);
                return;
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::ontap::OntapError;

    fn api(status: u16) -> GatewayError {
        OntapError::Api {
            status,
            error: Box::default(),
        }
        .into()
    }

    #[test]
    fn an_unreachable_or_busy_upstream_is_worth_polling_again() {
        assert!(is_transient(
            &OntapError::Unreachable("refused".into()).into()
        ));
        assert!(is_transient(&api(503)));
        assert!(is_transient(&api(500)));
        assert!(is_transient(&api(429)));
    }

    #[test]
    fn a_missing_object_or_refused_credentials_end_the_watch() {
        assert!(!is_transient(&api(404)));
        assert!(!is_transient(
            &OntapError::CredentialsRejected {
                error: Box::default()
            }
            .into()
        ));
        assert!(!is_transient(&api(403)));
        assert!(!is_transient(&GatewayError::InvalidRequest(Vec::new())));
    }

    #[test]
    fn a_record_too_large_to_send_ends_the_watch() {
        let too_large = GatewayError::RecordTooLarge { bytes: 2, limit: 1 };
        assert!(!is_transient(&too_large));
    }

    /// Answers each poll with the next scripted result, recording what the
    /// loop published.
    struct Scripted {
        results: Vec<Result<(), GatewayError>>,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Source for Scripted {
        async fn poll(&mut self) -> Result<(), GatewayError> {
            self.log.lock().unwrap().push("poll".into());
            if self.results.is_empty() {
                std::future::pending::<()>().await;
            }
            self.results.remove(0)
        }

        fn failed(&mut self, failure: PollFailed) {
            self.log
                .lock()
                .unwrap()
                .push(format!("failed {}", failure.consecutive));
        }

        fn ended(&mut self, error: GatewayError) {
            self.log.lock().unwrap().push(format!("ended {error}"));
        }
    }

    async fn script(results: Vec<Result<(), GatewayError>>) -> Vec<String> {
        let log = Arc::default();
        let source = Scripted {
            results,
            log: Arc::clone(&log),
        };
        let stop = CancellationToken::new();
        let running = tokio::spawn(run(source, Duration::from_secs(1), stop.clone()));
        // Paused time: ten simulated minutes pass in no real time, through
        // every backoff; the script then waits on a poll that never ends.
        for _ in 0..6_000 {
            if running.is_finished() {
                break;
            }
            tokio::task::yield_now().await;
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        stop.cancel();
        let _ = running.await;
        Arc::try_unwrap(log).unwrap().into_inner().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn failures_in_a_row_are_counted_and_a_success_starts_the_count_again() {
        let unreachable = || Err(OntapError::Unreachable("refused".into()).into());
        let log = script(vec![unreachable(), unreachable(), Ok(()), unreachable()]).await;
        assert_eq!(
            log[..7],
            [
                "poll", "failed 1", "poll", "failed 2", "poll", "poll", "failed 1"
            ]
        );
    }

    /// When each poll of `results` started, in whole seconds from the first.
    async fn poll_times(results: Vec<Result<(), GatewayError>>) -> Vec<u64> {
        struct Timed {
            results: Vec<Result<(), GatewayError>>,
            started: tokio::time::Instant,
            times: Arc<Mutex<Vec<u64>>>,
        }
        impl Source for Timed {
            async fn poll(&mut self) -> Result<(), GatewayError> {
                let elapsed = self.started.elapsed().as_millis() as u64;
                self.times.lock().unwrap().push(elapsed / 1_000);
                if self.results.is_empty() {
                    std::future::pending::<()>().await;
                }
                self.results.remove(0)
            }
            fn failed(&mut self, _: PollFailed) {}
            fn ended(&mut self, _: GatewayError) {}
        }
        let times = Arc::default();
        let source = Timed {
            results,
            started: tokio::time::Instant::now(),
            times: Arc::clone(&times),
        };
        let stop = CancellationToken::new();
        let running = tokio::spawn(run(source, Duration::from_secs(1), stop.clone()));
        for _ in 0..100 {
            tokio::task::yield_now().await;
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        stop.cancel();
        let _ = running.await;
        Arc::try_unwrap(times).unwrap().into_inner().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn polls_start_one_interval_apart() {
        let times = poll_times(vec![Ok(()), Ok(()), Ok(())]).await;
        assert_eq!(times, [0, 1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_poll_is_retried_no_sooner_than_one_interval() {
        let unreachable = || Err(OntapError::Unreachable("refused".into()).into());
        let times = poll_times(vec![unreachable(), unreachable()]).await;
        assert_eq!(times.len(), 3, "{times:?}");
        assert!(times[1] >= 1 && times[2] > times[1], "{times:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_polling_cannot_cure_ends_the_loop() {
        let log = script(vec![Ok(()), Err(api(404)), Ok(())]).await;
        assert_eq!(log.len(), 3, "{log:?}");
        assert!(log[2].starts_with("ended"), "{log:?}");
    }
}
