//! What the simulator serves: the cluster model behind every endpoint, the seed cluster, the churn
//! that opens and closes CIFS connections over simulated time, and the endpoints themselves (the
//! cluster's identity and release; CIFS connections; iSCSI services, their request bodies and
//! their performance history).

pub mod churn;
pub mod cifs;
pub mod cluster;
pub mod iscsi;
pub mod model;
mod seed;
