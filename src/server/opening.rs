//! The opening of a connection, under one deadline: an HTTP/2 client's
//! whole preface and its first SETTINGS frame, or an HTTP/1.1 client's
//! first complete request head. Until a connection has opened it is
//! closed at the deadline, however many bytes it has sent: a peer that
//! sends one byte, or 23 of the preface's 24, must not hold a connection
//! slot for as long as a served connection may live.
//!
//! The bytes are watched as hyper reads them, not read ahead and replayed,
//! so the server sees exactly what the peer sent. The first HTTP/1.1 head
//! is also judged here, where its raw bytes still are: past
//! [`MAX_HTTP1_HEAD`] it is refused with 431 (hyper alone buffers ~400 KB),
//! and one framed by both Content-Length and Transfer-Encoding (a request
//! smuggling shape) with 400. hyper removes Content-Length from such a
//! head, so no layer after it could tell.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// HTTP/2's client connection preface (RFC 9113, 3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An HTTP/2 frame header: length (24 bits), type, flags, stream id.
const FRAME_HEADER: usize = 9;
/// The frame type a client's preface must be followed by (RFC 9113, 6.5).
const SETTINGS: u8 = 0x4;
/// What ends an HTTP/1.1 request head.
const HEAD_END: &[u8; 4] = b"\r\n\r\n";
/// The largest first HTTP/1.1 request head: HTTP/2's header-list bound.
pub const MAX_HTTP1_HEAD: usize = crate::layers::MAX_HEADER_LIST_BYTES as usize;
/// Headers httparse reads at once; a head with more is left to hyper,
/// which refuses more than 100.
const MAX_HTTP1_HEADERS: usize = 128;

/// Why the first HTTP/1.1 head is refused before hyper reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The head is longer than [`MAX_HTTP1_HEAD`].
    HeadTooLarge,
    /// Both Content-Length and Transfer-Encoding frame the body.
    AmbiguousLength,
}

impl Refusal {
    /// The whole HTTP/1.1 response that refuses the request.
    fn response(self) -> &'static [u8] {
        match self {
            Self::HeadTooLarge => {
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            }
            Self::AmbiguousLength => {
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            }
        }
    }
}

/// How far a peer has got through the opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// Bytes so far match the first `matched` bytes of the HTTP/2 preface.
    Preface { matched: usize },
    /// The preface is done; `have` bytes of the first frame's header are.
    FrameHeader {
        header: [u8; FRAME_HEADER],
        have: usize,
    },
    /// The first SETTINGS frame's payload still has `left` bytes to come.
    SettingsPayload { left: usize },
    /// The HTTP/1.x request head so far.
    Http1Head { head: Vec<u8> },
    /// The peer has opened; what it sends from here is the server's to judge.
    Open,
    /// The first HTTP/1.1 head is refused; nothing of it goes to the server.
    Refused(Refusal),
}

impl Default for Opening {
    fn default() -> Self {
        Self::Preface { matched: 0 }
    }
}

