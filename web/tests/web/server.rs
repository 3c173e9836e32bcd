//! The web's server: slow clients are cut off, `/metrics` is only on the metrics port (both
//! processes' metrics in the all-in-one), and HSTS goes with secure cookies.

use testkit::raw_http;

use std::time::Duration;

use crate::support::{TestWeb, api_config, web_config};
use banking_common::server::ServerLimits;
use testkit::{Backend, TestDatabase};
use web::config::ApiTarget;

async fn all_in_one(configure: impl FnOnce(&mut web::Config)) -> TestWeb {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut config = web_config(ApiTarget::Embedded(Box::new(api_config(&database, None))));
    configure(&mut config);
    TestWeb::start(config, Some(database), "all-in-one".into()).await
}

fn port(base: &str) -> u16 {
    base.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

#[tokio::test]
async fn headers_dripped_to_the_web_are_cut_at_the_header_timeout() {
    let header = Duration::from_secs(2);
    let app = all_in_one(|config| {
        config.process.server = ServerLimits {
            header_timeout: header,
            ..ServerLimits::default()
        }
    })
    .await;
    let mut stream = raw_http::connect(port(&app.base)).await;
    let outcome = raw_http::drip(
        &mut stream,
        &raw_http::endless_headers("/login"),
        Duration::from_secs(1),
        Duration::from_secs(20),
    )
    .await;
    let closed = outcome.closed_after.expect("cut off");
    assert!(
        closed >= header.mul_f32(0.8) && closed <= header + Duration::from_millis(2500),
        "dripped headers cut after {closed:?}, expected about {header:?}"
    );
}

#[tokio::test]
async fn the_all_in_ones_metrics_port_serves_both_processes() {
    let app = all_in_one(|_| {}).await;
    let (status, _, _) = app.get("/login").await;
    assert_eq!(status, 200);
    let answer = app.gql(None, "{ __typename }", serde_json::json!({})).await;
    assert_eq!(answer["data"]["__typename"], "Query");
    let (status, _, _) = app.get("/metrics").await;
    assert_eq!(status, 404, "no metrics on the public port");
    let response = reqwest::get(format!("{}/metrics", app.metrics_base))
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")),
        "Prometheus text"
    );
    let text = response.text().await.expect("body");
    for expected in [
        "banking_web_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 1",
        "banking_api_db_pool_connections",
        "banking_api_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"} 1",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
}

#[tokio::test]
async fn secure_cookies_come_with_hsts() {
    let app = all_in_one(|config| config.cookie_secure = true).await;
    let response = app.client.get(app.url("/login")).send().await.expect("GET");
    assert_eq!(
        response
            .headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
    let plain = all_in_one(|_| {}).await;
    let response = plain
        .client
        .get(plain.url("/login"))
        .send()
        .await
        .expect("GET");
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none(),
        "no HSTS over plain HTTP"
    );
}
