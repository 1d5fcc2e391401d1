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

/// The methods of the gateway's own services (`ListCifsSessions`, ...), as
/// a policy names them: read from the descriptor set, so a new service's
/// methods are known with no list to keep.
pub fn api_methods() -> Vec<String> {
    use prost::Message;
    let Ok(set) = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET) else {
        return Vec::new();
    };
    let mut methods: Vec<String> = set
        .file
        .iter()
        .filter(|file| file.package() == "ontap.v1")
        .flat_map(|file| &file.service)
        .flat_map(|service| &service.method)
        .map(|method| method.name().to_owned())
        .collect();
    methods.sort();
    methods.dedup();
    methods
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_api_methods_are_every_rpc_of_the_contract_and_nothing_else() {
        let methods = super::api_methods();
        for method in [
            "ListCifsSessions",
            "DeleteCifsSession",
            "CreateIscsiService",
        ] {
            assert!(methods.iter().any(|m| m == method), "{method}");
        }
        assert!(!methods.iter().any(|m| m == "Check" || m == "Watch"));
    }
}
