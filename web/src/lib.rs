//! The banking web app: server-rendered pages (askama) over the GraphQL API, a cookie
//! session holding the api's token, CSRF protection on every form, and — with the
//! `embedded` feature — the all-in-one that runs the api in the same process.

pub mod chart;
pub mod client;
pub mod client_address;
pub mod config;
pub mod cookies;
pub mod error;
pub mod format;
pub mod i18n;
pub mod locale;
pub mod metrics;
pub mod pages;
pub mod render;
pub mod session;
pub mod startup;
pub mod statement;
pub mod static_files;

pub use config::Config;
pub use error::Error;
pub use startup::Application;
