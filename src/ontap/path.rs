//! Paths of ONTAP REST resources, built from fixed collection names and
//! percent-encoded identifiers only.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Path segments keep only unreserved characters; `/`, `?`, `#`, `.` and
/// `%` in an identifier are encoded so it stays one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// A path under `/api/`, always starting with `/api/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath(String);

impl ApiPath {
    /// A collection path such as `protocols/cifs/connections`, written in code.
    pub const fn collection(path: &'static str) -> CollectionPath {
        CollectionPath(path)
    }

    /// The path as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends one encoded segment (an identifier from a request).
    pub fn segment(mut self, raw: &str) -> Self {
        self.0.push('/');
        self.0.extend(utf8_percent_encode(raw, SEGMENT));
        self
    }
}

/// A collection's path, as a compile-time constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionPath(&'static str);

impl CollectionPath {
    /// The full path, e.g. `/api/protocols/cifs/connections`.
    pub fn path(self) -> ApiPath {
        ApiPath(format!("/api/{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: CollectionPath = ApiPath::collection("protocols/san/iscsi/services");

    #[test]
    fn collection_path_is_under_api() {
        assert_eq!(
            SERVICES.path().as_str(),
            "/api/protocols/san/iscsi/services"
        );
    }

    #[test]
    fn segment_cannot_escape_its_position() {
        let p = SERVICES.path().segment("../../cluster?x=1#y");
        assert_eq!(
            p.as_str(),
            "/api/protocols/san/iscsi/services/%2E%2E%2F%2E%2E%2Fcluster%3Fx%3D1%23y"
        );
    }
}
