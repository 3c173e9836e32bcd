//! Each api replica keeps a local copy of sessions and cache generations, and Redis's
//! invalidations keep it honest: a change made through another replica is seen at once,
//! money never moves on the local copy alone, and when the invalidation stream is down
//! nothing local is used.

use std::time::{Duration, Instant};

use crate::support::error_code;
use crate::support::redis_server::RedisServer;
use api::cache::{Cache, Freshness, RedisCache};
use serde_json::json;

const TTL: Duration = Duration::from_secs(60);

fn replica(url: &str, prefix: &str) -> RedisCache {
    RedisCache::new(url, prefix, 4).expect("a redis cache")
}

async fn until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    started.elapsed()
}

/// Holds every Redis client for `pause`, as a slow or partitioned Redis would.
fn pause(redis: &RedisServer, pause: Duration) {
    redis.cli(&["CLIENT", "PAUSE", &pause.as_millis().to_string(), "ALL"]);
}

#[tokio::test]
async fn a_replica_reads_its_copy_and_forgets_what_another_replica_changed() {
    // A private Redis: the test pauses and stops it.
    let mut redis = RedisServer::start();
    let prefix = "near:";
    let (first, second) = (replica(&redis.url(), prefix), replica(&redis.url(), prefix));
    until("tracking starts", Duration::from_secs(5), async || {
        first.is_tracking() && second.is_tracking()
    })
    .await;

    // A session made on the first replica, read twice on the second: the first read
    // restarts its idle timer in Redis, the second keeps a local copy.
    first.set("session:s1", "42", TTL).await.expect("set");
    for _ in 0..2 {
        let owner = second
            .get_and_touch("session:s1", TTL, Freshness::Tracked)
            .await
            .expect("read");
        assert_eq!(owner.as_deref(), Some("42"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    second
        .get_and_touch("session:s1", TTL, Freshness::Tracked)
        .await
        .expect("read");

    // With Redis holding every client, the local copy still answers a read at once, and
    // a read that must be authoritative waits for Redis.
    pause(&redis, Duration::from_millis(300));
    let started = Instant::now();
    let owner = second
        .get_and_touch("session:s1", TTL, Freshness::Tracked)
        .await
        .expect("local read");
    assert_eq!(owner.as_deref(), Some("42"));
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "served locally"
    );
    let started = Instant::now();
    let _ = second
        .get_and_touch("session:s1", TTL, Freshness::Authoritative)
        .await;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "an authoritative read went to Redis"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Logout on the first replica: the second forgets the session within milliseconds.
    first.delete("session:s1").await.expect("delete");
    let took = until(
        "the logout reaches the second replica",
        Duration::from_millis(500),
        async || {
            second
                .get_and_touch("session:s1", TTL, Freshness::Tracked)
                .await
                .expect("read")
                .is_none()
        },
    )
    .await;
    eprintln!("logout seen by the other replica after {took:?}");

    // A cached read under generation 0, then a write bumps the generation elsewhere.
    first.set("accounts:7:0", "before", TTL).await.expect("set");
    let read = second
        .get_versioned("gen:7", "accounts:7:")
        .await
        .expect("read");
    assert_eq!(read, ("0".to_owned(), Some("before".to_owned())));
    first.incr("gen:7", TTL).await.expect("bump");
    until(
        "the bump reaches the second replica",
        Duration::from_millis(500),
        async || {
            second
                .get_versioned("gen:7", "accounts:7:")
                .await
                .expect("read")
                .0
                == "1"
        },
    )
    .await;
    // And the replica that bumped sees its own write on the very next read, though it
    // held the old generation's value locally.
    first.set("accounts:7:1", "after", TTL).await.expect("set");
    for _ in 0..2 {
        let read = first
            .get_versioned("gen:7", "accounts:7:")
            .await
            .expect("read");
        assert_eq!(read, ("1".to_owned(), Some("after".to_owned())));
    }
    first.incr("gen:7", TTL).await.expect("bump");
    assert_eq!(
        first
            .get_versioned("gen:7", "accounts:7:")
            .await
            .expect("read")
            .0,
        "2"
    );

    // Redis gone: the copy is dropped with the invalidation stream, and reads fail
    // rather than answer from it.
    first.set("session:s2", "43", TTL).await.expect("set");
    second
        .get_and_touch("session:s2", TTL, Freshness::Tracked)
        .await
        .expect("read");
    redis.stop();
    until("tracking notices", Duration::from_secs(3), async || {
        !second.is_tracking()
    })
    .await;
    assert!(
        second
            .get_and_touch("session:s2", TTL, Freshness::Tracked)
            .await
            .is_err()
    );
    redis.restart();
    until("tracking comes back", Duration::from_secs(5), async || {
        second.is_tracking()
    })
    .await;
    // The pool may still hold a connection to the old server; it is replaced on failure.
    let mut answer = Err(());
    until("reads work again", Duration::from_secs(3), async || {
        answer = second
            .get_and_touch("session:s2", TTL, Freshness::Tracked)
            .await
            .map_err(|_| ());
        answer.is_ok()
    })
    .await;
    assert_eq!(
        answer,
        Ok(None),
        "the restarted Redis is empty, and nothing stale was kept"
    );
}

#[tokio::test]
async fn after_logout_on_one_replica_the_other_refuses_to_move_money_at_once() {
    let Some((first, second)) = crate::support::two_replicas().await else {
        eprintln!("skipped: needs Redis (TEST_REDIS_URL)");
        return;
    };
    let alice = first.customer("alice").await;
    let bob = first.customer("bob").await;
    first.deposit(&alice, "10.00").await;
    // The second replica has seen the session twice, so it holds a copy.
    for _ in 0..2 {
        assert_eq!(second.balances(&alice.token).await, vec!["10.00"]);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let out = first
        .gql(Some(&alice.token), "mutation { logout }", json!({}))
        .await;
    assert!(out["errors"].is_null(), "{out}");
    let transfer = second
        .gql(
            Some(&alice.token),
            "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
            json!({ "input": { "fromAccountId": alice.account_id, "toAccountNumber": bob.account_number, "amount": "1.00", "idempotencyKey": "after-logout" } }),
        )
        .await;
    assert_eq!(error_code(&transfer), Some("UNAUTHENTICATED"), "{transfer}");
    assert_eq!(first.balances(&bob.token).await, vec!["0.00"]);
}

#[tokio::test]
async fn both_parties_generations_move_in_one_call_and_every_replica_sees_them() {
    let redis = RedisServer::start();
    let prefix = "bumps:";
    let (first, second) = (replica(&redis.url(), prefix), replica(&redis.url(), prefix));
    until("tracking starts", Duration::from_secs(5), async || {
        first.is_tracking() && second.is_tracking()
    })
    .await;
    // The second replica holds both generations locally (one bumped before, one new).
    first.incr("gen:1", TTL).await.expect("bump");
    for user in ["1", "2"] {
        second
            .get_versioned(&format!("gen:{user}"), &format!("accounts:{user}:"))
            .await
            .expect("read");
    }

    let both = ["gen:1".to_owned(), "gen:2".to_owned()];
    first.incr_each(&both, TTL).await.expect("bumps");

    for (key, expected) in [("gen:1", "2"), ("gen:2", "1")] {
        let user = key.trim_start_matches("gen:");
        let read = async |cache: &RedisCache| {
            cache
                .get_versioned(key, &format!("accounts:{user}:"))
                .await
                .expect("read")
                .0
        };
        // The replica that bumped sees it on its very next read; the other within moments.
        assert_eq!(read(&first).await, expected, "{key} on the bumping replica");
        until(
            "the bump reaches the other replica",
            Duration::from_millis(500),
            async || read(&second).await == expected,
        )
        .await;
        // Each counter got its time to live when it was born, as `incr` gives it.
        let ttl: u64 = redis
            .cli(&["TTL", &format!("{prefix}{key}")])
            .parse()
            .expect("a ttl");
        assert!(ttl > 0 && ttl <= TTL.as_secs(), "{key}: ttl {ttl}");
    }

    // Nothing to bump is no round trip and no error.
    first.incr_each(&[], TTL).await.expect("no bumps");
}
