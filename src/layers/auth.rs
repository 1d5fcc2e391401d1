//! Who is calling: each call to the API is authenticated (a bearer token
//! with `--auth-tokens`, else the client certificate of a mutual-TLS
//! connection) and its [`Caller`] put in its extensions for the services,
//! or it is refused UNAUTHENTICATED before anything goes upstream.
//!
//! Health and reflection stay open: a Kubernetes probe sends no metadata,
//! and neither says anything about the cluster.

use std::collections::HashMap;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use http::{Request, Response, header::AUTHORIZATION};
use tonic::body::Body;
use tower::{Layer, Service};

use super::ConnectionInfo;
use crate::identity::{Authenticator, Caller, Unauthenticated};
use crate::policy::{Audit, CallPolicy, SharedPolicy};
use crate::service::refusal;
use crate::translate::error_table::Match;

/// Paths no credentials are asked for.
const OPEN_PREFIXES: &[&str] = &["/grpc.health.v1.Health/", "/grpc.reflection."];

/// The caller of `request`, or why it has none; `None` for an open path.
fn caller_of<B>(
    authenticator: &Authenticator,
    request: &Request<B>,
) -> Option<Result<Caller, Unauthenticated>> {
    let path = request.uri().path();
    if OPEN_PREFIXES.iter().any(|open| path.starts_with(open)) {
        return None;
    }
    let certificates = request
        .extensions()
        .get::<ConnectionInfo>()
        .and_then(ConnectionInfo::peer_certificates);
    Some(authenticator.authenticate(request.headers().get(AUTHORIZATION), certificates))
}

/// Names each call's caller, refusing those `authenticator` does not
/// accept, and hands the services the policy to check it against.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    authenticator: Authenticator,
    policy: Option<(SharedPolicy, Audit)>,
}

impl AuthLayer {
    /// Authenticates calls with `authenticator`.
    pub fn new(authenticator: Authenticator) -> Self {
        Self {
            authenticator,
            policy: None,
        }
    }

    /// Puts `policy`, as it stands when each call arrives, in the call's
    /// extensions, denials to be recorded by `audit`.
    pub fn with_policy(self, policy: Option<SharedPolicy>, audit: Audit) -> Self {
        Self {
            policy: policy.map(|policy| (policy, audit)),
            ..self
        }
    }
}

/// The policy a call is checked against: the one in force as it arrives.
fn call_policy<B>(policy: &(SharedPolicy, Audit), request: &Request<B>) -> CallPolicy {
    let path = request.uri().path();
    let method = path.rsplit('/').next().unwrap_or(path);
    CallPolicy {
        policy: policy.0.current(),
        method: method.into(),
        audit: policy.1.clone(),
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            authenticator: self.authenticator.clone(),
            policy: self.policy.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    authenticator: Authenticator,
    policy: Option<(SharedPolicy, Audit)>,
}

impl<S, B> Service<Request<B>> for Auth<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        match caller_of(&self.authenticator, &request) {
            None => Either::Left(self.inner.call(request)),
            Some(Ok(caller)) => {
                if let Some(policy) = &self.policy {
                    let call_policy = call_policy(policy, &request);
                    request.extensions_mut().insert(call_policy);
                }
                request.extensions_mut().insert(caller);
                Either::Left(self.inner.call(request))
            }
            Some(Err(why)) => {
                let why = why.to_string();
                let status = refusal(Match::CallerUnauthenticated, &why, HashMap::new());
                Either::Right(ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use sha2::{Digest, Sha256};
    use tonic::Code;

    use super::*;
    use crate::identity::TokenHashes;
    use crate::layers::testing::{NeverReady, pending};

    const LIST: &str = "/ontap.v1.CifsConnections/ListCifsConnections";

    fn with_tokens() -> AuthLayer {
        let text = format!("billing {:x}\n", Sha256::digest(b"s3cret"));
        let tokens = TokenHashes::parse(&text, "tokens").unwrap();
        AuthLayer::new(Authenticator::new(Some(tokens)))
    }

    fn call(path: &str, authorization: Option<&str>) -> Request<()> {
        let mut request = Request::post(path);
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        request.body(()).unwrap()
    }

    /// An inner service that keeps the caller each call brought.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<Option<Caller>>>>);

    impl Service<Request<()>> for Seen {
        type Response = Response<Body>;
        type Error = std::convert::Infallible;
        type Future = Ready<Result<Response<Body>, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<()>) -> Self::Future {
            let caller = request.extensions().get::<Caller>().cloned();
            self.0.lock().unwrap().push(caller);
            ready(Ok(Response::new(Body::empty())))
        }
    }

    async fn through(
        layer: &AuthLayer,
        request: Request<()>,
    ) -> (Response<Body>, Vec<Option<Caller>>) {
        let seen = Seen::default();
        let response = layer.layer(seen.clone()).call(request).await.unwrap();
        let callers = seen.0.lock().unwrap().clone();
        (response, callers)
    }

    #[test]
    fn readiness_is_the_inner_services() {
        let mut service = with_tokens().layer(NeverReady);
        assert!(pending(&mut service));
    }

    #[tokio::test]
    async fn an_accepted_call_reaches_the_services_with_its_caller() {
        let (_, callers) = through(&with_tokens(), call(LIST, Some("Bearer s3cret"))).await;
        let identity = callers[0].as_ref().map(|c| c.identity().to_owned());
        assert_eq!(identity.as_deref(), Some("token:billing"));
    }

    #[tokio::test]
    async fn a_refused_call_is_unauthenticated_saying_why_and_goes_no_further() {
        let (response, callers) = through(&with_tokens(), call(LIST, Some("Bearer guess"))).await;
        let status = tonic::Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), Code::Unauthenticated);
        assert!(status.message().contains("not one this gateway accepts"));
        assert!(callers.is_empty());
    }

    #[tokio::test]
    async fn health_and_reflection_need_no_credentials_and_name_no_caller() {
        for path in [
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            let (response, callers) = through(&with_tokens(), call(path, None)).await;
            assert!(
                tonic::Status::from_header_map(response.headers()).is_none(),
                "{path}"
            );
            assert_eq!(callers, vec![None], "{path}");
        }
    }

    #[tokio::test]
    async fn without_tokens_a_call_is_anonymous() {
        let layer = AuthLayer::new(Authenticator::default());
        let (_, callers) = through(&layer, call(LIST, None)).await;
        assert_eq!(callers, vec![Some(Caller::anonymous())]);
    }
}
