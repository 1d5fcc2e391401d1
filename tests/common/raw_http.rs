//! Raw HTTP/1.1 over a loopback socket, for requests no client library
//! would send: framing conflicts, oversized heads, heads that never end.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::GUARD;

/// What a server sent back for a raw request, up to its closing the
/// connection.
pub struct Answer {
    /// The first response's status code; `None` when the server closed
    /// (or reset) the connection without a response.
    pub status: Option<u16>,
    /// Everything the server sent, lossily as text.
    pub text: String,
}

/// Writes `request` on a new connection to `addr` and reads until the
/// server closes it. The request should ask for `connection: close`, or be
/// one the server closes after; a server that neither answers nor closes
/// within [`GUARD`] fails the test.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A server that refuses early may close before it has read it all.
    let _ = stream.write_all(request).await;
    let received = read_until_closed(&mut stream, GUARD)
        .await
        .expect("the server answers and closes the connection");
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Answer { status, text }
}

/// Everything `stream` receives until the peer closes or resets it; `None`
/// when it is still open after `bound`.
pub async fn read_until_closed(stream: &mut TcpStream, bound: Duration) -> Option<Vec<u8>> {
    tokio::time::timeout(bound, async {
        let mut received = Vec::new();
        let mut buffer = [0; 8192];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return received,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .ok()
}
