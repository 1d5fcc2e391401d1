//! The binary as the README runs it: `serve --simulate` answers gRPC and
//! shuts down gracefully on SIGTERM; `simulate` serves the REST API alone.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use ontap_grpc_gateway::proto::v1::iscsi_sessions_client::IscsiSessionsClient;
use ontap_grpc_gateway::proto::v1::{ListCifsConnectionsRequest, ListIscsiSessionsRequest};
use tonic::transport::Channel;

const BINARY: &str = env!("CARGO_BIN_EXE_ontap-grpc-gateway");

/// Kills the child if a test fails before stopping it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and waits for the log line that carries `key=<value>`
/// (the address it actually bound, since tests ask for port 0).
fn spawn_until(args: &[&str], key: &str) -> (Running, String) {
    spawn_with_env_until(args, &[], key)
}

/// Like [`spawn_until`], with `env` added to the binary's environment.
fn spawn_with_env_until(args: &[&str], env: &[(&str, &str)], key: &str) -> (Running, String) {
    let (running, value, _) = spawn_logging_until(args, env, key);
    (running, value)
}

/// Like [`spawn_with_env_until`], also giving the lines logged before the
/// one that carries `key`.
fn spawn_logging_until(
    args: &[&str],
    env: &[(&str, &str)],
    key: &str,
) -> (Running, String, Vec<String>) {
    let needle = format!("{key}=");
    let (running, line, before) = spawn_until_line(args, env, &needle);
    let value = line.split_once(&needle).unwrap().1;
    let value = value.split_whitespace().next().unwrap().to_owned();
    (running, value, before)
}

/// Starts the binary and waits for the first log line containing `needle`;
/// returns that line and the lines before it.
fn spawn_until_line(
    args: &[&str],
    env: &[(&str, &str)],
    needle: &str,
) -> (Running, String, Vec<String>) {
    let mut child = Command::new(BINARY)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let mut lines = BufReader::new(stderr).lines();
    let mut before = Vec::new();
    let found = loop {
        let line = lines
            .next()
            .expect("the binary logs before exiting")
            .unwrap();
        if line.contains(needle) {
            break line;
        }
        before.push(line);
    };
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (running, found, before)
}

