//! The generated protobuf types and services, and the descriptor set that
//! server reflection serves.

pub mod codec;

/// Package `ontap.v1`.
pub mod v1 {
    tonic::include_proto!("ontap.v1");
}

/// The encoded `FileDescriptorSet` of every proto file, imports included.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/ontap_descriptor.bin"));
