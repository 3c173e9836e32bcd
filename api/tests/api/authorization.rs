//! Nobody reaches another customer's money or learns that it exists, and every bad
//! token is refused with the right code.

use std::time::{Duration, SystemTime};

use crate::support::{KEY_HEX, TestApp, error_code, setups};
use api::auth::TokenKeys;
use serde_json::json;

#[tokio::test]
async fn another_users_account_looks_exactly_like_a_missing_one() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        app.deposit(&bob, "100.00").await;
        let missing = "987654321";

        // account(id): null for both.
        let q = "query($id: ID!) { account(id: $id) { id balance } }";
        let foreign = app
            .gql(Some(&alice.token), q, json!({ "id": bob.account_id }))
            .await;
        let absent = app
            .gql(Some(&alice.token), q, json!({ "id": missing }))
            .await;
        assert_eq!(foreign, absent, "{}", app.setup);
        assert!(foreign["data"]["account"].is_null(), "{foreign}");

        // transactions(accountId): the same NOT_FOUND error, word for word.
        let q = "query($id: ID!) { transactions(accountId: $id) { edges { node { id } } } }";
        let foreign = app
            .gql(Some(&alice.token), q, json!({ "id": bob.account_id }))
            .await;
        let absent = app
            .gql(Some(&alice.token), q, json!({ "id": missing }))
            .await;
        assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
        assert_eq!(
            foreign["errors"][0]["message"],
            absent["errors"][0]["message"]
        );

        // transfer from it: NOT_FOUND, and Bob keeps his money.
        let q = "mutation($input: TransferInput!) { transfer(input: $input) { id } }";
        let foreign = app
            .gql(Some(&alice.token), q, json!({ "input": { "fromAccountId": bob.account_id, "toAccountNumber": alice.account_number, "amount": "50.00", "idempotencyKey": "steal-1" } }))
            .await;
        let absent = app
            .gql(Some(&alice.token), q, json!({ "input": { "fromAccountId": missing, "toAccountNumber": alice.account_number, "amount": "50.00", "idempotencyKey": "steal-2" } }))
            .await;
        assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
        assert_eq!(
            foreign["errors"][0]["message"],
            absent["errors"][0]["message"]
        );
        let deposit = app
            .gql(Some(&alice.token), "mutation($input: DepositInput!) { deposit(input: $input) { id } }", json!({ "input": { "accountId": bob.account_id, "amount": "1.00", "idempotencyKey": "d-1" } }))
            .await;
        assert_eq!(error_code(&deposit), Some("NOT_FOUND"), "{deposit}");

        // The REST routes answer 404 for both, with the same body.
        let rest_get = |id: String| {
            let app = &app;
            let token = alice.token.clone();
            async move {
                let r = app
                    .client
                    .get(format!("{}/api/transactions?account_id={id}", app.base))
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("GET");
                (r.status().as_u16(), r.text().await.expect("body"))
            }
        };
        let foreign = rest_get(bob.account_id.clone()).await;
        let absent = rest_get(missing.to_owned()).await;
        assert_eq!(foreign.0, 404, "{foreign:?}");
        assert_eq!(foreign, absent);
        let rest_post = |from: String| {
            let app = &app;
            let token = alice.token.clone();
            let to: i64 = alice.account_id.parse().expect("id");
            async move {
                let r = app
                    .client
                    .post(format!("{}/api/transactions", app.base))
                    .bearer_auth(token)
                    .json(&json!({ "from_account": from.parse::<i64>().expect("id"), "to_account": to, "amount": "50.00" }))
                    .send()
                    .await
                    .expect("POST");
                (r.status().as_u16(), r.text().await.expect("body"))
            }
        };
        let foreign = rest_post(bob.account_id.clone()).await;
        let absent = rest_post(missing.to_owned()).await;
        assert_eq!(foreign.0, 404, "{foreign:?}");
        assert_eq!(foreign, absent);

        assert_eq!(app.balances(&bob.token).await, vec!["100.00"]);
        assert_eq!(app.balances(&alice.token).await, vec!["0.00"]);
    }
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_right_code() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        app.deposit(&alice, "100.00").await;
        let user_id = api::ledger::UserId(alice.user_id.parse().expect("id"));
        let transfer = |token: String, key: &'static str| {
            let app = &app;
            let from = alice.account_id.clone();
            let to = bob.account_number.clone();
            async move {
                app.gql(
                    Some(&token),
                    "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
                    json!({ "input": { "fromAccountId": from, "toAccountNumber": to, "amount": "1.00", "idempotencyKey": key } }),
                )
                .await
            }
        };

        // No token at all.
        let none = app.gql(None, "{ me { id } }", json!({})).await;
        assert_eq!(error_code(&none), Some("UNAUTHENTICATED"), "{none}");

        // Signed by another key, with this user's id.
        let session = app
            .state
            .services
            .auth
            .start_session(app.state.services.ledger.user(user_id).await.expect("user"))
            .await
            .expect("session");
        let claims = app
            .state
            .services
            .auth
            .authorize(&session.token, api::auth::Operation::Read)
            .await
            .expect("valid");
        let foreign_key = TokenKeys::generate()
            .mint(
                user_id,
                &claims.session_id,
                SystemTime::now() + Duration::from_secs(600),
            )
            .expect("mint");
        assert_eq!(
            error_code(&transfer(foreign_key, "k1").await),
            Some("UNAUTHENTICATED")
        );

        // One byte changed.
        let mut bytes = session.token.clone().into_bytes();
        let i = bytes.len() / 3;
        bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert_eq!(
            error_code(&transfer(tampered, "k2").await),
            Some("UNAUTHENTICATED")
        );

        // Expired: the right key and a live session, but past its time.
        let expired = TokenKeys::from_hex(KEY_HEX)
            .expect("key")
            .mint(
                user_id,
                &claims.session_id,
                SystemTime::now() - Duration::from_secs(1),
            )
            .expect("mint");
        assert_eq!(
            error_code(&transfer(expired, "k3").await),
            Some("UNAUTHENTICATED")
        );

        // Read-only: reads work, transfers are FORBIDDEN.
        let ro = app
            .gql(
                Some(&session.token),
                "mutation { createReadOnlyToken(ttlSeconds: 600) }",
                json!({}),
            )
            .await;
        let read_only = ro["data"]["createReadOnlyToken"]
            .as_str()
            .expect("read-only token")
            .to_owned();
        assert_eq!(app.balances(&read_only).await, vec!["100.00"]);
        assert_eq!(
            error_code(&transfer(read_only.clone(), "k4").await),
            Some("FORBIDDEN")
        );
        let logout_ro = app
            .gql(Some(&read_only), "mutation { logout }", json!({}))
            .await;
        assert_eq!(error_code(&logout_ro), Some("FORBIDDEN"), "{logout_ro}");
        let bad_ttl = app
            .gql(
                Some(&session.token),
                "mutation { createReadOnlyToken(ttlSeconds: -5) }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&bad_ttl), Some("BAD_USER_INPUT"), "{bad_ttl}");

        // Revoked: logout ends the session and its read-only copies at once.
        let out = app
            .gql(Some(&session.token), "mutation { logout }", json!({}))
            .await;
        assert_eq!(out["data"]["logout"], true);
        assert_eq!(
            error_code(&transfer(session.token.clone(), "k5").await),
            Some("UNAUTHENTICATED")
        );
        let ro_after = app
            .gql(Some(&read_only), "{ accounts { balance } }", json!({}))
            .await;
        assert_eq!(error_code(&ro_after), Some("UNAUTHENTICATED"), "{ro_after}");

        // REST gives the matching statuses.
        let status = |token: Option<String>| {
            let app = &app;
            async move {
                let mut r = app.client.get(format!("{}/api/accounts", app.base));
                if let Some(t) = token {
                    r = r.bearer_auth(t);
                }
                r.send().await.expect("GET").status().as_u16()
            }
        };
        assert_eq!(status(None).await, 401);
        assert_eq!(status(Some(session.token.clone())).await, 401);
        assert_eq!(status(Some("garbage".into())).await, 401);
        assert_eq!(status(Some(alice.token.clone())).await, 200);

        // Nothing moved.
        assert_eq!(app.balances(&alice.token).await, vec!["100.00"]);
        assert_eq!(app.balances(&bob.token).await, vec!["0.00"]);
    }
}

