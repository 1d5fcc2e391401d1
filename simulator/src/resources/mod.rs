//! What the simulator serves: the cluster model behind every endpoint, the seed cluster and its
//! sizing, the churn that opens and closes CIFS connections and sessions over simulated time,
//! and the endpoints themselves (the cluster's identity and release; CIFS connections and
//! sessions; iSCSI services, their request bodies, their performance history, and the sessions
//! logged in to them).

#[macro_use]
mod words;

pub mod churn;
pub mod cifs;
pub mod cifs_sessions;
pub mod cluster;
pub mod iscsi;
pub mod model;
pub mod request;
pub(crate) mod seed;
pub mod svms;
