//! The one HTTP client per cluster. Every call takes an in-flight permit
//! first: ONTAP queues only a limited number of connections, and the gateway
//! is the door many services share, so past the bound a call waits (within
//! its deadline) instead of opening another connection.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use tokio::sync::Semaphore;
use url::Url;

use secrecy::{ExposeSecret, SecretString};

use super::body::{MemoryBudget, Response, read_limited};
use super::breaker::{Breaker, BreakerConfig};
use super::coalesce::{Coalescing, Flights, Progress};
use super::credentials::{CallerCredentials, Credentials};
use super::error::{ApiError, OntapError, TimeBound};
use super::path::ApiPath;
use super::query::Query;
use super::retry::{RetryPolicy, retry_after};
use super::tls::TlsOptions;
use super::trace::CallTrace;
use super::untrusted::Scrubber;
use crate::metrics::Metrics;

/// How to reach one cluster, and how hard the gateway may press it.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The gateway's name for the cluster (what `x-ontap-cluster` names),
    /// the `cluster` label of its metrics.
    pub name: Arc<str>,
    /// `https://cluster-mgmt` (scheme, host and port only).
    pub base_url: String,
    /// Whose credentials each request carries.
    pub credentials: Credentials,
    /// Certificate trust.
    pub tls: TlsOptions,
    /// The bound on concurrent requests, and so on open connections (HTTP/1.1
    /// carries one request at a time per connection).
    pub max_in_flight: usize,
    /// How long a call without a shorter deadline waits for a free slot.
    pub queue_timeout: Duration,
    /// TCP + TLS connect bound.
    pub connect_timeout: Duration,
    /// The bound on one request when the caller sets no shorter deadline.
    pub request_timeout: Duration,
    /// Responses larger than this fail instead of exhausting memory.
    pub max_response_bytes: usize,
    /// The bytes all responses being read and decoded may hold at once: the
    /// worst case is this budget, not callers times `max_response_bytes`.
    pub max_buffered_bytes: usize,
    /// Identical GETs in flight at once share one upstream request.
    pub coalesce_reads: bool,
    /// How reads are retried when ONTAP is overloaded or refuses to connect.
    pub retry: RetryPolicy,
    /// When calls stop going to a cluster that keeps failing.
    pub breaker: BreakerConfig,
    /// Where each request to the cluster is counted and timed.
    pub metrics: Arc<Metrics>,
    /// Where the service account's password was read from, as the
    /// operator set it (`the environment variable ONTAP_PASSWORD`): what
    /// the health probe tells them to check when ONTAP refuses it.
    pub password_origin: Option<String>,
}

impl ClientConfig {
    /// Enough connections to keep a cluster busy without crowding out the
    /// other REST clients ONTAP's connection queue serves.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 8;
    /// How long a call without a shorter deadline waits for a free slot.
    pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Longer than ONTAP's own two-minute bound on a request, so ONTAP's
    /// answer, not the gateway's timeout, ends a slow one.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(130);
    /// One response's bound, so that a runaway body is refused before it
    /// exhausts memory.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
    /// Enough for four 60 MiB pages decoding at once (BENCHMARKS.md, "A
    /// 60 MiB upstream page").
    pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 256 * 1024 * 1024;

    /// Defaults suited to one production cluster, signed in to as one
    /// service account.
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self::with_credentials(
            base_url,
            Credentials::ServiceAccount {
                username: username.into(),
                password: SecretString::from(password.into()),
            },
        )
    }

    /// Defaults suited to one production cluster, each call carrying the
    /// caller's own credentials.
    pub fn pass_through(base_url: impl Into<String>) -> Self {
        Self::with_credentials(base_url, Credentials::PassThrough)
    }

    fn with_credentials(base_url: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            name: Arc::from(DEFAULT_CLUSTER),
            base_url: base_url.into(),
            credentials,
            tls: TlsOptions::default(),
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            queue_timeout: Self::DEFAULT_QUEUE_TIMEOUT,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
            max_buffered_bytes: Self::DEFAULT_MAX_BUFFERED_BYTES,
            coalesce_reads: true,
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            metrics: Arc::default(),
            password_origin: None,
        }
    }
}

