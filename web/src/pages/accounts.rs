//! `/accounts/{id}`: one account's full history, a page at a time ("Older" follows the cursor).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::client::{AccountPage, account_page};
use crate::error::Error;
use crate::format;
use crate::render::{Layout, ok};
use crate::session::{CsrfToken, Session, Trace};

use super::state::WebState;
use super::views::{TxView, account_kind};

pub const PAGE_SIZE: i64 = 20;

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountHistoryPage {
    layout: Layout,
    kind: String,
    display_number: String,
    balance: String,
    txs: Vec<TxView>,
    /// The link to the next (older) page, if there is one.
    older: Option<String>,
    /// Whether this is a later page (so "Newest" makes sense).
    paged: bool,
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
) -> Result<Response, Error> {
    // Only positive whole numbers can be account ids; anything else is no page at all.
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::PageNotFound);
    }
    let after = query.ok().and_then(|q| q.0.after).filter(|a| !a.is_empty());
    if after.as_ref().is_some_and(|a| {
        a.len() > 64
            || !a
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(Error::PageNotFound);
    }
    let variables = account_page::Variables {
        id: id.clone(),
        first: PAGE_SIZE,
        after: after.clone(),
    };
    let data = match state
        .api
        .run::<AccountPage>(&trace.with(&session), variables)
        .await
    {
        Ok(data) => data,
        // A cursor that does not decode: a broken link, not a server problem.
        Err(Error::BadInput(_)) => return Err(Error::PageNotFound),
        Err(e) => return Err(e),
    };
    let account = data.account.ok_or(Error::PageNotFound)?;
    let page = &account.transactions;
    let older = if page.page_info.has_next_page {
        page.page_info
            .end_cursor
            .as_ref()
            .map(|cursor| format!("/accounts/{id}?after={cursor}"))
    } else {
        None
    };
    let kind = account_kind(&format!("{:?}", account.type_));
    let display_number = format::account_number(&account.account_number);
    let txs = page
        .nodes
        .iter()
        .map(|t| {
            TxView::new(
                &account.account_number,
                t.from_account_number.as_deref(),
                &t.to_account_number,
                &t.amount,
                t.description.as_deref(),
                &t.created_at,
                &account.currency,
            )
        })
        .collect();
    Ok(ok(&AccountHistoryPage {
        layout: Layout::new(format!("{kind} account {display_number}"), &csrf, true)
            .nav("accounts"),
        balance: format::api_money(&account.balance, &account.currency),
        kind,
        display_number,
        txs,
        older,
        paged: after.is_some(),
    }))
}
