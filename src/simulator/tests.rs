//! End-to-end tests over real TCP connections, with a minimal hand-written HTTP/1.1 client so
//! each test controls exactly which connections are opened and when they are dropped.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

mod iscsi;
mod iscsi_metrics;
mod statuses;

const CIFS: &str = "/api/protocols/cifs/connections";

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// One client connection; requests on it reuse the TCP connection (keep-alive).
struct Client<S> {
    stream: S,
    buffer: Vec<u8>,
}

impl Client<TcpStream> {
    async fn connect(simulator: &Simulator) -> Client<TcpStream> {
        Client::over(
            TcpStream::connect(simulator.local_addr())
                .await
                .expect("connect"),
        )
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn over(stream: S) -> Client<S> {
        Client {
            stream,
            buffer: Vec::new(),
        }
    }

    async fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) {
        let mut request = format!("{method} {target} HTTP/1.1\r\nHost: simulator\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write request");
    }

    async fn request(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(method, target, headers).await;
        self.read_reply().await
    }

    /// An authenticated request with a JSON body (none: an empty body).
    async fn call(&mut self, method: &str, target: &str, body: Option<&str>) -> Reply {
        let auth = basic("admin", "netapp1!");
        let body = body.unwrap_or("");
        let length = body.len().to_string();
        self.send(
            method,
            target,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
                ("Content-Length", &length),
            ],
        )
        .await;
        self.stream
            .write_all(body.as_bytes())
            .await
            .expect("write body");
        self.read_reply().await
    }

    async fn get(&mut self, target: &str) -> Reply {
        let auth = basic("admin", "netapp1!");
        self.request("GET", target, &[("Authorization", &auth)])
            .await
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await.expect("read");
        self.buffer.extend_from_slice(&chunk[..n]);
        n > 0
    }

    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buffer.len() < n {
            assert!(self.fill().await, "connection closed mid-body");
        }
        self.buffer.drain(..n).collect()
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(at) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line = self.take(at + 2).await;
                return String::from_utf8_lossy(&line[..at]).into_owned();
            }
            assert!(self.fill().await, "connection closed mid-head");
        }
    }

    async fn read_reply(&mut self) -> Reply {
        let status_line = self.line().await;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let mut headers = Vec::new();
        loop {
            let line = self.line().await;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        if let Some(length) = reply.header("content-length") {
            let length = length.parse().expect("content-length");
            reply.body = self.take(length).await;
        } else if reply.header("transfer-encoding") == Some("chunked") {
            loop {
                let size = usize::from_str_radix(&self.line().await, 16).expect("chunk size");
                let chunk = self.take(size).await;
                self.line().await;
                if size == 0 {
                    break;
                }
                reply.body.extend(chunk);
            }
        }
        reply
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn seeded() -> Simulator {
    Simulator::start(SimulatorConfig::default(), Cluster::seed())
        .await
        .expect("start")
}

async fn get(simulator: &Simulator, target: &str) -> Reply {
    Client::connect(simulator).await.get(target).await
}

/// One authenticated request with an optional JSON body, on a fresh connection.
async fn call(simulator: &Simulator, method: &str, target: &str, body: Option<&str>) -> Reply {
    Client::connect(simulator)
        .await
        .call(method, target, body)
        .await
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the only timestamp form responses carry.
fn is_rfc3339_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn missing_credentials_get_401_with_challenge_and_message_only() {
    let simulator = seeded().await;
    let reply = Client::connect(&simulator)
        .await
        .request("GET", CIFS, &[])
        .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Basic realm=\"ONTAP\"")
    );
    let body = reply.json();
    assert!(body["error"]["message"].is_string());
    assert!(body["error"].get("code").is_none());
}

#[tokio::test]
async fn wrong_password_gets_401() {
    let simulator = seeded().await;
    let auth = basic("admin", "nope");
    let reply = Client::connect(&simulator)
        .await
        .request("GET", CIFS, &[("Authorization", &auth)])
        .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn default_listing_returns_key_fields_with_hal_links() {
    let simulator = seeded().await;
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/hal+json"));
    let body = reply.json();
    assert_eq!(body["num_records"], 36);
    assert_eq!(body["_links"]["self"]["href"], CIFS);
    let first = &body["records"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .expect("record")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["identifier", "node", "svm"]);
    assert_eq!(
        first["node"]["_links"]["self"]["href"],
        "/api/cluster/nodes/1cd8a442-86d1-11e0-ae1c-123478563412"
    );
    assert_eq!(
        first["svm"]["_links"]["self"]["href"],
        "/api/svm/svms/fc824aa8-4e60-11ea-afb1-0050568ec4e4"
    );
    assert_eq!(first["identifier"], 91842);
}

#[tokio::test]
async fn plain_json_has_no_hal_links() {
    let simulator = seeded().await;
    let auth = basic("admin", "netapp1!");
    let reply = Client::connect(&simulator)
        .await
        .request(
            "GET",
            &format!("{CIFS}?max_records=1"),
            &[("Authorization", &auth), ("Accept", "application/json")],
        )
        .await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert!(body["_links"].get("self").is_none());
    assert!(body["_links"]["next"]["href"].is_string());
    assert!(body["records"][0]["node"].get("_links").is_none());
}

#[tokio::test]
async fn all_fields_render_the_documented_record_shape() {
    let simulator = seeded().await;
    let body = get(&simulator, &format!("{CIFS}?identifier=92080&fields=*"))
        .await
        .json();
    let record = &body["records"][0];
    assert_eq!(record["client_ip"], "10.140.133.97");
    assert_eq!(record["client_port"], 23413);
    assert_eq!(record["network_context_id"], 5);
    assert_eq!(record["server_ip"], "10.140.70.197");
    assert_eq!(record["node"]["name"], "node1");
    assert_eq!(record["svm"]["name"], "vs1");
    assert_eq!(
        record["sessions"][0]["identifier"].as_u64(),
        Some(625_718_873_227_788_579)
    );
}

#[tokio::test]
async fn following_next_links_pages_through_every_record_once() {
    let simulator = seeded().await;
    let mut client = Client::connect(&simulator).await;
    let mut target =
        format!("{CIFS}?svm.name=vs1&fields=*&max_records=5&order_by=client_ip%20desc");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body = client.get(&target).await.json();
        pages += 1;
        for record in body["records"].as_array().expect("records") {
            seen.push((
                record["client_ip"].as_str().expect("ip").to_owned(),
                record["node"]["uuid"].as_str().expect("node").to_owned(),
                record["identifier"].as_u64().expect("identifier"),
            ));
        }
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 8);
    assert_eq!(seen.len(), 36);
    let unique: HashSet<_> = seen.iter().map(|(_, n, i)| (n.clone(), *i)).collect();
    assert_eq!(unique.len(), 36);
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "client_ip desc");
    assert_eq!(simulator.stats().connections_accepted, 1);
}