/// When the caller stops waiting. `None` means the caller set no deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: the client's own bounds apply.
    pub const NONE: Deadline = Deadline(None);

    /// A deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Self::at(Instant::now() + timeout)
    }

    /// A deadline at `instant`.
    pub fn at(instant: Instant) -> Self {
        Self(Some(instant))
    }

    /// Time left, if there is a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.0
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// The later of two deadlines; no deadline is the latest.
    pub fn later(self, other: Deadline) -> Deadline {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Deadline(Some(a.max(b))),
            _ => Deadline::NONE,
        }
    }

    /// `bound`, shortened to the time left.
    pub fn cap(&self, bound: Duration) -> Duration {
        self.remaining().map_or(bound, |left| left.min(bound))
    }

    /// Whether the deadline comes before `bound` from now would: then a
    /// wait bounded by both ran out because of the caller, not the gateway.
    pub fn binds_before(&self, bound: Duration) -> bool {
        self.remaining().is_some_and(|left| left < bound)
    }
}

/// A pooled, bounded client for one ONTAP cluster.
#[derive(Clone)]
pub struct OntapClient {
    inner: Arc<Inner>,
    /// Tells this cluster's client from every other built in the process.
    id: u64,
    /// In pass-through mode, the credentials of the call this client
    /// serves.
    caller: Option<CallerCredentials>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    /// `base`, parsed once: each request's URL sets only its path and query
    /// on a copy, instead of parsing scheme and host again.
    base_url: Url,
    /// The service account's `Authorization`; none in pass-through mode.
    authorization: Option<HeaderValue>,
    permits: Semaphore,
    budget: MemoryBudget,
    scrubber: Scrubber,
    flights: Flights,
    breaker: Breaker,
    config: ClientConfig,
}

impl fmt::Debug for OntapClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OntapClient")
            .field("base", &self.inner.base)
            .finish()
    }
}

/// The name of the one cluster a gateway configured by flags fronts.
pub const DEFAULT_CLUSTER: &str = "default";

static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(0);

/// A cluster's client and the caller it sends credentials for, as a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientScope {
    client: u64,
    caller: Option<String>,
}

/// A configuration the client cannot start with.
#[derive(Debug, thiserror::Error)]
#[error("invalid ONTAP client configuration: {0}")]
pub struct ConfigError(String);

