//! The build's generators (`build/resources.rs`, `build/engine.rs`,
//! `build/services.rs`) on small contracts: what they derive from a
//! contract, the endpoint docs/adding-an-endpoint.md shows included, and the
//! contracts they refuse, naming the field, so that a mistake in a `.proto`
//! fails the build rather than a call.

#[path = "../../build/engine.rs"]
mod engine;
#[path = "../../build/resources.rs"]
mod resources;
#[path = "../../build/services.rs"]
mod services;

use std::panic::{AssertUnwindSafe, catch_unwind};

/// A List RPC over `Widget`, with `messages` (the resource and the List
/// request/response) spliced in.
fn contract(messages: &str) -> String {
    format!(
        r#"syntax = "proto3";
package ontap.v1;
import "google/api/field_behavior.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/timestamp.proto";
import "ontap/v1/annotations.proto";
service Widgets {{
  rpc ListWidgets(ListWidgetsRequest) returns (ListWidgetsResponse);
}}
message ListWidgetsRequest {{
  string name = 1;
  google.protobuf.FieldMask read_mask = 2;
  repeated string order_by = 3;
  int32 page_size = 4;
  string page_token = 5;
  optional uint32 return_timeout_seconds = 6;
  bool count_only = 7;
  string parent_uuid = 8 [(google.api.field_behavior) = REQUIRED];
}}
{messages}"#
    )
}

const WIDGET: &str = r#"
message Widget {
  optional string name = 1 [(ontap.v1.rest).max_length = 8];
  optional uint64 size = 2;
  google.protobuf.Timestamp made = 3;
  repeated Part parts = 4;
  optional Shade shade = 5;
  optional string shade_text = 6 [(ontap.v1.rest).gateway_only = true];
}
message Part { optional string uuid = 1 [(ontap.v1.rest).format = STRING_FORMAT_UUID]; }
enum Shade { SHADE_UNSPECIFIED = 0; SHADE_DARK = 1; SHADE_LIGHT_GREY = 2; }
"#;

const RESPONSE: &str = r#"
message ListWidgetsResponse {
  repeated Widget widgets = 1;
  string next_page_token = 2;
  uint32 num_records = 3;
  optional int32 total_size = 4;
}
"#;

/// The generated source for `proto`, compiled with the repository's own
/// annotations and vendored Google files.
fn generate(proto: &str) -> Source {
    Source(resources::generate(&pool(proto)))
}

/// The generated gRPC edge for `proto` (`build/services.rs`).
fn generate_services(proto: &str) -> Source {
    Source(services::generate(&pool(proto)))
}

/// `proto`, compiled with the repository's own annotations and vendored
/// Google files.
fn pool(proto: &str) -> prost_reflect::DescriptorPool {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("widgets.proto"), proto).unwrap();
    let mut compiler = protox::Compiler::new([dir.path(), std::path::Path::new("proto")]).unwrap();
    compiler.include_imports(true);
    compiler.open_file("widgets.proto").unwrap();
    compiler.descriptor_pool()
}

/// Generated source, searched regardless of layout: prettyplease decides
/// where a line breaks and so where a list's last comma goes, which these
/// tests do not pin.
#[derive(Debug)]
struct Source(String);