/// Every `(node, identifier)` seen following next links from `target`, and the page sizes.
async fn follow(simulator: &Simulator, target: &str) -> (Vec<(String, u64)>, Vec<usize>) {
    let mut client = Client::connect(simulator).await;
    let mut target = target.to_owned();
    let (mut seen, mut pages) = (Vec::new(), Vec::new());
    loop {
        let body = client.get(&target).await.json();
        let records = body["records"].as_array().expect("records");
        assert_eq!(body["num_records"], records.len());
        pages.push(records.len());
        for record in records {
            seen.push((
                record["node"]["uuid"].as_str().expect("node").to_owned(),
                record["identifier"].as_u64().expect("identifier"),
            ));
        }
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => return (seen, pages),
        }
    }
}

#[tokio::test]
async fn slow_iteration_returns_early_with_a_next_link_and_loses_nothing() {
    let simulator = seeded().await;
    simulator
        .cluster()
        .set_iteration_cost(CIFS, Duration::from_secs(1));
    let (seen, pages) = follow(&simulator, &format!("{CIFS}?return_timeout=10")).await;
    assert_eq!(pages, [10, 10, 10, 6]);
    assert_eq!(seen.len(), 36);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 36);
}

#[tokio::test]
async fn slow_iteration_uses_the_default_return_timeout_of_15_seconds() {
    let simulator = seeded().await;
    simulator
        .cluster()
        .set_default_iteration_cost(Duration::from_millis(1_500));
    let (seen, pages) = follow(&simulator, CIFS).await;
    assert_eq!(pages, [10, 10, 10, 6]);
    assert_eq!(seen.len(), 36);
}

