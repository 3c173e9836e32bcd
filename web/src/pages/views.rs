//! What several pages show the same way: a line of history, an account or a payee as a
//! choice.

use crate::client::{Accounts, Caller, Payees, accounts, payees};
use crate::error::Error;
use crate::format;
use crate::i18n::Localizer;

use super::state::WebState;

/// One line of an account's history as the owner of `account_number` sees it.
pub struct TxView {
    pub incoming: bool,
    /// Money from outside the bank (no counterparty account).
    pub deposit: bool,
    /// The other account (`1234 567 890`); empty for money from outside the bank.
    pub counterparty: String,
    /// Signed, as the reader writes money: "+$12.00", "-42,50 US$".
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
        t: &Localizer,
    ) -> TxView {
        let incoming = to == account_number;
        let counterparty = match (incoming, from) {
            (true, Some(from)) => format::account_number(from),
            (true, None) => String::new(),
            (false, _) => format::account_number(to),
        };
        let shown = format::api_money(amount, currency, t.lang());
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
            date: format::date(created_at, t.lang()),
            datetime: created_at.to_owned(),
        }
    }
}

/// "Checking" / "Savings" in the reader's language, for a GraphQL `AccountType` debug
/// name; a kind this build does not know is shown by its name.
pub fn account_kind(debug_name: &str, t: &Localizer) -> String {
    match debug_name {
        "CHECKING" => t.get("account-kind-checking"),
        "SAVINGS" => t.get("account-kind-savings"),
        other => other.to_owned(),
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
    /// "Checking 1234 567 890", as the review and done pages name it.
    pub label: String,
    pub balance_cents: i64,
    pub balance: String,
    pub currency: String,
}

/// The customer's accounts for a form's choices.
pub async fn account_choices(
    state: &WebState,
    caller: &Caller,
    t: &Localizer,
) -> Result<Vec<AccountChoice>, Error> {
    let data = state
        .api
        .run::<Accounts>(caller, accounts::Variables)
        .await?;
    Ok(data
        .accounts
        .into_iter()
        .map(|a| {
            let balance_cents = format::cents(&a.balance).unwrap_or(0);
            let kind = account_kind(&format!("{:?}", a.type_), t);
            let display_number = format::account_number(&a.account_number);
            AccountChoice {
                label: t.arg2("account-label", "kind", &kind, "number", &display_number),
                kind,
                balance: format::money(balance_cents, &a.currency, t.lang()),
                balance_cents,
                id: a.id,
                display_number,
                number: a.account_number,
                currency: a.currency,
            }
        })
        .collect())
}

/// Whether a path segment can be an id of the api's (a positive whole number); anything
/// else is no page at all.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 18 && id.bytes().all(|b| b.is_ascii_digit())
}

/// One of the signed-in customer's saved payees.
#[derive(Clone)]
pub struct PayeeChoice {
    pub id: String,
    pub name: String,
    pub number: String,
    /// `1234 567 890`
    pub display_number: String,
}

/// The customer's saved payees, newest first.
pub async fn payee_choices(state: &WebState, caller: &Caller) -> Result<Vec<PayeeChoice>, Error> {
    let data = state.api.run::<Payees>(caller, payees::Variables).await?;
    Ok(data
        .payees
        .into_iter()
        .map(|p| PayeeChoice {
            id: p.id,
            name: p.name,
            display_number: format::account_number(&p.account_number),
            number: p.account_number,
        })
        .collect())
}
