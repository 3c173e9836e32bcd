//! The seed-compatible REST routes: the same ledger and tokens, the original shapes.

use crate::support::{TestApp, setups};
use serde_json::{Value, json};

#[tokio::test]
async fn login_me_accounts_transfer_history_over_rest() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        app.deposit(&alice, "100.00").await;
        let url = |path: &str| format!("{}{path}", app.base);

        let bad = app
            .client
            .post(url("/api/auth/login"))
            .json(&json!({ "username": "alice", "password": "wrong one" }))
            .send()
            .await
            .expect("POST");
        assert_eq!(bad.status(), 401);
        let login: Value = app
            .client
            .post(url("/api/auth/login"))
            .json(&json!({ "username": "alice", "password": "correct horse battery" }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        assert_eq!(login["token_type"], "bearer");
        let token = login["access_token"].as_str().expect("token").to_owned();

        let me: Value = app
            .client
            .get(url("/api/users/me"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(me["username"], "alice");
        assert_eq!(me["email"], "alice@example.com");
        assert!(me["id"].is_i64() && me["created_at"].is_string(), "{me}");

        let accounts: Value = app
            .client
            .get(url("/api/accounts"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(accounts[0]["balance"], "100.00", "{accounts}");
        assert_eq!(accounts[0]["type"], "checking");
        assert_eq!(accounts[0]["account_number"], alice.account_number.as_str());
        let from: i64 = accounts[0]["id"].as_i64().expect("id");
        let to: i64 = bob.account_id.parse().expect("id");

        let post = |body: Value, key: Option<&'static str>| {
            let app = &app;
            let token = token.clone();
            async move {
                let mut r = app
                    .client
                    .post(format!("{}/api/transactions", app.base))
                    .bearer_auth(token)
                    .json(&body);
                if let Some(key) = key {
                    r = r.header("Idempotency-Key", key);
                }
                let r = r.send().await.expect("POST");
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let (status, created) = post(
            json!({ "from_account": from, "to_account": to, "amount": "12.34" }),
            Some("rest-1"),
        )
        .await;
        assert_eq!(status, 201, "{}: {created}", app.setup);
        assert_eq!(created["amount"], "12.34");
        assert_eq!(created["from_account"], from);
        assert_eq!(created["to_account"], to);
        // The same Idempotency-Key again: the same transaction, no new money movement.
        let (status, again) = post(
            json!({ "from_account": from, "to_account": to, "amount": "12.34" }),
            Some("rest-1"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(again["id"], created["id"]);
        let (status, _) = post(
            json!({ "from_account": from, "to_account": to, "amount": "99.00" }),
            Some("rest-1"),
        )
        .await;
        assert_eq!(status, 409, "same key, other amount");

        for (body, expected) in [
            (
                json!({ "from_account": from, "to_account": to, "amount": "1000.00" }),
                409,
            ),
            (
                json!({ "from_account": from, "to_account": to, "amount": "-5" }),
                422,
            ),
            (
                json!({ "from_account": from, "to_account": to, "amount": "0" }),
                422,
            ),
            (
                json!({ "from_account": from, "to_account": to, "amount": "1.234" }),
                422,
            ),
            (
                json!({ "from_account": from, "to_account": to, "amount": 12.5 }),
                422,
            ),
            (json!({ "from_account": from, "to_account": to }), 422),
            (
                json!({ "from_account": "x", "to_account": to, "amount": "1.00" }),
                422,
            ),
            (
                json!({ "from_account": to, "to_account": from, "amount": "1.00" }),
                404,
            ),
            (
                json!({ "from_account": from, "to_account": 987654321, "amount": "1.00" }),
                404,
            ),
            (
                json!({ "from_account": from, "to_account": from, "amount": "1.00" }),
                422,
            ),
        ] {
            let (status, answer) = post(body.clone(), None).await;
            assert_eq!(status, expected, "{body}: {answer}");
            assert!(answer["detail"].is_string(), "{answer}");
        }

        let history: Value = app
            .client
            .get(url(&format!("/api/transactions?account_id={from}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        let items = history.as_array().expect("list");
        assert_eq!(items.len(), 2, "{history}");
        assert_eq!(items[0]["amount"], "12.34", "newest first");
        assert_eq!(items[1]["amount"], "100.00");
        assert!(items[1]["from_account"].is_null());
        assert!(items[0]["timestamp"].is_string());
        let bad_query = app
            .client
            .get(url("/api/transactions?account_id=abc"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET");
        assert_eq!(bad_query.status(), 422);
        let missing_query = app
            .client
            .get(url("/api/transactions"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET");
        assert_eq!(missing_query.status(), 422);

        let balances: Value = app
            .client
            .get(url("/api/accounts"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(balances[0]["balance"], "87.66");
        assert_eq!(app.balances(&bob.token).await, vec!["12.34"]);

        // Logout (GraphQL) ends the REST token as well.
        let out = app
            .gql(Some(&token), "mutation { logout }", json!({}))
            .await;
        assert_eq!(out["data"]["logout"], true);
        let after = app
            .client
            .get(url("/api/accounts"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET");
        assert_eq!(after.status(), 401);
    }
}
