//! `/transfer`: the details (one form) → check them (review) → send (confirm).
//!
//! The recipient is a saved payee (radio buttons, `payee`, valued with the account
//! number) or a number typed in `to`: a typed number wins. The done page offers to save
//! a number that is not a saved payee yet (the form posts to `/payees`).
//!
//! The form gets an idempotency key when it is first shown; the key travels in a hidden
//! field through review and confirm, so a double submit or a browser retry of the confirm
//! reaches the api with the same key and moves the money once.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::client::{Transfer, transfer};
use crate::error::{Error, sentence};
use crate::format;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{
    FormErrors, check_account_number, check_amount, check_description, idempotency_key, valid_key,
};
use super::state::WebState;
use super::views::{AccountChoice, PayeeChoice, account_choices, payee_choices};

/// The transfer form as sent (every field a string, so nothing fails to parse: each
/// problem becomes a message beside its field).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct TransferForm {
    from: String,
    to: String,
    /// A saved payee's account number, used when `to` is blank.
    payee: String,
    amount: String,
    description: String,
    key: String,
}

#[derive(Template)]
#[template(path = "transfer.html")]
pub struct TransferPage {
    layout: Layout,
    errors: FormErrors,
    notice: Option<&'static str>,
    accounts: Vec<AccountChoice>,
    payees: Vec<PayeeChoice>,
    form: TransferForm,
}

#[derive(Template)]
#[template(path = "transfer_review.html")]
pub struct ReviewPage {
    layout: Layout,
    form: TransferForm,
    from_label: String,
    to_display: String,
    /// The saved payee with this number, if there is one.
    to_name: Option<String>,
    amount_display: String,
    description: Option<String>,
    /// `/transfer?…` with these details filled in, for the "Change" links.
    change_href: String,
}

#[derive(Template)]
#[template(path = "transfer_done.html")]
pub struct DonePage {
    layout: Layout,
    amount: String,
    to_display: String,
    from_label: String,
    reference: String,
    description: Option<String>,
    /// The number, when it is neither a saved payee nor one of the customer's own
    /// accounts: the "Save this payee" form is shown for it.
    save_number: Option<String>,
}

/// A transfer that passed the local checks.
struct Checked {
    from: AccountChoice,
    to: String,
    amount_cents: i64,
    description: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    saved: Option<String>,
}

/// The customer's accounts and saved payees, for the form's choices.
async fn choices(
    state: &WebState,
    caller: &crate::client::Caller,
) -> Result<(Vec<AccountChoice>, Vec<PayeeChoice>), Error> {
    let (accounts, payees) =
        tokio::join!(account_choices(state, caller), payee_choices(state, caller));
    Ok((accounts?, payees?))
}

pub async fn form(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    query: Result<Query<TransferForm>, QueryRejection>,
    notice: Result<Query<NoticeQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let (accounts, payees) = choices(&state, &trace.with(&session)).await?;
    let mut form = query.map(|q| q.0).unwrap_or_default();
    if !valid_key(&form.key) {
        form.key = idempotency_key();
    }
    if form.from.is_empty() && accounts.len() == 1 {
        form.from = accounts[0].id.clone();
    }
    let saved = notice.ok().and_then(|q| q.0.saved).is_some();
    Ok(ok(&TransferPage {
        layout: Layout::new("Transfer money", &csrf, true).nav("transfer"),
        errors: FormErrors::default(),
        notice: saved.then_some("Payee saved. You can choose them under Saved payees."),
        accounts,
        payees,
        form,
    }))
}

/// `POST /transfer`: check the details and show them for review; nothing moves yet.
pub async fn review(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    CsrfForm(mut form): CsrfForm<TransferForm>,
) -> Result<Response, Error> {
    let (accounts, payees) = choices(&state, &trace.with(&session)).await?;
    if !valid_key(&form.key) {
        form.key = idempotency_key();
    }
    let checked = match check(&form, &accounts) {
        Ok(checked) => checked,
        Err(errors) => return Ok(refused(&csrf, errors, accounts, payees, form)),
    };
    // A typed number is shown back as its digits; a chosen payee stays chosen.
    if !form.to.trim().is_empty() {
        form.to = checked.to.clone();
    }
    form.amount = format::decimal(checked.amount_cents);
    form.description = checked.description.clone().unwrap_or_default();
    let change_href = format!(
        "/transfer?{}",
        serde_urlencoded::to_string(&form).unwrap_or_default()
    );
    Ok(ok(&ReviewPage {
        layout: Layout::new("Check your transfer", &csrf, true).nav("transfer"),
        from_label: checked.from.label(),
        to_display: format::account_number(&checked.to),
        to_name: payees
            .iter()
            .find(|p| p.number == checked.to)
            .map(|p| p.name.clone()),
        amount_display: format::money(checked.amount_cents, &checked.from.currency),
        description: checked.description,
        change_href,
        form,
    }))
}

