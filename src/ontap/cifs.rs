//! Wire shapes of `GET /api/protocols/cifs/connections`
//! (ontap-rest/cifs-connections.txt).

use serde::{Deserialize, Deserializer};

use super::ObjectRef;
use super::path::{ApiPath, CollectionPath};

/// The CIFS connections collection.
pub const CONNECTIONS: CollectionPath = ApiPath::collection("protocols/cifs/connections");

/// A `cifs_connection` record. Every field is optional: ONTAP returns only
/// the fields asked for.
#[derive(Debug, Default, Deserialize)]
pub struct CifsConnectionRecord {
    /// Specifies IP of the client.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// The client's port.
    #[serde(default)]
    pub client_port: Option<u32>,
    /// The connection ID.
    #[serde(default)]
    pub identifier: Option<u32>,
    /// The network context ID.
    #[serde(default)]
    pub network_context_id: Option<u32>,
    /// The serving node.
    #[serde(default)]
    pub node: Option<ObjectRef>,
    /// The SVM's IP address.
    #[serde(default)]
    pub server_ip: Option<String>,
    /// The sessions on the connection.
    #[serde(default)]
    pub sessions: Option<Vec<CifsSessionRecord>>,
    /// The owning SVM.
    #[serde(default)]
    pub svm: Option<ObjectRef>,
}

/// A `sessions` entry.
#[derive(Debug, Default, Deserialize)]
pub struct CifsSessionRecord {
    /// The page documents this as "a unique 64-bit unsigned number
    /// represented as string" yet shows JSON numbers: accept both.
    #[serde(default, deserialize_with = "u64_number_or_string")]
    pub identifier: Option<u64>,
}

fn u64_number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(u64),
        Text(String),
    }
    match Option::<Repr>::deserialize(d)? {
        None => Ok(None),
        Some(Repr::Number(n)) => Ok(Some(n)),
        Some(Repr::Text(s)) => s.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("`{s}` is not a 64-bit unsigned integer"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_identifier_accepts_number_and_string() {
        let n: CifsSessionRecord =
            serde_json::from_str(r#"{"identifier": 625718873227788312}"#).unwrap();
        let s: CifsSessionRecord =
            serde_json::from_str(r#"{"identifier": "625718873227788312"}"#).unwrap();
        assert_eq!(n.identifier, Some(625718873227788312));
        assert_eq!(s.identifier, Some(625718873227788312));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let r: CifsConnectionRecord =
            serde_json::from_str(r#"{"identifier": 1, "server_name": "x", "future": {"a": 1}}"#)
                .unwrap();
        assert_eq!(r.identifier, Some(1));
    }
}
