//! Compiles the protobuf contract with protox (no system `protoc` needed),
//! writes the encoded descriptor set for server reflection, generates the
//! tonic/prost code from that same descriptor set, and derives each listed
//! resource's description from it (`build/resources.rs`).

#[path = "build/resources.rs"]
mod resources;

use std::path::PathBuf;

use prost::Message;

const PROTO_FILES: &[&str] = &[
    "proto/ontap/v1/annotations.proto",
    "proto/ontap/v1/common.proto",
    "proto/ontap/v1/cifs_connections.proto",
    "proto/ontap/v1/iscsi_services.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(PROTO_FILES)?;
    let descriptors = compiler.file_descriptor_set();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("ontap_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    std::fs::write(
        out_dir.join("resources.rs"),
        resources::generate(&compiler.descriptor_pool()),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=build");
    Ok(())
}
