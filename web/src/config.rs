//! Configuration, read once at start from the environment into a typed struct.
//! A bad value stops the process with one line naming the variable and what it expects.

use std::net::SocketAddr;

use banking_common::config::{address, bad, environment_variable, flag};
use banking_common::process_settings::ProcessSettings;
use reqwest::Url;

use crate::live::LiveStreamLimits;

pub use banking_common::config::{ConfigError, LogFormat};

/// Where the GraphQL API is.
#[derive(Clone, Debug)]
pub enum ApiTarget {
    /// Another process (`API_URL`, the split mode).
    Remote(Url),
    /// The api built into this process, on the same listener (the all-in-one).
    #[cfg(feature = "embedded")]
    Embedded(Box<api::Config>),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub api: ApiTarget,
    pub bind: SocketAddr,
    /// Mark the cookies `Secure` (only sent over HTTPS) and send HSTS; on by default in
    /// production.
    pub cookie_secure: bool,
    /// What every process reads alike: environment, logs, traces, server limits, the
    /// metrics listener, trusted proxies (whose `X-Forwarded-For` names the browser).
    pub process: ProcessSettings,
    /// How many live-update streams (`GET /events`) may be open.
    pub live: LiveStreamLimits,
}

pub const DEFAULT_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
pub const DEFAULT_METRICS_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9091);

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(environment_variable)
    }

    /// Reads the configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let api = match lookup("API_URL") {
            Some(url) => ApiTarget::Remote(api_url(&url)?),
            None => embedded_api(&lookup)?,
        };
        let process = ProcessSettings::from_lookup(&lookup, DEFAULT_METRICS_BIND)?;
        Ok(Config {
            api,
            bind: address(&lookup, "WEB_BIND", DEFAULT_BIND)?,
            cookie_secure: flag(&lookup, "COOKIE_SECURE", process.is_production())?,
            live: LiveStreamLimits::from_lookup(&lookup)?,
            process,
        })
    }

    /// Whether the api runs in this process.
    pub fn is_embedded(&self) -> bool {
        !matches!(self.api, ApiTarget::Remote(_))
    }
}

/// `API_URL` must be an absolute http(s) URL of the GraphQL endpoint.
fn api_url(value: &str) -> Result<Url, ConfigError> {
    let expected = "must be the api's GraphQL URL, such as http://banking-backend:8000/graphql";
    let url = Url::parse(value).map_err(|_| bad("API_URL", expected))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("API_URL", expected));
    }
    Ok(url)
}

#[cfg(feature = "embedded")]
fn embedded_api(lookup: &impl Fn(&str) -> Option<String>) -> Result<ApiTarget, ConfigError> {
    let mut config = api::Config::from_lookup(lookup)?;
    // The all-in-one is for trying the bank out: demo customers unless in production.
    config.seed_demo = !config.is_production();
    Ok(ApiTarget::Embedded(Box::new(config)))
}

#[cfg(not(feature = "embedded"))]
fn embedded_api(_: &impl Fn(&str) -> Option<String>) -> Result<ApiTarget, ConfigError> {
    Err(bad(
        "API_URL",
        "is required: this build has no embedded api (built without the `embedded` feature)",
    ))
}

#[cfg(test)]
mod tests {
    use banking_common::config::lookup_in;
    use banking_common::server::ServerLimits;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(lookup_in(vars))
    }

    #[test]
    fn split_mode_reads_the_api_url() {
        let config = from(&[
            ("API_URL", "http://banking-backend:8000/graphql"),
            ("WEB_BIND", "0.0.0.0:8080"),
            ("COOKIE_SECURE", "true"),
            ("LOG_FORMAT", "json"),
        ])
        .expect("valid");
        assert!(!config.is_embedded());
        assert!(config.cookie_secure);
        assert_eq!(config.bind.port(), 8080);
        assert_eq!(config.process.log_format, LogFormat::Json);
        match config.api {
            ApiTarget::Remote(url) => assert_eq!(url.path(), "/graphql"),
            #[cfg(feature = "embedded")]
            ApiTarget::Embedded(_) => panic!("expected the split mode"),
        }
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("API_URL", "banking-backend:8000"),
            ("API_URL", "ftp://x/graphql"),
            ("WEB_BIND", "everywhere"),
            ("COOKIE_SECURE", "maybe"),
            ("LOG_FORMAT", "xml"),
            ("LOG_LEVEL", "[[["),
            ("TRUSTED_PROXIES", "10.0.0.0/8,everyone"),
        ] {
            // A later value overrides an earlier one: the bad one, after a good API_URL.
            let err = from(&[("API_URL", "http://api:8000/graphql"), (var, value)]).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn production_makes_cookies_secure_and_limits_are_read() {
        let api = ("API_URL", "http://api:8000/graphql");
        let config = from(&[api]).expect("development");
        assert!(!config.process.is_production() && !config.cookie_secure);
        assert_eq!(config.process.metrics_bind, DEFAULT_METRICS_BIND);
        assert_eq!(config.process.server, ServerLimits::default());
        let config = from(&[api, ("ENVIRONMENT", "production")]).expect("production");
        assert!(config.process.is_production() && config.cookie_secure);
        assert_eq!(
            config.process.log_format,
            LogFormat::Json,
            "production logs JSON"
        );
        let config = from(&[
            api,
            ("ENVIRONMENT", "production"),
            ("COOKIE_SECURE", "false"),
            ("HEADER_TIMEOUT_SECS", "3"),
            ("METRICS_BIND", "0.0.0.0:9090"),
        ])
        .expect("explicit");
        assert!(!config.cookie_secure, "an explicit COOKIE_SECURE wins");
        assert_eq!(config.process.server.header_timeout.as_secs(), 3);
        assert_eq!(config.process.metrics_bind.port(), 9090);
        for (var, value) in [
            ("ENVIRONMENT", "staging"),
            ("METRICS_BIND", "anywhere"),
            ("BODY_TIMEOUT_SECS", "0"),
            ("MAX_CONNECTIONS", "many"),
        ] {
            let err = from(&[api, (var, value)]).expect_err(var);
            assert_eq!(err.var, var);
        }
    }

    #[cfg(feature = "embedded")]
    #[test]
    fn without_api_url_the_api_is_embedded_and_seeded() {
        let config = from(&[]).expect("defaults");
        assert!(config.is_embedded());
        assert_eq!(config.bind, DEFAULT_BIND);
        assert!(!config.cookie_secure);
        match config.api {
            ApiTarget::Embedded(api) => {
                assert!(api.seed_demo);
                assert!(api.database_url().starts_with("sqlite:"));
            }
            ApiTarget::Remote(_) => panic!("expected the all-in-one"),
        }
        // The embedded api's own variables are checked too.
        let err = from(&[("DATABASE_URL", "mysql://x")]).expect_err("bad api variable");
        assert_eq!(err.var, "DATABASE_URL");
    }

    #[cfg(not(feature = "embedded"))]
    #[test]
    fn without_the_embedded_api_api_url_is_required() {
        let err = from(&[]).expect_err("API_URL required");
        assert_eq!(err.var, "API_URL");
    }
}
