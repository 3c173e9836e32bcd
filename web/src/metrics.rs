//! The web's Prometheus metrics: requests (and the process) like the api, plus the calls
//! the pages make to the api by operation and outcome.

use std::sync::Arc;

use banking_common::telemetry::HttpMetrics;
use prometheus::{Encoder, IntCounterVec, Opts, Registry, TextEncoder};

pub struct WebMetrics {
    registry: Registry,
    pub http: Arc<HttpMetrics>,
    api_calls: IntCounterVec,
}

impl WebMetrics {
    pub fn new() -> Result<WebMetrics, prometheus::Error> {
        let registry = Registry::new();
        let http = Arc::new(HttpMetrics::register(&registry, "banking_web")?);
        let api_calls = IntCounterVec::new(
            Opts::new(
                "api_calls_total",
                "GraphQL calls to the api by operation and outcome (ok or the error code)",
            )
            .namespace("banking_web"),
            &["operation", "outcome"],
        )?;
        registry.register(Box::new(api_calls.clone()))?;
        Ok(WebMetrics {
            registry,
            http,
            api_calls,
        })
    }

    /// `operation` is one of the web's own operation names, so the label stays bounded.
    pub fn api_call(&self, operation: &str, outcome: &str) {
        self.api_calls
            .with_label_values(&[operation, outcome])
            .inc();
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
