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

use super::error::ConnectionLost;

/// Pool sizes and timeouts. Defaults suit a 2-core pod; `just bench` measures them.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    /// Connections per process, both pools together (`DATABASE_POOL_SIZE`).
    pub max_connections: u32,
    /// Of those, the read pool's (`DATABASE_READ_POOL_SIZE`; see [`Pools`]); 0 reads on
    /// the one pool.
    pub read_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            read_connections: 4,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// The process's connections to the database, in two pools.
///
/// The short reads of a request (a customer, their accounts, a page of history, the
/// dashboard's overview) are a fraction of a millisecond of the database's CPU each and
/// never wait on a lock or a flush. Spread over sixteen connections they wake sixteen
/// backend processes in turn, each with cold caches; kept to four, the same few stay
/// busy: with the database on the same two cores, cold `accounts` reads went from 4,794
/// to 6,220 a second at 32 connections (docs/benchmarks-notes.md). Writes need the
/// opposite: a commit waits for its WAL flush with its CPU idle, and transfers need many
/// connections to fill those waits (a fifth fewer with four). So reads get a small pool
/// of their own and everything else the rest; neither can starve the other. SQLite has
/// one pool (its readers are in-process, and `sqlite::memory:` is one database per
/// pool), and so does a `read_connections` of 0.
#[derive(Clone, Debug)]
pub struct Pools {
    pub main: DatabaseConnection,
    /// `None`: reads on the main pool.
    pub reads: Option<DatabaseConnection>,
}

impl Pools {
    pub async fn connect(url: &str, pool: &PoolSettings) -> Result<Pools, DbErr> {
        if url.starts_with("sqlite:") || pool.read_connections == 0 {
            return Ok(Pools {
                main: connect(url, pool).await?,
                reads: None,
            });
        }
        let reads = PoolSettings {
            max_connections: pool.read_connections,
            ..pool.clone()
        };
        let main = PoolSettings {
            max_connections: pool
                .max_connections
                .saturating_sub(pool.read_connections)
                .max(1),
            ..pool.clone()
        };
        Ok(Pools {
            main: connect(url, &main).await?,
            reads: Some(connect(url, &reads).await?),
        })
    }
}

/// How long a pooled connection may lie idle before it is pinged on its way out of the
/// pool. Under load none is; a quiet api pings as it always did. (At 1 s the failover
/// test's first read after a promotion met a connection cut less than a second after its
/// last answer, and failed: docs/benchmarks-notes.md.)
const PING_IF_IDLE_FOR: Duration = Duration::from_millis(100);

/// Runs `op` on `db`, and again when the connection it was lent turns out to have been
/// cut (see [`ConnectionLost`]), at most once more than the pool has connections: a cut
/// connection fails at once, and when every one in the pool was cut together (a proxy
/// restarting, a failover) the last attempt gets a new one. Only for what is safe to run
/// twice: a read, or the `BEGIN` of a transaction.
///
/// The pool pings a connection before lending it only after [`PING_IF_IDLE_FOR`] idle;
/// one cut within that window is lent unchecked, and this is what keeps that from
/// failing the request.
pub(crate) async fn on_a_live_connection<'a, T, E, F, Fut>(
    db: &'a DatabaseConnection,
    op: F,
) -> Result<T, E>
where
    F: Fn(&'a DatabaseConnection) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: ConnectionLost + std::fmt::Display,
{
    let mut retried = 0;
    loop {
        match op(db).await {
            // The pool's size is asked only once a connection turned out cut.
            Err(e) if e.connection_lost() && retried < pool_size(db) => {
                retried += 1;
                tracing::info!(error = %e, "a pooled connection had been cut; trying another");
            }
            done => return done,
        }
    }
}

/// How many connections `db` may hold at once (SQLite's in-process connections are
/// never cut: 0, no second attempt).
fn pool_size(db: &DatabaseConnection) -> u32 {
    match db.get_database_backend() {
        DbBackend::Postgres => db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        _ => 0,
    }
}

pub async fn connect(url: &str, pool: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool.max_connections)
        .min_connections(1)
        .connect_timeout(pool.acquire_timeout)
        .acquire_timeout(pool.acquire_timeout)
        // sqlx pings a connection each time it is taken from the pool (a round trip
        // before every query: a cold read woke its backend three times, with the ping
        // sqlx sends when a connection is handed back). A connection handed back moments
        // ago was answering then; only one idle for longer is asked first, whether a
        // restart, a failover or a proxy dropped it meanwhile (docs/benchmarks-notes.md).
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
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

/// The identity of this database (see the `bank_identity` migration): part of every key
/// the caches outside the database keep. An error when the row is missing, since
/// caching without it could mix two databases' customers.
///
/// On PostgreSQL the database's OID is added: a database made by `CREATE DATABASE …
/// TEMPLATE` or restored with pg_restore into a new database copies the row but not the
/// OID, while a streaming replica promoted by a failover keeps both, as it should.
pub async fn identity(db: &DatabaseConnection) -> Result<String, DbErr> {
    use sea_orm::{QueryResult, Statement};
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT b.id || '-' || d.oid::text AS identity FROM bank_identity b \
             JOIN pg_database d ON d.datname = current_database() ORDER BY b.id LIMIT 1"
        }
        _ => "SELECT id AS identity FROM bank_identity ORDER BY id LIMIT 1",
    };
    let row: Option<QueryResult> = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    let identity: Option<String> = row.map(|r| r.try_get("", "identity")).transpose()?;
    match identity {
        Some(identity) if !identity.is_empty() => Ok(identity),
        _ => Err(DbErr::RecordNotFound(
            "the bank_identity row is missing: run `banking-api migrate`".into(),
        )),
    }
}

/// Gives the database a new identity, for an operator who restored it from a backup
/// into a deployment whose Redis still holds entries written since that backup.
pub async fn new_identity(db: &DatabaseConnection) -> Result<String, DbErr> {
    let fresh: String = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let sql = format!("UPDATE bank_identity SET id = '{fresh}'");
    db.execute_unprepared(&sql).await?;
    Ok(fresh)
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
