//! A shared poller's feed to its watchers, the same for every watch: what a
//! poller publishes goes to each watcher in order, with the polls that
//! failed; the failure that ended the poller reaches every watcher once,
//! however late it joined, and is the last thing it reads; and a watcher
//! that fell further behind than the feed keeps is ended or skips ahead, as
//! its watch can bear.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use futures_util::future::Either;
use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use tokio::sync::broadcast::{self, error::RecvError};

use super::poll::PollFailed;
use crate::translate::GatewayError;

/// A watcher's stream as the service layer takes it: updates, then at most
/// one error, which ends it.
pub type Updates<U> = Pin<Box<dyn Stream<Item = Result<U, Arc<GatewayError>>> + Send>>;

/// What a watcher whose poller published more than the feed keeps since
/// its last read gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lagging {
    /// Its watch ends with RESOURCE_EXHAUSTED (`WATCH_TOO_SLOW`): a watch of
    /// changes that missed some can no longer know what changed.
    EndTooSlow,
    /// It reads on from the oldest the feed still keeps: each item stands
    /// on its own, and the watch counts what was missed itself.
    SkipMissed,
}

/// What goes through a feed's channel.
#[derive(Debug, Clone)]
enum Event<T> {
    /// What a poll found.
    Published(T),
    /// A poll failed; the watch goes on.
    Failed(Arc<PollFailed>),
    /// The poller stopped for this failure; nothing follows.
    Ended(Arc<GatewayError>),
}

/// What a watcher reads from a feed before its end.
#[derive(Debug, Clone)]
pub enum Received<T> {
    /// What a poll found.
    Published(T),
    /// A poll failed; the watch goes on.
    Failed(Arc<PollFailed>),
}

/// The poller's end of a feed.
#[derive(Debug)]
pub struct Publisher<T> {
    events: broadcast::Sender<Event<T>>,
    /// Why the poller stopped, recorded before [`Event::Ended`] is sent, so
    /// that a watcher joining after it still learns it.
    ended: OnceLock<Arc<GatewayError>>,
}

impl<T: Clone> Publisher<T> {
    /// A feed keeping the last `capacity` events for watchers that fall
    /// behind: one ring for all of a poller's watchers.
    pub fn new(capacity: usize) -> Self {
        Self {
            events: broadcast::channel(capacity).0,
            ended: OnceLock::new(),
        }
    }

    /// Sends what a poll found. No watcher listening is no error: the last
    /// may just have left.
    pub fn publish(&self, item: T) {
        let _ = self.events.send(Event::Published(item));
    }

    /// Sends a failed poll that the watch goes on after.
    pub fn failed(&self, failure: PollFailed) {
        let _ = self.events.send(Event::Failed(Arc::new(failure)));
    }

    /// Records and sends the failure that ends the watch.
    pub fn end(&self, error: GatewayError) {
        let error = Arc::clone(self.ended.get_or_init(|| Arc::new(error)));
        let _ = self.events.send(Event::Ended(error));
    }

    /// A new watcher's place in the feed: everything published from now
    /// on. Taken under the lock a poller publishes under, together with
    /// the state the watcher starts from, it misses nothing and sees
    /// nothing twice.
    pub fn subscribe(&self) -> Subscription<T> {
        let live = self.events.subscribe();
        Subscription {
            live,
            recorded: self.ended.get().cloned(),
        }
    }
}

/// A watcher's place in a feed, not yet read.
#[derive(Debug)]
pub struct Subscription<T> {
    live: broadcast::Receiver<Event<T>>,
    /// The failure that had ended the poller when this watcher joined: the
    /// channel holds nothing more for it.
    recorded: Option<Arc<GatewayError>>,
}

impl<T: Clone + Send + 'static> Subscription<T> {
    /// The feed as a stream, holding `membership` (what keeps the poller,
    /// and so the channel, alive) until the stream is dropped: each event in
    /// order, and the poller's failure or [`Lagging::EndTooSlow`]'s error as
    /// its last item.
    pub fn watch<M: Send + 'static>(
        self,
        lagging: Lagging,
        membership: M,
    ) -> impl Stream<Item = Result<Received<T>, Arc<GatewayError>>> + Send + use<T, M> {
        let reader = Reader {
            subscription: self,
            lagging,
            _membership: membership,
        };
        ends_at_error(stream::unfold(reader, Reader::next))
    }
}

/// A subscription being read, and what it holds for its watcher.
struct Reader<T, M> {
    subscription: Subscription<T>,
    lagging: Lagging,
    _membership: M,
}

