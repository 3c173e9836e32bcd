//! The whole customer flow over GraphQL, against the real server.

use crate::support::{TestApp, error_code, setups};
use serde_json::json;

#[tokio::test]
async fn signup_login_deposit_transfer_history_logout() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;

        // Login answers a token for the same user.
        let login = app
            .gql(
                None,
                "mutation { login(username: \"Alice\", password: \"correct horse battery\") { token expiresAt user { username } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            login["data"]["login"]["user"]["username"], "alice",
            "{}: {login}",
            app.setup
        );
        let token = login["data"]["login"]["token"]
            .as_str()
            .expect("token")
            .to_owned();

        let me = app
            .gql(Some(&token), "{ me { id username email createdAt accounts { id accountNumber type balance currency } } }", json!({}))
            .await;
        assert_eq!(me["data"]["me"]["username"], "alice", "{me}");
        assert_eq!(me["data"]["me"]["email"], "alice@example.com");
        assert_eq!(me["data"]["me"]["accounts"][0]["type"], "CHECKING");
        assert_eq!(me["data"]["me"]["accounts"][0]["balance"], "0.00");
        assert_eq!(me["data"]["me"]["accounts"][0]["currency"], "USD");

        app.deposit(&alice, "250.00").await;
        let transfer = "mutation($input: TransferInput!) { transfer(input: $input) { id fromAccountNumber toAccountNumber amount description createdAt } }";
        for i in 0..5 {
            let body = app
                .gql(
                    Some(&token),
                    transfer,
                    json!({ "input": {
                        "fromAccountId": alice.account_id,
                        "toAccountNumber": bob.account_number,
                        "amount": format!("{}.10", i + 1),
                        "description": format!("rent <{i}>"),
                        "idempotencyKey": format!("flow-{i}"),
                    }}),
                )
                .await;
            let t = &body["data"]["transfer"];
            assert_eq!(
                t["fromAccountNumber"],
                alice.account_number.as_str(),
                "{body}"
            );
            assert_eq!(t["toAccountNumber"], bob.account_number.as_str());
            assert_eq!(t["amount"], format!("{}.10", i + 1));
            assert_eq!(t["description"], format!("rent <{i}>"));
        }
        // 250.00 − (1.10 + 2.10 + 3.10 + 4.10 + 5.10) = 234.50
        assert_eq!(app.balances(&token).await, vec!["234.50"]);
        assert_eq!(app.balances(&bob.token).await, vec!["15.50"]);

        // History in pages of 2, newest first, through both entry points.
        let page_query = "query($id: ID!, $after: String) { transactions(accountId: $id, first: 2, after: $after) { edges { cursor node { amount fromAccountNumber } } pageInfo { hasNextPage endCursor } } }";
        let mut amounts = Vec::new();
        let mut after = serde_json::Value::Null;
        loop {
            let body = app
                .gql(
                    Some(&token),
                    page_query,
                    json!({ "id": alice.account_id, "after": after }),
                )
                .await;
            let connection = &body["data"]["transactions"];
            for edge in connection["edges"].as_array().expect("edges") {
                amounts.push(edge["node"]["amount"].as_str().expect("amount").to_owned());
            }
            if connection["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(
            amounts,
            vec!["5.10", "4.10", "3.10", "2.10", "1.10", "250.00"],
            "{}",
            app.setup
        );

        let nested = app
            .gql(Some(&token), "{ me { accounts { transactions(first: 1) { edges { node { amount fromAccountNumber } } pageInfo { hasNextPage } } } } }", json!({}))
            .await;
        let edge = &nested["data"]["me"]["accounts"][0]["transactions"]["edges"][0]["node"];
        assert_eq!(edge["amount"], "5.10", "{nested}");
        let deposit = app
            .gql(Some(&token), "query($id: ID!) { account(id: $id) { transactions(first: 10) { edges { node { amount fromAccountNumber } } } } }", json!({ "id": alice.account_id }))
            .await;
        let last = deposit["data"]["account"]["transactions"]["edges"]
            .as_array()
            .expect("edges")
            .last()
            .cloned()
            .expect("deposit");
        assert!(
            last["node"]["fromAccountNumber"].is_null(),
            "a deposit has no source: {last}"
        );

        // Logout ends the session: the same token is refused at once, for reads too.
        let out = app
            .gql(Some(&token), "mutation { logout }", json!({}))
            .await;
        assert_eq!(out["data"]["logout"], true, "{out}");
        let after_logout = app.gql(Some(&token), "{ me { id } }", json!({})).await;
        assert_eq!(
            error_code(&after_logout),
            Some("UNAUTHENTICATED"),
            "{after_logout}"
        );
        // Alice's sign-up session is another session and still works.
        assert_eq!(app.balances(&alice.token).await, vec!["234.50"]);
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
    }
}

