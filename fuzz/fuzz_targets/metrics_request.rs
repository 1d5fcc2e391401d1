#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ontap_grpc_gateway::fuzzing::metrics_request(data));
