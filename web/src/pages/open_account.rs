//! `/accounts/open`: another checking or savings account for a customer who already has
//! one (at most five each). It opens empty with a fresh number; money moves into it by
//! an ordinary transfer.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::client::{OpenAccount, open_account};
use crate::error::Error;
use crate::format;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{FormErrors, MAX_ACCOUNTS};
use super::state::WebState;
use super::views::{account_choices, account_kind};

/// The kinds offered: the form's value, the label, the hint.
pub const KINDS: [(&str, &str, &str); 2] = [
    (
        "checking",
        "Checking account",
        "For everyday spending and payments",
    ),
    (
        "savings",
        "Savings account",
        "For money you want to put aside",
    ),
];

#[derive(Template)]
#[template(path = "open_account.html")]
pub struct OpenAccountPage {
    layout: Layout,
    errors: FormErrors,
    kinds: Vec<Kind>,
    /// How many accounts the customer holds now.
    held: usize,
    max: u64,
}

pub struct Kind {
    value: &'static str,
    label: &'static str,
    hint: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "open_account_done.html")]
pub struct OpenedPage {
    layout: Layout,
    id: String,
    kind: String,
    display_number: String,
    balance: String,
    /// The transfer form with this account filled in as the recipient.
    transfer_href: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OpenForm {
    #[serde(rename = "type")]
    kind: String,
}

fn page(csrf: &CsrfToken, errors: FormErrors, chosen: &str, held: usize) -> OpenAccountPage {
    OpenAccountPage {
        layout: Layout::new("Open an account", csrf, true).nav("accounts"),
        errors,
        kinds: KINDS
            .iter()
            .map(|&(value, label, hint)| Kind {
                value,
                label,
                hint,
                checked: value == chosen,
            })
            .collect(),
        held,
        max: MAX_ACCOUNTS,
    }
}

pub async fn form(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
) -> Result<Response, Error> {
    let held = account_choices(&state, &trace.with(&session)).await?.len();
    Ok(ok(&page(&csrf, FormErrors::default(), "", held)))
}

pub async fn submit(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<OpenForm>,
) -> Result<Response, Error> {
    let caller = trace.with(&session);
    let mut errors = FormErrors::default();
    let kind = match form.kind.as_str() {
        "checking" => Some(open_account::AccountType::CHECKING),
        "savings" => Some(open_account::AccountType::SAVINGS),
        _ => {
            errors.add("type", "Select the type of account to open");
            None
        }
    };
    if let Some(kind) = kind {
        match state
            .api
            .run::<OpenAccount>(&caller, open_account::Variables { type_: kind })
            .await
        {
            Ok(data) => {
                let account = data.open_account;
                let kind = account_kind(&format!("{:?}", account.type_));
                return Ok(ok(&OpenedPage {
                    layout: Layout::new(format!("{kind} account opened"), &csrf, true)
                        .nav("accounts"),
                    transfer_href: format!("/transfer?to={}", account.account_number),
                    display_number: format::account_number(&account.account_number),
                    balance: format::api_money(&account.balance, &account.currency),
                    id: account.id,
                    kind,
                }));
            }
            // The choice passed here, so what is left is the limit.
            Err(Error::BadInput(_)) => errors.add(
                "type",
                format!(
                    "You have {MAX_ACCOUNTS} accounts, the most you can have. You cannot open another one"
                ),
            ),
            Err(other) => return Err(other),
        }
    }
    let held = account_choices(&state, &caller).await?.len();
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(&csrf, errors, &form.kind, held),
    ))
}
