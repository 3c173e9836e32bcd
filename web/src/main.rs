//! `banking-web`: the web pages over the api at `API_URL`, or — with no `API_URL` — the
//! all-in-one (web + api on one port, SQLite, demo users). A thin shim over `web::startup`.

use std::process::ExitCode;

/// Rendering pages and reading api answers is many small allocations; glibc's allocator
/// took a fifth of the web's CPU on the dashboard (docs/benchmarks.md), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let small_pages = banking_common::memory::no_transparent_huge_pages();
    let config = match web::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = banking_common::telemetry::init("banking-web", &config.process);
    small_pages.report();
    let app = match web::Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("could not start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("http://{}", app.listeners().local_addr());
    if app.is_embedded() {
        println!("Ferrous Bank all-in-one on {url}");
        println!("  GraphQL API: {url}/graphql  REST: {url}/api");
    } else {
        println!("Ferrous Bank web on {url}, api at {}", app.api_url());
    }
    if let Some((users, password)) = app.demo_credentials() {
        println!("  demo users: {users} (password: {password})");
    }
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
