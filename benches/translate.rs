//! JSON -> proto translation of one 1,000-record page of CIFS connections:
//! the gateway's per-page CPU cost on top of the network, beside the floor
//! any Rust client of the REST API pays: serde_json's parse of the same page
//! into typed structs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ontap_grpc_gateway::ontap::{Collection, Response};
use ontap_grpc_gateway::proto::v1::{CifsConnection, ListCifsConnectionsResponse};
use ontap_grpc_gateway::translate::Selection;
use ontap_grpc_gateway::translate::wire::{OntapJson, OntapRecord};
use prost::Message;
use serde::Deserialize;
use std::hint::black_box;

/// A page shaped like ONTAP's, with HAL links on every nested object.
fn page(records: usize) -> Vec<u8> {
    let records: Vec<serde_json::Value> = (0..records)
        .map(|i| {
            serde_json::json!({
                "client_ip": format!("10.74.{}.{}", i / 250, i % 250),
                "client_port": 1025 + i,
                "identifier": 91842 + i,
                "network_context_id": i % 8,
                "node": {
                    "_links": {"self": {"href": "/api/cluster/nodes/1cd8a442-86d1-11e0-ae1c-123478563412"}},
                    "name": "node1",
                    "uuid": "1cd8a442-86d1-11e0-ae1c-123478563412"
                },
                "server_ip": "10.140.70.197",
                "sessions": [{"identifier": 625718873227788312u64 + i as u64}, {"identifier": 625718873227788579u64}],
                "svm": {
                    "_links": {"self": {"href": "/api/svm/svms/fc824aa8-4e60-11ea-afb1-0050568ec4e4"}},
                    "name": "vs1",
                    "uuid": "fc824aa8-4e60-11ea-afb1-0050568ec4e4"
                }
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "records": records,
        "num_records": 1000,
        "_links": {"self": {"href": "/api/protocols/cifs/connections?fields=*"},
                   "next": {"href": "/api/protocols/cifs/connections?fields=*&start.identifier=92842"}}
    }))
    .unwrap()
}

/// What a REST client written against the documented record would parse the
/// page into: every field the page carries, HAL links skipped.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedPage {
    records: Vec<TypedConnection>,
    num_records: u32,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedConnection {
    client_ip: String,
    client_port: u32,
    identifier: u64,
    network_context_id: u32,
    node: TypedReference,
    server_ip: String,
    sessions: Vec<TypedSession>,
    svm: TypedReference,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedReference {
    name: String,
    uuid: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedSession {
    identifier: u64,
}

/// The gateway's decode and field selection of one page.
fn json_to_proto(body: &bytes::Bytes) -> Vec<CifsConnection> {
    let response = Response {
        status: 200,
        location: None,
        body: body.clone(),
        ..Response::default()
    };
    let collection: Collection<OntapJson<CifsConnection>> = response.json().unwrap();
    collection
        .records
        .into_iter()
        .map(|OntapJson(mut r)| {
            r.select(&Selection::All);
            r
        })
        .collect()
}

fn translate_page(c: &mut Criterion) {
    let body = bytes::Bytes::from(page(1000));
    let mut group = c.benchmark_group("cifs_connections_page");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("serde_json_typed_parse_1000_records", |b| {
        b.iter(|| black_box(serde_json::from_slice::<TypedPage>(&body).unwrap()))
    });
    group.bench_function("json_to_proto_1000_records", |b| {
        b.iter(|| black_box(json_to_proto(&body)))
    });
    group.bench_function("json_to_encoded_response_1000_records", |b| {
        b.iter(|| {
            let response = ListCifsConnectionsResponse {
                cifs_connections: json_to_proto(&body),
                num_records: 1000,
                ..ListCifsConnectionsResponse::default()
            };
            black_box(response.encode_to_vec())
        })
    });
    group.finish();
}

criterion_group!(benches, translate_page);
criterion_main!(benches);
