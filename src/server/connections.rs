//! Accepted connections, bounded: at most `max_connections` open at once
//! (past it a new connection is closed at once, so its client fails fast
//! and retries elsewhere, rather than waiting unseen in the backlog). How
//! long a connection may take to open is the handshakes' business. When
//! the drain after a shutdown runs out, every connection is cut at once,
//! whatever its peer or its calls are doing.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::Stream;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::transport::server::TcpIncoming;

/// The listener's connections, each holding one of `permits`.
pub struct BoundedIncoming {
    listener: TcpIncoming,
    permits: Arc<Semaphore>,
    cut: CancellationToken,
}

impl BoundedIncoming {
    /// Connections from `listener`, at most `max_connections` at once, all
    /// closed when `cut` is cancelled.
    pub fn new(listener: TcpIncoming, max_connections: usize, cut: CancellationToken) -> Self {
        Self {
            listener,
            permits: Arc::new(Semaphore::new(max_connections)),
            cut,
        }
    }
}

impl Stream for BoundedIncoming {
    type Item = io::Result<BoundedConnection>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let stream = match Pin::new(&mut self.listener).poll_next(cx) {
                Poll::Ready(Some(Ok(stream))) => stream,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            };
            match Arc::clone(&self.permits).try_acquire_owned() {
                Ok(permit) => {
                    return Poll::Ready(Some(Ok(BoundedConnection {
                        stream,
                        cut: Box::pin(self.cut.clone().cancelled_owned()),
                        _permit: permit,
                    })));
                }
                Err(_) => {
                    tracing::debug!(
                        peer = ?stream.peer_addr().ok(),
                        "connection limit reached; closing a new connection"
                    );
                    drop(stream);
                }
            }
        }
    }
}

/// One accepted connection, counted against the limit until it closes.
pub struct BoundedConnection {
    stream: TcpStream,
    /// Resolves when the drain has run out.
    cut: Pin<Box<WaitForCancellationFutureOwned>>,
    _permit: OwnedSemaphorePermit,
}

impl BoundedConnection {
    /// The peer's address, while the socket knows it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.stream.peer_addr().ok()
    }

    /// An error once the drain has run out; the connection's task is
    /// always reading, so this wakes it to close.
    fn check_cut(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.cut.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the shutdown drain ran out",
            )),
            Poll::Pending => Ok(()),
        }
    }
}

impl AsyncRead for BoundedConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check_cut(cx)?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for BoundedConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check_cut(cx)?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check_cut(cx)?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::IoSlice;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_stream::StreamExt;

    /// Loopback connections bounded at `max`, and the listener's address.
    async fn incoming(max: usize, cut: CancellationToken) -> (BoundedIncoming, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (
            BoundedIncoming::new(TcpIncoming::from(listener), max, cut),
            addr,
        )
    }

    /// One accepted connection and its peer.
    async fn pair(cut: CancellationToken) -> (BoundedConnection, TcpStream, BoundedIncoming) {
        let (mut incoming, addr) = incoming(4, cut).await;
        let peer = TcpStream::connect(addr).await.unwrap();
        let accepted = incoming.next().await.unwrap().unwrap();
        (accepted, peer, incoming)
    }

    #[tokio::test]
    async fn bytes_pass_both_ways() {
        let (mut conn, mut peer, _incoming) = pair(CancellationToken::new()).await;
        peer.write_all(b"ping").await.unwrap();
        let mut got = [0; 4];
        conn.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");

        conn.write_all(b"po").await.unwrap();
        let written = conn
            .write_vectored(&[IoSlice::new(b"n"), IoSlice::new(b"g")])
            .await
            .unwrap();
        assert_eq!(written, 2);
        conn.flush().await.unwrap();
        let mut got = [0; 4];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
    }

    #[tokio::test]
    async fn vectored_writes_are_as_the_socket_does_them() {
        let (conn, _peer, _incoming) = pair(CancellationToken::new()).await;
        assert_eq!(conn.is_write_vectored(), conn.stream.is_write_vectored());
    }

    #[tokio::test]
    async fn shutting_down_ends_what_the_peer_reads() {
        let (mut conn, mut peer, _incoming) = pair(CancellationToken::new()).await;
        conn.shutdown().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(peer.read_to_end(&mut rest).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn once_the_drain_runs_out_reads_and_writes_fail() {
        let cut = CancellationToken::new();
        let (mut conn, _peer, _incoming) = pair(cut.clone()).await;
        cut.cancel();
        let read = conn.read(&mut [0; 1]).await.unwrap_err();
        assert_eq!(read.kind(), io::ErrorKind::ConnectionAborted);
        let write = conn.write(b"x").await.unwrap_err();
        assert_eq!(write.kind(), io::ErrorKind::ConnectionAborted);
        let vectored = conn
            .write_vectored(&[IoSlice::new(b"x")])
            .await
            .unwrap_err();
        assert_eq!(vectored.kind(), io::ErrorKind::ConnectionAborted);
    }

    #[tokio::test]
    async fn the_peer_address_is_the_clients() {
        let (conn, peer, _incoming) = pair(CancellationToken::new()).await;
        assert_eq!(conn.peer_addr(), Some(peer.local_addr().unwrap()));
    }

    #[tokio::test]
    async fn past_the_limit_a_new_connection_is_closed_at_once() {
        let (mut incoming, addr) = incoming(1, CancellationToken::new()).await;
        let _first_peer = TcpStream::connect(addr).await.unwrap();
        let _first = incoming.next().await.unwrap().unwrap();
        let mut second_peer = TcpStream::connect(addr).await.unwrap();
        let mut rest = Vec::new();
        tokio::select! {
            let_in = incoming.next() => panic!("a second connection was let in: {let_in:?}", let_in = let_in.map(|c| c.is_ok())),
            closed = second_peer.read_to_end(&mut rest) => assert!(
                matches!(&closed, Ok(0)) || closed.is_err(),
                "the second connection is closed: {closed:?}"
            ),
        }
    }
}
