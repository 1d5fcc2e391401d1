//! Each cluster the gateway fronts is described one way, as a
//! [`ClusterSpec`], whether the flags, the clusters file or `--simulate`
//! describe it, and becomes its client's settings one way: the password
//! read from where it is kept, the CA file read, plaintext and unchecked
//! certificates warned about. A mistake is told in the terms of whatever
//! described the cluster (a flag, or a file and line).

use std::path::{Path, PathBuf};

use ontap_grpc_gateway::config::{ClusterSpec, CredentialSpec, DescribedBy, PasswordSource};
use ontap_grpc_gateway::ontap::{ClientConfig, DEFAULT_CLUSTER, TlsOptions};
use ontap_grpc_gateway::upstream_url::{UpstreamUrl, UpstreamUrlError};
use secrecy::{ExposeSecret, SecretString};

use crate::cli::{ClusterFlags, CredentialMode};

/// A cluster the gateway cannot start with. No variant holds a password:
/// errors name where one is kept, never what it is.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `--ontap-url` is not an http(s) URL.
    #[error("--ontap-url {0}")]
    OntapUrl(#[source] UpstreamUrlError),
    /// `--ontap-url` is http:// without `--allow-plaintext-upstream`.
    #[error(
        "--ontap-url {url} would send the ONTAP password in clear text; use https://, or \
         --allow-plaintext-upstream for a lab simulator on a trusted network"
    )]
    PlaintextRefused {
        /// The URL, credentials redacted.
        url: UpstreamUrl,
    },
    /// The embedded simulator reported a URL that is not http(s).
    #[error("the embedded simulator's URL {0}")]
    EmbeddedUrl(#[source] UpstreamUrlError),
    /// The password file cannot be read.
    #[error("reading the password file {path}: {source}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        source: std::io::Error,
    },
    /// The password's variable is unset (or not Unicode).
    #[error(
        "set the ONTAP password in the environment variable {variable}, or give a password file"
    )]
    PasswordVariableUnset {
        /// The variable.
        variable: String,
    },
    /// Where the password is kept holds an empty one.
    #[error("the ONTAP password in {place} is empty")]
    EmptyPassword {
        /// Where, as an operator would look for it.
        place: String,
    },
    /// The CA bundle to trust cannot be read.
    #[error("reading {path}: {source}")]
    CaCert {
        /// The bundle.
        path: PathBuf,
        source: std::io::Error,
    },
    /// Any of these, for a cluster of the clusters file.
    #[error("{path}:{line}: cluster `{name}`: {source}")]
    InFile {
        /// The clusters file.
        path: String,
        /// Where its table starts.
        line: usize,
        /// The cluster's name.
        name: String,
        source: Box<ClusterError>,
    },
}

/// The one cluster `--ontap-url` and its flags describe.
pub fn from_flags(url: &str, flags: &ClusterFlags) -> Result<ClusterSpec, ClusterError> {
    let url: UpstreamUrl = url.parse().map_err(ClusterError::OntapUrl)?;
    if url.is_plaintext() && !flags.allow_plaintext_upstream {
        return Err(ClusterError::PlaintextRefused { url });
    }
    let password = match &flags.password_file {
        Some(path) => PasswordSource::File(path.clone()),
        None => PasswordSource::Env(flags.password_env.clone()),
    };
    let account = (flags.username.clone(), password);
    Ok(described(flags, url, account, DescribedBy::Flags))
}

/// The embedded simulator at `url`, signed in to with its own `account`
/// unless the flags pass callers' credentials through.
pub fn from_embedded_simulator(
    url: &str,
    (username, password): (&str, &SecretString),
    flags: &ClusterFlags,
) -> Result<ClusterSpec, ClusterError> {
    let url = url.parse().map_err(ClusterError::EmbeddedUrl)?;
    let account = (
        username.to_owned(),
        PasswordSource::Embedded(password.clone()),
    );
    Ok(described(
        flags,
        url,
        account,
        DescribedBy::EmbeddedSimulator,
    ))
}

/// The cluster at `url` as `flags` set it up, signing in as `account` for a
/// service account.
fn described(
    flags: &ClusterFlags,
    url: UpstreamUrl,
    (username, password): (String, PasswordSource),
    described_by: DescribedBy,
) -> ClusterSpec {
    let credentials = match flags.credentials {
        Some(CredentialMode::PassThrough) => CredentialSpec::PassThrough,
        Some(CredentialMode::ServiceAccount) | None => {
            CredentialSpec::ServiceAccount { username, password }
        }
    };
    ClusterSpec {
        name: DEFAULT_CLUSTER.to_owned(),
        url,
        ca_cert: flags.ca_cert.clone(),
        insecure_skip_tls_verify: flags.insecure_skip_tls_verify,
        credentials,
        max_in_flight: Some(flags.max_in_flight),
        request_timeout: Some(flags.request_timeout()),
        queue_timeout: Some(flags.queue_timeout()),
        described_by,
    }
}

