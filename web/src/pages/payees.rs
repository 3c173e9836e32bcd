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
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{FormErrors, MAX_PAYEES, check_payee_name, check_payee_number};
use super::state::WebState;
use super::views::{PayeeChoice, payee_choices, valid_id};

#[derive(Template)]
#[template(path = "payees.html")]
pub struct PayeesPage {
    layout: Layout,
    errors: FormErrors,
    notice: Option<&'static str>,
    payees: Vec<PayeeChoice>,
    form: PayeeForm,
    name_hint: String,
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
    csrf: &CsrfToken,
    errors: FormErrors,
    notice: Option<&'static str>,
    payees: Vec<PayeeChoice>,
    mut form: PayeeForm,
) -> PayeesPage {
    form.back_to = form.return_path().to_owned();
    PayeesPage {
        layout: Layout::new("Payees", csrf, true).nav("payees"),
        errors,
        notice,
        payees,
        form,
        name_hint: format!(
            "Up to {} characters, like the name of the person or company. You can save up to {MAX_PAYEES} payees.",
            text::PAYEE_NAME_LENGTH.end()
        ),
    }
}

pub async fn list(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let payees = payee_choices(&state, &trace.with(&session)).await?;
    let query = query.map(|q| q.0).unwrap_or_default();
    let notice = if query.saved.is_some() {
        Some("Payee saved.")
    } else if query.removed.is_some() {
        Some("Payee removed.")
    } else {
        None
    };
    Ok(ok(&page(
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
    CsrfForm(form): CsrfForm<PayeeForm>,
) -> Result<Response, Error> {
    let caller = trace.with(&session);
    let mut errors = FormErrors::default();
    let name = check_payee_name(&form.name, &mut errors);
    let number = check_payee_number(&form.account_number, &mut errors);
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
            Err(Error::Conflict(_)) => errors.add(
                "account_number",
                "You have already saved a payee with this account number",
            ),
            // The fields passed the same rules here, so what is left is the limit.
            Err(Error::BadInput(_)) => errors.add(
                "name",
                format!(
                    "You have {MAX_PAYEES} saved payees, the most you can have. Remove one to add another"
                ),
            ),
            Err(other) => return Err(other),
        }
    }
    let payees = payee_choices(&state, &caller).await?;
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(&csrf, errors, None, payees, form),
    ))
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
        Err(Error::NotFound(_) | Error::BadInput(_)) => Err(Error::PageNotFound),
        Err(other) => Err(other),
    }
}
