//! `/deposit`: money from outside the bank into one of the customer's accounts.
//! Like a transfer, the form carries an idempotency key made when it is first shown.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::client::{Deposit, deposit};
use crate::error::{Error, sentence};
use crate::format;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{FormErrors, check_amount, check_description, idempotency_key, valid_key};
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
    errors: FormErrors,
    accounts: Vec<AccountChoice>,
    form: DepositForm,
}

#[derive(Template)]
#[template(path = "deposit_done.html")]
pub struct DepositDonePage {
    layout: Layout,
    amount: String,
    account_label: String,
}

pub async fn form(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
) -> Result<Response, Error> {
    let accounts = account_choices(&state, &trace.with(&session)).await?;
    let form = DepositForm {
        account: match accounts.as_slice() {
            [only] => only.id.clone(),
            _ => String::new(),
        },
        key: idempotency_key(),
        ..DepositForm::default()
    };
    Ok(ok(&DepositPage {
        layout: Layout::new("Deposit money", &csrf, true).nav("deposit"),
        errors: FormErrors::default(),
        accounts,
        form,
    }))
}

pub async fn submit(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    CsrfForm(mut form): CsrfForm<DepositForm>,
) -> Result<Response, Error> {
    let caller = trace.with(&session);
    let accounts = account_choices(&state, &caller).await?;
    let mut errors = FormErrors::default();
    if !valid_key(&form.key) {
        form.key = idempotency_key();
    }
    let account = accounts.iter().find(|a| a.id == form.account);
    if form.account.is_empty() {
        errors.add("account", "Select the account to put the money in");
    } else if account.is_none() {
        errors.add("account", "Select one of your accounts");
    }
    let amount = check_amount(&form.amount, &mut errors);
    let description = check_description(&form.description, &mut errors);
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
                    layout: Layout::new("Deposit received", &csrf, true).nav("deposit"),
                    amount: format::api_money(&data.deposit.amount, &account.currency),
                    account_label: account.label(),
                }));
            }
            Err(Error::NotFound(_)) => errors.add("account", "Select one of your accounts"),
            Err(Error::BadInput(message)) => {
                let field = if message.contains("description") {
                    "description"
                } else {
                    "amount"
                };
                errors.add(field, sentence(&message));
            }
            Err(Error::Conflict(_)) => {
                form.key = idempotency_key();
                errors.add(
                    "account",
                    "This form was already used for a different deposit. Check the details and send it again",
                );
            }
            Err(other) => return Err(other),
        }
    }
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &DepositPage {
            layout: Layout::new("Deposit money", &csrf, true).nav("deposit"),
            errors,
            accounts,
            form,
        },
    ))
}
