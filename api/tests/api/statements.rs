//! `GET /api/accounts/{id}/statement.csv`: the rows, the balances they add up to, the
//! refusals, formulas that come out inert, and memory that stays flat while a 100,000-posting
//! statement streams.

// Amounts in cents are written dollars_cents (`380_00`), the way the CSV reads them.
#![allow(clippy::inconsistent_digit_grouping)]

use std::time::Duration;

use chrono::{Days, Utc};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::json;

use crate::support::process::{ApiProcess, rss_bytes};
use crate::support::{Customer, KEY_HEX, TestApp, setups};

fn cents(text: &str) -> i64 {
    banking_common::rules::amount::parse_decimal(text).unwrap_or_else(|| panic!("{text:?}"))
}

async fn transfer(app: &TestApp, from: &Customer, to: &Customer, amount: &str, description: &str) {
    let body = app
        .gql(
            Some(&from.token),
            "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
            json!({ "input": {
                "fromAccountId": from.account_id, "toAccountNumber": to.account_number,
                "amount": amount, "description": description,
                "idempotencyKey": uuid::Uuid::new_v4().to_string() } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

struct Csv {
    status: u16,
    content_type: String,
    rows: Vec<Vec<String>>,
}

async fn statement(app: &TestApp, token: Option<&str>, account: &str, query: &str) -> Csv {
    let mut request = app.client.get(format!(
        "{}/api/accounts/{account}/statement.csv{query}",
        app.base
    ));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GET statement");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.expect("body");
    let rows = if status == 200 {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body.as_bytes())
            .records()
            .map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect())
            .collect()
    } else {
        Vec::new()
    };
    Csv {
        status,
        content_type,
        rows,
    }
}

/// Checks the shape every statement has and returns (opening, postings, closing) in cents.
fn read(csv: &Csv) -> (i64, Vec<(i64, i64, String)>, i64) {
    assert_eq!(csv.status, 200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert_eq!(
        csv.rows[0],
        [
            "date",
            "reference",
            "description",
            "counterparty_account",
            "amount",
            "balance"
        ]
    );
    let opening = &csv.rows[1];
    let closing = csv.rows.last().expect("closing row");
    assert_eq!(opening[2], "Opening balance");
    assert_eq!(closing[2], "Closing balance");
    let mut balance = cents(&opening[5]);
    let mut postings = Vec::new();
    let mut last_date = String::new();
    for row in &csv.rows[2..csv.rows.len() - 1] {
        assert!(row[0] >= last_date, "oldest first: {row:?}");
        last_date = row[0].clone();
        assert!(
            chrono::DateTime::parse_from_rfc3339(&row[0]).is_ok(),
            "{row:?}"
        );
        balance += cents(&row[4]);
        assert_eq!(
            cents(&row[5]),
            balance,
            "the running balance adds up: {row:?}"
        );
        postings.push((cents(&row[4]), cents(&row[5]), row[2].clone()));
    }
    assert_eq!(
        cents(&closing[5]),
        balance,
        "the closing balance is the last one"
    );
    (cents(&opening[5]), postings, cents(&closing[5]))
}

#[tokio::test]
async fn the_running_balance_meets_the_balances_at_both_ends_of_the_period() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        // Before the period: a deposit and a transfer out.
        app.deposit(&alice, "500.00").await;
        app.deposit(&bob, "80.00").await;
        transfer(&app, &alice, &bob, "120.00", "before").await;
        backdate_postings_so_far_after(&app, 100, 10).await;
        // In it: a deposit, transfers out and in.
        app.deposit(&alice, "25.50").await;
        transfer(
            &app,
            &alice,
            &bob,
            "10.25",
            "=HYPERLINK(\"http://evil.example\",\"click\")",
        )
        .await;
        transfer(&app, &bob, &alice, "30.00", "+cmd|' /C calc'!A0").await;
        transfer(&app, &alice, &bob, "1.00", "@SUM(1+1)").await;
        transfer(&app, &alice, &bob, "2.00", "-2+3").await;
        transfer(&app, &alice, &bob, "3.00", "rent, \"november\"").await;
        backdate_postings_so_far_after(&app, 5, 3).await;
        // After it: today's.
        transfer(&app, &alice, &bob, "7.77", "after").await;

        let today = Utc::now().date_naive();
        let from = today.checked_sub_days(Days::new(4)).expect("date");
        let to = today.checked_sub_days(Days::new(1)).expect("date");
        let csv = statement(
            &app,
            Some(&alice.token),
            &alice.account_id,
            &format!("?from={from}&to={to}"),
        )
        .await;
        let (opening, postings, closing) = read(&csv);
        assert_eq!(
            opening, 380_00,
            "{}: 500 in, 120 out before the period",
            app.setup
        );
        let amounts: Vec<i64> = postings.iter().map(|p| p.0).collect();
        assert_eq!(
            amounts,
            vec![25_50, -10_25, 30_00, -1_00, -2_00, -3_00],
            "{}",
            app.setup
        );
        assert_eq!(closing, 380_00 + 25_50 - 10_25 + 30_00 - 6_00);
        let balances = app.balances(&alice.token).await;
        assert_eq!(
            cents(&balances[0]),
            closing - 7_77,
            "today's transfer is after the period"
        );
        // Formulas come out as text; quotes and commas survive.
        let descriptions: Vec<&str> = postings.iter().map(|p| p.2.as_str()).collect();
        assert_eq!(descriptions[0], "");
        assert_eq!(
            descriptions[1],
            "'=HYPERLINK(\"http://evil.example\",\"click\")"
        );
        assert_eq!(descriptions[2], "'+cmd|' /C calc'!A0");
        assert_eq!(descriptions[3], "'@SUM(1+1)");
        assert_eq!(descriptions[4], "'-2+3");
        assert_eq!(descriptions[5], "rent, \"november\"");
        for row in &csv.rows[2..csv.rows.len() - 1] {
            assert!(!row[2].starts_with(['=', '+', '-', '@']), "{row:?}");
            assert!(
                row[1].parse::<i64>().is_ok(),
                "reference is the transaction id: {row:?}"
            );
        }
        // Counterparty: Bob's number for transfers, empty for the deposit.
        assert_eq!(csv.rows[2][3], "");
        assert_eq!(csv.rows[3][3], bob.account_number);

        // The whole current month by default: ends at today's balance.
        let csv = statement(&app, Some(&alice.token), &alice.account_id, "").await;
        let (_, _, closing) = read(&csv);
        assert_eq!(cents(&app.balances(&alice.token).await[0]), closing);
        // A period with no postings at all.
        let csv = statement(
            &app,
            Some(&alice.token),
            &alice.account_id,
            "?from=2020-01-01&to=2020-12-31",
        )
        .await;
        let (opening, postings, closing) = read(&csv);
        assert_eq!((opening, postings.len(), closing), (0, 0, 0));
    }
}

/// Moves the postings made after the ones already backdated to `days_ago`, keeping those
/// `older_than` days or more in the past where they are.
async fn backdate_postings_so_far_after(app: &TestApp, older_than: u64, days_ago: u64) {
    let at = Utc::now() - chrono::Duration::days(days_ago as i64);
    let cutoff = Utc::now() - chrono::Duration::days(older_than as i64);
    let db = app.state.services.ledger.db();
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE transactions SET created_at = $1 WHERE created_at > $2",
        _ => "UPDATE transactions SET created_at = ? WHERE created_at > ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [at.into(), cutoff.into()],
    ))
    .await
    .expect("backdate");
}

