//! Sign-in throttling slows a guesser down where the guesses come from and never locks a
//! customer out: fifty wrong passwords from one address leave the right password from
//! another address working at once. And a read-only copy of a token, polling, does not
//! keep its owner's idle session alive.
//!
//! The test client reaches the api over loopback, which the api trusts as a proxy by
//! default, so `X-Forwarded-For` plays the part of customers and attackers elsewhere.

use std::time::{Duration, Instant};

use crate::support::{TestApp, error_code, setups};
use api::auth::TrustedProxies;
use serde_json::{Value, json};
use testkit::TestDatabase;

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const RIGHT: &str = "correct horse battery";

const ATTACKER: &str = "198.51.100.66";
const CUSTOMER_AT_HOME: &str = "203.0.113.7";

/// One GraphQL sign-in as if from `from`.
async fn gql_login(app: &TestApp, from: &str, username: &str, password: &str) -> Value {
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-forwarded-for", from)
        .json(&json!({ "query": LOGIN, "variables": { "u": username, "p": password } }))
        .send()
        .await
        .expect("POST /graphql");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("JSON")
}

/// One REST sign-in as if from `from`: the status and the `Retry-After` header.
async fn rest_login(
    app: &TestApp,
    from: &str,
    username: &str,
    password: &str,
) -> (u16, Option<u64>) {
    let response = app
        .client
        .post(format!("{}/api/auth/login", app.base))
        .header("x-forwarded-for", from)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("POST /api/auth/login");
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (response.status().as_u16(), retry)
}

fn retry_after(body: &Value) -> Option<u64> {
    body["errors"][0]["extensions"]["retryAfter"].as_u64()
}

/// Fifty wrong passwords for `username` from `from`: each answer's code and message.
async fn fifty_wrong(app: &TestApp, from: &str, username: &str) -> Vec<(String, Value)> {
    let mut answers = Vec::new();
    for attempt in 0..50 {
        let body = gql_login(app, from, username, &format!("guess-{attempt}")).await;
        let code = error_code(&body).unwrap_or("none").to_owned();
        if code == "RATE_LIMITED" {
            assert!(
                retry_after(&body).is_some_and(|s| (1..=60).contains(&s)),
                "a wait says how long: {body}"
            );
        }
        answers.push((code, body["errors"][0]["message"].clone()));
    }
    answers
}

/// How many of the answers judged the password (rather than asking to wait).
fn judged(answers: &[(String, Value)]) -> usize {
    answers
        .iter()
        .filter(|(code, _)| code != "RATE_LIMITED")
        .count()
}

/// Five guesses are judged, then the sixth must wait. A slow machine may let a wait of
/// a second or two pass during the fifty, and a guess or two more be judged; never more.
fn assert_slowed(answers: &[(String, Value)], setup: &str) {
    let codes: Vec<&str> = answers.iter().map(|(c, _)| c.as_str()).collect();
    assert!(
        codes[..5].iter().all(|c| *c == "INVALID_CREDENTIALS"),
        "{setup}: {codes:?}"
    );
    assert_eq!(codes[5], "RATE_LIMITED", "{setup}: {codes:?}");
    assert!(judged(answers) <= 8, "{setup}: {codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| *c == "INVALID_CREDENTIALS" || *c == "RATE_LIMITED"),
        "{setup}: {codes:?}"
    );
}

#[tokio::test]
async fn fifty_wrong_passwords_from_one_address_do_not_lock_the_customer_out() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        app.customer("alice").await;

        let answers = fifty_wrong(&app, ATTACKER, "alice").await;
        assert_slowed(&answers, &app.setup);

        // Alice, from home, signs in at once, by GraphQL and by REST.
        let started = Instant::now();
        let body = gql_login(&app, CUSTOMER_AT_HOME, "alice", RIGHT).await;
        assert!(
            body["data"]["login"]["token"].is_string(),
            "{}: {body}",
            app.setup
        );
        assert_eq!(
            rest_login(&app, CUSTOMER_AT_HOME, "alice", RIGHT).await.0,
            200
        );
        assert!(started.elapsed() < Duration::from_secs(5));

        // The attacking address stays slowed, even with the right password...
        let body = gql_login(&app, ATTACKER, "alice", RIGHT).await;
        assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
        let (status, retry) = rest_login(&app, ATTACKER, "alice", RIGHT).await;
        assert_eq!(status, 429);
        let wait = retry.expect("Retry-After");
        assert!((1..=60).contains(&wait), "{wait}");

        // ...until its wait is over: a delay, not a lock.
        tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
        let body = gql_login(&app, ATTACKER, "alice", RIGHT).await;
        assert!(
            body["data"]["login"]["token"].is_string(),
            "{}: {body}",
            app.setup
        );
    }
}

#[tokio::test]
async fn unknown_usernames_are_throttled_exactly_like_known_ones() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        app.customer("alice").await;
        let known = fifty_wrong(&app, ATTACKER, "alice").await;
        // From another address, so the two runs start alike.
        let ghost = fifty_wrong(&app, "198.51.100.67", "ghost").await;
        assert_slowed(&known, &app.setup);
        assert_slowed(&ghost, &app.setup);
        // The same words, the failures and the first wait alike.
        assert_eq!(known[..6], ghost[..6], "{}", app.setup);
    }
}