/// The value of `key=` in the first of `lines` that has one.
fn logged(lines: &[String], key: &str) -> String {
    let needle = format!(" {key}=");
    lines
        .iter()
        .find_map(|l| l.split_once(&needle))
        .map(|(_, rest)| rest.split_whitespace().next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {needle} in {lines:?}"))
}

async fn connect(url: String) -> Channel {
    for _ in 0..200 {
        if let Ok(channel) = Channel::from_shared(url.clone()).unwrap().connect().await {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {url}");
}

/// The binary's exit code and standard error when it runs (and exits) with
/// `args` and `env` added; no `ONTAP_GATEWAY_` setting of this machine's
/// leaks in unless given.
fn refusal(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(BINARY)
        .args(args)
        .env_remove("ONTAP_GATEWAY_ALLOW_PLAINTEXT_UPSTREAM")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), said)
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn serve_simulate_answers_and_stops_cleanly_on_sigterm() {
    let (mut gateway, addr) = spawn_until(
        &["serve", "--simulate", "--listen", "127.0.0.1:0"],
        "listen",
    );
    let mut client = CifsConnectionsClient::new(connect(format!("http://{addr}")).await);
    let page = client
        .list_cifs_connections(ListCifsConnectionsRequest {
            svm_name: "vs1".into(),
            page_size: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.cifs_connections.len(), 5);
    terminate(&gateway.0);
    let mut exited = None;
    for _ in 0..100 {
        exited = gateway.0.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exited.expect("exits after SIGTERM").success());
}

#[tokio::test]
async fn serve_simulate_sizes_its_cluster_as_the_flags_say() {
    let (_gateway, addr) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--cifs-connections",
            "50",
            "--iscsi-sessions",
            "25",
        ],
        "listen",
    );
    let channel = connect(format!("http://{addr}")).await;
    let connections = CifsConnectionsClient::new(channel.clone())
        .list_cifs_connections(ListCifsConnectionsRequest {
            count_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(connections.total_size, Some(50));
    let sessions = IscsiSessionsClient::new(channel)
        .list_iscsi_sessions(ListIscsiSessionsRequest {
            count_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sessions.total_size, Some(25));
}

#[tokio::test]
async fn sigterm_exits_zero_despite_a_connection_that_never_speaks() {
    let (mut gateway, addr) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--drain-timeout",
            "300ms",
            "--handshake-timeout",
            "10m",
        ],
        "listen",
    );
    connect(format!("http://{addr}")).await;
    let _silent = std::net::TcpStream::connect(&addr).unwrap();
    terminate(&gateway.0);
    let exited = tokio::task::spawn_blocking(move || gateway.0.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exited.success(), "{exited}");
}

#[tokio::test]
async fn serve_without_a_cluster_or_simulate_names_both_ways_to_start() {
    let (code, said) = refusal(&["serve"], &[]);
    assert_eq!(code, Some(2), "a usage error");
    assert!(
        said.contains("--ontap-url") && said.contains("--simulate"),
        "{said}"
    );
}

#[tokio::test]
async fn listen_accepts_localhost_as_the_loopback_address() {
    let (_gateway, addr) = spawn_until(
        &["serve", "--simulate", "--listen", "localhost:0"],
        "listen",
    );
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    connect(format!("http://{addr}")).await;
}

#[tokio::test]
async fn listen_on_a_host_name_is_refused_with_the_forms_that_work() {
    let (code, said) = refusal(
        &["serve", "--simulate", "--listen", "gateway.example:50051"],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        said.contains("127.0.0.1:PORT") && said.contains(":PORT"),
        "{said}"
    );
}

#[tokio::test]
async fn listening_beyond_loopback_without_client_authentication_is_refused() {
    let (code, said) = serve_refusal(&["--listen", ":0", "--ontap-url", "https://cluster"], "pw");
    assert_eq!(code, Some(1));
    assert!(
        said.contains("--auth-tokens") && said.contains("--client-ca"),
        "{said}"
    );
}

#[tokio::test]
async fn serve_without_the_password_variable_refuses_to_start() {
    let output = Command::new(BINARY)
        .args([
            "serve",
            "--ontap-url",
            "https://127.0.0.1:1",
            "--password-env",
            "ONTAP_TEST_UNSET_PASSWORD",
        ])
        .env_remove("ONTAP_TEST_UNSET_PASSWORD")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ONTAP_TEST_UNSET_PASSWORD"));
}

#[tokio::test]
async fn absurd_flag_values_are_refused_with_the_flag_named() {
    for (flag, value) in [
        ("--max-in-flight", "100000000000"),
        ("--max-in-flight", "0"),
        ("--queue-timeout-ms", "0"),
        ("--request-timeout-ms", "99999999999999"),
        ("--max-response-bytes", "1"),
        ("--watch-buffer", "0"),
        ("--watch-buffer", "4097"),
        ("--retries", "6"),
        ("--retry-base-delay", "0s"),
        ("--breaker-failures", "1001"),
        ("--breaker-open-for", "soon"),
        ("--cifs-connections", "1000001"),
    ] {
        let output = Command::new(BINARY)
            .args([
                "serve",
                "--simulate",
                "--listen",
                "127.0.0.1:0",
                flag,
                value,
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flag} {value}: {stderr}");
    }
}

#[tokio::test]
async fn absurd_timeouts_are_refused_with_the_flag_named_in_either_spelling() {
    for (flag, value) in [
        ("--queue-timeout", "0s"),
        ("--request-timeout", "2h"),
        ("--request-timeout", "soon"),
    ] {
        let (code, said) = refusal(&["serve", "--simulate", flag, value], &[]);
        assert_eq!(code, Some(2), "{flag} {value}");
        assert!(said.contains(flag), "{flag} {value}: {said}");
    }
    let (code, said) = refusal(
        &["serve", "--simulate"],
        &[("ONTAP_GATEWAY_QUEUE_TIMEOUT_MS", "0")],
    );
    assert_eq!(code, Some(2));
    assert!(said.contains("--queue-timeout-ms"), "{said}");
}

#[tokio::test]
async fn a_timeout_in_both_its_spellings_is_refused_naming_both() {
    for (timeout, args, env) in [
        (
            "--queue-timeout",
            &["--queue-timeout", "1s", "--queue-timeout-ms", "1000"][..],
            &[][..],
        ),
        (
            "--request-timeout",
            &["--request-timeout", "1s"][..],
            &[("ONTAP_GATEWAY_REQUEST_TIMEOUT_MS", "1000")][..],
        ),
        (
            "--queue-timeout",
            &["--queue-timeout-ms", "1000"][..],
            &[("ONTAP_GATEWAY_QUEUE_TIMEOUT", "1s")][..],
        ),
    ] {
        let args: Vec<&str> = ["serve", "--simulate"]
            .iter()
            .chain(args)
            .copied()
            .collect();
        let (code, said) = refusal(&args, env);
        assert_eq!(code, Some(2), "{args:?} {env:?}");
        for flag in [timeout.to_owned(), format!("{timeout}-ms")] {
            assert!(
                said.contains(&format!("'{flag} <")),
                "{flag}: {args:?} {env:?}: {said}"
            );
        }
    }
}

/// The status of a `ListCifsConnections` without a deadline through the
/// gateway started with `args` and `env`, in front of a simulator slower
/// than 300 ms.
async fn list_slow_upstream(args: &[&str], env: &[(&str, &str)]) -> tonic::Status {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    simulator.faults().push(ontap_simulator::Fault {
        path_prefix: Some("/api/protocols/cifs".into()),
        ..ontap_simulator::Fault::always(ontap_simulator::FaultKind::Delay(Duration::from_secs(5)))
    });
    let url = simulator.base_url();
    let mut all = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--ontap-url",
        &url,
        "--allow-plaintext-upstream",
    ];
    all.extend_from_slice(args);
    let mut env = env.to_vec();
    env.push(("ONTAP_PASSWORD", "netapp1!"));
    let (_gateway, addr) = spawn_with_env_until(&all, &env, "listen");
    list_one(&addr).await.unwrap_err()
}

// The simulator serves from a worker thread while this one blocks reading
// the binary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn the_request_timeout_bounds_an_upstream_request_in_either_spelling() {
    for (args, env) in [
        (&["--request-timeout", "300ms"][..], &[][..]),
        (&[][..], &[("ONTAP_GATEWAY_REQUEST_TIMEOUT", "300ms")][..]),
        (&["--request-timeout-ms", "300"][..], &[][..]),
        (&[][..], &[("ONTAP_GATEWAY_REQUEST_TIMEOUT_MS", "300")][..]),
    ] {
        let started = std::time::Instant::now();
        let status = list_slow_upstream(args, env).await;
        assert_eq!(
            status.code(),
            tonic::Code::DeadlineExceeded,
            "{args:?} {env:?}"
        );
        assert!(
            status.message().contains("request timeout"),
            "{args:?} {env:?}: {}",
            status.message()
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{args:?} {env:?}"
        );
    }
}

#[tokio::test]
async fn serve_refuses_a_page_token_key_file_shorter_than_32_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("page-token.key");
    std::fs::write(&key, "too short\n").unwrap();
    let output = Command::new(BINARY)
        .args(["serve", "--simulate", "--listen", "127.0.0.1:0"])
        .arg("--page-token-key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at least 32"), "{stderr}");
}

