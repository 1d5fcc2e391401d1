//! The description of each cluster the gateway fronts, from `serve`'s flags
//! or from the clusters file (`serve --config FILE`, TOML): one
//! `[[cluster]]` table per cluster. The file is checked whole at start, and
//! every mistake is reported with the file and line it is on, so that a
//! gateway never starts half-configured against a fleet.
//!
//! ```toml
//! [[cluster]]
//! name = "east"                          # what `x-ontap-cluster` names
//! url = "https://east-mgmt.example.com"
//! ca_cert = "/etc/ontap-gateway/ca/east.pem"
//! credentials = "service-account"        # or "pass-through"
//! username = "ontap-gateway"
//! password_file = "/var/run/secrets/ontap-gateway/east-password"
//! max_in_flight = 8
//! request_timeout = "130s"
//! queue_timeout = "10s"
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use toml::Spanned;

use crate::upstream_url::UpstreamUrl;

/// One cluster as the flags or the file describe it: both become a client
/// the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// What `x-ontap-cluster` metadata names it by.
    pub name: String,
    /// The cluster management URL: an `http://` one only where the flag
    /// or the file allowed plaintext, so whoever uses a spec need not ask
    /// again.
    pub url: UpstreamUrl,
    /// A PEM bundle to trust instead of the system store.
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate (lab clusters only).
    pub insecure_skip_tls_verify: bool,
    /// Whose credentials its requests carry.
    pub credentials: CredentialSpec,
    /// Bound on concurrent requests (and connections) to it; `None` for
    /// the client's default.
    pub max_in_flight: Option<usize>,
    /// Bound on one request when the caller sets no shorter deadline.
    pub request_timeout: Option<Duration>,
    /// How long a call waits for a free request slot.
    pub queue_timeout: Option<Duration>,
    /// Where the description came from, to name in later errors (a
    /// password file that cannot be read) and warnings.
    pub described_by: DescribedBy,
}

/// Where a cluster's description came from: what an operator is told to
/// look at when something in it is wrong, and what set it up the way it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescribedBy {
    /// `serve`'s own flags (`--ontap-url` and the rest).
    Flags,
    /// `serve --simulate`: the embedded simulator on loopback, whose
    /// account opens nothing real.
    EmbeddedSimulator,
    /// A `[[cluster]]` table of the clusters file.
    File {
        /// The file, as given.
        path: String,
        /// The line its table starts on.
        line: usize,
    },
}

/// Whose credentials a cluster's requests carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSpec {
    /// The caller's own `authorization: Basic` metadata.
    PassThrough,
    /// The gateway's own account.
    ServiceAccount {
        /// ONTAP user.
        username: String,
        /// Where its password is.
        password: PasswordSource,
    },
}

/// Where a service account's password is read from: never the clusters
/// file or a flag itself.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// A file of one line (a mounted secret).
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// Held by the gateway already: the embedded simulator's account,
    /// which it made up itself.
    Embedded(SecretString),
}

/// Two embedded passwords are alike when their secrets are: comparing is
/// all that exposes them.
impl PartialEq for PasswordSource {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::File(a), Self::File(b)) => a == b,
            (Self::Env(a), Self::Env(b)) => a == b,
            (Self::Embedded(a), Self::Embedded(b)) => a.expose_secret() == b.expose_secret(),
            _ => false,
        }
    }
}

impl Eq for PasswordSource {}

/// A clusters file the gateway cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Something in it is wrong; `line` is 1-based.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Where.
        line: usize,
        /// What, and what to write instead.
        message: String,
    },
}

