use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;

/// Saved payees: the people a customer pays, by name and account number. One payee per
/// account number per customer (a unique index); at most 50 each (the ledger, under a lock
/// on the customer's row).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Payees::Table)
                    .col(big_pk_auto(Payees::Id))
                    .col(big_integer(Payees::UserId))
                    .col(string_len(Payees::Name, 240))
                    .col(string_len(Payees::AccountNumber, 16))
                    .col(
                        timestamp_with_time_zone(Payees::CreatedAt)
                            .default(Expr::current_timestamp()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_payees_user")
                            .from(Payees::Table, Payees::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_payees_user_number")
                    .table(Payees::Table)
                    .col(Payees::UserId)
                    .col(Payees::AccountNumber)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Payees::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Payees {
    Table,
    Id,
    UserId,
    Name,
    AccountNumber,
    CreatedAt,
}
