//! Fault injection: slow, failing and misbehaving responses on demand, so the gateway's error
//! handling can be tested against a server that misbehaves the way real ones do.

use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use tokio::sync::watch;

use crate::errors::ApiError;
use crate::http::media::Media;
use crate::http::server::ConnectionReset;

/// One injected fault and the requests it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Only requests with this method; `None` = any.
    pub method: Option<Method>,
    /// Only requests whose path starts with this; `None` = any.
    pub path_prefix: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// `None` = until cleared; `Some(n)` = the next `n` matching requests.
    pub times: Option<u32>,
}

impl Fault {
    /// Applies to every request until cleared.
    pub fn always(kind: FaultKind) -> Fault {
        Fault {
            method: None,
            path_prefix: None,
            kind,
            times: None,
        }
    }

    /// Applies to the next request only.
    pub fn once(kind: FaultKind) -> Fault {
        Fault {
            times: Some(1),
            ..Fault::always(kind)
        }
    }
}

/// What a fault does to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Sleep before handling, then carry on normally (later faults still apply).
    Delay(Duration),
    /// An ONTAP error body with this HTTP status.
    Error {
        /// HTTP status (an invalid one becomes 500).
        status: u16,
        /// ONTAP error code, if any.
        code: Option<String>,
        /// Error message.
        message: String,
        /// Blamed parameter, if any.
        target: Option<String>,
    },
    /// Anything at all: malformed JSON, an HTML 502 from a proxy, wrong types.
    Raw {
        /// HTTP status (an invalid one becomes 500).
        status: u16,
        /// `Content-Type` header (left out if not a valid header value).
        content_type: String,
        /// Body bytes, sent as is.
        body: Vec<u8>,
    },
    /// A 200 `application/hal+json` body of exactly this many bytes, streamed without a
    /// `Content-Length` so a client must enforce its own limit while reading. It starts like a
    /// real collection and never ends properly.
    Oversized {
        /// Total body size.
        bytes: usize,
    },
    /// A 200 whose `Content-Length` promises more than is sent: the headers and the start of a
    /// JSON body go out, then the connection is closed, as when a node or proxy dies
    /// mid-response.
    Disconnect,
    /// No response at all: the connection is closed with a TCP reset as soon as the request has
    /// been read, as when a load balancer or firewall drops it. The request counts as aborted.
    Reset,
    /// The normal response, but its body trickles out in chunked encoding, `chunk_bytes` at a
    /// time with `interval` before each chunk, so a client's read timeouts and progress handling
    /// meet a server that is slow yet never wrong.
    Drip {
        /// Body bytes per chunk.
        chunk_bytes: NonZeroUsize,
        /// Pause before each chunk.
        interval: Duration,
    },
    /// ONTAP's answer when its request queue is full: this status (429 or 503, as a cluster or
    /// the proxy in front of it sends) with an error body and, when set, `Retry-After` in whole
    /// seconds.
    Busy {
        /// HTTP status (an invalid one becomes 500).
        status: u16,
        /// How long the client is asked to wait.
        retry_after: Option<Duration>,
    },
    /// Hold the request, unanswered, until [`Faults::release`] (or [`Faults::clear`]), then
    /// carry on normally (later faults still apply): a test decides when the answer comes
    /// instead of guessing a delay long enough for everything else to happen meanwhile.
    Hold,
}

/// The shared fault list, applied in push order.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    inner: Arc<Mutex<FaultList>>,
    releases: Arc<Releases>,
}

/// Signals releases of held requests; a held request waits for the next signal (a change), so
/// the channel carries no value.
#[derive(Debug)]
struct Releases(watch::Sender<()>);

impl Default for Releases {
    fn default() -> Self {
        Self(watch::channel(()).0)
    }
}

/// Faults with the ids they were pushed under; ids are never reused, so an id handed out over the
/// admin API names one fault even after others are used up.
#[derive(Debug, Default)]
struct FaultList {
    last_id: u64,
    entries: Vec<(u64, Fault)>,
}

/// What the faults decided for one request.
#[derive(Debug, Default)]
struct Plan {
    delays: Vec<Duration>,
    /// Held until the next release after the plan was made.
    held: Option<watch::Receiver<()>>,
    response: Option<FaultKind>,
}

