//! Whose credentials a request carries: the caller's own in pass-through
//! mode, else the gateway's service account. Whose ONTAP refused (401)
//! decides whose to fix, so the refusal is told apart here, where that is
//! known.

use std::task::{Context, Poll};

use futures_util::TryFutureExt;
use futures_util::future::MapErr;
use http::HeaderValue;
use http::header::AUTHORIZATION;
use tower::{Layer, Service};

use super::Named;
use super::request::UpstreamRequest;
use crate::ontap::body::Response;
use crate::ontap::error::OntapError;

/// Sends the call's credentials.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    account: Option<HeaderValue>,
}

impl Named for AuthLayer {
    const NAME: &str = "auth";
}

impl AuthLayer {
    /// `account` is the service account's `Authorization`; none in
    /// pass-through mode.
    pub fn new(account: Option<HeaderValue>) -> Self {
        Self { account }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            account: self.account.clone(),
        }
    }
}

/// See [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    account: Option<HeaderValue>,
}

/// What a 401 becomes, given whose credentials were sent.
type Refusal = fn(OntapError) -> OntapError;

impl<S> Service<UpstreamRequest> for AuthService<S>
where
    S: Service<UpstreamRequest, Response = Response, Error = OntapError>,
{
    type Response = Response;
    type Error = OntapError;
    type Future = MapErr<S::Future, Refusal>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), OntapError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: UpstreamRequest) -> Self::Future {
        let (credentials, refusal): (_, Refusal) = match (&request.context.caller, &self.account) {
            (Some(caller), _) => (Some(caller.header().clone()), caller_rejected),
            (None, Some(account)) => (Some(account.clone()), account_rejected),
            (None, None) => (None, std::convert::identity),
        };
        if let Some(credentials) = credentials {
            request.headers.insert(AUTHORIZATION, credentials);
        }
        self.inner.call(request).map_err(refusal)
    }
}

/// ONTAP refused the caller's own credentials: the caller's to fix.
fn caller_rejected(error: OntapError) -> OntapError {
    match error {
        OntapError::Api { status: 401, error } => OntapError::CallerRejected { error },
        other => other,
    }
}

/// ONTAP refused the gateway's service account: the operator's to fix.
fn account_rejected(error: OntapError) -> OntapError {
    match error {
        OntapError::Api { status: 401, error } => OntapError::CredentialsRejected { error },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;
    use tower::util::Oneshot;

    use super::*;
    use crate::deadline::Deadline;
    use crate::ontap::CallerCredentials;
    use crate::ontap::stack::testing::{self, Inner, Ontap};

    fn basic(user_password: &str) -> HeaderValue {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(user_password);
        HeaderValue::from_str(&format!("Basic {token}")).unwrap()
    }

    /// A read for `caller` through an auth layer sending `account`, and
    /// ONTAP.
    fn sent(
        account: Option<&str>,
        caller: Option<&str>,
    ) -> (Oneshot<AuthService<Inner>, UpstreamRequest>, Ontap) {
        let (inner, ontap) = testing::inner();
        let service = AuthLayer::new(account.map(basic)).layer(inner);
        let mut request = testing::read(Deadline::NONE);
        request.context.caller =
            caller.map(|c| CallerCredentials::from_metadata(Some(&basic(c))).unwrap());
        (service.oneshot(request), ontap)
    }

    /// The `Authorization` ONTAP received, and what its 401 became.
    async fn refused(
        account: Option<&str>,
        caller: Option<&str>,
    ) -> (Option<HeaderValue>, OntapError) {
        let (call, mut ontap) = sent(account, caller);
        let call = tokio::spawn(call);
        let (request, answer) = ontap.next_request().await.expect("sent");
        answer.send_error(testing::status(401, None));
        let error = call.await.unwrap().unwrap_err();
        (request.headers.get(AUTHORIZATION).cloned(), error)
    }

    #[tokio::test]
    async fn without_a_caller_the_service_account_is_sent() {
        let (sent, _) = refused(Some("svc:pw"), None).await;
        assert_eq!(sent, Some(basic("svc:pw")));
    }

    #[tokio::test]
    async fn the_callers_credentials_replace_the_service_account() {
        let (sent, _) = refused(Some("svc:pw"), Some("alice:a")).await;
        assert_eq!(sent, Some(basic("alice:a")));
    }

    #[tokio::test]
    async fn a_401_to_the_service_account_is_the_gateways_credentials_rejected() {
        let (_, error) = refused(Some("svc:pw"), None).await;
        assert!(matches!(error, OntapError::CredentialsRejected { .. }));
    }

    #[tokio::test]
    async fn a_401_to_the_caller_is_the_callers_credentials_rejected() {
        let (_, error) = refused(None, Some("alice:a")).await;
        assert!(matches!(error, OntapError::CallerRejected { .. }));
    }

    #[tokio::test]
    async fn without_credentials_a_401_stays_ontaps_answer() {
        let (sent, error) = refused(None, None).await;
        assert_eq!(sent, None);
        assert!(matches!(error, OntapError::Api { status: 401, .. }));
    }

    #[tokio::test]
    async fn other_failures_pass_unchanged() {
        let (call, mut ontap) = sent(Some("svc:pw"), None);
        let call = tokio::spawn(call);
        let (_, answer) = ontap.next_request().await.expect("sent");
        answer.send_error(testing::status(403, None));
        assert!(matches!(
            call.await.unwrap(),
            Err(OntapError::Api { status: 403, .. })
        ));
    }
}