#[tokio::test]
async fn refusals_are_clear_and_another_customers_account_is_missing() {
    for (backend, cache) in setups() {
        let app = TestApp::spawn(backend, cache).await;
        let alice = app.customer("alice").await;
        let bob = app.customer("bob").await;
        let ok = statement(&app, Some(&alice.token), &alice.account_id, "").await;
        assert_eq!(ok.status, 200);
        for (account, query, status) in [
            (bob.account_id.as_str(), "", 404),
            ("999999", "", 404),
            ("abc", "", 422),
            ("0", "", 422),
            (
                alice.account_id.as_str(),
                "?from=2026-03-02&to=2026-03-01",
                422,
            ),
            (
                alice.account_id.as_str(),
                "?from=2025-01-01&to=2026-01-02",
                422,
            ),
            (alice.account_id.as_str(), "?from=2026-02-30", 422),
            (alice.account_id.as_str(), "?from=yesterday", 422),
            (alice.account_id.as_str(), "?to=2026-1-1", 422),
        ] {
            let csv = statement(&app, Some(&alice.token), account, query).await;
            assert_eq!(csv.status, status, "{}: {account} {query}", app.setup);
        }
        let leap = statement(
            &app,
            Some(&alice.token),
            &alice.account_id,
            "?from=2024-01-01&to=2024-12-31",
        )
        .await;
        assert_eq!(leap.status, 200, "366 days are allowed");
        let anonymous = statement(&app, None, &alice.account_id, "").await;
        assert_eq!(anonymous.status, 401);
    }
}

