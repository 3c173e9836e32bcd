//! The api's statement CSV as the web uses it: passed through to the browser as a
//! download, or read as it arrives into one closing balance per day (the balance chart).
//!
//! The CSV (`api/src/rest/statement.rs`): a header row `date,reference,description,
//! counterparty_account,amount,balance`, an opening-balance row, one row per posting
//! oldest first with the balance after it, a closing-balance row. The balance rows have no
//! reference. Only the days' closing balances are kept, never the rows, so a busy
//! account's statement is read in the memory of one row.

use axum::body::Body;
use chrono::{Days, NaiveDate};

use crate::error::Error;
use crate::format;

/// The longest row the reader waits for the end of: rows are a date, a number, a
/// description of at most 140 characters and three short fields.
const MAX_ROW_BYTES: usize = 16 * 1024;

/// The response body of the api's statement, as the body of the web's answer: frame by
/// frame as it arrives (reqwest's body, an `http_body::Body`, is axum's body's inside;
/// [`crate::client::STATEMENT_TIMEOUT`] still bounds it). A failure part-way ends the
/// body with an error, so the browser sees a broken download rather than a statement
/// that looks complete.
pub fn pass_through(response: reqwest::Response) -> Body {
    Body::new(reqwest::Body::from(response))
}

/// An account's balance at the close of each day of a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyBalances {
    /// The first day.
    pub from: NaiveDate,
    /// Cents at the close of each day, `from` first.
    pub closing: Vec<i64>,
    /// How many postings the period had.
    pub postings: usize,
}

/// The daily closing balances from `from` to `to` (whole UTC days), read from the api's
/// statement as it arrives (a chunk at a time; nothing but the days is kept).
pub async fn daily_balances(
    mut response: reqwest::Response,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<DailyBalances, Error> {
    let mut reader = DailyReader::new(from, to);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => reader.feed(&chunk)?,
            Ok(None) => return reader.finish(),
            Err(e) => {
                tracing::warn!(error = %e, "a statement stopped part-way");
                return Err(if e.is_timeout() {
                    Error::Unavailable
                } else {
                    Error::Internal
                });
            }
        }
    }
}

/// Where in a row each column is, from the header row.
#[derive(Clone, Copy)]
struct Columns {
    date: usize,
    reference: usize,
    balance: usize,
}

/// Reads CSV rows as their bytes arrive and keeps only each day's last balance.
pub struct DailyReader {
    from: NaiveDate,
    /// Cents after the last row of each day that had one.
    closing: Vec<Option<i64>>,
    /// The balance at the start of the period (the opening row's).
    opening: Option<i64>,
    postings: usize,
    columns: Option<Columns>,
    /// Bytes of a row whose end has not arrived yet.
    pending: Vec<u8>,
}

impl DailyReader {
    pub fn new(from: NaiveDate, to: NaiveDate) -> DailyReader {
        let days = usize::try_from(to.signed_duration_since(from).num_days() + 1).unwrap_or(0);
        DailyReader {
            from,
            closing: vec![None; days],
            opening: None,
            postings: 0,
            columns: None,
            pending: Vec::new(),
        }
    }

    /// The next bytes of the CSV: every row they complete is read.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.pending.extend_from_slice(chunk);
        self.read_rows(false)?;
        if self.pending.len() > MAX_ROW_BYTES {
            tracing::error!(bytes = self.pending.len(), "a statement row without an end");
            return Err(Error::Internal);
        }
        Ok(())
    }

    /// The end of the CSV: the last row, and the balances of every day.
    pub fn finish(mut self) -> Result<DailyBalances, Error> {
        self.read_rows(true)?;
        let Some(opening) = self.opening else {
            tracing::error!("a statement without an opening balance");
            return Err(Error::Internal);
        };
        let mut balance = opening;
        let closing = self
            .closing
            .iter()
            .map(|day| {
                if let Some(cents) = day {
                    balance = *cents;
                }
                balance
            })
            .collect();
        Ok(DailyBalances {
            from: self.from,
            closing,
            postings: self.postings,
        })
    }

    /// Reads the complete rows in `pending` (and at the end, the last one too) and keeps
    /// the rest. A row counts as complete once a byte after it has arrived: the parser
    /// has then seen its terminator, wherever the chunks were cut.
    fn read_rows(&mut self, at_end: bool) -> Result<(), Error> {
        let pending = std::mem::take(&mut self.pending);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(pending.as_slice());
        let mut row = csv::StringRecord::new();
        let mut consumed = 0;
        loop {
            match csv.read_record(&mut row) {
                Ok(false) => break,
                Ok(true) => {
                    let end = usize::try_from(csv.position().byte()).unwrap_or(usize::MAX);
                    if !at_end && end >= pending.len() {
                        break;
                    }
                    self.row(&row)?;
                    consumed = end.min(pending.len());
                }
                Err(e) => {
                    tracing::error!(error = %e, "an unreadable statement row");
                    return Err(Error::Internal);
                }
            }
        }
        self.pending = pending;
        self.pending.drain(..consumed);
        Ok(())
    }

    fn row(&mut self, row: &csv::StringRecord) -> Result<(), Error> {
        let Some(columns) = self.columns else {
            let find = |name: &str| row.iter().position(|field| field == name);
            let (Some(date), Some(reference), Some(balance)) =
                (find("date"), find("reference"), find("balance"))
            else {
                tracing::error!(header = ?row, "a statement without the expected columns");
                return Err(Error::Internal);
            };
            self.columns = Some(Columns {
                date,
                reference,
                balance,
            });
            return Ok(());
        };
        let field = |i: usize| row.get(i).unwrap_or_default();
        let (Some(day), Some(balance)) = (
            field(columns.date)
                .get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            format::cents(field(columns.balance)),
        ) else {
            tracing::error!(row = ?row, "a statement row without a date or a balance");
            return Err(Error::Internal);
        };
        let posting = !field(columns.reference).is_empty();
        if posting {
            self.postings += 1;
        } else if self.opening.is_none() {
            self.opening = Some(balance);
        }
        let index = usize::try_from(day.signed_duration_since(self.from).num_days()).ok();
        if let Some(slot) = index.and_then(|i| self.closing.get_mut(i)) {
            *slot = Some(balance);
        }
        Ok(())
    }
}

