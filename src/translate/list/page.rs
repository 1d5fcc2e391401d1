//! One page as a List response holds it: the records ONTAP answered, only
//! the fields asked for, as many as fit in one response, and the token
//! that continues the collection after them.

use super::{Plan, check_start};
use crate::ontap::{ApiPath, Collection, OntapError};
use crate::translate::message_size;
use crate::translate::page_token;
use crate::translate::schema::Schema;
use crate::translate::wire::{OntapJson, OntapRecord};
use crate::translate::{GatewayError, Upstream};

/// One page of records, holding only the selected fields.
#[derive(Debug)]
pub struct Page<T> {
    /// The records.
    pub records: Vec<T>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// Records in this page.
    pub num_records: u32,
    /// The number of matching records, when count_only asked for it.
    pub total_size: Option<i32>,
}

impl<T> Page<T> {
    /// A page without records: the end of a collection that has none.
    pub(super) fn empty() -> Self {
        Page {
            records: Vec::new(),
            next_page_token: String::new(),
            num_records: 0,
            total_size: None,
        }
    }
}

/// A decoded page, or how many of its records fit in one response.
pub(super) enum Fitted<T> {
    Whole(Page<T>),
    Only(u32),
}

/// The page `collection` is, with only the selected fields, if its records
/// fit in one response (its token is signed only then).
pub(super) fn page_of<T: OntapRecord>(
    upstream: &Upstream,
    schema: &Schema,
    path: &ApiPath,
    plan: &Plan,
    mut collection: Collection<OntapJson<T>>,
    count_only: bool,
) -> Result<Fitted<T>, GatewayError> {
    let records: Vec<T> = std::mem::take(&mut collection.records)
        .into_iter()
        .map(|OntapJson(mut record)| {
            record.select(&plan.selection);
            record
        })
        .collect();
    let fit = message_size::records_within(&records, message_size::PAGE_RECORDS_BUDGET);
    if fit < records.len() {
        if fit == 0 {
            return Err(message_size::too_large(&records[0]));
        }
        return Ok(Fitted::Only(u32::try_from(fit).unwrap_or(u32::MAX)));
    }
    let next_page_token = next_page_token(upstream, schema, path, plan, &collection)?;
    let (num_records, total_size) = if count_only {
        let total = collection.num_records.unwrap_or(0);
        (0, Some(i32::try_from(total).unwrap_or(i32::MAX)))
    } else {
        (u32::try_from(records.len()).unwrap_or(u32::MAX), None)
    };
    Ok(Fitted::Whole(Page {
        num_records,
        total_size,
        records,
        next_page_token,
    }))
}

/// The token for the page after `collection`, signed for this query; empty
/// on the last page.
fn next_page_token<T>(
    upstream: &Upstream,
    schema: &Schema,
    path: &ApiPath,
    plan: &Plan,
    collection: &Collection<T>,
) -> Result<String, GatewayError> {
    let Some(href) = collection.next_href() else {
        return Ok(String::new());
    };
    let start = page_token::continuation(href, path).ok_or_else(|| {
        OntapError::Malformed(format!(
            "`_links.next` does not continue {} with `start.*` parameters",
            path.as_str()
        ))
    })?;
    // Checked as the next call will check it, so that call never blames its
    // caller for what ONTAP sent.
    let start = check_start(schema, start)
        .map_err(|why| OntapError::Malformed(format!("`_links.next` {why}")))?;
    let (tokens, cluster) = (&upstream.page_tokens, upstream.client.name());
    Ok(page_token::encode(
        tokens,
        cluster,
        path,
        &plan.fingerprint,
        start,
    ))
}