/// The client settings of the cluster `spec` describes; what it leaves
/// unset keeps the client's default.
pub fn client_config(spec: ClusterSpec) -> Result<ClientConfig, ClusterError> {
    let DescribedBy::File { path, line } = &spec.described_by else {
        return settings(&spec);
    };
    settings(&spec).map_err(|source| ClusterError::InFile {
        path: path.clone(),
        line: *line,
        name: spec.name.clone(),
        source: Box::new(source),
    })
}

fn settings(spec: &ClusterSpec) -> Result<ClientConfig, ClusterError> {
    if spec.url.is_plaintext()
        && let Some(allowed_by) = plaintext_allowed_by(&spec.described_by)
    {
        tracing::warn!(cluster = %spec.name, "{allowed_by}: ONTAP credentials cross the network in clear text");
    }
    let base_url = spec.url.as_str();
    let mut config = match &spec.credentials {
        CredentialSpec::PassThrough => ClientConfig::pass_through(base_url),
        CredentialSpec::ServiceAccount { username, password } => ClientConfig {
            password_origin: password_origin(password, &spec.described_by),
            ..ClientConfig::new(
                base_url,
                username.as_str(),
                read_password(password)?.expose_secret(),
            )
        },
    };
    config.name = spec.name.as_str().into();
    config.tls = tls_options(spec)?;
    if let Some(max) = spec.max_in_flight {
        config.max_in_flight = max;
    }
    if let Some(timeout) = spec.request_timeout {
        config.request_timeout = timeout;
    }
    if let Some(timeout) = spec.queue_timeout {
        config.queue_timeout = timeout;
    }
    Ok(config)
}

/// What allowed a plaintext URL, to name in its warning; the embedded
/// simulator's is on loopback and needs none.
fn plaintext_allowed_by(described_by: &DescribedBy) -> Option<&'static str> {
    match described_by {
        DescribedBy::Flags => Some("--allow-plaintext-upstream"),
        DescribedBy::File { .. } => Some("allow_plaintext"),
        DescribedBy::EmbeddedSimulator => None,
    }
}

/// Where the password came from and what said so, as the operator set it
/// (`the environment variable ONTAP_PASSWORD, which --password-env names`):
/// what the health probe tells them to check when ONTAP refuses it.
fn password_origin(source: &PasswordSource, described_by: &DescribedBy) -> Option<String> {
    let setting = match (described_by, source) {
        (DescribedBy::EmbeddedSimulator, _) | (_, PasswordSource::Embedded(_)) => return None,
        (DescribedBy::Flags, PasswordSource::File(_)) => "--password-file".to_owned(),
        (DescribedBy::Flags, PasswordSource::Env(_)) => "--password-env".to_owned(),
        (DescribedBy::File { path, line }, PasswordSource::File(_)) => {
            format!("the password_file on {path}:{line}")
        }
        (DescribedBy::File { path, line }, PasswordSource::Env(_)) => {
            format!("the password_env on {path}:{line}")
        }
    };
    Some(format!("{}, which {setting} names", place(source)))
}

/// Where a password is kept, as an operator would look for it.
fn place(source: &PasswordSource) -> String {
    match source {
        PasswordSource::File(path) => format!("the file {}", path.display()),
        PasswordSource::Env(variable) => format!("the environment variable {variable}"),
        PasswordSource::Embedded(_) => "the embedded simulator's account".to_owned(),
    }
}

/// A service account's password from where it is kept.
fn read_password(source: &PasswordSource) -> Result<SecretString, ClusterError> {
    let password =
        match source {
            PasswordSource::File(path) => SecretString::from(read_password_file(path)?),
            PasswordSource::Env(variable) => std::env::var(variable)
                .map(SecretString::from)
                .map_err(|_| ClusterError::PasswordVariableUnset {
                    variable: variable.clone(),
                })?,
            PasswordSource::Embedded(password) => password.clone(),
        };
    if password.expose_secret().is_empty() {
        return Err(ClusterError::EmptyPassword {
            place: place(source),
        });
    }
    Ok(password)
}

/// The password in `path`: its text less the line ending a secret file
/// usually has.
fn read_password_file(path: &Path) -> Result<String, ClusterError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClusterError::PasswordFile {
        path: path.to_owned(),
        source,
    })?;
    let line = text.strip_suffix('\n').map_or(text.as_str(), |line| {
        line.strip_suffix('\r').unwrap_or(line)
    });
    Ok(line.to_owned())
}

