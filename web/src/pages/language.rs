//! `GET /language?lang=es&return=/transfer`: the language link on every page. A plain
//! link, so it works without script: it remembers the choice in a cookie (kept across
//! sign-out) and goes back to the page it came from, which must be a path of this site.
//! A language that is not offered changes nothing. It changes no data, so a link from
//! elsewhere can at most switch someone's language.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::cookies::language_cookie;
use crate::locale::{Lang, safe_return};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Choice {
    lang: String,
    #[serde(rename = "return")]
    back_to: String,
}

pub async fn choose(query: Result<Query<Choice>, QueryRejection>) -> Response {
    let choice = query.map(|q| q.0).unwrap_or_default();
    let back_to = safe_return(&choice.back_to).to_owned();
    match Lang::parse(&choice.lang) {
        Some(lang) => (
            StatusCode::SEE_OTHER,
            [
                (LOCATION, back_to),
                (SET_COOKIE, language_cookie(lang.code())),
            ],
        )
            .into_response(),
        None => (StatusCode::SEE_OTHER, [(LOCATION, back_to)]).into_response(),
    }
}

/// `GET` on an address that only takes a form (`/transfer/confirm`, `/settings/token`):
/// a page shown in answer to its post links back to it (the language link), so it
/// answers with the form it belongs to.
pub fn to(path: &'static str) -> impl Fn() -> std::future::Ready<Response> + Clone {
    move || std::future::ready((StatusCode::SEE_OTHER, [(LOCATION, path)]).into_response())
}
