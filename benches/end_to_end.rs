//! One ListCifsConnections call through the whole path: tonic client ->
//! gateway -> pooled reqwest client -> simulator over loopback HTTP, and
//! back. Measures what a caller waits per page, simulator included.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ontap_grpc_gateway::deadline::Deadline;
use ontap_grpc_gateway::ontap::CollectionPath;
use ontap_grpc_gateway::translate::resource::Resource;

/// The collection the examples page through.
const CONNECTIONS: CollectionPath =
    <ontap_grpc_gateway::proto::v1::CifsConnection as Resource>::COLLECTION;
use ontap_grpc_gateway::ontap::{ClientConfig, OntapClient, Query};
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_grpc_gateway::server::{self, ServeOptions};
use ontap_grpc_gateway::translate::{PageTokenKey, Upstream};
use ontap_simulator::{Cluster, Credentials, ExposeSecret, Simulator, SimulatorConfig};
use tokio::net::TcpListener;
use tonic::transport::Channel;

/// The seed cluster grown to `total` CIFS connections.
fn cluster_with(total: u32) -> Cluster {
    let mut cluster = Cluster::seed();
    let template = cluster.cifs_connections[0].clone();
    for identifier in 0..total.saturating_sub(cluster.cifs_connections.len() as u32) {
        let mut c = template.clone();
        c.identifier = 1_000_000 + identifier;
        cluster.cifs_connections.push(c);
    }
    cluster
}

fn list_pages(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (client, simulator) = runtime.block_on(async {
        let simulator = Simulator::start(SimulatorConfig::default(), cluster_with(1000))
            .await
            .unwrap();
        let credentials = Credentials::default();
        let config = ClientConfig::new(
            simulator.base_url(),
            credentials.username,
            credentials.password.expose_secret(),
        );
        let ontap = OntapClient::new(config).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = Upstream::new(ontap, PageTokenKey::random().unwrap());
        tokio::spawn(server::serve(
            listener,
            upstream,
            ServeOptions::default(),
            std::future::pending(),
        ));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        (CifsConnectionsClient::new(channel), simulator)
    });
    let mut group = c.benchmark_group("list_cifs_connections_end_to_end");
    for page_size in [10, 100, 1000] {
        group.throughput(Throughput::Elements(page_size as u64));
        group.bench_function(format!("page_size_{page_size}"), |b| {
            b.to_async(&runtime).iter(|| {
                let mut client = client.clone();
                async move {
                    let page = client
                        .list_cifs_connections(ListCifsConnectionsRequest {
                            page_size,
                            ..Default::default()
                        })
                        .await
                        .unwrap()
                        .into_inner();
                    assert_eq!(page.cifs_connections.len(), page_size as usize);
                    black_box(page)
                }
            })
        });
    }
    group.finish();

    // The same pages straight from the simulator through the gateway's REST
    // client, so the difference is what gRPC and translation add.
    let credentials = Credentials::default();
    let rest = OntapClient::new(ClientConfig::new(
        simulator.base_url(),
        credentials.username,
        credentials.password.expose_secret(),
    ))
    .unwrap();
    let mut group = c.benchmark_group("list_cifs_connections_rest_only");
    for page_size in [10, 100, 1000] {
        group.throughput(Throughput::Elements(page_size as u64));
        group.bench_function(format!("page_size_{page_size}"), |b| {
            b.to_async(&runtime).iter(|| {
                let mut query = Query::new();
                query
                    .push("fields", "*")
                    .push("max_records", page_size.to_string());
                let rest = rest.clone();
                async move {
                    black_box(
                        rest.get(&CONNECTIONS.path(), &query, Deadline::NONE)
                            .await
                            .unwrap(),
                    )
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, list_pages);
criterion_main!(benches);
