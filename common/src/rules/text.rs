//! The rules for what customers type besides amounts: usernames, passwords, e-mail
//! addresses, account numbers and descriptions.

use std::ops::RangeInclusive;

/// A username's length, after trimming and lower-casing.
pub const USERNAME_LENGTH: RangeInclusive<usize> = 3..=32;

/// A password's length in characters.
pub const PASSWORD_LENGTH: RangeInclusive<usize> = 8..=128;

/// An e-mail address's length in bytes (RFC 5321's path limit).
pub const EMAIL_MAX_BYTES: usize = 254;

/// An account number's digits.
pub const ACCOUNT_NUMBER_DIGITS: usize = 10;

/// A description's length in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 140;

/// A saved payee's name, in characters.
pub const PAYEE_NAME_LENGTH: RangeInclusive<usize> = 1..=60;

/// A username as stored: trimmed, lower-cased, 3 to 32 of `a-z 0-9 . _ -`, starting with
/// a letter or digit. `None` when the input cannot be one.
pub fn username(input: &str) -> Option<String> {
    let normalised = input.trim().to_ascii_lowercase();
    let valid_chars = normalised
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    let starts_well = normalised
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    (USERNAME_LENGTH.contains(&normalised.len()) && valid_chars && starts_well)
        .then_some(normalised)
}

/// Whether a password has an acceptable length.
pub fn password_length_ok(password: &str) -> bool {
    PASSWORD_LENGTH.contains(&password.chars().count())
}

/// A plausible e-mail address, trimmed: one `@`, something on each side, a dot inside the
/// domain, no whitespace or control characters.
pub fn email(input: &str) -> Option<&str> {
    let email = input.trim();
    let plausible = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    });
    (plausible
        && email.len() <= EMAIL_MAX_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control()))
    .then_some(email)
}

/// An account number as typed (`1234 567 890`, `1234-567-890`) as its 10 digits.
pub fn account_number(input: &str) -> Option<String> {
    let number: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (number.len() == ACCOUNT_NUMBER_DIGITS && number.bytes().all(|b| b.is_ascii_digit()))
        .then_some(number)
}

/// Why a description is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptionError {
    TooLong,
    /// A control character, or one that reorders the text around it.
    Forbidden,
}

/// A note on a transaction, trimmed; blank means none. At most 140 characters, with no
/// control characters and none that reorder the text around them when shown.
pub fn description(input: &str) -> Result<Option<&str>, DescriptionError> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(DescriptionError::TooLong);
    }
    if text.chars().any(|c| c.is_control() || reorders(c)) {
        return Err(DescriptionError::Forbidden);
    }
    Ok(Some(text))
}

/// Why a payee's name is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    /// A control character, or one that reorders the text around it.
    Forbidden,
}

/// A payee's name, trimmed: 1 to 60 characters, none of them control characters or ones
/// that reorder the text around them (the name is shown back on forms and in lists).
pub fn payee_name(input: &str) -> Result<&str, NameError> {
    let name = input.trim();
    let chars = name.chars().count();
    if chars < *PAYEE_NAME_LENGTH.start() {
        return Err(NameError::Empty);
    }
    if chars > *PAYEE_NAME_LENGTH.end() {
        return Err(NameError::TooLong);
    }
    if name.chars().any(|c| c.is_control() || reorders(c)) {
        return Err(NameError::Forbidden);
    }
    Ok(name)
}

/// Characters that reorder or break the text around them when shown: bidirectional
/// embeddings, overrides, isolates and marks (`"\u{202e}gnp.exe"` shows as `exe.png`), and
/// the line and paragraph separators. The recipient sees a description the sender wrote,
/// so it must read as written. Joiners stay: scripts and emoji need them.
fn reorders(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username("  Alice.B ").as_deref(), Some("alice.b"));
        for bad in ["ab", "_alice", "al ice", "ålice", &"a".repeat(33)] {
            assert_eq!(username(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn passwords_emails_and_numbers() {
        assert!(password_length_ok("12345678") && !password_length_ok("1234567"));
        assert!(password_length_ok(&"é".repeat(128)) && !password_length_ok(&"é".repeat(129)));
        assert_eq!(email(" a@b.co "), Some("a@b.co"));
        for bad in ["a@b", "@b.co", "a@.co", "a@b.co.", "a b@c.de", "a@b@c.de"] {
            assert_eq!(email(bad), None, "{bad:?}");
        }
        assert_eq!(
            account_number("1234 567-890").as_deref(),
            Some("1234567890")
        );
        assert_eq!(account_number("123456789"), None);
        assert_eq!(account_number("12345678901"), None);
    }

    #[test]
    fn payee_names() {
        assert_eq!(payee_name("  Ana María "), Ok("Ana María"));
        assert_eq!(payee_name("   "), Err(NameError::Empty));
        assert_eq!(payee_name(&"ñ".repeat(60)).map(str::len), Ok(120));
        assert_eq!(payee_name(&"ñ".repeat(61)), Err(NameError::TooLong));
        assert_eq!(payee_name("Bob\u{202e}"), Err(NameError::Forbidden));
    }

    #[test]
    fn descriptions() {
        assert_eq!(description("  "), Ok(None));
        assert_eq!(description(" rent "), Ok(Some("rent")));
        assert_eq!(description(&"é".repeat(140)).map(|d| d.is_some()), Ok(true));
        assert_eq!(
            description(&"é".repeat(141)),
            Err(DescriptionError::TooLong)
        );
        assert_eq!(description("a\u{202e}b"), Err(DescriptionError::Forbidden));
        assert_eq!(description("a\nb"), Err(DescriptionError::Forbidden));
    }
}
