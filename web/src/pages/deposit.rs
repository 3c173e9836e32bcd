//! `/deposit`: money from outside the bank into one of the customer's accounts.
//! Like a transfer, the form carries an idempotency key made when it is first shown.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use banking_common::rules::text::DESCRIPTION_MAX_CHARS;

use crate::client::{Deposit, deposit};
use crate::error::Error;
use crate::format;
use crate::i18n::Localizer;
use crate::locale::Locale;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{
    FormErrors, amount_example, check_amount, check_description, idempotency_key, valid_key,
};
use super::state::WebState;
use super::views::{AccountChoice, account_choices};

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct DepositForm {
    account: String,
    amount: String,
    description: String,
    key: String,
}

#[derive(Template)]
#[template(path = "deposit.html")]
pub struct DepositPage {
    layout: Layout,
    t: Localizer,
    errors: FormErrors,
    accounts: Vec<AccountChoice>,
    form: DepositForm,
    amount_example: String,
    amount_affix: (String, String),
    description_max: usize,
}

fn page(
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    accounts: Vec<AccountChoice>,
    form: DepositForm,
) -> DepositPage {
    let t = Localizer::new(locale.lang);
    let currency = accounts
        .iter()
        .find(|a| a.id == form.account)
        .or(accounts.first())
        .map_or("USD", |a| a.currency.as_str());
    DepositPage {
        layout: Layout::new(locale, t.get("deposit-title"), csrf, true).nav("deposit"),
        amount_example: amount_example(10_000, &t),
        amount_affix: format::currency_affix(currency, locale.lang),
        description_max: DESCRIPTION_MAX_CHARS,
        t,
        errors,
        accounts,
        form,
    }
}

#[derive(Template)]
#[template(path = "deposit_done.html")]
pub struct DepositDonePage {
    layout: Layout,
    t: Localizer,
    amount: String,
    account_label: String,
}

pub async fn form(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let accounts = account_choices(&state, &trace.with(&session), &t).await?;
    let form = DepositForm {
        account: match accounts.as_slice() {
            [only] => only.id.clone(),
            _ => String::new(),
        },
        key: idempotency_key(),
        ..DepositForm::default()
    };
    Ok(ok(&page(
        &locale,
        &csrf,
        FormErrors::default(),
        accounts,
        form,
    )))
}

pub async fn submit(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
    CsrfForm(mut form): CsrfForm<DepositForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let caller = trace.with(&session);
    let accounts = account_choices(&state, &caller, &t).await?;
    let mut errors = FormErrors::default();
    if !valid_key(&form.key) {
        form.key = idempotency_key();
    }
    let account = accounts.iter().find(|a| a.id == form.account);
    if form.account.is_empty() {
        errors.add("account", t.get("deposit-account-choose"));
    } else if account.is_none() {
        errors.add("account", t.get("transfer-from-yours"));
    }
    let currency = account
        .or(accounts.first())
        .map_or("USD", |a| a.currency.as_str());
    let amount = check_amount(&form.amount, currency, &t, &mut errors);
    let description = check_description(&form.description, &t, &mut errors);
    if let (Some(account), Some(cents), true) = (account, amount, errors.is_empty()) {
        let variables = deposit::Variables {
            input: deposit::DepositInput {
                account_id: account.id.clone(),
                amount: format::decimal(cents),
                description: description.clone(),
                idempotency_key: form.key.clone(),
            },
        };
        match state.api.run::<Deposit>(&caller, variables).await {
            Ok(data) => {
                return Ok(ok(&DepositDonePage {
                    layout: Layout::new(&locale, t.get("deposit-done-title"), &csrf, true)
                        .nav("deposit"),
                    t,
                    amount: format::api_money(&data.deposit.amount, &account.currency, locale.lang),
                    account_label: account.label.clone(),
                }));
            }
            Err(Error::Conflict(_)) => {
                form.key = idempotency_key();
                errors.add("account", t.get("deposit-key-reused"));
            }
            Err(refusal @ (Error::NotFound(_) | Error::BadInput(_))) => {
                let (field, message) = explain(&refusal, &t);
                errors.add(field, message);
            }
            Err(other) => return Err(other),
        }
    }
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(&locale, &csrf, errors, accounts, form),
    ))
}

/// A refusal of the api's as the field it concerns and what to do about it:
///
/// | code | field | shown beside |
/// |---|---|---|
/// | `NOT_FOUND` | `accountId` (or none) | the account: not one of yours |
/// | `BAD_USER_INPUT` | `accountId` | the account: not one of yours |
/// | `BAD_USER_INPUT` | `amount`, `description` | that field |
/// | `BAD_USER_INPUT` | `idempotencyKey`, other or none | the account: could not be taken |
fn explain(refusal: &Error, t: &Localizer) -> (&'static str, String) {
    match (refusal, refusal.field()) {
        (Error::NotFound(_), _) | (Error::BadInput(_), Some("accountId")) => {
            ("account", t.get("transfer-from-yours"))
        }
        (Error::BadInput(_), Some("amount")) => ("amount", t.get("amount-refused")),
        (Error::BadInput(_), Some("description")) => ("description", t.get("description-refused")),
        _ => ("account", t.get("deposit-refused")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_refusals_find_their_field_by_code_and_field_alone() {
        let t = Localizer::english();
        for (code, field, expected) in [
            ("NOT_FOUND", Some("accountId"), "account"),
            ("NOT_FOUND", None, "account"),
            ("BAD_USER_INPUT", Some("amount"), "amount"),
            ("BAD_USER_INPUT", Some("description"), "description"),
            ("BAD_USER_INPUT", Some("idempotencyKey"), "account"),
            ("BAD_USER_INPUT", None, "account"),
        ] {
            assert_eq!(
                explain(&Error::from_api(code, field), &t).0,
                expected,
                "{code} {field:?}"
            );
        }
    }
}
