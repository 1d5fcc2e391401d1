//! Serves the metrics as Prometheus text at `/metrics`, over HTTP/1.1 on an
//! admin listener of its own: a scrape never queues behind calls, and the
//! API port never has to speak HTTP/1.1.
//!
//! It serves one small GET, so its bounds are small fixed constants: a
//! client that opens connections and sends nothing, or a request head that
//! never ends or never stops growing, holds a descriptor for seconds, never
//! for good.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::watch::Watches;

/// What Prometheus negotiates for the text prometheus-client writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Connections open at once; past it a new one is closed at once. A few
/// scrapers need a few.
pub const MAX_CONNECTIONS: usize = 16;
/// How long a request head may take to arrive, counted from the moment the
/// connection is ready for it: on a new connection, or on a kept-alive one
/// after its last response. hyper's header-read timer is also the idle
/// timeout, so a kept-alive connection that sends nothing more is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head (request line and headers) answered; a larger
/// one gets 431. A scrape's is a few hundred bytes.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// What one connection may buffer: hyper's smallest read buffer, twice over.
const MAX_BUFFER_BYTES: usize = 16 * 1024;
/// How long one connection may last, whatever it is doing: a client that
/// never reads its response cannot hold a slot for good.
pub const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(60);

/// Answers scrapes on `listener` until `stop` is cancelled.
pub(super) async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    watches: Arc<Watches>,
    stop: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!("metrics listener: accepting failed: {e}");
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!(
                peer = ?stream.peer_addr().ok(),
                "metrics listener: connection limit reached; closing a new connection"
            );
            continue;
        };
        let (metrics, watches) = (Arc::clone(&metrics), Arc::clone(&watches));
        let stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                () = stop.cancelled() => {}
                () = serve_connection(stream, metrics, watches) => {}
            }
        });
    }
}

/// Serves scrapes on one connection, within the bounds above, until the
/// client closes it or a bound does.
pub(crate) async fn serve_connection<I>(io: I, metrics: Arc<Metrics>, watches: Arc<Watches>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let answer = service_fn(move |request: Request<hyper::body::Incoming>| {
        let page = scrape(
            request.method(),
            request.uri().path(),
            request.headers(),
            &metrics,
            &watches,
        );
        async move { Ok::<_, Infallible>(page) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_BUFFER_BYTES)
        .serve_connection(TokioIo::new(io), answer);
    match tokio::time::timeout(MAX_CONNECTION_LIFE, connection).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!("metrics listener: a connection failed: {e}"),
        Err(_) => tracing::debug!("metrics listener: a connection outlived its bound; closed"),
    }
}

/// `GET /metrics`: the exposition; a request with a body 400 (a scrape
/// has none, and one framed both by Content-Length and Transfer-Encoding
/// is how requests are smuggled past a proxy); anything else 404 or 405.
fn scrape(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    metrics: &Metrics,
    watches: &Watches,
) -> Response<Full<Bytes>> {
    let status = match (method, path) {
        _ if has_body(headers) => StatusCode::BAD_REQUEST,
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let live = watches.live();
            let text = metrics.render(live.pollers(), live.watchers());
            return Response::builder()
                .header(header::CONTENT_TYPE, OPENMETRICS)
                .body(Full::new(Bytes::from(text)))
                .expect("a static header is valid");
        }
        (_, "/metrics") => StatusCode::METHOD_NOT_ALLOWED,
        _ => StatusCode::NOT_FOUND,
    };
    let why: &'static [u8] = if status == StatusCode::BAD_REQUEST {
        b"a scrape has no request body\n"
    } else {
        b"metrics are at GET /metrics\n"
    };
    Response::builder()
        .status(status)
        .header(header::CONNECTION, "close")
        .body(Full::new(Bytes::from_static(why)))
        .expect("a static response is valid")
}

