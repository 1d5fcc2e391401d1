//! HTTP Basic authentication on every request, as ONTAP requires, and then authorization: the
//! account's role against the request's method.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use headers::authorization::Basic;
use headers::{Authorization, HeaderMapExt};
use http::{HeaderMap, HeaderValue, header};

use crate::accounts::{Accounts, Role};
use crate::errors::ApiError;
use crate::http::media::Media;

/// The challenge ONTAP sends with a 401.
const CHALLENGE: &str = "Basic realm=\"ONTAP\"";

/// Who sent a request: put in the request's extensions once it is authenticated, for the
/// middleware after authentication (authorization, the per-requester counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requester {
    /// The account's user name.
    pub username: String,
    /// The account's role.
    pub role: Role,
}

/// Lets the request through only with the credentials of one of the accounts (compared in
/// constant time, see [`Accounts::authenticate`]), marked with its [`Requester`]; anything else
/// is a 401 with ONTAP's challenge.
pub async fn authenticate(
    State(accounts): State<Accounts>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(requester) = requester(request.headers(), &accounts) {
        request.extensions_mut().insert(requester);
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

/// Lets the request through only if its requester's role permits its method; a request that
/// reached here unauthenticated (a misordered router) is refused too, never waved through.
pub async fn authorize(request: Request, next: Next) -> Response {
    let permitted = request
        .extensions()
        .get::<Requester>()
        .is_some_and(|requester| requester.role.permits(request.method()));
    if permitted {
        next.run(request).await
    } else {
        ApiError::not_authorized().into_response_as(Media::from_headers(request.headers()))
    }
}

fn requester(headers: &HeaderMap, accounts: &Accounts) -> Option<Requester> {
    let Authorization(given) = headers.typed_get::<Authorization<Basic>>()?;
    let role = accounts.authenticate(given.username(), given.password())?;
    Some(Requester {
        username: given.username().to_owned(),
        role,
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use secrecy::SecretString;

    use super::*;
    use crate::Credentials;
    use crate::accounts::Account;

    fn admin_only() -> Accounts {
        Accounts::new(Credentials::default(), Vec::new()).expect("one account")
    }

    fn authorized(headers: &HeaderMap, accounts: &Accounts) -> bool {
        requester(headers, accounts).is_some()
    }

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
        assert!(authorized(&basic("admin:netapp1!"), &admin_only()));
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let value = format!("basic {}", STANDARD.encode("admin:netapp1!"));
        assert!(authorized(&with_authorization(&value), &admin_only()));
    }

    #[test]
    fn wrong_user_is_rejected() {
        assert!(!authorized(&basic("root:netapp1!"), &admin_only()));
    }

    #[test]
    fn wrong_password_is_rejected() {
        assert!(!authorized(&basic("admin:wrong"), &admin_only()));
    }

    #[test]
    fn missing_header_is_rejected() {
        assert!(!authorized(&HeaderMap::new(), &admin_only()));
    }

    #[test]
    fn password_may_contain_colons() {
        let accounts = Accounts::new(
            Credentials {
                username: "u".into(),
                password: "a:b".into(),
            },
            Vec::new(),
        )
        .expect("one account");
        assert!(authorized(&basic("u:a:b"), &accounts));
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        assert!(!authorized(&with_authorization("Basic !!!"), &admin_only()));
        assert!(!authorized(&with_authorization("Bearer x"), &admin_only()));
        assert!(!authorized(&with_authorization("Basic"), &admin_only()));
    }

    #[test]
    fn the_requester_is_the_account_that_matched_with_its_role() {
        let accounts = admin_only();
        accounts
            .add(Account {
                username: "viewer".into(),
                password: SecretString::from("look"),
                role: Role::Readonly,
            })
            .expect("a new name");
        assert_eq!(
            requester(&basic("viewer:look"), &accounts),
            Some(Requester {
                username: "viewer".into(),
                role: Role::Readonly,
            })
        );
        assert_eq!(
            requester(&basic("admin:netapp1!"), &accounts).map(|r| r.role),
            Some(Role::Admin)
        );
    }
}
