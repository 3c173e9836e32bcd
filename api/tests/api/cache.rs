//! Cached reads are never older than a caller's own committed write, under load and
//! across both parties of a transfer; a Redis outage degrades reads to the database.

use std::sync::Arc;
use std::time::Duration;

use crate::support::redis_server::RedisServer;
use crate::support::{CacheKind, TestApp, error_code, setups};
use serde_json::json;
use testkit::{Backend, TestDatabase};

#[tokio::test]
async fn both_parties_see_a_transfer_at_once_under_32_concurrent_clients() {
    for (backend, cache) in setups() {
        let app = Arc::new(TestApp::spawn(backend, cache).await);
        let pairs = 16;
        let mut customers = Vec::new();
        for i in 0..pairs {
            let payer = app.customer(&format!("payer{i}")).await;
            let payee = app.customer(&format!("payee{i}")).await;
            app.deposit(&payer, "100.00").await;
            customers.push((payer, payee));
        }
        let customers = Arc::new(customers);
        let mut tasks = Vec::new();
        // 16 readers keep every customer's accounts hot in the cache...
        for r in 0..16 {
            let app = app.clone();
            let customers = customers.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..40 {
                    let (payer, payee) = &customers[(r + round) % customers.len()];
                    app.balances(&payer.token).await;
                    app.balances(&payee.token).await;
                }
            }));
        }
        // ...while 16 writers transfer and read both sides right after each answer.
        for w in 0..pairs {
            let app = app.clone();
            let customers = customers.clone();
            tasks.push(tokio::spawn(async move {
                let (payer, payee) = &customers[w];
                for step in 1..=10u32 {
                    let body = app
                        .gql(
                            Some(&payer.token),
                            "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
                            json!({ "input": { "fromAccountId": payer.account_id, "toAccountNumber": payee.account_number, "amount": "1.00", "idempotencyKey": format!("w{w}-{step}") } }),
                        )
                        .await;
                    assert!(body["errors"].is_null(), "{body}");
                    let payer_balance = format!("{}.00", 100 - step);
                    let payee_balance = format!("{step}.00");
                    assert_eq!(app.balances(&payer.token).await, vec![payer_balance], "{}: payer after step {step}", app.setup);
                    assert_eq!(app.balances(&payee.token).await, vec![payee_balance], "{}: payee after step {step}", app.setup);
                }
            }));
        }
        for task in tasks {
            task.await.expect("no client saw a stale balance");
        }
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
    }
}

/// The web's dashboard document: the customer and their accounts with a first page
/// each, read in one go.
const DASHBOARD: &str = "query($n: Int!) { me { username email accounts { id balance transactions(first: $n) { nodes { id amount fromAccountNumber toAccountNumber } pageInfo { hasNextPage } } } } }";

/// The same, field by field: the customer, the accounts alone, then each account's page
/// by its id.
async fn dashboard_read_apart(app: &TestApp, token: &str, n: i64) -> serde_json::Value {
    let customer = app
        .gql(Some(token), "{ me { username email } }", json!({}))
        .await;
    let accounts = app
        .gql(Some(token), "{ me { accounts { id balance } } }", json!({}))
        .await;
    let mut out = Vec::new();
    for account in accounts["data"]["me"]["accounts"]
        .as_array()
        .expect("accounts")
    {
        let page = app
            .gql(
                Some(token),
                "query($id: ID!, $n: Int!) { transactions(accountId: $id, first: $n) { nodes { id amount fromAccountNumber toAccountNumber } pageInfo { hasNextPage } } }",
                json!({ "id": account["id"], "n": n }),
            )
            .await;
        let mut account = account.clone();
        account["transactions"] = page["data"]["transactions"].clone();
        out.push(account);
    }
    let me = &customer["data"]["me"];
    json!({ "me": { "username": me["username"], "email": me["email"], "accounts": out } })
}