#[tokio::test]
async fn serve_refuses_a_page_token_key_file_of_almost_one_repeated_byte() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("page-token.key");
    for weak in [vec![0u8; 32], b"abababababababababababababababab".to_vec()] {
        std::fs::write(&key, &weak).unwrap();
        let output = Command::new(BINARY)
            .args(["serve", "--simulate", "--listen", "127.0.0.1:0"])
            .arg("--page-token-key-file")
            .arg(&key)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{weak:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("distinct byte values"), "{stderr}");
        assert!(stderr.contains(key.to_str().unwrap()), "{stderr}");
    }
}

#[tokio::test]
async fn standalone_simulator_serves_https_with_the_certificate_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("ca.pem");
    let (_simulator, url) = spawn_until(
        &[
            "simulate",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--write-ca-cert",
            cert.to_str().unwrap(),
        ],
        "url",
    );
    let pem = std::fs::read(&cert)
        .expect("the certificate is written before the simulator reports ready");
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--cacert",
            cert.to_str().unwrap(),
            "--user",
            "admin:netapp1!",
            &format!(
                "{url}/api/protocols/cifs/connections?svm.name=vs1&max_records=2&fields=client_ip"
            ),
        ])
        .output()
        .unwrap();
    assert!(!pem.is_empty());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["num_records"], 2);
    assert!(
        body["_links"]["next"]["href"]
            .as_str()
            .unwrap()
            .starts_with("/api/protocols/cifs/connections?")
    );
}

#[tokio::test]
async fn serve_flags_can_come_from_ontap_gateway_variables() {
    let (_gateway, addr) = spawn_with_env_until(
        &["serve"],
        &[
            ("ONTAP_GATEWAY_SIMULATE", "true"),
            ("ONTAP_GATEWAY_LISTEN", "127.0.0.1:0"),
        ],
        "listen",
    );
    assert_eq!(list_one(&addr).await.unwrap(), 1);
}

/// How many connections a `ListCifsConnections` of one record through the
/// gateway at `addr` gets.
async fn list_one(addr: &str) -> Result<usize, tonic::Status> {
    list_one_with(addr, &[]).await
}

#[tokio::test]
async fn a_flag_given_on_the_command_line_wins_over_its_variable() {
    let (_gateway, addr) = spawn_with_env_until(
        &["serve", "--simulate", "--listen", "127.0.0.1:0"],
        &[("ONTAP_GATEWAY_LISTEN", "127.0.0.1:1")],
        "listen",
    );
    assert_ne!(addr, "127.0.0.1:1");
}

#[tokio::test]
async fn an_absurd_value_from_a_variable_is_refused_naming_its_flag() {
    let (code, said) = refusal(
        &["serve", "--simulate"],
        &[("ONTAP_GATEWAY_MAX_IN_FLIGHT", "0")],
    );
    assert_eq!(code, Some(2));
    assert!(said.contains("--max-in-flight"), "{said}");
}

