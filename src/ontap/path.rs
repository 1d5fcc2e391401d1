//! Paths of ONTAP REST resources, built from fixed collection names and
//! percent-encoded identifiers only.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Path segments keep only unreserved characters; `/`, `?`, `#`, `.` and
/// `%` in an identifier are encoded so it stays one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// A path under `/api/`, always starting with `/api/`, and the endpoint it
/// is an instance of (its template, e.g. `/api/protocols/san/iscsi/services/{svm.uuid}`),
/// which names it in metrics without an identifier in the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath {
    path: String,
    endpoint: &'static str,
}

impl ApiPath {
    /// A collection's path such as `/api/protocols/cifs/connections`, written in code.
    pub const fn collection(path: &'static str) -> CollectionPath {
        CollectionPath(path)
    }

    /// The path as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.path
    }

    /// The endpoint this path is an instance of.
    pub fn endpoint(&self) -> &'static str {
        self.endpoint
    }

    /// Appends one encoded segment (an identifier from a request, or a
    /// fixed name), making the path an instance of `endpoint`.
    pub fn segment(mut self, raw: &str, endpoint: &'static str) -> Self {
        self.path.push('/');
        self.path.extend(utf8_percent_encode(raw, SEGMENT));
        self.endpoint = endpoint;
        self
    }
}

/// A collection's path, as a compile-time constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionPath(&'static str);

impl CollectionPath {
    /// The full path, e.g. `/api/protocols/cifs/connections`.
    pub fn path(self) -> ApiPath {
        ApiPath {
            path: self.0.to_owned(),
            endpoint: self.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: CollectionPath = ApiPath::collection("/api/protocols/san/iscsi/services");

    #[test]
    fn collection_path_is_under_api() {
        assert_eq!(
            SERVICES.path().as_str(),
            "/api/protocols/san/iscsi/services"
        );
    }

    #[test]
    fn a_path_names_its_endpoint_without_the_identifier() {
        assert_eq!(
            SERVICES.path().endpoint(),
            "/api/protocols/san/iscsi/services"
        );
        let item = SERVICES
            .path()
            .segment("uuid-1", "/api/protocols/san/iscsi/services/{svm.uuid}");
        assert_eq!(
            item.endpoint(),
            "/api/protocols/san/iscsi/services/{svm.uuid}"
        );
    }

    #[test]
    fn segment_cannot_escape_its_position() {
        let p = SERVICES
            .path()
            .segment("../../cluster?x=1#y", "/api/x/{id}");
        assert_eq!(
            p.as_str(),
            "/api/protocols/san/iscsi/services/%2E%2E%2F%2E%2E%2Fcluster%3Fx%3D1%23y"
        );
    }
}