#[tokio::test]
async fn a_dashboard_read_in_one_go_is_what_its_parts_read_apart_after_every_transfer() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        app.deposit(&alice, "50.00").await;
        for step in 0..7 {
            // Each side's dashboard is read (and cached) before the transfer, and must
            // show it right after.
            for n in [1, 3, 5] {
                for who in [&alice, &bob] {
                    let one_go = app
                        .gql(Some(&who.token), DASHBOARD, json!({ "n": n }))
                        .await;
                    assert!(one_go["errors"].is_null(), "{one_go}");
                    let apart = dashboard_read_apart(&app, &who.token, n).await;
                    assert_eq!(
                        one_go["data"], apart,
                        "{}: step {step}, first {n}",
                        app.setup
                    );
                }
            }
            // Two sizes at once are not one overview: each alias reads its own page.
            let aliased = app
                .gql(Some(&alice.token), "{ me { accounts { a: transactions(first: 1) { nodes { id } } b: transactions(first: 3) { nodes { id } } } } }", json!({}))
                .await;
            let apart = dashboard_read_apart(&app, &alice.token, 3).await;
            let ids = |v: &serde_json::Value| {
                v["nodes"]
                    .as_array()
                    .expect("nodes")
                    .iter()
                    .map(|n| n["id"].clone())
                    .collect::<Vec<_>>()
            };
            let three = ids(&apart["me"]["accounts"][0]["transactions"]);
            let account = &aliased["data"]["me"]["accounts"][0];
            assert_eq!(ids(&account["b"]), three, "{}: {aliased}", app.setup);
            assert_eq!(
                ids(&account["a"]),
                three[..1].to_vec(),
                "{}: {aliased}",
                app.setup
            );
            let (payer, payee) = if step % 3 == 2 {
                (&bob, &alice)
            } else {
                (&alice, &bob)
            };
            let body = app
                .gql(
                    Some(&payer.token),
                    "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
                    json!({ "input": { "fromAccountId": payer.account_id, "toAccountNumber": payee.account_number, "amount": "1.50", "idempotencyKey": format!("d-{step}") } }),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
            let after = app
                .gql(Some(&payee.token), DASHBOARD, json!({ "n": 1 }))
                .await;
            let newest = &after["data"]["me"]["accounts"][0]["transactions"]["nodes"][0];
            assert_eq!(
                newest["id"], body["data"]["transfer"]["id"],
                "{}: {after}",
                app.setup
            );
            assert_eq!(newest["fromAccountNumber"], payer.account_number.as_str());
        }
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
    }
}

