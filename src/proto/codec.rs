//! The codec of every generated service: prost's, with smaller buffers.
//!
//! tonic allocates an encoding buffer per call and keeps it for the call's
//! life, and it encodes every message that is ready into that one buffer
//! before it sends any. Its defaults (8 KiB, and up to 32 KiB before it
//! sends) suit a few large calls; a watch is the opposite, thousands of
//! streams that each send a few small messages for hours, and each held
//! its whole initial list encoded (BENCHMARKS.md, the sessions watch).

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// The first allocation of a call's encoding buffer, which grows past it
/// for larger messages: a small response fits, a large one grows it once.
const ENCODE_BUFFER: usize = 1024;

/// How many encoded bytes tonic gathers before it hands them on to be sent:
/// a message or a few of a stream's small ones, so that what a stream holds
/// stays near this size however many of its messages are ready.
const SEND_AFTER: usize = 1024;

/// prost's codec with [`ENCODE_BUFFER`] and [`SEND_AFTER`] for responses;
/// requests decode as tonic's default does.
#[derive(Debug, Clone)]
pub struct SmallBuffers<T, U>(ProstCodec<T, U>);

impl<T, U> Default for SmallBuffers<T, U> {
    fn default() -> Self {
        Self(ProstCodec::default())
    }
}

impl<T, U> Codec for SmallBuffers<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::new(ENCODE_BUFFER, SEND_AFTER))
    }

    fn decoder(&mut self) -> Self::Decoder {
        self.0.decoder()
    }
}

#[cfg(test)]
mod tests {
    use tonic::codec::Encoder;

    use super::*;

    #[test]
    fn responses_start_in_a_kib_and_are_sent_after_one() {
        let settings = SmallBuffers::<(), ()>::default()
            .encoder()
            .buffer_settings();
        let expected = BufferSettings::new(1024, 1024);
        assert_eq!(format!("{settings:?}"), format!("{expected:?}"));
    }
}
