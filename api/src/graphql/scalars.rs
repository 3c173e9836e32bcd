use async_graphql::{Description, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use banking_common::error_code::ErrorCode;

use crate::error::graphql_field;
use crate::ledger::{self, Input};

/// Exact money as a decimal string with at most two places ("1234.50"), never a float.
/// Amounts sent must be positive and at most 1000000.00.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Description)]
pub struct Money(pub ledger::Money);

#[Scalar(name = "Money", use_type_description)]
impl ScalarType for Money {
    /// Money is read only in inputs named `amount`, so a refusal names that field (the
    /// scalar is parsed before any resolver runs, so it says so itself).
    fn parse(value: Value) -> InputValueResult<Self> {
        let refused = match &value {
            Value::String(text) => match ledger::Money::parse_amount(text) {
                Ok(money) => return Ok(Money(money)),
                Err(e) => InputValueError::custom(e.to_string()),
            },
            _ => InputValueError::custom("amount must be a decimal string such as \"12.50\""),
        };
        Err(refused
            .with_extension("code", ErrorCode::BadUserInput.as_str())
            .with_extension("field", graphql_field(Input::Amount)))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}
