//! Compiles the protobuf contract with protox (no system `protoc` needed),
//! writes the encoded descriptor set for server reflection, generates the
//! tonic/prost code from that same descriptor set, and derives from it each
//! listed resource's description (`build/resources.rs`), the glue of the
//! standard RPCs (`build/engine.rs`) and their gRPC edge
//! (`build/services.rs`).

#[path = "build/engine.rs"]
mod engine;
#[path = "build/resources.rs"]
mod resources;
#[path = "build/services.rs"]
mod services;

use std::path::PathBuf;

use prost::Message;

/// Where the gateway's own contract lives: every `.proto` file here is
/// compiled, so adding a service is adding its file.
const CONTRACT: &str = "proto/ontap/v1";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(proto_files()?)?;
    let descriptors = compiler.file_descriptor_set();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("ontap_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    let pool = compiler.descriptor_pool();
    std::fs::write(out_dir.join("resources.rs"), resources::generate(&pool))?;
    std::fs::write(out_dir.join("services.rs"), services::generate(&pool))?;
    tonic_prost_build::configure()
        .codec_path("crate::proto::codec::SmallBuffers")
        .compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed={CONTRACT}");
    println!("cargo:rerun-if-changed=build");
    Ok(())
}

/// The contract's files, in name order so that the output is the same
/// wherever it is built.
fn proto_files() -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(CONTRACT)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "proto") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