#[tokio::test]
async fn the_delay_grows_with_each_failure_and_success_clears_it() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        app.customer("alice").await;
        for _ in 0..5 {
            let body = gql_login(&app, ATTACKER, "alice", "wrong").await;
            assert_eq!(error_code(&body), Some("INVALID_CREDENTIALS"), "{body}");
        }
        // 1 s after the fifth failure, 2 s after the sixth, 4 s after the seventh.
        for expected in [1, 2, 4] {
            let body = gql_login(&app, ATTACKER, "alice", "wrong").await;
            assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
            let wait = retry_after(&body).expect("retryAfter");
            assert_eq!(wait, expected, "{}: {body}", app.setup);
            tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
            let body = gql_login(&app, ATTACKER, "alice", "wrong").await;
            assert_eq!(error_code(&body), Some("INVALID_CREDENTIALS"), "{body}");
        }
        let body = gql_login(&app, ATTACKER, "alice", RIGHT).await;
        assert_eq!(retry_after(&body), Some(8), "{body}");
        tokio::time::sleep(Duration::from_millis(8200)).await;
        let body = gql_login(&app, ATTACKER, "alice", RIGHT).await;
        assert!(body["data"]["login"]["token"].is_string(), "{body}");
        // The success forgot this address's failures: the next typo is free again.
        let body = gql_login(&app, ATTACKER, "alice", "typo").await;
        assert_eq!(error_code(&body), Some("INVALID_CREDENTIALS"), "{body}");
        let body = gql_login(&app, ATTACKER, "alice", RIGHT).await;
        assert!(body["data"]["login"]["token"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn guesses_sent_all_at_once_learn_no_more_than_one_by_one() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        app.customer("alice").await;
        let guesses = (0..40).map(|n| {
            let app = &app;
            async move { gql_login(app, ATTACKER, "alice", &format!("guess-{n}")).await }
        });
        let answers = futures::future::join_all(guesses).await;
        let judged = answers
            .iter()
            .filter(|b| error_code(b) != Some("RATE_LIMITED"))
            .count();
        // The five free failures, and at most one more per hashing thread (up to four)
        // that finished in the same instant as the fifth: not forty.
        assert!(judged <= 9, "{}: {judged} answers of 40", app.setup);
        assert!(judged >= 5, "{}: {judged} answers of 40", app.setup);
    }
}

#[tokio::test]
async fn guesses_spread_over_many_addresses_slow_the_username_only_far_later() {
    for (backend, cache) in setups() {
        let database = TestDatabase::new(backend).await;
        let mut config = crate::support::config_for(&database, &cache);
        // A lower username-wide threshold than production's, to reach it quickly.
        config.login_throttle.username_free = 60;
        let app = TestApp::spawn_with(database, config, format!("{backend:?}+{cache:?}")).await;
        app.customer("alice").await;
        // Fifty addresses, one guess each: every one is judged...
        for n in 0..50 {
            let body = gql_login(&app, &format!("192.0.2.{n}"), "alice", "wrong").await;
            assert_eq!(
                error_code(&body),
                Some("INVALID_CREDENTIALS"),
                "{n}: {body}"
            );
        }
        // ...and Alice still signs in from home.
        let body = gql_login(&app, CUSTOMER_AT_HOME, "alice", RIGHT).await;
        assert!(body["data"]["login"]["token"].is_string(), "{body}");
        // Past the username's threshold every address waits, briefly.
        for n in 50..60 {
            let body = gql_login(&app, &format!("192.0.2.{n}"), "alice", "wrong").await;
            assert_eq!(
                error_code(&body),
                Some("INVALID_CREDENTIALS"),
                "{n}: {body}"
            );
        }
        let body = gql_login(&app, "192.0.2.200", "alice", "wrong").await;
        assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
        assert_eq!(retry_after(&body), Some(1), "{body}");
    }
}

#[tokio::test]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    for (backend, cache) in setups() {
        let database = TestDatabase::new(backend).await;
        let mut config = crate::support::config_for(&database, &cache);
        config.process.trusted_proxies = TrustedProxies::none();
        let app = TestApp::spawn_with(database, config, format!("{backend:?}+{cache:?}")).await;
        app.customer("alice").await;
        // Each guess claims another address; none is believed, all count as the peer.
        for n in 0..5 {
            let body = gql_login(&app, &format!("192.0.2.{n}"), "alice", "wrong").await;
            assert_eq!(error_code(&body), Some("INVALID_CREDENTIALS"), "{body}");
        }
        let body = gql_login(&app, "192.0.2.99", "alice", RIGHT).await;
        assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    }
}

#[tokio::test]
async fn a_polling_read_only_token_does_not_keep_the_owners_session_alive() {
    for (backend, cache) in setups() {
        let database = TestDatabase::new(backend).await;
        let mut config = crate::support::config_for(&database, &cache);
        // Shorter than SESSION_TTL_SECS allows, to see the idle timeout within a test.
        config.session_ttl = Duration::from_secs(3);
        let app = TestApp::spawn_with(database, config, format!("{backend:?}+{cache:?}")).await;
        let owner = app.customer("alice").await;
        let copy = app
            .gql(
                Some(&owner.token),
                "mutation { createReadOnlyToken(ttlSeconds: 600) }",
                json!({}),
            )
            .await;
        let read_only = copy["data"]["createReadOnlyToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{copy}"))
            .to_owned();
        // The accountant polls every half second for longer than the idle timeout,
        // while the owner does nothing.
        let mut answered = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(5000) {
            let body = app
                .gql(Some(&read_only), "{ accounts { balance } }", json!({}))
                .await;
            answered.push(error_code(&body).is_none());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(answered[0], "{}: the copy works at first", app.setup);
        assert!(
            !answered[answered.len() - 1],
            "{}: the copy ends with the session: {answered:?}",
            app.setup
        );
        let body = app
            .gql(Some(&owner.token), "{ me { id } }", json!({}))
            .await;
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{}: the owner's idle session ended on time: {body}",
            app.setup
        );
    }
}
