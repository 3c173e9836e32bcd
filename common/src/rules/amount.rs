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

/// How a reader writes numbers: the character before the cents and the one between
/// groups of thousands. English writes `1,234.50`, Spanish `1.234,50`; the web takes
/// them from CLDR for the reader's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conventions {
    pub decimal: char,
    pub group: char,
}

/// Why an amount a person typed is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypedAmountError {
    /// Nothing typed.
    Empty,
    /// Something other than digits and the reader's two separators: a letter, a sign,
    /// a space inside, another script's digits.
    NotANumber,
    /// A separator where the reader's convention has none: the thousands separator
    /// anywhere but between groups of three (`12,50` in English), two decimal
    /// separators, or one with no digits on a side. Refused rather than guessed.
    Separators,
    /// More than two decimal places.
    TooManyPlaces,
    /// Zero.
    NotPositive,
    /// Above [`MAX_AMOUNT_CENTS`].
    TooLarge,
}

/// Reads an amount as a person typed it in their own convention: `12`, `12.5` and
/// `1,234.50` in English; `12`, `12,5` and `1.234,50` in Spanish. The thousands
/// separator counts only between groups of three after a first group of one to three
/// digits; anywhere else the amount is refused, never guessed, so "12,50" typed by
/// someone who means twelve and a half can never become 1,250. Then the rules of
/// [`parse_amount`]. Leading and trailing whitespace is ignored; a currency sign is the
/// caller's to remove.
pub fn parse_typed(input: &str, conventions: Conventions) -> Result<i64, TypedAmountError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(TypedAmountError::Empty);
    }
    let Conventions { decimal, group } = conventions;
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || c == decimal || c == group)
    {
        return Err(TypedAmountError::NotANumber);
    }
    let (whole, fraction) = match text.split_once(decimal) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if fraction.is_some_and(|f| !digits(f)) {
        return Err(TypedAmountError::Separators);
    }
    let mut groups = whole.split(group);
    let first = groups.next().unwrap_or_default();
    let mut plain = String::with_capacity(text.len());
    plain.push_str(first);
    let mut grouped = false;
    for rest in groups {
        grouped = true;
        if rest.len() != 3 || !digits(rest) {
            return Err(TypedAmountError::Separators);
        }
        plain.push_str(rest);
    }
    if !digits(first) || (grouped && first.len() > 3) {
        return Err(TypedAmountError::Separators);
    }
    if let Some(fraction) = fraction {
        plain.push('.');
        plain.push_str(fraction);
    }
    parse_amount(&plain).map_err(|e| match e {
        AmountError::NotDecimal => TypedAmountError::NotANumber,
        AmountError::TooManyPlaces => TypedAmountError::TooManyPlaces,
        AmountError::NotPositive => TypedAmountError::NotPositive,
        AmountError::TooLarge => TypedAmountError::TooLarge,
    })
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

    const EN: Conventions = Conventions {
        decimal: '.',
        group: ',',
    };
    const ES: Conventions = Conventions {
        decimal: ',',
        group: '.',
    };

    #[test]
    fn typed_amounts_in_each_convention() {
        for (input, en, es) in [
            ("12", Ok(1200), Ok(1200)),
            (" 12.5 ", Ok(1250), Err(TypedAmountError::Separators)),
            ("12,50", Err(TypedAmountError::Separators), Ok(1250)),
            ("1,234.56", Ok(123_456), Err(TypedAmountError::Separators)),
            ("1.234,56", Err(TypedAmountError::Separators), Ok(123_456)),
            // Valid grouping in one convention is the thousands in it, not cents.
            ("1.250", Err(TypedAmountError::TooManyPlaces), Ok(125_000)),
            ("1,250", Ok(125_000), Err(TypedAmountError::TooManyPlaces)),
            (
                "1,000,000",
                Ok(MAX_AMOUNT_CENTS),
                Err(TypedAmountError::Separators),
            ),
            (
                "1,2,3",
                Err(TypedAmountError::Separators),
                Err(TypedAmountError::Separators),
            ),
            (
                "1.2.3",
                Err(TypedAmountError::Separators),
                Err(TypedAmountError::Separators),
            ),
            (
                "1234,567",
                Err(TypedAmountError::Separators),
                Err(TypedAmountError::TooManyPlaces),
            ),
            (
                ",5",
                Err(TypedAmountError::Separators),
                Err(TypedAmountError::Separators),
            ),
            (
                "12.",
                Err(TypedAmountError::Separators),
                Err(TypedAmountError::Separators),
            ),
            (
                "",
                Err(TypedAmountError::Empty),
                Err(TypedAmountError::Empty),
            ),
            (
                "-5",
                Err(TypedAmountError::NotANumber),
                Err(TypedAmountError::NotANumber),
            ),
            (
                "1 000",
                Err(TypedAmountError::NotANumber),
                Err(TypedAmountError::NotANumber),
            ),
            (
                "１２",
                Err(TypedAmountError::NotANumber),
                Err(TypedAmountError::NotANumber),
            ),
            (
                "0",
                Err(TypedAmountError::NotPositive),
                Err(TypedAmountError::NotPositive),
            ),
            (
                "1000000.01",
                Err(TypedAmountError::TooLarge),
                Err(TypedAmountError::Separators),
            ),
            (
                "1000000,01",
                Err(TypedAmountError::Separators),
                Err(TypedAmountError::TooLarge),
            ),
        ] {
            assert_eq!(parse_typed(input, EN), en, "{input:?} in English");
            assert_eq!(parse_typed(input, ES), es, "{input:?} in Spanish");
        }
    }

    /// `cents` written in `conventions`, grouped or not, with 0, 1 or 2 places where
    /// that loses nothing.
    fn written(cents: i64, conventions: Conventions, grouped: bool, places: usize) -> String {
        let whole = (cents / 100).to_string();
        let mut out = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if grouped && i > 0 && (whole.len() - i).is_multiple_of(3) {
                out.push(conventions.group);
            }
            out.push(digit);
        }
        let fraction = format!("{:02}", cents % 100);
        let fraction = match places {
            0 if fraction == "00" => "",
            1 if fraction.ends_with('0') => &fraction[..1],
            _ => &fraction[..],
        };
        if !fraction.is_empty() {
            out.push(conventions.decimal);
            out.push_str(fraction);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn what_a_reader_writes_reads_back(
            cents in 1..=MAX_AMOUNT_CENTS,
            spanish: bool,
            grouped: bool,
            places in 0..3usize,
        ) {
            let conventions = if spanish { ES } else { EN };
            let text = written(cents, conventions, grouped, places);
            proptest::prop_assert_eq!(parse_typed(&text, conventions), Ok(cents), "{}", text);
        }

        #[test]
        fn the_other_conventions_cents_are_refused_not_guessed(
            units in 0..100_000i64,
            cents in 0..100i64,
            spanish: bool,
        ) {
            // "12,50" to an English reader, "12.50" to a Spanish one: two digits after
            // what is, for that reader, a thousands separator.
            let (conventions, other) = if spanish { (ES, EN) } else { (EN, ES) };
            let text = format!("{units}{}{cents:02}", other.decimal);
            proptest::prop_assert_eq!(
                parse_typed(&text, conventions),
                Err(TypedAmountError::Separators),
                "{}", text
            );
        }

        #[test]
        fn anything_typed_is_read_or_refused_and_never_more_than_the_maximum(
            text in "\\PC{0,24}",
            spanish: bool,
        ) {
            let conventions = if spanish { ES } else { EN };
            if let Ok(cents) = parse_typed(&text, conventions) {
                proptest::prop_assert!((1..=MAX_AMOUNT_CENTS).contains(&cents));
                proptest::prop_assert!(text.trim().chars().all(|c| c.is_ascii_digit()
                    || c == conventions.decimal || c == conventions.group));
                // What was read is what a reader of that convention means.
                let plain: String = text.trim().chars().filter(|&c| c != conventions.group)
                    .map(|c| if c == conventions.decimal { '.' } else { c }).collect();
                proptest::prop_assert_eq!(parse_amount(&plain), Ok(cents));
            }
        }
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
