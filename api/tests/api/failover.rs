//! Failovers under load: the PostgreSQL primary killed and its streaming replica
//! promoted, and the Redis master killed and its replica promoted by Sentinel, each while
//! 16 clients transfer money with idempotency keys and retry the same key until they get
//! an answer. The api sees only UNAVAILABLE meanwhile (never another code, never a wrong
//! answer), reconnects to the new primary or master by itself, and every intent lands
//! exactly once.
//!
//! The servers are started by the tests, on spare ports. Outside CI a missing server
//! binary skips a test (saying so); under CI it is a failure.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use api::cache::{Locator, RedisCache};
use bb8_redis::redis;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use testkit::{Backend, TestDatabase};

use crate::support::pg_server::{self, PgServer};
use crate::support::redis_sentinel::{self, MASTER_NAME, SentinelGroup};
use crate::support::tcp_proxy::TcpProxy;
use crate::support::{CacheKind, Customer, TestApp, config_for, error_code};

const WORKERS: usize = 16;
const INTENTS: usize = 40;
const CUSTOMERS: usize = 8;
/// Each customer's opening deposit, in cents: far more than any run can move out, so a
/// refusal for funds would be a wrong answer too.
const OPENING_CENTS: i64 = 1_000_000; // 10,000.00
/// How long one intent may take to be answered, retries included.
const INTENT_DEADLINE: Duration = Duration::from_secs(30);

/// Whether the servers a test starts are installed. Outside CI a missing one skips the
/// test; under CI that is a failure, never a silent skip.
fn installed(what: &str, present: bool) -> bool {
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} must be installed when CI is set: the failover tests cannot be skipped in CI"
        );
        eprintln!("skipped: needs {what}");
    }
    present
}

/// One intended transfer and how it ended.
struct Answered {
    key: String,
    id: i64,
    at: Instant,
}

/// What one client saw: its answered intents, and every failure by kind (an error code,
/// "transport" or an HTTP status), retried with the same key.
#[derive(Default)]
struct ClientReport {
    answered: Vec<Answered>,
    failures: HashMap<String, usize>,
}

fn cents(amount: &str) -> i64 {
    let (units, fraction) = amount.split_once('.').unwrap_or((amount, "00"));
    units.parse::<i64>().expect("units") * 100 + fraction.parse::<i64>().expect("cents")
}

/// One attempt: the body, or why there is none.
async fn attempt(app: &TestApp, token: &str, variables: &Value) -> Result<Value, String> {
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .timeout(Duration::from_secs(10))
        .json(&json!({
            "query": "mutation($input: TransferInput!) { transfer(input: $input) { id fromAccountNumber toAccountNumber amount } }",
            "variables": variables,
        }))
        .send()
        .await
        .map_err(|_| "transport".to_owned())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    response.json().await.map_err(|_| "not JSON".to_owned())
}

