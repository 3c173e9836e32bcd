use async_graphql::{Description, InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::ledger;

/// Exact money as a decimal string with at most two places ("1234.50"), never a float.
/// Amounts sent must be positive and at most 1000000.00.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Description)]
pub struct Money(pub ledger::Money);

#[Scalar(name = "Money", use_type_description)]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => ledger::Money::parse_amount(text)
                .map(Money)
                .map_err(|e| InputValueError::custom(e.to_string())),
            _ => Err(InputValueError::custom(
                "amount must be a decimal string such as \"12.50\"",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}