impl Faults {
    /// Adds a fault after the existing ones, and returns its id (1 for the first, never reused).
    pub fn push(&self, f: Fault) -> u64 {
        let mut list = self.lock();
        list.last_id += 1;
        let id = list.last_id;
        list.entries.push((id, f));
        id
    }

    /// Removes every fault, and releases every held request.
    pub fn clear(&self) {
        self.lock().entries.clear();
        self.release();
    }

    /// Lets every request a [`FaultKind::Hold`] holds carry on.
    pub fn release(&self) {
        self.releases.0.send_replace(());
    }

    /// Removes the fault pushed under `id`; false if there is none (never pushed, cleared, or
    /// used up).
    pub fn remove(&self, id: u64) -> bool {
        let mut list = self.lock();
        let before = list.entries.len();
        list.entries.retain(|(entry, _)| *entry != id);
        list.entries.len() != before
    }

    /// The faults still pending, in the order they apply, with their ids; `times` is what is
    /// left of each.
    pub fn list(&self) -> Vec<(u64, Fault)> {
        self.lock().entries.clone()
    }

    /// Consumes the matching faults for one request in a single step, so concurrent requests
    /// never share a `once` fault.
    fn plan(&self, method: &Method, path: &str) -> Plan {
        let mut list = self.lock();
        let faults = &mut list.entries;
        let mut plan = Plan::default();
        for (_, fault) in faults.iter_mut() {
            if !fault.applies_to(method, path) {
                continue;
            }
            if let Some(times) = &mut fault.times {
                *times -= 1;
            }
            match &fault.kind {
                FaultKind::Delay(duration) => plan.delays.push(*duration),
                // Subscribed under the list's lock, so a release racing this
                // request is either before the hold applies or ends it.
                FaultKind::Hold => plan.held = Some(self.releases.0.subscribe()),
                other => {
                    plan.response = Some(other.clone());
                    break;
                }
            }
        }
        faults.retain(|(_, f)| f.times != Some(0));
        plan
    }

    /// The list is plain data, so a panic elsewhere does not make it unusable.
    fn lock(&self) -> MutexGuard<'_, FaultList> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Fault {
    fn applies_to(&self, method: &Method, path: &str) -> bool {
        self.times != Some(0)
            && self.method.as_ref().is_none_or(|m| m == method)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix))
    }
}

/// Runs after authentication, so a fault never masks a 401.
pub async fn apply(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let plan = faults.plan(request.method(), request.uri().path());
    if let Some(mut held) = plan.held {
        // The sender lives as long as the fault list this request was planned from.
        let _ = held.changed().await;
    }
    for delay in plan.delays {
        tokio::time::sleep(delay).await;
    }
    match plan.response {
        None => next.run(request).await,
        Some(kind) => respond(kind, request, next).await,
    }
}

