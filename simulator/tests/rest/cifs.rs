//! The CIFS connections collection: ONTAP's listing, `fields`, filters, ordering, paging with next
//! links, `return_timeout`, and its errors.

use super::*;

/// The page's example call names no `fields` and gets whole records, so the simulator answers
/// this collection so, unlike ONTAP's usual key fields only.
#[tokio::test]
async fn default_listing_returns_whole_records_with_hal_links_as_the_pages_example_does() {
    let simulator = seeded().await;
    let reply = get(&simulator, CIFS).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/hal+json"));
    let body = reply.json();
    assert_eq!(body["num_records"], 40);
    assert_eq!(body["_links"]["self"]["href"], CIFS);
    let first = &body["records"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .expect("record")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "client_ip",
            "client_port",
            "identifier",
            "network_context_id",
            "node",
            "server_ip",
            "sessions",
            "svm"
        ]
    );
    assert_eq!(first["node"]["name"], "node1");
    assert_eq!(first["svm"]["name"], "vs1");
    assert_eq!(
        first["node"]["_links"]["self"]["href"],
        "/api/cluster/nodes/1cd8a442-86d1-11e0-ae1c-123478563412"
    );
    assert_eq!(
        first["svm"]["_links"]["self"]["href"],
        "/api/svm/svms/fc824aa8-4e60-11ea-afb1-0050568ec4e4"
    );
    assert_eq!(first["identifier"], 91842);
    assert_eq!(first["client_ip"], "10.74.7.182");
}

#[tokio::test]
async fn naming_fields_returns_only_them_beside_the_key_fields() {
    let simulator = seeded().await;
    let body = get(
        &simulator,
        &format!("{CIFS}?fields=client_port&max_records=1"),
    )
    .await
    .json();
    let mut keys: Vec<&str> = body["records"][0]
        .as_object()
        .expect("record")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["client_port", "identifier", "node", "svm"]);
}

#[tokio::test]
async fn plain_json_has_no_hal_links() {
    let simulator = seeded().await;
    let auth = admin();
    let reply = Client::connect(&simulator)
        .await
        .request(
            "GET",
            &format!("{CIFS}?max_records=1"),
            &[("Authorization", &auth), ("Accept", "application/json")],
        )
        .await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert!(body["_links"].get("self").is_none());
    assert!(body["_links"]["next"]["href"].is_string());
    assert!(body["records"][0]["node"].get("_links").is_none());
}

#[tokio::test]
async fn all_fields_render_the_documented_record_shape() {
    let simulator = seeded().await;
    let body = get(&simulator, &format!("{CIFS}?identifier=92080&fields=*"))
        .await
        .json();
    let record = &body["records"][0];
    assert_eq!(record["client_ip"], "10.140.133.97");
    assert_eq!(record["client_port"], 23413);
    assert_eq!(record["network_context_id"], 5);
    assert_eq!(record["server_ip"], "10.140.70.197");
    assert_eq!(record["node"]["name"], "node1");
    assert_eq!(record["svm"]["name"], "vs1");
    assert_eq!(
        record["sessions"][0]["identifier"].as_u64(),
        Some(625_718_873_227_788_579)
    );
}

#[tokio::test]
async fn following_next_links_pages_through_every_record_once() {
    let simulator = seeded().await;
    let mut client = Client::connect(&simulator).await;
    let mut target =
        format!("{CIFS}?svm.name=vs1&fields=*&max_records=5&order_by=client_ip%20desc");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body = client.get(&target).await.json();
        pages += 1;
        for record in body["records"].as_array().expect("records") {
            seen.push((
                record["client_ip"].as_str().expect("ip").to_owned(),
                record["node"]["uuid"].as_str().expect("node").to_owned(),
                record["identifier"].as_u64().expect("identifier"),
            ));
        }
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 8);
    assert_eq!(seen.len(), 36);
    let unique: HashSet<_> = seen.iter().map(|(_, n, i)| (n.clone(), *i)).collect();
    assert_eq!(unique.len(), 36);
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "client_ip desc");
    assert_eq!(simulator.stats().connections_accepted, 1);
}