#[tokio::test]
async fn a_collection_slower_than_its_timeout_still_returns_a_record_a_page() {
    let simulator = seeded().await;
    simulator
        .cluster()
        .set_iteration_cost(CIFS, Duration::from_secs(121));
    let (seen, pages) = follow(
        &simulator,
        &format!("{CIFS}?return_timeout=120&svm.name=vs1&client_ip=10.140.*"),
    )
    .await;
    assert!(pages.iter().all(|n| *n == 1), "{pages:?}");
    assert_eq!(seen.len(), pages.len());
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

#[tokio::test]
async fn without_an_iteration_cost_return_timeout_cuts_nothing_short() {
    let simulator = seeded().await;
    let (_, pages) = follow(&simulator, &format!("{CIFS}?return_timeout=0")).await;
    assert_eq!(pages, [36]);
}

#[tokio::test]
async fn a_cost_on_one_path_leaves_other_collections_alone() {
    let simulator = seeded().await;
    let cluster = simulator.cluster();
    cluster.set_default_iteration_cost(Duration::from_secs(60));
    cluster.set_iteration_cost(CIFS, Duration::ZERO);
    let (_, pages) = follow(&simulator, &format!("{CIFS}?return_timeout=1")).await;
    assert_eq!(pages, [36]);
}

#[tokio::test]
async fn paging_continues_after_the_last_record_when_it_is_removed() {
    let simulator = seeded().await;
    let first = get(&simulator, &format!("{CIFS}?max_records=2"))
        .await
        .json();
    let last = first["records"][1]["identifier"]
        .as_u64()
        .expect("identifier");
    let next = first["_links"]["next"]["href"]
        .as_str()
        .expect("next")
        .to_owned();
    let removed = simulator
        .cluster()
        .remove_cifs_connections(|c| u64::from(c.identifier) <= last);
    assert!(removed >= 2);
    let second = get(&simulator, &next).await.json();
    assert_eq!(second["num_records"], 2);
    assert!(second["records"][0]["identifier"].as_u64().expect("id") > last);
}

#[tokio::test]
async fn session_identifier_filter_compares_u64_exactly() {
    let simulator = seeded().await;
    let body = get(
        &simulator,
        &format!("{CIFS}?sessions.identifier=625718873227788577&fields=sessions"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 1);
    assert_eq!(body["records"][0]["identifier"], 92080);
}

#[tokio::test]
async fn encoded_query_operators_filter_records() {
    let simulator = seeded().await;
    let body = get(
        &simulator,
        &format!("{CIFS}?client_ip=10.74.7.182%7C10.140.133.97&return_records=false"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 2);
    assert!(body.get("records").is_none());
}

#[tokio::test]
async fn added_connection_shows_up_in_the_next_response() {
    let simulator = seeded().await;
    simulator.cluster().add_cifs_connection(CifsConnection {
        node_uuid: "1cd8a442-86d1-11e0-ae1c-123478563413".into(),
        svm_uuid: "fc824aa8-4e60-11ea-afb1-0050568ec4e4".into(),
        identifier: 1,
        network_context_id: 1,
        client_ip: "192.0.2.1".into(),
        client_port: 50000,
        server_ip: "10.140.70.198".into(),
        session_ids: vec![u64::MAX],
    });
    let body = get(&simulator, &format!("{CIFS}?return_records=false"))
        .await
        .json();
    assert_eq!(body["num_records"], 37);
}

#[tokio::test]
async fn unknown_parameter_is_400_unexpected_argument() {
    let simulator = seeded().await;
    let reply = get(&simulator, &format!("{CIFS}?colour=blue")).await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["error"]["code"], "262179");
    assert_eq!(body["error"]["message"], "Unexpected argument \"colour\".");
    assert_eq!(body["error"]["target"], "colour");
}

#[tokio::test]
async fn malformed_filter_is_400_invalid_value() {
    let simulator = seeded().await;
    let reply = get(&simulator, &format!("{CIFS}?client_port=%3Eabc")).await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["error"]["code"], "262197");
    assert_eq!(body["error"]["target"], "client_port");
}

#[tokio::test]
async fn unknown_path_is_404_code_4() {
    let simulator = seeded().await;
    let reply = get(&simulator, "/api/storage/volumes").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["error"]["code"], "4");
}

