//! `GET /api/accounts/{id}/statement.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`: an account's
//! statement as CSV, streamed a page of postings at a time.
//!
//! Rows: a header, the opening balance, one row per posting oldest first (date, reference,
//! description, counterparty account, signed amount, balance after), the closing balance.
//! Every text a customer wrote is written so a spreadsheet shows it as text, never runs it
//! as a formula.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use banking_common::rules::amount::decimal;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::extract::bearer;
use crate::app_state::AppState;
use crate::error::Result;
use crate::ledger::{self, AccountId, Input, Statement, StatementLine, StatementPeriod};

pub const HEADER: [&str; 6] = [
    "date",
    "reference",
    "description",
    "counterparty_account",
    "amount",
    "balance",
];

#[derive(Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

pub async fn statement_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: std::result::Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let reader = bearer(&state, &headers).reader().await?;
    let Query(query) = query.map_err(|_| {
        ledger::Error::invalid(
            Input::PeriodFrom,
            "from and to must be dates such as 2026-11-29",
        )
    })?;
    let account_id = AccountId::parse(&id, Input::Account)?;
    let period = StatementPeriod::parse(
        query.from.as_deref(),
        query.to.as_deref(),
        Utc::now().date_naive(),
    )?;
    let statement = state
        .services
        .ledger
        .statement(reader.user_id, account_id, period)
        .await?;
    let filename = format!(
        "attachment; filename=\"statement-{}-{}-{}.csv\"",
        statement.account.number, period.from, period.to
    );
    let mut response = Body::from_stream(rows(statement)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(value) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Where the stream is.
enum Step {
    Start(Statement),
    Postings(Statement),
    Done,
}

/// The CSV as chunks: the header and opening balance, a chunk per page of postings, the
/// closing balance. A database failure mid-way ends the body with an error, so the
/// client sees a broken download rather than a statement that looks complete.
fn rows(statement: Statement) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
    futures::stream::unfold(Step::Start(statement), |step| async move {
        match step {
            Step::Start(statement) => {
                let mut csv = Csv::default();
                csv.row(HEADER.map(str::to_owned));
                csv.row(balance_row(
                    statement.period.start(),
                    "Opening balance",
                    statement.opening,
                ));
                Some((Ok(csv.into_bytes()), Step::Postings(statement)))
            }
            Step::Postings(mut statement) => match statement.next_page().await {
                Ok(Some(lines)) => {
                    let mut csv = Csv::default();
                    for line in &lines {
                        csv.row(posting_row(line));
                    }
                    Some((Ok(csv.into_bytes()), Step::Postings(statement)))
                }
                Ok(None) => {
                    let mut csv = Csv::default();
                    let last_second = statement.period.end() - chrono::Duration::seconds(1);
                    csv.row(balance_row(
                        last_second,
                        "Closing balance",
                        statement.balance(),
                    ));
                    Some((Ok(csv.into_bytes()), Step::Done))
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "a statement stopped part-way");
                    Some((
                        Err(std::io::Error::other("statement interrupted")),
                        Step::Done,
                    ))
                }
            },
            Step::Done => None,
        }
    })
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn balance_row(at: DateTime<Utc>, label: &str, cents: i64) -> [String; 6] {
    [
        time(at),
        String::new(),
        label.to_owned(),
        String::new(),
        String::new(),
        decimal(cents),
    ]
}

fn posting_row(line: &StatementLine) -> [String; 6] {
    [
        time(line.transaction.created_at),
        line.transaction.id.to_string(),
        as_text(line.transaction.description.as_deref().unwrap_or("")),
        line.counterparty.clone().unwrap_or_default(),
        decimal(line.amount),
        decimal(line.balance),
    ]
}

/// Text a spreadsheet must not read as a formula: one starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading apostrophe (OWASP's advice for CSV
/// injection), which spreadsheets show as text and hide.
pub fn as_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A few rows written by the `csv` crate (quoting as RFC 4180 says).
#[derive(Default)]
struct Csv(Vec<u8>);

impl Csv {
    fn row(&mut self, fields: [String; 6]) {
        let mut writer = csv::Writer::from_writer(&mut self.0);
        // Writing to memory cannot fail.
        let _ = writer.write_record(&fields);
        let _ = writer.flush();
    }

    fn into_bytes(self) -> Bytes {
        Bytes::from(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text_and_fields_are_quoted() {
        assert_eq!(
            as_text("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(as_text("+1"), "'+1");
        assert_eq!(as_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(as_text("rent, november"), "rent, november");
        let mut csv = Csv::default();
        csv.row([
            "a".into(),
            "1".into(),
            as_text("=1+1, \"quoted\""),
            String::new(),
            "-1.00".into(),
            "0.00".into(),
        ]);
        assert_eq!(
            String::from_utf8(csv.0).expect("utf-8"),
            "a,1,\"'=1+1, \"\"quoted\"\"\",,-1.00,0.00\n"
        );
    }
}
