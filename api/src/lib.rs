//! The banking api: a GraphQL gateway and seed-compatible REST routes over the ledger.

pub mod app_state;
pub mod auth;
pub mod body_limits;
pub mod cache;
pub mod config;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod graphql_http;
pub mod graphql_ws;
pub mod health;
pub mod ledger;
pub mod live;
pub mod metrics;
pub mod rest;
pub mod startup;
pub mod state;

pub use config::Config;
pub use error::Error;
pub use startup::Application;
