//! What the simulator serves: the cluster model behind every endpoint, the seed cluster, and the
//! endpoints themselves (CIFS connections; iSCSI services, their request bodies and their
//! performance history).

pub mod cifs;
pub mod iscsi;
pub mod model;
mod seed;
