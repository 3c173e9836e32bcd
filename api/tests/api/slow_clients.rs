//! Slow and idle clients (slowloris) against the real api: dripped headers, a promised body
//! that never comes, idle keep-alive connections, hundreds of them at once, and a flood
//! beyond the connection cap. Timeouts are set to a few seconds so the cuts show quickly.

use std::time::Duration;

use crate::support::{CacheKind, TestApp};
use banking_common::server::ServerLimits;
use serde_json::json;
use testkit::raw_http::{connect, drip, endless_headers, read_until_closed, status_line};
use testkit::{Backend, TestDatabase};
use tokio::io::AsyncWriteExt as _;
use tokio::time::Instant;

const HEADER: Duration = Duration::from_secs(2);
const BODY: Duration = Duration::from_secs(2);
const IDLE: Duration = Duration::from_secs(4);

async fn spawn(limits: ServerLimits) -> TestApp {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut config = crate::support::config_for(&database, &CacheKind::Memory);
    config.process.server = limits;
    TestApp::spawn_with(database, config, "slow clients".into()).await
}

fn short_limits() -> ServerLimits {
    ServerLimits {
        header_timeout: HEADER,
        body_timeout: BODY,
        request_timeout: Duration::from_secs(30),
        idle_timeout: IDLE,
        max_connections: 10_000,
    }
}

fn port(app: &TestApp) -> u16 {
    app.base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

/// Closed between `expected` and `expected` plus a generous scheduling margin.
fn assert_cut_at(closed_after: Option<Duration>, expected: Duration, what: &str) {
    let closed = closed_after.unwrap_or_else(|| panic!("{what}: still open"));
    assert!(
        closed >= expected.mul_f32(0.8) && closed <= expected + Duration::from_millis(2500),
        "{what}: closed after {closed:?}, expected about {expected:?}"
    );
}

#[tokio::test]
async fn headers_dripped_at_a_byte_a_second_are_cut_at_the_header_timeout() {
    let app = spawn(short_limits()).await;
    let mut stream = connect(port(&app)).await;
    let outcome = drip(
        &mut stream,
        &endless_headers("/ping"),
        Duration::from_secs(1),
        Duration::from_secs(20),
    )
    .await;
    eprintln!("dripped headers cut after {:?}", outcome.closed_after);
    assert_cut_at(outcome.closed_after, HEADER, "dripped headers");
    assert!(
        !outcome.received.contains("200 OK"),
        "no request was served: {}",
        outcome.received
    );
}

#[tokio::test]
async fn a_silent_connection_is_cut_at_the_header_timeout() {
    let app = spawn(short_limits()).await;
    let mut stream = connect(port(&app)).await;
    let outcome = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert_cut_at(
        outcome.closed_after,
        HEADER,
        "a connection that sends nothing",
    );
}

#[tokio::test]
async fn a_promised_body_that_never_comes_is_cut_at_the_body_timeout() {
    let app = spawn(short_limits()).await;
    let mut stream = connect(port(&app)).await;
    stream
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        )
        .await
        .expect("headers");
    let outcome = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert_cut_at(
        outcome.closed_after,
        BODY,
        "Content-Length: 100 and no body",
    );
    assert!(
        status_line(&outcome.received).contains(" 408 "),
        "answered {:?}",
        outcome.received
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn(short_limits()).await;
    let mut stream = connect(port(&app)).await;
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("request");
    // The answer comes and the connection stays open past the header timeout: being idle
    // between requests is not being slow to send one.
    let first_wait = HEADER + Duration::from_millis(800);
    let first = read_until_closed(&mut stream, first_wait).await;
    assert!(
        status_line(&first.received).contains(" 200 "),
        "{}",
        first.received
    );
    assert!(
        first.closed_after.is_none(),
        "closed while idle after {:?}, before the idle timeout",
        first.closed_after
    );
    let rest = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    // Idle since the answer, which came at once: the first read's whole wait counts.
    let closed = rest.closed_after.expect("closed at the idle timeout") + first_wait;
    assert!(
        closed >= IDLE.mul_f32(0.8) && closed <= IDLE + Duration::from_millis(2500),
        "idle connection closed after {closed:?}, expected about {IDLE:?}"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_serves_the_next_request() {
    let app = spawn(short_limits()).await;
    let mut stream = connect(port(&app)).await;
    for _ in 0..2 {
        stream
            .write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("request");
        let answer = read_until_closed(&mut stream, Duration::from_millis(500)).await;
        assert!(
            status_line(&answer.received).contains(" 200 "),
            "{}",
            answer.received
        );
        assert!(answer.closed_after.is_none(), "kept alive");
        // Idle for longer than the header timeout, shorter than the idle one.
        tokio::time::sleep(HEADER + Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_idle_connections_do_not_stop_a_new_customer() {
    let limits = ServerLimits {
        header_timeout: Duration::from_secs(30),
        ..ServerLimits::default()
    };
    let app = spawn(limits).await;
    let port = port(&app);
    let mut idle = Vec::new();
    for i in 0..500 {
        let mut stream = connect(port).await;
        // Half send a slowloris's first bytes, half send nothing.
        if i % 2 == 0 {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: loc")
                .await
                .expect("partial headers");
        }
        idle.push(stream);
    }
    let started = Instant::now();
    let customer = app.customer("newcomer").await;
    let login = app
        .gql(
            None,
            "mutation { login(username: \"newcomer\", password: \"correct horse battery\") { token } }",
            json!({}),
        )
        .await;
    let elapsed = started.elapsed();
    eprintln!("sign-up and sign-in beside 500 idle connections: {elapsed:?}");
    assert!(
        login["data"]["login"]["token"].is_string(),
        "signed in: {login}"
    );
    assert!(!customer.token.is_empty());
    assert!(
        elapsed < Duration::from_secs(5),
        "sign-up and sign-in took {elapsed:?} beside 500 idle connections"
    );
    // The idle connections were all still open: the customer did not get in because
    // they had been dropped.
    for stream in idle.iter_mut().step_by(50) {
        let outcome = read_until_closed(stream, Duration::from_millis(20)).await;
        assert!(outcome.closed_after.is_none(), "an idle connection was cut");
    }
}

#[tokio::test]
async fn beyond_the_connection_cap_a_client_waits_for_a_free_slot() {
    let limits = ServerLimits {
        max_connections: 5,
        ..short_limits()
    };
    let app = spawn(limits).await;
    let port = port(&app);
    let mut flood = Vec::new();
    for _ in 0..5 {
        flood.push(connect(port).await);
    }
    // Let the server accept the flood before the customer connects.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let mut customer = connect(port).await;
    customer
        .write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let early = read_until_closed(&mut customer, Duration::from_secs(1)).await;
    assert!(
        early.received.is_empty(),
        "served while every slot was taken: {}",
        early.received
    );
    // The flood is cut at the header timeout; the customer is served then.
    let later = read_until_closed(&mut customer, Duration::from_secs(10)).await;
    assert!(
        status_line(&later.received).contains(" 200 "),
        "{}",
        later.received
    );
    let waited = started.elapsed();
    assert!(
        waited >= HEADER.mul_f32(0.6) && waited < HEADER + Duration::from_secs(5),
        "served after {waited:?}"
    );
    drop(flood);
}