/// From one address (this test's loopback): other addresses are not slowed, see
/// sign_in_throttle.rs.
#[tokio::test]
async fn the_sixth_wrong_password_in_a_row_from_one_address_must_wait_even_when_right() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        app.customer("alice").await;
        let login = |password: &'static str| {
            let app = &app;
            async move {
                app.gql(None, "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }", json!({ "u": "alice", "p": password }))
                    .await
            }
        };
        for attempt in 1..=5 {
            let body = login("wrong password").await;
            assert_eq!(
                error_code(&body),
                Some("INVALID_CREDENTIALS"),
                "attempt {attempt}: {body}"
            );
        }
        let sixth = login("wrong password").await;
        assert_eq!(
            error_code(&sixth),
            Some("RATE_LIMITED"),
            "{}: {sixth}",
            app.setup
        );
        let right = login("correct horse battery").await;
        assert_eq!(error_code(&right), Some("RATE_LIMITED"), "{right}");

        // REST shares the wait and answers 429, saying how long.
        let rest = app
            .client
            .post(format!("{}/api/auth/login", app.base))
            .json(&json!({ "username": "alice", "password": "correct horse battery" }))
            .send()
            .await
            .expect("POST");
        assert_eq!(rest.status(), 429);
        assert!(rest.headers().contains_key("retry-after"));

        // An unknown user is throttled the same way, so the wait reveals nothing.
        for _ in 0..5 {
            let _ = app
                .gql(
                    None,
                    "mutation { login(username: \"ghost\", password: \"whatever1\") { token } }",
                    json!({}),
                )
                .await;
        }
        let ghost = app
            .gql(
                None,
                "mutation { login(username: \"ghost\", password: \"whatever1\") { token } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&ghost), Some("RATE_LIMITED"));
        // And the wrong-password answers were the same as for a missing user.
        let other = app.customer("bob").await;
        let wrong = app
            .gql(
                None,
                "mutation { login(username: \"bob\", password: \"nope nope\") { token } }",
                json!({}),
            )
            .await;
        let unknown = app
            .gql(
                None,
                "mutation { login(username: \"nobody\", password: \"nope nope\") { token } }",
                json!({}),
            )
            .await;
        assert_eq!(
            wrong["errors"][0]["message"],
            unknown["errors"][0]["message"]
        );
        let _ = other;
    }
}
