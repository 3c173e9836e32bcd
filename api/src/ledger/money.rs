//! Exact money: integer minor units inside, a decimal string ("1234.50") outside. Never a float.

use std::fmt;

use super::{Error, Input};

pub use banking_common::rules::amount::MAX_AMOUNT_CENTS;
use banking_common::rules::amount::{self, AmountError};

/// A non-negative amount of money in cents.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// A stored amount. Stored amounts are never negative (a database CHECK); one that is
    /// means the database was changed behind the ledger's back, and reading it fails
    /// loudly rather than showing a number the bank never wrote.
    pub fn from_stored(cents: i64) -> Result<Money, Error> {
        if cents < 0 {
            return Err(Error::internal(anyhow::anyhow!(
                "a stored amount is negative ({cents} cents)"
            )));
        }
        Ok(Money(cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses an amount a client wants to move (the shared rule,
    /// `banking_common::rules::amount`): a plain decimal with at most two places, strictly
    /// positive and at most [`MAX_AMOUNT_CENTS`].
    pub fn parse_amount(input: &str) -> Result<Money, Error> {
        let why = match amount::parse_amount(input) {
            Ok(cents) => return Ok(Money(cents)),
            Err(AmountError::NotDecimal) => "must be a decimal number such as 12.50",
            Err(AmountError::TooManyPlaces) => "has more than two decimal places",
            Err(AmountError::NotPositive) => "must be greater than zero",
            Err(AmountError::TooLarge) => "is above the limit of 1000000.00",
        };
        Err(Error::invalid(Input::Amount, format!("amount {why}")))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&amount::decimal(self.0))
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
