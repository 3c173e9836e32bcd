//! The error contract a client codes against: `extensions.code`, and `extensions.field`
//! naming the input (as the schema names it) when a refusal concerns one. Wrong
//! credentials have a code of their own. Messages are for humans and are not checked here.

use serde_json::{Value, json};

use crate::support::{Customer, TestApp, error_code, setups};

const TRANSFER: &str = "mutation($input: TransferInput!) { transfer(input: $input) { id } }";
const DEPOSIT: &str = "mutation($input: DepositInput!) { deposit(input: $input) { id } }";
const SIGNUP: &str = "mutation($input: SignupInput!) { signup(input: $input) { token } }";
const ADD_PAYEE: &str = "mutation($input: AddPayeeInput!) { addPayee(input: $input) { id } }";

fn field(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["field"].as_str()
}

/// The code and field of the first error.
fn refusal(body: &Value) -> (Option<&str>, Option<&str>) {
    (error_code(body), field(body))
}

fn transfer_input(from: &Customer, to_number: &str, amount: Value, key: &str) -> Value {
    json!({ "input": {
        "fromAccountId": from.account_id,
        "toAccountNumber": to_number,
        "amount": amount,
        "idempotencyKey": key,
    } })
}

#[tokio::test]
async fn each_refused_transfer_input_is_named() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        app.deposit(&alice, "10.00").await;
        let setup = app.setup.clone();
        let transfer = |input: Value| {
            let token = alice.token.clone();
            let app = &app;
            async move { app.gql(Some(&token), TRANSFER, input).await }
        };

        let cases: Vec<(&str, Value, (&str, &str))> = vec![
            (
                "amount not a decimal",
                transfer_input(&alice, &bob.account_number, json!("12,50"), "k1"),
                ("BAD_USER_INPUT", "amount"),
            ),
            (
                "amount a JSON number",
                transfer_input(&alice, &bob.account_number, json!(12.5), "k2"),
                ("BAD_USER_INPUT", "amount"),
            ),
            (
                "amount zero",
                transfer_input(&alice, &bob.account_number, json!("0"), "k3"),
                ("BAD_USER_INPUT", "amount"),
            ),
            (
                "more than the balance",
                transfer_input(&alice, &bob.account_number, json!("10.01"), "k4"),
                ("INSUFFICIENT_FUNDS", "amount"),
            ),
            (
                "target number malformed",
                transfer_input(&alice, "12345", json!("1.00"), "k5"),
                ("BAD_USER_INPUT", "toAccountNumber"),
            ),
            (
                "target missing",
                transfer_input(&alice, "0000000001", json!("1.00"), "k6"),
                ("NOT_FOUND", "toAccountNumber"),
            ),
            (
                "to the same account",
                transfer_input(&alice, &alice.account_number, json!("1.00"), "k7"),
                ("BAD_USER_INPUT", "toAccountNumber"),
            ),
            (
                "idempotency key empty",
                transfer_input(&alice, &bob.account_number, json!("1.00"), ""),
                ("BAD_USER_INPUT", "idempotencyKey"),
            ),
        ];
        for (what, input, (code, name)) in cases {
            let body = transfer(input).await;
            assert_eq!(
                refusal(&body),
                (Some(code), Some(name)),
                "{setup}: {what}: {body}"
            );
        }

        // Someone else's account as the source looks missing, and is named.
        let mut theirs = transfer_input(&alice, &bob.account_number, json!("1.00"), "k8");
        theirs["input"]["fromAccountId"] = json!(bob.account_id);
        let body = transfer(theirs).await;
        assert_eq!(
            refusal(&body),
            (Some("NOT_FOUND"), Some("fromAccountId")),
            "{setup}: {body}"
        );
        let mut bad_id = transfer_input(&alice, &bob.account_number, json!("1.00"), "k9");
        bad_id["input"]["fromAccountId"] = json!("abc");
        let body = transfer(bad_id).await;
        assert_eq!(
            refusal(&body),
            (Some("BAD_USER_INPUT"), Some("fromAccountId")),
            "{setup}: {body}"
        );
        let mut long = transfer_input(&alice, &bob.account_number, json!("1.00"), "k10");
        long["input"]["description"] = json!("x".repeat(141));
        let body = transfer(long).await;
        assert_eq!(
            refusal(&body),
            (Some("BAD_USER_INPUT"), Some("description")),
            "{setup}: {body}"
        );

        // A key reused for another operation.
        let ok = transfer(transfer_input(
            &alice,
            &bob.account_number,
            json!("1.00"),
            "same",
        ))
        .await;
        assert!(ok["errors"].is_null(), "{setup}: {ok}");
        let reused = transfer(transfer_input(
            &alice,
            &bob.account_number,
            json!("2.00"),
            "same",
        ))
        .await;
        assert_eq!(
            refusal(&reused),
            (Some("CONFLICT"), Some("idempotencyKey")),
            "{setup}: {reused}"
        );

        // Nothing but the one good transfer moved.
        assert_eq!(app.balances(&alice.token).await, vec!["9.00"], "{setup}");
        assert_eq!(app.balances(&bob.token).await, vec!["1.00"], "{setup}");
    }
}

