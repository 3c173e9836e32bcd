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

use banking_common::rules::text::{DESCRIPTION_MAX_CHARS, PAYEE_NAME_LENGTH};

use crate::client::{Transfer, transfer};
use crate::error::Error;
use crate::format;
use crate::i18n::Localizer;
use crate::locale::Locale;
use crate::render::{Layout, html, ok};
use crate::session::{CsrfForm, CsrfToken, Session, Trace};

use super::form::{
    FormErrors, amount_example, check_account_number, check_amount, check_description,
    idempotency_key, valid_key,
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
    t: Localizer,
    errors: FormErrors,
    notice: Option<String>,
    accounts: Vec<AccountChoice>,
    payees: Vec<PayeeChoice>,
    form: TransferForm,
    amount_example: String,
    /// The currency sign before or after the amount field, as the reader writes it.
    amount_affix: (String, String),
    description_max: usize,
}

#[derive(Template)]
#[template(path = "transfer_review.html")]
pub struct ReviewPage {
    layout: Layout,
    t: Localizer,
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
    t: Localizer,
    name_max: usize,
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
    t: &Localizer,
) -> Result<(Vec<AccountChoice>, Vec<PayeeChoice>), Error> {
    let (accounts, payees) = tokio::join!(
        account_choices(state, caller, t),
        payee_choices(state, caller)
    );
    Ok((accounts?, payees?))
}

/// The transfer form, with what to fix and any notice.
fn page(
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    notice: Option<String>,
    accounts: Vec<AccountChoice>,
    payees: Vec<PayeeChoice>,
    form: TransferForm,
) -> TransferPage {
    let t = Localizer::new(locale.lang);
    let currency = accounts
        .iter()
        .find(|a| a.id == form.from)
        .or(accounts.first())
        .map_or("USD", |a| a.currency.as_str());
    TransferPage {
        layout: Layout::new(locale, t.get("transfer-title"), csrf, true).nav("transfer"),
        amount_example: amount_example(1250, &t),
        amount_affix: format::currency_affix(currency, locale.lang),
        description_max: DESCRIPTION_MAX_CHARS,
        t,
        errors,
        notice,
        accounts,
        payees,
        form,
    }
}

pub async fn form(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
    query: Result<Query<TransferForm>, QueryRejection>,
    notice: Result<Query<NoticeQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let (accounts, payees) = choices(&state, &trace.with(&session), &t).await?;
    let mut form = query.map(|q| q.0).unwrap_or_default();
    if !valid_key(&form.key) {
        form.key = idempotency_key();
    }
    if form.from.is_empty() && accounts.len() == 1 {
        form.from = accounts[0].id.clone();
    }
    let saved = notice.ok().and_then(|q| q.0.saved).is_some();
    let notice = saved.then(|| t.get("transfer-payee-saved"));
    Ok(ok(&page(
        &locale,
        &csrf,
        FormErrors::default(),
        notice,
        accounts,
        payees,
        form,
    )))
}