#[tokio::test]
async fn wrong_method_on_the_collection_is_405_with_an_error_body() {
    let simulator = seeded().await;
    let auth = basic("admin", "netapp1!");
    let reply = Client::connect(&simulator)
        .await
        .request(
            "DELETE",
            CIFS,
            &[("Authorization", &auth), ("Content-Length", "0")],
        )
        .await;
    assert_eq!(reply.status, 405);
    assert!(reply.json()["error"]["message"].is_string());
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let simulator = seeded().await;
    let mut client = Client::connect(&simulator).await;
    for _ in 0..3 {
        assert_eq!(client.get(CIFS).await.status, 200);
    }
    let stats = simulator.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.open_connections, 1);
    assert_eq!(stats.requests, 3);
    drop(client);
    eventually("the connection to close", || {
        simulator.stats().open_connections == 0
    })
    .await;
    assert_eq!(simulator.stats().peak_open_connections, 1);
}

#[tokio::test]
async fn once_error_fault_fails_one_request_then_clears() {
    let simulator = seeded().await;
    simulator.faults().push(Fault::once(FaultKind::Error {
        status: 503,
        code: Some("9".into()),
        message: "busy".into(),
        target: None,
    }));
    let mut client = Client::connect(&simulator).await;
    let reply = client.get(CIFS).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["error"]["code"], "9");
    assert_eq!(client.get(CIFS).await.status, 200);
}

#[tokio::test]
async fn faults_do_not_mask_authentication_failures() {
    let simulator = seeded().await;
    simulator.faults().push(Fault::always(FaultKind::Error {
        status: 500,
        code: None,
        message: "boom".into(),
        target: None,
    }));
    let reply = Client::connect(&simulator)
        .await
        .request("GET", CIFS, &[])
        .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn raw_fault_sends_exactly_the_given_bytes() {
    let simulator = seeded().await;
    simulator.faults().push(Fault::once(FaultKind::Raw {
        status: 502,
        content_type: "text/html".into(),
        body: b"<html>Bad Gateway</html>".to_vec(),
    }));
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.header("content-type"), Some("text/html"));
    assert_eq!(reply.body, b"<html>Bad Gateway</html>");
}

#[tokio::test]
async fn oversized_fault_streams_the_requested_number_of_bytes() {
    let simulator = seeded().await;
    simulator
        .faults()
        .push(Fault::once(FaultKind::Oversized { bytes: 300_000 }));
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/hal+json"));
    assert_eq!(reply.body.len(), 300_000);
}

#[tokio::test]
async fn disconnect_fault_closes_the_connection_short_of_the_promised_length() {
    let simulator = seeded().await;
    simulator.faults().push(Fault::once(FaultKind::Disconnect));
    let mut client = Client::connect(&simulator).await;
    let auth = basic("admin", "netapp1!");
    client.send("GET", CIFS, &[("Authorization", &auth)]).await;
    assert!(client.line().await.contains(" 200 "));
    let mut promised = None;
    loop {
        let line = client.line().await;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                promised = value.trim().parse::<usize>().ok();
            }
        }
    }
    let promised = promised.expect("content-length");
    let mut chunk = [0u8; 8192];
    while let Ok(n @ 1..) = client.stream.read(&mut chunk).await {
        client.buffer.extend_from_slice(&chunk[..n]);
    }
    assert!(!client.buffer.is_empty(), "part of the body arrives");
    assert!(client.buffer.starts_with(b"{"));
    assert!(
        client.buffer.len() < promised,
        "{} of {promised}",
        client.buffer.len()
    );
}

