//! Statements and the balance chart: the CSV downloaded from the web's own address adds
//! up to the balance the account page shows; refused periods come back beside the dates;
//! the chart of the last 90 days is an SVG with words for those who cannot see it.

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::json;

use crate::support::TestWeb;

use super::{each_setup, pay};

/// Cents from "12.34" or "-5.00".
fn cents(text: &str) -> i64 {
    let negative = text.starts_with('-');
    let (whole, fraction) = text
        .trim_start_matches('-')
        .split_once('.')
        .expect("a decimal");
    let value =
        whole.parse::<i64>().expect("whole") * 100 + fraction.parse::<i64>().expect("cents");
    if negative { -value } else { value }
}

/// `$2,487.66` for cents.
fn shown(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}.{:02}", cents % 100)
}

/// This month so far, as the form's dates.
fn this_month() -> (String, String) {
    let today = Utc::now().date_naive();
    let first = today.with_day(1).expect("the first");
    (first.to_string(), today.to_string())
}

async fn deposit(app: &TestWeb, username: &str, account: &str, amount: &str, description: &str) {
    let token = app.api_token(username).await;
    let body = app
        .gql(
            Some(&token),
            "mutation($input: DepositInput!) { deposit(input: $input) { id } }",
            json!({ "input": {
                "accountId": account,
                "amount": amount,
                "description": description,
                "idempotencyKey": uuid::Uuid::new_v4().simple().to_string(),
            } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{}: {body}", app.setup);
}

#[tokio::test]
async fn a_statement_downloads_as_csv_and_adds_up_to_the_balance() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        deposit(
            &app,
            "alice",
            &alice[0].0,
            "40.00",
            "=HYPERLINK(\"http://evil\")",
        )
        .await;
        app.sign_in("alice").await;
        pay(&app, &alice[0].0, &bob[0].1, "", "12.34").await;
        pay(&app, &alice[0].0, &bob[0].1, "", "0.66").await;

        let (from, to) = this_month();
        let (_, _, page) = app.get(&format!("/accounts/{}", alice[0].0)).await;
        assert!(
            page.contains(&format!(
                "action=\"/accounts/{}/statement.csv\"",
                alice[0].0
            )),
            "{}: the form",
            app.setup
        );
        assert!(
            page.contains(&format!("name=\"from\" type=\"date\" value=\"{from}\""))
                && page.contains(&format!("name=\"to\" type=\"date\" value=\"{to}\"")),
            "{}: this month by default: {page}",
            app.setup
        );

        let response = app
            .client
            .get(app.url(&format!(
                "/accounts/{}/statement.csv?from={from}&to={to}",
                alice[0].0
            )))
            .send()
            .await
            .expect("the download");
        assert_eq!(response.status(), StatusCode::OK, "{}", app.setup);
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            header(CONTENT_TYPE).starts_with("text/csv"),
            "{}",
            header(CONTENT_TYPE)
        );
        assert!(
            header(CONTENT_DISPOSITION).starts_with("attachment;")
                && header(CONTENT_DISPOSITION).contains(".csv"),
            "{}",
            header(CONTENT_DISPOSITION)
        );
        assert_eq!(header(CACHE_CONTROL), "no-store");
        let body = response.text().await.expect("the CSV");

        let mut reader = csv::Reader::from_reader(body.as_bytes());
        assert_eq!(
            reader
                .headers()
                .expect("a header")
                .iter()
                .collect::<Vec<_>>(),
            [
                "date",
                "reference",
                "description",
                "counterparty_account",
                "amount",
                "balance"
            ]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
        let (opening, postings, closing) = match rows.as_slice() {
            [opening, postings @ .., closing] => (opening, postings, closing),
            _ => panic!("{}: too few rows: {body}", app.setup),
        };
        assert_eq!(&opening[2], "Opening balance");
        assert_eq!(&closing[2], "Closing balance");
        // The seed's deposit, ours, and the two transfers.
        assert!(postings.len() >= 3, "{}: {body}", app.setup);
        let mut balance = cents(&opening[5]);
        for row in postings {
            balance += cents(&row[4]);
            assert_eq!(
                balance,
                cents(&row[5]),
                "{}: each balance follows: {body}",
                app.setup
            );
        }
        assert_eq!(balance, cents(&closing[5]), "{}", app.setup);
        assert_eq!(balance, 250_000 + 4_000 - 1_300, "{}", app.setup);
        let (_, _, page) = app.get(&format!("/accounts/{}", alice[0].0)).await;
        assert!(
            page.contains(&format!("id=\"account-balance\">{}</dd>", shown(balance))),
            "{}: the page shows {}",
            app.setup,
            shown(balance)
        );
        // Text a customer wrote is never a formula in a spreadsheet.
        assert!(
            postings
                .iter()
                .any(|r| &r[2] == "'=HYPERLINK(\"http://evil\")"),
            "{}: {body}",
            app.setup
        );
        assert!(
            postings
                .iter()
                .any(|r| r[3] == bob[0].1 && &r[4] == "-12.34")
        );
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn refused_statements_are_explained_and_other_accounts_are_not_found() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        // Signed out: to the sign-in page.
        let (status, at, _) = app
            .get(&format!("/accounts/{}/statement.csv", alice[0].0))
            .await;
        assert_eq!(
            (status, at.as_str()),
            (StatusCode::OK, "/login"),
            "{}",
            app.setup
        );
        app.sign_in("alice").await;
        let (from, to) = this_month();
        for path in [
            format!("/accounts/{}/statement.csv?from={from}&to={to}", bob[0].0),
            format!("/accounts/999999/statement.csv?from={from}&to={to}"),
            format!("/accounts/abc/statement.csv?from={from}&to={to}"),
        ] {
            let (status, _, body) = app.get(&path).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{}: {path}: {body}",
                app.setup
            );
            assert!(
                body.contains("Page not found") && !body.contains(&bob[0].1),
                "{path}"
            );
        }
        for (query, field, message) in [
            (
                "from=2026-11-02&to=2026-11-01",
                "to",
                "must be the same as or after",
            ),
            ("from=2025-01-01&to=2026-01-02", "to", "up to 366 days"),
            (
                "from=2026-02-30&to=2026-03-01",
                "from",
                "must be a real date",
            ),
            (
                "from=&to=2026-03-01",
                "from",
                "Enter the date the statement starts",
            ),
            (
                "to=2026-03-01",
                "from",
                "Enter the date the statement starts",
            ),
        ] {
            let path = format!("/accounts/{}/statement.csv?{query}", alice[0].0);
            let (status, _, body) = app.get(&path).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {query}: {body}",
                app.setup
            );
            assert!(
                body.starts_with("<!doctype html>"),
                "{}: a page, not a file",
                app.setup
            );
            assert!(
                body.contains("<title>Error: Checking account"),
                "{}",
                app.setup
            );
            assert!(
                body.contains("There is a problem"),
                "{}: {query}",
                app.setup
            );
            let beside = body
                .split(&format!("id=\"{field}-error\""))
                .nth(1)
                .unwrap_or_else(|| panic!("{}: {query}: nothing beside {field}", app.setup));
            assert!(
                beside[..beside.find("</p>").expect("end")].contains(message),
                "{}: {query}: {beside}",
                app.setup
            );
        }
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_account_page_charts_the_last_90_days() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        pay(&app, &alice[0].0, &bob[0].1, "", "12.34").await;
        let (status, _, page) = app.get(&format!("/accounts/{}", alice[0].0)).await;
        assert_eq!(status, StatusCode::OK, "{}: {page}", app.setup);
        let svg = page
            .split("<svg")
            .nth(1)
            .and_then(|rest| rest.split("</svg>").next())
            .unwrap_or_else(|| panic!("{}: no chart: {page}", app.setup));
        assert!(svg.contains("role=\"img\""), "{}", app.setup);
        assert!(
            svg.contains("<title id=\"chart-svg-title\">Chart of the balance of Checking account"),
            "{}: {svg}",
            app.setup
        );
        assert!(svg.contains("class=\"chart__line\" d=\"M"), "{}", app.setup);
        assert!(
            !svg.contains("style="),
            "{}: the CSP allows no inline style",
            app.setup
        );
        // The words: the last 90 days, ending at the current balance.
        let desc = svg
            .split("<desc id=\"chart-svg-desc\">")
            .nth(1)
            .and_then(|rest| rest.split("</desc>").next())
            .expect("a description");
        assert!(
            // One balance a day, at its close: the seed's $2,500.00 came in today, before
            // the transfer, so today closes at $2,487.66 and every day before at $0.00.
            desc.contains("from $0.00 to $2,487.66.")
                && desc.contains("lowest at $0.00 and highest at $2,487.66."),
            "{}: {desc}",
            app.setup
        );
        assert!(page.contains(&format!(
            "<p class=\"body\" id=\"chart-summary\">{desc}</p>"
        )));
        assert!(page.contains("id=\"account-balance\">$2,487.66</dd>"));

        // An account with no postings says so instead.
        let opened = app
            .gql(
                Some(&app.api_token("alice").await),
                "mutation { openAccount(type: SAVINGS) { id } }",
                json!({}),
            )
            .await;
        let id = opened["data"]["openAccount"]["id"].as_str().expect("an id");
        let (status, _, page) = app.get(&format!("/accounts/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{}: {page}", app.setup);
        assert!(!page.contains("<svg"), "{}", app.setup);
        assert!(
            page.contains("No money has gone in or out of this account in the last 90 days")
                && page.contains("The balance has stayed at $0.00."),
            "{}: {page}",
            app.setup
        );
        app.shutdown().await;
    })
    .await;
}
