//! ONTAP's collection semantics, independent of any resource: an endpoint declares a
//! [`schema::Schema`] and renders its records as JSON, and gets filters (query expressions),
//! `fields`, `order_by`, paging with continuation keys, `return_records`, `return_timeout`, HAL
//! links, GET of one record by the key in its path, and query-based DELETE from here.

pub mod collection;
pub mod delete;
pub mod fields;
pub mod filter;
pub mod instance;
pub mod key;
pub mod order;
pub mod schema;
