//! Shared setup for the integration tests: a real simulator and a real
//! gateway on ephemeral loopback ports, and a real tonic client.

pub mod jwt;
pub mod logs;
pub mod raw_http;
pub mod tools;

use std::net::SocketAddr;
use std::time::Duration;

use ontap_grpc_gateway::ontap::{ClientConfig, OntapClient, TlsOptions};
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_grpc_gateway::proto::v1::cifs_sessions_client::CifsSessionsClient;
use ontap_grpc_gateway::proto::v1::iscsi_services_client::IscsiServicesClient;
use ontap_grpc_gateway::proto::v1::iscsi_sessions_client::IscsiSessionsClient;
use ontap_grpc_gateway::proto::v1::{
    IscsiService, ListCifsConnectionsRequest, SvmRef, UpdateIscsiServiceRequest,
};
use ontap_grpc_gateway::server::{self, ServeOptions};
use ontap_grpc_gateway::translate::{Clusters, ListRequestFields, PageTokenKey, Upstream};
use ontap_grpc_gateway::watch::Watches;
use ontap_simulator::{
    Account, Cluster, Credentials, ExposeSecret, Fault, FaultKind, Role, SecretString, Simulator,
    SimulatorConfig,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic_types::{ErrorDetails, StatusExt};

/// The seed cluster's SVM `vs1`, which holds 36 of its 40 CIFS connections
/// (`svm3` holds the other four).
pub const VS1_UUID: &str = "fc824aa8-4e60-11ea-afb1-0050568ec4e4";
/// The seed cluster's first node.
pub const NODE1_UUID: &str = "1cd8a442-86d1-11e0-ae1c-123478563412";
/// The seed cluster's second node, which holds the CIFS session whose
/// identifier is above 2^63.
pub const NODE2_UUID: &str = "1cd8a442-86d1-11e0-ae1c-123478563413";
/// The seed cluster's `svm1`, running, without an iSCSI service.
pub const SVM1_UUID: &str = "19d04b8e-94d7-11e8-8370-005056b48fd2";
/// The seed cluster's `svm2`, with an enabled iSCSI service (as `svm3` has).
pub const SVM2_UUID: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
/// The seed cluster's `svm3`, with an enabled iSCSI service and four CIFS
/// connections; its UUID sorts after every other SVM's.
pub const SVM3_UUID: &str = "fd3a6b25-94d7-11e8-8370-005056b48fd2";
/// The seed cluster's stopped SVM.
pub const STOPPED_UUID: &str = "3b1e5d2a-94d7-11e8-8370-005056b48fd2";

/// A gateway under test, its upstream, and a client.
pub struct Harness {
    pub simulator: Simulator,
    pub gateway: Gateway,
}

/// A running gateway.
pub struct Gateway {
    pub addr: SocketAddr,
    /// The gateway's view of the cluster, shared with the server, to read
    /// what it has in flight and the page sizes it asks for.
    pub upstream: Upstream,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Gateway {
    /// Starts a gateway onto `config`'s cluster on an ephemeral loopback port.
    pub async fn start(config: ClientConfig) -> Gateway {
        Self::start_serving(config, None).await
    }

    /// Like [`Gateway::start`], serving gRPC over TLS with `identity`.
    pub async fn start_serving(
        config: ClientConfig,
        tls: Option<ontap_grpc_gateway::server::TlsIdentity>,
    ) -> Gateway {
        let options = ServeOptions {
            tls,
            ..ServeOptions::default()
        };
        Self::start_with_options(config, options).await
    }

    /// Like [`Gateway::start`], serving with `options`.
    pub async fn start_with_options(config: ClientConfig, options: ServeOptions) -> Gateway {
        let key = PageTokenKey::random().expect("the OS has randomness");
        Self::start_with(config, options, key).await
    }

    /// Like [`Gateway::start`], signing page tokens with `key`, as replicas
    /// sharing a `--page-token-key-file` do.
    pub async fn start_with_key(config: ClientConfig, key: PageTokenKey) -> Gateway {
        Self::start_with(config, ServeOptions::default(), key).await
    }

    async fn start_with(
        config: ClientConfig,
        options: ServeOptions,
        page_tokens: PageTokenKey,
    ) -> Gateway {
        let client = OntapClient::new(config).expect("client config is valid");
        let upstream = Upstream::new(client, page_tokens);
        Self::serve(upstream.clone(), upstream.into(), options).await
    }

    /// A gateway fronting each named cluster, as a `--config` file
    /// describes them; `upstream` is the first.
    pub async fn start_fronting(
        clusters: Vec<(&str, ClientConfig)>,
        options: ServeOptions,
    ) -> Gateway {
        let page_tokens = PageTokenKey::random().expect("the OS has randomness");
        let metrics = std::sync::Arc::default();
        let upstreams: Vec<Upstream> = clusters
            .into_iter()
            .map(|(name, config)| {
                let config = ClientConfig {
                    metrics: std::sync::Arc::clone(&metrics),
                    name: name.into(),
                    ..config
                };
                let client = OntapClient::new(config).expect("client config is valid");
                Upstream::new(client, page_tokens.clone())
            })
            .collect();
        let first = upstreams[0].clone();
        let clusters = Clusters::new(upstreams).expect("names are unique");
        Self::serve(first, clusters, options).await
    }

    async fn serve(upstream: Upstream, clusters: Clusters, options: ServeOptions) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::serve(listener, clusters, options, async {
                let _ = stopped.await;
            })
            .await
            .expect("gateway serves");
        });
        Gateway {
            addr,
            upstream,
            stop: Some(stop),
            task,
        }
    }

    /// An h2c channel to the gateway.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .expect("gateway accepts connections")
    }

    /// A CifsConnections client.
    pub async fn cifs(&self) -> CifsConnectionsClient<Channel> {
        CifsConnectionsClient::new(self.channel().await)
    }

    /// An IscsiServices client.
    pub async fn iscsi(&self) -> IscsiServicesClient<Channel> {
        IscsiServicesClient::new(self.channel().await)
    }

    /// A CifsSessions client.
    pub async fn cifs_sessions(&self) -> CifsSessionsClient<Channel> {
        CifsSessionsClient::new(self.channel().await)
    }

    /// An IscsiSessions client.
    pub async fn iscsi_sessions(&self) -> IscsiSessionsClient<Channel> {
        IscsiSessionsClient::new(self.channel().await)
    }

    /// The status a ListCifsConnections call fails with; a call that
    /// succeeds fails the test.
    pub async fn list_error(
        &self,
        request: impl tonic::IntoRequest<ListCifsConnectionsRequest>,
    ) -> tonic::Status {
        self.cifs()
            .await
            .list_cifs_connections(request)
            .await
            .unwrap_err()
    }

    /// Stops the gateway and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Client settings pointing at `simulator` with its default credentials.
