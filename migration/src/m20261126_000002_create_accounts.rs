use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(big_pk_auto(Accounts::Id))
                    .col(big_integer(Accounts::UserId))
                    .col(string_len_uniq(Accounts::AccountNumber, 16))
                    .col(
                        string_len(Accounts::Type, 16)
                            .check(Expr::col(Accounts::Type).is_in(["checking", "savings"])),
                    )
                    // Money is integer minor units; the database itself refuses an overdraft.
                    .col(
                        big_integer(Accounts::Balance)
                            .default(0)
                            .check(Expr::col(Accounts::Balance).gte(0)),
                    )
                    .col(string_len(Accounts::Currency, 3).default("USD"))
                    .col(
                        timestamp_with_time_zone(Accounts::CreatedAt)
                            .default(Expr::current_timestamp()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_accounts_user")
                            .from(Accounts::Table, Accounts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_accounts_user")
                    .table(Accounts::Table)
                    .col(Accounts::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Accounts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Accounts {
    Table,
    Id,
    UserId,
    AccountNumber,
    Type,
    Balance,
    Currency,
    CreatedAt,
}
