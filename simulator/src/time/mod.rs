//! Simulated time and ONTAP's text for it: the clock that performance data is computed from, and
//! the timestamp and duration forms requests and responses carry. Queries, resources and
//! performance data all read time through here.

pub mod clock;
pub mod format;

pub use format::{
    format_duration, format_rfc3339, parse_duration, parse_path_timestamp, parse_timestamp,
};
