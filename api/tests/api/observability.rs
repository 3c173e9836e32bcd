//! What an operator sees: one trace from the request down to the SQL statements,
//! metrics that move, and logs that never hold a password or a token.

use std::time::{Duration, Instant};

use crate::support::process::ApiProcess;
use crate::support::{CacheKind, KEY_HEX, TestApp};
use serde_json::{Value, json};
use testkit::otlp::Receiver;
use testkit::{Backend, TestDatabase};

async fn gql(
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
    headers: &[(&str, &str)],
) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON")
}

const PASSWORD: &str = "sup3r-secret-passphrase";

async fn sign_up_and_transfer(base: &str, headers: &[(&str, &str)]) -> (String, String) {
    let signup = "mutation($input: SignupInput!) { signup(input: $input) { token user { accounts { id accountNumber } } } }";
    let mut parties = Vec::new();
    for name in ["tracy", "olly"] {
        let body = gql(base, None, signup, json!({ "input": { "username": name, "password": PASSWORD, "email": format!("{name}@example.com") } }), &[]).await;
        let s = &body["data"]["signup"];
        parties.push((
            s["token"].as_str().expect("token").to_owned(),
            s["user"]["accounts"][0]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
            s["user"]["accounts"][0]["accountNumber"]
                .as_str()
                .expect("number")
                .to_owned(),
        ));
    }
    let (token, account, _) = parties[0].clone();
    let deposit = gql(
        base,
        Some(&token),
        "mutation($input: DepositInput!) { deposit(input: $input) { id } }",
        json!({ "input": { "accountId": account, "amount": "50.00", "idempotencyKey": "d" } }),
        &[],
    )
    .await;
    assert!(deposit["errors"].is_null(), "{deposit}");
    // The password inline in the document too, the way a careless client would send it.
    let login = gql(
        base,
        None,
        &format!("mutation {{ login(username: \"tracy\", password: \"{PASSWORD}\") {{ token }} }}"),
        json!({}),
        &[],
    )
    .await;
    let login_token = login["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let transfer = gql(
        base,
        Some(&login_token),
        "mutation Pay($input: TransferInput!) { transfer(input: $input) { id } }",
        json!({ "operationName": "Pay", "input": { "fromAccountId": account, "toAccountNumber": parties[1].2, "amount": "12.50", "idempotencyKey": "t" } }),
        headers,
    )
    .await;
    assert!(transfer["errors"].is_null(), "{transfer}");
    (token, login_token)
}