/// `POST /transfer/confirm`: send it. The same key twice sends it once.
pub async fn confirm(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    CsrfForm(mut form): CsrfForm<TransferForm>,
) -> Result<Response, Error> {
    let caller = trace.with(&session);
    let (accounts, payees) = choices(&state, &caller).await?;
    if !valid_key(&form.key) {
        form.key = idempotency_key();
        let errors = FormErrors::one(
            "from",
            "This form could not be used. Check the details and try again",
        );
        return Ok(refused(&csrf, errors, accounts, payees, form));
    }
    let checked = match check_for_confirm(&form, &accounts) {
        Ok(checked) => checked,
        Err(errors) => return Ok(refused(&csrf, errors, accounts, payees, form)),
    };
    let variables = transfer::Variables {
        input: transfer::TransferInput {
            from_account_id: checked.from.id.clone(),
            to_account_number: checked.to.clone(),
            amount: format::decimal(checked.amount_cents),
            description: checked.description.clone(),
            idempotency_key: form.key.clone(),
        },
    };
    let mut errors = FormErrors::default();
    match state.api.run::<Transfer>(&caller, variables).await {
        Ok(data) => {
            let tx = data.transfer;
            let known = payees.iter().any(|p| p.number == tx.to_account_number)
                || accounts.iter().any(|a| a.number == tx.to_account_number);
            return Ok(ok(&DonePage {
                save_number: (!known).then(|| tx.to_account_number.clone()),
                layout: Layout::new("Transfer complete", &csrf, true).nav("transfer"),
                amount: format::api_money(&tx.amount, &checked.from.currency),
                to_display: format::account_number(&tx.to_account_number),
                from_label: checked.from.label(),
                reference: tx.id,
                description: tx.description,
            }));
        }
        Err(Error::InsufficientFunds) => errors.add(
            "amount",
            format!(
                "The amount is more than the money in this account ({})",
                checked.from.balance
            ),
        ),
        Err(Error::NotFound(message)) if message.starts_with("target") => errors.add(
            "to",
            "There is no account with this number. Check the number and try again",
        ),
        Err(Error::NotFound(_)) => errors.add("from", "Select one of your accounts"),
        Err(Error::BadInput(message)) => errors.add(field_of(&message), sentence(&message)),
        Err(Error::Conflict(_)) => {
            form.key = idempotency_key();
            errors.add(
                "from",
                "This form was already used for a different transfer. Check the details and send it again",
            );
        }
        Err(other) => return Err(other),
    }
    Ok(refused(&csrf, errors, accounts, payees, form))
}

/// The form again, with what to fix.
fn refused(
    csrf: &CsrfToken,
    errors: FormErrors,
    accounts: Vec<AccountChoice>,
    payees: Vec<PayeeChoice>,
    form: TransferForm,
) -> Response {
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &TransferPage {
            layout: Layout::new("Transfer money", csrf, true).nav("transfer"),
            errors,
            notice: None,
            accounts,
            payees,
            form,
        },
    )
}

/// The recipient's number as sent: a typed number wins, else the chosen payee's.
fn recipient(form: &TransferForm) -> &str {
    if form.to.trim().is_empty() {
        &form.payee
    } else {
        &form.to
    }
}

/// Which field an api refusal is about, from its message.
fn field_of(message: &str) -> &'static str {
    let message = message.to_lowercase();
    if message.contains("amount") {
        "amount"
    } else if message.contains("description") {
        "description"
    } else if message.contains("account number") || message.contains("same account") {
        "to"
    } else {
        "from"
    }
}

fn check(form: &TransferForm, accounts: &[AccountChoice]) -> Result<Checked, FormErrors> {
    let mut errors = FormErrors::default();
    let from = accounts.iter().find(|a| a.id == form.from);
    if form.from.is_empty() {
        errors.add("from", "Select the account to send money from");
    } else if from.is_none() {
        errors.add("from", "Select one of your accounts");
    }
    let to = check_account_number(recipient(form), "to", &mut errors);
    if let (Some(from), Some(to)) = (from, &to)
        && &from.number == to
    {
        errors.add(
            "to",
            "Enter a different account: money cannot go to the account it comes from",
        );
    }
    let amount = check_amount(&form.amount, &mut errors);
    if let (Some(from), Some(cents)) = (from, amount)
        && cents > from.balance_cents
    {
        errors.add(
            "amount",
            format!(
                "The amount is more than the money in this account ({})",
                from.balance
            ),
        );
    }
    let description = check_description(&form.description, &mut errors);
    match (from, to, amount) {
        (Some(from), Some(to), Some(amount_cents)) if errors.is_empty() => Ok(Checked {
            from: from.clone(),
            to,
            amount_cents,
            description,
        }),
        _ => Err(errors),
    }
}

