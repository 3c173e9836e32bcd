//! What several pages show the same way: a line of history, an account or a payee as a
//! choice.

use crate::client::{Accounts, Caller, Payees, accounts, payees};
use crate::error::{Error, sentence};
use crate::format;

use super::state::WebState;

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
            (true, Some(from)) => format::account_number(from),
            (true, None) => "Deposit".to_owned(),
            (false, _) => format::account_number(to),
        };
        let shown = format::api_money(amount, currency);
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
            date: format::date(created_at),
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
            sentence(&lower).trim_end_matches('.').to_owned()
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
    caller: &Caller,
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
            AccountChoice {
                kind: account_kind(&format!("{:?}", a.type_)),
                balance: format::money(balance_cents, &a.currency),
                balance_cents,
                id: a.id,
                display_number: format::account_number(&a.account_number),
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
