//! A session token's seal lets the api skip its signature, and nothing else: a missing,
//! moved, altered or foreign seal only means the full check, never other claims.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::{KEY_HEX, TestApp, error_code, setups};
use api::auth::{Claims, TokenKeys};
use api::cache::{Cache, keys};
use api::ledger::UserId;
use serde_json::json;

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";

async fn sign_in(app: &TestApp, name: &str) -> String {
    let body = app
        .gql(
            None,
            LOGIN,
            json!({ "u": name, "p": "correct horse battery" }),
        )
        .await;
    body["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: login failed: {body}", app.setup))
        .to_owned()
}

/// How many tokens this api found valid by `path` (remembered, seal, full_check).
async fn token_checks(app: &TestApp, path: &str) -> u64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    let series = format!("banking_api_auth_token_checks_total{{path=\"{path}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

/// The seal sign-in stored for `token`.
async fn seal_of(cache: &Arc<dyn Cache>, token: &str) -> String {
    let keys = TokenKeys::from_hex(KEY_HEX).expect("key");
    cache
        .get(&keys.sealed_at(token).expect("key"))
        .await
        .expect("cache")
        .expect("the token is sealed")
}

async fn account_ids(app: &TestApp, token: &str) -> Vec<String> {
    app.accounts_field(token, "id").await
}

#[tokio::test]
async fn a_seal_never_vouches_for_other_claims() {
    let keys = TokenKeys::from_hex(KEY_HEX).expect("key");
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let cache = app.state.services.cache.clone();
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        let bob_user = UserId(bob.user_id.parse().expect("a numeric id"));
        let alices = vec![alice.account_id.clone()];

        // An intact seal: the first use of a fresh token skips the signature.
        let sealed = sign_in(&app, "alice").await;
        assert_eq!(account_ids(&app, &sealed).await, alices, "{}", app.setup);
        assert_eq!(token_checks(&app, "seal").await, 1, "{}", app.setup);
        assert_eq!(token_checks(&app, "full_check").await, 0, "{}", app.setup);

        // Each of these fresh tokens of Alice's has its seal replaced; each must still
        // read Alice's accounts (after the full check), never Bob's.
        let bob_seal = seal_of(&cache, &bob.token).await;
        let mut replaced = 0;
        for attack in ["bob's seal", "bob's claims", "foreign key", "no seal"] {
            let token = sign_in(&app, "alice").await;
            let at = keys.sealed_at(&token).expect("key");
            let real = seal_of(&cache, &token).await;
            let (claims, mac) = real.rsplit_once(' ').expect("mac");
            let expiry = claims.rsplit(' ').next().expect("expiry");
            let session = claims.split(' ').nth(1).expect("session");
            let value = match attack {
                "bob's seal" => Some(bob_seal.clone()),
                "bob's claims" => Some(format!("{} {session} {expiry} {mac}", bob.user_id)),
                "foreign key" => {
                    let forged = TokenKeys::generate().seal(
                        &token,
                        &Claims {
                            user_id: bob_user,
                            session_id: session.to_owned(),
                            attenuated: false,
                        },
                        SystemTime::now() + Duration::from_secs(600),
                    );
                    Some(forged.value)
                }
                _ => None,
            };
            assert_ne!(value.as_deref(), Some(real.as_str()));
            match value {
                Some(value) => cache
                    .set(&at, &value, Duration::from_secs(600))
                    .await
                    .expect("set"),
                None => cache.delete(&at).await.expect("delete"),
            }
            assert_eq!(
                account_ids(&app, &token).await,
                alices,
                "{}: {attack}",
                app.setup
            );
            replaced += 1;
            assert_eq!(
                token_checks(&app, "full_check").await,
                replaced,
                "{}: {attack} was checked in full",
                app.setup
            );
        }
        assert_eq!(token_checks(&app, "seal").await, 1, "{}", app.setup);

        // Signing out drops the seal with the session; the token is refused.
        let out = app
            .gql(Some(&sealed), "mutation { logout }", json!({}))
            .await;
        assert!(out["errors"].is_null(), "{out}");
        let at = keys.sealed_at(&sealed).expect("key");
        assert_eq!(cache.get(&at).await.expect("cache"), None, "{}", app.setup);
        let after = app
            .gql(Some(&sealed), "{ accounts { id } }", json!({}))
            .await;
        assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "{after}");
    }
}

#[tokio::test]
async fn a_token_minted_by_one_replica_is_taken_by_its_seal_on_another() {
    let Some((first, second)) = crate::support::two_replicas().await else {
        eprintln!("skipped: needs Redis (TEST_REDIS_URL)");
        return;
    };
    let alice = first.customer("alice").await;
    for _ in 0..3 {
        assert_eq!(
            account_ids(&second, &alice.token).await,
            vec![alice.account_id.clone()]
        );
    }
    // Once by its seal, then remembered; never the signature.
    assert_eq!(token_checks(&second, "seal").await, 1);
    assert_eq!(token_checks(&second, "remembered").await, 2);
    assert_eq!(token_checks(&second, "full_check").await, 0);
}

/// A token first seen by this replica has its seal and its session read in one round
/// trip: the session must still be alive and the user's, and its idle timer restarts.
#[tokio::test]
async fn a_seal_read_with_its_session_still_needs_that_session_alive() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let cache = app.state.services.cache.clone();
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        let session_of = async |token: &str| {
            let seal = seal_of(&cache, token).await;
            keys::session(seal.split(' ').nth(1).expect("a session word"))
        };
        let checks = token_checks(&app, "seal").await;

        // Left with two seconds to live, used once through its seal: the idle timer
        // restarts, so the session outlives those two seconds.
        let token = sign_in(&app, "alice").await;
        let session = session_of(&token).await;
        cache
            .set(&session, &alice.user_id, Duration::from_secs(2))
            .await
            .expect("set");
        assert_eq!(
            account_ids(&app, &token).await,
            vec![alice.account_id.clone()]
        );
        assert_eq!(
            token_checks(&app, "seal").await,
            checks + 1,
            "{}",
            app.setup
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            cache.get(&session).await.expect("cache").as_deref(),
            Some(alice.user_id.as_str()),
            "{}: the seal's read restarted the session's idle timer",
            app.setup
        );

        // A session that has ended, or that is someone else's, refuses the token for
        // reading and for writing, whatever its intact seal says.
        for (ended, owner) in [("ended", None), ("bob's", Some(&bob.user_id))] {
            for write in [false, true] {
                let token = sign_in(&app, "alice").await;
                let session = session_of(&token).await;
                match owner {
                    Some(owner) => cache
                        .set(&session, owner, Duration::from_secs(600))
                        .await
                        .expect("set"),
                    None => cache.delete(&session).await.expect("delete"),
                }
                let body = if write {
                    app.gql(
                        Some(&token),
                        "mutation($i: DepositInput!) { deposit(input: $i) { id } }",
                        json!({ "i": {
                            "accountId": alice.account_id,
                            "amount": "1.00",
                            "idempotencyKey": "seal-and-ended-session",
                        } }),
                    )
                    .await
                } else {
                    app.gql(Some(&token), "{ accounts { id } }", json!({}))
                        .await
                };
                assert_eq!(
                    error_code(&body),
                    Some("UNAUTHENTICATED"),
                    "{}: {ended} session, write {write}: {body}",
                    app.setup
                );
            }
        }
        assert_eq!(
            token_checks(&app, "full_check").await,
            0,
            "{}: every one of them was taken by its seal",
            app.setup
        );
    }
}