/// 16 clients, each sending 40 transfers among the customers one after another, every one
/// retried with its key until it is answered. `answered` counts the answers, for the test
/// to fail over mid-load.
fn start_clients(
    app: &Arc<TestApp>,
    customers: &Arc<Vec<Customer>>,
    answered: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<ClientReport>> {
    (0..WORKERS)
        .map(|worker| {
            let (app, customers, answered) = (app.clone(), customers.clone(), answered.clone());
            tokio::spawn(async move {
                let mut report = ClientReport::default();
                for n in 0..INTENTS {
                    let payer = &customers[(worker + n) % CUSTOMERS];
                    let payee = &customers[(worker + n + 1 + n % 3) % CUSTOMERS];
                    let key = format!("failover-{worker}-{n}");
                    let amount = format!("{}.{worker:02}", 1 + n % 7);
                    let variables = json!({ "input": {
                        "fromAccountId": payer.account_id,
                        "toAccountNumber": payee.account_number,
                        "amount": amount,
                        "idempotencyKey": key,
                    }});
                    let started = Instant::now();
                    let id = loop {
                        assert!(started.elapsed() < INTENT_DEADLINE, "{key} never answered");
                        let failure = match attempt(&app, &payer.token, &variables).await {
                            Ok(body) => match error_code(&body) {
                                None => {
                                    let t = &body["data"]["transfer"];
                                    // The answer is this very transfer, not another one.
                                    let right = t["fromAccountNumber"] == payer.account_number
                                        && t["toAccountNumber"] == payee.account_number
                                        && t["amount"].as_str().map(cents) == Some(cents(&amount));
                                    if !right {
                                        panic!("{key}: a wrong answer: {body}");
                                    }
                                    break t["id"]
                                        .as_str()
                                        .expect("id")
                                        .parse::<i64>()
                                        .expect("id");
                                }
                                Some(code) => code.to_owned(),
                            },
                            Err(why) => why,
                        };
                        *report.failures.entry(failure).or_default() += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    };
                    report.answered.push(Answered {
                        key,
                        id,
                        at: Instant::now(),
                    });
                    answered.fetch_add(1, Ordering::AcqRel);
                }
                report
            })
        })
        .collect()
}

/// Signs up the customers, each with the opening deposit.
async fn open_accounts(app: &TestApp) -> Arc<Vec<Customer>> {
    let mut customers = Vec::new();
    for i in 0..CUSTOMERS {
        let customer = app.customer(&format!("failover{i}")).await;
        app.deposit(&customer, &format!("{}.00", OPENING_CENTS / 100))
            .await;
        customers.push(customer);
    }
    Arc::new(customers)
}

/// Waits until a quarter of the intents are answered: the failure comes by progress, not
/// by the clock, which a faster build or machine would outrun.
async fn until_a_quarter_answered(answered: &AtomicUsize) {
    let started = Instant::now();
    while answered.load(Ordering::Acquire) < WORKERS * INTENTS / 4 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no progress before the failover"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The outcome of a run, after the clients are done.
struct Recovery {
    /// From `since` to the first transfer answered after it.
    first: Duration,
    /// From `since` until every client that still had work had an answer.
    all: Duration,
    failures: HashMap<String, usize>,
    answered: Vec<Answered>,
}

async fn collect(clients: Vec<tokio::task::JoinHandle<ClientReport>>, since: Instant) -> Recovery {
    let mut recovery = Recovery {
        first: Duration::MAX,
        all: Duration::ZERO,
        failures: HashMap::new(),
        answered: Vec::new(),
    };
    for client in clients {
        let report = client.await.expect("a client");
        if let Some(after) = report.answered.iter().find(|a| a.at > since) {
            let took = after.at - since;
            recovery.first = recovery.first.min(took);
            recovery.all = recovery.all.max(took);
        }
        for (kind, count) in report.failures {
            *recovery.failures.entry(kind).or_default() += count;
        }
        recovery.answered.extend(report.answered);
    }
    assert_eq!(recovery.answered.len(), WORKERS * INTENTS);
    assert!(
        recovery.first < Duration::MAX,
        "no transfer was answered after the failover"
    );
    recovery
}

/// The bank's invariant after the run: only UNAVAILABLE was seen, each key is in the
/// ledger exactly once (with the id its client was given) and nothing else is (but
/// `others` transfers made outside the load), the ledger is sound, the total is what was
/// deposited and no balance is negative.
async fn assert_bank_intact(app: &TestApp, recovery: &Recovery, others: usize) {
    assert!(
        recovery.failures.get("UNAVAILABLE").copied().unwrap_or(0) > 0,
        "{}: the clients saw the outage: {:?}",
        app.setup,
        recovery.failures
    );
    assert!(
        recovery.failures.keys().all(|kind| kind == "UNAVAILABLE"),
        "{}: only UNAVAILABLE, never another code, a dropped request or a 5xx: {:?}",
        app.setup,
        recovery.failures
    );
    let db = app.state.services.ledger.db();
    let rows: Vec<(i64, String)> = entities::transactions::Entity::find()
        .select_only()
        .column(entities::transactions::Column::Id)
        .column(entities::transactions::Column::IdempotencyKey)
        .filter(entities::transactions::Column::FromAccount.is_not_null())
        .into_tuple()
        .all(db)
        .await
        .expect("transfers");
    let mut by_key: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, key) in &rows {
        by_key.entry(key.as_str()).or_default().push(*id);
    }
    for answered in &recovery.answered {
        assert_eq!(
            by_key.get(answered.key.as_str()),
            Some(&vec![answered.id]),
            "{}: {} applied exactly once, as answered",
            app.setup,
            answered.key
        );
    }
    assert_eq!(
        rows.len(),
        WORKERS * INTENTS + others,
        "{}: no transfer nobody asked for",
        app.setup
    );
    testkit::assert_ledger_sound(&app.state.services.ledger).await;
    let balances: Vec<i64> = entities::accounts::Entity::find()
        .select_only()
        .column(entities::accounts::Column::Balance)
        .into_tuple()
        .all(db)
        .await
        .expect("balances");
    assert!(
        balances.iter().all(|&b| b >= 0),
        "{}: {balances:?}",
        app.setup
    );
    assert_eq!(
        balances.iter().sum::<i64>(),
        CUSTOMERS as i64 * OPENING_CENTS,
        "{}: money created or destroyed",
        app.setup
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_primary_killed_and_replica_promoted_under_16_clients() {
    if !installed(
        "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, psql) under /usr/lib/postgresql",
        pg_server::installed_bin().is_some(),
    ) {
        return;
    }
    // Synchronous replication: the primary acknowledges a commit only once the replica
    // has it, and has applied it (`remote_apply`), so what a client was told is done is on
    // the replica before the client hears it, and visible there. With asynchronous
    // replication an acknowledged transfer could vanish at the promotion, and its retry
    // would then move the money a second time or a client would hold a receipt for
    // nothing: exactly what money cannot allow. The replica gets neither setting: once
    // promoted it has no standby of its own, and `*` would make every commit wait forever.
    let primary = PgServer::start_with(&[
        "synchronous_standby_names='*'",
        "synchronous_commit=remote_apply",
    ]);
    let replica = primary.start_replica(&[]);
    // The walsender streams a moment before the primary counts it as its synchronous
    // standby (it must first hear the standby's reply): wait for that, boundedly.
    let deadline = Instant::now() + Duration::from_secs(20);
    while primary.sql("SELECT sync_state FROM pg_stat_replication") != "sync" {
        assert!(
            Instant::now() < deadline,
            "the replica never became a synchronous standby"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The api reaches the database only through the proxy, as it would through PgBouncer
    // or the operator's Service.
    let proxy = TcpProxy::start(primary.port).await;
    let admin = Database::connect(primary.admin_url())
        .await
        .expect("the private primary");
    admin
        .execute_unprepared("CREATE DATABASE bank")
        .await
        .expect("create");
    admin.close().await.ok();
    let url = format!("postgres://postgres@127.0.0.1:{}/bank", proxy.port);
    let database = TestDatabase::existing(&url, Backend::Postgres);
    let mut config = config_for(&database, &CacheKind::Memory);
    // A request waits at most this long for a connection while there is no primary.
    config.db_pool.acquire_timeout = Duration::from_secs(1);
    let app = Arc::new(TestApp::spawn_with(database, config, "PostgreSQL failover".into()).await);
    let customers = open_accounts(&app).await;

    let answered = Arc::new(AtomicUsize::new(0));
    let clients = start_clients(&app, &customers, &answered);
    until_a_quarter_answered(&answered).await;
    let at_kill = answered.load(Ordering::Acquire);
    let killed = Instant::now();
    // The primary dies as in a crash; the proxy then points at the replica, still a
    // standby (writes there fail until the promotion), and the replica is promoted.
    tokio::task::block_in_place(|| primary.stop());
    proxy.switch_to(replica.port);
    tokio::task::block_in_place(|| replica.promote());
    let promoted = Instant::now();
    let recovery = collect(clients, promoted).await;

    assert_bank_intact(&app, &recovery, 0).await;
    assert!(
        recovery.first < Duration::from_secs(10),
        "transfers succeed again within seconds of the promotion: {:?}",
        recovery.first
    );
    assert_eq!(
        app.balances(&customers[0].token).await.len(),
        1,
        "the api serves reads again"
    );
    eprintln!(
        "PostgreSQL failover: primary killed after {at_kill} of {} intents, replica promoted {:?} later; \
         first transfer answered {:?} after the promotion, every client within {:?}; failures seen: {:?}; \
         each key applied once, money lost: 0",
        WORKERS * INTENTS,
        promoted - killed,
        recovery.first,
        recovery.all,
        recovery.failures
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_master_killed_and_sentinels_promote_the_replica_under_16_clients() {
    if !installed("redis-server (with Sentinel)", redis_sentinel::installed()) {
        return;
    }
    let mut group = SentinelGroup::start().await;
    let backend = if testkit::postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let database = TestDatabase::new(backend).await;
    // Only the user, password and database of REDIS_URL are used: the host comes from the
    // sentinels (one that does not resolve proves it).
    let url = "redis://master-named-by-sentinels.invalid:6379";
    let mut config = config_for(&database, &CacheKind::Redis(url.to_owned()));
    config.redis_sentinels = group.sentinels();
    config.redis_sentinel_master = MASTER_NAME.to_owned();
    let app = Arc::new(
        TestApp::spawn_with(database, config, format!("{backend:?}+Redis Sentinel")).await,
    );
    let customers = open_accounts(&app).await;
    // A generation bump the new master will not have (set up here, lost below): the
    // first customer's accounts read and cached, then a transfer from them, whose bump of
    // their generation makes that cached read stale.
    let probe = &customers[0];
    let prefix = format!(
        "{}{}:",
        app.state.services.config.redis_key_prefix,
        api::ledger::db::identity(app.state.services.ledger.db())
            .await
            .expect("identity")
    );
    let generation_key = format!("{prefix}gen:{}", probe.user_id);
    // Asked twice: a read is cached from the second time it is asked.
    app.balances(&probe.token).await;
    let before = app.balances(&probe.token).await;
    let generation_before: String =
        redis_sentinel::query(group.master_port, redis::cmd("GET").arg(&generation_key))
            .await
            .expect("the generation");
    let era_before: String = redis_sentinel::query(
        group.master_port,
        redis::cmd("GET").arg(format!("{prefix}read_era")),
    )
    .await
    .expect("the era of cached reads");
    let stale_key = format!(
        "{prefix}accounts:{}:{era_before}.{generation_before}",
        probe.user_id
    );
    let body = app
        .gql(
            Some(&probe.token),
            "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
            json!({ "input": { "fromAccountId": probe.account_id, "toAccountNumber": customers[1].account_number, "amount": "1.00", "idempotencyKey": "probe" } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_ne!(app.balances(&probe.token).await, before);
    // The sessions (and all of the above) are on the replica before the master dies.
    // Replication is asynchronous: a session made in the last instant before a crash may
    // be lost, and its owner signs in again; that is not what this test is about.
    group.wait_replicated().await;
    // A second cache on the same sentinels, to watch its invalidation tracker follow the
    // master.
    let watcher = RedisCache::with_locator(
        Locator::new(url, &group.sentinels(), MASTER_NAME).expect("locator"),
        "failover-watch:",
        2,
        api::cache::CacheSizes::default(),
    );
    let started = Instant::now();
    while !watcher.is_tracking() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "tracking starts"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let answered = Arc::new(AtomicUsize::new(0));
    let clients = start_clients(&app, &customers, &answered);
    until_a_quarter_answered(&answered).await;
    let at_kill = answered.load(Ordering::Acquire);
    group.kill_master();
    let killed = Instant::now();
    // Sentinel notices (down-after 1 s), agrees (quorum 2), elects a leader and promotes.
    let named = loop {
        if group.named_master().await == Some(group.replica_port) {
            break Instant::now();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the sentinels promote the replica"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let recovery = collect(clients, named).await;

    assert_bank_intact(&app, &recovery, 1).await;
    assert!(
        recovery.first < Duration::from_secs(10),
        "transfers succeed again within seconds of the promotion: {:?}",
        recovery.first
    );
    let health_started = Instant::now();
    loop {
        let health = app
            .client
            .get(format!("{}/health", app.base))
            .send()
            .await
            .expect("GET /health");
        let status = health.status();
        let body: Value = health.json().await.expect("JSON");
        if status == 200 && body["cache"]["status"] == "up" {
            break;
        }
        assert!(
            health_started.elapsed() < Duration::from_secs(10),
            "/health reports the cache up again: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tracking_started = Instant::now();
    while !watcher.is_tracking() {
        assert!(
            tracking_started.elapsed() < Duration::from_secs(10),
            "the invalidation tracker follows the master"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The lost bump: the new master's generation for the probe customer set back to
    // the one before the transfer, under which the stale read is still stored (it was
    // replicated before the failover). The api must not read it again: its read era ended
    // when it first connected to the new master.
    let stale: Option<String> =
        redis_sentinel::query(group.replica_port, redis::cmd("GET").arg(&stale_key))
            .await
            .expect("GET");
    assert!(
        stale.is_some(),
        "the stale read {stale_key} is on the new master"
    );
    let _: () = redis_sentinel::query(
        group.replica_port,
        redis::cmd("SET")
            .arg(&generation_key)
            .arg(&generation_before),
    )
    .await
    .expect("SET");
    let in_ledger: Vec<i64> = entities::accounts::Entity::find()
        .select_only()
        .column(entities::accounts::Column::Balance)
        .filter(entities::accounts::Column::UserId.eq(probe.user_id.parse::<i64>().expect("id")))
        .into_tuple()
        .all(app.state.services.ledger.db())
        .await
        .expect("balance");
    let shown: Vec<i64> = app
        .balances(&probe.token)
        .await
        .iter()
        .map(|b| cents(b))
        .collect();
    assert_eq!(shown, in_ledger, "no cached read from before the failover");
    eprintln!(
        "Redis Sentinel failover: master killed after {at_kill} of {} intents, the sentinels named the replica {:?} later; \
         first transfer answered {:?} after that (every client within {:?}), {:?} after the kill; failures seen: {:?}; \
         each key applied once, money lost: 0",
        WORKERS * INTENTS,
        named - killed,
        recovery.first,
        recovery.all,
        named + recovery.first - killed,
        recovery.failures
    );
}
