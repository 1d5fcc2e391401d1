//! HTTP Basic authentication on every request, as ONTAP requires.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use headers::authorization::Basic;
use headers::{Authorization, HeaderMapExt};
use http::{HeaderMap, HeaderValue, header};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::Credentials;
use crate::errors::ApiError;
use crate::http::media::Media;

/// The challenge ONTAP sends with a 401.
const CHALLENGE: &str = "Basic realm=\"ONTAP\"";

/// Lets the request through only with the configured credentials, compared in constant time so
/// response timing tells a client nothing about how much of a guess was right.
pub async fn require(
    State(credentials): State<Arc<Credentials>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(request.headers(), &credentials) {
        return next.run(request).await;
    }
    let mut response =
        ApiError::unauthorized().into_response_as(Media::from_headers(request.headers()));
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(CHALLENGE),
    );
    response
}

fn authorized(headers: &HeaderMap, credentials: &Credentials) -> bool {
    headers
        .typed_get::<Authorization<Basic>>()
        .is_some_and(|Authorization(given)| {
            let username = given
                .username()
                .as_bytes()
                .ct_eq(credentials.username.as_bytes());
            let password = given
                .password()
                .as_bytes()
                .ct_eq(credentials.password.expose_secret().as_bytes());
            bool::from(username & password)
        })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    fn basic(user_password: &str) -> HeaderMap {
        with_authorization(&format!("Basic {}", STANDARD.encode(user_password)))
    }

    #[test]
    fn default_credentials_are_accepted() {
        assert!(authorized(
            &basic("admin:netapp1!"),
            &Credentials::default()
        ));
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let value = format!("basic {}", STANDARD.encode("admin:netapp1!"));
        assert!(authorized(
            &with_authorization(&value),
            &Credentials::default()
        ));
    }

    #[test]
    fn wrong_user_is_rejected() {
        assert!(!authorized(
            &basic("root:netapp1!"),
            &Credentials::default()
        ));
    }

    #[test]
    fn wrong_password_is_rejected() {
        assert!(!authorized(&basic("admin:wrong"), &Credentials::default()));
    }

    #[test]
    fn missing_header_is_rejected() {
        assert!(!authorized(&HeaderMap::new(), &Credentials::default()));
    }

    #[test]
    fn password_may_contain_colons() {
        let credentials = Credentials {
            username: "u".into(),
            password: "a:b".into(),
        };
        assert!(authorized(&basic("u:a:b"), &credentials));
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        assert!(!authorized(
            &with_authorization("Basic !!!"),
            &Credentials::default()
        ));
        assert!(!authorized(
            &with_authorization("Bearer x"),
            &Credentials::default()
        ));
        assert!(!authorized(
            &with_authorization("Basic"),
            &Credentials::default()
        ));
    }
}
