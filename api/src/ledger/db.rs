//! Connecting to the database the same way for PostgreSQL and SQLite, and migrating it.

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard};

/// Pool sizes and timeouts. Defaults suit a 2-core pod; `just bench` measures them.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

pub async fn connect(url: &str, pool: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool.max_connections)
        .min_connections(1)
        .connect_timeout(pool.acquire_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .sqlx_logging(false)
        // WAL lets readers go on while the one writer commits; the busy timeout absorbs
        // the short waits that remain (checkpoints) instead of failing a request.
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Applies pending migrations. On PostgreSQL they run in one transaction that first
/// takes an advisory lock, so replicas starting together queue and the later ones find
/// nothing left to do.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let txn = db.begin().await?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(72120001)")
        .await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// Whether every migration this binary knows has been applied.
pub async fn is_migrated(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// Serialises write transactions where the database cannot do it well itself.
///
/// SQLite allows one writer; two deferred transactions that both read then write can
/// only be resolved by failing one with "database is locked". The embedded mode is one
/// process, so a mutex in front of the writers makes them queue instead. PostgreSQL
/// locks rows itself and gets no gate.
#[derive(Clone, Debug)]
pub struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    pub fn for_backend(backend: DbBackend) -> WriteGate {
        match backend {
            DbBackend::Sqlite => WriteGate(Some(Arc::new(Mutex::new(())))),
            _ => WriteGate(None),
        }
    }

    pub async fn enter(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.0 {
            Some(mutex) => Some(mutex.lock().await),
            None => None,
        }
    }
}
