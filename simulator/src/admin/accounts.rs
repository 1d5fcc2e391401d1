//! `/accounts`: users added while the simulator runs, so a script can give each of several
//! clients an account of its own (and a role) without restarting the simulator.
//!
//! `POST /accounts` takes `{"username": "...", "password": "...", "role": "admin"|"readonly"}`,
//! every field required, and answers 201 with the account without its password.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, parse_body};
use crate::accounts::{Account, Role};

/// An account as `POST /accounts` takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an account: a JSON object")]
struct AccountJson {
    username: String,
    password: String,
    role: Role,
}

/// An account as the answer shows it: never the password.
#[derive(Serialize)]
struct AddedJson<'a> {
    username: &'a str,
    role: Role,
}

/// Reads an account; the user name must be usable in HTTP Basic authentication, which ends it at
/// the first colon.
fn parse_account(body: &[u8]) -> Result<Account, AdminError> {
    let json: AccountJson = parse_body(body).map_err(AdminError::BadAccount)?;
    if json.username.is_empty() || json.username.contains(':') {
        return Err(AdminError::BadAccount(format!(
            "username {:?} must be non-empty and without a colon",
            json.username
        )));
    }
    Ok(Account {
        username: json.username,
        password: json.password.into(),
        role: json.role,
    })
}

pub(super) async fn add(State(admin): State<Admin>, body: Bytes) -> Result<Response, AdminError> {
    let account = parse_account(&body)?;
    let (username, role) = (account.username.clone(), account.role);
    admin
        .accounts
        .add(account)
        .map_err(|exists| AdminError::AccountExists(exists.0))?;
    let added = AddedJson {
        username: &username,
        role,
    };
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn refusal(body: &str) -> String {
        match parse_account(body.as_bytes()) {
            Ok(account) => panic!("{body} was accepted as {account:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn an_account_reads_with_its_role() {
        let account =
            parse_account(br#"{"username": "r1", "password": "p:w", "role": "readonly"}"#)
                .expect("valid");
        assert_eq!(account.username, "r1");
        assert_eq!(account.password.expose_secret(), "p:w");
        assert_eq!(account.role, Role::Readonly);
    }

    #[test]
    fn refusals_name_the_field_at_fault() {
        for (body, named) in [
            (r#"{"username": "r1", "password": "p"}"#, "role"),
            (
                r#"{"username": "r1", "password": "p", "role": "root"}"#,
                "role",
            ),
            (r#"{"username": "r1", "role": "admin"}"#, "password"),
            (
                r#"{"username": "r1", "password": "p", "role": "admin", "roles": []}"#,
                "roles",
            ),
            (
                r#"{"username": "", "password": "p", "role": "admin"}"#,
                "username",
            ),
            (
                r#"{"username": "a:b", "password": "p", "role": "admin"}"#,
                "username",
            ),
            ("[]", "an account"),
        ] {
            let message = refusal(body);
            assert!(message.contains(named), "{body}: {message}");
        }
    }
}
