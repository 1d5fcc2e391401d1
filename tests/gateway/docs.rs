//! The facts in `docs/` that code can check: the flags against `serve
//! --help`, the metrics against what the gateway exports, the call layers
//! against the order the server composes them, and every link between the
//! docs against the files and headings it points at.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ontap_grpc_gateway::layers::LAYERS;
use ontap_grpc_gateway::metrics::{Metrics, PageSizeChange};
use ontap_grpc_gateway::ontap::{ClientConfig, OntapClient};

const BINARY: &str = env!("CARGO_BIN_EXE_ontap-grpc-gateway");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `docs/*.md`, with its text.
fn docs() -> Vec<(PathBuf, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("a docs directory")
        .map(|entry| entry.expect("a readable directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = read(&path);
            (path, text)
        })
        .collect()
}

/// The lines of `text` outside fenced code blocks.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// A table row's cells, trimmed.
fn cells(row: &str) -> Vec<&str> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    row.split(" |").map(str::trim).collect()
}

/// The body rows of every table in `text` whose header's first cell is
/// `first`.
fn table_rows<'a>(text: &'a str, first: &str) -> Vec<Vec<&'a str>> {
    let mut rows = Vec::new();
    let mut lines = prose(text).peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with('|') || cells(line).first() != Some(&first) {
            continue;
        }
        lines.next(); // the | --- | line
        while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
            rows.push(cells(row));
        }
    }
    rows
}

/// The `--flag` words in `text`.
fn flags_in(text: &str) -> Vec<String> {
    text.split("--")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .map(|name| format!("--{name}"))
        .collect()
}

/// Each flag `serve --help` lists, with its default if it prints one.
fn serve_help() -> Vec<(String, Option<String>)> {
    let output = Command::new(BINARY)
        .args(["serve", "--help"])
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "serve --help fails");
    let help = String::from_utf8(output.stdout).expect("help is text");
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    for line in help.lines() {
        let indent = line.len() - line.trim_start().len();
        let words = line.trim_start();
        // Flags are indented less than their descriptions.
        if indent < 10 && words.starts_with('-') {
            let flag = flags_in(words).into_iter().next().expect("a --flag");
            flags.push((flag, None));
        } else if let (Some(default), Some(last)) =
            (words.strip_prefix("[default: "), flags.last_mut())
        {
            last.1 = Some(default.trim_end_matches(']').to_owned());
        }
    }
    flags.retain(|(flag, _)| flag != "--help");
    assert!(flags.len() > 20, "serve --help lists its flags: {flags:?}");
    flags
}

/// The flags the docs' flag tables name in their first column.
fn documented_flags() -> BTreeSet<String> {
    docs()
        .iter()
        .flat_map(|(_, text)| table_rows(text, "flag"))
        .flat_map(|row| flags_in(row[0]))
        .collect()
}

#[test]
fn every_flag_serve_help_lists_is_in_a_flag_table() {
    let documented = documented_flags();
    let missing: Vec<String> = serve_help()
        .into_iter()
        .map(|(flag, _)| flag)
        .filter(|flag| !documented.contains(flag))
        .collect();
    assert!(missing.is_empty(), "not in docs/flags.md: {missing:?}");
}

#[test]
fn every_flag_the_flag_tables_name_is_one_serve_help_lists() {
    let listed: BTreeSet<String> = serve_help().into_iter().map(|(flag, _)| flag).collect();
    let unknown: Vec<String> = documented_flags()
        .into_iter()
        .filter(|flag| !listed.contains(flag))
        .collect();
    assert!(unknown.is_empty(), "not flags of serve: {unknown:?}");
}

#[test]
fn the_flag_reference_gives_the_default_serve_help_prints() {
    let reference = read(&root().join("docs/flags.md"));
    let rows = table_rows(&reference, "flag");
    for (flag, default) in serve_help() {
        let Some(default) = default else { continue };
        let row = rows
            .iter()
            .find(|row| flags_in(row[0]).contains(&flag))
            .unwrap_or_else(|| panic!("{flag} has no row in docs/flags.md"));
        assert_eq!(row[1], format!("`{default}`"), "{flag}'s default");
    }
}

/// Each metric family the gateway exports, as the docs name it (a
/// counter's samples end in `_total`), with its kind.
fn exported_metrics() -> BTreeSet<(String, String)> {
    let metrics = Metrics::default();
    // A family is exported from its first sample on: one sample each.
    let took = Duration::from_millis(1);
    let cluster: Arc<str> = Arc::from("default");
    metrics.call(
        "ontap.v1.CifsConnections",
        "ListCifsConnections",
        tonic::Code::Ok,
        took,
    );
    metrics.upstream(
        &cluster,
        &http::Method::GET,
        "/api/cluster",
        Cow::Borrowed("200"),
        took,
    );
    metrics.page_size_changed(
        &cluster,
        "/api/protocols/cifs/connections",
        PageSizeChange::Shrink,
    );
    metrics.denied("token", "not_permitted");
    let text = metrics.render(0, 0);
    let families: BTreeSet<(String, String)> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .map(|family| {
            let (name, kind) = family.split_once(' ').expect("`# TYPE name kind`");
            let name = match kind {
                "counter" => format!("{name}_total"),
                _ => name.to_owned(),
            };
            (name, kind.to_owned())
        })
        .collect();
    let registered = include_str!("../../src/metrics.rs")
        .matches("registry.register")
        .count();
    assert_eq!(
        families.len(),
        registered,
        "a family src/metrics.rs registers has no sample here: {text}"
    );
    families
}

