//! The gateway as the gRPC ecosystem sees it: reflection (v1 and v1alpha),
//! grpc.health.v1, grpcurl with no proto files, and a Python grpcio client.

use crate::common::Harness;
use crate::common::tools::{bash, grpcurl, python, shell_blocks, stdout_of};
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

#[tokio::test]
async fn health_reports_the_api_service_serving() {
    let h = Harness::start().await;
    let mut health = HealthClient::new(h.gateway.channel().await);
    for service in ["", "ontap.v1.CifsConnections"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service `{service}`");
    }
}

#[tokio::test]
async fn reflection_v1_lists_the_api_and_health_services() {
    let h = Harness::start().await;
    let mut reflection = ServerReflectionClient::new(h.gateway.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(Ok(response)) = responses.next().await else {
        panic!("no reflection response");
    };
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"ontap.v1.CifsConnections".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}

#[tokio::test]
async fn grpcurl_lists_services_over_v1alpha_reflection() {
    let h = Harness::start().await;
    let addr = h.gateway.addr.to_string();
    let out =
        tokio::task::spawn_blocking(move || stdout_of(&grpcurl(&["-plaintext", &addr, "list"])))
            .await
            .unwrap();
    assert!(
        out.lines().any(|l| l == "ontap.v1.CifsConnections"),
        "{out}"
    );
    assert!(out.lines().any(|l| l == "grpc.health.v1.Health"), "{out}");
}

#[tokio::test]
async fn grpcurl_describes_messages_without_proto_files() {
    let h = Harness::start().await;
    let addr = h.gateway.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&grpcurl(&[
            "-plaintext",
            &addr,
            "describe",
            "ontap.v1.CifsConnection",
        ]))
    })
    .await
    .unwrap();
    assert!(out.contains("optional string client_ip = 1;"), "{out}");
    assert!(
        out.contains("repeated .ontap.v1.CifsSession sessions"),
        "{out}"
    );
}

