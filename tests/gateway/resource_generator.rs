//! The build's resource generator (`build/resources.rs`) on small contracts:
//! what it derives from a List RPC, and the contracts it refuses, naming the
//! field, so that a mistake in a `.proto` fails the build rather than a call.

#[path = "../../build/engine.rs"]
mod engine;
#[path = "../../build/resources.rs"]
mod resources;

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
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("widgets.proto"), proto).unwrap();
    let mut compiler = protox::Compiler::new([dir.path(), std::path::Path::new("proto")]).unwrap();
    compiler.include_imports(true);
    compiler.open_file("widgets.proto").unwrap();
    Source(resources::generate(&compiler.descriptor_pool()))
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
    let panic = catch_unwind(AssertUnwindSafe(|| generate(proto))).expect_err("refused");
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