#[tokio::test]
async fn the_simulators_password_variable_is_not_shown_in_help() {
    let output = Command::new(BINARY)
        .args(["simulate", "--help"])
        .env("ONTAP_SIMULATOR_PASSWORD", "s3cret-in-env")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("ONTAP_SIMULATOR_PASSWORD"), "{said}");
    assert!(!said.contains("s3cret-in-env"), "{said}");
}

/// The binary's exit code and standard error for `serve` with `args`, with
/// `password` in `ONTAP_PASSWORD`.
fn serve_refusal(args: &[&str], password: &str) -> (Option<i32>, String) {
    let args: Vec<&str> = std::iter::once("serve")
        .chain(args.iter().copied())
        .collect();
    refusal(&args, &[("ONTAP_PASSWORD", password)])
}

#[tokio::test]
async fn an_http_cluster_url_is_refused_for_sending_the_password_in_clear() {
    let (code, said) = serve_refusal(&["--ontap-url", "http://127.0.0.1:1"], "pw");
    assert_eq!(code, Some(1));
    assert!(
        said.contains("clear text") && said.contains("--allow-plaintext-upstream"),
        "{said}"
    );
}

#[tokio::test]
async fn an_allowed_http_cluster_url_starts_with_a_warning() {
    let (_gateway, _, before_serving) = spawn_logging_until(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ontap-url",
            "http://127.0.0.1:1",
            "--allow-plaintext-upstream",
        ],
        &[("ONTAP_PASSWORD", "pw")],
        "listen",
    );
    assert!(
        before_serving
            .iter()
            .any(|l| l.contains("WARN") && l.contains("clear text")),
        "{before_serving:?}"
    );
}

#[tokio::test]
async fn an_empty_password_is_refused() {
    let (code, said) = serve_refusal(&["--ontap-url", "https://127.0.0.1:1"], "");
    assert_eq!(code, Some(1));
    assert!(
        said.contains("ONTAP_PASSWORD") && said.contains("empty"),
        "{said}"
    );
}

#[tokio::test]
async fn a_cluster_url_without_a_scheme_is_told_to_use_https() {
    let (code, said) = serve_refusal(&["--ontap-url", "cluster-mgmt"], "pw");
    assert_eq!(code, Some(1));
    assert!(said.contains("https://cluster-mgmt"), "{said}");
}

/// A `ListCifsConnections` of one record through the gateway binary, in
/// front of an in-process simulator, reading the ONTAP password from a
/// file holding `file_text`.
async fn list_with_password_file(file_text: &str) -> Result<usize, tonic::Status> {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, file_text).unwrap();
    let (_gateway, addr) = spawn_with_env_until(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ontap-url",
            &simulator.base_url(),
            "--allow-plaintext-upstream",
            "--password-file",
            file.to_str().unwrap(),
        ],
        &[],
        "listen",
    );
    list_one(&addr).await
}

#[tokio::test]
async fn the_password_can_come_from_a_file_with_its_line_ending() {
    let listed = list_with_password_file("netapp1!\n").await.unwrap();
    assert_eq!(listed, 1);
}

#[tokio::test]
async fn a_wrong_password_in_the_file_reaches_ontap_and_is_refused_there() {
    let status = list_with_password_file("not-the-password")
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert_eq!(
        crate::common::reason(&status),
        "GATEWAY_CREDENTIALS_REJECTED"
    );
}

#[tokio::test]
async fn an_empty_password_file_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty-password");
    std::fs::write(&file, "\n").unwrap();
    let path = file.to_str().unwrap();
    let (code, said) = serve_refusal(
        &[
            "--ontap-url",
            "https://127.0.0.1:1",
            "--password-file",
            path,
        ],
        "pw",
    );
    assert_eq!(code, Some(1));
    assert!(said.contains(path) && said.contains("empty"), "{said}");
}

#[tokio::test]
async fn serve_logs_the_clusters_name_and_release_once_it_answers() {
    let (_gateway, line, _) = spawn_until_line(
        &["serve", "--simulate", "--listen", "127.0.0.1:0"],
        &[],
        "ontap_version=",
    );
    assert!(line.contains("cluster=cluster1"), "{line}");
    assert!(line.contains("ontap_version=9.14.1"), "{line}");
}

/// `serve` in front of `simulator`, with `password`, until its first
/// startup-check line that names a reason.
fn serve_until_checked(url: &str, password: &str) -> (Running, String, Vec<String>) {
    spawn_until_line(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ontap-url",
            url,
            "--allow-plaintext-upstream",
        ],
        &[("ONTAP_PASSWORD", password)],
        "reason=",
    )
}

