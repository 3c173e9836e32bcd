//! A submitted form's problems, and the checks every form applies before anything is
//! sent: the shared input rules (`banking_common::rules`) worded for the person typing.

use banking_common::rules::text::{self, DescriptionError, NameError};
use chrono::NaiveDate;

use crate::format;

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

/// The amount field: cents, or a message beside it.
pub fn check_amount(input: &str, errors: &mut FormErrors) -> Option<i64> {
    match format::parse_amount(input) {
        Ok(cents) => Some(cents),
        Err(message) => {
            errors.add("amount", message);
            None
        }
    }
}

/// The description field: trimmed, `None` when blank; a message beside it when it breaks
/// the shared rule.
pub fn check_description(input: &str, errors: &mut FormErrors) -> Option<String> {
    match text::description(input) {
        Ok(description) => description.map(str::to_owned),
        Err(DescriptionError::TooLong) => {
            errors.add(
                "description",
                format!(
                    "Description must be {} characters or fewer",
                    text::DESCRIPTION_MAX_CHARS
                ),
            );
            None
        }
        Err(DescriptionError::Forbidden) => {
            errors.add(
                "description",
                "Description must not contain line breaks or control characters",
            );
            None
        }
    }
}

/// An account-number field named `field`: its 10 digits, or a message beside it.
pub fn check_account_number(
    input: &str,
    field: &'static str,
    errors: &mut FormErrors,
) -> Option<String> {
    if input.trim().is_empty() {
        errors.add(field, "Enter the account number to send money to");
        return None;
    }
    let number = text::account_number(input);
    if number.is_none() {
        errors.add(
            field,
            format!(
                "Enter an account number of {} digits, like 1234 567 890",
                text::ACCOUNT_NUMBER_DIGITS
            ),
        );
    }
    number
}

/// A payee's account-number field (`account_number`): its 10 digits, or a message.
pub fn check_payee_number(input: &str, errors: &mut FormErrors) -> Option<String> {
    if input.trim().is_empty() {
        errors.add("account_number", "Enter the payee's account number");
        return None;
    }
    check_account_number(input, "account_number", errors)
}

/// A payee's name field (`name`), trimmed, by the shared rule.
pub fn check_payee_name(input: &str, errors: &mut FormErrors) -> Option<String> {
    match text::payee_name(input) {
        Ok(name) => return Some(name.to_owned()),
        Err(NameError::Empty) => errors.add("name", "Enter the payee's name"),
        Err(NameError::TooLong) => errors.add(
            "name",
            format!(
                "Payee name must be {} characters or fewer",
                text::PAYEE_NAME_LENGTH.end()
            ),
        ),
        Err(NameError::Forbidden) => errors.add(
            "name",
            "Payee name must not contain line breaks or control characters",
        ),
    }
    None
}

/// The statement form's two dates (`from`, `to`, as a date field sends them:
/// `2026-11-01`): the period, or messages beside the fields.
pub fn check_statement_period(
    from: &str,
    to: &str,
    errors: &mut FormErrors,
) -> Option<(NaiveDate, NaiveDate)> {
    let date = |input: &str, field: &'static str, which: &str, errors: &mut FormErrors| {
        let input = input.trim();
        if input.is_empty() {
            errors.add(field, format!("Enter the date the statement {which}"));
            return None;
        }
        let parsed = NaiveDate::parse_from_str(input, "%Y-%m-%d").ok();
        if parsed.is_none() {
            errors.add(
                field,
                format!("The date the statement {which} must be a real date, like 2026-11-01"),
            );
        }
        parsed
    };
    let from = date(from, "from", "starts", errors);
    let to = date(to, "to", "ends", errors);
    let (from, to) = (from?, to?);
    if from > to {
        errors.add(
            "to",
            "The date the statement ends must be the same as or after the date it starts",
        );
        return None;
    }
    if to.signed_duration_since(from).num_days() + 1 > STATEMENT_MAX_DAYS as i64 {
        errors.add(
            "to",
            format!(
                "A statement can cover up to {STATEMENT_MAX_DAYS} days. Choose a shorter period"
            ),
        );
        return None;
    }
    Some((from, to))
}

/// The sign-up username field.
pub fn check_username(username: &str, errors: &mut FormErrors) {
    if username.trim().is_empty() {
        errors.add("username", "Enter a username");
    } else if text::username(username).is_none() {
        errors.add(
            "username",
            format!(
                "Username must be {} to {} letters, digits, full stops, hyphens or underscores, starting with a letter or digit",
                text::USERNAME_LENGTH.start(),
                text::USERNAME_LENGTH.end()
            ),
        );
    }
}

/// The sign-up e-mail field.
pub fn check_email(email: &str, errors: &mut FormErrors) {
    if email.trim().is_empty() {
        errors.add("email", "Enter your email address");
    } else if text::email(email).is_none() {
        errors.add(
            "email",
            "Enter an email address in the correct format, like name@example.com",
        );
    }
}

/// The sign-up password field.
pub fn check_password(password: &str, errors: &mut FormErrors) {
    let chars = password.chars().count();
    if password.is_empty() {
        errors.add("password", "Enter a password");
    } else if chars < *text::PASSWORD_LENGTH.start() {
        errors.add(
            "password",
            format!(
                "Password must be {} characters or more",
                text::PASSWORD_LENGTH.start()
            ),
        );
    } else if chars > *text::PASSWORD_LENGTH.end() {
        errors.add(
            "password",
            format!(
                "Password must be {} characters or fewer",
                text::PASSWORD_LENGTH.end()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payee_fields_follow_the_shared_rules() {
        let mut errors = FormErrors::default();
        assert_eq!(
            check_payee_name("  Ana María ", &mut errors).as_deref(),
            Some("Ana María")
        );
        assert_eq!(
            check_payee_number("1234 567-890", &mut errors).as_deref(),
            Some("1234567890")
        );
        assert!(errors.is_empty());
        for (name, message) in [
            ("", "Enter the payee's name"),
            (&"x".repeat(61), "60 characters or fewer"),
            ("Bob\u{202e}", "control characters"),
        ] {
            let mut errors = FormErrors::default();
            assert_eq!(check_payee_name(name, &mut errors), None);
            assert!(
                errors.get("name").is_some_and(|m| m.contains(message)),
                "{name:?}"
            );
        }
        for number in ["", "12345", "12345678901"] {
            let mut errors = FormErrors::default();
            assert_eq!(check_payee_number(number, &mut errors), None);
            assert!(errors.get("account_number").is_some(), "{number:?}");
        }
    }

    #[test]
    fn statement_periods_are_whole_days_up_to_a_year() {
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let mut errors = FormErrors::default();
        assert_eq!(
            check_statement_period("2024-01-01", "2024-12-31", &mut errors),
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
            assert_eq!(check_statement_period(from, to, &mut errors), None);
            assert!(errors.get(field).is_some(), "{from}..{to}");
        }
    }
}
