//! How flag values are read where clap's own parsers would not do: each
//! refusal says what would have worked, not clap's bare "invalid value".

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ontap_grpc_gateway::config::{self, DurationError};

use crate::simulate;

/// The longest duration flag that is not a timeout: a day.
const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// A listening address the gateway cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListenAddressError {
    /// A host name other than `localhost`, or no port.
    #[error(
        "`{text}` is not an IP address and port: 127.0.0.1:PORT (this machine only, also \
         written localhost:PORT), [::1]:PORT, or 0.0.0.0:PORT (every interface, also written \
         :PORT)"
    )]
    NotAnAddress {
        /// What was given.
        text: String,
    },
    /// A port past 65535, or not a number.
    #[error("`{port}` is not a port (0-65535)")]
    NotAPort {
        /// What was given as the port.
        port: String,
    },
}

/// A clock start the simulator cannot begin at.
#[derive(Debug, thiserror::Error)]
pub enum ClockStartError {
    /// `now` on a machine whose clock says it is before 1970.
    #[error("this machine's clock is before 1970")]
    BeforeTheEpoch,
    /// Neither `now` nor a time the simulator reads; the simulator says why.
    #[cfg(feature = "simulator")]
    #[error("{0}, or `now`")]
    Unreadable(String),
    /// A build without the simulator has no clock to start.
    #[cfg(not(feature = "simulator"))]
    #[error(transparent)]
    NoSimulator(#[from] simulate::NotBuiltIn),
}

/// A listening address: `IP:PORT`, `localhost:PORT` for 127.0.0.1, or `:PORT` for every
/// interface.
pub fn listen_address(text: &str) -> Result<SocketAddr, ListenAddressError> {
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let not_an_address = || ListenAddressError::NotAnAddress {
        text: text.to_owned(),
    };
    let (host, port) = text.rsplit_once(':').ok_or_else(not_an_address)?;
    let ip: [u8; 4] = match host {
        "localhost" => [127, 0, 0, 1],
        "" => [0, 0, 0, 0],
        _ => return Err(not_an_address()),
    };
    port.parse::<u16>()
        .map(|port| SocketAddr::from((ip, port)))
        .map_err(|_| ListenAddressError::NotAPort {
            port: port.to_owned(),
        })
}

/// A duration flag, from 1 ms to a day.
pub fn duration(text: &str) -> Result<Duration, DurationError> {
    config::parse_duration(text, MAX_DURATION, "24h")
}

/// A timeout flag, from 1 ms to an hour, the bound the clusters file sets.
pub fn timeout(text: &str) -> Result<Duration, DurationError> {
    config::parse_timeout(text)
}

/// When the simulator's clock starts: `now` (the default, so a demo's
/// metrics look current) or a fixed instant, so that every run serves the
/// same dates. CIFS churn runs the same from either; the seeded iSCSI
/// service was created on 2024-12-01 whatever the start.
pub fn clock_start(text: &str) -> Result<SystemTime, ClockStartError> {
    if text != "now" {
        return simulate::parse_clock_start(text);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| ClockStartError::BeforeTheEpoch)?;
    // ONTAP's samples fall on whole seconds.
    Ok(UNIX_EPOCH + Duration::from_secs(now.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_ipv4_and_ipv6_addresses_as_given() {
        assert_eq!(
            listen_address("0.0.0.0:50051"),
            Ok(([0, 0, 0, 0], 50051).into())
        );
        assert_eq!(
            listen_address("[::1]:8080"),
            Ok(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 8080)))
        );
    }

    #[test]
    fn listen_takes_localhost_as_127_0_0_1() {
        assert_eq!(
            listen_address("localhost:0"),
            Ok(([127, 0, 0, 1], 0).into())
        );
    }

    #[test]
    fn listen_refuses_a_port_past_65535_naming_it() {
        for text in ["localhost:65536", ":65536"] {
            let why = listen_address(text).unwrap_err().to_string();
            assert!(why.contains("`65536` is not a port"), "{why}");
        }
    }

    #[test]
    fn listen_takes_a_bare_port_as_every_interface() {
        assert_eq!(listen_address(":50051"), Ok(([0, 0, 0, 0], 50051).into()));
    }

    #[test]
    fn listen_refuses_a_host_name_with_the_forms_that_work() {
        let why = listen_address("gateway.example:50051")
            .unwrap_err()
            .to_string();
        assert!(
            why.contains("127.0.0.1:PORT") && why.contains(":PORT"),
            "{why}"
        );
    }

    #[test]
    fn a_timeout_is_at_most_an_hour_and_other_durations_a_day() {
        assert_eq!(timeout("1h"), Ok(Duration::from_secs(3600)));
        assert!(timeout("61m").unwrap_err().to_string().contains("1h"));
        assert_eq!(duration("24h"), Ok(Duration::from_secs(86_400)));
        assert!(duration("25h").is_err());
    }

    #[test]
    fn now_starts_the_clock_on_a_whole_second() {
        let start = clock_start("now").unwrap();
        assert_eq!(start.duration_since(UNIX_EPOCH).unwrap().subsec_nanos(), 0);
    }
}