#[tokio::test]
async fn sign_up_sign_in_deposit_and_payee_refusals_are_named() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let setup = app.setup.clone();
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;

        let signup = |username: &str, password: &str, email: &str| json!({ "input": { "username": username, "password": password, "email": email } });
        for (input, expected) in [
            (
                signup("a", "correct horse battery", "a@example.com"),
                ("BAD_USER_INPUT", "username"),
            ),
            (
                signup("carol", "short", "c@example.com"),
                ("BAD_USER_INPUT", "password"),
            ),
            (
                signup("carol", "correct horse battery", "not-an-address"),
                ("BAD_USER_INPUT", "email"),
            ),
            (
                signup("alice", "correct horse battery", "a2@example.com"),
                ("CONFLICT", "username"),
            ),
        ] {
            let body = app.gql(None, SIGNUP, input.clone()).await;
            assert_eq!(
                refusal(&body),
                (Some(expected.0), Some(expected.1)),
                "{setup}: {input}: {body}"
            );
        }

        // Wrong credentials: a code of their own, no field (which of the two was wrong
        // is not said), and not the code of an ended session.
        let login =
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
        for (user, password) in [("alice", "wrong password"), ("nobody", "wrong password")] {
            let body = app
                .gql(None, login, json!({ "u": user, "p": password }))
                .await;
            assert_eq!(
                refusal(&body),
                (Some("INVALID_CREDENTIALS"), None),
                "{setup}: {body}"
            );
        }
        app.gql(Some(&alice.token), "mutation { logout }", json!({}))
            .await;
        let ended = app
            .gql(Some(&alice.token), "{ me { id } }", json!({}))
            .await;
        assert_eq!(refusal(&ended), (Some("UNAUTHENTICATED"), None), "{setup}");

        // Bob's deposits: a bad amount, Alice's account (which he cannot see), a bad id.
        for (input, expected) in [
            (
                json!({ "accountId": bob.account_id, "amount": "1.005", "idempotencyKey": "d1" }),
                ("BAD_USER_INPUT", "amount"),
            ),
            (
                json!({ "accountId": alice.account_id, "amount": "1.00", "idempotencyKey": "d2" }),
                ("NOT_FOUND", "accountId"),
            ),
            (
                json!({ "accountId": "x", "amount": "1.00", "idempotencyKey": "d3" }),
                ("BAD_USER_INPUT", "accountId"),
            ),
        ] {
            let body = app
                .gql(Some(&bob.token), DEPOSIT, json!({ "input": input }))
                .await;
            assert_eq!(
                refusal(&body),
                (Some(expected.0), Some(expected.1)),
                "{setup}: {body}"
            );
        }

        let add = |name: &str, number: &str| json!({ "input": { "name": name, "accountNumber": number } });
        for (input, expected) in [
            (add("", &alice.account_number), ("BAD_USER_INPUT", "name")),
            (add("Alice", "12"), ("BAD_USER_INPUT", "accountNumber")),
        ] {
            let body = app.gql(Some(&bob.token), ADD_PAYEE, input).await;
            assert_eq!(
                refusal(&body),
                (Some(expected.0), Some(expected.1)),
                "{setup}: {body}"
            );
        }
        let saved = app
            .gql(
                Some(&bob.token),
                ADD_PAYEE,
                add("Alice", &alice.account_number),
            )
            .await;
        assert!(saved["errors"].is_null(), "{setup}: {saved}");
        let again = app
            .gql(
                Some(&bob.token),
                ADD_PAYEE,
                add("Alice again", &alice.account_number),
            )
            .await;
        assert_eq!(
            refusal(&again),
            (Some("CONFLICT"), Some("accountNumber")),
            "{setup}: {again}"
        );
        let history = app
            .gql(
                Some(&bob.token),
                "query($a: ID!) { transactions(accountId: $a, first: 0) { nodes { id } } }",
                json!({ "a": bob.account_id }),
            )
            .await;
        assert_eq!(
            refusal(&history),
            (Some("BAD_USER_INPUT"), Some("first")),
            "{setup}: {history}"
        );
        let cursor = app
            .gql(
                Some(&bob.token),
                "query($a: ID!) { transactions(accountId: $a, after: \"nope\") { nodes { id } } }",
                json!({ "a": bob.account_id }),
            )
            .await;
        assert_eq!(
            refusal(&cursor),
            (Some("BAD_USER_INPUT"), Some("after")),
            "{setup}: {cursor}"
        );
    }
}

