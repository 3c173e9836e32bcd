//! Exact money: integer minor units inside, a decimal string ("1234.50") outside. Never a float.

use std::fmt;

use super::Error;

/// The largest amount a single deposit or transfer may move: 1,000,000.00.
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000;

/// A non-negative amount of money in cents.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// Wraps a stored amount. Stored amounts are never negative (a database CHECK).
    pub fn from_cents(cents: i64) -> Money {
        Money(cents.max(0))
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses an amount a client wants to move: a plain decimal with at most two places,
    /// strictly positive and at most [`MAX_AMOUNT_CENTS`]. Refuses signs, exponents,
    /// separators, whitespace, "NaN" and anything else that is not `digits[.digits]`.
    pub fn parse_amount(input: &str) -> Result<Money, Error> {
        let invalid = |why: &str| Error::InvalidInput(format!("amount {why}"));
        let (whole, fraction) = match input.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (input, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("must be a decimal number such as 12.50"));
        }
        let fraction_cents = match fraction {
            None => 0,
            Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(invalid("must be a decimal number such as 12.50"));
            }
            Some(f) if f.len() > 2 => return Err(invalid("has more than two decimal places")),
            Some(f) => {
                let value: i64 = f.parse().map_err(|_| invalid("is not a number"))?;
                if f.len() == 1 { value * 10 } else { value }
            }
        };
        // More than 12 integer digits cannot be within the limit; refusing early keeps
        // the arithmetic below far from overflow.
        let whole = whole.trim_start_matches('0');
        if whole.len() > 12 {
            return Err(invalid("is too large"));
        }
        let whole_units: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid("is not a number"))?
        };
        let cents = whole_units * 100 + fraction_cents;
        if cents == 0 {
            return Err(invalid("must be greater than zero"));
        }
        if cents > MAX_AMOUNT_CENTS {
            return Err(invalid("is above the limit of 1000000.00"));
        }
        Ok(Money(cents))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_exactly() {
        for (input, cents, printed) in [
            ("12.30", 1230, "12.30"),
            ("12.3", 1230, "12.30"),
            ("12", 1200, "12.00"),
            ("0.01", 1, "0.01"),
            ("007.5", 750, "7.50"),
            ("1000000.00", MAX_AMOUNT_CENTS, "1000000.00"),
        ] {
            let money = Money::parse_amount(input).expect(input);
            assert_eq!(money.cents(), cents, "{input}");
            assert_eq!(money.to_string(), printed, "{input}");
        }
    }

    #[test]
    fn refuses_everything_that_is_not_a_positive_bounded_decimal() {
        for input in [
            "",
            "0",
            "0.00",
            "-1",
            "+1",
            "1.001",
            "1e3",
            "NaN",
            "inf",
            " 1",
            "1 ",
            "1,00",
            ".5",
            "5.",
            "1.2.3",
            "1000000.01",
            "99999999999999999999999999",
            "١٢",
            "0x10",
        ] {
            assert!(
                Money::parse_amount(input).is_err(),
                "{input:?} was accepted"
            );
        }
    }

    proptest! {
        #[test]
        fn round_trips_every_valid_amount(cents in 1i64..=MAX_AMOUNT_CENTS) {
            let printed = Money(cents).to_string();
            prop_assert_eq!(Money::parse_amount(&printed).map(Money::cents).ok(), Some(cents));
        }

        #[test]
        fn never_panics_and_accepts_only_valid_amounts(input in "\\PC{0,24}") {
            if let Ok(money) = Money::parse_amount(&input) {
                prop_assert!(money.cents() > 0 && money.cents() <= MAX_AMOUNT_CENTS);
            }
        }
    }
}