impl OntapClient {
    /// Builds the pool. Nothing connects until the first call.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let base = normalize_base_url(&config.base_url).map_err(ConfigError)?;
        if config.max_in_flight == 0 {
            return Err(ConfigError("max_in_flight must be at least 1".into()));
        }
        if config.max_buffered_bytes < config.max_response_bytes {
            return Err(ConfigError(
                "the memory budget (max_buffered_bytes) must hold at least one largest response \
                 (max_response_bytes)"
                    .into(),
            ));
        }
        let tls = config.tls.client_config().map_err(ConfigError)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.max_in_flight)
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .user_agent(concat!("ontap-grpc-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError(describe(&e)))?;
        let (authorization, scrubber) = match &config.credentials {
            Credentials::ServiceAccount { username, password } => {
                let (header, token) = basic_auth(username, password.expose_secret())?;
                let scrubber = Scrubber::new([password.expose_secret().to_owned(), token]);
                (Some(header), scrubber)
            }
            Credentials::PassThrough => (None, Scrubber::new([])),
        };
        let base_url = Url::parse(&base).map_err(|e| ConfigError(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                base_url,
                authorization,
                permits: Semaphore::new(config.max_in_flight),
                budget: MemoryBudget::new(config.max_buffered_bytes),
                scrubber,
                flights: Flights::default(),
                breaker: Breaker::new(config.breaker),
                config,
            }),
            id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
            caller: None,
        })
    }

    /// Whose work this client does: the cluster, and the caller whose
    /// credentials it sends. Work shared between calls (a watch's poller)
    /// is shared only within one scope.
    pub fn scope(&self) -> ClientScope {
        ClientScope {
            client: self.id,
            caller: self.caller.as_ref().map(|c| c.fingerprint().to_owned()),
        }
    }

    /// This cluster's client, sending `caller`'s credentials instead of the
    /// gateway's: its reads are shared only with the same credentials'.
    pub fn as_caller(&self, caller: CallerCredentials) -> OntapClient {
        OntapClient {
            inner: Arc::clone(&self.inner),
            id: self.id,
            caller: Some(caller),
        }
    }

    /// Whether each call must bring its caller's own credentials.
    pub fn passes_through(&self) -> bool {
        matches!(self.inner.config.credentials, Credentials::PassThrough)
    }

    /// The credentials this client sends for its caller, if any.
    pub fn caller(&self) -> Option<&CallerCredentials> {
        self.caller.as_ref()
    }

    /// Redacts the credentials this client sends from upstream text.
    fn scrubber(&self) -> &Scrubber {
        match &self.caller {
            Some(caller) => caller.scrubber(),
            None => &self.inner.scrubber,
        }
    }

    /// The longest one request may take when the caller sets no deadline.
    pub fn request_timeout(&self) -> Duration {
        self.inner.config.request_timeout
    }

    /// Where requests to the cluster are counted, shared with whoever
    /// serves the metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.config.metrics
    }

    /// The gateway's name for the cluster.
    pub fn name(&self) -> &Arc<str> {
        &self.inner.config.name
    }

    /// The account the gateway signs in to ONTAP as; none in pass-through
    /// mode.
    pub fn username(&self) -> Option<&str> {
        match &self.inner.config.credentials {
            Credentials::ServiceAccount { username, .. } => Some(username),
            Credentials::PassThrough => None,
        }
    }

    /// Where the service account's password was read from, if known.
    pub fn password_origin(&self) -> Option<&str> {
        self.inner.config.password_origin.as_deref()
    }

    /// The cluster's base URL (scheme, host, port).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Reads in flight that callers share, now.
    pub fn coalescing(&self) -> Coalescing {
        self.inner.flights.coalescing()
    }

    /// `GET path?query`, shared with identical reads in flight unless
    /// coalescing is off. The shared read is bounded by the client's own
    /// timeouts, not by any one caller's deadline: each caller stops waiting
    /// at its own, and the read is cancelled when the last caller leaves.
    pub async fn get(
        &self,
        path: &ApiPath,
        query: &Query,
        deadline: Deadline,
    ) -> Result<Response, OntapError> {
        let url = self.url(path, query);
        let endpoint = path.endpoint();
        if !self.inner.config.coalesce_reads {
            return self.read(url, endpoint, deadline, None).await;
        }
        // Reads are shared only among the same credentials: another
        // caller's answer may hold what ONTAP would refuse this one.
        let fingerprinted;
        let key = match &self.caller {
            Some(caller) => {
                fingerprinted = format!("{} {url}", caller.fingerprint());
                fingerprinted.as_str()
            }
            None => url.as_str(),
        };
        // Only the caller that starts the read copies the URL for it.
        let joined = self.inner.flights.join(key, deadline, |progress| {
            let (client, url) = (self.clone(), url.clone());
            async move {
                client
                    .read(url, endpoint, Deadline::NONE, Some(progress))
                    .await
            }
            .boxed()
        });
        joined
            .answer(deadline, self.inner.config.max_in_flight)
            .await
    }

    /// A GET, retried as the retry policy allows while the deadline leaves
    /// time for the wait: the caller's, or for a shared read the latest of
    /// its callers'; without one, the request timeout's.
    async fn read(
        &self,
        url: Url,
        endpoint: &'static str,
        deadline: Deadline,
        progress: Option<Arc<Progress>>,
    ) -> Result<Response, OntapError> {
        let started = Instant::now();
        let mut retry = 0;
        loop {
            let answer = self
                .exchange(
                    Method::GET,
                    url.clone(),
                    endpoint,
                    None,
                    deadline,
                    progress.clone(),
                )
                .await;
            let Err(error) = &answer else {
                return answer;
            };
            let Some(wait) = self.inner.config.retry.delay(retry, error) else {
                return answer;
            };
            let wanted_until = progress.as_ref().map_or(deadline, |p| p.wanted_until());
            let left = wanted_until.remaining().unwrap_or_else(|| {
                self.inner
                    .config
                    .request_timeout
                    .saturating_sub(started.elapsed())
            });
            if left <= wait {
                return answer;
            }
            tracing::debug!(retry = retry + 1, ?wait, "retrying a read: {error}");
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// Sends one request through the bounded pool and reads the whole body.
    /// Errors with ONTAP's status and error body for anything but 2xx.
    pub async fn send(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Query,
        json_body: Option<Vec<u8>>,
        deadline: Deadline,
    ) -> Result<Response, OntapError> {
        let url = self.url(path, query);
        self.exchange(method, url, path.endpoint(), json_body, deadline, None)
            .await
    }

    fn url(&self, path: &ApiPath, query: &Query) -> Url {
        let mut url = self.inner.base_url.clone();
        url.set_path(path.as_str());
        let encoded = query.encode();
        url.set_query((!encoded.is_empty()).then_some(encoded.as_str()));
        url
    }

    /// Sends `url` unless the cluster's circuit is open, and tells the
    /// breaker how it went.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        endpoint: &'static str,
        json_body: Option<Vec<u8>>,
        deadline: Deadline,
        progress: Option<Arc<Progress>>,
    ) -> Result<Response, OntapError> {
        let admitted = self.inner.breaker.admit(Instant::now())?;
        let answer = self
            .exchange_admitted(method, url, endpoint, json_body, deadline, progress)
            .await;
        admitted.report(&answer);
        answer
    }

    /// Waits for a slot within the deadline, then sends `url` and reads the
    /// answer, telling `progress` when the request goes out.
    async fn exchange_admitted(
        &self,
        method: Method,
        url: Url,
        endpoint: &'static str,
        json_body: Option<Vec<u8>>,
        deadline: Deadline,
        progress: Option<Arc<Progress>>,
    ) -> Result<Response, OntapError> {
        let inner = &*self.inner;
        let limit = inner.config.max_in_flight;
        let queued = Instant::now();
        let wait = deadline.cap(inner.config.queue_timeout);
        let deadline_bounds_wait = deadline.binds_before(inner.config.queue_timeout);
        let _permit = match tokio::time::timeout(wait, inner.permits.acquire()).await {
            Ok(permit) => permit.expect("the semaphore is never closed"),
            Err(_) if deadline_bounds_wait => {
                return Err(OntapError::QueuedPastDeadline {
                    limit,
                    waited: queued.elapsed(),
                });
            }
            Err(_) => {
                return Err(OntapError::Overloaded {
                    limit,
                    waited: queued.elapsed(),
                });
            }
        };
        if let Some(progress) = progress {
            progress.sent();
        }
        let budget = deadline.cap(inner.config.request_timeout);
        if budget.is_zero() {
            return Err(OntapError::QueuedPastDeadline {
                limit,
                waited: queued.elapsed(),
            });
        }
        let bound = if deadline.binds_before(inner.config.request_timeout) {
            TimeBound::CallerDeadline
        } else {
            TimeBound::RequestTimeout
        };
        let metric_method = method.clone();
        let mut request = inner
            .http
            .request(method, url)
            .header(ACCEPT, "application/hal+json");
        let authorization = match &self.caller {
            Some(caller) => Some(caller.header()),
            None => inner.authorization.as_ref(),
        };
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        if let Some(trace) = CallTrace::current() {
            for (name, value) in trace.headers() {
                request = request.header(name, value.clone());
            }
        }
        if let Some(body) = json_body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let exchange = async {
            let scrubber = self.scrubber();
            let response = request.send().await.map_err(|e| classify(e, scrubber))?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let retry_after = (!(200..300).contains(&status))
                .then(|| retry_after(response.headers(), SystemTime::now()))
                .flatten();
            let limit = inner.config.max_response_bytes;
            let (body, reservation) =
                read_limited(response, limit, &inner.budget, |e| classify(e, scrubber)).await?;
            if (200..300).contains(&status) {
                Ok(Response {
                    status,
                    location: location.map(|l| scrubber.scrub(&l)),
                    body,
                    reservation: Arc::new(reservation),
                    scrubber: scrubber.clone(),
                    budget: Some(inner.budget.clone()),
                })
            } else {
                let error = Box::new(ApiError {
                    retry_after,
                    ..ApiError::from_body(status, &body).scrubbed(scrubber)
                });
                // Whose credentials ONTAP refused decides whose to fix.
                match (status, &self.caller, &inner.authorization) {
                    (401, Some(_), _) => Err(OntapError::CallerRejected { error }),
                    (401, None, Some(_)) => Err(OntapError::CredentialsRejected { error }),
                    _ => Err(OntapError::Api { status, error }),
                }
            }
        };
        let sent = Instant::now();
        let answer = match tokio::time::timeout(budget, exchange).await {
            Ok(result) => result,
            Err(_) => Err(OntapError::Timeout { budget, bound }),
        };
        inner.config.metrics.upstream(
            &inner.config.name,
            &metric_method,
            endpoint,
            outcome_label(&answer),
            sent.elapsed(),
        );
        answer
    }
}

