use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `None` for a deposit from outside the bank.
    pub from_account: Option<i64>,
    pub to_account: i64,
    /// Integer minor units (cents); always positive (a CHECK constraint).
    pub amount: i64,
    pub description: Option<String>,
    pub idempotency_key: String,
    pub initiated_by: i64,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
