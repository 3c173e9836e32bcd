//! The pages: askama templates over view models, and the handlers that fill them.
//! Handlers stay thin: read the form, check it locally, call the api, render.

mod accounts;
mod auth;
mod dashboard;
mod deposit;
mod health;
mod settings;
mod transfer;

use axum::Router;
use axum::routing::{get, post};

use crate::client::ApiClient;
use crate::error::Error;
pub use crate::render::{ErrorPage, Layout, html, ok};
use crate::static_files;

/// What every page handler shares.
#[derive(Clone)]
pub struct WebState {
    pub api: ApiClient,
    /// "alice, bob or carol" on the sign-in page of the all-in-one; empty otherwise.
    pub demo_users: String,
    pub demo_password: String,
}

pub fn routes(state: WebState) -> Router {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/signup", get(auth::signup_form).post(auth::signup))
        .route("/logout", post(auth::logout))
        .route("/accounts/{id}", get(accounts::show))
        .route("/transfer", get(transfer::form).post(transfer::review))
        .route("/transfer/confirm", post(transfer::confirm))
        .route("/deposit", get(deposit::form).post(deposit::submit))
        .route("/settings", get(settings::show))
        .route("/settings/token", post(settings::create_token))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(static_files::CSS_PATH, get(static_files::css))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Error {
    Error::PageNotFound
}

/// One message of a form: the field it belongs to (its `id`) and what to do about it.
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The problems of a submitted form: listed in the error summary at the top (each
/// linking to its field) and shown again beside each field.
#[derive(Default)]
pub struct FormErrors {
    pub items: Vec<FieldError>,
}

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.items.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn one(field: &'static str, message: impl Into<String>) -> FormErrors {
        let mut errors = FormErrors::default();
        errors.add(field, message);
        errors
    }
}

/// One line of an account's history as the owner of `account_number` sees it.
pub struct TxView {
    pub incoming: bool,
    /// Money from outside the bank (no counterparty account).
    pub deposit: bool,
    /// The other account, or "Deposit" for money from outside the bank.
    pub counterparty: String,
    /// Signed: "+$12.00" or "-$42.50".
    pub amount: String,
    pub description: Option<String>,
    pub date: String,
    pub datetime: String,
}

impl TxView {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        account_number: &str,
        from: Option<&str>,
        to: &str,
        amount: &str,
        description: Option<&str>,
        created_at: &str,
        currency: &str,
    ) -> TxView {
        let incoming = to == account_number;
        let counterparty = match (incoming, from) {
            (true, Some(from)) => crate::format::account_number(from),
            (true, None) => "Deposit".to_owned(),
            (false, _) => crate::format::account_number(to),
        };
        let shown = crate::format::api_money(amount, currency);
        TxView {
            incoming,
            deposit: from.is_none(),
            counterparty,
            amount: if incoming {
                format!("+{shown}")
            } else {
                format!("-{shown}")
            },
            description: description.map(str::to_owned),
            date: crate::format::date(created_at),
            datetime: created_at.to_owned(),
        }
    }
}

/// "Checking" / "Savings" for a GraphQL `AccountType` debug name.
pub fn account_kind(debug_name: &str) -> String {
    match debug_name {
        "CHECKING" => "Checking".to_owned(),
        "SAVINGS" => "Savings".to_owned(),
        other => {
            let lower = other.to_lowercase();
            crate::error::sentence(&lower)
                .trim_end_matches('.')
                .to_owned()
        }
    }
}

/// One of the signed-in customer's accounts, as choices in forms show it.
#[derive(Clone)]
pub struct AccountChoice {
    pub id: String,
    pub number: String,
    /// `1234 567 890`
    pub display_number: String,
    pub kind: String,
    pub balance_cents: i64,
    pub balance: String,
    pub currency: String,
}

impl AccountChoice {
    pub fn label(&self) -> String {
        format!("{} {}", self.kind, self.display_number)
    }
}

/// The customer's accounts for a form's choices.
pub async fn account_choices(
    state: &WebState,
    caller: &crate::client::Caller,
) -> Result<Vec<AccountChoice>, Error> {
    let data = state
        .api
        .run::<crate::client::Accounts>(caller, crate::client::accounts::Variables)
        .await?;
    Ok(data
        .accounts
        .into_iter()
        .map(|a| {
            let balance_cents = crate::format::cents(&a.balance).unwrap_or(0);
            AccountChoice {
                kind: account_kind(&format!("{:?}", a.type_)),
                balance: crate::format::money(balance_cents, &a.currency),
                balance_cents,
                id: a.id,
                display_number: crate::format::account_number(&a.account_number),
                number: a.account_number,
                currency: a.currency,
            }
        })
        .collect())
}

/// A new idempotency key for a money-moving form, made when the form is first shown.
pub fn idempotency_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether a key sent back by a form is one we could have made (and the api accepts).
pub fn valid_key(key: &str) -> bool {
    (16..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
