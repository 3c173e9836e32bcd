//! One OpenTelemetry trace from a browser's request to the web down to the SQL
//! statements of the transfer in the api, both exporting to a real OTLP receiver.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{TestWeb, hidden, web_config};
use testkit::otlp::{ReceivedSpan, Receiver};
use testkit::{Backend, TestDatabase};
use web::config::ApiTarget;

/// The `banking-api` binary next to ours (`cargo test --workspace` builds both).
fn api_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_banking-web")).with_file_name("banking-api");
    if !path.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-p", "api", "--bin", "banking-api"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building banking-api");
    }
    path
}

struct Api(Child);

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_is_one_trace_from_the_web_page_to_the_sql() {
    let (receiver, endpoint) = Receiver::start().await;
    let database = TestDatabase::new(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut api = Api(Command::new(api_binary())
        .env("DATABASE_URL", &database.url)
        .env("API_BIND", format!("127.0.0.1:{port}"))
        .env("METRICS_BIND", "127.0.0.1:0")
        .env("SEED_DEMO", "true")
        .env("LOG_LEVEL", "warn")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .stdout(Stdio::null())
        .spawn()
        .expect("start banking-api"));
    let api_base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{api_base}/ready"))
        .await
        .map(|r| r.status().is_success())
        .ok()
        != Some(true)
    {
        assert!(Instant::now() < deadline, "banking-api never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut config = web_config(ApiTarget::Remote(
        format!("{api_base}/graphql").parse().expect("url"),
    ));
    config.process.otel_endpoint = Some(endpoint);
    let telemetry = banking_common::telemetry::init("banking-web", &config.process);
    let mut app = TestWeb::start(config, None, "split + OTLP".into()).await;
    app.api_base = api_base.clone();
    let alice = app.accounts("alice").await;
    let bob = app.accounts("bob").await;
    app.sign_in("alice").await;
    let (status, _, _) = app.get("/").await;
    assert_eq!(status, 200, "the dashboard loads");
    let (_, _, form) = app.get("/transfer").await;
    let csrf = hidden(&form, "csrf").expect("csrf");
    let key = hidden(&form, "key").expect("key");
    let fields = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("from", alice[0].0.as_str()),
        ("to", bob[0].1.as_str()),
        ("amount", "3.21"),
        ("description", "traced"),
    ];
    let (status, _, _) = app.post("/transfer", &fields).await;
    assert_eq!(status, 200);
    let (status, _, body) = app.post("/transfer/confirm", &fields).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Transfer complete"));

    // The web's own metrics moved too (on the metrics port; the public one has none).
    let (status, _, _) = app.get("/metrics").await;
    assert_eq!(status, 404);
    let metrics = reqwest::get(format!("{}/metrics", app.metrics_base))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics");
    for expected in [
        "banking_web_http_requests_total{method=\"POST\",route=\"/transfer/confirm\",status=\"200\"} 1",
        "banking_web_api_calls_total{operation=\"Transfer\",outcome=\"ok\"} 1",
        "banking_web_process_resident_memory_bytes",
    ] {
        assert!(metrics.contains(expected), "{expected} in\n{metrics}");
    }

    // Flush both exporters: the web's by dropping its handle, the api's by SIGTERM.
    app.shutdown().await;
    tokio::task::spawn_blocking(move || drop(telemetry))
        .await
        .expect("flush");
    let _ = Command::new("kill")
        .args(["-TERM", &api.0.id().to_string()])
        .status();
    let _ = tokio::task::spawn_blocking(move || {
        let _ = api.0.wait();
        api
    })
    .await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut trace: Vec<ReceivedSpan> = Vec::new();
    while Instant::now() < deadline {
        let spans = receiver.spans();
        if let Some(root) = spans
            .iter()
            .find(|s| s.service == "banking-web" && s.name == "POST /transfer/confirm")
        {
            trace = spans
                .iter()
                .filter(|s| s.trace_id == root.trace_id)
                .cloned()
                .collect();
            if trace
                .iter()
                .any(|s| s.service == "banking-api" && s.name.starts_with("sea_orm"))
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names: Vec<String> = trace
        .iter()
        .map(|s| format!("{}: {}", s.service, s.name))
        .collect();
    let has =
        |service: &str, name: &str| trace.iter().any(|s| s.service == service && s.name == name);
    assert!(has("banking-web", "POST /transfer/confirm"), "{names:#?}");
    assert!(
        trace
            .iter()
            .any(|s| s.service == "banking-web" && s.name.starts_with("POST /graphql Transfer")),
        "the web's call to the api: {names:#?}"
    );
    assert!(has("banking-api", "POST /graphql"), "{names:#?}");
    assert!(has("banking-api", "Mutation.transfer"), "{names:#?}");
    assert!(
        has("banking-api", "transfer"),
        "the ledger call: {names:#?}"
    );
    let sql: Vec<_> = trace
        .iter()
        .filter(|s| s.name.starts_with("sea_orm"))
        .collect();
    assert!(sql.len() >= 3, "the transfer's SQL statements: {names:#?}");
    // One tree: exactly one root (the web request), every other span's parent is in it.
    let ids: std::collections::HashSet<&str> = trace.iter().map(|s| s.span_id.as_str()).collect();
    let roots: Vec<_> = trace
        .iter()
        .filter(|s| !ids.contains(s.parent_span_id.as_str()))
        .collect();
    assert_eq!(roots.len(), 1, "one root: {roots:#?}");
    assert_eq!(roots[0].name, "POST /transfer/confirm");
}
