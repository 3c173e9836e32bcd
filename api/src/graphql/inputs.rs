use async_graphql::{ID, InputObject};

use super::scalars::Money;

#[derive(InputObject)]
pub struct SignupInput {
    pub username: String,
    pub password: String,
    pub email: String,
}

#[derive(InputObject)]
pub struct TransferInput {
    pub from_account_id: ID,
    pub to_account_number: String,
    pub amount: Money,
    pub description: Option<String>,
    /// A retry with the same key and parameters returns the original transaction.
    pub idempotency_key: String,
}

#[derive(InputObject)]
pub struct AddPayeeInput {
    /// 1 to 60 characters.
    pub name: String,
    /// 10 digits; spaces and dashes are ignored.
    pub account_number: String,
}

#[derive(InputObject)]
pub struct DepositInput {
    pub account_id: ID,
    pub amount: Money,
    pub description: Option<String>,
    pub idempotency_key: String,
}