/// The longest timeout a cluster may set: an hour.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The longest cluster name: a DNS label's bound. A name travels in
/// `x-ontap-cluster` metadata and every log line, metric label and health
/// service name about its cluster, where a long one costs on each.
pub const MAX_CLUSTER_NAME_LEN: usize = 63;
/// How much of a refused name an error shows: enough to find it in the
/// file, not a 5,000-character line.
const NAME_SHOWN: usize = 40;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    cluster: Vec<Spanned<Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    name: Spanned<String>,
    url: Spanned<UpstreamUrl>,
    ca_cert: Option<PathBuf>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
    #[serde(default)]
    allow_plaintext: bool,
    credentials: Spanned<Mode>,
    username: Option<Spanned<String>>,
    password_file: Option<Spanned<PathBuf>>,
    password_env: Option<Spanned<String>>,
    max_in_flight: Option<Spanned<u16>>,
    request_timeout: Option<Spanned<String>>,
    queue_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    ServiceAccount,
    PassThrough,
}

/// Reads and checks the clusters file at `path`.
pub fn read(path: &Path) -> Result<Vec<ClusterSpec>, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    parse(&text, &shown)
}

/// Checks the clusters file's `text`; `path` names it in errors.
pub fn parse(text: &str, path: &str) -> Result<Vec<ClusterSpec>, ConfigError> {
    let at = |span: Option<Range<usize>>, message: String| ConfigError::Invalid {
        path: path.to_owned(),
        line: span.map_or(1, |s| line_of(text, s.start)),
        message,
    };
    let file: File = toml::from_str(text).map_err(|e| at(e.span(), e.message().to_owned()))?;
    if file.cluster.is_empty() {
        return Err(at(
            None,
            "no [[cluster]] table: name at least one cluster (name, url, credentials)".into(),
        ));
    }
    let mut specs: Vec<ClusterSpec> = Vec::with_capacity(file.cluster.len());
    let mut lines = std::collections::HashMap::new();
    for table in file.cluster {
        let line = line_of(text, table.span().start);
        let table = table.into_inner();
        let name = table.name.get_ref();
        if let Err(why) = check_name(name) {
            return Err(at(Some(table.name.span()), why));
        }
        if let Some(first) = lines.insert(name.clone(), line) {
            return Err(at(
                Some(table.name.span()),
                format!("a second cluster named `{name}` (the first is on line {first})"),
            ));
        }
        let url = table.url.get_ref();
        if url.is_plaintext() && !table.allow_plaintext {
            return Err(at(
                Some(table.url.span()),
                format!(
                    "url `{url}` would send credentials in clear text: use https://, or set \
                     allow_plaintext = true for a lab simulator on a trusted network"
                ),
            ));
        }
        let credentials = credentials(&table, &at)?;
        let timeout = |value: &Option<Spanned<String>>, key: &str| {
            value
                .as_ref()
                .map(|v| {
                    parse_timeout(v.get_ref())
                        .map_err(|why| at(Some(v.span()), format!("{key} {why}")))
                })
                .transpose()
        };
        let request_timeout = timeout(&table.request_timeout, "request_timeout")?;
        let queue_timeout = timeout(&table.queue_timeout, "queue_timeout")?;
        if let Some(max) = &table.max_in_flight
            && !(1..=1024).contains(max.get_ref())
        {
            return Err(at(
                Some(max.span()),
                format!("max_in_flight {} is outside 1-1024", max.get_ref()),
            ));
        }
        specs.push(ClusterSpec {
            name: name.clone(),
            url: url.clone(),
            ca_cert: table.ca_cert.clone(),
            insecure_skip_tls_verify: table.insecure_skip_tls_verify,
            credentials,
            max_in_flight: table
                .max_in_flight
                .as_ref()
                .map(|m| usize::from(*m.get_ref())),
            request_timeout,
            queue_timeout,
            described_by: DescribedBy::File {
                path: path.to_owned(),
                line,
            },
        });
    }
    Ok(specs)
}

