//! Until the web pages exist, the all-in-one serves the api (GraphQL, REST, health)
//! on one port with SQLite and the in-process cache, seeded with demo users.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut config = match api::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    config.seed_demo = !config.is_production();
    config.bind = match std::env::var("WEB_BIND").ok().filter(|v| !v.is_empty()) {
        Some(bind) => match bind.parse() {
            Ok(addr) => addr,
            Err(_) => {
                eprintln!(
                    "invalid configuration: WEB_BIND must be an address such as 127.0.0.1:8080"
                );
                return ExitCode::from(2);
            }
        },
        None => std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    api::telemetry::init(&config);
    let app = match api::Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("could not start: {e:?}");
            return ExitCode::FAILURE;
        }
    };
    println!("Banking all-in-one on http://{}", app.local_addr());
    println!("  GraphQL: http://{}/graphql", app.local_addr());
    println!(
        "  demo users: {} (password: {})",
        api::ledger::DEMO_USERS.join(", "),
        api::ledger::DEMO_PASSWORD
    );
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
