//! The ONTAP REST simulator inside the binary: `simulate` runs it alone,
//! and `serve --simulate` starts the seeded demo cluster the gateway then
//! fronts. A build without the `simulator` feature keeps every flag and
//! answers them by saying so, rather than with an unknown-argument error.

#[cfg(not(feature = "simulator"))]
pub use absent::{
    EmbeddedSimulator, NotBuiltIn, SimulatorError, parse_clock_start, run, start_embedded,
};
#[cfg(feature = "simulator")]
pub use built_in::{EmbeddedSimulator, SimulatorError, parse_clock_start, run, start_embedded};

#[cfg(feature = "simulator")]
mod built_in {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::time::SystemTime;

    use ontap_simulator::{
        CifsChurn, Cluster, Credentials, InvalidChurnRate, SecretString, Simulator, SimulatorConfig,
    };

    use crate::cli::{EmbeddedSimulatorFlags, SimulateArgs};
    use crate::flag_values::ClockStartError;
    use crate::signal::{SignalError, shutdown_signal};

    /// A simulator that could not start or run.
    #[derive(Debug, thiserror::Error)]
    pub enum SimulatorError {
        /// A churn rate the simulator cannot run at.
        #[error("--cifs-churn-per-minute: {0}")]
        CifsChurn(#[source] InvalidChurnRate),
        /// `serve --simulate`'s simulator, on a port of its own choosing.
        #[error("starting the simulator: {0}")]
        StartEmbedded(#[source] std::io::Error),
        /// `simulate`'s, on the address given.
        #[error("starting the simulator on {listen}: {source}")]
        Start {
            /// `--listen`.
            listen: SocketAddr,
            source: std::io::Error,
        },
        /// `--write-ca-cert`.
        #[error("writing {path}: {source}")]
        WriteCaCert {
            /// Where the certificate was to go.
            path: PathBuf,
            source: std::io::Error,
        },
        /// No way to be told to stop.
        #[error(transparent)]
        Signal(#[from] SignalError),
    }

    /// The simulator `serve --simulate` fronts, and the account the gateway
    /// signs in to it with.
    pub struct EmbeddedSimulator {
        simulator: Simulator,
        credentials: Credentials,
    }

    impl EmbeddedSimulator {
        /// Where it serves (plain HTTP on loopback).
        pub fn base_url(&self) -> String {
            self.simulator.base_url()
        }

        /// The account it accepts: its user name and password.
        pub fn account(&self) -> (&str, &SecretString) {
            (&self.credentials.username, &self.credentials.password)
        }

        /// Stops it, letting in-flight requests finish.
        pub async fn shutdown(self) {
            self.simulator.shutdown().await;
        }
    }

    /// Starts the simulator on the seed cluster for `serve --simulate`.
    pub async fn start_embedded(
        flags: &EmbeddedSimulatorFlags,
    ) -> Result<EmbeddedSimulator, SimulatorError> {
        let config = SimulatorConfig {
            cifs_churn: cifs_churn(flags.cifs_churn_per_minute)?,
            clock_start: flags.clock_start,
            iscsi_sessions: flags.iscsi_sessions.map(|n| n as usize),
            ..SimulatorConfig::default()
        };
        let credentials = config.credentials.clone();
        let cluster = Cluster::seed_with_cifs_connections(flags.cifs_connections);
        let simulator = Simulator::start(config, cluster)
            .await
            .map_err(SimulatorError::StartEmbedded)?;
        tracing::info!(url = %simulator.base_url(), "embedded ONTAP simulator serving the seed cluster");
        Ok(EmbeddedSimulator {
            simulator,
            credentials,
        })
    }

    /// `simulate`: the simulator alone, until SIGTERM or SIGINT.
    pub async fn run(args: SimulateArgs) -> Result<(), SimulatorError> {
        let shutdown = shutdown_signal()?;
        let config = SimulatorConfig {
            listen: args.listen,
            credentials: Credentials {
                username: args.username,
                password: SecretString::from(args.password),
            },
            tls: args.tls,
            admin_listen: args.admin_listen,
            cifs_churn: cifs_churn(args.cifs_churn_per_minute)?,
            clock_start: args.clock_start,
            // More accounts come through the admin API (`POST /accounts`).
            accounts: Vec::new(),
            // Sized by the cluster passed in, which `--cifs-connections` sizes.
            cifs_connections: None,
            iscsi_sessions: args.iscsi_sessions.map(|n| n as usize),
        };
        let simulator = Simulator::start(
            config,
            Cluster::seed_with_cifs_connections(args.cifs_connections),
        )
        .await
        .map_err(|source| SimulatorError::Start {
            listen: args.listen,
            source,
        })?;
        if let Some(addr) = simulator.admin_addr() {
            tracing::info!(%addr, "simulator admin API (faults, stats, clock, CIFS) listening");
        }
        if let (Some(path), Some(pem)) = (args.write_ca_cert, simulator.ca_certificate_pem()) {
            std::fs::write(&path, pem).map_err(|source| SimulatorError::WriteCaCert {
                path: path.clone(),
                source,
            })?;
            tracing::info!(path = %path.display(), "wrote the simulator's self-signed certificate");
        }
        tracing::info!(url = %simulator.base_url(), "ONTAP REST simulator serving the seed cluster");
        simulator.run_until(shutdown).await;
        Ok(())
    }

    /// `--clock-start`, other than `now`.
    pub fn parse_clock_start(text: &str) -> Result<SystemTime, ClockStartError> {
        ontap_simulator::parse_clock_start(text).map_err(ClockStartError::Unreadable)
    }

    /// The simulator's CIFS churn at `per_minute`, with its default seed.
    fn cifs_churn(per_minute: f64) -> Result<CifsChurn, SimulatorError> {
        CifsChurn::new(per_minute, CifsChurn::DEFAULT_SEED).map_err(SimulatorError::CifsChurn)
    }
}

#[cfg(not(feature = "simulator"))]
mod absent {
    use std::time::SystemTime;

    use secrecy::SecretString;

    use crate::cli::{EmbeddedSimulatorFlags, SimulateArgs};
    use crate::flag_values::ClockStartError;

    /// Why `serve --simulate` and `simulate` cannot run in this build.
    #[derive(Debug, Clone, Copy, thiserror::Error)]
    #[error(
        "this build has no ONTAP simulator: rebuild with the `simulator` feature (on by default)"
    )]
    pub struct NotBuiltIn;

    /// All that stops a simulator in this build.
    pub type SimulatorError = NotBuiltIn;

    /// The simulator this build never has.
    pub enum EmbeddedSimulator {}

    impl EmbeddedSimulator {
        pub fn base_url(&self) -> String {
            match *self {}
        }

        pub fn account(&self) -> (&str, &SecretString) {
            match *self {}
        }

        pub async fn shutdown(self) {
            match self {}
        }
    }

    pub async fn start_embedded(
        _: &EmbeddedSimulatorFlags,
    ) -> Result<EmbeddedSimulator, SimulatorError> {
        Err(NotBuiltIn)
    }

    pub async fn run(_: SimulateArgs) -> Result<(), SimulatorError> {
        Err(NotBuiltIn)
    }

    pub fn parse_clock_start(_: &str) -> Result<SystemTime, ClockStartError> {
        Err(NotBuiltIn.into())
    }
}
