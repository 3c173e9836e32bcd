//! `/settings`: a read-only token to share (with an accountant, an app), shown once.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::client::{CreateReadOnlyToken, create_read_only_token};
use crate::error::Error;
use crate::i18n::{Localizer, key};
use crate::locale::Locale;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::FormErrors;
use super::state::WebState;

/// The lifetimes offered, in seconds, with the keys of their labels.
pub const TTL_CHOICES: [(&str, &str); 3] = [
    ("3600", key("settings-ttl-hour")),
    ("86400", key("settings-ttl-day")),
    ("604800", key("settings-ttl-week")),
];

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    layout: Layout,
    t: Localizer,
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

fn page(
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    ttl: String,
    token: Option<String>,
) -> SettingsPage {
    let t = Localizer::new(locale.lang);
    let token_lifetime = TTL_CHOICES
        .iter()
        .find(|(v, _)| *v == ttl)
        .map(|(_, label)| t.get(label))
        .unwrap_or_default();
    SettingsPage {
        layout: Layout::new(locale, t.get("settings-title"), csrf, true).nav("settings"),
        t,
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

pub async fn show(_session: Session, csrf: CsrfToken, locale: Locale) -> Response {
    ok(&page(
        &locale,
        &csrf,
        FormErrors::default(),
        String::new(),
        None,
    ))
}

pub async fn create_token(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let Some(seconds) = TTL_CHOICES
        .iter()
        .find(|(v, _)| *v == form.ttl)
        .and_then(|(v, _)| v.parse::<i64>().ok())
    else {
        let errors = FormErrors::one("ttl", t.get("settings-ttl-choose"));
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&locale, &csrf, errors, String::new(), None),
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
            &locale,
            &csrf,
            FormErrors::default(),
            form.ttl,
            Some(data.create_read_only_token),
        ))),
        // `BAD_USER_INPUT` (field `ttlSeconds`): a lifetime the api does not take.
        Err(Error::BadInput(_)) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(
                &locale,
                &csrf,
                FormErrors::one("ttl", t.get("settings-ttl-choose")),
                form.ttl,
                None,
            ),
        )),
        Err(e) => Err(e),
    }
}
