//! `/settings`: a read-only token to share (with an accountant, an app), shown once.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::client::{CreateReadOnlyToken, create_read_only_token};
use crate::error::{Error, sentence};
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::FormErrors;
use super::state::WebState;

/// The lifetimes offered, in seconds, with their labels.
pub const TTL_CHOICES: [(&str, &str); 3] =
    [("3600", "1 hour"), ("86400", "1 day"), ("604800", "7 days")];

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    layout: Layout,
    errors: FormErrors,
    choices: Vec<Choice>,
    /// The new token, shown once.
    token: Option<String>,
    token_lifetime: String,
}

pub struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    ttl: String,
}

fn page(csrf: &CsrfToken, errors: FormErrors, ttl: String, token: Option<String>) -> SettingsPage {
    let token_lifetime = TTL_CHOICES
        .iter()
        .find(|(v, _)| *v == ttl)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or_default();
    SettingsPage {
        layout: Layout::new("Settings", csrf, true).nav("settings"),
        errors,
        choices: TTL_CHOICES
            .iter()
            .map(|(value, label)| Choice {
                value,
                label,
                checked: *value == ttl,
            })
            .collect(),
        token,
        token_lifetime,
    }
}

pub async fn show(_session: Session, csrf: CsrfToken) -> Response {
    ok(&page(&csrf, FormErrors::default(), String::new(), None))
}

pub async fn create_token(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, Error> {
    let Some(seconds) = TTL_CHOICES
        .iter()
        .find(|(v, _)| *v == form.ttl)
        .and_then(|(v, _)| v.parse::<i64>().ok())
    else {
        let errors = FormErrors::one("ttl", "Select how long the token should work");
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&csrf, errors, String::new(), None),
        ));
    };
    let variables = create_read_only_token::Variables {
        ttl_seconds: seconds,
    };
    match state
        .api
        .run::<CreateReadOnlyToken>(&trace.with(&session), variables)
        .await
    {
        Ok(data) => Ok(ok(&page(
            &csrf,
            FormErrors::default(),
            form.ttl,
            Some(data.create_read_only_token),
        ))),
        Err(Error::BadInput(message)) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(
                &csrf,
                FormErrors::one("ttl", sentence(&message)),
                form.ttl,
                None,
            ),
        )),
        Err(e) => Err(e),
    }
}
