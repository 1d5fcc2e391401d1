//! The server's own bounds, seen from a client: connections past the limit
//! and connections that never speak are closed, calls past the stream limit
//! wait their turn, a stalled request body fails its call, and shutdown
//! ends within the drain timeout whatever clients and upstream do.
//!
//! No test here asserts how fast anything happens: each bound is set short
//! and a generous guard only keeps a broken build from hanging the suite.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use crate::common::{
    Gateway, client_config, closed_by_server, eventually, eventually_async, h2_sender,
    simulator_with,
};
use bytes::Bytes;
use http_body_util::StreamBody;
use hyper::body::Frame;
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_grpc_gateway::server::ServeOptions;
use ontap_simulator::{Cluster, Fault, FaultKind, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// Long enough that only a hang trips it.
const GUARD: Duration = Duration::from_secs(20);

async fn gateway_with(options: ServeOptions) -> (Simulator, Gateway) {
    let simulator = simulator_with(Cluster::seed()).await;
    let gateway = Gateway::start_with_options(client_config(&simulator), options).await;
    (simulator, gateway)
}

async fn one_call(client: &mut CifsConnectionsClient<tonic::transport::Channel>) {
    client
        .list_cifs_connections(ListCifsConnectionsRequest::default())
        .await
        .expect("the call succeeds");
}

#[tokio::test]
async fn a_connection_past_the_limit_is_closed_at_once() {
    let (_simulator, gateway) = gateway_with(ServeOptions {
        max_connections: 2,
        ..ServeOptions::default()
    })
    .await;
    let mut first = gateway.cifs().await;
    let mut second = gateway.cifs().await;
    one_call(&mut first).await;
    one_call(&mut second).await;
    let third = TcpStream::connect(gateway.addr).await.unwrap();
    assert!(closed_by_server(third).await);
}

#[tokio::test]
async fn a_slot_frees_when_a_connection_closes() {
    let (_simulator, gateway) = gateway_with(ServeOptions {
        max_connections: 1,
        ..ServeOptions::default()
    })
    .await;
    let mut first = gateway.cifs().await;
    one_call(&mut first).await;
    drop(first);
    let addr = gateway.addr;
    eventually_async("a new connection is served", async || {
        let Ok(channel) = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
        else {
            return false;
        };
        CifsConnectionsClient::new(channel)
            .list_cifs_connections(ListCifsConnectionsRequest::default())
            .await
            .is_ok()
    })
    .await;
}

#[tokio::test]
async fn a_connection_that_never_speaks_is_closed_after_the_handshake_timeout() {
    let (_simulator, gateway) = gateway_with(ServeOptions {
        handshake_timeout: Duration::from_millis(200),
        ..ServeOptions::default()
    })
    .await;
    let silent = TcpStream::connect(gateway.addr).await.unwrap();
    assert!(closed_by_server(silent).await);
}

/// HTTP/2's client preface: what a gRPC client sends first.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A gateway whose connections have `handshake_timeout` to open.
async fn gateway_opening_within(
    handshake_timeout: Duration,
    grpc_web: bool,
) -> (Simulator, Gateway) {
    gateway_with(ServeOptions {
        handshake_timeout,
        grpc_web,
        ..ServeOptions::default()
    })
    .await
}

/// A connection to `addr` that has sent `bytes` and then nothing more.
async fn sent_only(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

#[tokio::test]
async fn sockets_that_send_one_byte_cannot_lock_out_a_well_behaved_caller() {
    const HANDSHAKE: Duration = Duration::from_secs(1);
    let (_simulator, gateway) = gateway_with(ServeOptions {
        max_connections: 20,
        handshake_timeout: HANDSHAKE,
        ..ServeOptions::default()
    })
    .await;
    let mut one_byte = Vec::new();
    for _ in 0..20 {
        one_byte.push(sent_only(gateway.addr, b"P").await);
    }
    let addr = gateway.addr;
    let served = tokio::time::timeout(HANDSHAKE + Duration::from_secs(1), async {
        loop {
            if let Ok(channel) = Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                && CifsConnectionsClient::new(channel)
                    .list_cifs_connections(ListCifsConnectionsRequest::default())
                    .await
                    .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        served.is_ok(),
        "no call was served within the handshake timeout and a second"
    );
}

#[tokio::test]
async fn a_connection_that_sends_all_but_the_last_preface_byte_is_closed() {
    let (_simulator, gateway) = gateway_opening_within(Duration::from_millis(200), false).await;
    let stream = sent_only(gateway.addr, &PREFACE[..23]).await;
    assert!(closed_by_server(stream).await);
}

#[tokio::test]
async fn a_connection_that_sends_the_preface_without_its_settings_is_closed() {
    let (_simulator, gateway) = gateway_opening_within(Duration::from_millis(200), false).await;
    let stream = sent_only(gateway.addr, PREFACE).await;
    assert!(closed_by_server(stream).await);
}

#[tokio::test]
async fn a_grpc_web_connection_that_stops_mid_header_is_closed() {
    let (_simulator, gateway) = gateway_opening_within(Duration::from_millis(200), true).await;
    let stream = sent_only(
        gateway.addr,
        b"POST /ontap.v1.CifsConnections/ListCifsConnections HTTP/1.1\r\nhost: gateway\r\ncontent-",
    )
    .await;
    assert!(closed_by_server(stream).await);
}

#[tokio::test]
async fn a_client_that_opened_is_served_long_after_the_handshake_timeout() {
    let (_simulator, gateway) = gateway_opening_within(Duration::from_millis(200), false).await;
    let mut client = gateway.cifs().await;
    one_call(&mut client).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    one_call(&mut client).await;
}

#[tokio::test]
async fn a_grpc_web_call_is_served_after_its_head_opened_the_connection() {
    let (_simulator, gateway) = gateway_opening_within(Duration::from_millis(200), true).await;
    let mut stream = sent_only(
        gateway.addr,
        b"POST /grpc.health.v1.Health/Check HTTP/1.1\r\nhost: gateway\r\n\
          content-type: application/grpc-web+proto\r\ncontent-length: 5\r\n\r\n",
    )
    .await;
    // The body comes after the timeout: the head alone opened the connection.
    tokio::time::sleep(Duration::from_millis(400)).await;
    stream.write_all(&[0, 0, 0, 0, 0]).await.unwrap();
    let mut response = vec![0; 12];
    tokio::time::timeout(GUARD, stream.read_exact(&mut response))
        .await
        .expect("the gateway answers")
        .unwrap();
    assert_eq!(&response, b"HTTP/1.1 200");
}

#[tokio::test]
async fn calls_past_the_stream_limit_wait_their_turn() {
    let (simulator, gateway) = gateway_with(ServeOptions {
        max_concurrent_streams: 2,
        ..ServeOptions::default()
    })
    .await;
    simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_millis(100))));
    let mut client = gateway.cifs().await;
    // Once the client has the server's SETTINGS it queues streams past the
    // limit; before, a burst would race them and be refused (REFUSED_STREAM).
    one_call(&mut client).await;
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move { one_call(&mut client).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap();
    }
    assert!(
        simulator.stats().peak_in_flight <= 2,
        "{:?}",
        simulator.stats()
    );
}

#[tokio::test]
async fn a_stalled_request_body_fails_the_call() {
    let (_simulator, gateway) = gateway_with(ServeOptions {
        request_body_timeout: Duration::from_millis(200),
        ..ServeOptions::default()
    })
    .await;
    let status = tokio::time::timeout(GUARD, half_sent_call(gateway.addr))
        .await
        .expect("the gateway answers a stalled body");
    assert_ne!(
        status, "0",
        "a call whose body never arrived cannot succeed"
    );
}

/// Sends a gRPC message header promising ten bytes, then nothing, and
/// returns the call's `grpc-status`.
async fn half_sent_call(addr: SocketAddr) -> String {
    let mut sender = h2_sender(addr).await;
    let (frames, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
    frames
        .send(Ok(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 10]))))
        .await
        .unwrap();
    let request = http::Request::post(format!(
        "http://{addr}/ontap.v1.CifsConnections/ListCifsConnections"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(StreamBody::new(ReceiverStream::new(rx)))
    .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = match response.headers().get("grpc-status") {
        Some(status) => status.to_str().unwrap().to_owned(),
        None => {
            let trailers = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .trailers()
                .cloned()
                .unwrap_or_default();
            trailers
                .get("grpc-status")
                .map(|s| s.to_str().unwrap().to_owned())
                .unwrap_or_default()
        }
    };
    drop(frames);
    status
}

#[tokio::test]
async fn shutdown_ends_within_the_drain_timeout_despite_a_hung_call() {
    let (simulator, gateway) = gateway_with(ServeOptions {
        drain_timeout: Duration::from_millis(200),
        ..ServeOptions::default()
    })
    .await;
    simulator
        .faults()
        .push(Fault::always(FaultKind::Delay(Duration::from_secs(600))));
    let mut client = gateway.cifs().await;
    let hung = tokio::spawn(async move {
        client
            .list_cifs_connections(ListCifsConnectionsRequest::default())
            .await
    });
    eventually("the call reaches the upstream", || {
        simulator.stats().in_flight == 1
    })
    .await;
    tokio::time::timeout(GUARD, gateway.stop())
        .await
        .expect("shutdown ends");
    let call = tokio::time::timeout(GUARD, hung)
        .await
        .expect("the call ends");
    assert!(call.unwrap().is_err(), "the cut call fails");
}

#[tokio::test]
async fn shutdown_ends_despite_a_connection_that_never_sent_the_preface() {
    let (_simulator, gateway) = gateway_with(ServeOptions {
        drain_timeout: Duration::from_millis(200),
        ..ServeOptions::default()
    })
    .await;
    let _silent = TcpStream::connect(gateway.addr).await.unwrap();
    tokio::time::timeout(GUARD, gateway.stop())
        .await
        .expect("shutdown ends");
}

#[tokio::test]
async fn in_flight_calls_finish_during_the_drain() {
    let (simulator, gateway) = gateway_with(ServeOptions::default()).await;
    simulator
        .faults()
        .push(Fault::once(FaultKind::Delay(Duration::from_millis(300))));
    let mut client = gateway.cifs().await;
    let call = tokio::spawn(async move { one_call(&mut client).await });
    eventually("the call reaches the upstream", || {
        simulator.stats().in_flight == 1
    })
    .await;
    let addr = gateway.addr;
    tokio::time::timeout(GUARD, gateway.stop())
        .await
        .expect("shutdown ends");
    call.await.expect("the in-flight call finished");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "a stopped gateway refuses new connections"
    );
}
