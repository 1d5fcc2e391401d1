//! The accept loop. Owning it (rather than using `axum::serve`) is what lets the simulator count
//! real TCP connections and terminate TLS.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::http::stats::Stats;

/// How long in-flight requests get to finish once shutdown starts; a stuck client must not hang
/// a test forever.
const GRACE_PERIOD: Duration = Duration::from_secs(30);
/// A client that connects and never completes the handshake is dropped after this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Back-off after a failed accept (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A running accept loop.
#[derive(Debug)]
pub struct Server {
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts serving `router` on `listener`.
    pub fn spawn(
        listener: TcpListener,
        router: Router,
        tls: Option<TlsAcceptor>,
        stats: Arc<Stats>,
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
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::warn!(%error, "simulator accept loop failed");
            }
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
    stats: Arc<Stats>,
    mut signal: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped(&mut signal) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let guard = stats.connection_opened();
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
    let Some(acceptor) = tls else {
        return serve(stream, router, signal).await;
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
    serve(stream, router, signal).await;
}

async fn serve<I>(io: I, router: Router, mut signal: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's header-read timeout also runs while a keep-alive connection sits idle in the
    // client's pool, closing it after 30 s; connection-count tests need pooled connections to
    // stay up until the client drops them.
    builder.http1().keep_alive(true).header_read_timeout(None);
    let connection = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(router));
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stopped(&mut signal) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "simulator connection ended with an error");
    }
}