#[tokio::test]
async fn grpcurl_lists_connections_as_json() {
    let h = Harness::start().await;
    let addr = h.gateway.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&grpcurl(&[
            "-plaintext",
            "-d",
            r#"{"svm_name":"vs1","page_size":5}"#,
            &addr,
            "ontap.v1.CifsConnections/ListCifsConnections",
        ]))
    })
    .await
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&out).expect("grpcurl prints JSON");
    assert_eq!(json["cifsConnections"].as_array().unwrap().len(), 5);
    assert_eq!(json["numRecords"], 5);
    assert!(
        json["nextPageToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(json["cifsConnections"][0]["svm"]["name"], "vs1");
}

#[tokio::test]
async fn grpcurl_prints_structured_error_details() {
    let h = Harness::start().await;
    let addr = h.gateway.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        grpcurl(&[
            "-plaintext",
            "-d",
            r#"{"page_size":-1}"#,
            &addr,
            "ontap.v1.CifsConnections/ListCifsConnections",
        ])
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("InvalidArgument"), "{text}");
    assert!(text.contains("google.rpc.BadRequest"), "{text}");
    assert!(text.contains(r#""field":"page_size""#), "{text}");
    assert!(text.contains(r#""reason":"INVALID_REQUEST""#), "{text}");
}

#[tokio::test]
async fn python_grpcio_client_pages_through_connections_via_reflection() {
    let h = Harness::start().await;
    let expected = h.simulator.cluster().with(|c| {
        c.cifs_connections
            .iter()
            .filter(|c| c.svm_uuid == crate::common::VS1_UUID)
            .count()
    });
    let addr = h.gateway.addr.to_string();
    let out =
        tokio::task::spawn_blocking(move || stdout_of(&python("list_connections.py", &[&addr])))
            .await
            .unwrap();
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(summary["connections"], expected);
    assert_eq!(summary["distinct"], expected);
    assert_eq!(summary["pages"], expected.div_ceil(10));
    assert_eq!(summary["health"], "SERVING");
    assert_eq!(summary["error_code"], "INVALID_ARGUMENT");
    assert_eq!(summary["error_reason"], "INVALID_REQUEST");
    assert_eq!(summary["bad_fields"], serde_json::json!(["page_size"]));
    assert_eq!(summary["first"]["cifsConnections"][0]["svm"]["name"], "vs1");
}

/// grpcurl with `-d` against the gateway at `addr`, parsed as JSON.
fn grpcurl_json(addr: &str, method: &str, body: &str) -> serde_json::Value {
    let out = stdout_of(&grpcurl(&["-plaintext", "-d", body, addr, method]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{method}: {e}: {out}"))
}

#[tokio::test]
async fn grpcurl_runs_the_iscsi_example_story() {
    let h = Harness::start().await;
    let addr = h.gateway.addr.to_string();
    tokio::task::spawn_blocking(move || {
        let svc = "ontap.v1.IscsiServices";
        let created = grpcurl_json(
            &addr,
            &format!("{svc}/CreateIscsiService"),
            r#"{"iscsi_service":{"svm":{"name":"svm1"}}}"#,
        );
        let service = &created;
        assert_eq!(service["enabled"], true);
        assert_eq!(service["target"]["alias"], "svm1");
        let uuid = service["svm"]["uuid"].as_str().unwrap().to_owned();
        assert_eq!(uuid, crate::common::SVM1_UUID);
        assert!(
            service["target"]["name"]
                .as_str()
                .unwrap()
                .starts_with("iqn.1992-08.com.netapp:sn.19d04b8e94d711e88370005056b48fd2:vs.")
        );

        let listed = grpcurl_json(&addr, &format!("{svc}/ListIscsiServices"), "{}");
        let names: Vec<_> = listed["iscsiServices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["svm"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(names.contains(&"svm1".to_owned()) && names.contains(&"svm2".to_owned()), "{names:?}");

        let got = grpcurl_json(&addr, &format!("{svc}/GetIscsiService"), &format!(r#"{{"svm_uuid":"{uuid}"}}"#));
        assert_eq!(got["enabled"], true);

        let disabled = grpcurl_json(
            &addr,
            &format!("{svc}/UpdateIscsiService"),
            &format!(r#"{{"iscsi_service":{{"svm":{{"uuid":"{uuid}"}},"enabled":false}},"update_mask":{{"paths":["enabled"]}}}}"#),
        );
        assert_eq!(disabled["enabled"], false);

        let masked = grpcurl_json(
            &addr,
            &format!("{svc}/GetIscsiService"),
            &format!(r#"{{"svm_uuid":"{uuid}","read_mask":{{"paths":["enabled"]}}}}"#),
        );
        assert_eq!(masked, serde_json::json!({"enabled": false}));

        let deleted = grpcurl_json(&addr, &format!("{svc}/DeleteIscsiService"), &format!(r#"{{"svm_uuid":"{uuid}"}}"#));
        assert_eq!(deleted, serde_json::json!({}));

        let gone = grpcurl(&[
            "-plaintext",
            "-d",
            &format!(r#"{{"svm_uuid":"{uuid}"}}"#),
            &addr,
            &format!("{svc}/GetIscsiService"),
        ]);
        let text = String::from_utf8_lossy(&gone.stderr).into_owned() + &String::from_utf8_lossy(&gone.stdout);
        assert!(text.contains("NotFound") && text.contains("ISCSI_SERVICE_NOT_FOUND"), "{text}");
    })
    .await
    .unwrap();
}

/// The shell blocks of the README's "Try it" section.
fn readme_try_it_blocks() -> Vec<String> {
    shell_blocks(include_str!("../../README.md"), "## Try it")
}

#[tokio::test]
async fn readme_try_it_commands_work_as_pasted() {
    let h = Harness::start().await;
    let addr = h.gateway.addr.to_string();
    let blocks = readme_try_it_blocks();
    assert_eq!(blocks.len(), 4, "the section's shell blocks");
    tokio::task::spawn_blocking(move || {
        for block in blocks {
            let out = bash(&block.replace("127.0.0.1:50051", &addr));
            stdout_of(&out);
        }
    })
    .await
    .unwrap();
}

/// A unary call with an empty body to `path`.
async fn call_path(h: &Harness, path: &'static str) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(h.gateway.channel().await);
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(()),
        http::uri::PathAndQuery::from_static(path),
        tonic_prost::ProstCodec::<(), ()>::default(),
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn call_to_an_unknown_service_is_unimplemented() {
    let h = Harness::start().await;
    let status = call_path(&h, "/ontap.v1.NoSuchService/Get").await;
    assert_eq!(status.code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn call_to_an_unknown_method_of_a_known_service_is_unimplemented() {
    let h = Harness::start().await;
    let status = call_path(&h, "/ontap.v1.IscsiServices/NoSuchMethod").await;
    assert_eq!(status.code(), tonic::Code::Unimplemented);
}

/// The README's Watch section: the variables line, then one command a line.
fn readme_watch_commands() -> (String, Vec<String>) {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("\n## Watch\n")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the README has a Watch section with a shell block");
    let mut lines = block.lines();
    let variables = lines.next().expect("a variables line").to_owned();
    (variables, lines.map(str::to_owned).collect())
}

#[tokio::test]
async fn readme_watch_commands_stream_messages_with_grpcurl() {
    let h = Harness::start_at_the_time_of_day().await;
    let addr = h.gateway.addr.to_string();
    let (variables, commands) = readme_watch_commands();
    assert_eq!(commands.len(), 4, "the section's watch commands");
    // The four watch at once, as four terminals would.
    let outputs = tokio::task::spawn_blocking(move || {
        std::thread::scope(|scope| {
            let watches: Vec<_> = commands
                .iter()
                .map(|command| {
                    // A watch runs until cancelled: grpcurl's -max-time cancels it.
                    let bounded =
                        command.replace("grpcurl -plaintext", "grpcurl -plaintext -max-time 4");
                    let script =
                        format!("{variables}\n{bounded} || true").replace("127.0.0.1:50051", &addr);
                    scope.spawn(move || String::from_utf8_lossy(&bash(&script).stdout).into_owned())
                })
                .collect();
            watches
                .into_iter()
                .map(|watch| watch.join().unwrap())
                .collect::<Vec<_>>()
        })
    })
    .await
    .unwrap();
    let rates = outputs[0].matches("\"iops\"").count();
    assert!(
        rates >= 2,
        "a sample a second after the baseline: {}",
        outputs[0]
    );
    assert!(outputs[1].contains("\"metric\""), "{}", outputs[1]);
    assert!(
        outputs[2].contains("CIFS_CONNECTION_EVENT_TYPE_SYNCED"),
        "{}",
        outputs[2]
    );
    assert_eq!(
        outputs[2]
            .matches("CIFS_CONNECTION_EVENT_TYPE_ADDED")
            .count(),
        36
    );
    assert!(
        outputs[3].contains("ISCSI_SESSION_EVENT_TYPE_SYNCED"),
        "{}",
        outputs[3]
    );
    assert_eq!(
        outputs[3].matches("ISCSI_SESSION_EVENT_TYPE_ADDED").count(),
        4
    );
}