/// Every `(node, identifier)` seen following next links from `target`, and the page sizes.
async fn follow(simulator: &Simulator, target: &str) -> (Vec<(String, u64)>, Vec<usize>) {
    let mut client = Client::connect(simulator).await;
    let mut target = target.to_owned();
    let (mut seen, mut pages) = (Vec::new(), Vec::new());
    loop {
        let body = client.get(&target).await.json();
        let records = body["records"].as_array().expect("records");
        assert_eq!(body["num_records"], records.len());
        pages.push(records.len());
        for record in records {
            seen.push((
                record["node"]["uuid"].as_str().expect("node").to_owned(),
                record["identifier"].as_u64().expect("identifier"),
            ));
        }
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => return (seen, pages),
        }
    }
}

#[tokio::test]
async fn slow_iteration_returns_early_with_a_next_link_and_loses_nothing() {
    let simulator = seeded().await;
    simulator
        .cluster()
        .set_iteration_cost(CIFS, Duration::from_secs(1));
    let (seen, pages) = follow(&simulator, &format!("{CIFS}?return_timeout=10")).await;
    assert_eq!(pages, [10, 10, 10, 10]);
    assert_eq!(seen.len(), 40);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 40);
}

#[tokio::test]
async fn slow_iteration_uses_the_default_return_timeout_of_15_seconds() {
    let simulator = seeded().await;
    simulator
        .cluster()
        .set_default_iteration_cost(Duration::from_millis(1_500));
    let (seen, pages) = follow(&simulator, CIFS).await;
    assert_eq!(pages, [10, 10, 10, 10]);
    assert_eq!(seen.len(), 40);
}

#[tokio::test]
async fn a_collection_slower_than_its_timeout_still_returns_a_record_a_page() {
    let simulator = seeded().await;
    simulator
        .cluster()
        .set_iteration_cost(CIFS, Duration::from_secs(121));
    let (seen, pages) = follow(
        &simulator,
        &format!("{CIFS}?return_timeout=120&svm.name=vs1&client_ip=10.140.*"),
    )
    .await;
    assert!(pages.iter().all(|n| *n == 1), "{pages:?}");
    assert_eq!(seen.len(), pages.len());
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

#[tokio::test]
async fn without_an_iteration_cost_return_timeout_cuts_nothing_short() {
    let simulator = seeded().await;
    let (_, pages) = follow(&simulator, &format!("{CIFS}?return_timeout=0")).await;
    assert_eq!(pages, [40]);
}

#[tokio::test]
async fn a_cost_on_one_path_leaves_other_collections_alone() {
    let simulator = seeded().await;
    let cluster = simulator.cluster();
    cluster.set_default_iteration_cost(Duration::from_secs(60));
    cluster.set_iteration_cost(CIFS, Duration::ZERO);
    let (_, pages) = follow(&simulator, &format!("{CIFS}?return_timeout=1")).await;
    assert_eq!(pages, [40]);
}

#[tokio::test]
async fn paging_continues_after_the_last_record_when_it_is_removed() {
    let simulator = seeded().await;
    let first = get(&simulator, &format!("{CIFS}?max_records=2"))
        .await
        .json();
    let last = first["records"][1]["identifier"]
        .as_u64()
        .expect("identifier");
    let next = first["_links"]["next"]["href"]
        .as_str()
        .expect("next")
        .to_owned();
    let removed = simulator
        .cluster()
        .remove_cifs_connections(|c| u64::from(c.identifier) <= last);
    assert!(removed >= 2);
    let second = get(&simulator, &next).await.json();
    assert_eq!(second["num_records"], 2);
    assert!(second["records"][0]["identifier"].as_u64().expect("id") > last);
}

#[tokio::test]
async fn session_identifier_filter_compares_u64_exactly() {
    let simulator = seeded().await;
    let body = get(
        &simulator,
        &format!("{CIFS}?sessions.identifier=625718873227788577&fields=sessions"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 1);
    assert_eq!(body["records"][0]["identifier"], 92080);
}

#[tokio::test]
async fn encoded_query_operators_filter_records() {
    let simulator = seeded().await;
    let body = get(
        &simulator,
        &format!("{CIFS}?client_ip=10.74.7.182%7C10.140.133.97&return_records=false"),
    )
    .await
    .json();
    assert_eq!(body["num_records"], 2);
    assert!(body.get("records").is_none());
}

#[tokio::test]
async fn added_connection_shows_up_in_the_next_response() {
    let simulator = seeded().await;
    simulator.cluster().add_cifs_connection(CifsConnection {
        node_uuid: "1cd8a442-86d1-11e0-ae1c-123478563413".into(),
        svm_uuid: "fc824aa8-4e60-11ea-afb1-0050568ec4e4".into(),
        identifier: 1,
        network_context_id: 1,
        client_ip: "192.0.2.1".into(),
        client_port: 50000,
        server_ip: "10.140.70.198".into(),
        session_ids: vec![u64::MAX],
    });
    let body = get(&simulator, &format!("{CIFS}?return_records=false"))
        .await
        .json();
    assert_eq!(body["num_records"], 41);
}

#[tokio::test]
async fn unknown_parameter_is_400_unexpected_argument() {
    let simulator = seeded().await;
    let reply = get(&simulator, &format!("{CIFS}?colour=blue")).await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["error"]["code"], "262179");
    assert_eq!(body["error"]["message"], "Unexpected argument \"colour\".");
    assert_eq!(body["error"]["target"], "colour");
}

#[tokio::test]
async fn malformed_filter_is_400_invalid_value() {
    let simulator = seeded().await;
    let reply = get(&simulator, &format!("{CIFS}?client_port=%3Eabc")).await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["error"]["code"], "262197");
    assert_eq!(body["error"]["target"], "client_port");
}

