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
use crate::i18n::{Localizer, key};
use crate::locale::Locale;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{FormErrors, MAX_ACCOUNTS};
use super::state::WebState;
use super::views::{account_choices, account_kind};

/// The kinds offered: the form's value, and the keys of its label and hint.
pub const KINDS: [(&str, &str, &str); 2] = [
    (
        "checking",
        key("open-checking-label"),
        key("open-checking-hint"),
    ),
    (
        "savings",
        key("open-savings-label"),
        key("open-savings-hint"),
    ),
];

#[derive(Template)]
#[template(path = "open_account.html")]
pub struct OpenAccountPage {
    layout: Layout,
    t: Localizer,
    /// A zero balance as the reader writes money.
    zero: String,
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
    t: Localizer,
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

fn page(
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    chosen: &str,
    held: usize,
) -> OpenAccountPage {
    let t = Localizer::new(locale.lang);
    OpenAccountPage {
        layout: Layout::new(locale, t.get("open-title"), csrf, true).nav("accounts"),
        t,
        zero: format::money(0, "USD", locale.lang),
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
    locale: Locale,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let held = account_choices(&state, &trace.with(&session), &t)
        .await?
        .len();
    Ok(ok(&page(&locale, &csrf, FormErrors::default(), "", held)))
}

pub async fn submit(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
    CsrfForm(form): CsrfForm<OpenForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let caller = trace.with(&session);
    let mut errors = FormErrors::default();
    let kind = match form.kind.as_str() {
        "checking" => Some(open_account::AccountType::CHECKING),
        "savings" => Some(open_account::AccountType::SAVINGS),
        _ => {
            errors.add("type", t.get("open-choose"));
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
                let kind = account_kind(&format!("{:?}", account.type_), &t);
                return Ok(ok(&OpenedPage {
                    layout: Layout::new(&locale, t.arg("opened-title", "kind", &kind), &csrf, true)
                        .nav("accounts"),
                    t,
                    transfer_href: format!("/transfer?to={}", account.account_number),
                    display_number: format::account_number(&account.account_number),
                    balance: format::api_money(&account.balance, &account.currency, locale.lang),
                    id: account.id,
                    kind,
                }));
            }
            // `BAD_USER_INPUT` with no field: the most accounts one can have (with the
            // field `type`, the choice; this form only offers the two the api takes).
            Err(Error::BadInput(field)) => match field.as_deref() {
                Some("type") => errors.add("type", t.get("open-choose")),
                _ => errors.add("type", t.arg("open-limit", "max", MAX_ACCOUNTS)),
            },
            Err(other) => return Err(other),
        }
    }
    let held = account_choices(&state, &caller, &t).await?.len();
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(&locale, &csrf, errors, &form.kind, held),
    ))
}
