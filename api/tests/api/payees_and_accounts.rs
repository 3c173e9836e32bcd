//! Saved payees and opening accounts over GraphQL: each operation, its limits and its
//! refusals, and that refusals change nothing.

use serde_json::{Value, json};

use crate::support::{Customer, TestApp, error_code, setups};

const ADD: &str = "mutation($input: AddPayeeInput!) { addPayee(input: $input) { id name accountNumber createdAt } }";
const REMOVE: &str = "mutation($id: ID!) { removePayee(id: $id) }";
const LIST: &str = "{ payees { id name accountNumber } me { payees { id } } }";
const OPEN: &str = "mutation($type: AccountType!) { openAccount(type: $type) { id accountNumber type balance currency } }";

async fn add(app: &TestApp, who: &Customer, name: &str, number: &str) -> Value {
    app.gql(
        Some(&who.token),
        ADD,
        json!({ "input": { "name": name, "accountNumber": number } }),
    )
    .await
}

async fn payees(app: &TestApp, who: &Customer) -> Vec<Value> {
    let body = app.gql(Some(&who.token), LIST, json!({})).await;
    let list = body["data"]["payees"].as_array().cloned().expect("payees");
    assert_eq!(
        body["data"]["me"]["payees"].as_array().map(Vec::len),
        Some(list.len()),
        "User.payees and Query.payees agree: {body}"
    );
    list
}

#[tokio::test]
async fn payees_are_added_listed_newest_first_and_removed() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;

        let first = add(&app, &alice, "  Bob Builder ", &bob.account_number).await;
        assert!(first["errors"].is_null(), "{first}");
        assert_eq!(first["data"]["addPayee"]["name"], "Bob Builder");
        assert_eq!(
            first["data"]["addPayee"]["accountNumber"],
            bob.account_number.as_str()
        );
        let spaced = format!(
            "{} {} {}",
            &alice.account_number[..4],
            &alice.account_number[4..7],
            &alice.account_number[7..]
        );
        let second = add(&app, &alice, "Me, savings", &spaced).await;
        assert!(second["errors"].is_null(), "{second}");
        let list = payees(&app, &alice).await;
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["name"], "Me, savings", "newest first");
        assert!(payees(&app, &bob).await.is_empty(), "{}", app.setup);

        // The same number again is a conflict, however it is written.
        let dashed = format!("{}-{}", &bob.account_number[..4], &bob.account_number[4..]);
        let again = add(&app, &alice, "Bob again", &dashed).await;
        assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");

        // Another customer's payee looks missing, and stays.
        let id = first["data"]["addPayee"]["id"].clone();
        let theirs = app.gql(Some(&bob.token), REMOVE, json!({ "id": id })).await;
        assert_eq!(error_code(&theirs), Some("NOT_FOUND"), "{theirs}");
        assert_eq!(payees(&app, &alice).await.len(), 2);

        let removed = app
            .gql(Some(&alice.token), REMOVE, json!({ "id": id }))
            .await;
        assert_eq!(removed["data"]["removePayee"], true, "{removed}");
        let gone = app
            .gql(Some(&alice.token), REMOVE, json!({ "id": id }))
            .await;
        assert_eq!(error_code(&gone), Some("NOT_FOUND"), "{gone}");
        assert_eq!(payees(&app, &alice).await.len(), 1);
        for bad_id in ["0", "-1", "abc", "99999999999999999999"] {
            let body = app
                .gql(Some(&alice.token), REMOVE, json!({ "id": bad_id }))
                .await;
            assert_eq!(
                error_code(&body),
                Some("BAD_USER_INPUT"),
                "{bad_id}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn payee_names_and_numbers_are_checked_and_fifty_is_the_most() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        for (name, number) in [
            ("", "1234567890"),
            ("   ", "1234567890"),
            (&"n".repeat(61)[..], "1234567890"),
            ("Bob\u{202e}gnp", "1234567890"),
            ("Bob\nSmith", "1234567890"),
            ("Bob", "123456789"),
            ("Bob", "12345678901"),
            ("Bob", "12345abcde"),
            ("Bob", ""),
        ] {
            let body = add(&app, &alice, name, number).await;
            assert_eq!(
                error_code(&body),
                Some("BAD_USER_INPUT"),
                "{name:?} {number:?}: {body}"
            );
        }
        let sixty = "ñ".repeat(60);
        let body = add(&app, &alice, &sixty, "1000000000").await;
        assert!(
            body["errors"].is_null(),
            "60 characters are allowed: {body}"
        );
        for i in 1..50 {
            let body = add(
                &app,
                &alice,
                &format!("Payee {i}"),
                &format!("{}", 1_000_000_000 + i),
            )
            .await;
            assert!(body["errors"].is_null(), "payee {i}: {body}");
        }
        let fifty_first = add(&app, &alice, "One too many", "2000000000").await;
        assert_eq!(
            error_code(&fifty_first),
            Some("BAD_USER_INPUT"),
            "{fifty_first}"
        );
        assert_eq!(payees(&app, &alice).await.len(), 50);
        // Without a session nothing is saved; a read-only token may list but not add.
        let anonymous = app
            .gql(
                None,
                ADD,
                json!({ "input": { "name": "x", "accountNumber": "3000000000" } }),
            )
            .await;
        assert_eq!(
            error_code(&anonymous),
            Some("UNAUTHENTICATED"),
            "{anonymous}"
        );
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
    }
}

