//! When the process is asked to stop.

use std::future::Future;

/// A stop signal whose handler could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("installing the {signal} handler: {source}")]
pub struct SignalError {
    /// SIGTERM or SIGINT.
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