pub fn client_config(simulator: &Simulator) -> ClientConfig {
    let credentials = Credentials::default();
    ClientConfig::new(
        simulator.base_url(),
        credentials.username,
        credentials.password.expose_secret(),
    )
}

/// A simulator of the seed cluster that also accepts each of `accounts`
/// (user, password, role), for calls made as those users.
pub async fn simulator_with_accounts(accounts: &[(&str, &str, Role)]) -> Simulator {
    let config = SimulatorConfig {
        accounts: accounts
            .iter()
            .map(|(username, password, role)| Account {
                username: (*username).to_owned(),
                password: SecretString::from(*password),
                role: *role,
            })
            .collect(),
        ..SimulatorConfig::default()
    };
    Simulator::start(config, Cluster::seed())
        .await
        .expect("simulator starts")
}

/// `message` as a call carrying `user`'s own ONTAP credentials.
pub fn as_user<T>(message: T, user: &str, password: &str) -> tonic::Request<T> {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    with_metadata(message, "authorization", &format!("Basic {token}"))
}

/// `message` with one metadata entry.
pub fn with_metadata<T>(message: T, key: &'static str, value: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert(key, value.parse().expect("ASCII metadata"));
    request
}

/// Starts a plain-HTTP simulator with `cluster`.
pub async fn simulator_with(cluster: Cluster) -> Simulator {
    Simulator::start(SimulatorConfig::default(), cluster)
        .await
        .expect("simulator starts")
}

