//! A request's short reads and the writes draw on separate pools of connections, so
//! transfers waiting in PostgreSQL can hold every write connection and reads still answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{CacheKind, TestApp, config_for};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use serde_json::json;
use testkit::{Backend, TestDatabase};

const TRANSFER: &str = "mutation($input: TransferInput!) { transfer(input: $input) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_while_transfers_hold_every_write_connection() {
    // PostgreSQL only: SQLite has one pool, and no row locks to wait on.
    if testkit::postgres_admin_url().is_none() {
        return;
    }
    let database = TestDatabase::new(Backend::Postgres).await;
    let url = database.url.clone();
    let mut config = config_for(&database, &CacheKind::Memory);
    // Four connections: two for reads, two for writes.
    config.db_pool.max_connections = 4;
    config.db_pool.read_connections = 2;
    config.db_pool.acquire_timeout = Duration::from_secs(20);
    let app = Arc::new(TestApp::spawn_with(database, config, "Postgres, pools 2 + 2".into()).await);
    let alice = app.customer("alice").await;
    let bob = app.customer("bob").await;
    app.deposit(&alice, "100.00").await;

    // Alice's account locked from outside: her transfers wait inside PostgreSQL, each on
    // a write connection.
    let outside = api::ledger::db::connect(&url, &Default::default())
        .await
        .expect("connect");
    let holding = outside.begin().await.expect("BEGIN");
    holding
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT id FROM accounts WHERE id = {} FOR UPDATE",
                alice.account_id
            ),
        ))
        .await
        .expect("lock alice's account");
    // As many transfers as the process has connections: with one pool of four they
    // would take all of them.
    let transfers: Vec<_> = (0..4)
        .map(|i| {
            let (app, token, from, to) = (
                app.clone(),
                alice.token.clone(),
                alice.account_id.clone(),
                bob.account_number.clone(),
            );
            tokio::spawn(async move {
                app.gql(
                    Some(&token),
                    TRANSFER,
                    json!({ "input": { "fromAccountId": from, "toAccountNumber": to, "amount": "1.00", "idempotencyKey": format!("held-{i}") } }),
                )
                .await
            })
        })
        .collect();
    let started = Instant::now();
    loop {
        let waiting = outside
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            ))
            .await
            .expect("pg_stat_activity")
            .expect("a row")
            .try_get::<i64>("", "n")
            .expect("n");
        if waiting == 2 {
            break;
        }
        assert!(
            waiting < 2,
            "more transfers wait in PostgreSQL than the write pool has connections: {waiting}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "two transfers reach the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Every write connection waits; reads answer from their own pool.
    for customer in [&bob, &alice] {
        let asked = Instant::now();
        let balances = tokio::time::timeout(Duration::from_secs(5), app.balances(&customer.token))
            .await
            .expect("a read answers while the writes wait");
        assert_eq!(balances.len(), 1);
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "{:?}",
            asked.elapsed()
        );
    }
    assert!(
        transfers.iter().all(|t| !t.is_finished()),
        "the transfers still wait"
    );

    holding.rollback().await.expect("release the lock");
    for transfer in transfers {
        let body = transfer.await.expect("task");
        assert!(body["errors"].is_null(), "{body}");
    }
    assert_eq!(app.balances(&alice.token).await, vec!["96.00".to_owned()]);
}