/// Whether the request announces a body. hyper drops Content-Length when
/// Transfer-Encoding is also present, so Transfer-Encoding alone tells.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    fn status_of(
        method: Method,
        path: &str,
        headers: &[(&'static str, &'static str)],
    ) -> StatusCode {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, value.parse().unwrap());
        }
        scrape(
            &method,
            path,
            &map,
            &Metrics::default(),
            &Watches::default(),
        )
        .status()
    }

    #[test]
    fn a_get_of_metrics_is_answered() {
        assert_eq!(status_of(Method::GET, "/metrics", &[]), StatusCode::OK);
        let empty = [("content-length", "0")];
        assert_eq!(status_of(Method::GET, "/metrics", &empty), StatusCode::OK);
    }

    #[test]
    fn a_request_with_a_body_is_bad_whatever_it_asks_for() {
        for headers in [
            &[("transfer-encoding", "chunked")][..],
            &[("content-length", "5")],
        ] {
            assert_eq!(
                status_of(Method::GET, "/metrics", headers),
                StatusCode::BAD_REQUEST
            );
            assert_eq!(
                status_of(Method::POST, "/other", headers),
                StatusCode::BAD_REQUEST
            );
        }
    }

    /// What the listener answers `request` on a connection of its own.
    async fn answer_to(request: &[u8]) -> String {
        use tokio::io::AsyncReadExt;
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let served = tokio::spawn(serve_connection(server, Arc::default(), Arc::default()));
        // Not shut down after it: hyper takes a half-closed connection
        // for a gone client. `connection: close` ends it after the answer.
        client.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        served.await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn scrape_with_a_header_of(bytes: usize) -> Vec<u8> {
        format!(
            "GET /metrics HTTP/1.1\r\nhost: metrics\r\nx-padding: {}\r\nconnection: close\r\n\r\n",
            "a".repeat(bytes)
        )
        .into_bytes()
    }

    #[tokio::test]
    async fn a_scrape_whose_head_is_a_few_kilobytes_is_answered() {
        let answer = answer_to(&scrape_with_a_header_of(4 * 1024)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn a_scrape_whose_head_is_over_the_limit_is_refused() {
        let answer = answer_to(&scrape_with_a_header_of(MAX_HEAD_BYTES)).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    }

    #[tokio::test]
    async fn a_request_for_another_path_is_told_where_the_metrics_are() {
        let answer =
            answer_to(b"GET /other HTTP/1.1\r\nhost: m\r\nconnection: close\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        assert!(
            answer.ends_with("metrics are at GET /metrics\n"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn a_request_with_a_body_is_told_a_scrape_has_none() {
        let answer = answer_to(
            b"POST /metrics HTTP/1.1\r\nhost: m\r\ncontent-length: 1\r\nconnection: close\r\n\r\nx",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(
            answer.ends_with("a scrape has no request body\n"),
            "{answer}"
        );
    }

    /// Serves a connection whose client sent `sent` and nothing more;
    /// checks that it is still open a second before `bound` and closed a
    /// second after, and answers what the client received.
    async fn closed_at(sent: &[u8], bound: Duration) -> String {
        use tokio::io::AsyncReadExt;
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        client.write_all(sent).await.unwrap();
        let served = tokio::spawn(serve_connection(server, Arc::default(), Arc::default()));
        tokio::time::sleep(bound - Duration::from_secs(1)).await;
        assert!(!served.is_finished(), "closed before its bound");
        let ended = tokio::time::timeout(Duration::from_secs(2), served).await;
        assert!(ended.is_ok(), "still open after its bound");
        let mut received = Vec::new();
        client.read_to_end(&mut received).await.unwrap();
        String::from_utf8_lossy(&received).into_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_stops_mid_head_is_closed_after_the_header_read_timeout() {
        let received = closed_at(
            b"GET /metrics HTTP/1.1\r\nHost: metrics\r\n",
            HEADER_READ_TIMEOUT,
        )
        .await;
        assert!(!received.contains(" 200 "), "{received}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_alive_connection_that_sends_nothing_more_is_closed() {
        let received = closed_at(
            b"GET /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n",
            HEADER_READ_TIMEOUT,
        )
        .await;
        assert!(received.starts_with("HTTP/1.1 200 "), "{received}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_whose_client_never_reads_ends_at_its_life_bound() {
        // A pipe too small for the response: its write waits for a reader.
        let (mut client, server) = tokio::io::duplex(64);
        client
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n")
            .await
            .unwrap();
        let served = tokio::spawn(serve_connection(server, Arc::default(), Arc::default()));
        tokio::time::sleep(MAX_CONNECTION_LIFE - Duration::from_secs(1)).await;
        assert!(!served.is_finished(), "ended before its bound");
        let ended = tokio::time::timeout(Duration::from_secs(2), served).await;
        assert!(ended.is_ok(), "outlived its bound");
    }
}