/// `POST /transfer`: check the details and show them for review; nothing moves yet.
pub async fn review(
    State(state): State<WebState>,
    session: Session,
    trace: Trace,
    csrf: CsrfToken,
    locale: Locale,
    CsrfForm(mut form): CsrfForm<TransferForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let (accounts, payees) = choices(&state, &trace.with(&session), &t).await?;
    if !valid_key(&form.key) {
        form.key = idempotency_key();
    }
    let checked = match check(&form, &accounts, &t) {
        Ok(checked) => checked,
        Err(errors) => return Ok(refused(&locale, &csrf, errors, accounts, payees, form)),
    };
    // A typed number is shown back as its digits; a chosen payee stays chosen.
    if !form.to.trim().is_empty() {
        form.to = checked.to.clone();
    }
    // Sent back as the reader types it, to be read again the same way at confirm.
    form.amount = format::typed(checked.amount_cents, locale.lang);
    form.description = checked.description.clone().unwrap_or_default();
    let change_href = format!(
        "/transfer?{}",
        serde_urlencoded::to_string(&form).unwrap_or_default()
    );
    Ok(ok(&ReviewPage {
        layout: Layout::new(&locale, t.get("review-title"), &csrf, true).nav("transfer"),
        t,
        from_label: checked.from.label.clone(),
        to_display: format::account_number(&checked.to),
        to_name: payees
            .iter()
            .find(|p| p.number == checked.to)
            .map(|p| p.name.clone()),
        amount_display: format::money(checked.amount_cents, &checked.from.currency, locale.lang),
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
    locale: Locale,
    CsrfForm(mut form): CsrfForm<TransferForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let caller = trace.with(&session);
    let (accounts, payees) = choices(&state, &caller, &t).await?;
    if !valid_key(&form.key) {
        form.key = idempotency_key();
        let errors = FormErrors::one("from", t.get("transfer-key-broken"));
        return Ok(refused(&locale, &csrf, errors, accounts, payees, form));
    }
    let checked = match check_for_confirm(&form, &accounts, &t) {
        Ok(checked) => checked,
        Err(errors) => return Ok(refused(&locale, &csrf, errors, accounts, payees, form)),
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
                layout: Layout::new(&locale, t.get("transfer-done-title"), &csrf, true)
                    .nav("transfer"),
                t,
                name_max: *PAYEE_NAME_LENGTH.end(),
                amount: format::api_money(&tx.amount, &checked.from.currency, locale.lang),
                to_display: format::account_number(&tx.to_account_number),
                from_label: checked.from.label.clone(),
                reference: tx.id,
                description: tx.description,
            }));
        }
        Err(Error::Conflict(_)) => {
            // The idempotency key was used for another transfer: a fresh form.
            form.key = idempotency_key();
            errors.add("from", t.get("transfer-key-reused"));
        }
        Err(refusal @ (Error::BadInput(_) | Error::NotFound(_) | Error::InsufficientFunds(_))) => {
            let (field, message) = explain(&refusal, &checked.from, &t);
            errors.add(field, message);
        }
        Err(other) => return Err(other),
    }
    Ok(refused(&locale, &csrf, errors, accounts, payees, form))
}

/// A refusal of the api's as the field it concerns (`extensions.field`) and what to do
/// about it. The pairs this form expects:
///
/// | code | field | shown beside |
/// |---|---|---|
/// | `NOT_FOUND` | `toAccountNumber` | the number: no such account |
/// | `NOT_FOUND` | `fromAccountId` (or none) | the account: not one of yours |
/// | `BAD_USER_INPUT` | `toAccountNumber` | the number: the account it comes from |
/// | `BAD_USER_INPUT` | `fromAccountId` | the account: not one of yours |
/// | `BAD_USER_INPUT` | `amount`, `description` | that field |
/// | `BAD_USER_INPUT` | `idempotencyKey` | the account: the form could not be used |
/// | `INSUFFICIENT_FUNDS` | `amount` (or none) | the amount: more than the balance |
/// | anything else with a field | | the account: the transfer could not be made |
fn explain(refusal: &Error, from: &AccountChoice, t: &Localizer) -> (&'static str, String) {
    match (refusal, refusal.field()) {
        (Error::InsufficientFunds(_), _) => (
            "amount",
            t.arg("transfer-too-much", "balance", &from.balance),
        ),
        (Error::NotFound(_), Some("toAccountNumber")) => ("to", t.get("transfer-to-unknown")),
        (Error::NotFound(_), _) | (Error::BadInput(_), Some("fromAccountId")) => {
            ("from", t.get("transfer-from-yours"))
        }
        (Error::BadInput(_), Some("toAccountNumber")) => ("to", t.get("transfer-to-same")),
        (Error::BadInput(_), Some("amount")) => ("amount", t.get("amount-refused")),
        (Error::BadInput(_), Some("description")) => ("description", t.get("description-refused")),
        (Error::BadInput(_), Some("idempotencyKey")) => ("from", t.get("transfer-key-broken")),
        _ => ("from", t.get("transfer-refused")),
    }
}