#[tokio::test]
async fn delay_fault_is_followed_by_the_normal_response() {
    let simulator = seeded().await;
    simulator
        .faults()
        .push(Fault::once(FaultKind::Delay(Duration::from_millis(100))));
    let started = tokio::time::Instant::now();
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn client_going_away_mid_request_counts_as_aborted() {
    let simulator = seeded().await;
    simulator
        .faults()
        .push(Fault::once(FaultKind::Delay(Duration::from_secs(30))));
    let mut client = Client::connect(&simulator).await;
    let auth = basic("admin", "netapp1!");
    client.send("GET", CIFS, &[("Authorization", &auth)]).await;
    eventually("the request to be in flight", || {
        simulator.stats().in_flight == 1
    })
    .await;
    drop(client);
    eventually("the request to be aborted", || {
        simulator.stats().aborted_requests == 1
    })
    .await;
    assert_eq!(simulator.stats().in_flight, 0);
    assert_eq!(simulator.stats().peak_in_flight, 1);
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let simulator = seeded().await;
    let addr = simulator.local_addr();
    simulator
        .faults()
        .push(Fault::once(FaultKind::Delay(Duration::from_millis(300))));
    let mut client = Client::connect(&simulator).await;
    let auth = basic("admin", "netapp1!");
    client.send("GET", CIFS, &[("Authorization", &auth)]).await;
    eventually("the request to be in flight", || {
        simulator.stats().in_flight == 1
    })
    .await;
    simulator.shutdown().await;
    assert_eq!(client.read_reply().await.status, 200);
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn run_until_returns_after_the_signal() {
    let simulator = seeded().await;
    let addr = simulator.local_addr();
    tokio::time::timeout(Duration::from_secs(5), simulator.run_until(async {}))
        .await
        .expect("run_until returned");
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn base_url_names_scheme_and_address() {
    let simulator = seeded().await;
    assert_eq!(
        simulator.base_url(),
        format!("http://127.0.0.1:{}", simulator.local_addr().port())
    );
    assert!(simulator.ca_certificate_pem().is_none());
}

#[tokio::test]
async fn ipv6_base_url_is_bracketed() {
    let config = SimulatorConfig {
        listen: "[::1]:0".parse().expect("address"),
        ..SimulatorConfig::default()
    };
    let Ok(simulator) = Simulator::start(config, Cluster::empty()).await else {
        return;
    };
    assert_eq!(
        simulator.base_url(),
        format!("http://[::1]:{}", simulator.local_addr().port())
    );
}

#[tokio::test]
async fn tls_serves_with_a_certificate_valid_for_loopback_names() {
    let config = SimulatorConfig {
        tls: true,
        ..SimulatorConfig::default()
    };
    let simulator = Simulator::start(config, Cluster::seed())
        .await
        .expect("start");
    assert!(simulator.base_url().starts_with("https://127.0.0.1:"));
    let pem = simulator.ca_certificate_pem().expect("certificate");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.expect("PEM")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    for name in ["localhost", "127.0.0.1"] {
        let tcp = TcpStream::connect(simulator.local_addr())
            .await
            .expect("connect");
        let server_name = ServerName::try_from(name).expect("name").to_owned();
        let stream = connector
            .connect(server_name, tcp)
            .await
            .expect("handshake");
        let reply = Client::over(stream).get(CIFS).await;
        assert_eq!(reply.status, 200);
    }
    assert_eq!(simulator.stats().connections_accepted, 2);
}