impl Source {
    /// Whether `snippet` occurs, both read without whitespace or a comma
    /// that only ends a list.
    fn contains(&self, snippet: &str) -> bool {
        without_layout(&self.0).contains(without_layout(snippet).trim_end_matches(','))
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn without_layout(source: &str) -> String {
    let mut compact: String = source.split_whitespace().collect();
    for close in [")", "]", "}"] {
        compact = compact.replace(&format!(",{close}"), close);
    }
    compact
}

/// The message `generate` panics with.
fn refusal(proto: &str) -> String {
    refusal_of(|| {
        generate(proto);
    })
}

/// The message `generate_services` panics with.
fn services_refusal(proto: &str) -> String {
    refusal_of(|| {
        generate_services(proto);
    })
}

/// The message `generator` panics with.
fn refusal_of(generator: impl FnOnce()) -> String {
    let panic = catch_unwind(AssertUnwindSafe(generator)).expect_err("refused");
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap()
}

#[test]
fn fields_are_described_with_their_kinds() {
    let source = generate(&contract(&format!("{WIDGET}{RESPONSE}")));
    for line in [
        r#"Field::new("name", ValueKind::BoundedText { max_chars: 8 }),"#,
        r#"Field::new("size", ValueKind::Unsigned),"#,
        r#"Field::new("made", ValueKind::Timestamp),"#,
        r#"Field::new("parts", ValueKind::Object),"#,
        r#"Field::new("parts.uuid", ValueKind::Uuid),"#,
        r#"Field::new("shade", ValueKind::Enum(&SHADE)),"#,
    ] {
        assert!(source.contains(line), "{line} missing from\n{source}");
    }
    assert!(!source.contains(r#"Field::new("shade_text""#));
}

#[test]
fn enum_words_are_lower_case_without_the_prefix_beside_their_numbers() {
    let source = generate(&contract(&format!("{WIDGET}{RESPONSE}")));
    assert!(
        source.contains(r#"words: &["dark", "light_grey"],"#),
        "{source}"
    );
    assert!(source.contains("numbers: &[1, 2],"), "{source}");
}

#[test]
fn each_json_key_has_its_reader() {
    let source = generate(&contract(&format!("{WIDGET}{RESPONSE}")));
    for line in [
        r#""name" => self.name = wire::text(map)?,"#,
        r#""size" => self.size = wire::integer(map)?,"#,
        r#""made" => self.made = wire::timestamp(map)?,"#,
        r#""parts" => self.parts = wire::messages(map)?,"#,
        r#""shade" => (self.shade, self.shade_text) = wire::word(map, &SHADE)?,"#,
        r#""uuid" => self.uuid = wire::text(map)?,"#,
    ] {
        assert!(source.contains(line), "{line} missing from\n{source}");
    }
}

#[test]
fn a_gateway_only_text_follows_its_enums_selection() {
    let source = generate(&contract(&format!("{WIDGET}{RESPONSE}")));
    assert!(source.contains(r#"wire::keep(&mut self.shade_text, "shade", selection);"#));
    assert!(source.contains(r#"wire::keep_messages(&mut self.parts, "parts", selection);"#));
}

#[test]
fn a_filter_field_filters_the_resource_field_it_is_named_after() {
    let source = generate(&contract(&format!("{WIDGET}{RESPONSE}")));
    assert!(
        source.contains(r#"("name", self.name.as_str()),"#),
        "{source}"
    );
    assert!(
        !source.contains("self.parent_uuid.as_str()"),
        "a path parameter"
    );
    assert!(source.contains("widgets: page.records,"));
}

#[test]
fn a_filter_on_no_field_of_the_resource_is_refused() {
    let proto =
        contract(&format!("{WIDGET}{RESPONSE}")).replace("string name = 1;", "string colour = 1;");
    let why = refusal(&proto);
    assert!(
        why.contains("ListWidgetsRequest.colour filters no field"),
        "{why}"
    );
}

#[test]
fn a_scalar_without_presence_is_refused() {
    let why = refusal(&contract(&format!(
        "{}{RESPONSE}",
        WIDGET.replace("optional uint64 size", "uint64 size")
    )));
    assert!(why.contains("ontap.v1.Widget.size"), "{why}");
    assert!(why.contains("optional"), "{why}");
}

#[test]
fn a_gateway_only_field_that_is_no_enums_text_is_refused() {
    let why = refusal(&contract(&format!(
        "{}{RESPONSE}",
        WIDGET.replace("shade_text = 6", "colour_text = 6")
    )));
    assert!(why.contains("ontap.v1.Widget.colour_text"), "{why}");
}

#[test]
fn a_list_response_with_more_than_a_page_is_refused() {
    let why = refusal(&contract(&format!(
        "{WIDGET}{}",
        RESPONSE.replace(
            "optional int32 total_size = 4;",
            "optional int32 total_size = 4; string note = 5;"
        )
    )));
    assert!(why.contains("ListWidgetsResponse.note"), "{why}");
}

#[test]
fn excluded_fields_leave_a_shared_message_out_at_that_place() {
    let proto = contract(&format!(
        "{WIDGET}{RESPONSE}
message Box {{
  Widget inner = 1 [(ontap.v1.rest).excluded_fields = \"size\"];
}}
service Boxes {{ rpc GetBox(GetBoxRequest) returns (Box); }}
message GetBoxRequest {{ string uuid = 1; }}"
    ));
    let source = generate(&proto);
    assert!(source.contains(r#"Field::new("inner.name","#), "{source}");
    assert!(!source.contains(r#"Field::new("inner.size","#), "{source}");
    assert!(source.contains(r#"Field::new("size","#), "{source}");
}

/// The contract `docs/adding-an-endpoint.md` shows.
fn documented_endpoint() -> String {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/adding-an-endpoint.md"),
    )
    .unwrap();
    let start = doc.find("```proto\n").expect("the doc shows a contract") + "```proto\n".len();
    let end = start + doc[start..].find("```").expect("the contract ends");
    doc[start..end].to_owned()
}

#[test]
fn the_documented_endpoint_is_a_whole_generated_service() {
    let source = generate_services(&documented_endpoint());
    for snippet in [
        "pub struct WidgetsService {",
        "impl crate::proto::v1::widgets_server::Widgets for WidgetsService {",
        "async fn list_widgets(",
        "super::call(&self.clusters, request, crate::translate::collection::list).await",
        "super::call(&self.clusters, request, crate::translate::instance::get).await",
        "super::call(&self.clusters, request, crate::translate::instance::delete).await",
        "type StreamWidgetsStream = Messages<crate::proto::v1::StreamWidgetsResponse>;",
        "standard::watch(&self.clusters, &self.watches, request).await",
        r#"pub const API_SERVICES: &[&str] = &["ontap.v1.Widgets"];"#,
        ".with(crate::proto::v1::widgets_server::WidgetsServer::new(",
        "impl SvmScoped for crate::proto::v1::GetWidgetRequest {",
        r#"[("svm_uuid", &self.svm_uuid), ("svm_name", "")]"#,
        "impl WatchMessage for crate::proto::v1::WatchWidgetsResponse {",
    ] {
        assert!(source.contains(snippet), "{snippet} missing from\n{source}");
    }
}

#[test]
fn the_documented_resource_names_its_collection_keys_and_requests() {
    let source = generate(&documented_endpoint());
    for snippet in [
        "impl Resource for crate::proto::v1::Widget {",
        r#"const COLLECTION: CollectionPath = ApiPath::collection("/api/storage/widgets");"#,
        r#"const KEYS: &'static [&'static str] = &["svm.uuid", "name"];"#,
        r#"const INSTANCE: &'static str = "/api/storage/widgets/{svm.uuid}/{name}";"#,
        "KeyPart::Text(self.svm.as_ref().and_then(|v| v.uuid.clone()).unwrap_or_default())",
        "impl ListedBy for crate::proto::v1::WatchWidgetsRequest {",
        "fn poll_interval(&self) -> Option<&prost_types::Duration> { self.poll_interval.as_ref() }",
        "impl ListedBy for crate::proto::v1::StreamWidgetsRequest {",
        "read_mask: self.read_mask.clone()",
        "return_timeout_seconds: self.return_timeout_seconds,",
        "impl InstanceRequest for crate::proto::v1::DeleteWidgetRequest {",
        r#"("name", KeyPart::Text(self.name.clone()))"#,
        "fn read_mask(&self) -> &[String] { &[] }",
    ] {
        assert!(source.contains(snippet), "{snippet} missing from\n{source}");
    }
}

#[test]
fn a_service_with_an_rpc_of_another_shape_is_left_to_be_written_by_hand() {
    let proto = documented_endpoint().replace(
        "  // Gets one widget.",
        "  rpc CreateWidget(Widget) returns (Widget);\n  // Gets one widget.",
    );
    let source = generate_services(&proto);
    assert!(!source.contains("pub struct WidgetsService"), "{source}");
    assert!(
        source.contains("crate::service::WidgetsService::new("),
        "register adds it all the same:\n{source}"
    );
}

#[test]
fn a_key_that_names_no_field_is_refused() {
    let proto = documented_endpoint().replace(
        r#"keys: ["svm.uuid", "name"]"#,
        r#"keys: ["svm.uuid", "nmae"]"#,
    );
    let why = refusal(&proto);
    assert!(why.contains("the key `nmae` names no field"), "{why}");
}

#[test]
fn a_key_through_a_repeated_field_is_refused() {
    let proto = documented_endpoint()
        .replace("  SvmRef svm = 1;", "  repeated SvmRef svm = 1;")
        .replace(r#"keys: ["svm.uuid", "name"]"#, r#"keys: ["svm.uuid"]"#);
    let why = refusal(&proto);
    assert!(
        why.contains("goes through the repeated field `svm`"),
        "{why}"
    );
}

#[test]
fn a_get_without_a_field_for_a_key_is_refused() {
    let proto = documented_endpoint().replace(
        "message GetWidgetRequest {\n  // Its SVM's UUID.\n  string svm_uuid = 1",
        "message GetWidgetRequest {\n  // Its SVM's UUID.\n  string svm = 1",
    );
    let why = refusal(&proto);
    assert!(
        why.contains("GetWidgetRequest lacks the field `svm_uuid`"),
        "{why}"
    );
}

#[test]
fn a_watch_field_the_list_lacks_is_refused() {
    let proto = documented_endpoint().replace(
        "  google.protobuf.Duration poll_interval = 11;",
        "  google.protobuf.Duration poll_interval = 11;\n  string colour = 12;",
    );
    let why = refusal(&proto);
    assert!(
        why.contains("WatchWidgetsRequest.colour has no field of that name"),
        "{why}"
    );
}

#[test]
fn a_stream_field_of_another_type_than_the_lists_is_refused() {
    let proto = documented_endpoint().replace(
        "  // How long ONTAP may spend on each page.\n  optional uint32 return_timeout_seconds = 9;",
        "  // How long ONTAP may spend on each page.\n  optional uint64 return_timeout_seconds = 9;",
    );
    let why = refusal(&proto);
    assert!(
        why.contains("StreamWidgetsRequest.return_timeout_seconds is not of the type"),
        "{why}"
    );
}

#[test]
fn a_watch_whose_events_are_numbered_otherwise_is_refused() {
    let proto = documented_endpoint().replace(
        "WIDGET_EVENT_TYPE_REMOVED = 2;",
        "WIDGET_EVENT_TYPE_REMOVED = 5;",
    );
    let why = services_refusal(&proto);
    assert!(why.contains("WIDGET_EVENT_TYPE_REMOVED"), "{why}");
}

#[test]
fn a_watch_compares_every_field_but_the_volatile_ones() {
    let source = generate(&documented_endpoint());
    assert!(
        source.contains("self.name != other.name || self.size != other.size"),
        "{source}"
    );
    let proto = documented_endpoint().replace(
        "optional uint64 size = 3;",
        "optional uint64 size = 3 [(ontap.v1.rest).volatile = true];",
    );
    let source = generate(&proto);
    assert!(source.contains("self.name != other.name"), "{source}");
    assert!(!source.contains("self.size != other.size"), "{source}");
}
