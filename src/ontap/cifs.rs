//! Where `GET /api/protocols/cifs/connections` lives
//! (ontap-rest/cifs-connections.txt). Its records read straight into the
//! proto messages (`translate::wire`).

use super::path::{ApiPath, CollectionPath};

/// The CIFS connections collection.
pub const CONNECTIONS: CollectionPath = ApiPath::collection("/api/protocols/cifs/connections");