#[tokio::test]
async fn one_trace_holds_the_request_the_resolvers_the_ledger_and_the_sql() {
    let (receiver, endpoint) = Receiver::start().await;
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut api = ApiProcess::start(&[
        ("DATABASE_URL", database.url.clone()),
        ("BISCUIT_PRIVATE_KEY", KEY_HEX.to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
    ])
    .await;
    // The caller (the web, in production) started the trace.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    sign_up_and_transfer(&api.base(), &[("traceparent", &traceparent)]).await;
    // SIGTERM flushes the exporter on the way out.
    let status = tokio::task::spawn_blocking(move || api.terminate())
        .await
        .expect("stop");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut trace = Vec::new();
    while Instant::now() < deadline {
        trace = receiver
            .spans()
            .into_iter()
            .filter(|s| s.trace_id == trace_id)
            .collect();
        if trace.iter().any(|s| s.name.starts_with("sea_orm")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names: Vec<&str> = trace.iter().map(|s| s.name.as_str()).collect();
    assert!(
        trace.iter().all(|s| s.service == "banking-api"),
        "{names:?}"
    );
    let request = trace
        .iter()
        .find(|s| s.name == "POST /graphql")
        .unwrap_or_else(|| panic!("request span: {names:?}"));
    assert_eq!(
        request.parent_span_id, "00f067aa0ba902b7",
        "continues the caller's span"
    );
    assert!(names.contains(&"graphql Pay"), "{names:?}");
    assert!(names.contains(&"Mutation.transfer"), "{names:?}");
    assert!(names.contains(&"transfer"), "the ledger call: {names:?}");
    let sql: Vec<_> = trace
        .iter()
        .filter(|s| s.name.starts_with("sea_orm"))
        .collect();
    assert!(
        sql.len() >= 3,
        "the SQL statements of the transfer: {names:?}"
    );
    assert!(
        sql.iter().any(|s| s
            .attributes
            .iter()
            .any(|(k, v)| k == "db.statement" && v.contains("UPDATE"))),
        "{sql:?}"
    );
    // Every span hangs off another span of the same trace, up to the caller's.
    let ids: std::collections::HashSet<&str> = trace.iter().map(|s| s.span_id.as_str()).collect();
    for span in &trace {
        assert!(
            ids.contains(span.parent_span_id.as_str()) || span.parent_span_id == "00f067aa0ba902b7",
            "orphan {span:?}"
        );
    }
}

#[tokio::test]
async fn metrics_move_with_requests() {
    let app = TestApp::spawn(Backend::Sqlite, CacheKind::Memory).await;
    let alice = app.customer("alice").await;
    let bob = app.customer("bob").await;
    app.deposit(&alice, "10.00").await;
    // Read first from the database alone, then cached (a miss), then a hit.
    for _ in 0..3 {
        app.balances(&alice.token).await;
    }
    let _ = app
        .gql(
            None,
            "mutation { login(username: \"alice\", password: \"nope nope\") { token } }",
            json!({}),
        )
        .await;
    let _ = app
        .gql(Some(&alice.token), "mutation($input: TransferInput!) { transfer(input: $input) { id } }", json!({ "input": { "fromAccountId": alice.account_id, "toAccountNumber": bob.account_number, "amount": "99.00", "idempotencyKey": "m" } }))
        .await;
    let public = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(public.status(), 404, "no metrics on the public port");
    assert!(
        public.headers().get("x-request-id").is_some(),
        "every response carries a request id"
    );
    let response = app
        .client
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    for expected in [
        "banking_api_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"}",
        "banking_api_http_request_duration_seconds_bucket",
        "banking_api_graphql_operations_total{operation=\"anonymous\",outcome=\"ok\"}",
        "banking_api_graphql_operations_total{operation=\"anonymous\",outcome=\"INSUFFICIENT_FUNDS\"}",
        "banking_api_ledger_postings_total{kind=\"deposit\",outcome=\"ok\"}",
        "banking_api_ledger_postings_total{kind=\"transfer\",outcome=\"insufficient_funds\"}",
        "banking_api_auth_logins_total{outcome=\"failed\"}",
        "banking_api_cache_reads_total{result=\"first\"}",
        "banking_api_cache_reads_total{result=\"hit\"}",
        "banking_api_cache_reads_total{result=\"miss\"}",
        "banking_api_db_pool_connections{state=\"idle\"}",
        "banking_api_process_resident_memory_bytes",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(expected))
            .unwrap_or_else(|| panic!("no {expected} in\n{text}"));
        if expected.contains("_total") {
            let value: f64 = line
                .rsplit(' ')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0);
            assert!(value >= 1.0, "{line}");
        }
    }
}

#[tokio::test]
async fn trace_level_logs_hold_no_password_and_no_token() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("api.log");
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut api = ApiProcess::start_with_logs(
        &[
            ("DATABASE_URL", database.url.clone()),
            ("BISCUIT_PRIVATE_KEY", KEY_HEX.to_owned()),
            ("LOG_LEVEL", "trace".to_owned()),
            ("LOG_FORMAT", "json".to_owned()),
        ],
        Some(log.clone()),
    )
    .await;
    let base = api.base();
    let (token, login_token) = sign_up_and_transfer(&base, &[]).await;
    // The REST sign-in too.
    let rest = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "username": "olly", "password": PASSWORD }))
        .send()
        .await
        .expect("POST")
        .json::<Value>()
        .await
        .expect("JSON");
    let rest_token = rest["access_token"].as_str().expect("token").to_owned();
    let _ = reqwest::Client::new()
        .get(format!("{base}/api/accounts"))
        .bearer_auth(&rest_token)
        .send()
        .await;
    let status = tokio::task::spawn_blocking(move || api.terminate())
        .await
        .expect("stop");
    assert!(status.success());
    let logs = std::fs::read_to_string(&log).expect("logs");
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(
        logs.lines().count() > 10,
        "trace logging was on: {} lines",
        logs.lines().count()
    );
    assert!(
        logs.contains("\"request_id\""),
        "requests are logged with their id"
    );
    for (what, secret) in [
        ("password", PASSWORD),
        ("signup token", &token),
        ("login token", &login_token),
        ("REST token", &rest_token),
        ("root key", KEY_HEX),
    ] {
        // Tokens are long; any 24-character piece of one is as bad as the whole.
        let needle = &secret[..secret.len().min(24)];
        assert!(!logs.contains(needle), "the {what} reached the logs");
    }
}