// The simulator serves from a worker thread while this one blocks reading
// the binary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn refused_credentials_are_logged_at_startup_with_what_to_check() {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let (_gateway, line, _) = serve_until_checked(&simulator.base_url(), "not-the-password");
    assert!(
        line.contains("reason=GATEWAY_CREDENTIALS_REJECTED"),
        "{line}"
    );
    assert!(line.contains("user `admin`"), "{line}");
    assert!(
        line.contains("the environment variable ONTAP_PASSWORD, which --password-env names"),
        "{line}"
    );
    assert!(line.contains("health is NOT_SERVING"), "{line}");
    assert!(!line.contains("not-the-password"), "{line}");
}

// The simulator serves from a worker thread while this one blocks reading
// the binary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn refused_credentials_name_the_variable_password_env_names() {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let (_gateway, line, _) = spawn_until_line(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ontap-url",
            &simulator.base_url(),
            "--allow-plaintext-upstream",
            "--password-env",
            "EAST_ONTAP_PW",
        ],
        &[("EAST_ONTAP_PW", "not-the-password")],
        "reason=",
    );
    assert!(
        line.contains("reason=GATEWAY_CREDENTIALS_REJECTED"),
        "{line}"
    );
    assert!(
        line.contains("environment variable EAST_ONTAP_PW"),
        "{line}"
    );
    assert!(!line.contains("ONTAP_GATEWAY_PASSWORD"), "{line}");
}

// The simulator serves from a worker thread while this one blocks reading
// the binary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn refused_credentials_name_the_password_file_in_use() {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("east-password");
    std::fs::write(&file, "not-the-password\n").unwrap();
    let (_gateway, line, _) = spawn_until_line(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ontap-url",
            &simulator.base_url(),
            "--allow-plaintext-upstream",
            "--password-file",
            file.to_str().unwrap(),
        ],
        &[],
        "reason=",
    );
    assert!(
        line.contains("reason=GATEWAY_CREDENTIALS_REJECTED"),
        "{line}"
    );
    assert!(
        line.contains(&format!("the file {}", file.display())),
        "{line}"
    );
    assert!(!line.contains("ONTAP_GATEWAY_PASSWORD"), "{line}");
}

// The simulator serves from a worker thread while this one blocks reading
// the binary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn an_untrusted_cluster_certificate_is_logged_with_the_flag_that_trusts_it() {
    let config = ontap_simulator::SimulatorConfig {
        tls: true,
        ..Default::default()
    };
    let simulator = ontap_simulator::Simulator::start(config, ontap_simulator::Cluster::seed())
        .await
        .unwrap();
    let (_gateway, line, _) = serve_until_checked(&simulator.base_url(), "netapp1!");
    assert!(
        line.contains("reason=UPSTREAM_CERTIFICATE_UNTRUSTED"),
        "{line}"
    );
    assert!(line.contains("--ca-cert"), "{line}");
    assert!(line.contains("asks again"), "{line}");
}

#[tokio::test]
async fn an_unreachable_cluster_is_named_and_the_gateway_serves_meanwhile() {
    let (_gateway, line, before) = serve_until_checked("http://127.0.0.1:1", "pw");
    assert!(line.contains("reason=UPSTREAM_UNREACHABLE"), "{line}");
    assert!(line.contains("cannot reach http://127.0.0.1:1"), "{line}");
    assert!(line.contains("retry_in="), "{line}");
    let status = list_one(&logged(&before, "listen")).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable);
}

// The simulator serves from a worker thread while this one blocks reading
// the binary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_cluster_failing_at_startup_is_asked_again_until_it_answers() {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    simulator.faults().push(ontap_simulator::Fault {
        path_prefix: Some("/api/cluster".into()),
        ..crate::common::failing_every_try(503, "busy")
    });
    let (_gateway, line, before) = spawn_until_line(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ontap-url",
            &simulator.base_url(),
            "--allow-plaintext-upstream",
        ],
        &[("ONTAP_PASSWORD", "netapp1!")],
        "ontap_version=",
    );
    assert!(
        before
            .iter()
            .any(|l| l.contains("reason=SERVICE_UNAVAILABLE") && l.contains("asks again")),
        "{before:?}"
    );
    assert!(line.contains("cluster=cluster1"), "{line}");
}