/// How the cluster's certificate is checked.
fn tls_options(spec: &ClusterSpec) -> Result<TlsOptions, ClusterError> {
    if spec.insecure_skip_tls_verify {
        tracing::warn!(cluster = %spec.name, "TLS verification of the cluster's certificate is OFF");
    }
    let ca_cert_pem = match &spec.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|source| ClusterError::CaCert {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    Ok(TlsOptions {
        ca_cert_pem,
        insecure_skip_verify: spec.insecure_skip_tls_verify,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ontap_grpc_gateway::ontap::Credentials;

    use super::*;
    use crate::cli::tests::{serve_args, try_serve};

    /// The cluster `--ontap-url URL` and `flags` describe.
    fn from(url: &str, flags: &[&str]) -> Result<ClusterSpec, ClusterError> {
        from_flags(url, &try_serve(flags).expect("flags parse").cluster)
    }

    fn password_file(dir: &Path, text: &str) -> PathBuf {
        let file = dir.join("password");
        std::fs::write(&file, text).unwrap();
        file
    }

    #[test]
    fn a_plaintext_warning_names_the_setting_that_allowed_it() {
        assert_eq!(
            plaintext_allowed_by(&DescribedBy::Flags),
            Some("--allow-plaintext-upstream")
        );
        let file = DescribedBy::File {
            path: "clusters.toml".into(),
            line: 3,
        };
        assert_eq!(plaintext_allowed_by(&file), Some("allow_plaintext"));
        assert_eq!(plaintext_allowed_by(&DescribedBy::EmbeddedSimulator), None);
    }

    #[test]
    fn an_http_upstream_is_refused_unless_allowed() {
        let why = from("http://cluster", &[]).unwrap_err().to_string();
        assert!(
            why.contains("clear text") && why.contains("--allow-plaintext-upstream"),
            "{why}"
        );
        assert!(from("HTTP://cluster", &[]).is_err());
        let allowed = from("http://cluster", &["--allow-plaintext-upstream"]).unwrap();
        assert!(allowed.url.is_plaintext());
        assert!(!from("https://cluster", &[]).unwrap().url.is_plaintext());
    }

    #[test]
    fn an_upstream_without_a_scheme_is_told_to_add_https() {
        let why = from("cluster-mgmt", &[]).unwrap_err().to_string();
        assert_eq!(
            why,
            "--ontap-url cluster-mgmt has no scheme; the cluster management URL is \
             https://cluster-mgmt"
        );
    }

    #[test]
    fn the_flags_describe_their_cluster_as_the_file_would() {
        let spec = from(
            "https://cluster",
            &[
                "--username",
                "gw",
                "--password-env",
                "GW_PW",
                "--max-in-flight",
                "3",
                "--queue-timeout",
                "2s",
                "--request-timeout-ms",
                "4000",
            ],
        )
        .unwrap();
        assert_eq!(
            spec,
            ClusterSpec {
                name: DEFAULT_CLUSTER.into(),
                url: "https://cluster".parse().unwrap(),
                ca_cert: None,
                insecure_skip_tls_verify: false,
                credentials: CredentialSpec::ServiceAccount {
                    username: "gw".into(),
                    password: PasswordSource::Env("GW_PW".into()),
                },
                max_in_flight: Some(3),
                request_timeout: Some(Duration::from_secs(4)),
                queue_timeout: Some(Duration::from_secs(2)),
                described_by: DescribedBy::Flags,
            }
        );
    }

    #[test]
    fn a_spec_becomes_a_client_with_its_settings_and_the_defaults_for_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = password_file(dir.path(), "s3cret\n");
        let spec = from(
            "https://cluster",
            &[
                "--password-file",
                file.to_str().unwrap(),
                "--max-in-flight",
                "3",
            ],
        )
        .unwrap();
        let config = client_config(spec).unwrap();
        assert_eq!(&*config.name, DEFAULT_CLUSTER);
        assert_eq!(config.base_url, "https://cluster");
        assert_eq!(config.max_in_flight, 3);
        assert!(matches!(
            &config.credentials,
            Credentials::ServiceAccount { username, password }
                if username == "admin" && password.expose_secret() == "s3cret"
        ));
        assert_eq!(
            config.password_origin.as_deref(),
            Some(format!("the file {}, which --password-file names", file.display()).as_str())
        );
        let defaults = ClientConfig::pass_through("https://cluster");
        assert_eq!(config.connect_timeout, defaults.connect_timeout);
    }

    #[test]
    fn a_pass_through_cluster_reads_no_password() {
        let spec = from(
            "https://cluster",
            &[
                "--credentials",
                "pass-through",
                "--password-env",
                "UNSET_PW_VARIABLE",
            ],
        )
        .unwrap();
        let config = client_config(spec).unwrap();
        assert!(matches!(config.credentials, Credentials::PassThrough));
        assert_eq!(config.password_origin, None);
    }

    #[test]
    fn the_embedded_simulators_account_is_its_own_and_names_no_origin() {
        let password = SecretString::from("netapp1!");
        let flags = serve_args(&[]).cluster;
        let spec =
            from_embedded_simulator("http://127.0.0.1:1", ("admin", &password), &flags).unwrap();
        assert_eq!(spec.described_by, DescribedBy::EmbeddedSimulator);
        let config = client_config(spec).unwrap();
        assert!(matches!(
            &config.credentials,
            Credentials::ServiceAccount { password, .. } if password.expose_secret() == "netapp1!"
        ));
        assert_eq!(config.password_origin, None);
        let pass_through = serve_args(&["--credentials", "pass-through"]).cluster;
        let spec =
            from_embedded_simulator("http://127.0.0.1:1", ("admin", &password), &pass_through)
                .unwrap();
        assert_eq!(spec.credentials, CredentialSpec::PassThrough);
    }

    #[test]
    fn a_config_files_password_is_known_by_the_key_and_line_that_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("east-password");
        std::fs::write(&password, "s3cret\n").unwrap();
        let file = dir.path().join("clusters.toml");
        let text = format!(
            "[[cluster]]\nname = \"east\"\nurl = \"https://east.example\"\n\
             credentials = \"service-account\"\nusername = \"gw\"\npassword_file = {:?}\n",
            password.display().to_string()
        );
        std::fs::write(&file, text).unwrap();
        let specs = ontap_grpc_gateway::config::read(&file).unwrap();
        let configs: Vec<ClientConfig> = specs
            .into_iter()
            .map(client_config)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            configs[0].password_origin.as_deref(),
            Some(
                format!(
                    "the file {}, which the password_file on {}:1 names",
                    password.display(),
                    file.display()
                )
                .as_str()
            )
        );
    }

    #[test]
    fn a_file_clusters_mistake_names_the_file_line_and_cluster() {
        let text = "[[cluster]]\nname = \"east\"\nurl = \"https://east.example\"\n\
                    credentials = \"service-account\"\nusername = \"gw\"\n\
                    password_file = \"/nonexistent/east-password\"\n";
        let spec = ontap_grpc_gateway::config::parse(text, "clusters.toml")
            .unwrap()
            .remove(0);
        let why = client_config(spec).unwrap_err().to_string();
        assert!(
            why.starts_with(
                "clusters.toml:1: cluster `east`: reading the password file \
                 /nonexistent/east-password: "
            ),
            "{why}"
        );
    }

    #[test]
    fn a_password_file_loses_one_line_ending_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for (text, password) in [
            ("s3cret\n", "s3cret"),
            ("s3cret\r\n", "s3cret"),
            ("s3cret", "s3cret"),
            (" spaced pass \n\n", " spaced pass \n"),
        ] {
            let file = password_file(dir.path(), text);
            assert_eq!(
                read_password_file(&file).ok().as_deref(),
                Some(password),
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_unreadable_password_file_is_named() {
        let missing = Path::new("/nonexistent/ontap-password");
        let why = read_password_file(missing).unwrap_err().to_string();
        assert!(why.contains("/nonexistent/ontap-password"), "{why}");
    }

    #[test]
    fn an_empty_password_is_refused_naming_where_it_is_kept_and_never_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = password_file(dir.path(), "\n");
        let why = read_password(&PasswordSource::File(file.clone()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            why,
            format!("the ONTAP password in the file {} is empty", file.display())
        );
    }

    #[test]
    fn a_ca_file_is_read_into_the_trust_and_insecure_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "PEM BYTES").unwrap();
        let mut spec = from("https://cluster", &["--ca-cert", ca.to_str().unwrap()]).unwrap();
        let tls = tls_options(&spec).unwrap();
        assert_eq!(tls.ca_cert_pem.as_deref(), Some(&b"PEM BYTES"[..]));
        assert!(!tls.insecure_skip_verify);
        spec.ca_cert = None;
        spec.insecure_skip_tls_verify = true;
        assert!(tls_options(&spec).unwrap().insecure_skip_verify);
    }

    #[test]
    fn an_unreadable_ca_file_is_named() {
        let spec = from("https://cluster", &["--ca-cert", "/nonexistent/ca.pem"]).unwrap();
        let why = tls_options(&spec).unwrap_err().to_string();
        assert!(why.contains("/nonexistent/ca.pem"), "{why}");
    }
}
