//! The schema, as migrations that run unchanged on PostgreSQL 15 and on SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_users;
mod m20261126_000002_create_accounts;
mod m20261126_000003_create_transactions;
mod m20261129_000004_create_bank_identity;
mod m20261129_000005_create_payees;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_users::Migration),
            Box::new(m20261126_000002_create_accounts::Migration),
            Box::new(m20261126_000003_create_transactions::Migration),
            Box::new(m20261129_000004_create_bank_identity::Migration),
            Box::new(m20261129_000005_create_payees::Migration),
        ]
    }
}
