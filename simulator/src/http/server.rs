//! The accept loop. Owning it (rather than using `axum::serve`) is what lets the simulator count
//! real TCP connections, terminate TLS, and reset a connection on request.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use socket2::{SockRef, Socket};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::http::stats::Stats;

/// How long in-flight requests get to finish once shutdown starts; a stuck client must not hang
/// a test forever.
const GRACE_PERIOD: Duration = Duration::from_secs(30);
/// A client that connects and never completes the handshake is dropped after this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Back-off after a failed accept (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Lets a request end its own connection with a TCP reset (the `reset` fault): the handler
/// cannot reach the socket, which hyper owns, so it asks the task serving the connection. Every
/// request carries one in its extensions.
#[derive(Clone, Debug, Default)]
pub struct ConnectionReset(Arc<Notify>);

impl ConnectionReset {
    /// Resets the connection; its requests are dropped unanswered.
    pub fn trigger(&self) {
        // A stored permit, so a trigger before the serving task waits is not lost.
        self.0.notify_one();
    }

    async fn requested(&self) {
        self.0.notified().await;
    }
}

/// A running accept loop.
#[derive(Debug)]
pub struct Server {
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts serving `router` on `listener`, counting connections in `stats` if given.
    pub fn spawn(
        listener: TcpListener,
        router: Router,
        tls: Option<TlsAcceptor>,
        stats: Option<Arc<Stats>>,
    ) -> Server {
        let (shutdown, signal) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router, tls, stats, signal));
        Server {
            shutdown,
            task: Some(task),
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), and returns
    /// once every connection is closed.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "simulator accept loop failed");
        }
    }
}

impl Drop for Server {
    /// A dropped simulator must not keep serving in the background.
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    stats: Option<Arc<Stats>>,
    mut signal: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped(&mut signal) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let guard = stats.as_ref().map(|stats| stats.connection_opened());
                    let router = router.clone();
                    let tls = tls.clone();
                    let signal = signal.clone();
                    connections.spawn(async move {
                        serve_tcp(stream, router, tls, signal).await;
                        drop(guard);
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "simulator accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(GRACE_PERIOD, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("simulator shutdown grace period over; closing remaining connections");
        connections.shutdown().await;
    }
}

/// Resolves once shutdown starts (or the simulator is gone), without holding the channel's lock
/// across an await.
async fn stopped(signal: &mut watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}

async fn serve_tcp(
    stream: TcpStream,
    router: Router,
    tls: Option<TlsAcceptor>,
    mut signal: watch::Receiver<bool>,
) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    // A second handle on the socket, outside hyper and TLS, to reset it through.
    let socket = match SockRef::from(&stream).try_clone() {
        Ok(socket) => socket,
        Err(error) => {
            tracing::warn!(%error, "could not duplicate the connection's socket; dropping it");
            return;
        }
    };
    let Some(acceptor) = tls else {
        return serve(stream, socket, router, signal).await;
    };
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
    let stream = tokio::select! {
        _ = stopped(&mut signal) => return,
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(%error, "simulator TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("simulator TLS handshake timed out");
                return;
            }
        },
    };
    serve(stream, socket, router, signal).await;
}

/// Serves one connection; `socket` is another handle on the socket under `io`.
async fn serve<I>(io: I, socket: Socket, router: Router, mut signal: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let reset = ConnectionReset::default();
    let router = router.map_request({
        let reset = reset.clone();
        move |mut request: http::Request<_>| {
            request.extensions_mut().insert(reset.clone());
            request
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's header-read timeout also runs while a keep-alive connection sits idle in the
    // client's pool, closing it after 30 s; connection-count tests need pooled connections to
    // stay up until the client drops them.
    builder.http1().keep_alive(true).header_read_timeout(None);
    let connection = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(router));
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = reset.requested() => return reset_on_close(&socket),
        _ = stopped(&mut signal) => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = reset.requested() => return reset_on_close(&socket),
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "simulator connection ended with an error");
    }
}

/// With a zero linger the kernel answers the close that follows, when the last handle on the
/// socket goes, with an RST instead of a FIN, and discards anything unsent.
fn reset_on_close(socket: &Socket) {
    if let Err(error) = socket.set_linger(Some(Duration::ZERO)) {
        tracing::debug!(%error, "could not set a zero linger; the connection closes normally");
    }
}