impl Harness {
    /// The seed cluster behind a gateway with default settings.
    pub async fn start() -> Harness {
        Self::start_with(Cluster::seed(), |_| {}).await
    }

    /// The seed cluster behind a gateway, the simulator's clock starting at
    /// the time of day as `serve --simulate`'s does, for commands that
    /// name times relative to now.
    pub async fn start_at_the_time_of_day() -> Harness {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let config = SimulatorConfig {
            clock_start: std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.as_secs()),
            ..SimulatorConfig::default()
        };
        let simulator = Simulator::start(config, Cluster::seed()).await.unwrap();
        let gateway = Gateway::start(client_config(&simulator)).await;
        Harness { simulator, gateway }
    }

    /// The seed cluster (CIFS connections on `vs1` and `svm3`), plus copies of
    /// four of `vs1`'s on `svm1` (identifiers moved past the seed's), behind
    /// a gateway: for filters whose answer is only meaningful when more than
    /// one SVM is left out, or more than one matches.
    pub async fn start_with_connections_on_three_svms() -> Harness {
        let mut cluster = Cluster::seed();
        let copies: Vec<_> = cluster.cifs_connections[..4]
            .iter()
            .map(|c| ontap_simulator::CifsConnection {
                svm_uuid: SVM1_UUID.to_owned(),
                identifier: c.identifier + 1_000_000,
                ..c.clone()
            })
            .collect();
        cluster.cifs_connections.extend(copies);
        Self::start_with(cluster, |_| {}).await
    }

    /// `cluster` behind a gateway whose client settings `tweak` adjusts.
    pub async fn start_with(cluster: Cluster, tweak: impl FnOnce(&mut ClientConfig)) -> Harness {
        let simulator = simulator_with(cluster).await;
        let mut config = client_config(&simulator);
        tweak(&mut config);
        let gateway = Gateway::start(config).await;
        Harness { simulator, gateway }
    }

    /// A CifsConnections client.
    pub async fn cifs(&self) -> CifsConnectionsClient<Channel> {
        self.gateway.cifs().await
    }

    /// An IscsiServices client.
    pub async fn iscsi(&self) -> IscsiServicesClient<Channel> {
        self.gateway.iscsi().await
    }

    /// A CifsSessions client.
    pub async fn cifs_sessions(&self) -> CifsSessionsClient<Channel> {
        self.gateway.cifs_sessions().await
    }

    /// An IscsiSessions client.
    pub async fn iscsi_sessions(&self) -> IscsiSessionsClient<Channel> {
        self.gateway.iscsi_sessions().await
    }

    /// The status a ListCifsConnections call fails with.
    pub async fn list_error(
        &self,
        request: impl tonic::IntoRequest<ListCifsConnectionsRequest>,
    ) -> tonic::Status {
        self.gateway.list_error(request).await
    }
}

/// The TLS settings that trust exactly `simulator`'s self-signed certificate.
pub fn trust(simulator: &Simulator) -> TlsOptions {
    TlsOptions {
        ca_cert_pem: simulator.ca_certificate_pem().map(String::into_bytes),
        insecure_skip_verify: false,
    }
}

/// `ErrorInfo.reason` of a status.
pub fn reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// `ErrorInfo.metadata[key]` of a status.
pub fn error_metadata(status: &tonic::Status, key: &str) -> Option<String> {
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get(key).cloned())
}

/// The fields `BadRequest` names.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    let details: ErrorDetails = status.get_error_details();
    details
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// A field mask of `paths`.
pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

/// An SVM reference by name.
pub fn svm_named(name: &str) -> Option<SvmRef> {
    Some(SvmRef {
        name: Some(name.into()),
        uuid: None,
    })
}

/// An SVM reference by UUID.
pub fn svm_with_uuid(uuid: &str) -> Option<SvmRef> {
    Some(SvmRef {
        uuid: Some(uuid.into()),
        name: None,
    })
}

/// An ONTAP error answering one read's every try: the first and the
/// client's two retries (a 429 or 503 is retried).
pub fn failing_every_try(status: u16, message: &str) -> Fault {
    Fault {
        times: Some(3),
        ..Fault::always(FaultKind::Error {
            status,
            code: None,
            message: message.into(),
            target: None,
        })
    }
}