/// The first day of the `days` days that end with `to`.
pub fn first_of(days: u64, to: NaiveDate) -> NaiveDate {
    to.checked_sub_days(Days::new(days.saturating_sub(1)))
        .unwrap_or(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    const CSV: &str = "date,reference,description,counterparty_account,amount,balance\n\
        2026-11-01T00:00:00Z,,Opening balance,,,100.00\n\
        2026-11-02T09:00:00Z,7,\"Rent, \"\"November\"\"\",1234567890,-40.00,60.00\n\
        2026-11-02T18:00:00Z,8,'=1+1,,15.50,75.50\n\
        2026-11-04T10:00:00Z,9,,2222222222,-5.50,70.00\n\
        2026-11-05T23:59:59Z,,Closing balance,,,70.00\n";

    fn read_in_chunks(size: usize) -> DailyBalances {
        let mut reader = DailyReader::new(day("2026-11-01"), day("2026-11-05"));
        for chunk in CSV.as_bytes().chunks(size) {
            reader.feed(chunk).expect("feed");
        }
        reader.finish().expect("finish")
    }

    #[test]
    fn each_day_keeps_its_last_balance_wherever_the_chunks_are_cut() {
        let expected = DailyBalances {
            from: day("2026-11-01"),
            closing: vec![10_000, 7_550, 7_550, 7_000, 7_000],
            postings: 3,
        };
        for size in [1, 2, 3, 7, 16, 64, CSV.len()] {
            assert_eq!(read_in_chunks(size), expected, "chunks of {size}");
        }
    }

    #[test]
    fn a_quiet_period_keeps_the_opening_balance() {
        let mut reader = DailyReader::new(day("2026-11-01"), day("2026-11-03"));
        reader
            .feed(
                b"date,reference,description,counterparty_account,amount,balance\r\n\
                  2026-11-01T00:00:00Z,,Opening balance,,,0.00\r\n\
                  2026-11-03T23:59:59Z,,Closing balance,,,0.00",
            )
            .expect("feed");
        let balances = reader.finish().expect("finish");
        assert_eq!(balances.closing, vec![0, 0, 0]);
        assert_eq!(balances.postings, 0);
    }

    #[test]
    fn broken_statements_are_refused() {
        for csv in [
            "nothing,useful\n1,2\n",
            "date,reference,description,counterparty_account,amount,balance\n",
            "date,reference,description,counterparty_account,amount,balance\nsoon,,x,,,1.00\n",
        ] {
            let mut reader = DailyReader::new(day("2026-11-01"), day("2026-11-03"));
            let outcome = reader.feed(csv.as_bytes()).and_then(|()| reader.finish());
            assert!(outcome.is_err(), "{csv:?}");
        }
        let mut reader = DailyReader::new(day("2026-11-01"), day("2026-11-03"));
        let endless = format!("\"{}", "x".repeat(MAX_ROW_BYTES));
        assert!(reader.feed(endless.as_bytes()).is_err());
    }

    #[test]
    fn periods_count_back_from_their_last_day() {
        assert_eq!(first_of(90, day("2026-11-29")), day("2026-09-01"));
        assert_eq!(first_of(1, day("2026-11-29")), day("2026-11-29"));
    }
}
