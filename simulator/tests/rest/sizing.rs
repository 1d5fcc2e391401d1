//! A big cluster from the configuration: `cifs_connections` and `iscsi_sessions` grow the
//! cluster given to `Simulator::start`, starting from its own records.

use super::*;

async fn sized(cifs_connections: Option<usize>, iscsi_sessions: Option<usize>) -> Simulator {
    let config = SimulatorConfig {
        cifs_connections,
        iscsi_sessions,
        ..SimulatorConfig::default()
    };
    Simulator::start(config, Cluster::seed())
        .await
        .expect("start")
}

#[tokio::test]
async fn configured_sizes_serve_that_many_connections_and_iscsi_sessions() {
    let simulator = sized(Some(2_000), Some(3_000)).await;
    assert_eq!(count(&simulator, CIFS).await, 2_000);
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 3_000);
    let cifs_sessions = simulator.cluster().with(|c| c.cifs_sessions().len());
    assert!(cifs_sessions > 2_000, "{cifs_sessions}");
    assert_eq!(
        count(&simulator, CIFS_SESSIONS).await as usize,
        cifs_sessions
    );
}

#[tokio::test]
async fn a_configured_size_on_the_seed_is_the_larger_seed() {
    let simulator = sized(Some(500), None).await;
    let served = simulator.cluster().with(|c| c.cifs_connections.clone());
    assert_eq!(
        served,
        Cluster::seed_with_cifs_connections(500).cifs_connections
    );
    assert_eq!(served[..40], Cluster::seed().cifs_connections[..]);
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 7);
}

#[tokio::test]
async fn without_sizes_the_seed_is_served_as_it_is() {
    let simulator = sized(None, None).await;
    assert_eq!(count(&simulator, CIFS).await, 40);
    assert_eq!(count(&simulator, ISCSI_SESSIONS).await, 7);
}

#[tokio::test]
async fn a_size_the_cluster_cannot_reach_refuses_to_start() {
    let config = SimulatorConfig {
        iscsi_sessions: Some(10),
        ..SimulatorConfig::default()
    };
    let error = Simulator::start(config, Cluster::empty())
        .await
        .expect_err("no SVM serves iSCSI");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("iSCSI"), "{error}");
}
