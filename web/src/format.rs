//! Money and dates as people read and type them. Money stays exact: integer cents from
//! the api's decimal strings, never a float.

/// The largest amount one transfer or deposit may move (the api's limit too).
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000;

/// A decimal string from the api ("1234.50") as cents.
pub fn cents(amount: &str) -> Option<i64> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    let value = whole.checked_mul(100)?.checked_add(fraction)?;
    Some(if negative { -value } else { value })
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

/// Cents as the api's decimal string: `1234.50`.
pub fn decimal(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Parses an amount a person typed. Accepts `12`, `12.5`, `12.50`, `1,234.50` and a
/// leading `$`; refuses anything else with a message to show beside the field.
pub fn parse_amount(input: &str) -> Result<i64, &'static str> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("Enter an amount");
    }
    let text: String = trimmed
        .strip_prefix('$')
        .unwrap_or(trimmed)
        .trim_start()
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || text.ends_with('.') {
        return Err("Enter an amount in numbers, like 12.50");
    }
    if fraction.len() > 2 {
        return Err("Enter an amount with no more than 2 decimal places, like 12.50");
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 9 {
        return Err("Enter an amount of $1,000,000.00 or less");
    }
    let value = cents(&format!(
        "{}.{fraction}",
        if whole.is_empty() { "0" } else { whole }
    ))
    .ok_or("Enter an amount in numbers, like 12.50")?;
    if value <= 0 {
        return Err("Enter an amount greater than 0");
    }
    if value > MAX_AMOUNT_CENTS {
        return Err("Enter an amount of $1,000,000.00 or less");
    }
    Ok(value)
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

/// What a person typed as an account number, without spaces and dashes.
pub fn normalise_account_number(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
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
        assert_eq!(normalise_account_number(" 1234-567 890 "), "1234567890");
    }
}