/// A cluster name: 1 to [`MAX_CLUSTER_NAME_LEN`] ASCII letters, digits,
/// `.`, `_` or `-`, which every log format, Prometheus label value and
/// metadata value carries as it is.
fn check_name(name: &str) -> Result<(), String> {
    let mut shown: String = name
        .chars()
        .take(NAME_SHOWN)
        .flat_map(char::escape_debug)
        .collect();
    if name.chars().nth(NAME_SHOWN).is_some() {
        shown.push_str("...");
    }
    if name.len() > MAX_CLUSTER_NAME_LEN {
        return Err(format!(
            "cluster name `{shown}` is {} bytes long; at most {MAX_CLUSTER_NAME_LEN} (it names \
             the cluster in metric labels, logs and health services)",
            name.len()
        ));
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "cluster name `{shown}` must be letters, digits, `.`, `_` or `-` (it travels in \
             x-ontap-cluster metadata)"
        ));
    }
    Ok(())
}

/// The credentials a table describes, which must be complete for its mode
/// and carry nothing of the other's.
fn credentials(
    table: &Table,
    at: &impl Fn(Option<Range<usize>>, String) -> ConfigError,
) -> Result<CredentialSpec, ConfigError> {
    let mode = Some(table.credentials.span());
    match table.credentials.get_ref() {
        Mode::PassThrough => {
            let extra = [
                table.username.as_ref().map(|v| ("username", v.span())),
                table
                    .password_file
                    .as_ref()
                    .map(|v| ("password_file", v.span())),
                table
                    .password_env
                    .as_ref()
                    .map(|v| ("password_env", v.span())),
            ];
            if let Some((key, span)) = extra.into_iter().flatten().next() {
                return Err(at(
                    Some(span),
                    format!(
                        "{key} is for credentials = \"service-account\": a pass-through \
                         cluster forwards each caller's own credentials and holds none"
                    ),
                ));
            }
            Ok(CredentialSpec::PassThrough)
        }
        Mode::ServiceAccount => {
            let username = table
                .username
                .as_ref()
                .filter(|u| !u.get_ref().is_empty())
                .ok_or_else(|| {
                    at(
                        mode.clone(),
                        "a service-account cluster needs username = \"...\"".into(),
                    )
                })?;
            let password = match (&table.password_file, &table.password_env) {
                (Some(file), None) => PasswordSource::File(file.get_ref().clone()),
                (None, Some(var)) => PasswordSource::Env(var.get_ref().clone()),
                (Some(_), Some(var)) => {
                    return Err(at(
                        Some(var.span()),
                        "give one of password_file and password_env, not both".into(),
                    ));
                }
                (None, None) => {
                    return Err(at(
                        mode,
                        "a service-account cluster needs password_file = \"/path\" (a mounted \
                         secret) or password_env = \"VARIABLE\"; passwords never go in this \
                         file"
                            .into(),
                    ));
                }
            };
            Ok(CredentialSpec::ServiceAccount {
                username: username.get_ref().clone(),
                password,
            })
        }
    }
}

/// A timeout: jiff's friendly form (`30s`, `2m`) or ISO 8601, from 1 ms to
/// an hour.
pub fn parse_timeout(text: &str) -> Result<Duration, DurationError> {
    parse_duration(text, MAX_TIMEOUT, "1h")
}

/// A duration an operator wrote that the gateway cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a duration at all.
    #[error("`{text}` is not a duration like 30s, 500ms or 2m")]
    Unreadable {
        /// What was written.
        text: String,
    },
    /// A duration past the bounds of what it sets.
    #[error("`{text}` is outside 1ms to {max_shown}")]
    OutOfRange {
        /// What was written.
        text: String,
        /// The bound, as an operator would write it.
        max_shown: &'static str,
    },
}

