//! How long a service's performance history takes: computed in process for each interval, and
//! served over loopback HTTP for the longest one (a year of daily samples), which a client
//! polling a dashboard asks for. These replace time limits that tests used to assert, which
//! measured the machine as much as the code.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use ontap_simulator::perf::{Interval, Timeline, Workload, history};
use ontap_simulator::{Cluster, Simulator, SimulatorConfig, clock_start};
use tokio::net::TcpStream;

/// 2026-01-01T00:00:00Z, where every simulator's clock starts.
const NOW: i64 = 1_767_225_600;
const DAY: i64 = 86_400;
const SVM: &str = "25f617cf-94d7-11e8-8370-005056b48fd2";
/// `admin:netapp1!`, the default credentials.
const AUTHORIZATION: &str = "Basic YWRtaW46bmV0YXBwMSE=";

fn in_process(c: &mut Criterion) {
    let workload = Workload::for_svm(SVM);
    let timeline = Timeline::enabled_since(NOW - 400 * DAY);
    let mut group = c.benchmark_group("iscsi_history_in_process");
    for interval in Interval::ALL {
        group.bench_function(format!("{interval:?}"), |b| {
            b.iter(|| black_box(history(&workload, &timeline, NOW, interval)))
        });
    }
    group.finish();
}

fn over_http(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (simulator, sender) = runtime.block_on(async {
        let simulator = Simulator::start(SimulatorConfig::default(), Cluster::seed())
            .await
            .expect("simulator starts");
        simulator
            .cluster()
            .pin_clock(clock_start() + Duration::from_secs(7));
        let stream = TcpStream::connect(simulator.local_addr())
            .await
            .expect("connect");
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        (simulator, sender)
    });
    let sender = tokio::sync::Mutex::new(sender);
    let uri = format!("/api/protocols/san/iscsi/services/{SVM}/metrics?interval=1y");
    c.bench_function("iscsi_history_over_http/1y", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = http::Request::get(&uri)
                .header(http::header::HOST, "simulator")
                .header(http::header::AUTHORIZATION, AUTHORIZATION)
                .body(Empty::<Bytes>::new())
                .expect("request");
            let mut sender = sender.lock().await;
            sender.ready().await.expect("connection ready");
            let response = sender.send_request(request).await.expect("response");
            assert_eq!(response.status(), http::StatusCode::OK);
            black_box(response.into_body().collect().await.expect("body"))
        })
    });
    drop(sender);
    runtime.block_on(simulator.shutdown());
}

criterion_group!(benches, in_process, over_http);
criterion_main!(benches);
