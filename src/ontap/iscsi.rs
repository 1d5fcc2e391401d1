//! The bodies the gateway sends to `/api/protocols/san/iscsi/services`
//! (ontap-rest/iscsi-services.txt); where the collection lives is in its
//! `.proto`. Records ONTAP answers with read straight into the proto
//! messages (`translate::wire`).

use serde::Serialize;

/// The body of POST: the SVM by name and/or UUID, and the optional settings.
#[derive(Debug, Default, Serialize)]
pub struct CreateBody {
    /// The SVM.
    pub svm: SvmSelector,
    /// Administrative state; ONTAP defaults to true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Target settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetBody>,
}

/// The body of PATCH: only what changes.
#[derive(Debug, Default, Serialize)]
pub struct UpdateBody {
    /// New administrative state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// New target settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetBody>,
}

/// `svm` in a request body.
#[derive(Debug, Default, Serialize)]
pub struct SvmSelector {
    /// The SVM's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The SVM's UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// `target` in a request body; only the alias is writable.
#[derive(Debug, Default, Serialize)]
pub struct TargetBody {
    /// The alias; `""` clears it in PATCH.
    pub alias: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_body_sends_only_what_changes() {
        let body = UpdateBody {
            enabled: Some(false),
            target: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"enabled":false}"#
        );
    }
}