/// An UpdateIscsiService that sets `enabled` on the service of SVM `uuid`.
pub fn set_enabled(uuid: &str, enabled: bool) -> UpdateIscsiServiceRequest {
    UpdateIscsiServiceRequest {
        iscsi_service: Some(IscsiService {
            svm: svm_with_uuid(uuid),
            enabled: Some(enabled),
            ..Default::default()
        }),
        update_mask: mask(&["enabled"]),
    }
}

/// A watch's `poll_interval` of one second, the shortest it takes.
pub fn poll_every_second() -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: 1,
        nanos: 0,
    })
}

/// A request carrying a gRPC deadline.
pub fn with_deadline<T>(message: T, timeout: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(timeout);
    request
}

/// A loopback address nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// A loopback port that never completes a TCP handshake: a listener whose
/// one-slot accept queue is filled and never drained, so the kernel drops
/// further SYNs and a connect can only time out. Keep the guard alive.
pub async fn unanswering_port() -> (UnansweringPort, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await;
        match attempt {
            Ok(Ok(stream)) => fillers.push(stream),
            Ok(Err(e)) => panic!("connecting to fill the backlog: {e}"),
            Err(_) => break,
        }
    }
    (
        UnansweringPort {
            _listener: listener,
            _fillers: fillers,
        },
        addr,
    )
}

/// Keeps an [`unanswering_port`] unanswering.
pub struct UnansweringPort {
    _listener: TcpListener,
    _fillers: Vec<tokio::net::TcpStream>,
}

/// Waits up to two seconds for `check` to hold, then fails naming `what`.
pub async fn eventually(what: &str, check: impl FnMut() -> bool) {
    eventually_within(Duration::from_secs(2), what, check).await;
}

/// Waits up to `bound` for `check` to hold, then fails naming `what`: for
/// what takes a few poll intervals, [`GUARD`].
pub async fn eventually_within(bound: Duration, what: &str, mut check: impl FnMut() -> bool) {
    tokio::time::timeout(bound, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting until {what}"));
}

/// A raw HTTP/2 connection to `addr`, for requests no gRPC client would send.
pub async fn h2_sender<B>(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<B>
where
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    sender
}

/// Like [`eventually`], for a check that must itself await (a call).
pub async fn eventually_async(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

/// A self-signed certificate for 127.0.0.1/localhost: (certificate PEM, key PEM).
pub fn self_signed_identity() -> (String, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (certified.cert.pem(), certified.signing_key.serialize_pem())
}

/// A certificate authority for mutual TLS tests.
pub struct TestCa(rcgen::CertifiedIssuer<'static, rcgen::KeyPair>);

impl TestCa {
    /// A new self-signed CA.
    pub fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        Self(rcgen::CertifiedIssuer::self_signed(params, key).unwrap())
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> String {
        self.0.pem()
    }

    /// A client certificate this CA signed, as a tonic identity.
    pub fn client_identity(&self) -> tonic::transport::Identity {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["client".to_owned()]).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.0).unwrap();
        tonic::transport::Identity::from_pem(cert.pem(), key.serialize_pem())
    }

    /// A client certificate this CA signed naming `uri` (a SPIFFE ID, as a
    /// mesh issues them) as its one URI SAN.
    pub fn spiffe_identity(&self, uri: &str) -> tonic::transport::Identity {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![rcgen::SanType::URI(uri.try_into().unwrap())];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.0).unwrap();
        tonic::transport::Identity::from_pem(cert.pem(), key.serialize_pem())
    }

    /// A certificate this CA signed for servers only (its extended key
    /// usage names no client authentication), which a server refuses
    /// from a client.
    pub fn server_only_identity(&self) -> tonic::transport::Identity {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["client".to_owned()]).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.0).unwrap();
        tonic::transport::Identity::from_pem(cert.pem(), key.serialize_pem())
    }
}

/// Lists one CIFS connection from the gateway at `addr` over TLS, trusting
/// `server_cert` (PEM) and presenting `identity` if any; any failure, at the
/// handshake or after, is the error.
pub async fn list_over_tls(
    addr: impl std::fmt::Display,
    server_cert: &str,
    identity: Option<tonic::transport::Identity>,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(server_cert))
        .domain_name("localhost");
    if let Some(identity) = identity {
        tls = tls.identity(identity);
    }
    let channel = Channel::from_shared(format!("https://{addr}"))?
        .tls_config(tls)?
        .connect()
        .await?;
    let page = CifsConnectionsClient::new(channel)
        .list_cifs_connections(ListCifsConnectionsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await?;
    Ok(page.into_inner().cifs_connections.len())
}