#[tokio::test]
async fn order_by_directions_are_the_pages_lowercase_asc_and_desc() {
    let simulator = seeded().await;
    for direction in ["asc", "desc"] {
        let target = format!("{CIFS}?order_by=client_ip%20{direction}");
        assert_eq!(get(&simulator, &target).await.status, 200, "{direction}");
    }
    for direction in ["DESC", "Asc", "descending"] {
        let reply = get(
            &simulator,
            &format!("{CIFS}?order_by=client_ip%20{direction}"),
        )
        .await;
        assert_eq!(reply.status, 400, "{direction}");
        let body = reply.json();
        assert_eq!(body["error"]["code"], "262197");
        assert_eq!(body["error"]["target"], "order_by");
    }
}

/// The smallest session identifier of each record, in the order served.
async fn smallest_sessions(simulator: &Simulator, target: &str) -> Vec<u64> {
    let mut client = Client::connect(simulator).await;
    let mut target = target.to_owned();
    let mut smallest = Vec::new();
    loop {
        let body = client.get(&target).await.json();
        for record in body["records"].as_array().expect("records") {
            let ids = record["sessions"].as_array().expect("sessions");
            let ids = ids.iter().map(|s| s["identifier"].as_u64().expect("id"));
            smallest.push(ids.min().expect("a session"));
        }
        match body["_links"]["next"]["href"].as_str() {
            Some(next) => target = next.to_owned(),
            None => return smallest,
        }
    }
}

#[tokio::test]
async fn order_by_a_field_inside_an_array_orders_by_its_smallest_element_ascending() {
    let simulator = seeded().await;
    let served = smallest_sessions(
        &simulator,
        &format!("{CIFS}?order_by=sessions.identifier&fields=sessions&max_records=7"),
    )
    .await;
    assert_eq!(served.len(), 40, "every record once across the pages");
    assert!(served.windows(2).all(|w| w[0] <= w[1]), "{served:?}");
}

#[tokio::test]
async fn order_by_a_field_inside_an_array_descending_orders_by_its_largest_element() {
    let simulator = seeded().await;
    let body = get(
        &simulator,
        &format!("{CIFS}?order_by=sessions.identifier%20desc&fields=sessions"),
    )
    .await
    .json();
    let largest: Vec<u64> = body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            r["sessions"]
                .as_array()
                .expect("sessions")
                .iter()
                .map(|s| s["identifier"].as_u64().expect("id"))
                .max()
                .expect("a session")
        })
        .collect();
    assert_eq!(largest.len(), 40);
    assert!(largest.windows(2).all(|w| w[0] >= w[1]), "{largest:?}");
}

#[tokio::test]
async fn unknown_path_is_404_code_4() {
    let simulator = seeded().await;
    let reply = get(&simulator, "/api/storage/volumes").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["error"]["code"], "4");
}

#[tokio::test]
async fn wrong_method_on_the_collection_is_405_with_an_error_body() {
    let simulator = seeded().await;
    let auth = admin();
    let reply = Client::connect(&simulator)
        .await
        .request(
            "DELETE",
            CIFS,
            &[("Authorization", &auth), ("Content-Length", "0")],
        )
        .await;
    assert_eq!(reply.status, 405);
    assert!(reply.json()["error"]["message"].is_string());
}
