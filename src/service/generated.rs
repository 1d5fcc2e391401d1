//! The services, routing and messages the build derives from the contract
//! (`build/services.rs`): every service whose RPCs are all standard, which
//! SVM each request names, and `register`, which adds every service of the
//! contract to the server.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::SvmScoped;
use super::standard::{self, StreamMessage, WatchMessage};
use super::watch::Messages;
use crate::routes::Routes;
use crate::translate::Clusters;
use crate::watch::Watches;

include!(concat!(env!("OUT_DIR"), "/services.rs"));
