//! `banking-api` serves; `banking-api migrate` applies migrations and exits;
//! `banking-api schema` prints the GraphQL schema.

use std::process::ExitCode;

use api::{Application, Config, startup, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let command = std::env::args().nth(1);
    match command.as_deref() {
        Some("schema") => {
            print!("{}", api::graphql::sdl());
            return ExitCode::SUCCESS;
        }
        Some("migrate") => {
            let _telemetry = telemetry::init(&config);
            let result = async {
                let conn = startup::connect_with_retry(&config).await?;
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
        None | Some("serve") => {}
        Some(other) => {
            eprintln!("unknown command {other:?}: expected serve, migrate or schema");
            return ExitCode::from(2);
        }
    }
    let _telemetry = telemetry::init(&config);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = ?e, "could not start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(address = %app.local_addr(), "banking-api listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