impl<T: Clone, M> Reader<T, M> {
    /// The next item, and the reader for the one after; `None` once the
    /// poller's state, and with it the channel, is gone.
    async fn next(mut self) -> Option<(Result<Received<T>, Arc<GatewayError>>, Self)> {
        if let Some(error) = self.subscription.recorded.take() {
            return Some((Err(error), self));
        }
        loop {
            let item = match self.subscription.live.recv().await {
                Ok(Event::Published(item)) => Ok(Received::Published(item)),
                Ok(Event::Failed(failure)) => Ok(Received::Failed(failure)),
                Ok(Event::Ended(error)) => Err(error),
                Err(RecvError::Lagged(missed)) => match self.lagging {
                    Lagging::EndTooSlow => Err(Arc::new(GatewayError::WatchTooSlow { missed })),
                    Lagging::SkipMissed => continue,
                },
                Err(RecvError::Closed) => return None,
            };
            return Some((item, self));
        }
    }
}

/// A watcher's stream of `U`s: `first`, then what `expand` makes of each
/// publication and `failed` of each failed poll, then the feed's end.
pub fn updates<T, U, I>(
    first: impl IntoIterator<Item = U, IntoIter: Send + 'static>,
    feed: impl Stream<Item = Result<Received<T>, Arc<GatewayError>>> + Send + 'static,
    failed: fn(Arc<PollFailed>) -> U,
    mut expand: impl FnMut(T) -> I + Send + 'static,
) -> Updates<U>
where
    U: Send + 'static,
    I: Iterator<Item = U> + Send + 'static,
{
    let live = feed
        .map_ok(move |received| match received {
            Received::Published(item) => Either::Left(stream::iter(expand(item).map(Ok))),
            Received::Failed(failure) => Either::Right(stream::iter([Ok(failed(failure))])),
        })
        .try_flatten();
    Box::pin(stream::iter(first.into_iter().map(Ok)).chain(live))
}

/// `stream` up to and including its first error, which ends it.
pub fn ends_at_error<S: Stream<Item = Result<T, E>>, T, E>(stream: S) -> EndsAtError<S> {
    EndsAtError {
        stream,
        ended: false,
    }
}

pin_project_lite::pin_project! {
    /// See [`ends_at_error`]. Hand-written: `take_while` would drop the
    /// error, or keep it only by waiting for an item after it, which a feed
    /// whose poller lives on never sends.
    pub struct EndsAtError<S> {
        #[pin]
        stream: S,
        ended: bool,
    }
}

