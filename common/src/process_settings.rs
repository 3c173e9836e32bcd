//! What every process reads from its environment alike: environment, logs, traces,
//! server limits, the metrics listener and the proxies it trusts.

use std::net::SocketAddr;

use crate::client_address::TrustedProxies;
use crate::config::{ConfigError, Environment, LogFormat, address, bad};
use crate::server::ServerLimits;

/// The settings each process reads with the same variables and the same rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSettings {
    pub environment: Environment,
    /// `LOG_LEVEL`: a level or a tracing filter (`RUST_LOG` wins when set).
    pub log_level: String,
    /// `LOG_FORMAT`: JSON lines by default in production, readable text otherwise.
    pub log_format: LogFormat,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: where traces go; none are exported when unset.
    pub otel_endpoint: Option<String>,
    /// Header, body, request and idle timeouts and the connection cap (`*_TIMEOUT_SECS`,
    /// `MAX_CONNECTIONS`).
    pub server: ServerLimits,
    /// `METRICS_BIND`: where `GET /metrics` is served, apart from the public port.
    pub metrics_bind: SocketAddr,
    /// `TRUSTED_PROXIES`: proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

impl ProcessSettings {
    /// The development defaults, with the metrics listener on `metrics_bind`.
    pub fn development(metrics_bind: SocketAddr) -> ProcessSettings {
        ProcessSettings {
            environment: Environment::Development,
            log_level: "info".into(),
            log_format: LogFormat::Pretty,
            otel_endpoint: None,
            server: ServerLimits::default(),
            metrics_bind,
            trusted_proxies: TrustedProxies::loopback(),
        }
    }

    /// Reads the shared variables through `lookup`; `metrics_bind` is this process's
    /// default metrics address.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        metrics_bind: SocketAddr,
    ) -> Result<ProcessSettings, ConfigError> {
        let environment = match lookup("ENVIRONMENT").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(_) => return Err(bad("ENVIRONMENT", "must be development or production")),
        };
        let log_level = lookup("LOG_LEVEL").unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            return Err(bad(
                "LOG_LEVEL",
                "must be a level (error|warn|info|debug|trace) or a tracing filter",
            ));
        }
        let log_format = match lookup("LOG_FORMAT").as_deref() {
            None if environment == Environment::Production => LogFormat::Json,
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(bad("LOG_FORMAT", "must be json or pretty")),
        };
        let trusted_proxies = match lookup("TRUSTED_PROXIES") {
            Some(cidrs) => cidrs.parse().map_err(|why: String| {
                bad(
                    "TRUSTED_PROXIES",
                    &format!("must be comma-separated CIDRs such as 10.0.0.0/8 ({why})"),
                )
            })?,
            None => TrustedProxies::loopback(),
        };
        Ok(ProcessSettings {
            environment,
            log_level,
            log_format,
            otel_endpoint: lookup("OTEL_EXPORTER_OTLP_ENDPOINT"),
            server: ServerLimits::from_lookup(lookup)?,
            metrics_bind: address(lookup, "METRICS_BIND", metrics_bind)?,
            trusted_proxies,
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lookup_in;

    const METRICS: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9090);

    fn from(vars: &[(&str, &str)]) -> Result<ProcessSettings, ConfigError> {
        ProcessSettings::from_lookup(&lookup_in(vars), METRICS)
    }

    #[test]
    fn defaults_are_development() {
        assert_eq!(from(&[]), Ok(ProcessSettings::development(METRICS)));
    }

    #[test]
    fn production_logs_json_unless_told_otherwise() {
        let settings = from(&[("ENVIRONMENT", "production")]).expect("production");
        assert!(settings.is_production());
        assert_eq!(settings.log_format, LogFormat::Json);
        let settings =
            from(&[("ENVIRONMENT", "production"), ("LOG_FORMAT", "pretty")]).expect("explicit");
        assert_eq!(settings.log_format, LogFormat::Pretty);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("ENVIRONMENT", "staging"),
            ("LOG_LEVEL", "[[["),
            ("LOG_FORMAT", "xml"),
            ("TRUSTED_PROXIES", "10.0.0.0/8,everyone"),
            ("METRICS_BIND", "anywhere"),
            ("HEADER_TIMEOUT_SECS", "0"),
            ("MAX_CONNECTIONS", "many"),
        ] {
            let err = from(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(var));
        }
    }
}
