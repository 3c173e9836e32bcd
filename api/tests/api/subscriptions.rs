//! Live postings over GraphQL subscriptions (graphql-transport-ws): delivered across
//! replicas through Redis within a second, only to the accounts' owners, never for a
//! posting that did not commit; connections end with their session; limits and bad
//! handshakes get clear close codes or errors.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::graphql_ws::{Event, GraphQLWs, SUBSCRIBE_ACCOUNT_UPDATED};
use testkit::{Backend, TestDatabase};

use crate::support::process::ApiProcess;
use crate::support::{
    CacheKind, Customer, KEY_HEX, SIGN_UP, TestApp, config_for, error_code, setups,
    sign_up_variables,
};

const WITHIN: Duration = Duration::from_secs(1);

fn ws_url(base: &str) -> String {
    format!("{}/graphql/ws", base.replacen("http://", "ws://", 1))
}

async fn gql(base: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON")
}

async fn transfer(base: &str, from: &Customer, to: &Customer, amount: &str) -> Value {
    gql(
        base,
        Some(&from.token),
        "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
        json!({ "input": { "fromAccountId": from.account_id, "toAccountNumber": to.account_number, "amount": amount, "idempotencyKey": uuid::Uuid::new_v4().to_string() } }),
    )
    .await
}

/// Subscribes and waits until the server has registered it: a `subscribe` is served
/// asynchronously, so a posting made right after sending it could come first.
async fn subscribed(base: &str, token: &str) -> GraphQLWs {
    // A session check that could not be made (Redis slow under the whole suite's load)
    // closes with 1013, try again later, and a connection can fail to open: as a client
    // would, try again.
    let mut attempts = 0;
    let mut ws = loop {
        match GraphQLWs::connect(&ws_url(base), token).await {
            Ok(ws) => break ws,
            Err(Event::Closed(1013, _) | Event::Dropped) if attempts < 3 => attempts += 1,
            Err(other) => panic!("no connection_ack: {other:?}"),
        }
    };
    ws.subscribe("1", SUBSCRIBE_ACCOUNT_UPDATED).await;
    // A ping/pong round trip after the subscribe: the server read both in order.
    ws.send(json!({ "type": "ping" })).await;
    match ws.next_event(Duration::from_secs(5)).await {
        Some(Event::Message(m)) if m["type"] == "pong" => ws,
        other => panic!("no pong after subscribing: {other:?}"),
    }
}

/// The next `next` message's `accountUpdated`, within `within`.
async fn update(ws: &mut GraphQLWs, within: Duration) -> Option<Value> {
    match ws.next_payload(within).await? {
        Event::Message(m) if m["type"] == "next" => {
            assert!(m["payload"]["errors"].is_null(), "an error item: {m}");
            Some(m["payload"]["data"]["accountUpdated"].clone())
        }
        other => panic!("expected an update, got {other:?}"),
    }
}

async fn closed(ws: &mut GraphQLWs, within: Duration) -> (u16, String) {
    let started = Instant::now();
    loop {
        let left = within.saturating_sub(started.elapsed());
        match ws.next_payload(left).await {
            Some(Event::Closed(code, reason)) => return (code, reason),
            Some(Event::Message(_)) => continue,
            Some(Event::Dropped) => panic!("dropped without a close frame"),
            None => panic!("still open after {within:?}"),
        }
    }
}

