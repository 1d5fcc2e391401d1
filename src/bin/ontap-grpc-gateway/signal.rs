//! When the process is asked to stop.

use std::future::Future;

/// A stop signal whose handler could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("installing the {signal} handler: {source}")]
pub struct SignalError {
    /// SIGTERM, SIGINT or SIGHUP.
    signal: &'static str,
    source: std::io::Error,
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is
/// called, not when first polled: a signal that arrives between the
/// listener opening and the server starting must still drain, not kill.
pub fn shutdown_signal() -> Result<impl Future<Output = ()>, SignalError> {
    #[cfg(unix)]
    let mut terminate = handler(tokio::signal::unix::SignalKind::terminate(), "SIGTERM")?;
    #[cfg(unix)]
    let mut interrupt = handler(tokio::signal::unix::SignalKind::interrupt(), "SIGINT")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: draining in-flight calls");
    })
}

#[cfg(unix)]
fn handler(
    kind: tokio::signal::unix::SignalKind,
    signal: &'static str,
) -> Result<tokio::signal::unix::Signal, SignalError> {
    tokio::signal::unix::signal(kind).map_err(|source| SignalError { signal, source })
}

/// Yields on each SIGHUP, which asks the gateway to read its policy file
/// again; never, where there are no such signals.
pub fn hangups() -> Result<impl futures_util::Stream<Item = ()> + Unpin, SignalError> {
    #[cfg(unix)]
    {
        let hangup = handler(tokio::signal::unix::SignalKind::hangup(), "SIGHUP")?;
        Ok(Box::pin(futures_util::stream::unfold(
            hangup,
            |mut hangup| async move { hangup.recv().await.map(|()| ((), hangup)) },
        )))
    }
    #[cfg(not(unix))]
    Ok(futures_util::stream::pending())
}
