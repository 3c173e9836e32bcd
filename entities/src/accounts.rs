use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[sea_orm(unique)]
    pub account_number: String,
    /// `checking` or `savings`.
    #[sea_orm(column_name = "type")]
    pub account_type: String,
    /// Integer minor units (cents); never negative (a CHECK constraint).
    pub balance: i64,
    pub currency: String,
    pub created_at: ChronoDateTimeUtc,
}

/// The foreign key of the migrations, declared on the side that holds it (relations
/// point one way only, so the entity modules import each other in no circle).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// `accounts.user_id → users.id`.
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id",
        on_delete = "Restrict"
    )]
    Owner,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
