//! The accounts the simulator accepts and what each may do, so a client that passes its callers'
//! own ONTAP credentials through can be tested against a cluster where some users may only read.
//!
//! ONTAP's roles are far richer (per command and per API path); two are enough to tell "allowed"
//! from "refused by RBAC": [`Role::Admin`] may do anything, [`Role::Readonly`] may only read.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::{Choice, ConstantTimeEq};

use crate::Credentials;

/// A user the simulator accepts besides [`SimulatorConfig::credentials`](crate::SimulatorConfig),
/// with the role that decides what its requests may do. The password is a [`SecretString`], so it
/// stays out of `Debug` output and logs.
#[derive(Clone, Debug)]
pub struct Account {
    /// User name; unique among the simulator's accounts.
    pub username: String,
    /// Password.
    pub password: SecretString,
    /// What the account may do.
    pub role: Role,
}

/// What an account may do. In JSON (the admin API) `"admin"` or `"readonly"`, ONTAP's names for
/// the two built-in roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every request.
    Admin,
    /// Reads (GET, HEAD) only; any other method is refused with 403.
    Readonly,
}

impl Role {
    /// Whether a request with `method` is within the role; HEAD is a GET without the body.
    pub fn permits(self, method: &http::Method) -> bool {
        match self {
            Role::Admin => true,
            Role::Readonly => method == http::Method::GET || method == http::Method::HEAD,
        }
    }
}

/// Adding an account under a name that is taken, which would make the name's role ambiguous.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an account named {0:?} exists already")]
pub struct AccountExists(pub String);

/// The live account list: the configured credentials (as an admin) first, then the others. It is
/// shared between the REST port, which checks requests against it, and the admin API and
/// [`Simulator::add_account`](crate::Simulator::add_account), which add to it while the simulator
/// runs.
#[derive(Clone, Debug)]
pub struct Accounts(Arc<RwLock<Vec<Account>>>);

impl Accounts {
    /// `credentials` as an admin, then `others`; refused if two share a user name.
    pub fn new(credentials: Credentials, others: Vec<Account>) -> Result<Accounts, AccountExists> {
        let accounts = Accounts(Arc::new(RwLock::new(vec![Account {
            username: credentials.username,
            password: credentials.password,
            role: Role::Admin,
        }])));
        for account in others {
            accounts.add(account)?;
        }
        Ok(accounts)
    }

    /// Adds `account`; its requests are accepted from the next one on.
    pub fn add(&self, account: Account) -> Result<(), AccountExists> {
        let mut accounts = self.0.write().unwrap_or_else(|p| p.into_inner());
        if accounts.iter().any(|a| a.username == account.username) {
            return Err(AccountExists(account.username));
        }
        accounts.push(account);
        Ok(())
    }

    /// The role of the account with this user name and password, if any. Every account is
    /// compared, each in constant time, and the match is picked without branching, so response
    /// timing tells a client nothing about how much of a guess was right, nor which account
    /// it nearly matched.
    pub fn authenticate(&self, username: &str, password: &str) -> Option<Role> {
        let mut matched = Choice::from(0);
        let mut readonly = Choice::from(0);
        for account in self.read().iter() {
            let this = account.username.as_bytes().ct_eq(username.as_bytes())
                & account
                    .password
                    .expose_secret()
                    .as_bytes()
                    .ct_eq(password.as_bytes());
            matched |= this;
            readonly |= this & Choice::from(u8::from(account.role == Role::Readonly));
        }
        match (bool::from(matched), bool::from(readonly)) {
            (false, _) => None,
            (true, false) => Some(Role::Admin),
            (true, true) => Some(Role::Readonly),
        }
    }

    /// The list is plain data, so a panic elsewhere does not make it unusable.
    fn read(&self) -> RwLockReadGuard<'_, Vec<Account>> {
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    fn account(username: &str, password: &str, role: Role) -> Account {
        Account {
            username: username.to_owned(),
            password: SecretString::from(password),
            role,
        }
    }

    fn with_readonly() -> Accounts {
        Accounts::new(
            Credentials::default(),
            vec![account("viewer", "look", Role::Readonly)],
        )
        .expect("distinct names")
    }

    #[test]
    fn the_configured_credentials_are_an_admin() {
        assert_eq!(
            with_readonly().authenticate("admin", "netapp1!"),
            Some(Role::Admin)
        );
    }

    #[test]
    fn each_account_authenticates_with_its_own_role() {
        let accounts = with_readonly();
        accounts
            .add(account("ops", "run", Role::Admin))
            .expect("a new name");
        assert_eq!(
            accounts.authenticate("viewer", "look"),
            Some(Role::Readonly)
        );
        assert_eq!(accounts.authenticate("ops", "run"), Some(Role::Admin));
    }

    #[test]
    fn another_accounts_password_is_refused() {
        let accounts = with_readonly();
        assert_eq!(accounts.authenticate("viewer", "netapp1!"), None);
        assert_eq!(accounts.authenticate("admin", "look"), None);
        assert_eq!(accounts.authenticate("nobody", "look"), None);
    }

    #[test]
    fn a_taken_name_is_refused_and_keeps_its_account() {
        let accounts = with_readonly();
        assert_eq!(
            accounts.add(account("admin", "other", Role::Readonly)),
            Err(AccountExists("admin".to_owned()))
        );
        assert_eq!(accounts.authenticate("admin", "other"), None);
        assert_eq!(
            accounts.authenticate("admin", "netapp1!"),
            Some(Role::Admin)
        );
    }

    #[test]
    fn configured_accounts_with_one_name_are_refused() {
        let twice = vec![
            account("a", "1", Role::Admin),
            account("a", "2", Role::Readonly),
        ];
        assert_eq!(
            Accounts::new(Credentials::default(), twice).err(),
            Some(AccountExists("a".to_owned()))
        );
    }

    #[test]
    fn readonly_permits_reads_only() {
        for method in [Method::GET, Method::HEAD] {
            assert!(Role::Readonly.permits(&method), "{method}");
        }
        for method in [Method::POST, Method::PATCH, Method::DELETE, Method::PUT] {
            assert!(!Role::Readonly.permits(&method), "{method}");
            assert!(Role::Admin.permits(&method), "{method}");
        }
    }

    #[test]
    fn an_accounts_password_stays_out_of_debug_output() {
        let debug = format!("{:?}", account("viewer", "hunter2", Role::Readonly));
        assert!(debug.contains("viewer"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn roles_read_from_ontap_role_names() {
        let roles: Vec<Role> = serde_json::from_str(r#"["admin", "readonly"]"#).expect("roles");
        assert_eq!(roles, [Role::Admin, Role::Readonly]);
        assert!(serde_json::from_str::<Role>(r#""Admin""#).is_err());
    }
}
