//! What every layer of the stack serves: one request to ONTAP, and the call
//! it is made for. The call's deadline, trace and credentials travel here,
//! in one value, rather than through each signature, a task-local and the
//! client handle.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method};
use url::Url;

use super::coalesce::Progress;
use crate::deadline::Deadline;
use crate::ontap::credentials::CallerCredentials;
use crate::ontap::trace::CallTrace;
use crate::ontap::untrusted::Scrubber;

/// One request to ONTAP.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    pub method: Method,
    /// The cluster's URL with the request's path and query, resolved once
    /// from its `ApiPath` and `Query` where the request is made: neither a
    /// coalescing key nor a retry encodes the query again.
    pub url: Url,
    /// The path's endpoint, its identifiers elided: a metric's label.
    pub endpoint: &'static str,
    /// A JSON body.
    pub body: Option<Bytes>,
    /// Headers the layers add (credentials, trace) on top of those every
    /// request carries.
    pub headers: HeaderMap,
    pub kind: Kind,
    pub context: CallContext,
}

/// Whether the gateway may share and repeat a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A read: identical reads in flight share one request, and one that
    /// meets overload is tried again.
    Read,
    /// Sent once as given: a write may have been applied even when its
    /// answer was lost.
    Once,
}

/// The call a request is made for.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// When the caller stops waiting; [`Deadline::NONE`] for a shared read,
    /// which the client's own bounds limit and no one caller's.
    pub deadline: Deadline,
    /// The caller's request id and trace context, forwarded to ONTAP.
    pub trace: Option<CallTrace>,
    /// In pass-through mode, whose credentials the request carries.
    pub caller: Option<CallerCredentials>,
    /// The shared read this request is, which learns when it is sent and
    /// knows how long its callers still want an answer.
    pub flight: Option<Arc<Progress>>,
    /// When the call began: without a deadline, retries stop once the
    /// request timeout has passed since.
    pub started: Instant,
}

impl UpstreamRequest {
    /// A read of `url`.
    pub fn read(url: Url, endpoint: &'static str, context: CallContext) -> Self {
        Self::new(Method::GET, url, endpoint, None, Kind::Read, context)
    }

    /// A request sent once as given.
    pub fn once(
        method: Method,
        url: Url,
        endpoint: &'static str,
        body: Option<Bytes>,
        context: CallContext,
    ) -> Self {
        Self::new(method, url, endpoint, body, Kind::Once, context)
    }

    fn new(
        method: Method,
        url: Url,
        endpoint: &'static str,
        body: Option<Bytes>,
        kind: Kind,
        context: CallContext,
    ) -> Self {
        Self {
            method,
            url,
            endpoint,
            body,
            headers: HeaderMap::new(),
            kind,
            context,
        }
    }
}

impl CallContext {
    /// A call that began now.
    pub fn new(
        deadline: Deadline,
        trace: Option<CallTrace>,
        caller: Option<CallerCredentials>,
    ) -> Self {
        Self {
            deadline,
            trace,
            caller,
            flight: None,
            started: Instant::now(),
        }
    }

    /// How long an answer is still of use to someone: the caller's
    /// deadline, or for a shared read the latest of its callers'.
    pub fn wanted_until(&self) -> Deadline {
        self.flight
            .as_ref()
            .map_or(self.deadline, |flight| flight.wanted_until())
    }

    /// Redacts the credentials this call sends from upstream text: the
    /// caller's, or else the service account's, `account`.
    pub fn scrubber<'a>(&'a self, account: &'a Scrubber) -> &'a Scrubber {
        self.caller
            .as_ref()
            .map_or(account, CallerCredentials::scrubber)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_call_is_wanted_until_its_own_deadline() {
        let deadline = Deadline::after(Duration::from_secs(5));
        assert_eq!(
            CallContext::new(deadline, None, None).wanted_until(),
            deadline
        );
    }

    #[test]
    fn a_shared_read_is_wanted_until_its_flight_says() {
        let mut shared = CallContext::new(Deadline::NONE, None, None);
        let flights = crate::ontap::stack::coalesce::Flights::default();
        let later = Deadline::after(Duration::from_secs(60));
        let _caller = flights.join("key", later, |flight| {
            shared.flight = Some(flight);
            std::future::pending()
        });
        assert_eq!(shared.wanted_until(), later);
    }

    #[test]
    fn the_callers_credentials_are_scrubbed_instead_of_the_service_accounts() {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pass");
        let header = http::HeaderValue::from_str(&format!("Basic {token}")).unwrap();
        let caller = CallerCredentials::from_metadata(Some(&header)).unwrap();
        let account = Scrubber::new(["service-password".to_owned()]);
        let call = CallContext::new(Deadline::NONE, None, Some(caller));
        let scrubbed = call
            .scrubber(&account)
            .scrub("s3cret-pass service-password");
        assert!(!scrubbed.contains("s3cret-pass"), "{scrubbed}");
        assert!(scrubbed.contains("service-password"), "{scrubbed}");
    }
}
