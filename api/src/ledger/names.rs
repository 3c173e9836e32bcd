//! Parse, don't validate: the user-supplied strings the ledger accepts, each as a type
//! that can only hold a valid value.

use banking_common::rules::text::{self, DescriptionError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Error, Input};

/// A lower-cased username of 3 to 32 characters from `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Username, Error> {
        text::username(input).map(Username).ok_or_else(|| {
            Error::invalid(
                Input::Username,
                "username must be 3 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of 8 to 128 characters. Only its argon2id hash is ever stored.
pub struct Password<'a>(&'a str);

impl<'a> Password<'a> {
    pub fn parse(input: &'a str) -> Result<Password<'a>, Error> {
        if !text::password_length_ok(input) {
            return Err(Error::invalid(
                Input::Password,
                "password must be 8 to 128 characters",
            ));
        }
        Ok(Password(input))
    }

    pub fn expose(&self) -> &str {
        self.0
    }
}

/// A plausible e-mail address: one `@`, something on each side, a dot in the domain, no spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, Error> {
        text::email(input)
            .map(|email| Email(email.to_owned()))
            .ok_or_else(|| Error::invalid(Input::Email, "email is not a valid address"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 10-digit account number, the way customers name each other's accounts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountNumber(String);

impl AccountNumber {
    /// `field` says which input held the number (a transfer's target, a payee's).
    pub fn parse(input: &str, field: Input) -> Result<AccountNumber, Error> {
        text::account_number(input)
            .map(AccountNumber)
            .ok_or_else(|| Error::invalid(field, "account number must be 10 digits"))
    }

    /// A fresh random number; uniqueness is enforced by the database.
    pub fn generate() -> AccountNumber {
        use rand::Rng;
        let n: u64 = rand::thread_rng().gen_range(1_000_000_000..10_000_000_000);
        AccountNumber(n.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's key for a retryable operation: 1 to 64 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(input: &str) -> Result<IdempotencyKey, Error> {
        if input.is_empty() || input.len() > 64 || !input.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                Input::IdempotencyKey,
                "idempotency key must be 1 to 64 printable ASCII characters",
            ));
        }
        Ok(IdempotencyKey(input.to_owned()))
    }

    /// A fresh key for clients (like the seed REST route) that do not send one.
    pub fn generate() -> IdempotencyKey {
        IdempotencyKey(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-text note on a transaction: at most 140 characters, no control characters.
/// Blank means none. It is stored as typed and escaped wherever it is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    pub fn parse(input: Option<&str>) -> Result<Description, Error> {
        match text::description(input.unwrap_or_default()) {
            Ok(text) => Ok(Description(text.map(str::to_owned))),
            Err(DescriptionError::TooLong | DescriptionError::Forbidden) => Err(Error::invalid(
                Input::Description,
                "description must be at most 140 characters without control or text-direction characters",
            )),
        }
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// A position in an account's history, newest first: opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(pub(crate) i64);

impl Cursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("tx:{}", self.0))
    }

    pub fn parse(input: &str) -> Result<Cursor, Error> {
        let invalid = || Error::invalid(Input::Cursor, "cursor is not valid");
        if input.len() > 64 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(input).map_err(|_| invalid())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
        let id = text
            .strip_prefix("tx:")
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(invalid)?;
        Ok(Cursor(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse("  Alice ").map(|u| u.0).ok().as_deref(),
            Some("alice")
        );
        for bad in [
            "",
            "ab",
            "-alice",
            "al ice",
            "alice!",
            "<script>",
            &"a".repeat(33),
            "ålice",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn account_numbers_are_ten_digits() {
        assert!(AccountNumber::parse("1234567890", Input::TargetAccount).is_ok());
        assert!(AccountNumber::parse("1234-567-890", Input::TargetAccount).is_ok());
        for bad in ["", "123456789", "12345678901", "12345678x0", "١٢٣٤٥٦٧٨٩٠"] {
            assert!(
                AccountNumber::parse(bad, Input::TargetAccount).is_err(),
                "{bad:?}"
            );
        }
        for _ in 0..100 {
            assert!(
                AccountNumber::parse(AccountNumber::generate().as_str(), Input::TargetAccount)
                    .is_ok()
            );
        }
    }

    #[test]
    fn emails_and_passwords() {
        assert!(Email::parse("a@b.co").is_ok());
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.de", "a@.co"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("long enough").is_ok());
    }

    #[test]
    fn descriptions_and_keys() {
        assert_eq!(
            Description::parse(Some("  "))
                .map(Description::into_inner)
                .ok(),
            Some(None)
        );
        assert!(Description::parse(Some("bell\u{7}")).is_err());
        assert!(Description::parse(Some(&"é".repeat(141))).is_err());
        assert!(Description::parse(Some("<script>alert('x')</script> ünïcode")).is_ok());
        for sneaky in [
            "\u{202e}gnp.exe",
            "a\u{2066}b",
            "rent\u{200f}",
            "x\u{2028}y",
        ] {
            assert!(Description::parse(Some(sneaky)).is_err(), "{sneaky:?}");
        }
        assert!(Description::parse(Some("👩\u{200d}💻 مرحبا שלום")).is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(65)).is_err());
    }

    proptest! {
        #[test]
        fn cursors_round_trip(id in 1i64..i64::MAX) {
            prop_assert_eq!(Cursor::parse(&Cursor(id).encode()).ok(), Some(Cursor(id)));
        }

        #[test]
        fn parsers_never_panic(input in "\\PC{0,80}") {
            let _ = Cursor::parse(&input);
            let _ = Username::parse(&input);
            let _ = Email::parse(&input);
            let _ = AccountNumber::parse(&input, Input::TargetAccount);
            let _ = IdempotencyKey::parse(&input);
            let _ = Description::parse(Some(&input));
            let _ = super::super::AccountId::parse(&input, Input::Id);
        }

        #[test]
        fn accepted_usernames_are_normal(input in "[a-zA-Z0-9._-]{0,40}") {
            if let Ok(name) = Username::parse(&input) {
                prop_assert_eq!(Username::parse(name.as_str()).ok(), Some(name.clone()));
                prop_assert!(name.as_str().len() <= 32);
            }
        }
    }
}