impl<S: Stream<Item = Result<T, E>>, T, E> Stream for EndsAtError<S> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        let item = ready!(this.stream.poll_next(cx));
        *this.ended = !matches!(item, Some(Ok(_)));
        Poll::Ready(item)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    type Item = Result<Received<u32>, Arc<GatewayError>>;

    /// A watcher holding `membership` of a plain channel keeping
    /// `capacity` events, and the channel's sender.
    fn feed<M: Send + 'static>(
        capacity: usize,
        lagging: Lagging,
        membership: M,
    ) -> (
        broadcast::Sender<Event<u32>>,
        impl Stream<Item = Item> + Send + Unpin,
    ) {
        let (sender, live) = broadcast::channel(capacity);
        let subscription = Subscription {
            live,
            recorded: None,
        };
        (sender, Box::pin(subscription.watch(lagging, membership)))
    }

    fn published(item: Option<Item>) -> u32 {
        match item {
            Some(Ok(Received::Published(n))) => n,
            other => panic!("expected a publication, got {other:?}"),
        }
    }

    fn ended(error: GatewayError) -> Event<u32> {
        Event::Ended(Arc::new(error))
    }

    #[tokio::test]
    async fn delivers_items_in_order() {
        let (sender, mut feed) = feed(4, Lagging::EndTooSlow, ());
        for n in 1..=3 {
            sender.send(Event::Published(n)).unwrap();
        }
        for n in 1..=3 {
            assert_eq!(published(feed.next().await), n);
        }
    }

    #[tokio::test]
    async fn a_failed_poll_is_delivered_and_the_feed_goes_on() {
        let (sender, mut feed) = feed(4, Lagging::EndTooSlow, ());
        let failure = PollFailed {
            error: GatewayError::ShuttingDown,
            consecutive: 2,
            retry_in: Duration::from_secs(1),
        };
        sender.send(Event::Failed(Arc::new(failure))).unwrap();
        sender.send(Event::Published(7)).unwrap();
        match feed.next().await {
            Some(Ok(Received::Failed(failure))) => assert_eq!(failure.consecutive, 2),
            other => panic!("expected the failed poll, got {other:?}"),
        }
        assert_eq!(published(feed.next().await), 7);
    }

    #[tokio::test]
    async fn a_recorded_error_arrives_once_and_then_the_stream_ends() {
        let (sender, mut feed) = feed(4, Lagging::EndTooSlow, ());
        sender.send(ended(GatewayError::ShuttingDown)).unwrap();
        sender.send(Event::Published(1)).unwrap();
        let error = feed.next().await.unwrap().unwrap_err();
        assert!(matches!(*error, GatewayError::ShuttingDown), "{error}");
        assert!(feed.next().await.is_none());
        assert!(feed.next().await.is_none(), "it stays ended");
    }

    #[tokio::test]
    async fn an_error_recorded_before_joining_arrives_first_and_ends_the_stream() {
        let publisher = Publisher::<u32>::new(4);
        publisher.end(GatewayError::ShuttingDown);
        let mut feed = Box::pin(publisher.subscribe().watch(Lagging::EndTooSlow, ()));
        let error = feed.next().await.unwrap().unwrap_err();
        assert!(matches!(*error, GatewayError::ShuttingDown), "{error}");
        assert!(feed.next().await.is_none());
    }

    #[tokio::test]
    async fn a_watcher_that_joined_before_the_end_gets_the_recorded_error() {
        let publisher = Publisher::new(4);
        let mut feed = Box::pin(publisher.subscribe().watch(Lagging::EndTooSlow, ()));
        publisher.publish(1);
        publisher.end(GatewayError::ShuttingDown);
        assert_eq!(published(feed.next().await), 1);
        let error = feed.next().await.unwrap().unwrap_err();
        assert!(Arc::ptr_eq(&error, publisher.ended.get().unwrap()));
        assert!(feed.next().await.is_none());
    }

    #[tokio::test]
    async fn a_lagging_watcher_is_ended_too_slow_naming_how_many_it_missed() {
        let (sender, mut feed) = feed(2, Lagging::EndTooSlow, ());
        for n in 1..=5 {
            sender.send(Event::Published(n)).unwrap();
        }
        let error = feed.next().await.unwrap().unwrap_err();
        assert!(
            matches!(*error, GatewayError::WatchTooSlow { missed: 3 }),
            "{error}"
        );
        assert!(feed.next().await.is_none());
    }

    #[tokio::test]
    async fn a_lagging_watcher_skips_what_it_missed_and_goes_on_when_skipping() {
        let (sender, mut feed) = feed(2, Lagging::SkipMissed, ());
        for n in 1..=5 {
            sender.send(Event::Published(n)).unwrap();
        }
        assert_eq!(published(feed.next().await), 4);
        assert_eq!(published(feed.next().await), 5);
        sender.send(Event::Published(6)).unwrap();
        assert_eq!(published(feed.next().await), 6);
    }

    #[tokio::test]
    async fn the_end_of_the_channel_ends_the_stream() {
        let (sender, mut feed) = feed(4, Lagging::EndTooSlow, ());
        sender.send(Event::Published(1)).unwrap();
        drop(sender);
        assert_eq!(published(feed.next().await), 1);
        assert!(feed.next().await.is_none());
    }

    #[tokio::test]
    async fn dropping_the_feed_releases_its_membership() {
        let membership = Arc::new(());
        let (_sender, feed) = feed(4, Lagging::EndTooSlow, Arc::clone(&membership));
        assert_eq!(Arc::strong_count(&membership), 2);
        drop(feed);
        assert_eq!(Arc::strong_count(&membership), 1);
    }

    #[tokio::test]
    async fn the_end_of_the_feed_does_not_release_its_membership() {
        let membership = Arc::new(());
        let (sender, mut feed) = feed(4, Lagging::EndTooSlow, Arc::clone(&membership));
        sender.send(ended(GatewayError::ShuttingDown)).unwrap();
        while feed.next().await.is_some() {}
        assert_eq!(Arc::strong_count(&membership), 2);
    }

    #[tokio::test]
    async fn updates_come_after_the_first_ones_expanded_with_failures_mapped() {
        let (sender, feed) = feed(4, Lagging::EndTooSlow, ());
        let failed = |failure: Arc<PollFailed>| failure.consecutive * 100;
        let updates = updates([0], feed, failed, |n: u32| [n, n + 1].into_iter());
        sender.send(Event::Published(1)).unwrap();
        let failure = PollFailed {
            error: GatewayError::ShuttingDown,
            consecutive: 3,
            retry_in: Duration::from_secs(1),
        };
        sender.send(Event::Failed(Arc::new(failure))).unwrap();
        sender.send(ended(GatewayError::ShuttingDown)).unwrap();
        let read: Vec<_> = updates
            .map(|u| u.map_err(|e| e.to_string()))
            .collect()
            .await;
        let end = Err(GatewayError::ShuttingDown.to_string());
        assert_eq!(read, [Ok(0), Ok(1), Ok(2), Ok(300), end]);
    }

    #[tokio::test]
    async fn a_stream_ends_at_its_first_error_without_reading_on() {
        let errors = stream::iter([Ok(1), Err("first"), Ok(2)]).chain(stream::pending());
        let mut ended = ends_at_error(errors);
        assert_eq!(ended.next().await, Some(Ok(1)));
        assert_eq!(ended.next().await, Some(Err("first")));
        assert_eq!(ended.next().await, None);
    }
}