/// At confirm the balance check is the api's: a retry of a transfer that already went
/// through must reach it (and be answered with the original), even though the balance
/// is now lower.
fn check_for_confirm(
    form: &TransferForm,
    accounts: &[AccountChoice],
) -> Result<Checked, FormErrors> {
    let unlimited: Vec<AccountChoice> = accounts
        .iter()
        .cloned()
        .map(|mut a| {
            a.balance_cents = i64::MAX;
            a
        })
        .collect();
    check(form, &unlimited).map(|mut checked| {
        if let Some(real) = accounts.iter().find(|a| a.id == checked.from.id) {
            checked.from = real.clone();
        }
        checked
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Vec<AccountChoice> {
        vec![AccountChoice {
            id: "1".into(),
            number: "1111111111".into(),
            display_number: "1111 111 111".into(),
            kind: "Checking".into(),
            balance_cents: 10_000,
            balance: "$100.00".into(),
            currency: "USD".into(),
        }]
    }

    fn form(from: &str, to: &str, amount: &str, description: &str) -> TransferForm {
        TransferForm {
            from: from.into(),
            to: to.into(),
            payee: String::new(),
            amount: amount.into(),
            description: description.into(),
            key: "k".repeat(32),
        }
    }

    #[test]
    fn a_good_transfer_passes() {
        let checked = check(&form("1", "2222 222-222", "12.5", "  Rent  "), &accounts())
            .unwrap_or_else(|_| panic!("valid"));
        assert_eq!(checked.to, "2222222222");
        assert_eq!(checked.amount_cents, 1250);
        assert_eq!(checked.description.as_deref(), Some("Rent"));
    }

    #[test]
    fn a_typed_number_wins_over_a_chosen_payee() {
        let mut chosen = form("1", "", "1", "");
        chosen.payee = "3333333333".into();
        let checked = check(&chosen, &accounts()).unwrap_or_else(|_| panic!("valid"));
        assert_eq!(checked.to, "3333333333");
        chosen.to = "2222 222 222".into();
        let checked = check(&chosen, &accounts()).unwrap_or_else(|_| panic!("valid"));
        assert_eq!(checked.to, "2222222222");
        // Neither: the number is asked for, as before.
        match check(&form("1", " ", "1", ""), &accounts()) {
            Ok(_) => panic!("no recipient"),
            Err(errors) => assert_eq!(
                errors.get("to"),
                Some("Enter the account number to send money to")
            ),
        }
    }

    #[test]
    fn each_problem_is_put_beside_its_field() {
        for (f, field) in [
            (form("", "2222222222", "1", ""), "from"),
            (form("9", "2222222222", "1", ""), "from"),
            (form("1", "", "1", ""), "to"),
            (form("1", "12345", "1", ""), "to"),
            (form("1", "1111111111", "1", ""), "to"),
            (form("1", "2222222222", "", ""), "amount"),
            (form("1", "2222222222", "1.234", ""), "amount"),
            (form("1", "2222222222", "0", ""), "amount"),
            (form("1", "2222222222", "100.01", ""), "amount"),
            (
                form("1", "2222222222", "1", &"x".repeat(141)),
                "description",
            ),
            (form("1", "2222222222", "1", "a\u{7}b"), "description"),
        ] {
            match check(&f, &accounts()) {
                Ok(_) => panic!("{field} should be refused"),
                Err(errors) => assert!(errors.get(field).is_some(), "{field}"),
            }
        }
        // At confirm the api decides about the balance.
        assert!(check_for_confirm(&form("1", "2222222222", "100.01", ""), &accounts()).is_ok());
    }

    #[test]
    fn api_refusals_find_their_field() {
        assert_eq!(
            field_of("amount has more than two decimal places"),
            "amount"
        );
        assert_eq!(field_of("cannot transfer to the same account"), "to");
        assert_eq!(field_of("account number must be 10 digits"), "to");
        assert_eq!(
            field_of("description must be at most 140 characters"),
            "description"
        );
        assert_eq!(field_of("something else"), "from");
    }
}
