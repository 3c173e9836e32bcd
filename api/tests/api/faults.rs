//! Faults: the api killed with SIGKILL mid-load, PostgreSQL restarted under load, and
//! SIGTERM with requests in flight. Money is applied at most once per intent, exactly
//! once per success, and the service comes back by itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::pg_server::PgServer;
use crate::support::process::ApiProcess;
use crate::support::{CacheKind, KEY_HEX, TestApp, error_code};
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use testkit::{Backend, TestDatabase};

async fn gql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Result<Value, reqwest::Error> {
    let mut request = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await?.error_for_status()?.json().await
}

/// An intent's idempotency key and, when it was answered with success, its transaction id.
type Outcome = (String, Option<String>);

struct Client {
    name: String,
    token: String,
    account_id: String,
    account_number: String,
}

async fn sign_up(client: &reqwest::Client, base: &str, name: &str) -> Client {
    let body = gql(
        client,
        base,
        None,
        "mutation($input: SignupInput!) { signup(input: $input) { token user { accounts { id accountNumber } } } }",
        json!({ "input": { "username": name, "password": "correct horse battery", "email": format!("{name}@example.com") } }),
    )
    .await
    .expect("signup");
    let s = &body["data"]["signup"];
    let c = Client {
        name: name.to_owned(),
        token: s["token"].as_str().expect("token").into(),
        account_id: s["user"]["accounts"][0]["id"].as_str().expect("id").into(),
        account_number: s["user"]["accounts"][0]["accountNumber"]
            .as_str()
            .expect("number")
            .into(),
    };
    let deposit = gql(
        client,
        base,
        Some(&c.token),
        "mutation($input: DepositInput!) { deposit(input: $input) { id } }",
        json!({ "input": { "accountId": c.account_id, "amount": "1000.00", "idempotencyKey": "opening" } }),
    )
    .await
    .expect("deposit");
    assert!(deposit["errors"].is_null(), "{deposit}");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_load_then_retries_apply_each_transfer_at_most_once() {
    let mut setups = vec![Backend::Sqlite];
    if testkit::postgres_admin_url().is_some() {
        setups.push(Backend::Postgres);
    }
    for backend in setups {
        let database = TestDatabase::new(backend).await;
        let mut env = vec![
            ("DATABASE_URL", database.url.clone()),
            ("BISCUIT_PRIVATE_KEY", KEY_HEX.to_owned()),
        ];
        if backend == Backend::Postgres
            && let Some(redis) = testkit::redis_url()
        {
            env.push(("REDIS_URL", redis));
            env.push((
                "REDIS_KEY_PREFIX",
                format!("crash:{}:", uuid::Uuid::new_v4().simple()),
            ));
        }
        let mut api = ApiProcess::start(&env).await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let base = api.base();
        let mut clients = Vec::new();
        for i in 0..8 {
            clients.push(sign_up(&http, &base, &format!("crash{i}")).await);
        }
        let clients = Arc::new(clients);
        let outcomes: Arc<tokio::sync::Mutex<Vec<Outcome>>> = Default::default();

        let mut tasks = Vec::new();
        for worker in 0..16usize {
            let clients = clients.clone();
            let outcomes = outcomes.clone();
            let http = http.clone();
            let base = base.clone();
            tasks.push(tokio::spawn(async move {
                let mut tokens: HashMap<String, String> = HashMap::new();
                for n in 0..25usize {
                    let payer = &clients[(worker + n) % clients.len()];
                    let payee = &clients[(worker + n + 1 + n % 3) % clients.len()];
                    let key = format!("intent-{worker}-{n}");
                    let variables = json!({ "input": {
                        "fromAccountId": payer.account_id,
                        "toAccountNumber": payee.account_number,
                        "amount": format!("{}.{:02}", 1 + n % 7, worker),
                        "idempotencyKey": key,
                    }});
                    // Retry every unanswered attempt with the same key until it is answered.
                    // The embedded mode keeps sessions in process memory, so after a crash
                    // its clients sign in again, as a person would, and retry.
                    let started = Instant::now();
                    let token = tokens.entry(payer.name.clone()).or_insert_with(|| payer.token.clone());
                    let answer = loop {
                        assert!(started.elapsed() < Duration::from_secs(60), "{key} never answered");
                        match gql(&http, &base, Some(token), "mutation($input: TransferInput!) { transfer(input: $input) { id } }", variables.clone()).await {
                            Ok(body) if error_code(&body).is_none() => {
                                break Some(body["data"]["transfer"]["id"].as_str().expect("id").to_owned());
                            }
                            Ok(body) if error_code(&body) == Some("INSUFFICIENT_FUNDS") => break None,
                            Ok(body) if error_code(&body) == Some("UNAVAILABLE") => {}
                            Ok(body) if error_code(&body) == Some("UNAUTHENTICATED") => {
                                let login = gql(&http, &base, None, "mutation($u: String!) { login(username: $u, password: \"correct horse battery\") { token } }", json!({ "u": payer.name })).await;
                                if let Some(fresh) = login.ok().and_then(|b| b["data"]["login"]["token"].as_str().map(str::to_owned)) {
                                    *token = fresh;
                                }
                            }
                            Ok(body) => panic!("{key}: unexpected answer {body}"),
                            Err(_) => {} // connection refused or reset: the process is down
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    };
                    outcomes.lock().await.push((key, answer));
                }
            }));
        }
        // Kill once a quarter of the intents are answered: by progress, not by the clock,
        // which a faster build or machine would outrun.
        let started = Instant::now();
        while outcomes.lock().await.len() < 16 * 25 / 4 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no progress before the kill"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let before_kill = outcomes.lock().await.len();
        api.kill9();
        tokio::time::sleep(Duration::from_millis(500)).await;
        api.restart().await;
        for task in tasks {
            task.await.expect("client");
        }
        let outcomes = outcomes.lock().await.clone();
        assert_eq!(outcomes.len(), 16 * 25);
        assert!(before_kill < outcomes.len(), "the kill landed mid-load");

        let db = sea_orm::Database::connect(&database.url)
            .await
            .expect("connect");
        let rows: Vec<(i64, String)> = entities::transactions::Entity::find()
            .select_only()
            .column(entities::transactions::Column::Id)
            .column(entities::transactions::Column::IdempotencyKey)
            .filter(entities::transactions::Column::FromAccount.is_not_null())
            .into_tuple()
            .all(&db)
            .await
            .expect("rows");
        let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
        for (id, key) in rows {
            by_key.entry(key).or_default().push(id);
        }
        for (key, answer) in &outcomes {
            let ids = by_key.get(key).cloned().unwrap_or_default();
            assert!(
                ids.len() <= 1,
                "{backend:?}: {key} applied {} times",
                ids.len()
            );
            if let Some(id) = answer {
                assert_eq!(
                    ids,
                    vec![id.parse::<i64>().expect("id")],
                    "{backend:?}: {key} answered success"
                );
            }
        }
        let ledger = api::ledger::Ledger::new(db);
        assert!(
            ledger.verify().await.expect("verify").is_empty(),
            "{backend:?}"
        );
        eprintln!(
            "{backend:?}: SIGKILL after {before_kill} of 400 intents; {} succeeded, money lost: 0",
            outcomes.iter().filter(|(_, a)| a.is_some()).count()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restart_under_load_is_unavailable_then_recovers_by_itself() {
    if testkit::postgres_admin_url().is_none() {
        eprintln!("skipped: needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let pg = PgServer::start();
    let admin = Database::connect(pg.admin_url())
        .await
        .expect("private PostgreSQL");
    admin
        .execute_unprepared("CREATE DATABASE bank")
        .await
        .expect("create");
    admin.close().await.ok();
    let url = testkit::with_database(&pg.admin_url(), "bank");
    let database = TestDatabase::existing(&url, Backend::Postgres);
    let mut config = crate::support::config_for(&database, &CacheKind::Memory);
    config.db_pool.acquire_timeout = Duration::from_secs(1);
    let app = Arc::new(TestApp::spawn_with(database, config, "private PostgreSQL".into()).await);
    let alice = app.customer("alice").await;
    let bob = app.customer("bob").await;
    app.deposit(&alice, "100.00").await;

    let stop_at = Instant::now() + Duration::from_secs(1);
    let restart_at = stop_at + Duration::from_secs(3);
    let end_at = restart_at + Duration::from_secs(10);
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let app = app.clone();
        let (alice, bob) = (alice.clone(), bob.clone());
        tasks.push(tokio::spawn(async move {
            let mut codes: HashMap<String, usize> = HashMap::new();
            let mut recovered_after: Option<Duration> = None;
            let mut n = 0;
            while Instant::now() < end_at {
                n += 1;
                let body = app
                    .gql(
                        Some(&alice.token),
                        "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
                        json!({ "input": { "fromAccountId": alice.account_id, "toAccountNumber": bob.account_number, "amount": "0.01", "idempotencyKey": format!("pg-{worker}-{n}") } }),
                    )
                    .await;
                let code = error_code(&body).unwrap_or("OK").to_owned();
                if code == "OK" && Instant::now() > restart_at && recovered_after.is_none() {
                    recovered_after = Some(Instant::now() - restart_at);
                }
                *codes.entry(code).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (codes, recovered_after)
        }));
    }
    tokio::time::sleep_until(stop_at.into()).await;
    pg.stop();
    tokio::time::sleep_until(restart_at.into()).await;
    pg.start_again();
    let mut totals: HashMap<String, usize> = HashMap::new();
    let mut slowest_recovery = Duration::ZERO;
    for task in tasks {
        let (codes, recovered) = task.await.expect("worker");
        for (code, count) in codes {
            *totals.entry(code).or_default() += count;
        }
        let recovered = recovered.expect("every worker saw a transfer succeed after the restart");
        slowest_recovery = slowest_recovery.max(recovered);
    }
    assert!(
        totals.get("UNAVAILABLE").copied().unwrap_or(0) > 0,
        "the outage was seen: {totals:?}"
    );
    for code in totals.keys() {
        assert!(
            code == "OK" || code == "UNAVAILABLE",
            "only success or UNAVAILABLE, got {totals:?}"
        );
    }
    assert!(
        slowest_recovery < Duration::from_secs(8),
        "recovered in {slowest_recovery:?}"
    );
    testkit::assert_ledger_sound(&app.state.services.ledger).await;
    eprintln!(
        "PostgreSQL restart: {totals:?}, recovered within {slowest_recovery:?} without restarting the api, money lost: 0"
    );
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut api = ApiProcess::start(&[
        ("DATABASE_URL", database.url.clone()),
        ("BISCUIT_PRIVATE_KEY", KEY_HEX.to_owned()),
    ])
    .await;
    let http = reqwest::Client::new();
    let base = api.base();
    sign_up(&http, &base, "patient").await;
    // Sign-ins are the slowest requests (argon2); start a batch and stop the server under them.
    let mut requests = Vec::new();
    for _ in 0..16 {
        let http = http.clone();
        let base = base.clone();
        requests.push(tokio::spawn(async move {
            let body = gql(&http, &base, None, "mutation { login(username: \"patient\", password: \"correct horse battery\") { token } }", json!({})).await;
            (body, Instant::now())
        }));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    let signalled = Instant::now();
    let status = tokio::task::spawn_blocking(move || api.terminate())
        .await
        .expect("terminate");
    let mut after_signal = 0;
    for request in requests {
        let (body, finished) = request.await.expect("request");
        let body = body.expect("an in-flight request is answered, not dropped");
        assert!(body["data"]["login"]["token"].is_string(), "{body}");
        if finished > signalled {
            after_signal += 1;
        }
    }
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    assert!(
        after_signal > 0,
        "some requests were still in flight when SIGTERM arrived"
    );
}
