//! A submitted form's problems, and the checks every form applies before anything is
//! sent: the shared input rules (`banking_common::rules`) worded for the person typing.

use banking_common::rules::text::{self, DescriptionError};

use crate::format;

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
