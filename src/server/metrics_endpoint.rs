//! Serves the metrics as Prometheus text at `/metrics`, over HTTP/1.1 on an
//! admin listener of its own: a scrape never queues behind calls, and the
//! API port never has to speak HTTP/1.1.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::watch::Watches;

/// What Prometheus negotiates for the text prometheus-client writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Answers scrapes on `listener` until `stop` is cancelled.
pub(super) async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    watches: Arc<Watches>,
    stop: CancellationToken,
) {
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
        let (metrics, watches) = (Arc::clone(&metrics), Arc::clone(&watches));
        let stop = stop.clone();
        tokio::spawn(async move {
            let answer = service_fn(move |request| {
                let page = scrape(&request, &metrics, &watches);
                async move { Ok::<_, Infallible>(page) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), answer);
            tokio::select! {
                () = stop.cancelled() => {}
                served = connection => if let Err(e) = served {
                    tracing::debug!("metrics listener: a connection failed: {e}");
                },
            }
        });
    }
}

/// `GET /metrics`: the exposition; anything else 404 or 405.
fn scrape(
    request: &Request<Incoming>,
    metrics: &Metrics,
    watches: &Watches,
) -> Response<Full<Bytes>> {
    let status = match (request.method(), request.uri().path()) {
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
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(
            b"metrics are at GET /metrics\n",
        )))
        .expect("a static response is valid")
}
