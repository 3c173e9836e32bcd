//! Test support shared by the api and web test suites (a dev-dependency only, so none of
//! it ships in a binary): a database of its own for every test, on SQLite and, when
//! `TEST_DATABASE_URL` is set, on PostgreSQL; an OTLP collector; the ledger soundness
//! check every test that moves money ends with.

pub mod graphql_ws;
pub mod otlp;
pub mod raw_http;

use std::sync::atomic::{AtomicU64, Ordering};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use api::ledger::{Ledger, db};

/// The databases every ledger test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that belongs to one test. SQLite files live in a temporary directory
/// removed on drop; PostgreSQL databases are named `banking_test_*` and cleared by
/// `scripts/test` before each run.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

/// The backends to test: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set.
/// Under CI a missing `TEST_DATABASE_URL` is a failure, never a silent skip.
pub fn backends() -> Vec<Backend> {
    match postgres_admin_url() {
        Some(_) => vec![Backend::Sqlite, Backend::Postgres],
        None => vec![Backend::Sqlite],
    }
}

pub fn postgres_admin_url() -> Option<String> {
    required_in_ci("TEST_DATABASE_URL")
}

pub fn redis_url() -> Option<String> {
    required_in_ci("TEST_REDIS_URL")
}

fn required_in_ci(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var} must be set when CI is set: tests against the real service cannot be skipped in CI"
            );
            None
        }
    }
}

impl TestDatabase {
    /// A database made elsewhere (a private server the test controls).
    pub fn existing(url: &str, backend: Backend) -> TestDatabase {
        TestDatabase {
            url: url.to_owned(),
            backend,
            _dir: None,
        }
    }

    /// A new, migrated, empty database.
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                let conn = db::connect(&url, &db::PoolSettings::default())
                    .await
                    .expect("open SQLite");
                db::migrate(&conn).await.expect("migrate SQLite");
                conn.close().await.ok();
                TestDatabase {
                    url,
                    backend,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url().expect("TEST_DATABASE_URL");
                let template = migrated_template(&admin).await;
                static COUNTER: AtomicU64 = AtomicU64::new(0);
                let name = format!(
                    "banking_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed),
                    uuid::Uuid::new_v4().simple()
                );
                let conn = Database::connect(&admin)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                conn.execute_unprepared(&format!(
                    r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#
                ))
                .await
                .expect("create test database");
                conn.close().await.ok();
                TestDatabase {
                    url: with_database(&admin, &name),
                    backend,
                    _dir: None,
                }
            }
        }
    }
}

/// A template database migrated once per migration set, under an advisory lock so that
/// parallel test processes do not race to build it.
async fn migrated_template(admin: &str) -> String {
    let template = format!("banking_template_{}", Migrator::migrations().len());
    let conn = Database::connect(admin)
        .await
        .expect("connect to TEST_DATABASE_URL");
    conn.execute_unprepared("SELECT pg_advisory_lock(7212001)")
        .await
        .expect("advisory lock");
    let exists = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT 1 AS one FROM pg_database WHERE datname = '{template}'"),
        ))
        .await
        .expect("look up template")
        .is_some();
    if !exists {
        conn.execute_unprepared(&format!(r#"CREATE DATABASE "{template}""#))
            .await
            .expect("create template");
        let tpl = Database::connect(with_database(admin, &template))
            .await
            .expect("connect to template");
        Migrator::up(&tpl, None).await.expect("migrate template");
        tpl.close().await.ok();
    }
    conn.execute_unprepared("SELECT pg_advisory_unlock(7212001)")
        .await
        .expect("advisory unlock");
    conn.close().await.ok();
    template
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// The bank's invariant after a test moved money: every balance is its postings, the
/// total is the deposits, nothing is negative. Lists what is wrong when it is not.
pub async fn assert_ledger_sound(ledger: &Ledger) {
    let discrepancies = ledger.verify().await.expect("the ledger could be read");
    assert!(
        discrepancies.is_empty(),
        "the ledger is not sound: {discrepancies:?}"
    );
}
