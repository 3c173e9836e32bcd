//! The HTTP server both processes run: hyper's HTTP/1.1 connections under our limits
//! (header, body, request and idle timeouts, a cap on open connections) with a graceful
//! stop. `axum::serve` exposes none of these limits, so this replaces it.
//!
//! HTTP/1.1 only: clients (the web, the Ingress, browsers through it) speak it, and it
//! keeps a silent client from holding a connection during protocol detection.

mod clock;
mod limits;
mod listeners;
mod request;
mod serve;
mod shutdown;

pub use limits::ServerLimits;
pub use listeners::Listeners;
pub use serve::{Stop, metrics_limits, metrics_router, serve};
pub use shutdown::shutdown_signal;

#[cfg(test)]
mod tests;