async fn respond(kind: FaultKind, request: Request, next: Next) -> Response {
    let media = Media::from_headers(request.headers());
    match kind {
        // A plan never ends in a delay or a hold: both carry on once they are over.
        FaultKind::Delay(_) | FaultKind::Hold => next.run(request).await,
        FaultKind::Drip {
            chunk_bytes,
            interval,
        } => drip(next.run(request).await, chunk_bytes, interval).await,
        FaultKind::Reset => reset(request.extensions().get().cloned()).await,
        FaultKind::Error {
            status,
            code,
            message,
            target,
        } => ApiError {
            status: status_or_500(status),
            code,
            message,
            target,
            arguments: Vec::new(),
        }
        .into_response_as(media),
        FaultKind::Raw {
            status,
            content_type,
            body,
        } => {
            let mut response = (status_or_500(status), body).into_response();
            let headers = response.headers_mut();
            headers.remove(header::CONTENT_TYPE);
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            response
        }
        FaultKind::Oversized { bytes } => oversized(bytes),
        FaultKind::Busy {
            status,
            retry_after,
        } => {
            let mut response = ApiError {
                status: status_or_500(status),
                code: None,
                message: "the request queue is full; try again later".to_owned(),
                target: None,
                arguments: Vec::new(),
            }
            .into_response_as(media);
            if let Some(wait) = retry_after {
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
        FaultKind::Disconnect => disconnect(media),
    }
}

/// Has the accept loop reset the request's connection, and never answers: the connection, and
/// with it this future, is dropped first.
async fn reset(connection: Option<ConnectionReset>) -> Response {
    match connection {
        Some(connection) => {
            connection.trigger();
            std::future::pending().await
        }
        // Only a router served outside the accept loop lacks the handle; it cannot reset.
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The whole body is read first so every chunk but the last is exactly `chunk_bytes` long, and
/// `Content-Length` goes so that hyper frames each chunk on the wire, where a client can count
/// them.
async fn drip(response: Response, chunk_bytes: NonZeroUsize, interval: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let stream = futures_util::stream::unfold(body, move |mut rest| async move {
        if rest.is_empty() {
            return None;
        }
        tokio::time::sleep(interval).await;
        let chunk = rest.split_to(chunk_bytes.get().min(rest.len()));
        Some((Ok::<Bytes, Infallible>(chunk), rest))
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

fn status_or_500(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

const OVERSIZED_PREFIX: &[u8] = br#"{"num_records":1000000000,"records":["#;
const OVERSIZED_RECORD: &[u8] = concat!(
    r#"{"client_ip":"10.74.7.182","client_port":12345,"identifier":91842,"#,
    r#""network_context_id":3,"#,
    r#""node":{"name":"node1","uuid":"1cd8a442-86d1-11e0-ae1c-123478563412"},"#,
    r#""server_ip":"10.140.70.197","sessions":[{"identifier":625718873227788312}],"#,
    r#""svm":{"name":"vs1","uuid":"fc824aa8-4e60-11ea-afb1-0050568ec4e4"}},"#,
)
.as_bytes();
/// Chunk size of the streamed body: whole records, about 64 KiB.
const OVERSIZED_CHUNK_RECORDS: usize = 65_536 / OVERSIZED_RECORD.len() + 1;

fn oversized(bytes: usize) -> Response {
    let prefix = Bytes::from_static(OVERSIZED_PREFIX);
    let block = Bytes::from(OVERSIZED_RECORD.repeat(OVERSIZED_CHUNK_RECORDS));
    let stream = futures_util::stream::unfold(0usize, move |sent| {
        let prefix = prefix.clone();
        let block = block.clone();
        async move {
            if sent >= bytes {
                return None;
            }
            let source = if sent == 0 { prefix } else { block };
            let chunk = source.slice(..source.len().min(bytes - sent));
            let sent = sent + chunk.len();
            Some((Ok::<Bytes, Infallible>(chunk), sent))
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/hal+json"),
    );
    response
}

/// What a disconnecting response sends before the connection goes.
const DISCONNECT_PREFIX: &[u8] = br#"{"num_records":1,"records":[{"svm":{"uuid":"#;
/// What its `Content-Length` promises.
const DISCONNECT_PROMISED: usize = 4_096;
/// Time for the headers and the partial body to leave before the connection is closed, so the
/// client sees them rather than a bare reset.
const DISCONNECT_FLUSH: Duration = Duration::from_millis(50);

/// The body yields the prefix, then fails: hyper then closes the connection instead of finishing
/// the response, leaving the client short of the promised length.
fn disconnect(media: Media) -> Response {
    let stream = futures_util::stream::unfold(0u8, |step| async move {
        match step {
            0 => Some((Ok(Bytes::from_static(DISCONNECT_PREFIX)), 1)),
            1 => {
                tokio::time::sleep(DISCONNECT_FLUSH).await;
                let error = std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "injected disconnect",
                );
                Some((Err(error), 2))
            }
            _ => None,
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(DISCONNECT_PROMISED),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn error(status: u16) -> FaultKind {
        FaultKind::Error {
            status,
            code: None,
            message: "boom".into(),
            target: None,
        }
    }

    #[test]
    fn once_fault_applies_to_one_request() {
        let faults = Faults::default();
        faults.push(Fault::once(error(500)));
        assert!(faults.plan(&Method::GET, "/api/x").response.is_some());
        assert!(faults.plan(&Method::GET, "/api/x").response.is_none());
    }

    #[test]
    fn always_fault_applies_until_cleared() {
        let faults = Faults::default();
        faults.push(Fault::always(error(500)));
        assert!(faults.plan(&Method::GET, "/").response.is_some());
        assert!(faults.plan(&Method::GET, "/").response.is_some());
        faults.clear();
        assert!(faults.plan(&Method::GET, "/").response.is_none());
    }

    #[test]
    fn first_matching_fault_wins_in_push_order() {
        let faults = Faults::default();
        faults.push(Fault::once(error(502)));
        faults.push(Fault::once(error(503)));
        assert_eq!(faults.plan(&Method::GET, "/").response, Some(error(502)));
        assert_eq!(faults.plan(&Method::GET, "/").response, Some(error(503)));
    }

    #[tokio::test]
    async fn a_held_request_waits_for_the_release() {
        let faults = Faults::default();
        faults.push(Fault::always(FaultKind::Hold));
        let plan = faults.plan(&Method::GET, "/");
        let mut held = plan.held.expect("held");
        assert!(!held.has_changed().unwrap(), "not released yet");
        faults.release();
        held.changed().await.unwrap();
        assert_eq!(plan.response, None, "then answered normally");
    }

    #[tokio::test]
    async fn clearing_the_faults_releases_held_requests() {
        let faults = Faults::default();
        faults.push(Fault::always(FaultKind::Hold));
        let mut held = faults.plan(&Method::GET, "/").held.unwrap();
        faults.clear();
        held.changed().await.unwrap();
    }

    #[test]
    fn delay_is_followed_by_the_next_fault() {
        let faults = Faults::default();
        faults.push(Fault::once(FaultKind::Delay(Duration::from_millis(5))));
        faults.push(Fault::once(error(500)));
        let plan = faults.plan(&Method::GET, "/");
        assert_eq!(plan.delays, [Duration::from_millis(5)]);
        assert_eq!(plan.response, Some(error(500)));
    }

    #[test]
    fn method_and_path_prefix_restrict_a_fault() {
        let faults = Faults::default();
        faults.push(Fault {
            method: Some(Method::GET),
            path_prefix: Some("/api/protocols/cifs".into()),
            ..Fault::always(error(500))
        });
        assert!(
            faults
                .plan(&Method::POST, "/api/protocols/cifs/connections")
                .response
                .is_none()
        );
        assert!(faults.plan(&Method::GET, "/api/cluster").response.is_none());
        assert!(
            faults
                .plan(&Method::GET, "/api/protocols/cifs/connections")
                .response
                .is_some()
        );
    }

    #[test]
    fn non_matching_request_does_not_consume_a_once_fault() {
        let faults = Faults::default();
        faults.push(Fault {
            path_prefix: Some("/api/a".into()),
            ..Fault::once(error(500))
        });
        assert!(faults.plan(&Method::GET, "/api/b").response.is_none());
        assert!(faults.plan(&Method::GET, "/api/a").response.is_some());
    }

    #[test]
    fn ids_name_faults_across_removals() {
        let faults = Faults::default();
        let first = faults.push(Fault::once(error(500)));
        let second = faults.push(Fault::always(error(503)));
        assert_eq!((first, second), (1, 2));
        assert!(faults.plan(&Method::GET, "/").response.is_some());
        let ids: Vec<u64> = faults.list().iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [second]);
        assert!(!faults.remove(first));
        assert!(faults.remove(second));
        assert!(faults.list().is_empty());
        faults.clear();
        assert_eq!(faults.push(Fault::once(error(500))), 3);
    }

    #[tokio::test]
    async fn drip_sends_the_same_body_in_chunks_of_the_given_size() {
        let body = "0123456789".repeat(10);
        let response = (StatusCode::OK, body.clone()).into_response();
        let chunk_bytes = NonZeroUsize::new(30).expect("non-zero");
        let dripped = drip(response, chunk_bytes, Duration::ZERO).await;
        assert!(dripped.headers().get(header::CONTENT_LENGTH).is_none());
        let mut stream = dripped.into_body().into_data_stream();
        let mut sizes = Vec::new();
        let mut total = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("chunk");
            sizes.push(chunk.len());
            total.extend_from_slice(&chunk);
        }
        assert_eq!(sizes, [30, 30, 30, 10]);
        assert_eq!(total, body.as_bytes());
    }

    #[tokio::test]
    async fn oversized_body_has_exactly_the_requested_length() {
        for bytes in [0, 10, 100_000] {
            let response = oversized(bytes);
            let mut stream = response.into_body().into_data_stream();
            let mut total = Vec::new();
            while let Some(chunk) = stream.next().await {
                total.extend_from_slice(&chunk.expect("chunk"));
            }
            assert_eq!(total.len(), bytes);
            assert!(
                OVERSIZED_PREFIX.starts_with(&total[..total.len().min(OVERSIZED_PREFIX.len())])
            );
        }
    }
}
