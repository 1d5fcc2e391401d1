//! The edge of a watch: its typed updates become messages, its failures
//! statuses, and the call's deadline ends it.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::time::Sleep;
use tokio_stream::Stream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::Status;

use super::status::{MAX_MESSAGE, shown, status_of};
use crate::ontap::Deadline;
use crate::proto::v1::PollFailure;
use crate::translate::{GatewayError, error_table};
use crate::watch::PollFailed;

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
pub fn messages<S, U, M>(
    updates: S,
    deadline: Deadline,
    closing: CancellationToken,
    to_message: impl FnMut(U) -> M + Send + 'static,
) -> Messages<M>
where
    S: Stream<Item = Result<U, std::sync::Arc<GatewayError>>> + Send + 'static,
    M: Send + 'static,
{
    Box::pin(WatchMessages {
        updates,
        to_message,
        deadline: deadline
            .remaining()
            .map(|left| Box::pin(tokio::time::sleep(left))),
        closing: Box::pin(closing.cancelled_owned()),
        done: false,
    })
}

pin_project_lite::pin_project! {
    struct WatchMessages<S, F> {
        #[pin]
        updates: S,
        to_message: F,
        deadline: Option<Pin<Box<Sleep>>>,
        closing: Pin<Box<WaitForCancellationFutureOwned>>,
        done: bool,
    }
}

impl<S, F, U, M> Stream for WatchMessages<S, F>
where
    S: Stream<Item = Result<U, std::sync::Arc<GatewayError>>>,
    F: FnMut(U) -> M,
{
    type Item = Result<M, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if this.closing.as_mut().poll(cx).is_ready() {
            *this.done = true;
            return Poll::Ready(Some(Err(status_of(&GatewayError::ShuttingDown))));
        }
        if let Some(deadline) = this.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            *this.done = true;
            return Poll::Ready(Some(Err(Status::deadline_exceeded(
                "the call's deadline passed; a watch runs until its deadline or a cancel",
            ))));
        }
        match ready!(this.updates.poll_next(cx)) {
            Some(Ok(update)) => Poll::Ready(Some(Ok((this.to_message)(update)))),
            Some(Err(error)) => {
                *this.done = true;
                Poll::Ready(Some(Err(status_of(&error))))
            }
            None => {
                *this.done = true;
                Poll::Ready(None)
            }
        }
    }
}
