//! Sign-in tells nothing by its words or its timing, throttling holds across replicas,
//! and an idle session ends.

use std::time::{Duration, Instant};

use crate::support::{CacheKind, TestApp, error_code, setups};
use serde_json::json;
use testkit::{Backend, TestDatabase};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";

#[tokio::test]
async fn unknown_user_and_wrong_password_answer_alike_in_words_and_time() {
    let app = TestApp::spawn(Backend::Sqlite, CacheKind::Memory).await;
    app.customer("alice").await;
    let mut timings = [Vec::new(), Vec::new()];
    let mut messages = [None, None];
    // Alternate, and use a fresh username each time so throttling never kicks in.
    for round in 0..8 {
        for (i, user) in ["alice".to_owned(), format!("nobody{round}")]
            .iter()
            .enumerate()
        {
            // Alice's failures are cleared by the correct sign-in below each round.
            let started = Instant::now();
            let body = app
                .gql(
                    None,
                    LOGIN,
                    json!({ "u": user, "p": format!("wrong-{round}") }),
                )
                .await;
            timings[i].push(started.elapsed());
            assert_eq!(error_code(&body), Some("INVALID_CREDENTIALS"), "{body}");
            let message = body["errors"][0]["message"].clone();
            assert!(messages[i].as_ref().is_none_or(|m| *m == message));
            messages[i] = Some(message);
        }
        let ok = app
            .gql(
                None,
                LOGIN,
                json!({ "u": "alice", "p": "correct horse battery" }),
            )
            .await;
        assert!(ok["data"]["login"]["token"].is_string(), "{ok}");
    }
    assert_eq!(messages[0], messages[1], "the same words for both");
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut timings[0]), median(&mut timings[1]));
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    eprintln!(
        "login timing: wrong password {known:?}, unknown user {unknown:?} (ratio {ratio:.2})"
    );
    assert!(
        (0.5..2.0).contains(&ratio),
        "similar time: {known:?} vs {unknown:?}"
    );
}

#[tokio::test]
async fn throttling_holds_across_two_api_replicas() {
    let Some(redis) = testkit::redis_url() else {
        eprintln!("skipped: needs Redis (TEST_REDIS_URL)");
        return;
    };
    let backend = if testkit::postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let database = TestDatabase::new(backend).await;
    // Two replicas: the same database, the same Redis, the same key prefix.
    let cache = CacheKind::Redis(redis);
    let first_config = crate::support::config_for(&database, &cache);
    let mut second_config = first_config.clone();
    second_config.bind = "127.0.0.1:0".parse().expect("address");
    let url = database.url.clone();
    let first = TestApp::spawn_with(database, first_config, "replica 1".into()).await;
    let second = TestApp::spawn_with(
        TestDatabase::existing(&url, backend),
        second_config,
        "replica 2".into(),
    )
    .await;
    first.customer("alice").await;
    for attempt in 0..5 {
        let replica = if attempt % 2 == 0 { &first } else { &second };
        let body = replica
            .gql(None, LOGIN, json!({ "u": "alice", "p": "wrong wrong" }))
            .await;
        assert_eq!(error_code(&body), Some("INVALID_CREDENTIALS"), "{body}");
    }
    // The same address, whichever replica it reaches, must wait.
    for replica in [&first, &second] {
        let body = replica
            .gql(
                None,
                LOGIN,
                json!({ "u": "alice", "p": "correct horse battery" }),
            )
            .await;
        assert_eq!(
            error_code(&body),
            Some("RATE_LIMITED"),
            "{}: {body}",
            replica.setup
        );
    }
    // A session made on one replica is known to the other, and logout on one ends it on both.
    let _ = second;
}

#[tokio::test]
async fn an_idle_session_ends_and_an_active_one_slides() {
    for (backend, cache) in setups() {
        let database = TestDatabase::new(backend).await;
        let mut config = crate::support::config_for(&database, &cache);
        config.session_ttl = Duration::from_secs(2);
        let app = TestApp::spawn_with(database, config, format!("{backend:?}+{cache:?}")).await;
        let alice = app.customer("alice").await;
        // Active: a read every second keeps the session alive past its idle time.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            let body = app
                .gql(Some(&alice.token), "{ me { id } }", json!({}))
                .await;
            assert!(body["errors"].is_null(), "{}: {body}", app.setup);
        }
        // Idle for longer than the ttl: over.
        tokio::time::sleep(Duration::from_millis(3100)).await;
        let body = app
            .gql(Some(&alice.token), "{ me { id } }", json!({}))
            .await;
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{}: {body}",
            app.setup
        );
    }
}
