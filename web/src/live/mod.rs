//! Live balances: `GET /events` streams Server-Sent Events to the signed-in browser
//! whenever money moves on one of its accounts, so the dashboard's script
//! (`web/static/live.js`) can show the new balances without a reload.
//!
//! The browser only ever talks to the web: for each stream the web holds one
//! graphql-transport-ws connection to the api (`upstream.rs`), authorised with the
//! session's token, and relays what arrives. Streams are bounded per session and per
//! process (`LIVE_STREAMS_PER_SESSION`, `LIVE_STREAMS_MAX`), and end when the session
//! ends (the api closes the subscription within a second of a sign-out or expiry) or
//! when the process stops.

mod limits;
mod relay;
mod upstream;

pub use limits::{LiveStreamLimits, Streams};
pub use relay::events;
