//! Opening another account: from the dashboard's link, empty with a fresh number, money
//! moved into it by an ordinary transfer; at most five each.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::hidden;

use super::{ALICE_START, each_setup, pay, spaced};

#[tokio::test]
async fn a_savings_account_is_opened_and_money_moved_into_it() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        app.sign_in("alice").await;
        let (_, _, dashboard) = app.get("/").await;
        assert!(
            dashboard.contains("href=\"/accounts/open\" id=\"open-account\">Open an account</a>"),
            "{}: {dashboard}",
            app.setup
        );
        let (status, _, form) = app.get("/accounts/open").await;
        assert_eq!(status, StatusCode::OK, "{}: {form}", app.setup);
        assert!(form.contains("What type of account do you want to open?"));
        // The demo seed gives each customer a checking and a savings account.
        assert_eq!(alice.len(), 2, "{}", app.setup);
        assert!(
            form.contains("You have 2 accounts. You can have up to 5."),
            "{form}"
        );
        let csrf = hidden(&form, "csrf").expect("csrf");

        // Without the token nothing opens.
        let (status, _, _) = app.post("/accounts/open", &[("type", "savings")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", app.setup);
        assert_eq!(app.accounts("alice").await.len(), 2, "{}", app.setup);

        let (status, _, done) = app
            .post("/accounts/open", &[("csrf", &csrf), ("type", "savings")])
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {done}", app.setup);
        assert!(
            done.contains("Savings account opened"),
            "{}: {done}",
            app.setup
        );
        assert!(
            done.contains("<dd class=\"summary-list__value\" id=\"opened-balance\">$0.00</dd>")
        );
        let accounts = app.accounts("alice").await;
        assert_eq!(accounts.len(), 3, "{}", app.setup);
        let (savings_id, savings, balance) = accounts[2].clone();
        assert_eq!(balance, "0.00");
        assert!(
            alice.iter().all(|(_, number, _)| *number != savings),
            "a fresh number"
        );
        assert!(done.contains(&spaced(&savings)), "{}", app.setup);
        assert!(
            done.contains(&format!("href=\"/transfer?to={savings}\"")),
            "{}: the way to move money in",
            app.setup
        );
        // The transfer form it links to has the number filled in.
        let (_, _, form) = app.get(&format!("/transfer?to={savings}")).await;
        assert!(
            form.contains(&format!("value=\"{savings}\"")),
            "{}",
            app.setup
        );

        // Moving money between one's own accounts is an ordinary transfer.
        let done = pay(&app, &alice[0].0, &savings, "", "100.00").await;
        assert!(
            !done.contains("Save this payee"),
            "{}: own account",
            app.setup
        );
        assert_eq!(
            app.balances("alice").await,
            vec!["2400.00".to_owned(), "0.00".to_owned(), "100.00".to_owned()],
            "{} (from {ALICE_START})",
            app.setup
        );
        let (_, _, dashboard) = app.get("/").await;
        assert!(dashboard.contains("Savings account") && dashboard.contains("$100.00"));
        assert!(
            dashboard.contains("$2,500.00"),
            "{}: the total is the same",
            app.setup
        );
        let (status, _, page) = app.get(&format!("/accounts/{savings_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<h1 class=\"heading-l\">Savings account</h1>"));
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_sixth_account_is_refused_with_a_message() {
    each_setup(|app| async move {
        let token = app.api_token("alice").await;
        // The seed's two, and three more.
        for _ in 0..3 {
            let body = app
                .gql(
                    Some(&token),
                    "mutation { openAccount(type: CHECKING) { id } }",
                    json!({}),
                )
                .await;
            assert!(body["errors"].is_null(), "{}: {body}", app.setup);
        }
        app.sign_in("alice").await;
        let (_, _, form) = app.get("/accounts/open").await;
        assert!(
            form.contains("You have 5 accounts. You can have up to 5."),
            "{form}"
        );
        let csrf = hidden(&form, "csrf").expect("csrf");
        // No choice made.
        let (status, _, body) = app.post("/accounts/open", &[("csrf", &csrf)]).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {body}",
            app.setup
        );
        assert!(body.contains("Select the type of account to open"));
        assert!(body.contains("<title>Error: Open an account"));
        // A sixth.
        let (status, _, body) = app
            .post("/accounts/open", &[("csrf", &csrf), ("type", "savings")])
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {body}",
            app.setup
        );
        assert!(
            body.contains("You have 5 accounts, the most you can have"),
            "{}: {body}",
            app.setup
        );
        assert!(
            body.contains("id=\"type-error\""),
            "{}: beside the choice",
            app.setup
        );
        assert!(
            body.contains("There is a problem"),
            "{}: summary",
            app.setup
        );
        assert_eq!(app.accounts("alice").await.len(), 5, "{}", app.setup);
        app.shutdown().await;
    })
    .await;
}
