//! Money and dates as people read and type them. Money stays exact: integer cents from
//! the api's decimal strings, never a float.

use banking_common::rules::amount::{self, AmountError};
pub use banking_common::rules::amount::{MAX_AMOUNT_CENTS, decimal};

/// A decimal string from the api ("1234.50") as cents.
pub fn cents(amount: &str) -> Option<i64> {
    amount::parse_decimal(amount)
}

/// Cents with thousands separators and the currency's sign: `$1,234.50`.
pub fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let symbol = match currency {
        "USD" => "$".to_owned(),
        "EUR" => "€".to_owned(),
        "GBP" => "£".to_owned(),
        other => format!("{other} "),
    };
    format!("{sign}{symbol}{grouped}.{:02}", abs % 100)
}

/// An amount from the api shown as money; the raw text if it is somehow not a number.
pub fn api_money(amount: &str, currency: &str) -> String {
    cents(amount).map_or_else(|| amount.to_owned(), |c| money(c, currency))
}

/// Parses an amount a person typed: `12`, `12.5`, `12.50`, `1,234.50`, with a leading `$`
/// allowed. A comma counts only where it groups thousands (`1,234`); anywhere else
/// (`12,50`, `1,2,3`) the amount is refused rather than guessed. The rest is the shared
/// rule (`banking_common::rules::amount`). Refusals are messages to show beside the field.
pub fn parse_amount(input: &str) -> Result<i64, &'static str> {
    const NOT_A_NUMBER: &str = "Enter an amount in numbers, like 12.50";
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("Enter an amount");
    }
    let text = trimmed.strip_prefix('$').unwrap_or(trimmed).trim_start();
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let whole = ungrouped(whole, ',').ok_or(NOT_A_NUMBER)?;
    let plain = match fraction {
        Some(fraction) => format!("{whole}.{fraction}"),
        None => whole,
    };
    amount::parse_amount(&plain).map_err(|refusal| match refusal {
        AmountError::NotDecimal => NOT_A_NUMBER,
        AmountError::TooManyPlaces => {
            "Enter an amount with no more than 2 decimal places, like 12.50"
        }
        AmountError::NotPositive => "Enter an amount greater than 0",
        AmountError::TooLarge => "Enter an amount of $1,000,000.00 or less",
    })
}

/// Whole units written with `separator` between groups of three (`1,234,567`) without
/// it; `None` when a separator stands anywhere else.
fn ungrouped(whole: &str, separator: char) -> Option<String> {
    if !whole.contains(separator) {
        return Some(whole.to_owned());
    }
    let mut groups = whole.split(separator);
    let first = groups.next()?;
    let first_ok = (1..=3).contains(&first.len());
    let mut digits = first.to_owned();
    for group in groups {
        if group.len() != 3 {
            return None;
        }
        digits.push_str(group);
    }
    first_ok.then_some(digits)
}

/// An RFC 3339 time as a short UTC date and time: `27 Nov 2025, 14:03`.
pub fn date(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%-d %b %Y, %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// An account number as people read it: `1234 567 890`.
pub fn account_number(number: &str) -> String {
    if number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {}", &number[..4], &number[4..7], &number[7..])
    } else {
        number.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_and_readable() {
        assert_eq!(cents("1234.50"), Some(123_450));
        assert_eq!(cents("0.05"), Some(5));
        assert_eq!(cents("7"), Some(700));
        assert_eq!(cents("-3.2"), Some(-320));
        assert_eq!(cents("1.234"), None);
        assert_eq!(cents("abc"), None);
        assert_eq!(money(123_450, "USD"), "$1,234.50");
        assert_eq!(money(100_000_000, "USD"), "$1,000,000.00");
        assert_eq!(money(5, "EUR"), "€0.05");
        assert_eq!(money(-4250, "USD"), "-$42.50");
        assert_eq!(money(0, "CHF"), "CHF 0.00");
        assert_eq!(decimal(123_405), "1234.05");
    }

    #[test]
    fn typed_amounts_are_parsed_or_explained() {
        for (input, expected) in [
            ("12", 1200),
            ("12.5", 1250),
            (" 12.50 ", 1250),
            ("$1,234.56", 123_456),
            ("1,000,000", MAX_AMOUNT_CENTS),
            ("0.01", 1),
            ("007.50", 750),
            ("1000000", MAX_AMOUNT_CENTS),
        ] {
            assert_eq!(parse_amount(input), Ok(expected), "{input}");
        }
        for input in [
            "",
            "  ",
            "abc",
            "1.234",
            "-5",
            "+5",
            "1e3",
            "0",
            "0.00",
            "12.",
            ".5",
            "1000000.01",
            "99999999999999999999",
            "12,50.1.2",
            "12,50",
            "1,2,3",
            ",123",
            "1234,567",
            "１２",
        ] {
            assert!(parse_amount(input).is_err(), "{input:?} should be refused");
        }
    }

    #[test]
    fn dates_and_numbers_read_well() {
        assert_eq!(date("2025-11-27T14:03:09.123Z"), "27 Nov 2025, 14:03");
        assert_eq!(date("not a date"), "not a date");
        assert_eq!(account_number("1234567890"), "1234 567 890");
    }
}
