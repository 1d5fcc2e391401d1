//! The edge of a watch: its typed updates become messages, its failures
//! statuses, and the call's deadline ends it.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::status::{MAX_MESSAGE, shown, status_of};
use crate::deadline::Deadline;
use crate::proto::v1::PollFailure;
use crate::translate::{GatewayError, error_table};
use crate::watch::PollFailed;
use crate::watch::feed::ends_at_error;

/// A boxed server stream, as tonic's generated traits name it.
pub type Messages<M> = Pin<Box<dyn Stream<Item = Result<M, Status>> + Send>>;

/// `failure` as the message a watch sends for it.
pub fn poll_failure(failure: &PollFailed) -> PollFailure {
    let row = error_table::classify(&failure.error);
    PollFailure {
        code: row.code as i32,
        reason: row.reason.to_owned(),
        message: shown(&failure.error.to_string(), MAX_MESSAGE),
        consecutive_failures: failure.consecutive,
        retry_in: prost_types::Duration::try_from(failure.retry_in).ok(),
    }
}

/// `updates` as a gRPC stream of `M`, ending at the call's deadline, or
/// with UNAVAILABLE once `closing` is cancelled (the gateway shuts down).
/// Each message is sent only if neither has happened, so a watch that
/// always has one ready still ends; after the status that ends it, nothing
/// is read from `updates`, which is held until the stream is dropped.
pub fn messages<S, U, M>(
    updates: S,
    deadline: Deadline,
    closing: CancellationToken,
    to_message: impl FnMut(U) -> M + Send + 'static,
) -> Messages<M>
where
    S: Stream<Item = Result<U, Arc<GatewayError>>> + Send + 'static,
    M: Send + 'static,
{
    let open = Open {
        messages: Box::pin(updates.map_ok(to_message)),
        stopped: Box::pin(stopped(deadline, closing)),
    };
    Box::pin(ends_at_error(stream::unfold(open, Open::next)))
}

/// Why a stream stops before its updates end: the gateway closing its
/// streams, or else the call's deadline passing, measured from now.
fn stopped(deadline: Deadline, closing: CancellationToken) -> impl Future<Output = Status> + Send {
    let deadline = deadline.remaining().map(tokio::time::sleep);
    let passed = async move {
        match deadline {
            Some(sleep) => sleep.await,
            None => std::future::pending().await,
        }
    };
    async move {
        tokio::select! {
            biased;
            () = closing.cancelled_owned() => status_of(&GatewayError::ShuttingDown),
            () = passed => Status::deadline_exceeded(
                "the call's deadline passed; a watch runs until its deadline or a cancel",
            ),
        }
    }
}

/// A stream not yet ended: its messages, and what stops them early.
struct Open<S, F> {
    messages: Pin<Box<S>>,
    stopped: Pin<Box<F>>,
}

impl<S, F, M> Open<S, F>
where
    S: Stream<Item = Result<M, Arc<GatewayError>>>,
    F: Future<Output = Status>,
{
    /// The next message, or the status that ends the stream; `None` once
    /// the updates end.
    async fn next(mut self) -> Option<(Result<M, Status>, Self)> {
        let message = tokio::select! {
            biased;
            status = &mut self.stopped => Err(status),
            update = self.messages.next() => update?.map_err(|error| status_of(&error)),
        };
        Some((message, self))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tonic::Code;

    use super::*;

    type Update = Result<u32, Arc<GatewayError>>;

    fn tenfold(updates: impl Stream<Item = Update> + Send + 'static) -> Messages<u32> {
        messages(updates, Deadline::NONE, CancellationToken::new(), |n| {
            n * 10
        })
    }

    fn too_slow() -> Update {
        Err(Arc::new(GatewayError::WatchTooSlow { missed: 1 }))
    }

    #[tokio::test]
    async fn each_update_becomes_a_message_and_their_end_ends_the_stream() {
        let mut stream = tenfold(stream::iter([Ok(1), Ok(2)]));
        assert_eq!(stream.next().await.unwrap().unwrap(), 10);
        assert_eq!(stream.next().await.unwrap().unwrap(), 20);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn an_update_error_is_the_last_message_as_its_status() {
        let mut stream = tenfold(stream::iter([too_slow(), Ok(1)]));
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn closing_ends_the_stream_with_unavailable_though_updates_are_ready() {
        let closing = CancellationToken::new();
        let updates = stream::repeat(Ok(1));
        let mut stream = messages(updates, Deadline::NONE, closing.clone(), |n: u32| n);
        assert_eq!(stream.next().await.unwrap().unwrap(), 1);
        closing.cancel();
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_passing_ends_the_stream_with_deadline_exceeded() {
        let deadline = Deadline::after(Duration::from_secs(30));
        let updates = stream::pending::<Update>();
        let mut stream = messages(updates, deadline, CancellationToken::new(), |n| n);
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn the_updates_are_held_after_the_end_until_the_stream_is_dropped() {
        let held = Arc::new(());
        let kept = Arc::clone(&held);
        let mut stream = tenfold(stream::iter([too_slow()]).map(move |update| {
            let _ = &kept;
            update
        }));
        while stream.next().await.is_some() {}
        assert_eq!(Arc::strong_count(&held), 2, "held after the end");
        drop(stream);
        assert_eq!(Arc::strong_count(&held), 1, "released on drop");
    }
}