/// The form again, with what to fix.
fn refused(
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    accounts: Vec<AccountChoice>,
    payees: Vec<PayeeChoice>,
    form: TransferForm,
) -> Response {
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(locale, csrf, errors, None, accounts, payees, form),
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

fn check(
    form: &TransferForm,
    accounts: &[AccountChoice],
    t: &Localizer,
) -> Result<Checked, FormErrors> {
    let mut errors = FormErrors::default();
    let from = accounts.iter().find(|a| a.id == form.from);
    if form.from.is_empty() {
        errors.add("from", t.get("transfer-from-choose"));
    } else if from.is_none() {
        errors.add("from", t.get("transfer-from-yours"));
    }
    let to = check_account_number(recipient(form), "to", t, &mut errors);
    if let (Some(from), Some(to)) = (from, &to)
        && &from.number == to
    {
        errors.add("to", t.get("transfer-to-same"));
    }
    let currency = from
        .or(accounts.first())
        .map_or("USD", |a| a.currency.as_str());
    let amount = check_amount(&form.amount, currency, t, &mut errors);
    if let (Some(from), Some(cents)) = (from, amount)
        && cents > from.balance_cents
    {
        errors.add(
            "amount",
            t.arg("transfer-too-much", "balance", &from.balance),
        );
    }
    let description = check_description(&form.description, t, &mut errors);
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
    t: &Localizer,
) -> Result<Checked, FormErrors> {
    let unlimited: Vec<AccountChoice> = accounts
        .iter()
        .cloned()
        .map(|mut a| {
            a.balance_cents = i64::MAX;
            a
        })
        .collect();
    check(form, &unlimited, t).map(|mut checked| {
        if let Some(real) = accounts.iter().find(|a| a.id == checked.from.id) {
            checked.from = real.clone();
        }
        checked
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::Lang;

    const T: Localizer = Localizer::english();

    fn accounts() -> Vec<AccountChoice> {
        vec![AccountChoice {
            id: "1".into(),
            number: "1111111111".into(),
            display_number: "1111 111 111".into(),
            kind: "Checking".into(),
            label: "Checking 1111 111 111".into(),
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
        let checked = check(
            &form("1", "2222 222-222", "12.5", "  Rent  "),
            &accounts(),
            &T,
        )
        .unwrap_or_else(|_| panic!("valid"));
        assert_eq!(checked.to, "2222222222");
        assert_eq!(checked.amount_cents, 1250);
        assert_eq!(checked.description.as_deref(), Some("Rent"));
    }

    #[test]
    fn a_typed_number_wins_over_a_chosen_payee() {
        let mut chosen = form("1", "", "1", "");
        chosen.payee = "3333333333".into();
        let checked = check(&chosen, &accounts(), &T).unwrap_or_else(|_| panic!("valid"));
        assert_eq!(checked.to, "3333333333");
        chosen.to = "2222 222 222".into();
        let checked = check(&chosen, &accounts(), &T).unwrap_or_else(|_| panic!("valid"));
        assert_eq!(checked.to, "2222222222");
        // Neither: the number is asked for, as before.
        match check(&form("1", " ", "1", ""), &accounts(), &T) {
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
            match check(&f, &accounts(), &T) {
                Ok(_) => panic!("{field} should be refused"),
                Err(errors) => assert!(errors.get(field).is_some(), "{field}"),
            }
        }
        // At confirm the api decides about the balance.
        assert!(check_for_confirm(&form("1", "2222222222", "100.01", ""), &accounts(), &T).is_ok());
    }

    #[test]
    fn api_refusals_find_their_field_by_code_and_field_alone() {
        let from = &accounts()[0];
        let es = Localizer::new(Lang::Es);
        for (code, field, expected) in [
            ("NOT_FOUND", Some("toAccountNumber"), "to"),
            ("NOT_FOUND", Some("fromAccountId"), "from"),
            ("NOT_FOUND", None, "from"),
            ("BAD_USER_INPUT", Some("toAccountNumber"), "to"),
            ("BAD_USER_INPUT", Some("amount"), "amount"),
            ("BAD_USER_INPUT", Some("description"), "description"),
            ("BAD_USER_INPUT", Some("idempotencyKey"), "from"),
            ("BAD_USER_INPUT", None, "from"),
            ("INSUFFICIENT_FUNDS", Some("amount"), "amount"),
            ("INSUFFICIENT_FUNDS", None, "amount"),
        ] {
            let refusal = Error::from_api(code, field);
            assert_eq!(explain(&refusal, from, &T).0, expected, "{code} {field:?}");
            let (_, spanish) = explain(&refusal, from, &es);
            assert_ne!(spanish, explain(&refusal, from, &T).1, "{code} {field:?}");
        }
    }
}