#[tokio::test]
async fn two_replicas_on_one_redis_deliver_each_others_postings_to_the_owners_only() {
    let (Some(_), Some(redis)) = (testkit::postgres_admin_url(), testkit::redis_url()) else {
        return; // needs PostgreSQL and Redis (always there in CI)
    };
    let database = TestDatabase::new(Backend::Postgres).await;
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let env = vec![
        ("DATABASE_URL", database.url.clone()),
        ("REDIS_URL", redis),
        ("REDIS_KEY_PREFIX", prefix),
        ("BISCUIT_PRIVATE_KEY", KEY_HEX.to_owned()),
        ("MIGRATE_ON_START", "false".to_owned()),
    ];
    let (one, two) = (ApiProcess::start(&env).await, ApiProcess::start(&env).await);
    let (alice, bob, carol) = (
        customer(&one.base(), "sub_alice").await,
        customer(&one.base(), "sub_bob").await,
        customer(&two.base(), "sub_carol").await,
    );
    deposit(&two.base(), &alice, "100.00").await;

    // Bob and Carol listen on the first replica, Alice on the second.
    let mut bob_ws = subscribed(&one.base(), &bob.token).await;
    let mut carol_ws = subscribed(&one.base(), &carol.token).await;
    let mut alice_ws = subscribed(&two.base(), &alice.token).await;

    // A transfer committed through the second replica reaches Bob on the first.
    let started = Instant::now();
    let sent = transfer(&two.base(), &alice, &bob, "12.50").await;
    assert!(sent["errors"].is_null(), "{sent}");
    let got = update(&mut bob_ws, WITHIN)
        .await
        .expect("Bob's update within a second");
    let delay = started.elapsed();
    assert!(delay < WITHIN, "{delay:?}");
    assert_eq!(got["account"]["accountNumber"], bob.account_number.as_str());
    assert_eq!(got["account"]["balance"], "12.50");
    assert_eq!(got["transaction"]["amount"], "12.50");
    assert_eq!(
        got["transaction"]["fromAccountNumber"],
        alice.account_number.as_str()
    );
    assert_eq!(got["transaction"]["id"], sent["data"]["transfer"]["id"]);
    // Alice hears of her own side (the debit) on the replica that committed it.
    let debit = update(&mut alice_ws, WITHIN).await.expect("Alice's update");
    assert_eq!(
        debit["account"]["accountNumber"],
        alice.account_number.as_str()
    );
    assert_eq!(debit["account"]["balance"], "87.50");

    // A refused transfer (more than Bob holds) committed nothing and announces nothing;
    // neither does a retry of the same key.
    let refused = transfer(&one.base(), &bob, &alice, "1000.00").await;
    assert_eq!(error_code(&refused), Some("INSUFFICIENT_FUNDS"));
    // Carol was never a party: nothing for her, ever.
    assert_eq!(
        carol_ws.next_payload(Duration::from_millis(500)).await,
        None
    );
    assert_eq!(bob_ws.next_payload(Duration::from_millis(100)).await, None);
    assert_eq!(
        alice_ws.next_payload(Duration::from_millis(100)).await,
        None
    );

    // Bob signs out through the other replica: his subscription ends within a second,
    // though no posting flows.
    let started = Instant::now();
    let out = gql(
        &two.base(),
        Some(&bob.token),
        "mutation { logout }",
        json!({}),
    )
    .await;
    assert_eq!(out["data"]["logout"], true, "{out}");
    let (code, reason) = closed(&mut bob_ws, WITHIN + Duration::from_millis(200)).await;
    assert_eq!(code, 4401, "{reason}");
    assert!(
        started.elapsed() < WITHIN + Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    // The others are untouched.
    assert_eq!(
        carol_ws.next_payload(Duration::from_millis(100)).await,
        None
    );
    let db = api::ledger::db::connect(&database.url, &Default::default())
        .await
        .expect("the database");
    testkit::assert_ledger_sound(&api::ledger::Ledger::new(db)).await;
}

async fn customer(base: &str, name: &str) -> Customer {
    Customer::from_sign_up(&gql(base, None, SIGN_UP, sign_up_variables(name)).await)
}

async fn deposit(base: &str, customer: &Customer, amount: &str) {
    let body = gql(
        base,
        Some(&customer.token),
        "mutation($input: DepositInput!) { deposit(input: $input) { id } }",
        json!({ "input": { "accountId": customer.account_id, "amount": amount, "idempotencyKey": uuid::Uuid::new_v4().to_string() } }),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test]
async fn one_process_delivers_deposits_and_transfers_but_never_a_replay_or_a_refusal() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let (alice, bob) = (
            app.customer("live_alice").await,
            app.customer("live_bob").await,
        );
        let mut alice_ws = subscribed(&app.base, &alice.token).await;
        app.deposit(&alice, "40.00").await;
        let deposit = update(&mut alice_ws, WITHIN).await.expect("the deposit");
        assert_eq!(deposit["account"]["balance"], "40.00", "{}", app.setup);
        assert_eq!(deposit["transaction"]["fromAccountNumber"], Value::Null);

        let key = uuid::Uuid::new_v4().to_string();
        let input = json!({ "input": { "fromAccountId": alice.account_id, "toAccountNumber": bob.account_number, "amount": "5.00", "idempotencyKey": key } });
        let query = "mutation($input: TransferInput!) { transfer(input: $input) { id } }";
        app.gql(Some(&alice.token), query, input.clone()).await;
        let debit = update(&mut alice_ws, WITHIN).await.expect("the transfer");
        assert_eq!(debit["account"]["balance"], "35.00", "{}", app.setup);
        // The same key again: the original comes back, nothing moves, nothing is announced.
        app.gql(Some(&alice.token), query, input).await;
        let refused = transfer(&app.base, &alice, &bob, "500.00").await;
        assert_eq!(error_code(&refused), Some("INSUFFICIENT_FUNDS"));
        assert_eq!(
            alice_ws.next_payload(Duration::from_millis(300)).await,
            None,
            "{}",
            app.setup
        );
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
    }
}