/// The rows of docs/metrics.md's table: each metric's name and kind (a
/// counter unless the row says otherwise).
fn documented_metrics() -> BTreeSet<(String, String)> {
    let doc = read(&root().join("docs/metrics.md"));
    table_rows(&doc, "metric")
        .iter()
        .map(|row| {
            let name = row[0].split('`').nth(1).expect("a `name`").to_owned();
            let kind = row[0]
                .split_once('(')
                .map_or("counter", |(_, kind)| kind.trim_end_matches(')'));
            (name, kind.to_owned())
        })
        .collect()
}

#[test]
fn every_metric_the_gateway_exports_is_documented_with_its_kind() {
    let documented = documented_metrics();
    let missing: Vec<_> = exported_metrics()
        .into_iter()
        .filter(|metric| !documented.contains(metric))
        .collect();
    assert!(missing.is_empty(), "not in docs/metrics.md: {missing:?}");
}

#[test]
fn the_docs_name_no_metric_the_gateway_does_not_export() {
    let exported = exported_metrics();
    let exported_names: BTreeSet<&str> = exported.iter().map(|(name, _)| name.as_str()).collect();
    for (path, text) in docs() {
        for mention in text.split("ontap_gateway_").skip(1) {
            let rest: String = mention
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let name = format!("ontap_gateway_{rest}");
            // A histogram's samples: its buckets, sum and count.
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|family| exported.contains(&(family.to_string(), "histogram".into())));
            assert!(
                exported_names.contains(name.as_str()) || family.is_some(),
                "{} names {name}, which the gateway does not export: {exported:?}",
                path.display()
            );
        }
    }
}

/// The numbered list of `section` in the architecture doc: the bold name
/// that starts each item.
fn numbered_list<'a>(doc: &'a str, section: &str) -> Vec<&'a str> {
    doc.split(&format!("\n### {section}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n#").next())
        .unwrap_or_else(|| panic!("a section `{section}`"))
        .lines()
        .filter_map(|line| line.split_once(". **"))
        .filter(|(number, _)| number.parse::<usize>().is_ok())
        .filter_map(|(_, rest)| rest.split("**").next())
        .collect()
}

/// Column `column` of the table of the two stacks, its empty cells left out.
fn drawn_stack(doc: &str, column: usize) -> Vec<&str> {
    table_rows(doc, "")
        .into_iter()
        .filter(|row| row[0].parse::<usize>().is_ok())
        .map(|row| row[column])
        .filter(|cell| !cell.is_empty())
        .collect()
}

#[test]
fn the_architecture_doc_lists_the_call_layers_in_the_order_the_server_composes_them() {
    let doc = read(&root().join("docs/architecture.md"));
    assert_eq!(drawn_stack(&doc, 1), LAYERS, "the table of the two stacks");
    let listed = numbered_list(&doc, "The server's call layers");
    assert_eq!(listed, LAYERS, "the numbered list");
}

#[test]
fn the_architecture_doc_lists_the_upstream_layers_in_the_order_the_client_composes_them() {
    let doc = read(&root().join("docs/architecture.md"));
    let client = OntapClient::new(ClientConfig::pass_through("https://127.0.0.1")).unwrap();
    let composed = client.upstream_layers();
    assert_eq!(
        drawn_stack(&doc, 2),
        composed,
        "the table of the two stacks"
    );
    let listed = numbered_list(&doc, "The upstream stack");
    assert_eq!(listed, composed, "the numbered list");
}

/// GitHub's anchor for a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of the headings of a Markdown file.
fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_link_of_the_readme_and_the_docs_reaches_a_file_and_heading() {
    let mut pages = docs();
    for page in ["README.md", "deploy/README.md"] {
        let path = root().join(page);
        let text = read(&path);
        pages.push((path, text));
    }
    let mut broken = Vec::new();
    for (path, text) in &pages {
        for line in prose(text) {
            for link in line.split("](").skip(1) {
                let target = link.split(')').next().unwrap_or_default();
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
                let linked = if file.is_empty() {
                    path.clone()
                } else {
                    path.parent().expect("a directory").join(file)
                };
                if !linked.exists() {
                    broken.push(format!("{}: {target}", path.display()));
                } else if !fragment.is_empty() && !anchors(&read(&linked)).contains(fragment) {
                    broken.push(format!("{}: {target} (no such heading)", path.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