#[tokio::test]
async fn with_redis_stopped_reads_go_on_health_says_503_and_writes_fail_closed() {
    // A private Redis: stopping the shared one would break every other test.
    let mut redis = RedisServer::start();
    let backend = if testkit::postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let database = TestDatabase::new(backend).await;
    let config = crate::support::config_for(&database, &CacheKind::Redis(redis.url()));
    let app = TestApp::spawn_with(database, config, format!("{backend:?}+private redis")).await;
    let alice = app.customer("alice").await;
    let bob = app.customer("bob").await;
    app.deposit(&alice, "50.00").await;
    assert_eq!(app.balances(&alice.token).await, vec!["50.00"]);
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(health.status(), 200);

    redis.stop();

    // Reads keep working, from the database.
    for _ in 0..3 {
        assert_eq!(app.balances(&alice.token).await, vec!["50.00"]);
    }
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(health.status(), 503);
    let body: serde_json::Value = health.json().await.expect("JSON");
    assert_eq!(body["cache"]["status"], "down", "{body}");
    assert_eq!(body["database"]["status"], "up", "{body}");
    let ping = app
        .client
        .get(format!("{}/ping", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(ping.status(), 200, "liveness does not depend on Redis");

    // Sign-ins and money movements fail closed, with a clear code.
    let login = app.gql(None, "mutation { login(username: \"alice\", password: \"correct horse battery\") { token } }", json!({})).await;
    assert_eq!(error_code(&login), Some("UNAVAILABLE"), "{login}");
    let transfer = app
        .gql(
            Some(&alice.token),
            "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
            json!({ "input": { "fromAccountId": alice.account_id, "toAccountNumber": bob.account_number, "amount": "5.00", "idempotencyKey": "during-outage" } }),
        )
        .await;
    assert_eq!(error_code(&transfer), Some("UNAVAILABLE"), "{transfer}");
    assert_eq!(
        app.balances(&alice.token).await,
        vec!["50.00"],
        "nothing moved"
    );

    // Service returns by itself when Redis does.
    redis.restart();
    let mut recovered = false;
    for _ in 0..50 {
        let login = app.gql(None, "mutation { login(username: \"alice\", password: \"correct horse battery\") { token } }", json!({})).await;
        if login["data"]["login"]["token"].is_string() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "sign-in works again once Redis is back");
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(health.status(), 200);
}

/// One Redis, customers on database A, then the api on a new database B (recreated,
/// restored into a new database, failed over to another cluster while Redis kept its
/// keys): B's customers have the same ids as A's, and must see only B's data from the
/// very first request.
#[tokio::test]
async fn a_cache_never_answers_for_another_database() {
    let (Some(_), Some(redis)) = (testkit::postgres_admin_url(), testkit::redis_url()) else {
        return;
    };
    let cache = CacheKind::Redis(redis);
    let prefix = format!("twodb:{}:", uuid::Uuid::new_v4().simple());
    let start = |database: TestDatabase, name: &str| {
        let mut config = crate::support::config_for(&database, &cache);
        config.redis_key_prefix = prefix.clone();
        TestApp::spawn_with(database, config, name.to_owned())
    };
    let numbers = |body: &serde_json::Value, path: &[&str]| -> Vec<String> {
        let mut node = body;
        for key in path {
            node = &node[*key];
        }
        node.as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|a| a["accountNumber"].as_str().expect("number").to_owned())
            .collect()
    };
    let me = "{ me { id accounts { accountNumber } } }";

    let a = start(TestDatabase::new(Backend::Postgres).await, "database A").await;
    let mut seen_on_a = Vec::new();
    for i in 0..3 {
        let customer = a.customer(&format!("first{i}")).await;
        a.deposit(&customer, "10.00").await;
        // Read twice, so A's answers are in Redis and in the replica's local copy.
        for _ in 0..2 {
            let body = a.gql(Some(&customer.token), me, json!({})).await;
            seen_on_a.extend(numbers(&body, &["data", "me", "accounts"]));
        }
    }
    a.shutdown().await;

    let b = start(TestDatabase::new(Backend::Postgres).await, "database B").await;
    for i in 0..3 {
        let body = b
            .gql(
                None,
                "mutation($input: SignupInput!) { signup(input: $input) { token user { id accounts { accountNumber } } } }",
                json!({ "input": { "username": format!("second{i}"), "password": "correct horse battery", "email": format!("s{i}@example.com") } }),
            )
            .await;
        let from_signup = numbers(&body, &["data", "signup", "user", "accounts"]);
        let token = body["data"]["signup"]["token"].as_str().expect("token");
        let read = b.gql(Some(token), me, json!({})).await;
        let from_me = numbers(&read, &["data", "me", "accounts"]);
        // What B itself holds for this customer.
        let user_id: i64 = read["data"]["me"]["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("id");
        let in_b: Vec<String> = {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            entities::accounts::Entity::find()
                .filter(entities::accounts::Column::UserId.eq(user_id))
                .all(b.state.services.ledger.db())
                .await
                .expect("accounts in B")
                .into_iter()
                .map(|a| a.account_number)
                .collect()
        };
        assert_eq!(
            from_signup, in_b,
            "customer {user_id}: signup answered with another database's accounts"
        );
        assert_eq!(
            from_me, in_b,
            "customer {user_id}: me answered with another database's accounts"
        );
        for number in &from_me {
            assert!(!seen_on_a.contains(number), "{number} is database A's");
        }
    }
    b.shutdown().await;
}

/// `get_and_follow` (a token's seal and its session in one round trip) answers alike from
/// Redis's script and from the in-process cache: the value, the key its word names, that
/// key's value with its ttl restarted; nothing followed when the word or the key is absent.
#[tokio::test]
async fn get_and_follow_reads_the_key_a_value_names_alike_in_redis_and_in_memory() {
    use api::cache::{Cache, Followed, MemoryCache, RedisCache};
    let mut caches: Vec<(&str, Arc<dyn Cache>)> =
        vec![("memory", Arc::new(MemoryCache::default()))];
    if let Some(url) = testkit::redis_url() {
        let prefix = format!("follow{}:", std::process::id());
        caches.push((
            "redis",
            Arc::new(RedisCache::new(&url, &prefix, 2).expect("redis")),
        ));
    }
    let long = Duration::from_secs(60);
    for (kind, cache) in caches {
        cache
            .set("seal:a", "42 s-1 999 mac", long)
            .await
            .expect("set");
        cache.set("seal:short", "42", long).await.expect("set");
        cache
            .set("session:s-1", "42", Duration::from_secs(2))
            .await
            .expect("set");

        let found = cache
            .get_and_follow("seal:a", 1, "session:", long)
            .await
            .expect("follow");
        assert_eq!(
            found,
            Followed {
                value: Some("42 s-1 999 mac".into()),
                named: Some("s-1".into()),
                named_value: Some("42".into()),
            },
            "{kind}"
        );
        // The named key's ttl was restarted: it outlives the two seconds it had.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            cache.get("session:s-1").await.expect("get").as_deref(),
            Some("42"),
            "{kind}: the followed key's ttl restarted"
        );

        for (key, value, why) in [
            ("seal:missing", None, "no value"),
            ("seal:short", Some("42"), "no such word"),
        ] {
            assert_eq!(
                cache
                    .get_and_follow(key, 1, "session:", long)
                    .await
                    .expect("follow"),
                Followed {
                    value: value.map(str::to_owned),
                    ..Followed::default()
                },
                "{kind}: {why}, nothing followed"
            );
        }
        cache.delete("session:s-1").await.expect("delete");
        assert_eq!(
            cache
                .get_and_follow("seal:a", 1, "session:", long)
                .await
                .expect("follow")
                .named_value,
            None,
            "{kind}: the named key is gone"
        );
    }
}
