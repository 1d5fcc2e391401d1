//! The simulator as a real third-party ONTAP client sees it: NetApp's own
//! Python library (netapp-ontap) over HTTPS, paging, filtering, and the
//! iSCSI create/disable/delete story.

mod common;

use common::tools::{python_trusting_only_its_ca, stdout_of};
use ontap_grpc_gateway::simulator::{Cluster, Simulator, SimulatorConfig};

#[tokio::test]
async fn netapp_ontap_library_pages_filters_and_runs_the_iscsi_story() {
    let simulator = Simulator::start(
        SimulatorConfig {
            tls: true,
            ..SimulatorConfig::default()
        },
        Cluster::seed(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, simulator.ca_certificate_pem().unwrap()).unwrap();
    let (all, on_10_74) = simulator.cluster().with(|c| {
        (
            c.cifs_connections.len(),
            c.cifs_connections
                .iter()
                .filter(|c| c.client_ip.starts_with("10.74."))
                .count(),
        )
    });
    let port = simulator.local_addr().port().to_string();
    let ca = ca.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&python_trusting_only_its_ca(
            "netapp_ontap_client.py",
            &["127.0.0.1", &port, &ca],
        ))
    })
    .await
    .unwrap();
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(summary["connections"], all, "followed every next link");
    assert_eq!(summary["distinct"], all);
    assert_eq!(summary["wildcard"], on_10_74);
    assert_eq!(summary["created"]["alias"], "svm1");
    assert_eq!(summary["created"]["enabled"], true);
    assert!(
        summary["created"]["target"]
            .as_str()
            .unwrap()
            .starts_with("iqn.1992-08.com.netapp:sn.19d04b8e94d711e88370005056b48fd2:vs.")
    );
    assert_eq!(summary["disabled_enabled"], false);
    assert_eq!(summary["gone_code"], "5374078");
}
