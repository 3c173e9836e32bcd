//! A submitted form's problems, and the checks every form applies before anything is
//! sent: the shared input rules (`banking_common::rules`) worded for the person typing.

use banking_common::rules::amount::TypedAmountError;
use banking_common::rules::text::{self, DescriptionError, NameError};
use chrono::NaiveDate;

use crate::format;
use crate::i18n::{Localizer, key};

pub use banking_common::rules::holdings::{MAX_ACCOUNTS, MAX_PAYEES, STATEMENT_MAX_DAYS};

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

/// A new idempotency key for a money-moving form, made when the form is first shown.
pub fn idempotency_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether a key sent back by a form is one we could have made (and the api accepts).
pub fn valid_key(key: &str) -> bool {
    (16..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// An example amount as the reader types it: `12.50`, `12,50`.
pub fn amount_example(cents: i64, t: &Localizer) -> String {
    format::typed(cents, t.lang())
}

/// The amount field, read in the reader's convention: cents, or a message beside it.
pub fn check_amount(
    input: &str,
    currency: &str,
    t: &Localizer,
    errors: &mut FormErrors,
) -> Option<i64> {
    let lang = t.lang();
    let example = amount_example(1250, t);
    let message = match format::parse_amount(input, currency, lang) {
        Ok(cents) => return Some(cents),
        Err(TypedAmountError::Empty) => t.get("amount-enter"),
        Err(TypedAmountError::NotANumber) => t.arg("amount-not-number", "example", example),
        Err(TypedAmountError::Separators) => {
            let conventions = format::conventions(lang);
            let name = |c: char| match c {
                '.' => t.get("separator-point"),
                ',' => t.get("separator-comma"),
                other => other.to_string(),
            };
            t.args(
                "amount-separators",
                &[
                    ("example", example.into()),
                    ("decimal", name(conventions.decimal).into()),
                    ("group", name(conventions.group).into()),
                ],
            )
        }
        Err(TypedAmountError::TooManyPlaces) => t.arg("amount-places", "example", example),
        Err(TypedAmountError::NotPositive) => t.get("amount-positive"),
        Err(TypedAmountError::TooLarge) => t.arg(
            "amount-too-large",
            "max",
            format::money(format::MAX_AMOUNT_CENTS, currency, lang),
        ),
    };
    errors.add("amount", message);
    None
}

/// The description field: trimmed, `None` when blank; a message beside it when it breaks
/// the shared rule.
pub fn check_description(input: &str, t: &Localizer, errors: &mut FormErrors) -> Option<String> {
    match text::description(input) {
        Ok(description) => description.map(str::to_owned),
        Err(DescriptionError::TooLong) => {
            errors.add(
                "description",
                t.arg("description-too-long", "max", text::DESCRIPTION_MAX_CHARS),
            );
            None
        }
        Err(DescriptionError::Forbidden) => {
            errors.add("description", t.get("description-forbidden"));
            None
        }
    }
}

/// An account-number field named `field`: its 10 digits, or a message beside it.
pub fn check_account_number(
    input: &str,
    field: &'static str,
    t: &Localizer,
    errors: &mut FormErrors,
) -> Option<String> {
    if input.trim().is_empty() {
        errors.add(field, t.get("transfer-to-enter"));
        return None;
    }
    let number = text::account_number(input);
    if number.is_none() {
        errors.add(
            field,
            t.arg("transfer-to-rule", "digits", text::ACCOUNT_NUMBER_DIGITS),
        );
    }
    number
}

/// A payee's account-number field (`account_number`): its 10 digits, or a message.
pub fn check_payee_number(input: &str, t: &Localizer, errors: &mut FormErrors) -> Option<String> {
    if input.trim().is_empty() {
        errors.add("account_number", t.get("payee-number-enter"));
        return None;
    }
    check_account_number(input, "account_number", t, errors)
}

/// A payee's name field (`name`), trimmed, by the shared rule.
pub fn check_payee_name(input: &str, t: &Localizer, errors: &mut FormErrors) -> Option<String> {
    match text::payee_name(input) {
        Ok(name) => return Some(name.to_owned()),
        Err(NameError::Empty) => errors.add("name", t.get("payee-name-enter")),
        Err(NameError::TooLong) => errors.add(
            "name",
            t.arg("payee-name-too-long", "max", *text::PAYEE_NAME_LENGTH.end()),
        ),
        Err(NameError::Forbidden) => errors.add("name", t.get("payee-name-forbidden")),
    }
    None
}

/// The statement form's two dates (`from`, `to`, as a date field sends them:
/// `2026-11-01`): the period, or messages beside the fields.
pub fn check_statement_period(
    from: &str,
    to: &str,
    t: &Localizer,
    errors: &mut FormErrors,
) -> Option<(NaiveDate, NaiveDate)> {
    let date =
        |input: &str, field: &'static str, enter: &str, real: &str, errors: &mut FormErrors| {
            let input = input.trim();
            if input.is_empty() {
                errors.add(field, t.get(enter));
                return None;
            }
            let parsed = NaiveDate::parse_from_str(input, "%Y-%m-%d").ok();
            if parsed.is_none() {
                errors.add(field, t.get(real));
            }
            parsed
        };
    let from = date(
        from,
        "from",
        key("statement-from-enter"),
        key("statement-from-real"),
        errors,
    );
    let to = date(
        to,
        "to",
        key("statement-to-enter"),
        key("statement-to-real"),
        errors,
    );
    let (from, to) = (from?, to?);
    if from > to {
        errors.add("to", t.get("statement-order"));
        return None;
    }
    if to.signed_duration_since(from).num_days() + 1 > STATEMENT_MAX_DAYS as i64 {
        errors.add(
            "to",
            t.arg("statement-too-long", "days", STATEMENT_MAX_DAYS),
        );
        return None;
    }
    Some((from, to))
}

/// The sign-up username field.
pub fn check_username(username: &str, t: &Localizer, errors: &mut FormErrors) {
    if username.trim().is_empty() {
        errors.add("username", t.get("signup-username-enter"));
    } else if text::username(username).is_none() {
        errors.add(
            "username",
            t.arg2(
                "signup-username-rule",
                "min",
                *text::USERNAME_LENGTH.start(),
                "max",
                *text::USERNAME_LENGTH.end(),
            ),
        );
    }
}

/// The sign-up e-mail field.
pub fn check_email(email: &str, t: &Localizer, errors: &mut FormErrors) {
    if email.trim().is_empty() {
        errors.add("email", t.get("signup-email-enter"));
    } else if text::email(email).is_none() {
        errors.add("email", t.get("signup-email-rule"));
    }
}

/// The sign-up password field.
pub fn check_password(password: &str, t: &Localizer, errors: &mut FormErrors) {
    let chars = password.chars().count();
    if password.is_empty() {
        errors.add("password", t.get("signup-password-enter"));
    } else if chars < *text::PASSWORD_LENGTH.start() {
        errors.add(
            "password",
            t.arg(
                "signup-password-short",
                "min",
                *text::PASSWORD_LENGTH.start(),
            ),
        );
    } else if chars > *text::PASSWORD_LENGTH.end() {
        errors.add(
            "password",
            t.arg("signup-password-long", "max", *text::PASSWORD_LENGTH.end()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::locale::Lang;

    const T: Localizer = Localizer::english();

    #[test]
    fn payee_fields_follow_the_shared_rules() {
        let mut errors = FormErrors::default();
        assert_eq!(
            check_payee_name("  Ana María ", &T, &mut errors).as_deref(),
            Some("Ana María")
        );
        assert_eq!(
            check_payee_number("1234 567-890", &T, &mut errors).as_deref(),
            Some("1234567890")
        );
        assert!(errors.is_empty());
        for (name, message) in [
            ("", "Enter the payee's name"),
            (&"x".repeat(61), "60 characters or fewer"),
            ("Bob\u{202e}", "control characters"),
        ] {
            let mut errors = FormErrors::default();
            assert_eq!(check_payee_name(name, &T, &mut errors), None);
            assert!(
                errors.get("name").is_some_and(|m| m.contains(message)),
                "{name:?}"
            );
        }
        for number in ["", "12345", "12345678901"] {
            let mut errors = FormErrors::default();
            assert_eq!(check_payee_number(number, &T, &mut errors), None);
            assert!(errors.get("account_number").is_some(), "{number:?}");
        }
    }

    #[test]
    fn statement_periods_are_whole_days_up_to_a_year() {
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let mut errors = FormErrors::default();
        assert_eq!(
            check_statement_period("2024-01-01", "2024-12-31", &T, &mut errors),
            Some((day("2024-01-01"), day("2024-12-31")))
        );
        assert!(errors.is_empty());
        for (from, to, field) in [
            ("", "2026-11-01", "from"),
            ("2026-11-01", "", "to"),
            ("2026-02-30", "2026-03-01", "from"),
            ("01/11/2026", "2026-11-30", "from"),
            ("2026-11-02", "2026-11-01", "to"),
            ("2025-01-01", "2026-01-02", "to"),
        ] {
            let mut errors = FormErrors::default();
            assert_eq!(check_statement_period(from, to, &T, &mut errors), None);
            assert!(errors.get(field).is_some(), "{from}..{to}");
        }
    }

    #[test]
    fn amounts_are_explained_in_the_readers_language() {
        let es = Localizer::new(Lang::Es);
        let mut errors = FormErrors::default();
        assert_eq!(check_amount("12,50", "USD", &es, &mut errors), Some(1250));
        assert_eq!(check_amount("12.50", "USD", &es, &mut errors), None);
        let message = errors.get("amount").unwrap_or_default().to_owned();
        assert!(message.contains("12,50"), "{message}");
        let mut errors = FormErrors::default();
        assert_eq!(check_amount("12,50", "USD", &T, &mut errors), None);
        let message = errors.get("amount").unwrap_or_default().to_owned();
        assert!(
            message.contains("12.50") && message.contains("a point"),
            "{message}"
        );
        let mut errors = FormErrors::default();
        assert_eq!(check_amount("2000000", "USD", &es, &mut errors), None);
        let message = errors.get("amount").unwrap_or_default().to_owned();
        assert!(message.contains("1.000.000,00\u{a0}US$"), "{message}");
    }
}
