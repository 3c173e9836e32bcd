//! `/accounts/{id}/statement.csv?from=&to=`: an account's statement, downloaded from the
//! web's own address. The api's CSV streams through as it arrives (the browser only ever
//! talks to the web); a refused period comes back as the account page with the problem
//! beside the date, someone else's account as the page-not-found page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::i18n::Localizer;
use crate::locale::Locale;
use crate::render::html;
use crate::session::{CsrfToken, Session, Trace};
use crate::statement::pass_through;

use super::accounts::{self, StatementFields};
use super::form::{FormErrors, check_statement_period};
use super::state::WebState;
use super::views::valid_id;

pub async fn download(
    State(state): State<WebState>,
    Path(id): Path<String>,
    query: Result<Query<StatementFields>, QueryRejection>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
) -> Result<Response, Error> {
    if !valid_id(&id) {
        return Err(Error::PageNotFound);
    }
    let t = Localizer::new(locale.lang);
    let fields = query.map(|q| q.0).unwrap_or_default();
    let caller = trace.with(&session);
    let mut errors = FormErrors::default();
    if let Some((from, to)) = check_statement_period(&fields.from, &fields.to, &t, &mut errors) {
        match state.api.statement(&caller, &id, from, to).await {
            Ok(response) => return Ok(csv(response, from, to)),
            Err(Error::NotFound(_)) => return Err(Error::PageNotFound),
            // `BAD_USER_INPUT` with the field `from` or `to` (the query parameters):
            // the same dates passed the same rule here, so what is left is the length.
            Err(Error::BadInput(field)) => {
                let field = match field.as_deref() {
                    Some("from") => "from",
                    _ => "to",
                };
                errors.add(
                    field,
                    t.arg(
                        "statement-too-long",
                        "days",
                        super::form::STATEMENT_MAX_DAYS,
                    ),
                );
            }
            Err(other) => return Err(other),
        }
    }
    let page = accounts::page(
        &state,
        &caller,
        &csrf,
        &locale,
        &id,
        None,
        Some(fields),
        errors,
    )
    .await?;
    Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// The api's CSV as a download: its name from the api when it gives one.
fn csv(response: reqwest::Response, from: chrono::NaiveDate, to: chrono::NaiveDate) -> Response {
    let disposition = response
        .headers()
        .get(CONTENT_DISPOSITION)
        .filter(|v| v.as_bytes().starts_with(b"attachment;"))
        .cloned()
        .or_else(|| {
            HeaderValue::from_str(&format!(
                "attachment; filename=\"statement-{from}-{to}.csv\""
            ))
            .ok()
        })
        .unwrap_or_else(|| HeaderValue::from_static("attachment"));
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        pass_through(response),
    )
        .into_response()
}
