//! Credentials never leave the gateway by any way out: a failing call made
//! with a known password, the gateway's own or a caller's, and then every
//! output searched for it (the call's status and details, every log line
//! at trace level, standard output, the metrics).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use ontap_grpc_gateway::proto::v1::ListCifsConnectionsRequest;
use ontap_grpc_gateway::proto::v1::cifs_connections_client::CifsConnectionsClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;

const BINARY: &str = env!("CARGO_BIN_EXE_ontap-grpc-gateway");

/// The password every run uses, which no output may show.
const KNOWN: &str = "Known-Secret-7f3a9c";

/// The forms a password travels in: itself, and inside Basic credentials.
fn forms_of(user: &str) -> [String; 2] {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{KNOWN}"));
    [KNOWN.to_owned(), basic]
}

/// A gateway whose standard output and error go to files in `dir`.
struct Gateway {
    child: Child,
    dir: tempfile::TempDir,
}

impl Gateway {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let out = std::fs::File::create(dir.path().join("stdout")).unwrap();
        let err = std::fs::File::create(dir.path().join("stderr")).unwrap();
        let child = Command::new(BINARY)
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "trace")
            .envs(env.iter().copied())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        Gateway { child, dir }
    }

    fn file(&self, name: &str) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.path().join(name)).unwrap()).into_owned()
    }

    /// The value logged after `key=` once a line has it.
    async fn logged(&self, key: &str) -> String {
        let needle = format!("{key}=");
        for _ in 0..400 {
            let found = self
                .file("stderr")
                .lines()
                .find_map(|l| l.split_once(&needle).map(|(_, v)| v.to_owned()));
            if let Some(value) = found {
                return value.split_whitespace().next().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the gateway never logged {needle}");
    }

    /// Stops the gateway and gives everything it wrote.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.file("stdout") + &self.file("stderr")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `GET /metrics` over a plain socket.
async fn scrape(url: &str) -> String {
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    socket.read_to_string(&mut text).await.unwrap();
    text
}

/// One list call, with `authorization` when given; the whole status as
/// text (message, metadata, details) when it fails.
async fn failing_call(addr: &str, authorization: Option<&str>) -> String {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut request = tonic::Request::new(ListCifsConnectionsRequest {
        page_size: 1,
        ..Default::default()
    });
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
    }
    let status = CifsConnectionsClient::new(channel)
        .list_cifs_connections(request)
        .await
        .unwrap_err();
    format!(
        "{status:?} {} {}",
        String::from_utf8_lossy(status.details()),
        crate::common::reason(&status)
    )
}

fn assert_never_shown(output: &str, forms: &[String], what: &str) {
    for form in forms {
        assert!(!output.contains(form.as_str()), "{what} shows `{form}`");
    }
}

async fn check_every_output(
    gateway: Gateway,
    authorization: Option<&str>,
    refused: &str,
    forms: &[String],
) {
    let addr = gateway.logged("listen").await;
    let metrics = gateway.logged("metrics").await;
    let status = failing_call(&addr, authorization).await;
    assert!(
        status.contains(refused),
        "ONTAP refused the password: {status}"
    );
    let scraped = scrape(&metrics).await;
    assert!(
        scraped.contains("ontap_gateway_rpc_requests_total"),
        "{scraped}"
    );
    let logs = gateway.stop();
    assert!(logs.contains(refused), "the failure was logged: {logs}");
    assert!(logs.contains("TRACE"), "everything was logged: {logs}");
    assert_never_shown(&status, forms, "the call's status");
    assert_never_shown(&scraped, forms, "the metrics");
    assert_never_shown(&logs, forms, "the logs");
}

fn password_file(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("password");
    std::fs::write(&file, format!("{KNOWN}\n")).unwrap();
    file
}

// The simulator serves from a worker thread while the test waits on files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_own_password_is_in_no_output_when_ontap_refuses_it() {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = password_file(dir.path());
    let gateway = Gateway::start(
        &[
            "serve",
            "--ontap-url",
            &simulator.base_url(),
            "--allow-plaintext-upstream",
            "--username",
            "svc",
            "--password-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    check_every_output(
        gateway,
        None,
        "GATEWAY_CREDENTIALS_REJECTED",
        &forms_of("svc"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_password_is_in_no_output_when_ontap_refuses_it() {
    let simulator = crate::common::simulator_with(ontap_simulator::Cluster::seed()).await;
    let gateway = Gateway::start(
        &[
            "serve",
            "--ontap-url",
            &simulator.base_url(),
            "--allow-plaintext-upstream",
            "--credentials",
            "pass-through",
        ],
        &[],
    );
    let forms = forms_of("alice");
    let authorization = format!("Basic {}", forms[1]);
    check_every_output(
        gateway,
        Some(&authorization),
        "CALLER_CREDENTIALS_REJECTED",
        &forms,
    )
    .await;
}
