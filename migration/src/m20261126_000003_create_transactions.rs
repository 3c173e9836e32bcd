use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_users::Users;
use crate::m20261126_000002_create_accounts::Accounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Transactions::Table)
                    .col(big_pk_auto(Transactions::Id))
                    .col(big_integer_null(Transactions::FromAccount))
                    .col(big_integer(Transactions::ToAccount))
                    .col(
                        big_integer(Transactions::Amount)
                            .check(Expr::col(Transactions::Amount).gt(0)),
                    )
                    .col(string_len_null(Transactions::Description, 140))
                    .col(string_len(Transactions::IdempotencyKey, 64))
                    .col(big_integer(Transactions::InitiatedBy))
                    .col(
                        timestamp_with_time_zone(Transactions::CreatedAt)
                            .default(Expr::current_timestamp()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transactions_from")
                            .from(Transactions::Table, Transactions::FromAccount)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transactions_to")
                            .from(Transactions::Table, Transactions::ToAccount)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transactions_initiator")
                            .from(Transactions::Table, Transactions::InitiatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A retry with the same key finds the original instead of moving money twice.
        manager
            .create_index(
                Index::create()
                    .name("uq_transactions_idempotency")
                    .table(Transactions::Table)
                    .col(Transactions::InitiatedBy)
                    .col(Transactions::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // History by account, newest first: (account, id) for both directions.
        for (name, column) in [
            ("idx_transactions_from", Transactions::FromAccount),
            ("idx_transactions_to", Transactions::ToAccount),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Transactions::Table)
                        .col(column)
                        .col(Transactions::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Transactions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Transactions {
    Table,
    Id,
    FromAccount,
    ToAccount,
    Amount,
    Description,
    IdempotencyKey,
    InitiatedBy,
    CreatedAt,
}
