//! A client on hyper's HTTP/1.1 connection API rather than a pooled client, so each test controls
//! exactly which connections are opened, when a request is sent, and when a connection is dropped.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use ontap_simulator::Simulator;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::admin;

/// A response read whole.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// Reads the rest of `response`.
    pub async fn read(response: Response<Incoming>) -> Reply {
        let (head, body) = response.into_parts();
        let body = body.collect().await.expect("whole body").to_bytes();
        Reply {
            status: head.status.as_u16(),
            headers: head.headers,
            body: body.to_vec(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// A response whose request is on its way.
pub type Pending = Pin<Box<dyn Future<Output = Response<Incoming>> + Send>>;

/// One client connection; requests on it reuse the TCP connection (keep-alive), and dropping it
/// closes the connection, even with a request in flight.
pub struct Client {
    sender: SendRequest<Full<Bytes>>,
    connection: JoinHandle<()>,
}

impl Client {
    pub async fn connect(simulator: &Simulator) -> Client {
        let stream = TcpStream::connect(simulator.local_addr())
            .await
            .expect("connect");
        Client::over(stream).await
    }

    pub async fn over<S>(stream: S) -> Client
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        let connection = tokio::spawn(async move {
            // Ends in an error when a test has the server cut the connection short; the
            // response or body the test awaits reports that.
            let _ = connection.await;
        });
        Client { sender, connection }
    }

    /// Sends a request without waiting for its response.
    pub async fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Pending {
        let mut request = Request::builder()
            .method(method)
            .uri(target)
            .header(HOST, "simulator");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request);
        Box::pin(async move { response.await.expect("response head") })
    }

    pub async fn request(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
        let pending = self.send(method, target, headers, "").await;
        Reply::read(pending.await).await
    }

    /// An authenticated request with a JSON body (none: an empty body).
    pub async fn call(&mut self, method: &str, target: &str, body: Option<&str>) -> Reply {
        let auth = admin();
        let headers = [
            (AUTHORIZATION.as_str(), auth.as_str()),
            (CONTENT_TYPE.as_str(), "application/json"),
        ];
        let pending = self
            .send(method, target, &headers, body.unwrap_or(""))
            .await;
        Reply::read(pending.await).await
    }

    /// An authenticated GET.
    pub async fn get(&mut self, target: &str) -> Reply {
        let auth = admin();
        self.request("GET", target, &[(AUTHORIZATION.as_str(), &auth)])
            .await
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.connection.abort();
    }
}
