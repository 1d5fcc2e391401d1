//! From an accepted TCP connection to one the server may serve: the TLS
//! handshake when the listener has TLS, then the HTTP opening inside it,
//! all under one deadline that starts at accept. A connection holds its
//! slot from accept on, so until it has opened it is the deadline, not
//! the peer, that decides how long it may hold one.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::Stream;
use tonic::transport::server::Connected;

use super::connections::{BoundedConnection, BoundedIncoming};
use super::opening::OpeningDeadline;
use crate::layers::ConnectionInfo;

/// A connection as the server serves it.
pub type ServedConnection = OpeningDeadline<Transport>;

/// Connections that have finished their TLS handshake (if any) in time;
/// their HTTP opening is still watched against the same deadline.
pub struct Handshakes {
    accepted: BoundedIncoming,
    tls: Option<TlsAcceptor>,
    timeout: Duration,
    in_progress: JoinSet<Option<ServedConnection>>,
    failures: Arc<HandshakeFailures>,
}

impl Handshakes {
    /// Connections from `accepted`, each given `timeout` from accept to
    /// finish its TLS handshake (with `tls`) and its HTTP opening. Failures
    /// are logged naming `listener`, the address they were accepted on, so
    /// that a process serving several listeners says which one refused.
    pub fn new(
        accepted: BoundedIncoming,
        tls: Option<TlsAcceptor>,
        timeout: Duration,
        listener: Option<SocketAddr>,
    ) -> Self {
        Self {
            accepted,
            tls,
            timeout,
            in_progress: JoinSet::new(),
            failures: Arc::new(HandshakeFailures::new(listener)),
        }
    }

    /// Starts `connection`'s handshake: a plaintext one is served at once,
    /// a TLS one once its handshake (run as its own task, so that a slow
    /// peer holds up no other) succeeds.
    fn start(&mut self, connection: BoundedConnection) -> Option<ServedConnection> {
        let deadline = Instant::now() + self.timeout;
        let peer = connection.peer_addr();
        let failures = Arc::clone(&self.failures);
        let Some(acceptor) = self.tls.clone() else {
            return Some(watch_opening(
                Transport::Plain(connection),
                peer,
                deadline,
                failures,
            ));
        };
        self.in_progress.spawn(async move {
            match tokio::time::timeout_at(deadline, acceptor.accept(connection)).await {
                Ok(Ok(tls)) => Some(watch_opening(
                    Transport::Tls(Box::new(tls)),
                    peer,
                    deadline,
                    failures,
                )),
                Ok(Err(error)) => {
                    failures.report(peer, "TLS handshake", &error);
                    None
                }
                Err(_) => {
                    failures.report(peer, "TLS handshake", &"not finished within the timeout");
                    None
                }
            }
        });
        None
    }
}

fn watch_opening(
    transport: Transport,
    peer: Option<SocketAddr>,
    deadline: Instant,
    failures: Arc<HandshakeFailures>,
) -> ServedConnection {
    OpeningDeadline::new(transport, deadline, move |timed_out| {
        failures.report(peer, timed_out.stage(), &timed_out);
    })
}

impl Stream for Handshakes {
    type Item = io::Result<ServedConnection>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match Pin::new(&mut this.accepted).poll_next(cx) {
                Poll::Ready(Some(Ok(connection))) => {
                    if let Some(served) = this.start(connection) {
                        return Poll::Ready(Some(Ok(served)));
                    }
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => break,
            }
        }
        loop {
            match this.in_progress.poll_join_next(cx) {
                Poll::Ready(Some(Ok(Some(served)))) => return Poll::Ready(Some(Ok(served))),
                // Refused, and already logged.
                Poll::Ready(Some(Ok(None))) => {}
                Poll::Ready(Some(Err(failed))) => {
                    tracing::error!(error = %failed, "a TLS handshake task failed");
                }
                // With none in progress, a new one only starts above, in
                // this same poll.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The transport under a served connection.
pub enum Transport {
    /// Plaintext HTTP/2 (or HTTP/1.1 for gRPC-Web).
    Plain(BoundedConnection),
    /// The same inside TLS.
    Tls(Box<TlsStream<BoundedConnection>>),
}

impl Transport {
    fn connection(&self) -> &BoundedConnection {
        match self {
            Self::Plain(connection) => connection,
            Self::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl Connected for ServedConnection {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> ConnectionInfo {
        let transport = self.get_ref();
        let peer_certificates = match transport {
            Transport::Plain(_) => None,
            Transport::Tls(tls) => tls.get_ref().1.peer_certificates().map(Arc::from),
        };
        ConnectionInfo::new(transport.connection().peer_addr(), peer_certificates)
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(connection) => Pin::new(connection).poll_read(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(connection) => Pin::new(connection).poll_write(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(connection) => Pin::new(connection).poll_flush(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(connection) => Pin::new(connection).poll_shutdown(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(connection) => Pin::new(connection).poll_write_vectored(cx, bufs),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(connection) => connection.is_write_vectored(),
            Self::Tls(tls) => tls.is_write_vectored(),
        }
    }
}

/// Connections that failed before they opened, logged at most once per
/// peer address a minute: enough for an operator to see why a client
/// cannot connect, too few for a flood of bad handshakes to fill the log.
struct HandshakeFailures {
    logged: DefaultKeyedRateLimiter<Option<IpAddr>>,
    listener: String,
}

impl HandshakeFailures {
    /// Peer addresses remembered at most; past it the ones whose minute
    /// has passed are forgotten.
    const REMEMBERED: usize = 4096;

    fn new(listener: Option<SocketAddr>) -> Self {
        let once_a_minute = Quota::per_minute(NonZeroU32::MIN);
        Self {
            logged: RateLimiter::keyed(once_a_minute),
            listener: listener.map_or_else(|| "unknown".to_owned(), |addr| addr.to_string()),
        }
    }

    fn report(&self, peer: Option<SocketAddr>, stage: &str, reason: &dyn std::fmt::Display) {
        if self.logged.len() >= Self::REMEMBERED {
            self.logged.retain_recent();
        }
        let address = peer.map_or_else(|| "unknown".to_owned(), |peer| peer.to_string());
        if self.logged.check_key(&peer.map(|peer| peer.ip())).is_ok() {
            tracing::warn!(
                listener = %self.listener,
                peer = %address,
                stage,
                reason = %reason,
                "a connection failed before it opened (logged once a minute per address)"
            );
        } else {
            tracing::debug!(
                listener = %self.listener,
                peer = %address,
                stage,
                reason = %reason,
                "a connection failed before it opened"
            );
        }
    }
}
