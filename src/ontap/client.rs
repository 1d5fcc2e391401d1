//! The one HTTP client per cluster: its configuration, the stack of layers
//! its requests go through (`super::stack`), and what the rest of the
//! gateway asks of it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use tower::ServiceExt;
use url::Url;

use super::body::Response;
use super::credentials::{CallerCredentials, Credentials};
use super::error::{OntapError, describe};
use super::path::ApiPath;
use super::query::Query;
use super::stack::{
    self, BreakerConfig, CallContext, Coalescing, Flights, RetryPolicy, ServiceAccount,
    UpstreamRequest,
};
use super::tls::TlsOptions;
use super::trace::CallTrace;
use super::untrusted::Scrubber;
use crate::deadline::Deadline;
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
    /// What each request goes through; cloned per request (each layer's
    /// state is shared).
    stack: stack::Service,
    /// The stack's layers, outermost first.
    layers: Vec<&'static str>,
    base: String,
    /// `base`, parsed once: each request's URL sets only its path and query
    /// on a copy, instead of parsing scheme and host again.
    base_url: Url,
    flights: Arc<Flights>,
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
        let http = http_client(&config)?;
        let account = service_account(&config.credentials)?;
        let base_url = Url::parse(&base).map_err(|e| ConfigError(e.to_string()))?;
        let flights = Arc::new(Flights::default());
        let (stack, layers) = stack::stack(&config, http, account, Arc::clone(&flights));
        tracing::debug!(
            cluster = %config.name,
            ?layers,
            "the upstream stack, outermost first"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                stack,
                layers,
                base,
                base_url,
                flights,
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

    /// The layers of the upstream stack each request passes, outermost
    /// first.
    pub fn upstream_layers(&self) -> &[&'static str] {
        &self.inner.layers
    }

    /// Whether each call must bring its caller's own credentials.
    pub fn passes_through(&self) -> bool {
        matches!(self.inner.config.credentials, Credentials::PassThrough)
    }

    /// The credentials this client sends for its caller, if any.
    pub fn caller(&self) -> Option<&CallerCredentials> {
        self.caller.as_ref()
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
    /// coalescing is off, and retried through overload. The shared read is
    /// bounded by the client's own timeouts, not by any one caller's
    /// deadline: each caller stops waiting at its own, and the read is
    /// cancelled when the last caller leaves.
    pub async fn get(
        &self,
        path: &ApiPath,
        query: &Query,
        deadline: Deadline,
    ) -> Result<Response, OntapError> {
        let request =
            UpstreamRequest::read(self.url(path, query), path.endpoint(), self.call(deadline));
        self.inner.stack.clone().oneshot(request).await
    }

    /// Sends one request once, through the bounded pool, and reads the
    /// whole body. Errors with ONTAP's status and error body for anything
    /// but 2xx.
    pub async fn send(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Query,
        json_body: Option<Vec<u8>>,
        deadline: Deadline,
    ) -> Result<Response, OntapError> {
        let request = UpstreamRequest::once(
            method,
            self.url(path, query),
            path.endpoint(),
            json_body.map(Bytes::from),
            self.call(deadline),
        );
        self.inner.stack.clone().oneshot(request).await
    }

    /// The call a request is made for: its deadline, the trace of the call
    /// being served, and whose credentials this client sends.
    fn call(&self, deadline: Deadline) -> CallContext {
        CallContext::new(deadline, CallTrace::current(), self.caller.clone())
    }

    fn url(&self, path: &ApiPath, query: &Query) -> Url {
        let mut url = self.inner.base_url.clone();
        url.set_path(path.as_str());
        let encoded = query.encode();
        url.set_query((!encoded.is_empty()).then_some(encoded.as_str()));
        url
    }
}

/// The pooled HTTP/1.1 client: no redirects, no proxy, the cluster's trust.
fn http_client(config: &ClientConfig) -> Result<reqwest::Client, ConfigError> {
    let tls = config.tls.client_config().map_err(ConfigError)?;
    reqwest::Client::builder()
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
        .map_err(|e| ConfigError(describe(&e)))
}

/// What requests carry unless the caller's own credentials replace it.
fn service_account(credentials: &Credentials) -> Result<ServiceAccount, ConfigError> {
    Ok(match credentials {
        Credentials::ServiceAccount { username, password } => {
            let (header, token) = basic_auth(username, password.expose_secret())?;
            ServiceAccount {
                authorization: Some(header),
                scrubber: Scrubber::new([password.expose_secret().to_owned(), token]),
            }
        }
        Credentials::PassThrough => ServiceAccount {
            authorization: None,
            scrubber: Scrubber::new([]),
        },
    })
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
}
