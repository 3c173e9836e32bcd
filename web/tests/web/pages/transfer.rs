//! Transfers: review then confirm, once; each refusal beside its field.

use reqwest::StatusCode;

use crate::support::hidden;

use super::{ALICE_START, BOB_START, each_setup, transfer_form};

#[tokio::test]
async fn a_transfer_is_reviewed_then_confirmed_and_moves_money_once() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        let (csrf, key) = transfer_form(&app).await;
        let fields = [
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "12.34"),
            ("description", "Rent share"),
        ];
        let (status, at, body) = app.post("/transfer", &fields).await;
        assert_eq!(status, StatusCode::OK, "{}: review: {body}", app.setup);
        assert_eq!(at, "/transfer");
        assert!(body.contains("Check your transfer"), "{}", app.setup);
        assert!(body.contains("$12.34") && body.contains("Rent share"));
        assert_eq!(
            hidden(&body, "key").as_deref(),
            Some(key.as_str()),
            "the key travels on"
        );
        // Nothing has moved at review.
        assert_eq!(app.balances("alice").await[0], ALICE_START);

        let (status, _, body) = app.post("/transfer/confirm", &fields).await;
        assert_eq!(status, StatusCode::OK, "{}: confirm: {body}", app.setup);
        assert!(body.contains("Transfer complete"), "{}: {body}", app.setup);
        assert_eq!(app.balances("alice").await[0], "2487.66", "{}", app.setup);
        assert_eq!(app.balances("bob").await[0], "1212.84", "{}", app.setup);

        // The same confirm again (a double click, a browser retry), twice at once even:
        // the money moves once.
        let (first, second) = tokio::join!(
            app.post("/transfer/confirm", &fields),
            app.post("/transfer/confirm", &fields)
        );
        for (status, _, body) in [first, second] {
            assert_eq!(status, StatusCode::OK, "{}: retry: {body}", app.setup);
            assert!(body.contains("Transfer complete"), "{}", app.setup);
        }
        assert_eq!(app.balances("alice").await[0], "2487.66", "{}", app.setup);
        assert_eq!(app.balances("bob").await[0], "1212.84", "{}", app.setup);

        // Both dashboards show it, with its direction and counterparty.
        let (_, _, body) = app.get("/").await;
        assert!(
            body.contains("$2,487.66") && body.contains("Rent share"),
            "{}",
            app.setup
        );
        let bob_pretty = format!("{} {} {}", &bob[0].1[..4], &bob[0].1[4..7], &bob[0].1[7..]);
        assert!(
            body.contains(&bob_pretty),
            "{}: counterparty shown",
            app.setup
        );

        // A new form gets a new key: the same transfer made again is a second transfer.
        let (csrf, key2) = transfer_form(&app).await;
        assert_ne!(key, key2);
        let again = [
            ("csrf", csrf.as_str()),
            ("key", key2.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "12.34"),
            ("description", "Rent share"),
        ];
        let (status, _, _) = app.post("/transfer/confirm", &again).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.balances("alice").await[0], "2475.32", "{}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn each_refused_transfer_says_why_beside_the_field() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        app.sign_in("alice").await;
        let (csrf, key) = transfer_form(&app).await;
        let attempt = |to: String, amount: &'static str, step: &'static str| {
            let (csrf, key, from) = (csrf.clone(), key.clone(), alice[0].0.clone());
            let app = &app;
            async move {
                app.post(
                    step,
                    &[
                        ("csrf", &csrf),
                        ("key", &key),
                        ("from", &from),
                        ("to", &to),
                        ("amount", amount),
                        ("description", ""),
                    ],
                )
                .await
            }
        };
        let cases = [
            (
                "5555555555",
                "9999.00",
                "/transfer",
                "more than the money in this account",
            ),
            (
                "5555555555",
                "12.345",
                "/transfer",
                "no more than 2 decimal places",
            ),
            (
                "5555555555",
                "abc",
                "/transfer",
                "Enter an amount in numbers",
            ),
            ("5555555555", "0", "/transfer", "greater than 0"),
            ("5555555555", "", "/transfer", "Enter an amount"),
            ("12345", "1.00", "/transfer", "10 digits"),
            (
                alice[0].1.as_str(),
                "1.00",
                "/transfer",
                "money cannot go to the account it comes from",
            ),
            // Past the review, the api's own refusals.
            (
                "0000000001",
                "1.00",
                "/transfer/confirm",
                "There is no account with this number",
            ),
            (
                alice[0].1.as_str(),
                "1.00",
                "/transfer/confirm",
                "money cannot go to the account it comes from",
            ),
        ];
        for (to, amount, step, message) in cases {
            let (status, _, body) = attempt(to.to_string(), amount, step).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {to} {amount} {step}: {body}",
                app.setup
            );
            assert!(
                body.contains(message),
                "{}: {step} {amount} → {message}: {body}",
                app.setup
            );
            assert!(
                body.contains("There is a problem"),
                "{}: error summary",
                app.setup
            );
            assert!(
                body.contains("class=\"error-message\""),
                "{}: message beside the field",
                app.setup
            );
        }
        // The api's insufficient-funds refusal, with a target that exists.
        let bob = app.accounts("bob").await;
        let (status, _, body) = attempt(bob[0].1.clone(), "9999.00", "/transfer/confirm").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains("more than the money in this account"),
            "{body}"
        );
        assert_eq!(
            app.balances("alice").await[0],
            ALICE_START,
            "{}: nothing moved",
            app.setup
        );
        assert_eq!(
            app.balances("bob").await[0],
            BOB_START,
            "{}: nothing moved",
            app.setup
        );
        app.shutdown().await;
    })
    .await;
}
