//! `/`: every account with its balance and latest transactions, and the total.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::client::{Dashboard, dashboard};
use crate::error::Error;
use crate::format;
use crate::i18n::Localizer;
use crate::locale::Locale;
use crate::render::{Layout, ok};
use crate::session::{CsrfToken, Session, Trace};

use super::form::MAX_ACCOUNTS;
use super::state::WebState;
use super::views::{TxView, account_kind};

/// How many of each account's latest transactions the dashboard shows.
pub const RECENT: i64 = 5;

pub struct AccountSummary {
    pub id: String,
    pub number: String,
    pub display_number: String,
    pub kind: String,
    pub balance: String,
    pub recent: Vec<TxView>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
    t: Localizer,
    max_accounts: u64,
    username: String,
    total: String,
    accounts: Vec<AccountSummary>,
}

pub async fn show(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let data = state
        .api
        .run::<Dashboard>(
            &trace.with(&session),
            dashboard::Variables { recent: RECENT },
        )
        .await?;
    let me = data.me;
    let total_cents: i64 = me
        .accounts
        .iter()
        .filter_map(|a| format::cents(&a.balance))
        .sum();
    let currency = me
        .accounts
        .first()
        .map_or_else(|| "USD".to_owned(), |a| a.currency.clone());
    let accounts = me
        .accounts
        .into_iter()
        .map(|a| AccountSummary {
            recent: a
                .transactions
                .nodes
                .iter()
                .map(|tx| {
                    TxView::new(
                        &a.account_number,
                        tx.from_account_number.as_deref(),
                        &tx.to_account_number,
                        &tx.amount,
                        tx.description.as_deref(),
                        &tx.created_at,
                        &a.currency,
                        &t,
                    )
                })
                .collect(),
            kind: account_kind(&format!("{:?}", a.type_), &t),
            balance: format::api_money(&a.balance, &a.currency, locale.lang),
            display_number: format::account_number(&a.account_number),
            number: a.account_number,
            id: a.id,
        })
        .collect();
    Ok(ok(&DashboardPage {
        layout: Layout::new(&locale, t.get("dashboard-title"), &csrf, true).nav("accounts"),
        t,
        max_accounts: MAX_ACCOUNTS,
        username: me.username,
        total: format::money(total_cents, &currency, locale.lang),
        accounts,
    }))
}
