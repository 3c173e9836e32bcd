//! `/payees`: the people a customer pays, by name and account number: the list with a
//! remove button each, and the form that adds one. The transfer's done page posts the
//! same form ("Save this payee"); `return` says which page to go back to, and can only
//! ever be `/payees` or `/transfer`.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use banking_common::rules::text;
use serde::Deserialize;

use crate::client::{AddPayee, RemovePayee, add_payee, remove_payee};
use crate::error::Error;
use crate::i18n::Localizer;
use crate::locale::Locale;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{FormErrors, MAX_PAYEES, check_payee_name, check_payee_number};
use super::state::WebState;
use super::views::{PayeeChoice, payee_choices, valid_id};

#[derive(Template)]
#[template(path = "payees.html")]
pub struct PayeesPage {
    layout: Layout,
    t: Localizer,
    errors: FormErrors,
    notice: Option<String>,
    payees: Vec<PayeeChoice>,
    form: PayeeForm,
    name_max: usize,
    max_payees: u64,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PayeeForm {
    name: String,
    account_number: String,
    #[serde(rename = "return")]
    back_to: String,
}

impl PayeeForm {
    /// Where to go once the payee is saved: the transfer form when it came from there,
    /// else the list. Never anything the form said beyond that choice.
    fn return_path(&self) -> &'static str {
        match self.back_to.as_str() {
            "/transfer" => "/transfer",
            _ => "/payees",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    saved: Option<String>,
    removed: Option<String>,
}

fn page(
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    notice: Option<String>,
    payees: Vec<PayeeChoice>,
    mut form: PayeeForm,
) -> PayeesPage {
    let t = Localizer::new(locale.lang);
    form.back_to = form.return_path().to_owned();
    PayeesPage {
        layout: Layout::new(locale, t.get("payees-title"), csrf, true).nav("payees"),
        t,
        errors,
        notice,
        payees,
        form,
        name_max: *text::PAYEE_NAME_LENGTH.end(),
        max_payees: MAX_PAYEES,
    }
}

pub async fn list(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let payees = payee_choices(&state, &trace.with(&session)).await?;
    let query = query.map(|q| q.0).unwrap_or_default();
    let notice = if query.saved.is_some() {
        Some(t.get("payees-saved"))
    } else if query.removed.is_some() {
        Some(t.get("payees-removed"))
    } else {
        None
    };
    Ok(ok(&page(
        &locale,
        &csrf,
        FormErrors::default(),
        notice,
        payees,
        PayeeForm::default(),
    )))
}

/// `POST /payees`: save one, then back to where the form came from.
pub async fn add(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
    CsrfForm(form): CsrfForm<PayeeForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let caller = trace.with(&session);
    let mut errors = FormErrors::default();
    let name = check_payee_name(&form.name, &t, &mut errors);
    let number = check_payee_number(&form.account_number, &t, &mut errors);
    if let (Some(name), Some(number)) = (name, number) {
        let variables = add_payee::Variables {
            input: add_payee::AddPayeeInput {
                name,
                account_number: number,
            },
        };
        match state.api.run::<AddPayee>(&caller, variables).await {
            Ok(_) => {
                let to = format!("{}?saved=1", form.return_path());
                return Ok((StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response());
            }
            Err(refusal @ (Error::Conflict(_) | Error::BadInput(_))) => {
                let (field, message) = explain(&refusal, &t);
                errors.add(field, message);
            }
            Err(other) => return Err(other),
        }
    }
    let payees = payee_choices(&state, &caller).await?;
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(&locale, &csrf, errors, None, payees, form),
    ))
}

/// A refusal of the api's as the field it concerns and what to do about it:
///
/// | code | field | shown beside |
/// |---|---|---|
/// | `CONFLICT` | `accountNumber` (or none) | the number: already saved |
/// | `BAD_USER_INPUT` | `name` | the name |
/// | `BAD_USER_INPUT` | `accountNumber` | the number |
/// | `BAD_USER_INPUT` | none | the name: the most payees one can have |
fn explain(refusal: &Error, t: &Localizer) -> (&'static str, String) {
    match (refusal, refusal.field()) {
        (Error::Conflict(_), _) => ("account_number", t.get("payee-number-taken")),
        (_, Some("name")) => ("name", t.get("payee-name-refused")),
        (_, Some("accountNumber")) => (
            "account_number",
            t.arg("transfer-to-rule", "digits", text::ACCOUNT_NUMBER_DIGITS),
        ),
        _ => ("name", t.arg("payee-limit", "max", MAX_PAYEES)),
    }
}

#[derive(Deserialize)]
pub struct NoFields {}

/// `POST /payees/{id}/remove`: someone else's payee, or one already gone, is no page.
pub async fn remove(
    State(state): State<WebState>,
    Path(id): Path<String>,
    session: Session,
    trace: Trace,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, Error> {
    if !valid_id(&id) {
        return Err(Error::PageNotFound);
    }
    let variables = remove_payee::Variables { id };
    match state
        .api
        .run::<RemovePayee>(&trace.with(&session), variables)
        .await
    {
        Ok(_) => Ok((StatusCode::SEE_OTHER, [(LOCATION, "/payees?removed=1")]).into_response()),
        // `NOT_FOUND` (field `id`): someone else's, or gone.
        Err(Error::NotFound(_) | Error::BadInput(_)) => Err(Error::PageNotFound),
        Err(other) => Err(other),
    }
}
