//! The translator between the gRPC contract and ONTAP's REST contract:
//! request validation and mapping, response mapping, paging tokens, and the
//! one table that turns ONTAP failures into gRPC codes.

mod clusters;
pub mod collection;
pub mod error_table;
mod expression;
pub mod instance;
pub mod iscsi;
mod list;
pub mod message_size;
mod page_token;
mod paging;
pub mod resource;
pub mod resources;
mod schema;
pub mod svms;
pub mod wire;

use std::sync::Arc;

use crate::ontap::{CallerCredentials, CallerCredentialsError, OntapClient, OntapError};

pub use clusters::{Clusters, DEFAULT_CLUSTER, DuplicateCluster};
pub use expression::QUERY_OPERATORS;
#[cfg(any(fuzzing, test))]
pub(crate) use list::check_planned_query;
pub use list::{ListRequestFields, Page};
#[cfg(any(fuzzing, test))]
pub(crate) use page_token::decode as decode_page_token;
pub use page_token::{KeyError, PageTokenKey};
pub use paging::{FULL_PAGES_TO_GROW, MIN_ADAPTIVE_PAGE_SIZE, PageSizeChanges, PageSizes};
pub use schema::{Schema, Selection};

/// One cluster as the translator calls it: its REST client, and the key
/// that signs the page tokens its collections are continued with.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The cluster's pooled, bounded REST client.
    pub client: OntapClient,
    /// Signs and checks page tokens.
    pub page_tokens: PageTokenKey,
    /// How many records each of the cluster's collections is asked for.
    pub page_sizes: Arc<PageSizes>,
    /// Its SVMs' names as last read, by UUID.
    pub svm_names: Arc<svms::SvmNames>,
}

impl Upstream {
    /// The cluster behind `client`, its page tokens signed with `page_tokens`.
    pub fn new(client: OntapClient, page_tokens: PageTokenKey) -> Self {
        Self {
            client,
            page_tokens,
            page_sizes: Arc::default(),
            svm_names: Arc::default(),
        }
    }

    /// This cluster, called with `caller`'s credentials.
    pub fn as_caller(&self, caller: CallerCredentials) -> Self {
        Self {
            client: self.client.as_caller(caller),
            ..self.clone()
        }
    }
}

/// One invalid request field, as reported in `google.rpc.BadRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The request field, as a proto path (`page_size`, `read_mask.paths[1]`).
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Why a gateway call failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request was rejected before anything went upstream.
    #[error("invalid request: {}", describe(.0))]
    InvalidRequest(Vec<FieldViolation>),
    /// The cluster takes each caller's own credentials, and the call
    /// brought none it could forward.
    #[error("{0}")]
    CallerUnauthenticated(#[from] CallerCredentialsError),
    /// The caller's policy does not let it make this call; nothing was
    /// sent.
    #[error("{0}")]
    NotPermitted(Box<crate::policy::NotPermitted>),
    /// `x-ontap-cluster` names no cluster this gateway fronts.
    #[error("this gateway fronts no cluster named `{name}` (x-ontap-cluster); it fronts {known}")]
    UnknownCluster {
        /// The name asked for.
        name: String,
        /// The names it fronts, listed.
        known: String,
    },
    /// Several clusters are configured and the call named none.
    #[error(
        "this gateway fronts several clusters ({known}): name one with `x-ontap-cluster` metadata"
    )]
    ClusterNotChosen {
        /// The names it fronts, listed.
        known: String,
    },
    /// The gateway is shutting down: a stream ends so that its caller
    /// reconnects, to another replica if there is one.
    #[error(
        "the gateway is shutting down; call again to continue, on another replica if there is one"
    )]
    ShuttingDown,
    /// A watcher read more slowly than its watch changed and fell so far
    /// behind that it can no longer know what changed.
    #[error("the watcher fell {missed} polls behind; watch again to start from a fresh list")]
    WatchTooSlow {
        /// Polls whose changes it missed.
        missed: u64,
    },
    /// One record is larger than a response may be
    /// ([`message_size::MAX_RESPONSE_BYTES`]), so no page can hold it.
    #[error(
        "a record takes {bytes} bytes, more than the {limit} a response may hold so that \
         default gRPC clients can read it; ask for fewer fields with read_mask"
    )]
    RecordTooLarge {
        /// What the record takes.
        bytes: usize,
        /// What a response's records may take.
        limit: usize,
    },
    /// ONTAP made a change, but reading the resource back afterwards failed,
    /// so the gateway cannot answer the whole resource and will not answer
    /// a part of it as if it were whole. It answers with the read's code
    /// and reason, and says the change is made, so a caller neither takes
    /// it for a failed change nor repeats a create to learn otherwise.
    #[error(
        "{resource} was {written}, but reading it back failed ({source}); the change is made: \
         read it again with a Get"
    )]
    NotReadBack {
        /// What was changed, named as the caller named it
        /// (`the iSCSI service of SVM \`<uuid>\``).
        resource: String,
        /// How it was changed.
        written: Written,
        /// Why the read failed.
        source: OntapError,
    },
    /// ONTAP, or the way to it, failed. `field` is the request field ONTAP's
    /// error `target` corresponds to, when it names one.
    #[error("{source}")]
    Upstream {
        /// The upstream failure.
        source: OntapError,
        /// The request field to blame, as a proto path.
        field: Option<String>,
    },
}

/// The change a [`GatewayError::NotReadBack`] made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The resource was created.
    Created,
    /// The resource was updated.
    Updated,
}

impl Written {
    /// The word for it, also `ErrorInfo.metadata["written"]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Written::Created => "created",
            Written::Updated => "updated",
        }
    }
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl GatewayError {
    /// An upstream failure, blaming the request field that ONTAP's error
    /// `target` corresponds to, as `field_for` translates it.
    pub fn upstream(source: OntapError, field_for: impl Fn(&str) -> Option<String>) -> Self {
        let field = match &source {
            OntapError::Api { error, .. } => error.target.as_deref().and_then(field_for),
            _ => None,
        };
        GatewayError::Upstream { source, field }
    }
}

impl From<OntapError> for GatewayError {
    fn from(source: OntapError) -> Self {
        GatewayError::Upstream {
            source,
            field: None,
        }
    }
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}