impl Opening {
    /// Whether the peer has finished its opening.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open)
    }

    /// Whether the opening is over, opened or refused.
    fn is_over(&self) -> bool {
        matches!(self, Self::Open | Self::Refused(_))
    }

    /// Advances over `bytes`, the next the peer sent. Bytes that break the
    /// protocol also end the opening: the server refuses them itself.
    pub fn advance(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.is_over() {
            bytes = self.step(bytes);
        }
    }

    /// Consumes what the current state can of `bytes`; returns the rest.
    fn step<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        match *self {
            Self::Preface { matched } => {
                let take = bytes.len().min(PREFACE.len() - matched);
                let agreed = bytes[..take]
                    .iter()
                    .zip(&PREFACE[matched..])
                    .take_while(|(got, want)| got == want)
                    .count();
                if agreed < take {
                    // Not HTTP/2 with prior knowledge: the bytes so far
                    // were the start of an HTTP/1.x request head.
                    *self = Self::Http1Head {
                        head: PREFACE[..matched].to_vec(),
                    };
                    return bytes;
                }
                *self = if matched + take == PREFACE.len() {
                    Self::FrameHeader {
                        header: [0; FRAME_HEADER],
                        have: 0,
                    }
                } else {
                    Self::Preface {
                        matched: matched + take,
                    }
                };
                &bytes[take..]
            }
            Self::FrameHeader { mut header, have } => {
                let take = bytes.len().min(FRAME_HEADER - have);
                header[have..have + take].copy_from_slice(&bytes[..take]);
                *self = if have + take < FRAME_HEADER {
                    Self::FrameHeader {
                        header,
                        have: have + take,
                    }
                } else if header[3] == SETTINGS {
                    let left = usize::from(header[0]) << 16
                        | usize::from(header[1]) << 8
                        | usize::from(header[2]);
                    Self::settings_payload(left)
                } else {
                    Self::Open
                };
                &bytes[take..]
            }
            Self::SettingsPayload { left } => {
                let take = bytes.len().min(left);
                *self = Self::settings_payload(left - take);
                &bytes[take..]
            }
            Self::Http1Head { ref mut head } => {
                // The end may straddle the previous read: look back 3 bytes.
                let from = head.len().saturating_sub(HEAD_END.len() - 1);
                let room = (MAX_HTTP1_HEAD + 1).saturating_sub(head.len());
                let take = bytes.len().min(room);
                head.extend_from_slice(&bytes[..take]);
                let end = head[from..]
                    .windows(HEAD_END.len())
                    .position(|window| window == HEAD_END)
                    .map(|at| from + at + HEAD_END.len());
                match end {
                    Some(end) if end <= MAX_HTTP1_HEAD => {
                        let rest = end - (head.len() - take);
                        let verdict = judge_head(&head[..end]);
                        *self = verdict;
                        &bytes[rest..]
                    }
                    _ if head.len() > MAX_HTTP1_HEAD => {
                        *self = Self::Refused(Refusal::HeadTooLarge);
                        &[]
                    }
                    _ => &bytes[take..],
                }
            }
            Self::Open | Self::Refused(_) => bytes,
        }
    }

    fn settings_payload(left: usize) -> Self {
        if left == 0 {
            Self::Open
        } else {
            Self::SettingsPayload { left }
        }
    }
}

/// A whole first HTTP/1.1 head: refused when both Content-Length and
/// Transfer-Encoding frame its body, open otherwise (what else is wrong
/// with it is hyper's to answer).
fn judge_head(head: &[u8]) -> Opening {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HTTP1_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    if request.parse(head).is_err() {
        return Opening::Open;
    }
    let names = || request.headers.iter().map(|header| header.name);
    let framed_by = |name: &str| names().any(|n| n.eq_ignore_ascii_case(name));
    if framed_by("content-length") && framed_by("transfer-encoding") {
        Opening::Refused(Refusal::AmbiguousLength)
    } else {
        Opening::Open
    }
}

/// Why a connection was closed before it opened.
#[derive(Debug, thiserror::Error)]
#[error("the peer did not finish its opening ({stage}) within the handshake timeout")]
pub struct OpeningTimedOut {
    stage: &'static str,
}

impl OpeningTimedOut {
    /// Where in its opening the peer stopped, for the log.
    pub fn stage(&self) -> &'static str {
        self.stage
    }
}

/// Who hears that a connection did not open in time.
type TimeoutReport = Box<dyn FnOnce(&OpeningTimedOut) + Send>;

/// A connection whose reads fail once `deadline` passes before it opened.
pub struct OpeningDeadline<S> {
    inner: S,
    /// Until the peer has opened: how far it got, and when it must finish.
    pending: Option<(Opening, Pin<Box<Sleep>>)>,
    on_timeout: Option<TimeoutReport>,
    /// A refused first head: why, and how much of the answer is written.
    refusing: Option<(Refusal, usize)>,
}

impl<S> OpeningDeadline<S> {
    /// Watches `inner`, whose opening must be done by `deadline`;
    /// `on_timeout` hears of it once if not.
    pub fn new(
        inner: S,
        deadline: Instant,
        on_timeout: impl FnOnce(&OpeningTimedOut) + Send + 'static,
    ) -> Self {
        Self {
            inner,
            pending: Some((
                Opening::default(),
                Box::pin(tokio::time::sleep_until(deadline)),
            )),
            on_timeout: Some(Box::new(on_timeout)),
            refusing: None,
        }
    }

    /// The connection underneath.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// An error once the deadline has passed with the opening unfinished.
    fn check_deadline(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let Some((opening, deadline)) = &mut self.pending else {
            return Ok(());
        };
        if deadline.as_mut().poll(cx).is_pending() {
            return Ok(());
        }
        let timed_out = OpeningTimedOut {
            stage: stage(opening),
        };
        if let Some(report) = self.on_timeout.take() {
            report(&timed_out);
        }
        Err(io::Error::new(io::ErrorKind::TimedOut, timed_out))
    }
}