#[tokio::test]
async fn a_hundred_thousand_postings_stream_in_flat_memory() {
    let database = testkit::TestDatabase::new(testkit::Backend::Sqlite).await;
    let api = ApiProcess::start(&[
        ("DATABASE_URL", database.url.clone()),
        ("BISCUIT_PRIVATE_KEY", KEY_HEX.to_owned()),
    ])
    .await;
    let pid = api.pid().expect("running");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let signup: serde_json::Value = http
        .post(format!("{}/graphql", api.base()))
        .json(&json!({
            "query": "mutation($input: SignupInput!) { signup(input: $input) { token user { accounts { id } } } }",
            "variables": { "input": { "username": "busy", "password": "correct horse battery", "email": "busy@example.com" } }
        }))
        .send()
        .await
        .expect("signup")
        .json()
        .await
        .expect("JSON");
    let token = signup["data"]["signup"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let account = signup["data"]["signup"]["user"]["accounts"][0]["id"]
        .as_str()
        .expect("account")
        .to_owned();
    const POSTINGS: i64 = 100_000;
    let db = Database::connect(&database.url).await.expect("connect");
    // `created_at` as the api writes it (RFC 3339, `T` between date and time): SQLite
    // compares the text, and `datetime('now')`'s space sorts before the `T` of the
    // period's start, so on the first day of a month every posting fell before it.
    db.execute_unprepared(&format!(
        "INSERT INTO transactions (from_account, to_account, amount, description, idempotency_key, initiated_by, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {POSTINGS}) \
         SELECT NULL, {account}, 1, 'bulk ' || i, 'bulk-' || i, (SELECT user_id FROM accounts WHERE id = {account}), \
         strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') FROM n"
    ))
    .await
    .expect("bulk postings");
    db.execute_unprepared(&format!(
        "UPDATE accounts SET balance = balance + {POSTINGS} WHERE id = {account}"
    ))
    .await
    .expect("balance");
    db.close().await.ok();

    let get = || {
        http.get(format!(
            "{}/api/accounts/{account}/statement.csv",
            api.base()
        ))
        .bearer_auth(&token)
        .send()
    };
    // A first read warms what the allocator keeps; the figure is growth during the second.
    let warm = get().await.expect("statement").bytes().await.expect("body");
    let baseline = rss_bytes(pid);
    let mut response = get().await.expect("statement");
    assert_eq!(response.status(), 200);
    let (mut bytes, mut lines, mut peak) = (0usize, 0usize, baseline);
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        peak = peak.max(rss_bytes(pid));
    }
    assert_eq!(bytes, warm.len());
    assert_eq!(
        lines as i64,
        POSTINGS + 3,
        "header, opening, postings, closing"
    );
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "statement of {POSTINGS} postings: {:.1} MiB of CSV, api RSS {:.1} MiB, peak growth {:.1} MiB",
        bytes as f64 / 1048576.0,
        baseline as f64 / 1048576.0,
        growth as f64 / 1048576.0
    );
    assert!(
        growth < 16 * 1024 * 1024,
        "the api's memory grew by {growth} bytes while streaming {bytes} bytes"
    );
}
