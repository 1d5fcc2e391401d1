//! The gRPC services by name: a call goes to the service its path names
//! (`/<package>.<Service>/<Method>`), and a call to any other is answered
//! UNIMPLEMENTED, as gRPC servers do.
//!
//! Hand-written rather than tonic's own router, which is built on axum: the
//! gateway needs nothing else of axum, and this is a map lookup.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

type Route = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Infallible>;

/// The services the server answers, by their full gRPC name.
#[derive(Clone, Default)]
pub struct Routes {
    services: Arc<HashMap<&'static str, Route>>,
}

impl Routes {
    /// Adds `service` under its gRPC name.
    pub fn with<S>(mut self, service: S) -> Self
    where
        S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        Arc::make_mut(&mut self.services).insert(S::NAME, BoxCloneSyncService::new(service));
        self
    }

    /// The service a request's path names.
    fn route(&self, path: &str) -> Option<&Route> {
        let name = path.trim_start_matches('/').split('/').next()?;
        self.services.get(name)
    }
}

impl Service<http::Request<Body>> for Routes {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Each call is handed to a clone of its route, which is polled then.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match self.route(request.uri().path()) {
            Some(route) => Box::pin(route.clone().oneshot(request)),
            None => {
                let status =
                    tonic::Status::unimplemented(format!("no service at {}", request.uri().path()));
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}
