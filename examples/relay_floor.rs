//! The floor under the gateway's cost per call, for `scripts/bench-h2load`:
//! the same serving stack (tonic on hyper's HTTP/2) and upstream client (one
//! pooled reqwest client) relaying `ListCifsConnections` to ONTAP's REST API
//! with none of the gateway's own work in between. No layers, no validation,
//! no page token, and the records are not decoded: the body is read whole and
//! an empty response goes back. What the gateway costs above this relay is
//! its own; what this relay costs is the stack's.
//!
//! ```text
//! cargo build --release --example relay_floor
//! scripts/bench-h2load 10 5 target/release/examples/relay_floor
//! ```
//!
//! Every path is answered as `ListCifsConnections`. It takes the gateway's
//! `serve --listen ADDR --ontap-url URL` flags and ignores the others, so the
//! script starts it in the gateway's place. The password is
//! `ONTAP_PASSWORD`'s, the user `admin`. Loopback benchmarks only.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use ontap_grpc_gateway::proto::v1::{ListCifsConnectionsRequest, ListCifsConnectionsResponse};
use tonic::body::Body;
use tonic::server::{Grpc, UnaryService};
use tonic::{Request, Response, Status};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[derive(Clone)]
struct Relay {
    http: reqwest::Client,
    /// The collection's URL, without a query.
    collection: String,
    password: String,
}

impl tower::Service<http::Request<Body>> for Relay {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let list = List(self.clone());
        Box::pin(async move {
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(list, request).await)
        })
    }
}

struct List(Relay);

impl UnaryService<ListCifsConnectionsRequest> for List {
    type Response = ListCifsConnectionsResponse;
    type Future = BoxFuture<Result<Response<ListCifsConnectionsResponse>, Status>>;

    fn call(&mut self, request: Request<ListCifsConnectionsRequest>) -> Self::Future {
        let relay = self.0.clone();
        Box::pin(async move {
            let url = format!(
                "{}?fields=*&max_records={}",
                relay.collection,
                request.get_ref().page_size
            );
            let response = relay
                .http
                .get(url)
                .basic_auth("admin", Some(&relay.password))
                .send()
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            if !response.status().is_success() {
                return Err(Status::unknown(format!("ONTAP: {}", response.status())));
            }
            response
                .bytes()
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            Ok(Response::new(ListCifsConnectionsResponse::default()))
        })
    }
}

/// The value after `flag` among the arguments.
fn flag(args: &[String], flag: &str) -> Option<String> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).cloned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let listen: SocketAddr = flag(&args, "--listen")
        .ok_or("--listen ADDR is required")?
        .parse()?;
    let ontap = flag(&args, "--ontap-url").ok_or("--ontap-url URL is required")?;
    // reqwest is built without a TLS provider of its own, as in the gateway.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let relay = Relay {
        http: reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(64)
            .build()?,
        collection: format!(
            "{}/api/protocols/cifs/connections",
            ontap.trim_end_matches('/')
        ),
        password: std::env::var("ONTAP_PASSWORD")?,
    };
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .serve(listen, relay)
        .await?;
    Ok(())
}