/// How a sent request ended, for metrics: its HTTP status, or how it
/// failed without one.
fn outcome_label(answer: &Result<Response, OntapError>) -> Cow<'static, str> {
    match answer {
        Ok(response) => Cow::Owned(response.status.to_string()),
        Err(error) => match error.answer() {
            Some((status, _)) => Cow::Owned(status.to_string()),
            None => Cow::Borrowed(error.kind()),
        },
    }
}

/// Sorts a reqwest failure into what the error table distinguishes: a
/// connection that never came up (refused, DNS, TLS, or the connect timeout)
/// is unreachable; anything after it is a lost connection (the exchange's
/// own time budget is enforced around it, not by reqwest). The message
/// carries the cause chain but never the URL.
fn classify(err: reqwest::Error, scrubber: &Scrubber) -> OntapError {
    let err = err.without_url();
    let why = scrubber.scrub(&describe(&err));
    if err.is_connect() && rejected_certificate(&err) {
        OntapError::CertificateRejected(why)
    } else if err.is_connect() {
        OntapError::Unreachable(why)
    } else {
        OntapError::ConnectionLost(why)
    }
}

/// Whether the handshake failed on the cluster's certificate. rustls's
/// error reaches here wrapped in `io::Error`s (tokio-rustls wraps it twice),
/// whose `source()` skips the error they wrap, so each cause is also
/// unwrapped through them.
fn rejected_certificate(err: &(dyn std::error::Error + 'static)) -> bool {
    fn unwrapped<'a>(
        e: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a (dyn std::error::Error + 'static)> {
        let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
        Some(inner)
    }
    std::iter::successors(Some(err), |e| e.source())
        .flat_map(|cause| std::iter::successors(Some(cause), |e| unwrapped(*e)))
        .any(|e| {
            matches!(
                e.downcast_ref::<rustls::Error>(),
                Some(rustls::Error::InvalidCertificate(_))
            )
        })
}

fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The `Authorization` header, and its base64 token (which upstream text
/// must never echo).
fn basic_auth(username: &str, password: &str) -> Result<(HeaderValue, String), ConfigError> {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {token}"))
        .map_err(|_| ConfigError("credentials are not valid header text".into()))?;
    value.set_sensitive(true);
    Ok((value, token))
}

/// Accepts `http(s)://host[:port][/]` only: the gateway talks to one fixed
/// cluster, so the base URL carries no path, query or credentials.
fn normalize_base_url(raw: &str) -> Result<String, String> {
    // Parse what was given; echo only the redacted form.
    let shown = crate::upstream_url::redacted(raw);
    let url = Url::parse(raw).map_err(|e| format!("ONTAP URL `{shown}`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("ONTAP URL `{shown}`: scheme must be http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "ONTAP URL must not carry credentials; use --username and --password-env".into(),
        );
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "ONTAP URL `{shown}`: give only scheme, host and port"
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("ONTAP URL `{shown}`: no host"))?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    Ok(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(inner: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> std::io::Error {
        std::io::Error::other(inner)
    }

    #[test]
    fn a_certificate_error_is_found_inside_nested_io_errors() {
        let rustls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert!(rejected_certificate(&io(io(rustls))));
    }

    #[test]
    fn other_handshake_failures_are_not_the_certificate() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert!(!rejected_certificate(&io(io(alert))));
        assert!(!rejected_certificate(&io("connection refused")));
    }

    #[test]
    fn a_deadline_binds_only_when_it_comes_before_the_bound() {
        let hour = Duration::from_secs(3_600);
        assert!(Deadline::after(Duration::from_secs(1)).binds_before(hour));
        assert!(!Deadline::after(hour).binds_before(Duration::from_secs(1)));
        assert!(
            !Deadline::NONE.binds_before(hour),
            "no deadline never binds"
        );
    }

    #[test]
    fn the_later_of_two_deadlines_is_none_when_either_is_none() {
        let soon = Deadline::after(Duration::from_secs(1));
        let later = Deadline::after(Duration::from_secs(60));
        assert_eq!(soon.later(later), later);
        assert_eq!(later.later(soon), later);
        assert_eq!(soon.later(Deadline::NONE), Deadline::NONE);
        assert_eq!(Deadline::NONE.later(soon), Deadline::NONE);
    }

    #[test]
    fn base_url_keeps_scheme_host_and_port() {
        assert_eq!(
            normalize_base_url("https://cluster-mgmt/").unwrap(),
            "https://cluster-mgmt"
        );
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_base_url("http://[::1]:8080").unwrap(),
            "http://[::1]:8080"
        );
    }

    #[test]
    fn base_url_rejects_paths_and_credentials() {
        assert!(normalize_base_url("https://cluster/api").is_err());
        assert!(normalize_base_url("https://admin:pw@cluster").is_err());
        assert!(normalize_base_url("ftp://cluster").is_err());
    }

    #[test]
    fn a_malformed_url_with_credentials_is_never_echoed_with_them() {
        for raw in [
            "https://admin:s3cret!@clu ster",
            "https://admin:s3cret!@cluster",
            "admin:s3cret!@cluster",
            "https://admin:s3cret!@[::1/api",
        ] {
            let why = normalize_base_url(raw).unwrap_err();
            assert!(!why.contains("s3cret"), "{why}");
        }
    }

    #[test]
    fn a_refused_url_is_quoted_with_its_credentials_redacted() {
        let why = normalize_base_url("https://admin:s3cret!@[::1/api").unwrap_err();
        assert!(why.contains("`https://[REDACTED]@[::1/api`"), "{why}");
        let why = normalize_base_url("ftp://cluster-mgmt").unwrap_err();
        assert!(why.contains("`ftp://cluster-mgmt`"), "{why}");
    }

    #[test]
    fn debug_output_redacts_the_password() {
        let config = ClientConfig::new("https://cluster", "admin", "s3cret!");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret!"));
        assert!(shown.contains("REDACTED"), "{shown}");
    }

    #[test]
    fn deadline_caps_a_bound() {
        assert_eq!(
            Deadline::NONE.cap(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        assert!(
            Deadline::after(Duration::from_millis(10)).cap(Duration::from_secs(3))
                <= Duration::from_millis(10)
        );
    }
}
