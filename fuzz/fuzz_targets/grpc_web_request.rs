#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ontap_grpc_gateway::fuzzing::grpc_web_request(data));
