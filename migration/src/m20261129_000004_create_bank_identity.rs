//! One row naming this database. Caches outside the database (Redis, each replica's
//! local copies) put it in every key, so a database that is recreated, replaced or
//! pointed at a Redis that served another one never reads entries written for that
//! other database: customer 7 of one bank is not customer 7 of another.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Random, 64 bits as 16 hex characters: short, since it is part of every cache key.
fn new_identity() -> String {
    let id = uuid::Uuid::new_v4();
    hex16(id.as_bytes())
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BankIdentity::Table)
                    .col(string_len(BankIdentity::Id, 32).primary_key())
                    .col(
                        timestamp_with_time_zone(BankIdentity::CreatedAt)
                            .default(Expr::current_timestamp()),
                    )
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(BankIdentity::Table)
            .columns([BankIdentity::Id])
            .values([new_identity().into()])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BankIdentity::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum BankIdentity {
    Table,
    Id,
    CreatedAt,
}
