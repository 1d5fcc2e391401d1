//! Every response fits the 4 MiB message a gRPC client receives at its
//! defaults (grpc-go, grpc-java and grpc-js refuse a larger one unless
//! told otherwise), whatever an ONTAP page holds: a page that would pass it
//! ends early with a `next_page_token`, as ONTAP's own pages do under
//! `return_timeout`, and a record that alone would pass it is refused
//! with a status that says so instead of a message the caller cannot read.

use prost::Message;
use prost::encoding::{encoded_len_varint, key_len};

use super::GatewayError;

/// The largest message the gateway sends: the default receive limit of
/// grpc-go (`defaultClientMaxReceiveMessageSize`) and grpc-java
/// (`DEFAULT_MAX_MESSAGE_SIZE`).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// What a page's records may take of a response. The rest of a List
/// response, its page token and counts, is far smaller than the 64 KiB
/// left: a token carries the cluster's name, the collection's path, a
/// 16-digit fingerprint of the query and ONTAP's `start.*` keys, signed.
pub const PAGE_RECORDS_BUDGET: usize = MAX_RESPONSE_BYTES - 64 * 1024;

/// The largest field number a response's repeated records field has: its
/// key then costs at most two bytes.
const MAX_RECORDS_FIELD: u32 = 2047;

/// What `record` costs as one element of a repeated message field.
pub fn element_len<T: Message>(record: &T) -> usize {
    let len = record.encoded_len();
    key_len(MAX_RECORDS_FIELD) + encoded_len_varint(len as u64) + len
}

/// How many of `records`, from the first, fit in `budget` bytes as the
/// elements of a repeated field.
pub fn records_within<T: Message>(records: &[T], budget: usize) -> usize {
    let mut used = 0;
    records
        .iter()
        .take_while(|record| {
            used += element_len(*record);
            used <= budget
        })
        .count()
}

/// `record`, if it fits in one response; otherwise the error a caller
/// gets instead of a message its client would refuse.
pub fn within_one_response<T: Message>(record: T) -> Result<T, GatewayError> {
    if element_len(&record) > PAGE_RECORDS_BUDGET {
        return Err(too_large(&record));
    }
    Ok(record)
}

/// The error for `record`, which is larger than a response may be.
pub fn too_large<T: Message>(record: &T) -> GatewayError {
    GatewayError::RecordTooLarge {
        bytes: element_len(record),
        limit: PAGE_RECORDS_BUDGET,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message of one bytes field, `size` bytes long.
    #[derive(Clone, PartialEq, Message)]
    struct Blob {
        #[prost(bytes = "vec", tag = "1")]
        data: Vec<u8>,
    }

    fn blob(size: usize) -> Blob {
        Blob {
            data: vec![7; size],
        }
    }

    /// The bytes a response of `records` as field `tag` really takes.
    #[derive(Clone, PartialEq, Message)]
    struct Page {
        #[prost(message, repeated, tag = "2047")]
        records: Vec<Blob>,
    }

    #[test]
    fn an_element_costs_what_prost_encodes_for_it_in_a_repeated_field_of_the_highest_number() {
        for size in [0, 1, 126, 127, 128, 16_383, 16_384, 1 << 20] {
            let page = Page {
                records: vec![blob(size)],
            };
            assert_eq!(element_len(&blob(size)), page.encoded_len(), "{size}");
        }
    }

    #[test]
    fn records_fit_while_their_sum_is_within_the_budget() {
        let records = vec![blob(100); 5];
        let each = element_len(&records[0]);
        assert_eq!(records_within(&records, 3 * each), 3);
        assert_eq!(records_within(&records, 3 * each - 1), 2);
        assert_eq!(records_within(&records, 3 * each + 1), 3);
        assert_eq!(records_within(&records, 100 * each), 5);
        assert_eq!(records_within(&records, 0), 0);
    }

    #[test]
    fn a_page_of_records_that_fit_encodes_within_the_default_receive_limit() {
        let records = vec![blob(300_000); 20];
        let fit = records_within(&records, PAGE_RECORDS_BUDGET);
        let page = Page {
            records: records[..fit].to_vec(),
        };
        assert!(page.encoded_len() <= PAGE_RECORDS_BUDGET);
        let one_more = Page {
            records: records[..=fit].to_vec(),
        };
        assert!(one_more.encoded_len() > PAGE_RECORDS_BUDGET);
    }

    #[test]
    fn a_list_response_of_records_filling_the_budget_fits_in_one_message() {
        use crate::proto::v1::{CifsConnection, ListCifsConnectionsResponse};
        let record = CifsConnection {
            client_ip: Some("10.74.7.1".repeat(10)),
            ..Default::default()
        };
        let records = vec![record; 50_000];
        let fit = records_within(&records, PAGE_RECORDS_BUDGET);
        let response = ListCifsConnectionsResponse {
            cifs_connections: records[..fit].to_vec(),
            // A token far longer than any the gateway signs, with the
            // largest counts.
            next_page_token: "t".repeat(60 * 1024),
            num_records: u32::MAX,
            total_size: Some(i32::MIN),
        };
        assert!(response.encoded_len() <= MAX_RESPONSE_BYTES);
        // The records fill the budget but for less than one of them, each
        // counted with a two-byte key where field 1's takes one.
        assert!(response.encoded_len() + fit > PAGE_RECORDS_BUDGET);
    }

    #[test]
    fn a_record_larger_than_a_response_is_refused_with_its_size() {
        // Two bytes of key, four of length, the blob's own key and length.
        let at_limit = PAGE_RECORDS_BUDGET - 11;
        assert_eq!(element_len(&blob(at_limit)), PAGE_RECORDS_BUDGET);
        assert!(within_one_response(blob(at_limit)).is_ok());
        match within_one_response(blob(at_limit + 1)) {
            Err(GatewayError::RecordTooLarge { bytes, limit }) => {
                assert_eq!(bytes, PAGE_RECORDS_BUDGET + 1);
                assert_eq!(limit, PAGE_RECORDS_BUDGET);
            }
            other => panic!("{other:?}"),
        }
    }
}