#[tokio::test]
async fn refusals_carry_their_codes_and_change_nothing() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        app.deposit(&alice, "10.00").await;
        let transfer = "mutation($input: TransferInput!) { transfer(input: $input) { id } }";
        let cases = [
            (
                "20.00",
                bob.account_number.as_str(),
                alice.account_id.as_str(),
                "INSUFFICIENT_FUNDS",
            ),
            ("1.00", "0000000001", alice.account_id.as_str(), "NOT_FOUND"),
            (
                "1.00",
                alice.account_number.as_str(),
                alice.account_id.as_str(),
                "BAD_USER_INPUT",
            ),
            (
                "1.00",
                alice.account_number.as_str(),
                bob.account_id.as_str(),
                "NOT_FOUND",
            ),
            (
                "-1",
                bob.account_number.as_str(),
                alice.account_id.as_str(),
                "BAD_USER_INPUT",
            ),
            (
                "0",
                bob.account_number.as_str(),
                alice.account_id.as_str(),
                "BAD_USER_INPUT",
            ),
            (
                "1.001",
                bob.account_number.as_str(),
                alice.account_id.as_str(),
                "BAD_USER_INPUT",
            ),
            (
                "1e3",
                bob.account_number.as_str(),
                alice.account_id.as_str(),
                "BAD_USER_INPUT",
            ),
            (
                "99999999999999999999",
                bob.account_number.as_str(),
                alice.account_id.as_str(),
                "BAD_USER_INPUT",
            ),
            (
                "1.00",
                "not-a-number",
                alice.account_id.as_str(),
                "BAD_USER_INPUT",
            ),
            ("1.00", bob.account_number.as_str(), "abc", "BAD_USER_INPUT"),
        ];
        for (i, (amount, to, from, code)) in cases.iter().enumerate() {
            let body = app
                .gql(
                    Some(&alice.token),
                    transfer,
                    json!({ "input": { "fromAccountId": from, "toAccountNumber": to, "amount": amount, "idempotencyKey": format!("r-{i}") } }),
                )
                .await;
            assert_eq!(
                error_code(&body),
                Some(*code),
                "{} case {i}: {body}",
                app.setup
            );
            let message = body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            assert!(
                !message.contains("sql") && !message.contains("constraint"),
                "{message}"
            );
        }
        // A float amount (not a string) is refused too.
        let body = app
            .gql(Some(&alice.token), transfer, json!({ "input": { "fromAccountId": alice.account_id, "toAccountNumber": bob.account_number, "amount": 1.5, "idempotencyKey": "float" } }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(app.balances(&alice.token).await, vec!["10.00"]);
        assert_eq!(app.balances(&bob.token).await, vec!["0.00"]);

        // A taken username and bad sign-up fields.
        for (input, code) in [
            (
                json!({ "username": "alice", "password": "long enough pw", "email": "a@b.co" }),
                "CONFLICT",
            ),
            (
                json!({ "username": "x", "password": "long enough pw", "email": "a@b.co" }),
                "BAD_USER_INPUT",
            ),
            (
                json!({ "username": "newbie", "password": "short", "email": "a@b.co" }),
                "BAD_USER_INPUT",
            ),
            (
                json!({ "username": "newbie", "password": "long enough pw", "email": "nope" }),
                "BAD_USER_INPUT",
            ),
        ] {
            let body = app
                .gql(
                    None,
                    "mutation($input: SignupInput!) { signup(input: $input) { token } }",
                    json!({ "input": input }),
                )
                .await;
            assert_eq!(error_code(&body), Some(code), "{body}");
        }
        // Malformed documents are the client's fault, with a code.
        for query in ["{ me { id ", "{ nope }", "mutation { transfer }"] {
            let body = app.gql(Some(&alice.token), query, json!({})).await;
            assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{query}: {body}");
        }
        let wrong_type = app
            .gql(
                Some(&alice.token),
                "query($id: ID!) { account(id: $id) { id } }",
                json!({ "id": { "x": 1 } }),
            )
            .await;
        assert_eq!(
            error_code(&wrong_type),
            Some("BAD_USER_INPUT"),
            "{wrong_type}"
        );
    }
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let app = TestApp::spawn(testkit::Backend::Sqlite, crate::support::CacheKind::Memory).await;
    let page = app
        .client
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("body")
            .to_lowercase()
            .contains("graphiql")
    );
}