impl<S: AsyncWrite + Unpin> OpeningDeadline<S> {
    /// Writes the refusal's answer and ends the write side, then fails the
    /// read, so the server closes the connection without reading on.
    fn poll_refuse(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((refusal, written)) = &mut self.refusing else {
            return Poll::Ready(Ok(()));
        };
        let answer = refusal.response();
        while *written < answer.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &answer[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        ready!(Pin::new(&mut self.inner).poll_shutdown(cx))?;
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the first HTTP/1.1 request head was refused: {refusal:?}"),
        )))
    }
}

/// A name for where an unfinished opening stopped.
fn stage(opening: &Opening) -> &'static str {
    match opening {
        Opening::Preface { matched: 0 } => "nothing sent",
        Opening::Preface { .. } => "part of the HTTP/2 preface",
        Opening::FrameHeader { .. } | Opening::SettingsPayload { .. } => {
            "the HTTP/2 preface without its SETTINGS"
        }
        Opening::Http1Head { .. } => "part of an HTTP/1.1 request head",
        Opening::Open | Opening::Refused(_) => "over",
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for OpeningDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.refusing.is_some() {
            return this.poll_refuse(cx);
        }
        this.check_deadline(cx)?;
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some((opening, _))) = (&read, &mut this.pending) {
            opening.advance(&buf.filled()[before..]);
            if opening.is_open() {
                this.pending = None;
                this.on_timeout = None;
            } else if let Opening::Refused(refusal) = *opening {
                // The server never sees the head whole.
                this.refusing = Some((refusal, 0));
                this.pending = None;
                this.on_timeout = None;
                buf.set_filled(before);
                return this.poll_refuse(cx);
            }
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for OpeningDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    /// The preface and an empty SETTINGS frame, as every gRPC client opens.
    fn http2_opening(settings_payload: usize) -> Vec<u8> {
        let mut bytes = PREFACE.to_vec();
        let len = u32::try_from(settings_payload).unwrap().to_be_bytes();
        bytes.extend_from_slice(&[len[1], len[2], len[3], SETTINGS, 0, 0, 0, 0, 0]);
        bytes.extend(std::iter::repeat_n(0u8, settings_payload));
        bytes
    }

    fn after(bytes: &[u8]) -> Opening {
        let mut opening = Opening::default();
        opening.advance(bytes);
        opening
    }

    #[test]
    fn nothing_sent_is_not_open() {
        assert_eq!(after(b""), Opening::Preface { matched: 0 });
    }

    #[test]
    fn one_byte_of_the_preface_is_not_open() {
        assert_eq!(after(b"P"), Opening::Preface { matched: 1 });
    }

    #[test]
    fn all_but_the_last_preface_byte_is_not_open() {
        assert_eq!(after(&PREFACE[..23]), Opening::Preface { matched: 23 });
    }

    #[test]
    fn the_preface_alone_is_not_open() {
        assert!(matches!(
            after(PREFACE),
            Opening::FrameHeader { have: 0, .. }
        ));
    }

    #[test]
    fn the_preface_and_part_of_a_frame_header_is_not_open() {
        let opening = http2_opening(0);
        assert!(matches!(
            after(&opening[..PREFACE.len() + 5]),
            Opening::FrameHeader { have: 5, .. }
        ));
    }

    #[test]
    fn the_preface_and_an_empty_settings_frame_is_open() {
        assert!(after(&http2_opening(0)).is_open());
    }

    #[test]
    fn a_settings_frame_is_open_only_with_its_whole_payload() {
        let opening = http2_opening(12);
        assert_eq!(
            after(&opening[..opening.len() - 1]),
            Opening::SettingsPayload { left: 1 }
        );
        assert!(after(&opening).is_open());
    }

    #[test]
    fn a_first_frame_other_than_settings_ends_the_opening_for_the_server_to_refuse() {
        let mut bytes = PREFACE.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0x6, 0, 0, 0, 0, 0]);
        assert!(after(&bytes).is_open());
    }

    fn is_http1_head(opening: &Opening) -> bool {
        matches!(opening, Opening::Http1Head { .. })
    }

    #[test]
    fn an_http1_request_head_is_open_at_its_blank_line() {
        let head = b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-type: application/grpc-web\r\n\r\n";
        assert!(is_http1_head(&after(&head[..head.len() - 1])));
        assert!(after(head).is_open());
    }

    #[test]
    fn an_http1_head_that_stops_mid_header_is_not_open() {
        assert!(is_http1_head(&after(
            b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-"
        )));
    }

    #[test]
    fn a_head_that_starts_like_the_preface_is_read_as_http1() {
        assert!(is_http1_head(&after(b"PRI * HTTP/1.1\r\nhost: a\r\n")));
        assert!(after(b"PRI * HTTP/1.1\r\nhost: a\r\n\r\n").is_open());
    }

    #[test]
    fn a_lone_cr_lf_does_not_end_an_http1_head() {
        assert!(is_http1_head(&after(b"GET / HTTP/1.1\r\n\r\r\n")));
    }

    #[test]
    fn a_head_framed_by_both_content_length_and_transfer_encoding_is_refused() {
        for framing in [
            "Content-Length: 5\r\nTransfer-Encoding: chunked",
            "transfer-encoding: chunked\r\ncontent-length: 5",
        ] {
            let head = format!("POST /x HTTP/1.1\r\nhost: a\r\n{framing}\r\n\r\n");
            assert_eq!(
                after(head.as_bytes()),
                Opening::Refused(Refusal::AmbiguousLength),
                "{framing}"
            );
        }
    }

    #[test]
    fn a_head_framed_by_one_length_is_open() {
        for framing in ["Content-Length: 5", "Transfer-Encoding: chunked"] {
            let head = format!("POST /x HTTP/1.1\r\nhost: a\r\n{framing}\r\n\r\n");
            assert!(after(head.as_bytes()).is_open(), "{framing}");
        }
    }

    #[test]
    fn a_head_as_long_as_the_bound_is_open() {
        let start = b"GET / HTTP/1.1\r\nx: ";
        let padding = MAX_HTTP1_HEAD - start.len() - HEAD_END.len();
        let head = [&start[..], &vec![b'p'; padding], HEAD_END].concat();
        assert_eq!(head.len(), MAX_HTTP1_HEAD);
        assert!(after(&head).is_open());
    }

    #[test]
    fn a_head_past_the_bound_is_refused() {
        let start = b"GET / HTTP/1.1\r\nx: ";
        let padding = MAX_HTTP1_HEAD - start.len() - HEAD_END.len() + 1;
        let head = [&start[..], &vec![b'p'; padding], HEAD_END].concat();
        assert_eq!(after(&head), Opening::Refused(Refusal::HeadTooLarge));
        let unended = vec![b'G'; MAX_HTTP1_HEAD + 1];
        assert_eq!(after(&unended), Opening::Refused(Refusal::HeadTooLarge));
    }

    #[test]
    fn bytes_after_the_head_are_left_to_the_server() {
        let mut opening = Opening::default();
        opening.advance(b"POST /x HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello");
        assert!(opening.is_open());
    }

    proptest! {
        /// However the peer's bytes are split across reads, the opening
        /// is where it is when they arrive at once, and ends exactly at
        /// its last byte.
        #[test]
        fn splitting_the_bytes_never_changes_the_opening(
            payload in 0usize..40,
            cuts in proptest::collection::vec(0usize..80, 0..8),
            http1 in any::<bool>(),
        ) {
            let (bytes, ends_at) = if http1 {
                let head = b"POST /a HTTP/1.1\r\nx: \r\n\r\n";
                ([&head[..], b"trailing"].concat(), head.len())
            } else {
                let opening = http2_opening(payload);
                let ends_at = opening.len();
                ([&opening[..], b"more"].concat(), ends_at)
            };
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut opening = Opening::default();
            let mut start = 0;
            for end in cuts.into_iter().chain([bytes.len()]) {
                opening.advance(&bytes[start..end]);
                start = end;
                prop_assert_eq!(&opening, &after(&bytes[..end]));
                prop_assert_eq!(opening.is_open(), end >= ends_at);
            }
            prop_assert!(!after(&bytes[..ends_at - 1]).is_open());
        }
    }

    const DEADLINE: Duration = Duration::from_secs(10);

    /// A watched server side and its peer, counting timeout reports.
    fn watched() -> (
        OpeningDeadline<tokio::io::DuplexStream>,
        tokio::io::DuplexStream,
        Arc<AtomicUsize>,
    ) {
        let (server, peer) = duplex(4096);
        let reports = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&reports);
        let watched = OpeningDeadline::new(server, Instant::now() + DEADLINE, move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        (watched, peer, reports)
    }

    #[tokio::test(start_paused = true)]
    async fn one_byte_does_not_disarm_the_deadline() {
        let (mut server, mut peer, reports) = watched();
        peer.write_all(b"P").await.unwrap();
        server.read_exact(&mut [0; 1]).await.unwrap();
        let error = server.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(
            error.to_string().contains("part of the HTTP/2 preface"),
            "{error}"
        );
        assert_eq!(reports.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_drips_its_preface_past_the_deadline_is_closed() {
        let (mut server, mut peer, _reports) = watched();
        let dripping = tokio::spawn(async move {
            for byte in PREFACE {
                peer.write_all(&[*byte]).await.unwrap();
                tokio::time::sleep(DEADLINE / 8).await;
            }
            peer
        });
        let mut buf = [0; 64];
        let error = loop {
            match server.read(&mut buf).await {
                Ok(_) => continue,
                Err(error) => break error,
            }
        };
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        dripping.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn an_opened_connection_outlives_the_deadline() {
        let (mut server, mut peer, reports) = watched();
        let opening = http2_opening(6);
        peer.write_all(&opening).await.unwrap();
        let mut got = vec![0; opening.len()];
        server.read_exact(&mut got).await.unwrap();
        let next = tokio::time::timeout(DEADLINE * 3, server.read(&mut [0; 1])).await;
        assert!(next.is_err(), "still waiting for the peer: {next:?}");
        assert_eq!(reports.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_closed_at_the_deadline() {
        let (mut server, _peer, _reports) = watched();
        let error = server.read(&mut [0; 1]).await.unwrap_err();
        assert!(error.to_string().contains("nothing sent"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_ambiguously_framed_head_is_answered_400_and_never_reaches_the_server() {
        let (mut server, mut peer, _reports) = watched();
        let start = b"POST /x HTTP/1.1\r\ncontent-length: 5\r\n";
        peer.write_all(start).await.unwrap();
        let mut got = vec![0; start.len()];
        server.read_exact(&mut got).await.unwrap();
        peer.write_all(b"transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            .await
            .unwrap();
        let refused = server.read(&mut [0; 256]).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidData);
        let mut answer = String::new();
        peer.read_to_string(&mut answer).await.unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn writes_pass_through() {
        let (mut server, mut peer, _reports) = watched();
        server.write_all(b"settings").await.unwrap();
        server.flush().await.unwrap();
        let mut got = [0; 8];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"settings");
        server.shutdown().await.unwrap();
        assert_eq!(peer.read(&mut got).await.unwrap(), 0);
    }

    #[test]
    fn part_of_the_preface_is_not_open() {
        assert!(!after(b"PRI * HTTP/2.0").is_open());
    }

    #[test]
    fn a_settings_frame_length_is_read_from_all_three_bytes() {
        let opening = http2_opening(0x01_02_03);
        assert_eq!(
            after(&opening[..opening.len() - 1]),
            Opening::SettingsPayload { left: 1 }
        );
        assert!(after(&opening).is_open());
    }

    #[test]
    fn bytes_after_the_opening_in_the_same_read_are_left_for_the_server() {
        let mut bytes = http2_opening(6);
        bytes.extend_from_slice(&[0, 0, 4, 1, 4, 0, 0, 0, 1]);
        assert!(after(&bytes).is_open());
    }

    #[test]
    fn a_head_as_long_as_the_bound_without_its_end_is_still_read() {
        let head = vec![b'a'; MAX_HTTP1_HEAD];
        assert!(matches!(after(&head), Opening::Http1Head { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn the_timeout_report_names_where_the_peer_stopped() {
        let (server, mut peer) = duplex(4096);
        let stage = Arc::new(std::sync::Mutex::new(None));
        let reported = Arc::clone(&stage);
        let mut server =
            OpeningDeadline::new(server, Instant::now() + DEADLINE, move |timed_out| {
                *reported.lock().unwrap() = Some(timed_out.stage());
            });
        peer.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut read = [0; 64];
        while server.read(&mut read).await.is_ok() {}
        assert_eq!(
            *stage.lock().unwrap(),
            Some("part of an HTTP/1.1 request head")
        );
    }
}
