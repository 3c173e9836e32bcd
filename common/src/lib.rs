//! What both services share, so each rule and each piece of plumbing has one home:
//!
//! - [`config`]: reading variables into typed values;
//! - [`process_settings`]: the settings every process reads alike;
//! - [`server`]: the HTTP serve loop with its timeouts and connection cap, the two
//!   listeners, graceful shutdown;
//! - [`telemetry`]: logs, traces and HTTP metrics;
//! - [`client_address`]: whose address a request comes from, behind trusted proxies;
//! - [`error_code`]: the codes the api's refusals carry (`extensions.code`);
//! - [`memory`]: how the processes hold their memory (small pages only);
//! - [`rules`]: the input rules both the api and the web's forms apply (amounts,
//!   descriptions, usernames, passwords, account numbers).

pub mod client_address;
pub mod config;
pub mod error_code;
pub mod memory;
pub mod process_settings;
pub mod rules;
pub mod server;
pub mod telemetry;
