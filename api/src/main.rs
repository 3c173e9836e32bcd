//! `banking-api` serves; `banking-api migrate` applies migrations and exits;
//! `banking-api schema` prints the GraphQL schema; `banking-api new-identity` gives a
//! database restored from a backup a fresh identity, so no cache entry of the old one
//! is read again.

use std::process::ExitCode;

use api::{Application, Config, startup};
use banking_common::telemetry;

/// A GraphQL read is hundreds of small allocations (the request, the document's values,
/// the answer's tree): glibc's malloc and free were a quarter of a cached read's
/// instructions under callgrind, mimalloc far less (docs/benchmarks-notes.md). The
/// caches are bounded (`NEAR_CACHE_MIB`, …) and the argon2 block reused, so the heap
/// stays small whichever allocator holds it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let small_pages = banking_common::memory::no_transparent_huge_pages();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let command = std::env::args().nth(1);
    if command.as_deref() == Some("schema") {
        print!("{}", api::graphql::sdl());
        return ExitCode::SUCCESS;
    }
    // Kept alive to the end: dropping it flushes the spans.
    let _telemetry = telemetry::init("banking-api", &config.process);
    small_pages.report();
    match command.as_deref() {
        Some("migrate") => {
            let result = async {
                let conn = startup::connect_with_retry(&config).await?.main;
                api::ledger::db::migrate(&conn).await?;
                anyhow::Ok(())
            }
            .await;
            return match result {
                Ok(()) => {
                    tracing::info!("migrations applied");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    tracing::error!(error = ?e, "migration failed");
                    ExitCode::FAILURE
                }
            };
        }
        Some("new-identity") => {
            let result = async {
                let conn = startup::connect_with_retry(&config).await?.main;
                Ok::<_, anyhow::Error>(api::ledger::db::new_identity(&conn).await?)
            }
            .await;
            return match result {
                Ok(identity) => {
                    tracing::info!(%identity, "the database has a new identity; every cached entry of the old one is ignored");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    tracing::error!(error = ?e, "could not give the database a new identity");
                    ExitCode::FAILURE
                }
            };
        }
        None | Some("serve") => {}
        Some(other) => {
            eprintln!("unknown command {other:?}: expected serve, migrate, new-identity or schema");
            return ExitCode::from(2);
        }
    }
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = ?e, "could not start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(address = %app.listeners().local_addr(), "banking-api listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
