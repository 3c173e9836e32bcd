//! `/accounts/{id}`: one account's full history, a page at a time ("Older" follows the
//! cursor); on the first page the balance over the last 90 days as a chart, and the form
//! that downloads a statement (`statement.rs`).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;

use crate::chart::BalanceChart;
use crate::client::{API_TIMEOUT, AccountPage, Caller, account_page};
use crate::error::Error;
use crate::format;
use crate::i18n::{Arg, Localizer};
use crate::locale::Locale;
use crate::render::{Layout, ok};
use crate::session::{CsrfToken, Session, Trace};
use crate::statement::{DailyBalances, daily_balances, first_of};

use super::form::{FormErrors, STATEMENT_MAX_DAYS};
use super::state::WebState;
use super::views::{TxView, account_kind, valid_id};

pub const PAGE_SIZE: i64 = 20;

/// The days the balance chart covers, today included.
pub const CHART_DAYS: u64 = 90;

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountHistoryPage {
    layout: Layout,
    t: Localizer,
    chart_days: u64,
    /// The chart's `<title>`: whose balance it draws, over how many days.
    chart_svg_title: String,
    statement_max_days: u64,
    errors: FormErrors,
    id: String,
    kind: String,
    display_number: String,
    balance: String,
    txs: Vec<TxView>,
    /// The link to the next (older) page, if there is one.
    older: Option<String>,
    /// Whether this is a later page (so "Newest" makes sense).
    paged: bool,
    /// The balance over the last days; first page only.
    chart: Option<BalanceChart>,
    statement: StatementFields,
}

/// The statement form's dates as typed (`2026-11-01`).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct StatementFields {
    pub from: String,
    pub to: String,
}

impl StatementFields {
    /// The current month up to `today`.
    fn this_month(today: NaiveDate) -> StatementFields {
        StatementFields {
            from: today.with_day(1).unwrap_or(today).to_string(),
            to: today.to_string(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    after: Option<String>,
}

pub async fn show(
    State(state): State<WebState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
) -> Result<Response, Error> {
    let after = query.ok().and_then(|q| q.0.after).filter(|a| !a.is_empty());
    let page = page(
        &state,
        &trace.with(&session),
        &csrf,
        &locale,
        &id,
        after,
        None,
        FormErrors::default(),
    )
    .await?;
    Ok(ok(&page))
}

#[allow(clippy::too_many_arguments)]
/// The account page: `after` a cursor for a later page of history; `statement` the
/// statement form as sent, with `errors` beside its fields (else this month's dates).
pub async fn page(
    state: &WebState,
    caller: &Caller,
    csrf: &CsrfToken,
    locale: &Locale,
    id: &str,
    after: Option<String>,
    statement: Option<StatementFields>,
    errors: FormErrors,
) -> Result<AccountHistoryPage, Error> {
    let t = Localizer::new(locale.lang);
    if !valid_id(id) {
        return Err(Error::PageNotFound);
    }
    if after.as_ref().is_some_and(|a| {
        a.len() > 64
            || !a
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(Error::PageNotFound);
    }
    let variables = account_page::Variables {
        id: id.to_owned(),
        first: PAGE_SIZE,
        after: after.clone(),
    };
    let today = Utc::now().date_naive();
    let chart_from = first_of(CHART_DAYS, today);
    // The history and the chart's statement at once; the chart only on the first page.
    let chart = async {
        if after.is_some() {
            return None;
        }
        Some(chart_balances(state, caller, id, chart_from, today).await)
    };
    let (data, balances) = tokio::join!(state.api.run::<AccountPage>(caller, variables), chart);
    let data = match data {
        Ok(data) => data,
        // A cursor that does not decode: a broken link, not a server problem.
        Err(Error::BadInput(_)) => return Err(Error::PageNotFound),
        Err(e) => return Err(e),
    };
    let account = data.account.ok_or(Error::PageNotFound)?;
    let chart = balances.map(|balances| match balances {
        Ok(balances) => BalanceChart::new(&balances, &account.currency, &t),
        Err(e) => {
            tracing::warn!(error = ?e, "no balance chart");
            BalanceChart::Unavailable
        }
    });
    let page = &account.transactions;
    let older = if page.page_info.has_next_page {
        page.page_info
            .end_cursor
            .as_ref()
            .map(|cursor| format!("/accounts/{id}?after={cursor}"))
    } else {
        None
    };
    let kind = account_kind(&format!("{:?}", account.type_), &t);
    let display_number = format::account_number(&account.account_number);
    let txs = page
        .nodes
        .iter()
        .map(|tx| {
            TxView::new(
                &account.account_number,
                tx.from_account_number.as_deref(),
                &tx.to_account_number,
                &tx.amount,
                tx.description.as_deref(),
                &tx.created_at,
                &account.currency,
                &t,
            )
        })
        .collect();
    Ok(AccountHistoryPage {
        layout: Layout::new(
            locale,
            t.arg2("account-title", "kind", &kind, "number", &display_number),
            csrf,
            true,
        )
        .nav("accounts"),
        chart_svg_title: t.args(
            "chart-svg-title",
            &[
                ("kind", kind.as_str().into()),
                ("number", display_number.as_str().into()),
                (
                    "days",
                    Arg::Count(i64::try_from(CHART_DAYS).unwrap_or(i64::MAX)),
                ),
            ],
        ),
        t,
        chart_days: CHART_DAYS,
        statement_max_days: STATEMENT_MAX_DAYS,
        errors,
        id: id.to_owned(),
        balance: format::api_money(&account.balance, &account.currency, locale.lang),
        kind,
        display_number,
        txs,
        older,
        paged: after.is_some(),
        chart,
        statement: statement.unwrap_or_else(|| StatementFields::this_month(today)),
    })
}

/// The account's closing balance each day from `from` to `to`, from the api's statement.
/// The page waits for it no longer than for any other api call: a chart not read by
/// then is unavailable, and the rest of the page is shown.
async fn chart_balances(
    state: &WebState,
    caller: &Caller,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<DailyBalances, Error> {
    let read = async {
        let response = state.api.statement(caller, id, from, to).await?;
        daily_balances(response, from, to).await
    };
    tokio::time::timeout(API_TIMEOUT, read)
        .await
        .unwrap_or(Err(Error::Unavailable))
}