/// The `now` the admin API of a `simulate` started with `clock` reads.
async fn simulated_now(clock: &[&str]) -> jiff::Timestamp {
    let mut args = vec![
        "simulate",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(clock);
    let (_simulator, _, before) = spawn_logging_until(&args, &[], "url");
    let admin = logged(&before, "addr");
    let output = Command::new("curl")
        .args(["--silent", "--fail", &format!("http://{admin}/clock")])
        .output()
        .unwrap();
    assert!(output.status.success());
    let clock: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    clock["now"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_simulators_clock_starts_at_the_time_of_day_by_default() {
    let now = jiff::Timestamp::now();
    let simulated = simulated_now(&[]).await;
    let apart = (simulated - now).get_seconds().abs();
    assert!(apart < 3_600, "{simulated} is not today ({now})");
}

#[tokio::test]
async fn clock_start_pins_where_the_simulators_clock_starts() {
    let simulated = simulated_now(&["--clock-start", "2030-06-01T12:00:00Z"]).await;
    let since =
        (simulated - "2030-06-01T12:00:00Z".parse::<jiff::Timestamp>().unwrap()).get_seconds();
    assert!((0..3_600).contains(&since), "{simulated}");
}

#[tokio::test]
async fn clock_start_refuses_a_time_it_cannot_read_with_the_forms_it_takes() {
    let (code, said) = refusal(&["simulate", "--clock-start", "yesterday"], &[]);
    assert_eq!(code, Some(2));
    assert!(
        said.contains("`now`") && said.contains("RFC 3339"),
        "{said}"
    );
}

#[tokio::test]
async fn with_auth_tokens_the_gateway_refuses_tokenless_calls() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    let hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
    std::fs::write(&tokens, format!("{hash}\n")).unwrap();
    let (_gateway, listen) = spawn_with_env_until(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ontap-url",
            "http://127.0.0.1:1",
            "--allow-plaintext-upstream",
            "--auth-tokens",
            tokens.to_str().unwrap(),
        ],
        &[("ONTAP_PASSWORD", "pw")],
        "listen",
    );
    let status = list_one(&listen).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn a_token_file_line_that_is_not_a_hash_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "# tokens\nplaintext-token\n").unwrap();
    let (code, said) = serve_refusal(
        &["--simulate", "--auth-tokens", tokens.to_str().unwrap()],
        "pw",
    );
    assert_eq!(code, Some(1));
    assert!(said.contains(":2: expected a SHA-256 hash"), "{said}");
    assert!(!said.contains("plaintext-token"), "{said}");
}

#[tokio::test]
async fn a_policy_file_mistake_is_refused_at_start_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let text = "[[rule]]\ncallers = [\"token:a\"]\nsvms = [\"vs1\"]\naccess = \"admin\"\n";
    std::fs::write(&policy, text).unwrap();
    let (code, said) = serve_refusal(&["--simulate", "--policy", policy.to_str().unwrap()], "pw");
    assert_eq!(code, Some(1));
    assert!(said.contains("policy.toml:4:"), "{said}");
}

#[tokio::test]
async fn a_changed_policy_is_in_force_after_sighup_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let rule = |svms: &str| {
        format!("[[rule]]\ncallers = [\"anonymous\"]\nsvms = [{svms}]\naccess = \"read\"\n")
    };
    std::fs::write(&policy, rule("\"svm2\"")).unwrap();
    let (gateway, listen) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            policy.to_str().unwrap(),
        ],
        "listen",
    );
    // svm2 has no CIFS connections: a list of every SVM is narrowed to it.
    assert_eq!(list_one(&listen).await.unwrap(), 0);
    std::fs::write(&policy, rule("\"*\"")).unwrap();
    let hangup = Command::new("kill")
        .args(["-HUP", &gateway.0.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    crate::common::eventually_async("the new policy lets the list reach vs1", async || {
        list_one(&listen).await.is_ok_and(|listed| listed == 1)
    })
    .await;
}

#[tokio::test]
async fn the_two_tenant_walkthrough_works_as_pasted() {
    use crate::common::tools::{bash, shell_blocks, stdout_of};
    // The files, the gateway, tenant A's list, tenant B's refusal.
    let doc = include_str!("../../docs/production.md");
    let blocks = shell_blocks(doc, "### Two tenants, step by step");
    assert_eq!(blocks.len(), 4, "the walkthrough's shell blocks");
    let dir = tempfile::tempdir().unwrap();
    let cd = format!("cd {}\n", dir.path().display());
    let files = format!(
        "{cd}{}printf '%s %s' \"$TOKEN_A\" \"$TOKEN_B\"\n",
        blocks[0]
    );
    let tokens = stdout_of(&bash(&files));
    let (token_a, token_b) = tokens.split_once(' ').unwrap();
    let in_dir = |arg: &str| match arg {
        "tokens" | "policy.toml" => dir.path().join(arg).display().to_string(),
        other => other.to_owned(),
    };
    let mut args: Vec<String> = blocks[1].split_whitespace().skip(1).map(in_dir).collect();
    args.extend(["--listen".to_owned(), "127.0.0.1:0".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_gateway, listen) = spawn_until(&args, "listen");
    let as_tenants = |block: &str| {
        let block = block.replace("127.0.0.1:50051", &listen);
        bash(&format!("TOKEN_A={token_a} TOKEN_B={token_b}\n{block}"))
    };
    let listed = stdout_of(&as_tenants(&blocks[2]));
    assert!(
        listed.contains("\"svm3\"") && !listed.contains("\"svm2\""),
        "{listed}"
    );
    let refused = as_tenants(&blocks[3]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr) + String::from_utf8_lossy(&refused.stdout);
    for part in ["PermissionDenied", "CALLER_NOT_PERMITTED", "token:tenant-b"] {
        assert!(said.contains(part), "{part} in {said}");
    }
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_fields_named() {
    let (_gateway, line, before) = spawn_until_line(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ],
        &[],
        "\"ontap_version\":",
    );
    for line in before.iter().chain([&line]) {
        serde_json::from_str::<serde_json::Value>(line).expect("every line is JSON");
    }
    let answered: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answered["level"], "INFO");
    assert_eq!(answered["fields"]["ontap_version"], "9.14.1");
    assert_eq!(answered["fields"]["cluster"], "cluster1");
}

#[tokio::test]
async fn serve_simulate_clock_start_dates_the_simulated_metrics() {
    let (_gateway, addr) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--clock-start",
            "2030-06-01T12:00:00Z",
        ],
        "listen",
    );
    let channel = connect(format!("http://{addr}")).await;
    let service =
        ontap_grpc_gateway::proto::v1::iscsi_services_client::IscsiServicesClient::new(channel)
            .get_iscsi_service(ontap_grpc_gateway::proto::v1::GetIscsiServiceRequest {
                svm_uuid: crate::common::SVM2_UUID.into(),
                read_mask: Some(prost_types::FieldMask {
                    paths: vec!["statistics".into()],
                }),
            })
            .await
            .unwrap()
            .into_inner();
    let sampled = service.statistics.unwrap().timestamp.unwrap().seconds;
    let start = 1_906_545_600; // 2030-06-01T12:00:00Z
    assert!((start..start + 3_600).contains(&sampled), "{sampled}");
}

