//! Logs, traces and HTTP metrics: the shared `banking-telemetry` crate, configured from
//! the api's `Config`.

pub use banking_telemetry::*;

use crate::Config;

impl<'a> From<&'a Config> for TelemetrySettings<'a> {
    fn from(config: &'a Config) -> Self {
        TelemetrySettings {
            service_name: "banking-api",
            log_level: &config.log_level,
            log_format: config.log_format,
            otel_endpoint: config.otel_endpoint.as_deref(),
        }
    }
}