#[tokio::test]
async fn a_read_only_token_lists_payees_but_cannot_change_them() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let body = app
            .gql(
                Some(&alice.token),
                "mutation { createReadOnlyToken(ttlSeconds: 600) }",
                json!({}),
            )
            .await;
        let read_only = body["data"]["createReadOnlyToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned();
        let viewer = Customer {
            token: read_only,
            ..alice.clone()
        };
        assert!(payees(&app, &viewer).await.is_empty());
        let body = add(&app, &viewer, "Bob", "1234567890").await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        let body = app
            .gql(Some(&viewer.token), OPEN, json!({ "type": "SAVINGS" }))
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    }
}

#[tokio::test]
async fn customers_open_up_to_five_accounts_and_move_money_between_them() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        app.deposit(&alice, "100.00").await;
        // Read once, so a cached list would be the stale one.
        assert_eq!(app.balances(&alice.token).await, vec!["100.00"]);

        let opened = app
            .gql(Some(&alice.token), OPEN, json!({ "type": "SAVINGS" }))
            .await;
        let savings = &opened["data"]["openAccount"];
        assert_eq!(savings["type"], "SAVINGS", "{opened}");
        assert_eq!(savings["balance"], "0.00");
        assert_eq!(savings["currency"], "USD");
        let number = savings["accountNumber"].as_str().expect("number");
        assert!(number.len() == 10 && number != alice.account_number);
        assert_eq!(
            app.balances(&alice.token).await,
            vec!["100.00", "0.00"],
            "{}: the new account shows at once",
            app.setup
        );

        let moved = app
            .gql(
                Some(&alice.token),
                "mutation($input: TransferInput!) { transfer(input: $input) { amount } }",
                json!({ "input": { "fromAccountId": alice.account_id, "toAccountNumber": number, "amount": "40.00", "idempotencyKey": "own-1" } }),
            )
            .await;
        assert!(moved["errors"].is_null(), "{moved}");
        assert_eq!(app.balances(&alice.token).await, vec!["60.00", "40.00"]);

        for _ in 0..3 {
            let body = app
                .gql(Some(&alice.token), OPEN, json!({ "type": "CHECKING" }))
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
        let sixth = app
            .gql(Some(&alice.token), OPEN, json!({ "type": "CHECKING" }))
            .await;
        assert_eq!(error_code(&sixth), Some("BAD_USER_INPUT"), "{sixth}");
        assert_eq!(app.balances(&alice.token).await.len(), 5);
        let bad = app
            .gql(Some(&alice.token), OPEN, json!({ "type": "GOLD" }))
            .await;
        assert!(bad["errors"].is_array() && bad["data"].is_null(), "{bad}");
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
    }
}

#[tokio::test]
async fn five_accounts_hold_when_many_are_opened_at_once() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let attempts = (0..12).map(|_| {
            let app = &app;
            let token = alice.token.clone();
            async move {
                app.gql(Some(&token), OPEN, json!({ "type": "SAVINGS" }))
                    .await
            }
        });
        let results = futures::future::join_all(attempts).await;
        let opened = results.iter().filter(|r| r["errors"].is_null()).count();
        assert_eq!(opened, 4, "{}: four more beside the first", app.setup);
        assert_eq!(app.balances(&alice.token).await.len(), 5);
        testkit::assert_ledger_sound(&app.state.services.ledger).await;
    }
}
