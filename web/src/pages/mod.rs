//! The pages: askama templates over view models, and the handlers that fill them.
//! Handlers stay thin: read the form, check it locally, call the api, render.
//!
//! This file is the router alone: every page's route, and nothing the pages import
//! (they share `state`, `form` and `views`, and render through `crate::render`).

mod accounts;
mod auth;
mod dashboard;
mod deposit;
mod form;
mod health;
mod language;
mod open_account;
mod payees;
mod settings;
mod state;
mod statement;
mod transfer;
mod views;

use axum::Router;
use axum::routing::get;

use crate::error::Error;
use crate::static_files;

pub use state::WebState;

pub fn routes(state: WebState) -> Router {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/language", get(language::choose))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/signup", get(auth::signup_form).post(auth::signup))
        .route("/logout", get(language::to("/")).post(auth::logout))
        .route(
            "/accounts/open",
            get(open_account::form).post(open_account::submit),
        )
        .route("/accounts/{id}", get(accounts::show))
        .route("/accounts/{id}/statement.csv", get(statement::download))
        .route("/transfer", get(transfer::form).post(transfer::review))
        .route(
            "/transfer/confirm",
            get(language::to("/transfer")).post(transfer::confirm),
        )
        .route("/payees", get(payees::list).post(payees::add))
        .route(
            "/payees/{id}/remove",
            get(language::to("/payees")).post(payees::remove),
        )
        .route("/deposit", get(deposit::form).post(deposit::submit))
        .route("/settings", get(settings::show))
        .route(
            "/settings/token",
            get(language::to("/settings")).post(settings::create_token),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(static_files::CSS_PATH, get(static_files::css))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Error {
    Error::PageNotFound
}
