//! What every endpoint shares: authentication, keep-alive, injected faults, connection and request
//! counters, graceful shutdown, addresses and TLS.

use std::sync::Arc;

use http_body_util::BodyExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use super::*;

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
    let closed = stats_reach(&simulator, "the connection closed", |s| {
        s.open_connections == 0
    })
    .await;
    assert_eq!(closed.peak_open_connections, 1);
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
async fn a_busy_fault_rounds_a_fractional_retry_after_up_to_whole_seconds() {
    let simulator = seeded().await;
    simulator.faults().push(Fault::once(FaultKind::Busy {
        status: 429,
        retry_after: Some(std::time::Duration::from_millis(1500)),
    }));
    let reply = Client::connect(&simulator).await.get(CIFS).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("2"));
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
    let auth = admin();
    let pending = client
        .send("GET", CIFS, &[("Authorization", &auth)], "")
        .await;
    let response = pending.await;
    assert_eq!(response.status(), 200);
    let promised: usize = response.headers()[http::header::CONTENT_LENGTH]
        .to_str()
        .expect("content-length")
        .parse()
        .expect("a length");
    let mut body = response.into_body();
    let mut received = Vec::new();
    let cut_short = loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    received.extend_from_slice(data);
                }
            }
            Some(Err(_)) => break true,
            None => break false,
        }
    };
    assert!(cut_short, "the body ends in an error, not a clean end");
    assert!(!received.is_empty(), "part of the body arrives");
    assert!(received.starts_with(b"{"));
    assert!(
        received.len() < promised,
        "{} of {promised}",
        received.len()
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
    let auth = admin();
    let pending = client
        .send("GET", CIFS, &[("Authorization", &auth)], "")
        .await;
    stats_reach(&simulator, "the request in flight", |s| s.in_flight == 1).await;
    drop(pending);
    drop(client);
    let stats = stats_reach(&simulator, "the request aborted", |s| {
        s.aborted_requests == 1
    })
    .await;
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.peak_in_flight, 1);
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let simulator = seeded().await;
    let addr = simulator.local_addr();
    simulator
        .faults()
        .push(Fault::once(FaultKind::Delay(Duration::from_millis(300))));
    let mut client = Client::connect(&simulator).await;
    let auth = admin();
    let pending = client
        .send("GET", CIFS, &[("Authorization", &auth)], "")
        .await;
    stats_reach(&simulator, "the request in flight", |s| s.in_flight == 1).await;
    simulator.shutdown().await;
    assert_eq!(Reply::read(pending.await).await.status, 200);
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
        let reply = Client::over(stream).await.get(CIFS).await;
        assert_eq!(reply.status, 200);
    }
    assert_eq!(simulator.stats().connections_accepted, 2);
}