#[tokio::test]
async fn rest_errors_carry_the_code_and_the_field() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let setup = app.setup.clone();
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;

        let bad_login = app
            .client
            .post(format!("{}/api/auth/login", app.base))
            .json(&json!({ "username": "alice", "password": "wrong password" }))
            .send()
            .await
            .expect("login");
        assert_eq!(bad_login.status(), 401, "{setup}");
        let body: Value = bad_login.json().await.expect("json");
        assert_eq!(body["code"], "INVALID_CREDENTIALS", "{setup}: {body}");
        assert!(body.get("field").is_none(), "{setup}: {body}");

        let transfer = app
            .client
            .post(format!("{}/api/transactions", app.base))
            .bearer_auth(&alice.token)
            .json(&json!({ "from_account": alice.account_id.parse::<i64>().unwrap(), "to_account": bob.account_id.parse::<i64>().unwrap(), "amount": 5 }))
            .send()
            .await
            .expect("transfer");
        assert_eq!(transfer.status(), 422, "{setup}");
        let body: Value = transfer.json().await.expect("json");
        assert_eq!(
            (body["code"].as_str(), body["field"].as_str()),
            (Some("BAD_USER_INPUT"), Some("amount")),
            "{setup}: {body}"
        );

        let statement = app
            .client
            .get(format!(
                "{}/api/accounts/{}/statement.csv?from=2026-13-01",
                app.base, alice.account_id
            ))
            .bearer_auth(&alice.token)
            .send()
            .await
            .expect("statement");
        assert_eq!(statement.status(), 422, "{setup}");
        let body: Value = statement.json().await.expect("json");
        assert_eq!(
            (body["code"].as_str(), body["field"].as_str()),
            (Some("BAD_USER_INPUT"), Some("from")),
            "{setup}: {body}"
        );
        let statement = app
            .client
            .get(format!(
                "{}/api/accounts/{}/statement.csv?from=2026-11-02&to=2026-11-01",
                app.base, alice.account_id
            ))
            .bearer_auth(&alice.token)
            .send()
            .await
            .expect("statement");
        let body: Value = statement.json().await.expect("json");
        assert_eq!(body["field"], "from", "{setup}: {body}");
    }
}
