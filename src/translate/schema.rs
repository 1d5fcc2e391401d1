//! The field-name mapping between the proto messages and ONTAP's JSON, in
//! one place per resource.
//!
//! The proto messages mirror ONTAP's field names, so a field's proto path
//! and its REST path are the same dotted path (`node.name`), and a filter
//! on it is the request field named after it with `.` -> `_`
//! (`node_name`). A schema lists the paths a resource has and what values
//! each holds; validation, `fields=`, `order_by=` and read masks all consult
//! it and nothing else.

use super::FieldViolation;

/// What a field holds, which decides what a filter on it may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A nested object (`node`, `sessions`): selectable, not filterable or orderable.
    Object,
    /// Free text.
    Text,
    /// Free text whose every value is 1 to `max_chars` characters.
    BoundedText {
        /// The documented maxLength.
        max_chars: usize,
    },
    /// A UUID.
    Uuid,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// An unsigned integer.
    Unsigned,
    /// `true` or `false`.
    Boolean,
    /// An ONTAP timestamp, `2017-01-25T11:20:13Z`.
    Timestamp,
    /// An ISO-8601 duration, `PT15S`.
    Duration,
    /// One of a fixed set of words.
    Enum(&'static EnumWords),
}

/// The words of an ONTAP enum and the prefix of the proto enum that mirrors
/// it, so a filter may name a value either way.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumWords {
    /// ONTAP's words, as it sends and takes them.
    pub words: &'static [&'static str],
    /// The proto enum's number for each word, in the same order.
    pub numbers: &'static [i32],
    /// The proto enum's value prefix (`METRIC_STATUS_`).
    pub proto_prefix: &'static str,
}

impl EnumWords {
    /// The proto enum's number for ONTAP's `word` in any case; 0
    /// (UNSPECIFIED) for a word this gateway does not know yet.
    pub fn number(&self, word: &str) -> i32 {
        self.words
            .iter()
            .position(|w| w.eq_ignore_ascii_case(word))
            .map_or(0, |i| self.numbers[i])
    }
}

/// One field of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The dotted path, the same in proto and REST.
    pub path: &'static str,
    /// What it holds.
    pub kind: ValueKind,
}

impl Field {
    /// A field at `path` holding `kind` values.
    pub const fn new(path: &'static str, kind: ValueKind) -> Self {
        Self { path, kind }
    }
}

/// The fields of one REST resource.
#[derive(Debug)]
pub struct Schema {
    /// Every field, objects included.
    pub fields: &'static [Field],
}

impl Schema {
    /// The field at `path`.
    pub fn field(&self, path: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// The selection a read mask asks for, naming each unknown path as
    /// `<mask_field>.paths[i]`. An empty mask selects everything.
    pub fn selection(
        &self,
        paths: &[String],
        mask_field: &str,
        violations: &mut Vec<FieldViolation>,
    ) -> Selection {
        if paths.is_empty() {
            return Selection::All;
        }
        if paths.len() > MAX_MASK_PATHS {
            violations.push(FieldViolation::new(
                mask_field,
                format!(
                    "names {} paths; at most {MAX_MASK_PATHS} (this resource has {} fields)",
                    paths.len(),
                    self.fields.len()
                ),
            ));
            return Selection::All;
        }
        let mut selected = Vec::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            match self.field(path) {
                Some(field) if selected.contains(&field.path) => {}
                Some(field) => selected.push(field.path),
                None => violations.push(FieldViolation::new(
                    format!("{mask_field}.paths[{i}]"),
                    format!("`{path}` is not a field of this resource"),
                )),
            }
        }
        Selection::Paths(selected)
    }
}

/// The most paths a read mask may name: more than any resource has fields,
/// so only a runaway mask is refused (duplicates are dropped silently).
pub const MAX_MASK_PATHS: usize = 64;

/// A read mask's paths; an absent mask has none.
pub fn mask_paths(mask: Option<&prost_types::FieldMask>) -> &[String] {
    mask.map_or(&[], |m| m.paths.as_slice())
}

/// The request field that filters on `path`.
pub fn filter_field_name(path: &str) -> String {
    path.replace('.', "_")
}

/// Which fields a response carries: everything, or what a read mask named.
/// A selected object carries all its fields; a selected leaf carries its
/// enclosing objects with only that leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No read mask: every ordinary field.
    All,
    /// The read mask's paths, validated against the schema.
    Paths(Vec<&'static str>),
}

impl Selection {
    /// Whether the field at `path` belongs in the response.
    pub fn includes(&self, path: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Paths(paths) => paths.iter().any(|p| covers(p, path) || covers(path, p)),
        }
    }

    /// The selection relative to the object at `prefix`: `metric.iops.read`
    /// in a service's selection is `iops.read` in its `metric`'s.
    pub fn scoped(&self, prefix: &str) -> Selection {
        match self {
            Selection::All => Selection::All,
            Selection::Paths(paths) => {
                if paths.iter().any(|p| covers(p, prefix)) {
                    return Selection::All;
                }
                Selection::Paths(
                    paths
                        .iter()
                        .filter_map(|p| p.strip_prefix(prefix)?.strip_prefix('.'))
                        .collect(),
                )
            }
        }
    }

    /// The value of ONTAP's `fields` parameter.
    pub fn fields_param(&self) -> String {
        match self {
            Selection::All => "*".to_owned(),
            Selection::Paths(paths) => paths.join(","),
        }
    }
}

/// Whether `outer` is `inner` or one of its enclosing objects.
fn covers(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selecting_an_object_selects_its_fields() {
        let s = Selection::Paths(vec!["node"]);
        assert!(s.includes("node.name"));
        assert!(!s.includes("svm.name"));
    }

    #[test]
    fn selecting_a_leaf_keeps_its_object_but_not_siblings() {
        let s = Selection::Paths(vec!["node.name"]);
        assert!(s.includes("node"));
        assert!(s.includes("node.name"));
        assert!(!s.includes("node.uuid"));
    }

    #[test]
    fn scoping_strips_the_prefix() {
        let s = Selection::Paths(vec!["metric.iops.read", "enabled"]);
        assert_eq!(s.scoped("metric"), Selection::Paths(vec!["iops.read"]));
        assert_eq!(s.scoped("statistics"), Selection::Paths(vec![]));
        assert_eq!(
            Selection::Paths(vec!["metric"]).scoped("metric"),
            Selection::All
        );
    }

    #[test]
    fn prefixes_match_whole_segments_only() {
        let s = Selection::Paths(vec!["client"]);
        assert!(!s.includes("client_ip"));
    }
}
