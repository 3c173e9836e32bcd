//! The pages over HTTP, against the real all-in-one (SQLite + in-process cache, and
//! PostgreSQL + Redis when they are there), one module per area.
#![cfg(feature = "embedded")]

mod accounts;
mod api_messages;
mod csrf;
mod open_account;
mod payees;
mod security;
mod sessions;
mod sign_in;
mod spanish;
mod split_mode;
mod statement;
mod transfer;

use reqwest::StatusCode;

use crate::support::{TestWeb, hidden, setups};

/// Alice starts with 2500.00 in checking, Bob with 1200.50 (the demo seed).
const ALICE_START: &str = "2500.00";
const BOB_START: &str = "1200.50";

async fn each_setup<F, Fut>(test: F)
where
    F: Fn(TestWeb) -> Fut,
    Fut: Future<Output = ()>,
{
    for (backend, redis) in setups() {
        let app = TestWeb::spawn(backend, redis).await;
        test(app).await;
    }
}

/// A transfer form's fields, with the key the form was given.
async fn transfer_form(app: &TestWeb) -> (String, String) {
    let (status, _, body) = app.get("/transfer").await;
    assert_eq!(status, StatusCode::OK, "{}: {body}", app.setup);
    let csrf = hidden(&body, "csrf").expect("csrf");
    let key = hidden(&body, "key").expect("idempotency key");
    (csrf, key)
}

/// A transfer through the form, review then confirm: the done page.
async fn pay(app: &TestWeb, from: &str, to: &str, payee: &str, amount: &str) -> String {
    let (csrf, key) = transfer_form(app).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("from", from),
        ("to", to),
        ("payee", payee),
        ("amount", amount),
        ("description", ""),
    ];
    let (status, _, review) = app.post("/transfer", &fields).await;
    assert_eq!(status, StatusCode::OK, "{}: review: {review}", app.setup);
    let (status, _, done) = app.post("/transfer/confirm", &fields).await;
    assert_eq!(status, StatusCode::OK, "{}: confirm: {done}", app.setup);
    assert!(done.contains("Transfer complete"), "{}: {done}", app.setup);
    done
}

/// `1234 567 890`, as the pages show an account number.
fn spaced(number: &str) -> String {
    format!("{} {} {}", &number[..4], &number[4..7], &number[7..])
}