#[tokio::test]
async fn serve_simulate_churns_the_cifs_connections_at_the_rate_given() {
    let (_gateway, addr) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--cifs-churn-per-minute",
            "60000",
        ],
        "listen",
    );
    let client = CifsConnectionsClient::new(connect(format!("http://{addr}")).await);
    let listed = || {
        let mut client = client.clone();
        async move {
            let page = client
                .list_cifs_connections(ListCifsConnectionsRequest {
                    svm_name: "vs1".into(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            format!("{:?}", page.cifs_connections)
        }
    };
    let first = listed().await;
    crate::common::eventually_async("the connections change by themselves", async || {
        listed().await != first
    })
    .await;
}

#[tokio::test]
async fn metrics_listen_serves_prometheus_text() {
    let (_gateway, url) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
        "metrics",
    );
    let output = Command::new("curl")
        .args(["--silent", "--fail", &url])
        .output()
        .unwrap();
    assert!(output.status.success(), "{url}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("# TYPE ontap_gateway_watchers gauge"),
        "{text}"
    );
}

/// A `ListCifsConnections` of one record through the gateway at `addr`,
/// with `metadata` added.
async fn list_one_with(
    addr: &str,
    metadata: &[(&'static str, &str)],
) -> Result<usize, tonic::Status> {
    let mut client = CifsConnectionsClient::new(connect(format!("http://{addr}")).await);
    let mut request = tonic::Request::new(ListCifsConnectionsRequest {
        page_size: 1,
        ..Default::default()
    });
    for (key, value) in metadata {
        request.metadata_mut().insert(*key, value.parse().unwrap());
    }
    let page = client.list_cifs_connections(request).await?.into_inner();
    Ok(page.cifs_connections.len())
}

/// A clusters file fronting `east` and `west`, service accounts whose
/// password is in `$ONTAP_TEST_PASSWORD`.
fn clusters_file(dir: &std::path::Path, east: &str, west: &str) -> std::path::PathBuf {
    let file = dir.join("clusters.toml");
    let table = |name: &str, url: &str| {
        format!(
            "[[cluster]]\nname = \"{name}\"\nurl = \"{url}\"\nallow_plaintext = true\n\
             credentials = \"service-account\"\nusername = \"admin\"\n\
             password_env = \"ONTAP_TEST_PASSWORD\"\nmax_in_flight = 2\n\n"
        )
    };
    std::fs::write(&file, table("east", east) + &table("west", west)).unwrap();
    file
}

// The simulators serve from a worker thread while this one blocks reading
// the binary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_clusters_file_fronts_each_cluster_by_name() {
    let east = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let west = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = clusters_file(dir.path(), &east.base_url(), &west.base_url());
    let (_gateway, addr, before) = spawn_logging_until(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            file.to_str().unwrap(),
        ],
        &[("ONTAP_TEST_PASSWORD", "netapp1!")],
        "listen",
    );
    for cluster in ["east", "west"] {
        let named = |l: &&String| l.contains(&format!("cluster={cluster}"));
        let warned = before
            .iter()
            .filter(named)
            .any(|l| l.contains("clear text"));
        assert!(
            warned,
            "{cluster}'s http:// URL is warned about: {before:?}"
        );
        let fronted = before
            .iter()
            .filter(named)
            .any(|l| l.contains("fronting a cluster"));
        assert!(fronted, "{cluster} is named at start: {before:?}");
    }
    let listed = list_one_with(&addr, &[("x-ontap-cluster", "west")]).await;
    assert_eq!(listed.unwrap(), 1);
    assert_eq!(
        crate::common::requests_to(&west, "/api/protocols/cifs/connections"),
        1
    );
    assert_eq!(
        crate::common::requests_to(&east, "/api/protocols/cifs/connections"),
        0
    );
    let unknown = list_one_with(&addr, &[("x-ontap-cluster", "north")])
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn a_mistake_in_the_clusters_file_is_refused_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clusters.toml");
    std::fs::write(
        &file,
        "[[cluster]]\nname = \"east\"\nurl = \"https://east\"\ncredentials = \"service-account\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, said) = refusal(&["serve", "--config", path], &[]);
    assert_eq!(code, Some(1));
    assert!(said.contains(&format!("{path}:4:")), "{said}");
    assert!(said.contains("username"), "{said}");
}

#[tokio::test]
async fn a_clusters_file_takes_the_place_of_the_single_cluster_flags() {
    let (code, said) = refusal(
        &[
            "serve",
            "--config",
            "clusters.toml",
            "--ontap-url",
            "https://x",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "a usage error");
    assert!(said.contains("--ontap-url"), "{said}");
}

#[tokio::test]
async fn pass_through_forwards_each_callers_own_credentials() {
    let (_gateway, addr) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--credentials",
            "pass-through",
            "--listen",
            "127.0.0.1:0",
        ],
        "listen",
    );
    use base64::Engine;
    let basic = |credentials: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    };
    let admin = basic("admin:netapp1!");
    assert_eq!(
        list_one_with(&addr, &[("authorization", &admin)])
            .await
            .unwrap(),
        1
    );
    let missing = list_one_with(&addr, &[]).await.unwrap_err();
    assert_eq!(
        crate::common::reason(&missing),
        "CALLER_CREDENTIALS_MISSING"
    );
    let wrong = basic("admin:not-the-password");
    let refused = list_one_with(&addr, &[("authorization", &wrong)])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        crate::common::reason(&refused),
        "CALLER_CREDENTIALS_REJECTED"
    );
}