/// A pooled connection is pinged on its way out of the pool only when it has lain idle
/// for a while (`ledger::db`: under load, a ping before every query was a round trip of
/// every read's three). One the server ended while it lay idle (a restart, a failover, a
/// proxy's idle timeout) is still found out and replaced before a query runs on it: no
/// customer sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_ended_while_idle_are_replaced_unseen() {
    if testkit::postgres_admin_url().is_none() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres, CacheKind::Memory).await;
    let url = app.database.url.clone();
    let mut customers = Vec::new();
    for i in 0..6 {
        customers.push(app.customer(&format!("idle{i}")).await);
    }
    app.deposit(&customers[0], "100.00").await;
    // Both pools hold connections that answered a moment ago.
    for customer in &customers[..3] {
        app.balances(&customer.token).await;
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    let outside = api::ledger::db::connect(&url, &Default::default())
        .await
        .expect("connect");
    let ended = end_every_other_connection(&outside).await;
    assert!(
        ended >= 2,
        "the api's idle connections, a read's and a write's at least: {ended}"
    );

    // Reads first asked (from the database, on the read pool) and a transfer (the write
    // pool), each on a connection the server ended unless the pool noticed.
    for customer in &customers[3..] {
        assert_eq!(app.balances(&customer.token).await, vec!["0.00".to_owned()]);
    }
    let body = app
        .gql(
            Some(&customers[0].token),
            TRANSFER,
            json!({ "input": { "fromAccountId": customers[0].account_id, "toAccountNumber": customers[1].account_number, "amount": "1.00", "idempotencyKey": "after-the-end" } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        app.balances(&customers[1].token).await,
        vec!["1.00".to_owned()]
    );
}

/// The other side of the ping skipped under load: a connection the server ended within
/// `PING_IF_IDLE_FOR` of its last answer is lent unchecked. The read, or the `BEGIN`, that
/// meets it runs again on another connection (`ledger::db::on_a_live_connection`), so no
/// customer sees it either. Every connection of both pools is cut moments after answering,
/// then as many requests as before arrive at once; without the second attempt, reads and
/// deposits fail `UNAVAILABLE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_moments_after_their_last_answer_are_traded_for_live_ones() {
    if testkit::postgres_admin_url().is_none() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres, CacheKind::Memory).await;
    let url = app.database.url.clone();
    let alice = app.customer("alice").await;
    app.deposit(&alice, "10.00").await;
    app.deposit(&alice, "20.00").await;
    // A page after a cursor is never cached: each asking reads the database (the
    // account's ownership, then the page) on the read pool.
    const PAGE: &str = "query($a: ID!, $after: String) { transactions(accountId: $a, first: 1, after: $after) { nodes { amount } pageInfo { endCursor } } }";
    let first = app
        .gql(
            Some(&alice.token),
            PAGE,
            json!({ "a": alice.account_id, "after": null }),
        )
        .await;
    let cursor = first["data"]["transactions"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{first}");
    let page = || async {
        let body = app
            .gql(
                Some(&alice.token),
                PAGE,
                json!({ "a": alice.account_id, "after": cursor }),
            )
            .await;
        assert_eq!(
            body["data"]["transactions"]["nodes"][0]["amount"], "10.00",
            "a page read on a connection cut under it: {body}"
        );
    };
    let deposit = || app.deposit(&alice, "1.00");
    let outside = api::ledger::db::connect(&url, &Default::default())
        .await
        .expect("connect");

    // The cut must land within the window (100 ms) to test anything; a machine too slow
    // for that in one round gets a few.
    let (mut exercised, mut rounds) = (0, 0);
    for _ in 0..5 {
        rounds += 1;
        // Every read connection and several write ones answer at about the same moment.
        futures::future::join_all((0..8).map(|_| page())).await;
        futures::future::join_all((0..4).map(|_| deposit())).await;
        let answered = Instant::now();
        let ended = end_every_other_connection(&outside).await;
        assert!(ended >= 2, "the api's connections: {ended}");
        // The backends exit on their signal.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let within_the_window = answered.elapsed() < Duration::from_millis(80);
        futures::future::join_all((0..8).map(|_| page())).await;
        futures::future::join_all((0..4).map(|_| deposit())).await;
        if within_the_window {
            exercised += 1;
            if exercised == 2 {
                break;
            }
        }
    }
    assert!(
        exercised > 0,
        "no round cut the connections within 80 ms of their last answer"
    );
    // Every deposit landed once: 10 + 20, and eight of 1.00 a round.
    assert_eq!(
        app.balances(&alice.token).await,
        vec![format!("{}.00", 30 + 8 * rounds)]
    );
}

/// Ends every connection to the test's database but `outside`'s own (the api's, of both
/// pools), as a restart, a failover or a proxy would; how many it ended.
async fn end_every_other_connection(outside: &DatabaseConnection) -> i64 {
    outside
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await
        .expect("pg_terminate_backend")
        .expect("a row")
        .try_get::<i64>("", "n")
        .expect("n")
}
