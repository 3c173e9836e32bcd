//! Logs, traces and request metrics through the shared `banking-telemetry` crate, as
//! `banking-web`.

pub use banking_telemetry::{Telemetry, inject_trace};

use crate::config::Config;

/// Installs logging and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, trace export.
/// Keep the returned handle alive: dropping it flushes the spans.
pub fn init(config: &Config) -> Telemetry {
    banking_telemetry::init(banking_telemetry::TelemetrySettings {
        service_name: "banking-web",
        log_level: &config.log_level,
        log_format: config.log_format,
        otel_endpoint: config.otel_endpoint.as_deref(),
    })
}
