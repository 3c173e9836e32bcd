//! Payees: listed, added and removed over the forms; refusals beside their fields; paid
//! from the transfer form; saved from the transfer's done page; another customer's never
//! reachable.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestWeb, hidden};

use super::{ALICE_START, each_setup, pay, spaced};

/// The user's payees as the api lists them: (id, name, number), newest first.
async fn payees(app: &TestWeb, username: &str) -> Vec<(String, String, String)> {
    let token = app.api_token(username).await;
    let body = app
        .gql(
            Some(&token),
            "{ payees { id name accountNumber } }",
            json!({}),
        )
        .await;
    body["data"]["payees"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: payees failed: {body}", app.setup))
        .iter()
        .map(|p| {
            let text = |k: &str| p[k].as_str().expect("a string").to_owned();
            (text("id"), text("name"), text("accountNumber"))
        })
        .collect()
}

async fn add_over_api(app: &TestWeb, token: &str, name: &str, number: &str) -> Value {
    app.gql(
        Some(token),
        "mutation($input: AddPayeeInput!) { addPayee(input: $input) { id } }",
        json!({ "input": { "name": name, "accountNumber": number } }),
    )
    .await
}

#[tokio::test]
async fn payees_are_added_listed_and_removed_only_with_the_csrf_token() {
    each_setup(|app| async move {
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        let (status, _, body) = app.get("/payees").await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.setup);
        assert!(body.contains("<h1 class=\"heading-l\">Payees</h1>"));
        assert!(
            body.contains("You have no saved payees yet"),
            "{}",
            app.setup
        );
        assert!(body.contains("href=\"/payees\" aria-current=\"page\""));
        let csrf = hidden(&body, "csrf").expect("csrf");

        // Without the token nothing is saved.
        let bob_typed = spaced(&bob[0].1);
        let (status, _, body) = app
            .post(
                "/payees",
                &[("name", "Bob Builder"), ("account_number", &bob_typed)],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}: {body}", app.setup);
        assert!(payees(&app, "alice").await.is_empty(), "{}", app.setup);

        let (status, at, body) = app
            .post(
                "/payees",
                &[
                    ("csrf", &csrf),
                    ("name", "  Bob Builder "),
                    ("account_number", &bob_typed),
                    ("return", "/payees"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.setup);
        assert_eq!(at, "/payees");
        assert!(body.contains("Payee saved."), "{}: {body}", app.setup);
        assert!(body.contains("Bob Builder") && body.contains(&bob_typed));
        let saved = payees(&app, "alice").await;
        assert_eq!(saved.len(), 1, "{}", app.setup);
        assert_eq!(
            (saved[0].1.as_str(), saved[0].2.as_str()),
            ("Bob Builder", bob[0].1.as_str())
        );
        let id = saved[0].0.clone();
        assert!(body.contains(&format!("action=\"/payees/{id}/remove\"")));

        // Removing: refused without the token, done with it.
        let remove = format!("/payees/{id}/remove");
        let (status, _, _) = app.post(&remove, &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", app.setup);
        assert_eq!(payees(&app, "alice").await.len(), 1, "{}", app.setup);
        let (status, at, body) = app.post(&remove, &[("csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.setup);
        assert_eq!(at, "/payees");
        assert!(body.contains("Payee removed.") && !body.contains("Bob Builder"));
        assert!(payees(&app, "alice").await.is_empty(), "{}", app.setup);
        // Gone is gone: removing it again is no page.
        let (status, _, body) = app.post(&remove, &[("csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn refused_payees_are_explained_beside_their_fields() {
    each_setup(|app| async move {
        let bob = app.accounts("bob").await;
        let token = app.api_token("alice").await;
        let first = add_over_api(&app, &token, "Bob", &bob[0].1).await;
        assert!(first["errors"].is_null(), "{first}");
        app.sign_in("alice").await;
        let csrf = app.csrf("/payees").await;
        let long = "n".repeat(61);
        for (name, number, field, message) in [
            (
                "Bob again",
                bob[0].1.as_str(),
                "account_number",
                "You have already saved a payee with this account number",
            ),
            ("Someone", "12345", "account_number", "10 digits"),
            (
                "Someone",
                "",
                "account_number",
                "Enter the payee's account number",
            ),
            (
                long.as_str(),
                "5555555555",
                "name",
                "Payee name must be 60 characters or fewer",
            ),
            ("   ", "5555555555", "name", "Enter the payee's name"),
            (
                "Evil\u{202e}gnp",
                "5555555555",
                "name",
                "control characters",
            ),
        ] {
            let (status, _, body) = app
                .post(
                    "/payees",
                    &[
                        ("csrf", &csrf),
                        ("name", name),
                        ("account_number", number),
                        ("return", "/payees"),
                    ],
                )
                .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {name:?} {number:?}: {body}",
                app.setup
            );
            assert!(body.contains("<title>Error: Payees"), "{}", app.setup);
            assert!(
                body.contains("There is a problem"),
                "{}: summary",
                app.setup
            );
            // Apostrophes come back escaped, whichever way askama writes them.
            let body = body.replace("&#x27;", "'").replace("&#39;", "'");
            let linked = body
                .split(&format!("<li><a href=\"#{field}\">"))
                .nth(1)
                .and_then(|rest| rest.split("</a>").next())
                .unwrap_or_else(|| panic!("{}: the summary links to {field}: {body}", app.setup));
            assert!(linked.contains(message), "{}: {field}: {linked}", app.setup);
            let beside = body
                .split(&format!("id=\"{field}-error\""))
                .nth(1)
                .unwrap_or_else(|| panic!("{}: no message beside {field}: {body}", app.setup));
            let beside = &beside[..beside.find("</p>").expect("end of the message")];
            assert!(beside.contains(message), "{}: {field}: {beside}", app.setup);
        }
        assert_eq!(payees(&app, "alice").await.len(), 1, "{}", app.setup);

        // The 51st: 49 more over the api, then the form.
        for i in 0..49 {
            let body = add_over_api(
                &app,
                &token,
                &format!("Payee {i}"),
                &format!("70000000{i:02}"),
            )
            .await;
            assert!(body["errors"].is_null(), "{}: {body}", app.setup);
        }
        let (status, _, body) = app
            .post(
                "/payees",
                &[
                    ("csrf", &csrf),
                    ("name", "One too many"),
                    ("account_number", "7100000000"),
                    ("return", "/payees"),
                ],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {body}",
            app.setup
        );
        assert!(
            body.contains("You have 50 saved payees, the most you can have"),
            "{}: {body}",
            app.setup
        );
        assert!(body.contains("id=\"name-error\""), "{}", app.setup);
        assert!(
            body.contains("value=\"One too many\"") && body.contains("value=\"7100000000\""),
            "{}: the form comes back filled in",
            app.setup
        );
        assert_eq!(payees(&app, "alice").await.len(), 50, "{}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn another_customers_payee_cannot_be_removed() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob_token = app.api_token("bob").await;
        let added = add_over_api(&app, &bob_token, "Alice", &alice[0].1).await;
        let bobs = added["data"]["addPayee"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{added}"))
            .to_owned();
        app.sign_in("alice").await;
        let csrf = app.csrf("/payees").await;
        for path in [
            format!("/payees/{bobs}/remove"),
            "/payees/999999/remove".to_owned(),
            "/payees/abc/remove".to_owned(),
            "/payees/-1/remove".to_owned(),
        ] {
            let (status, _, body) = app.post(&path, &[("csrf", &csrf)]).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{}: {path}: {body}",
                app.setup
            );
            assert!(body.contains("Page not found"), "{}: {path}", app.setup);
        }
        assert_eq!(
            payees(&app, "bob").await.len(),
            1,
            "{}: Bob's payee stays",
            app.setup
        );
        // Alice's list shows nothing of Bob's.
        let (_, _, body) = app.get("/payees").await;
        assert!(!body.contains(&spaced(&alice[0].1)), "{}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_saved_payee_is_paid_from_the_transfer_form() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        let carol = app.accounts("carol").await;
        let token = app.api_token("alice").await;
        let added = add_over_api(&app, &token, "Bob the plumber", &bob[0].1).await;
        assert!(added["errors"].is_null(), "{added}");
        app.sign_in("alice").await;

        let (status, _, form) = app.get("/transfer").await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("<legend class=\"fieldset__legend\">Saved payees</legend>"));
        assert!(
            form.contains(&format!(
                "name=\"payee\" type=\"radio\" value=\"{}\"",
                bob[0].1
            )),
            "{}: {form}",
            app.setup
        );
        assert!(form.contains("Bob the plumber"));

        // The payee chosen, no number typed: review names them; confirm pays them.
        let (csrf, key) = super::transfer_form(&app).await;
        let fields = [
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", ""),
            ("payee", bob[0].1.as_str()),
            ("amount", "20.00"),
            ("description", "Pipes"),
        ];
        let (status, _, review) = app.post("/transfer", &fields).await;
        assert_eq!(status, StatusCode::OK, "{}: {review}", app.setup);
        assert!(
            review.contains("<span id=\"review-payee\">Bob the plumber</span>"),
            "{}: {review}",
            app.setup
        );
        assert_eq!(hidden(&review, "payee").as_deref(), Some(bob[0].1.as_str()));
        let (status, _, done) = app.post("/transfer/confirm", &fields).await;
        assert_eq!(status, StatusCode::OK, "{}: {done}", app.setup);
        assert!(done.contains("Transfer complete"));
        assert!(
            !done.contains("Save this payee"),
            "{}: a saved payee is not offered again",
            app.setup
        );
        assert_eq!(app.balances("alice").await[0], "2480.00", "{}", app.setup);
        assert_eq!(app.balances("bob").await[0], "1220.50", "{}", app.setup);

        // A typed number wins over the chosen payee.
        let done = pay(&app, &alice[0].0, &carol[0].1, &bob[0].1, "1.00").await;
        assert!(done.contains(&spaced(&carol[0].1)), "{}: {done}", app.setup);
        assert_eq!(app.balances("bob").await[0], "1220.50", "{}", app.setup);
        // Neither: the number is asked for.
        let (csrf, key) = super::transfer_form(&app).await;
        let (status, _, body) = app
            .post(
                "/transfer",
                &[
                    ("csrf", csrf.as_str()),
                    ("key", key.as_str()),
                    ("from", alice[0].0.as_str()),
                    ("amount", "1.00"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("Enter the account number to send money to"));
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_payee_is_saved_from_the_transfer_done_page() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        let done = pay(&app, &alice[0].0, &bob[0].1, "", "5.00").await;
        assert!(done.contains("Save this payee"), "{}: {done}", app.setup);
        assert_eq!(
            hidden(&done, "account_number").as_deref(),
            Some(bob[0].1.as_str())
        );
        assert_eq!(hidden(&done, "return").as_deref(), Some("/transfer"));
        let csrf = hidden(&done, "csrf").expect("csrf");

        let (status, at, body) = app
            .post(
                "/payees",
                &[
                    ("csrf", &csrf),
                    ("return", "/transfer"),
                    ("account_number", &bob[0].1),
                    ("name", "Bob"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", app.setup);
        assert_eq!(at, "/transfer", "{}", app.setup);
        assert!(body.contains("Payee saved."), "{}: {body}", app.setup);
        assert!(body.contains(&format!("value=\"{}\"", bob[0].1)));
        assert_eq!(payees(&app, "alice").await.len(), 1, "{}", app.setup);

        // Paying them again: no offer to save them twice.
        let done = pay(&app, &alice[0].0, &bob[0].1, "", "1.00").await;
        assert!(!done.contains("Save this payee"), "{}", app.setup);
        // Nor for one's own accounts.
        let opened = app
            .gql(
                Some(&app.api_token("alice").await),
                "mutation { openAccount(type: SAVINGS) { accountNumber } }",
                json!({}),
            )
            .await;
        let own = opened["data"]["openAccount"]["accountNumber"]
            .as_str()
            .unwrap_or_else(|| panic!("{opened}"))
            .to_owned();
        let done = pay(&app, &alice[0].0, &own, "", "1.00").await;
        assert!(!done.contains("Save this payee"), "{}", app.setup);

        // `return` is only ever one of the two pages: anything else goes to the list.
        for evil in ["https://evil.example/", "//evil.example", "/logout"] {
            let (status, at, _) = app
                .post(
                    "/payees",
                    &[
                        ("csrf", &csrf),
                        ("return", evil),
                        ("account_number", "5555555555"),
                        ("name", "Evil"),
                    ],
                )
                .await;
            assert_eq!((status, at.as_str()), (StatusCode::OK, "/payees"), "{evil}");
            let id = payees(&app, "alice").await[0].0.clone();
            let (status, _, _) = app
                .post(&format!("/payees/{id}/remove"), &[("csrf", &csrf)])
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        assert_eq!(
            app.balances("alice").await[0],
            "2493.00",
            "{} (from {ALICE_START})",
            app.setup
        );
        app.shutdown().await;
    })
    .await;
}