#[tokio::test]
async fn a_bad_connection_init_and_a_late_one_are_refused() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut config = config_for(&database, &CacheKind::Memory);
    config.live.init_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(database, config, "sqlite".into()).await;
    let url = ws_url(&app.base);

    for payload in [
        json!({ "authorization": "Bearer not-a-token" }),
        json!({}),
        json!({ "authorization": 42 }),
    ] {
        let mut ws = GraphQLWs::open(&url).await.expect("open");
        ws.init(payload.clone()).await;
        let (code, _) = closed(&mut ws, Duration::from_secs(2)).await;
        assert_eq!(code, 4403, "{payload}");
    }

    // Nothing sent: closed once the initialisation time is up.
    let mut silent = GraphQLWs::open(&url).await.expect("open");
    let started = Instant::now();
    let (code, _) = closed(&mut silent, Duration::from_secs(3)).await;
    assert_eq!(code, 4408);
    assert!(started.elapsed() >= Duration::from_millis(900));

    // Subscribing before the handshake, and a message that is not the protocol's.
    let mut early = GraphQLWs::open(&url).await.expect("open");
    early.subscribe("1", SUBSCRIBE_ACCOUNT_UPDATED).await;
    assert_eq!(closed(&mut early, Duration::from_secs(2)).await.0, 4401);
    let mut garbage = GraphQLWs::open(&url).await.expect("open");
    garbage.send_raw("{not json".into()).await;
    assert_eq!(closed(&mut garbage, Duration::from_secs(2)).await.0, 4400);

    // Without the subprotocol there is no upgrade.
    let plain = reqwest::Client::new()
        .get(format!("{}/graphql/ws", app.base))
        .header("Connection", "upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("GET");
    assert_eq!(plain.status(), 400);

    // A subscription sent over HTTP is refused with a clear error.
    let alice = app.customer("http_sub").await;
    let body = app
        .gql(Some(&alice.token), SUBSCRIBE_ACCOUNT_UPDATED, json!({}))
        .await;
    assert!(body["errors"][0]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn limits_per_connection_customer_and_process_and_on_message_size() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut config = config_for(&database, &CacheKind::Memory);
    config.live.per_connection = 2;
    config.live.per_user = 3;
    config.live.max_subscriptions = 4;
    config.live.max_message_bytes = 4096;
    let app = TestApp::spawn_with(database, config, "sqlite".into()).await;
    let (alice, bob) = (
        app.customer("lim_alice").await,
        app.customer("lim_bob").await,
    );

    let refused = async |ws: &mut GraphQLWs, id: &str| -> String {
        ws.subscribe(id, SUBSCRIBE_ACCOUNT_UPDATED).await;
        match ws.next_payload(Duration::from_secs(2)).await {
            Some(Event::Message(m)) if m["type"] == "next" || m["type"] == "error" => {
                let errors = if m["type"] == "error" {
                    m["payload"].clone()
                } else {
                    m["payload"]["errors"].clone()
                };
                errors[0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    let mut first = subscribed(&app.base, &alice.token).await;
    first.subscribe("2", SUBSCRIBE_ACCOUNT_UPDATED).await;
    assert_eq!(refused(&mut first, "3").await, "RATE_LIMITED");
    let mut second = subscribed(&app.base, &alice.token).await;
    assert_eq!(
        refused(&mut second, "2").await,
        "RATE_LIMITED",
        "per customer"
    );
    let mut third = subscribed(&app.base, &bob.token).await;
    assert_eq!(app.state.services.live.open(), 4);
    assert_eq!(refused(&mut third, "2").await, "UNAVAILABLE", "per process");

    // Places come back when a subscription completes or a connection closes.
    drop(first);
    let started = Instant::now();
    while app.state.services.live.open() > 2 {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "places not given back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    third.subscribe("3", SUBSCRIBE_ACCOUNT_UPDATED).await;

    // A message over the limit ends the connection.
    let big = json!({ "id": "9", "type": "subscribe", "payload": { "query": format!("{SUBSCRIBE_ACCOUNT_UPDATED} #{}", "x".repeat(8192)) } });
    third.send_raw(big.to_string()).await;
    let ended = loop {
        match third.next_payload(Duration::from_secs(2)).await {
            Some(Event::Message(m)) if m["type"] == "complete" => continue,
            other => break other,
        }
    };
    assert_eq!(
        ended,
        Some(Event::Closed(1009, "the message is too large".into()))
    );
}

#[tokio::test]
async fn idle_connections_close_and_an_expired_token_ends_its_subscription() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut config = config_for(&database, &CacheKind::Memory);
    config.live.idle_timeout = Duration::from_secs(1);
    let app = TestApp::spawn_with(database, config, "sqlite".into()).await;
    let alice = app.customer("idle_alice").await;

    let mut idle = GraphQLWs::connect(&ws_url(&app.base), &alice.token)
        .await
        .expect("ack");
    let (code, _) = closed(&mut idle, Duration::from_secs(3)).await;
    assert_eq!(code, 1000);

    // A read-only token may subscribe; when it expires the subscription ends, with no
    // posting flowing.
    let read_only = app
        .state
        .services
        .auth
        .read_only_token(&alice.token, Duration::from_secs(2))
        .expect("a read-only token");
    let mut watching = subscribed(&app.base, &read_only).await;
    let (code, reason) = closed(&mut watching, Duration::from_secs(4)).await;
    assert_eq!(code, 4401, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn after_a_lost_link_to_redis_subscribers_are_told_of_the_gap_and_hear_postings_again() {
    let Some(_) = testkit::postgres_admin_url() else {
        return; // two replicas need a database both can reach (PostgreSQL; always in CI)
    };
    // A private Redis: the test cuts its clients.
    let redis = crate::support::redis_server::RedisServer::start();
    let database = TestDatabase::new(Backend::Postgres).await;
    let cache = CacheKind::Redis(redis.url());
    let config = config_for(&database, &cache);
    let mut second = config.clone();
    second.migrate_on_start = false;
    let one = TestApp::spawn_with(
        TestDatabase::existing(&database.url, Backend::Postgres),
        config,
        "replica one".into(),
    )
    .await;
    let two = TestApp::spawn_with(database, second, "replica two".into()).await;
    let (alice, bob) = (
        one.customer("gap_alice").await,
        one.customer("gap_bob").await,
    );
    one.deposit(&alice, "50.00").await;
    let linked = async |app: &TestApp| {
        let started = Instant::now();
        while !app.state.services.live.is_linked() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the relay did not come back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    linked(&one).await;
    linked(&two).await;
    let mut bob_ws = subscribed(&two.base, &bob.token).await;

    // Both replicas' links to Redis are cut (as a failover or a network blip does): each
    // makes a new one by itself.
    assert_eq!(
        redis.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]),
        "2",
        "two relays were linked"
    );
    let started = Instant::now();
    linked(&one).await;
    linked(&two).await;
    // The subscriber is told postings may have been missed.
    let told = loop {
        match bob_ws.next_payload(Duration::from_secs(10)).await {
            Some(Event::Message(m)) if m["type"] == "next" => break m,
            Some(Event::Message(_)) => continue,
            other => panic!("expected the gap to be announced, got {other:?}"),
        }
    };
    assert_eq!(
        told["payload"]["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{told}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // And postings committed on the other replica reach it again (once that replica's
    // heartbeat, every second, has noticed and it has linked again).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    linked(&one).await;
    let sent = transfer(&one.base, &alice, &bob, "2.00").await;
    assert!(sent["errors"].is_null(), "{sent}");
    let got = update(&mut bob_ws, WITHIN)
        .await
        .expect("an update after the reconnection");
    assert_eq!(got["account"]["balance"], "2.00");
}
