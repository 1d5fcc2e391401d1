//! The contract as polyglot teams consume it: `protoc` generates Java, C#,
//! PHP, Ruby, Objective-C and Python from `proto/` with no flags beyond the
//! output directories, every file carries the options Go's generator needs,
//! and stubs generated for Python drive the real gateway.

mod common;

use std::path::Path;

use common::Harness;
use common::tools::{grpc_python_protoc, node, protoc, python, stdout_of};
use ontap_grpc_gateway::proto::FILE_DESCRIPTOR_SET;
use prost::Message;

const CONTRACT: &[&str] = &[
    "proto/ontap/v1/annotations.proto",
    "proto/ontap/v1/common.proto",
    "proto/ontap/v1/cifs_connections.proto",
    "proto/ontap/v1/iscsi_services.proto",
];

/// `-Iproto`, one `--<out>=<dir>/<out>` per output, then the contract.
fn protoc_args(dir: &Path, outputs: &[&str]) -> Vec<String> {
    let mut args = vec!["-Iproto".to_owned()];
    for out in outputs {
        let lang = out.trim_end_matches("_out");
        let lang = lang.strip_prefix("grpc_").unwrap_or(lang);
        std::fs::create_dir_all(dir.join(lang)).unwrap();
        args.push(format!("--{out}={}", dir.join(lang).display()));
    }
    args.extend(CONTRACT.iter().map(|f| (*f).to_owned()));
    args
}

#[test]
fn protoc_generates_each_language_into_its_conventional_package() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = [
        "java_out",
        "csharp_out",
        "php_out",
        "ruby_out",
        "objc_out",
        "python_out",
    ];
    stdout_of(&protoc(&protoc_args(dir.path(), &outputs)));
    for generated in [
        "java/com/github/ontapgrpcgateway/ontap/v1/IscsiService.java",
        "csharp/IscsiServices.cs",
        "php/Ontap/V1/IscsiService.php",
        "ruby/ontap/v1/iscsi_services_pb.rb",
        "objc/ontap/v1/IscsiServices.pbobjc.h",
        "python/ontap/v1/iscsi_services_pb2.py",
    ] {
        assert!(dir.path().join(generated).is_file(), "{generated}");
    }
    let csharp = std::fs::read_to_string(dir.path().join("csharp/IscsiServices.cs")).unwrap();
    assert!(csharp.contains("namespace Ontap.V1"));
}

#[test]
fn every_contract_file_carries_the_options_each_generator_reads() {
    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
    let contract: Vec<_> = set
        .file
        .iter()
        .filter(|f| f.package() == "ontap.v1")
        .collect();
    assert_eq!(contract.len(), CONTRACT.len());
    for file in contract {
        let options = file.options.as_ref().expect("file options");
        assert_eq!(
            options.go_package(),
            "github.com/ontap-grpc-gateway/ontap-grpc-gateway/gen/go/ontap/v1;ontapv1",
            "{}",
            file.name()
        );
        assert_eq!(
            options.java_package(),
            "com.github.ontapgrpcgateway.ontap.v1"
        );
        assert!(options.java_multiple_files());
        assert!(options.java_outer_classname().ends_with("Proto"));
        assert_eq!(options.csharp_namespace(), "Ontap.V1");
        assert_eq!(options.php_namespace(), "Ontap\\V1");
        assert_eq!(options.ruby_package(), "Ontap::V1");
        assert_eq!(options.objc_class_prefix(), "OVX");
    }
}

#[tokio::test]
async fn python_stubs_generated_by_protoc_run_the_iscsi_story() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&grpc_python_protoc(&protoc_args(
        dir.path(),
        &["python_out", "grpc_python_out"],
    )));
    let stubs = dir.path().join("python").display().to_string();
    let addr = h.gateway.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&python("generated_stubs_client.py", &[&stubs, &addr]))
    })
    .await
    .unwrap();
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(summary["created_type"], "IscsiService");
    assert_eq!(summary["created_alias"], "svm1");
    assert_eq!(summary["updated"]["enabled"], false);
    assert_eq!(summary["updated"]["target"]["alias"], "from-python");
    assert_eq!(summary["got_enabled"], false);
    assert_eq!(summary["counted_has_total"], true);
    assert_eq!(summary["total_size"], 2, "svm1's and svm2's services");
    assert_eq!(summary["deleted_type"], "google.protobuf.Empty");
}

#[tokio::test]
async fn node_client_loading_the_protos_at_run_time_runs_the_iscsi_story() {
    let h = Harness::start().await;
    let proto_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("proto")
        .display()
        .to_string();
    let addr = h.gateway.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&node("iscsi_client.js", &[&proto_dir, &addr]))
    })
    .await
    .unwrap();
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(summary["created_alias"], "svm1");
    assert_eq!(summary["updated_enabled"], false);
    assert_eq!(summary["not_found"], true);
    assert_eq!(summary["deleted_keys"], serde_json::json!([]));
}