/// A duration as operators write one: jiff's friendly form (`30s`, `500ms`,
/// `1m 30s`) or ISO 8601 (`PT30S`), from 1 ms to `max` (written `max_shown`
/// in the error).
pub fn parse_duration(
    text: &str,
    max: Duration,
    max_shown: &'static str,
) -> Result<Duration, DurationError> {
    let parsed: jiff::SignedDuration = text.parse().map_err(|_| DurationError::Unreadable {
        text: text.to_owned(),
    })?;
    Duration::try_from(parsed)
        .ok()
        .filter(|d| (Duration::from_millis(1)..=max).contains(d))
        .ok_or_else(|| DurationError::OutOfRange {
            text: text.to_owned(),
            max_shown,
        })
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_passwords_are_alike_only_when_their_secrets_are() {
        let embedded = |secret: &str| PasswordSource::Embedded(SecretString::from(secret));
        assert_eq!(embedded("s3cret"), embedded("s3cret"));
        assert_ne!(embedded("s3cret"), embedded("other"));
        assert_ne!(embedded("X"), PasswordSource::Env("X".into()));
        assert_ne!(
            PasswordSource::Env("X".into()),
            PasswordSource::File("X".into())
        );
    }

    const TWO: &str = r#"
[[cluster]]
name = "east"
url = "https://east.example"
ca_cert = "/etc/ca/east.pem"
credentials = "service-account"
username = "gw"
password_file = "/run/secrets/east"
max_in_flight = 4
request_timeout = "30s"
queue_timeout = "2s"

[[cluster]]
name = "west"
url = "https://west.example"
credentials = "pass-through"
"#;

    fn error(text: &str) -> (usize, String) {
        match parse(text, "clusters.toml").unwrap_err() {
            ConfigError::Invalid { line, message, .. } => (line, message),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn each_cluster_table_becomes_a_spec() {
        let specs = parse(TWO, "clusters.toml").unwrap();
        assert_eq!(
            specs[0],
            ClusterSpec {
                name: "east".into(),
                url: "https://east.example".parse().unwrap(),
                ca_cert: Some("/etc/ca/east.pem".into()),
                insecure_skip_tls_verify: false,
                credentials: CredentialSpec::ServiceAccount {
                    username: "gw".into(),
                    password: PasswordSource::File("/run/secrets/east".into()),
                },
                max_in_flight: Some(4),
                request_timeout: Some(Duration::from_secs(30)),
                queue_timeout: Some(Duration::from_secs(2)),
                described_by: DescribedBy::File {
                    path: "clusters.toml".into(),
                    line: 2,
                },
            }
        );
        assert_eq!(specs[1].credentials, CredentialSpec::PassThrough);
        assert_eq!(
            specs[1].described_by,
            DescribedBy::File {
                path: "clusters.toml".into(),
                line: 13
            }
        );
    }

    #[test]
    fn a_password_may_come_from_the_environment() {
        let text = TWO.replace(
            "password_file = \"/run/secrets/east\"",
            "password_env = \"EAST_PW\"",
        );
        let specs = parse(&text, "c").unwrap();
        assert!(matches!(
            &specs[0].credentials,
            CredentialSpec::ServiceAccount { password: PasswordSource::Env(v), .. } if v == "EAST_PW"
        ));
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let (line, _) = error("[[cluster]]\nname = \"a\"\nurl = https://x\n");
        assert_eq!(line, 3);
    }

    #[test]
    fn an_unknown_key_names_its_line_and_the_keys_there_are() {
        let text = TWO.replace("max_in_flight = 4", "max_inflight = 4");
        let (line, message) = error(&text);
        assert_eq!(line, 9);
        assert!(message.contains("max_inflight"), "{message}");
    }

    #[test]
    fn a_second_cluster_of_the_same_name_points_at_the_first() {
        let text = TWO.replace("name = \"west\"", "name = \"east\"");
        let (line, message) = error(&text);
        assert_eq!(line, 14);
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn names_must_be_fit_for_metadata() {
        let (line, _) = error(&TWO.replace("name = \"west\"", "name = \"we st\""));
        assert_eq!(line, 14);
    }

    #[test]
    fn a_name_longer_than_63_bytes_is_refused_naming_its_line() {
        let long = "w".repeat(5_000);
        let (line, message) = error(&TWO.replace("name = \"west\"", &format!("name = \"{long}\"")));
        assert_eq!(line, 14);
        assert!(message.contains("5000 bytes long; at most 63"), "{message}");
        assert!(
            message.len() < 200,
            "the name is not echoed whole: {message}"
        );
    }

    #[test]
    fn a_name_of_63_bytes_is_accepted() {
        let name = format!("west-{}", "9".repeat(MAX_CLUSTER_NAME_LEN - 5));
        let specs = parse(&TWO.replace("west", &name), "c").unwrap();
        assert_eq!(specs[1].name, name);
    }

    #[test]
    fn a_name_with_a_character_no_label_takes_is_refused() {
        for bad in [
            "",
            "we st",
            "west/1",
            "wést",
            "west{x=\\\"1\\\"}",
            "west\\n",
        ] {
            let text = TWO.replace("name = \"west\"", &format!("name = \"{bad}\""));
            let (line, message) = error(&text);
            assert_eq!(line, 14, "{bad}");
            assert!(message.contains("letters, digits"), "{bad}: {message}");
        }
    }

    #[test]
    fn plaintext_urls_need_allow_plaintext() {
        let text = TWO.replace("https://west.example", "http://west.example");
        let (line, message) = error(&text);
        assert_eq!(line, 15);
        assert!(message.contains("allow_plaintext"), "{message}");
        let allowed = text.replace(
            "credentials = \"pass-through\"",
            "credentials = \"pass-through\"\nallow_plaintext = true",
        );
        assert!(parse(&allowed, "c").is_ok());
    }

    #[test]
    fn a_url_without_a_scheme_is_told_to_use_https() {
        let (_, message) = error(&TWO.replace("https://west.example", "west.example"));
        assert!(message.contains("https://"), "{message}");
    }

    #[test]
    fn a_url_that_is_not_http_or_https_is_refused_on_its_line() {
        let (line, message) = error(&TWO.replace("https://west.example", "ftp://west.example"));
        assert_eq!(line, 15);
        assert!(message.contains("ftp://west.example"), "{message}");
    }

    #[test]
    fn a_service_account_needs_a_user_and_one_password_source() {
        let (line, message) = error(&TWO.replace("username = \"gw\"\n", ""));
        assert_eq!(line, 6, "the credentials line");
        assert!(message.contains("username"), "{message}");
        let (_, message) = error(&TWO.replace("password_file = \"/run/secrets/east\"\n", ""));
        assert!(message.contains("password_file"), "{message}");
        let both = TWO.replace(
            "password_file = \"/run/secrets/east\"",
            "password_file = \"/run/secrets/east\"\npassword_env = \"X\"",
        );
        let (_, message) = error(&both);
        assert!(message.contains("not both"), "{message}");
    }

    #[test]
    fn a_pass_through_cluster_holds_no_credentials() {
        let text = TWO.replace(
            "credentials = \"pass-through\"",
            "credentials = \"pass-through\"\nusername = \"x\"",
        );
        let (line, message) = error(&text);
        assert_eq!(line, 17);
        assert!(message.contains("username"), "{message}");
    }

    #[test]
    fn an_unknown_credential_mode_lists_the_modes() {
        let (line, message) = error(&TWO.replace("\"pass-through\"", "\"kerberos\""));
        assert_eq!(line, 16);
        assert!(message.contains("pass-through"), "{message}");
    }

    #[test]
    fn bounds_are_checked_where_they_are_set() {
        let (line, _) = error(&TWO.replace("max_in_flight = 4", "max_in_flight = 0"));
        assert_eq!(line, 9);
        let (line, message) = error(&TWO.replace("\"30s\"", "\"2h\""));
        assert_eq!(line, 10);
        assert!(message.contains("request_timeout"), "{message}");
        let (line, _) = error(&TWO.replace("\"2s\"", "\"soon\""));
        assert_eq!(line, 11);
    }

    #[test]
    fn a_file_without_clusters_says_what_to_add() {
        let (_, message) = error("# nothing\n");
        assert!(message.contains("[[cluster]]"), "{message}");
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let err = read(Path::new("/nonexistent/clusters.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/clusters.toml"));
    }
}