#[tokio::test]
async fn pass_through_beyond_loopback_without_tls_is_refused() {
    let (code, said) = refusal(
        &[
            "serve",
            "--ontap-url",
            "https://cluster",
            "--credentials",
            "pass-through",
            "--listen",
            ":0",
        ],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(
        said.contains("--tls-cert") && said.contains("clear text"),
        "{said}"
    );
}

#[tokio::test]
async fn pass_through_with_bearer_tokens_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("{}\n", "a".repeat(64))).unwrap();
    let (code, said) = refusal(
        &[
            "serve",
            "--simulate",
            "--credentials",
            "pass-through",
            "--auth-tokens",
            tokens.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(said.contains("--client-ca"), "{said}");
}

/// A self-signed certificate and its key, written into `dir`: their paths.
fn tls_files(dir: &std::path::Path) -> (String, String, String) {
    let (cert, key) = crate::common::self_signed_identity();
    let cert_path = dir.join("gateway.pem");
    let key_path = dir.join("gateway.key");
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let path = |p: std::path::PathBuf| p.to_str().unwrap().to_owned();
    (cert, path(cert_path), path(key_path))
}

#[tokio::test]
async fn serve_with_tls_files_answers_only_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, cert_path, key_path) = tls_files(dir.path());
    let (_gateway, addr) = spawn_until(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert_path,
            "--tls-key",
            &key_path,
        ],
        "listen",
    );
    let listed = crate::common::list_over_tls(&addr, &cert, None)
        .await
        .expect("a TLS client that trusts the certificate is served");
    assert_eq!(listed, 1);
}

#[tokio::test]
async fn serve_refuses_a_tls_key_file_without_a_key_naming_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert_path, key_path) = tls_files(dir.path());
    std::fs::write(&key_path, "not a key").unwrap();
    let (code, said) = refusal(
        &[
            "serve",
            "--simulate",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert_path,
            "--tls-key",
            &key_path,
        ],
        &[],
    );
    assert_ne!(code, Some(0));
    assert!(said.contains("--tls-cert/--tls-key"), "{said}");
    assert!(said.contains("private key"), "{said}");
}
