//! Amounts of money as exact integer cents, never a float, and the decimal strings
//! ("1234.50") the api speaks.

/// The largest amount one deposit or transfer may move: 1,000,000.00.
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000;

/// Why a typed amount is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// Not `digits[.digits]`: a sign, an exponent, a separator, a letter, nothing.
    NotDecimal,
    /// More than two decimal places.
    TooManyPlaces,
    /// Zero.
    NotPositive,
    /// Above [`MAX_AMOUNT_CENTS`].
    TooLarge,
}

/// An amount to move, in the api's form: `digits[.digits]` with at most two places,
/// strictly positive and at most [`MAX_AMOUNT_CENTS`]. Signs, exponents, separators,
/// whitespace and "NaN" are refused.
pub fn parse_amount(input: &str) -> Result<i64, AmountError> {
    let (whole, fraction) = match input.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (input, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(AmountError::NotDecimal);
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > 2 {
        return Err(AmountError::TooManyPlaces);
    }
    // More than 12 integer digits cannot be within the limit; refusing early keeps the
    // arithmetic below far from overflow.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 12 {
        return Err(AmountError::TooLarge);
    }
    let units: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| AmountError::NotDecimal)?
    };
    let fraction_cents: i64 = match fraction.len() {
        0 => 0,
        1 => {
            fraction
                .parse::<i64>()
                .map_err(|_| AmountError::NotDecimal)?
                * 10
        }
        _ => fraction.parse().map_err(|_| AmountError::NotDecimal)?,
    };
    let cents = units * 100 + fraction_cents;
    if cents == 0 {
        return Err(AmountError::NotPositive);
    }
    if cents > MAX_AMOUNT_CENTS {
        return Err(AmountError::TooLarge);
    }
    Ok(cents)
}

/// A signed decimal string as the api writes balances and postings ("-1234.50") in cents;
/// `None` when it is not one.
pub fn parse_decimal(amount: &str) -> Option<i64> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || fraction.len() > 2 || !all_digits(whole) || !all_digits(fraction) {
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

/// Cents as the api's decimal string: `1234.50`, `-0.05`.
pub fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_to_move() {
        assert_eq!(parse_amount("12"), Ok(1200));
        assert_eq!(parse_amount("12.5"), Ok(1250));
        assert_eq!(parse_amount("0.01"), Ok(1));
        assert_eq!(parse_amount("1000000.00"), Ok(MAX_AMOUNT_CENTS));
        assert_eq!(parse_amount("0000000000000000012.00"), Ok(1200));
        for bad in [
            "", ".5", "5.", "-1", "+1", "1e3", "1,000", " 1", "NaN", "1.2.3",
        ] {
            assert_eq!(parse_amount(bad), Err(AmountError::NotDecimal), "{bad:?}");
        }
        assert_eq!(parse_amount("1.234"), Err(AmountError::TooManyPlaces));
        assert_eq!(parse_amount("0.00"), Err(AmountError::NotPositive));
        assert_eq!(parse_amount("1000000.01"), Err(AmountError::TooLarge));
        assert_eq!(
            parse_amount("99999999999999999999"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn decimals_round_trip() {
        for cents in [0, 5, 123_450, -5, -123_450, i64::MAX / 200] {
            assert_eq!(parse_decimal(&decimal(cents)), Some(cents), "{cents}");
        }
        assert_eq!(parse_decimal("7"), Some(700));
        assert_eq!(parse_decimal("-0.5"), Some(-50));
        for bad in ["", "-", "1.234", "1,0", "abc", "99999999999999999999"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }
}
