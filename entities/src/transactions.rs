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

/// The three foreign keys of the migrations. Two lead to `accounts`, so a join names the
/// one it means (`Relation::ToAccount`) rather than relying on a `Related` default.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// `transactions.from_account → accounts.id` (none for a deposit).
    #[sea_orm(
        belongs_to = "super::accounts::Entity",
        from = "Column::FromAccount",
        to = "super::accounts::Column::Id"
    )]
    FromAccount,
    /// `transactions.to_account → accounts.id`.
    #[sea_orm(
        belongs_to = "super::accounts::Entity",
        from = "Column::ToAccount",
        to = "super::accounts::Column::Id"
    )]
    ToAccount,
    /// `transactions.initiated_by → users.id`.
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::InitiatedBy",
        to = "super::users::Column::Id"
    )]
    Initiator,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Initiator.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
