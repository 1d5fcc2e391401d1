//! Compiles the protobuf contract with protox (no system `protoc` needed),
//! writes the encoded descriptor set for server reflection, and generates
//! the tonic/prost code from that same descriptor set.

use std::path::PathBuf;

use prost::Message;

const PROTO_FILES: &[&str] = &[
    "proto/ontap/v1/common.proto",
    "proto/ontap/v1/cifs_connections.proto",
    "proto/ontap/v1/iscsi_services.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptors = protox::compile(PROTO_FILES, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("ontap_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