/// A finished TLS handshake with the gateway at `addr`, trusting
/// `server_cert` (PEM) and offering HTTP/2, before any HTTP is sent.
pub async fn tls_handshake(
    addr: SocketAddr,
    server_cert: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(server_cert.as_bytes()).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect("localhost".try_into().unwrap(), stream)
        .await
        .expect("the TLS handshake succeeds")
}

/// A gateway onto `simulator` whose watches' live pollers and watchers a
/// test can count.
pub async fn watching_gateway(simulator: &Simulator) -> (Gateway, std::sync::Arc<Watches>) {
    let options = ServeOptions::default();
    let watches = std::sync::Arc::clone(&options.watches);
    let gateway = Gateway::start_with_options(client_config(simulator), options).await;
    (gateway, watches)
}

/// How long a test waits for a stream's next message before failing: a
/// guard against a hang, never a measure of speed.
pub const GUARD: Duration = Duration::from_secs(60);

/// Whether the peer closes `stream` (EOF or an error), reading past what it
/// sends first (an HTTP/2 server speaks its SETTINGS at once); fails the
/// test if it stays open past [`GUARD`].
pub async fn closed_by_server(mut stream: impl tokio::io::AsyncRead + Unpin) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    let closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(GUARD, closed)
        .await
        .expect("the connection stayed open")
}

/// The next message of a server stream; fails the test if the stream ends,
/// fails, or stays silent past [`GUARD`].
pub async fn next_message<T>(stream: &mut tonic::Streaming<T>) -> T {
    match tokio::time::timeout(GUARD, stream.message()).await {
        Ok(Ok(Some(message))) => message,
        Ok(Ok(None)) => panic!("the stream ended"),
        Ok(Err(status)) => panic!("the stream failed: {status:?}"),
        Err(_) => panic!("no message within {GUARD:?}"),
    }
}

/// The status a server stream ends with, after any messages.
pub async fn final_status<T>(stream: &mut tonic::Streaming<T>) -> tonic::Status {
    loop {
        match tokio::time::timeout(GUARD, stream.message()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => panic!("the stream ended with OK"),
            Ok(Err(status)) => return status,
            Err(_) => panic!("the stream did not end within {GUARD:?}"),
        }
    }
}

/// Requests the simulator has received for `path` (without its query).
pub fn requests_to(simulator: &Simulator, path: &str) -> u64 {
    simulator
        .path_stats()
        .get(path)
        .map_or(0, |stats| stats.requests)
}

/// The HTTP status `simulator` answers a GET of `target` with, asked
/// directly over plain HTTP/1.1 as the admin user, for checking that the
/// simulator judges a query as the gateway does.
pub async fn simulator_status(simulator: &Simulator, target: &str) -> u16 {
    use base64::Engine;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let credentials = Credentials::default();
    let token = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        credentials.username,
        credentials.password.expose_secret()
    ));
    let mut stream = tokio::net::TcpStream::connect(simulator.local_addr())
        .await
        .expect("the simulator accepts connections");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {token}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let head = String::from_utf8_lossy(&response);
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head}"))
}

/// Every record a List returns for `request`, following its page tokens;
/// `list` sends one request, e.g. `|r| client.list_cifs_sessions(r)`.
pub async fn list_all<L, F, Fut>(mut request: L, mut list: F) -> Vec<L::Resource>
where
    L: ListRequestFields + Clone,
    F: FnMut(L) -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<L::Response>, tonic::Status>>,
{
    let mut all = Vec::new();
    for _ in 0..1000 {
        let page = list(request.clone())
            .await
            .expect("list succeeds")
            .into_inner();
        let (records, token) = L::into_records(page);
        all.extend(records);
        if token.is_empty() {
            return all;
        }
        let page_size = request.shared().page_size;
        request.set_page(page_size, token);
    }
    panic!("paging did not end");
}
