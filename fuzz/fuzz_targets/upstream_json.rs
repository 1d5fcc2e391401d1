#![no_main]

use ontap_grpc_gateway::ontap::Response;
use ontap_grpc_gateway::proto::v1::CifsConnection;
use ontap_grpc_gateway::translate::wire::OntapJson;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ontap_grpc_gateway::fuzzing::upstream_json(data);
    // The first byte is a page's `max_records`: whatever the rest says, a
    // page read holds no more records than that, and no count but theirs.
    let Some((&max_records, body)) = data.split_first() else {
        return;
    };
    let response = Response {
        status: 200,
        body: body.to_vec().into(),
        ..Response::default()
    };
    if let Ok(page) = response.collection::<OntapJson<CifsConnection>>(u32::from(max_records)) {
        assert!(page.records.len() <= usize::from(max_records));
        if !page.records.is_empty() {
            assert!(
                page.num_records
                    .is_none_or(|n| n == page.records.len() as u64)
            );
        }
    }
});
