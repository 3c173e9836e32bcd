//! The bank test, in the spirit of Jepsen's: many clients move money at random through
//! the HTTP API while a checker reads consistent snapshots. Money is never created,
//! destroyed or overdrawn, and every transfer a client saw succeed is in the ledger once.
//!
//! `CHAOS_SECONDS` sets how long the load runs (default 5; `just chaos` runs longer).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{Customer, TestApp, error_code, setups};
use rand::Rng;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

pub fn chaos_duration() -> Duration {
    let secs = std::env::var("CHAOS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(secs)
}

const CLIENTS: usize = 64;
const CUSTOMERS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn money_is_conserved_under_64_concurrent_clients() {
    for (backend, cache) in setups() {
        let app = Arc::new(TestApp::spawn(backend, cache).await);
        let mut customers = Vec::new();
        for i in 0..CUSTOMERS {
            let customer = app.customer(&format!("client{i}")).await;
            app.deposit(&customer, "500.00").await;
            customers.push(customer);
        }
        let total: i64 = CUSTOMERS as i64 * 50_000;
        let customers: Arc<Vec<Customer>> = Arc::new(customers);
        let deadline = Instant::now() + chaos_duration();

        // The checker: a consistent snapshot, over and over, while the load runs.
        let checker = {
            let app = app.clone();
            tokio::spawn(async move {
                let mut snapshots = 0;
                while Instant::now() < deadline {
                    let found = app.state.services.ledger.verify().await.expect("snapshot");
                    assert!(
                        found.is_empty(),
                        "{}: invariant broken mid-load: {found:?}",
                        app.setup
                    );
                    snapshots += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                snapshots
            })
        };

        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let app = app.clone();
            let customers = customers.clone();
            clients.push(tokio::spawn(async move {
                let mut succeeded: Vec<(String, String)> = Vec::new();
                let mut refused = 0usize;
                let mut n = 0;
                while Instant::now() < deadline {
                    let (payer, payee, cents) = {
                        let mut rng = rand::thread_rng();
                        let payer = rng.gen_range(0..customers.len());
                        let mut payee = rng.gen_range(0..customers.len() - 1);
                        if payee >= payer {
                            payee += 1;
                        }
                        (payer, payee, rng.gen_range(1..=5_000))
                    };
                    let key = format!("bank-{c}-{n}");
                    n += 1;
                    let body = app
                        .gql(
                            Some(&customers[payer].token),
                            "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
                            json!({ "input": {
                                "fromAccountId": customers[payer].account_id,
                                "toAccountNumber": customers[payee].account_number,
                                "amount": format!("{}.{:02}", cents / 100, cents % 100),
                                "idempotencyKey": key,
                            }}),
                        )
                        .await;
                    match error_code(&body) {
                        None => succeeded.push((
                            key,
                            body["data"]["transfer"]["id"]
                                .as_str()
                                .expect("id")
                                .to_owned(),
                        )),
                        Some("INSUFFICIENT_FUNDS") => refused += 1,
                        Some(other) => panic!("unexpected {other}: {body}"),
                    }
                }
                (succeeded, refused)
            }));
        }
        let mut succeeded = Vec::new();
        let mut refused = 0;
        for client in clients {
            let (ok, r) = client.await.expect("client");
            succeeded.extend(ok);
            refused += r;
        }
        let snapshots = checker.await.expect("checker");

        // Every success is in the ledger exactly once, under its key, and nothing else is.
        let rows: Vec<(i64, String)> = entities::transactions::Entity::find()
            .select_only()
            .column(entities::transactions::Column::Id)
            .column(entities::transactions::Column::IdempotencyKey)
            .filter(entities::transactions::Column::FromAccount.is_not_null())
            .into_tuple()
            .all(app.state.services.ledger.db())
            .await
            .expect("rows");
        let by_key: HashMap<&str, Vec<i64>> =
            rows.iter().fold(HashMap::new(), |mut map, (id, key)| {
                map.entry(key.as_str()).or_default().push(*id);
                map
            });
        for (key, id) in &succeeded {
            let ids = by_key.get(key.as_str()).cloned().unwrap_or_default();
            assert_eq!(
                ids,
                vec![id.parse::<i64>().expect("id")],
                "{}: {key}",
                app.setup
            );
        }
        assert_eq!(
            rows.len(),
            succeeded.len(),
            "{}: no transfer nobody asked for",
            app.setup
        );
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
        let mut sum = 0i64;
        for customer in customers.iter() {
            for balance in app.balances(&customer.token).await {
                let cents = balance.replace('.', "").parse::<i64>().expect("cents");
                assert!(cents >= 0);
                sum += cents;
            }
        }
        assert_eq!(sum, total, "{}: money created or destroyed", app.setup);
        eprintln!(
            "{}: {CLIENTS} clients × {:?}: {} transfers succeeded, {refused} refused for funds, {snapshots} snapshots checked, money lost: 0",
            app.setup,
            chaos_duration(),
            succeeded.len()
        );
        assert!(succeeded.len() > CLIENTS, "the load did real work");
    }
}

/// Clients that hang up mid-transfer (a timeout of a few milliseconds) cancel their
/// requests, never half a database transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_hanging_up_mid_transfer_leave_the_ledger_sound() {
    for (backend, cache) in setups() {
        let app = Arc::new(TestApp::spawn(backend, cache).await);
        let payer = app.customer("hasty").await;
        let payee = app.customer("patient").await;
        app.deposit(&payer, "1000.00").await;
        let impatient = reqwest::Client::builder().build().expect("client");
        let mut tasks = Vec::new();
        for n in 0..200u64 {
            let app = app.clone();
            let impatient = impatient.clone();
            let (token, from, to) = (
                payer.token.clone(),
                payer.account_id.clone(),
                payee.account_number.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let _ = impatient
                    .post(format!("{}/graphql", app.base))
                    .bearer_auth(token)
                    .timeout(Duration::from_micros(500 + (n % 20) * 700))
                    .json(&json!({
                        "query": "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
                        "variables": { "input": { "fromAccountId": from, "toAccountNumber": to, "amount": "1.00", "idempotencyKey": format!("hasty-{n}") } },
                    }))
                    .send()
                    .await;
            }));
        }
        for task in tasks {
            task.await.expect("client");
        }
        // Let postings whose clients left finish, then check.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            app.state
                .services
                .ledger
                .verify()
                .await
                .expect("verify")
                .is_empty(),
            "{}",
            app.setup
        );
        let payer_cents: i64 = app.balances(&payer.token).await[0]
            .replace('.', "")
            .parse()
            .expect("cents");
        let payee_cents: i64 = app.balances(&payee.token).await[0]
            .replace('.', "")
            .parse()
            .expect("cents");
        assert_eq!(payer_cents + payee_cents, 100_000, "{}", app.setup);
        assert_eq!((100_000 - payer_cents) % 100, 0, "whole transfers only");
    }
}
