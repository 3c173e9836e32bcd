//! A statement: one account's postings over a period of days, oldest first, each with the
//! balance after it, between an opening and a closing balance. Read a page at a time, so a
//! year of a busy account is never held in memory; the transports decide the format.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use entities::transactions;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::history::{Keyset, postings};
use super::{Account, AccountId, Error, Input, Ledger, Transaction, UserId};

use banking_common::rules::holdings::STATEMENT_MAX_DAYS as MAX_PERIOD_DAYS;

/// Postings read per page.
const PAGE: u64 = 500;

/// Whole days, `from` and `to` included, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl StatementPeriod {
    /// The period a client asked for (`YYYY-MM-DD` each): by default the current month up
    /// to `today`; without `from`, the month of `to`. Refused when reversed or longer than
    /// [`MAX_PERIOD_DAYS`].
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<StatementPeriod, Error> {
        let to = match to {
            Some(text) => date(text, Input::PeriodTo, "to")?,
            None => today,
        };
        let from = match from {
            Some(text) => date(text, Input::PeriodFrom, "from")?,
            None => to.with_day(1).unwrap_or(to),
        };
        if from > to {
            return Err(Error::invalid(
                Input::PeriodFrom,
                "from must not be after to",
            ));
        }
        let days = to.signed_duration_since(from).num_days() + 1;
        if days > MAX_PERIOD_DAYS as i64 {
            return Err(Error::invalid(
                Input::PeriodFrom,
                format!("a statement covers at most {MAX_PERIOD_DAYS} days"),
            ));
        }
        Ok(StatementPeriod { from, to })
    }

    /// The first instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(NaiveTime::MIN).and_utc()
    }

    /// The first instant after the period.
    pub fn end(&self) -> DateTime<Utc> {
        self.to
            .checked_add_days(Days::new(1))
            .unwrap_or(self.to)
            .and_time(NaiveTime::MIN)
            .and_utc()
    }
}

/// `YYYY-MM-DD`, exactly.
fn date(text: &str, input: Input, input_name: &str) -> Result<NaiveDate, Error> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            Error::invalid(
                input,
                format!("{input_name} must be a date such as 2026-11-29"),
            )
        })
}

/// One posting as the account's owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementLine {
    pub transaction: Transaction,
    /// The other account's number; `None` for a deposit from outside the bank.
    pub counterparty: Option<String>,
    /// Signed cents: negative when money left the account.
    pub amount: i64,
    /// The account's balance in cents right after this posting.
    pub balance: i64,
}

/// A statement being read.
pub struct Statement {
    ledger: Ledger,
    pub account: Account,
    pub period: StatementPeriod,
    /// The balance in cents at the start of the period.
    pub opening: i64,
    balance: i64,
    after: i64,
    finished: bool,
}

impl Statement {
    /// The balance after the postings read so far; the closing balance once
    /// [`Statement::next_page`] has returned `None`.
    pub fn balance(&self) -> i64 {
        self.balance
    }

    /// The next postings, oldest first; `None` when every posting of the period is read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<StatementLine>>, Error> {
        if self.finished {
            return Ok(None);
        }
        let account = self.account.id;
        let rows = postings(
            self.ledger.db(),
            account,
            Keyset::After(self.after),
            Some((self.period.start(), self.period.end())),
            PAGE,
        )
        .await?;
        if (rows.len() as u64) < PAGE {
            self.finished = true;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let counterparties: Vec<AccountId> = rows
            .iter()
            .filter_map(|r| {
                let other = if r.to_account == account.0 {
                    r.from_account
                } else {
                    Some(r.to_account)
                };
                other.map(AccountId)
            })
            .collect();
        let numbers = self.ledger.account_numbers(&counterparties).await?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in rows {
            let transaction = Transaction::try_from(row)?;
            let incoming = transaction.to_account == account;
            let cents = transaction.amount.cents();
            let (amount, other) = if incoming {
                (cents, transaction.from_account)
            } else {
                (-cents, Some(transaction.to_account))
            };
            self.balance = self
                .balance
                .checked_add(amount)
                .ok_or_else(|| Error::internal(anyhow::anyhow!("a running balance overflowed")))?;
            self.after = transaction.id;
            lines.push(StatementLine {
                counterparty: other.and_then(|id| numbers.get(&id).cloned()),
                transaction,
                amount,
                balance: self.balance,
            });
        }
        Ok(Some(lines))
    }
}

impl Ledger {
    /// A statement of one of the caller's accounts; another customer's is `NotFound`.
    #[tracing::instrument(skip(self))]
    pub async fn statement(
        &self,
        user_id: UserId,
        account_id: AccountId,
        period: StatementPeriod,
    ) -> Result<Statement, Error> {
        let account = self.account(user_id, account_id).await?;
        let before = |column: transactions::Column| {
            transactions::Entity::find()
                .select_only()
                .column_as(
                    Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"),
                    "total",
                )
                .filter(column.eq(account_id))
                .filter(transactions::Column::CreatedAt.lt(period.start()))
                .into_tuple::<i64>()
                .one(&self.db)
        };
        let received = before(transactions::Column::ToAccount).await?.unwrap_or(0);
        let sent = before(transactions::Column::FromAccount)
            .await?
            .unwrap_or(0);
        let opening = received - sent;
        Ok(Statement {
            ledger: self.clone(),
            account,
            period,
            opening,
            balance: opening,
            after: 0,
            finished: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn periods_default_to_this_month_and_are_bounded() {
        let today = day("2026-11-29");
        let period = StatementPeriod::parse(None, None, today).expect("default");
        assert_eq!((period.from, period.to), (day("2026-11-01"), today));
        let period = StatementPeriod::parse(None, Some("2026-02-14"), today).expect("to only");
        assert_eq!(period.from, day("2026-02-01"));
        let period = StatementPeriod::parse(Some("2024-01-01"), Some("2024-12-31"), today)
            .expect("leap year");
        assert_eq!(
            period.end(),
            day("2025-01-01").and_time(NaiveTime::MIN).and_utc()
        );
        for (from, to) in [
            ("2026-11-02", "2026-11-01"),
            ("2025-01-01", "2026-01-02"),
            ("2026-13-01", "2026-12-01"),
            ("2026-1-01", "2026-12-01"),
            ("2026-02-30", "2026-03-01"),
            ("+2026-01-1", "2026-03-01"),
        ] {
            assert!(
                StatementPeriod::parse(Some(from), Some(to), today).is_err(),
                "{from}..{to}"
            );
        }
    }
}
