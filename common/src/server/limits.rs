//! How long a client may take and how many connections may be open: read once from the
//! environment into the typed configuration of each process.

use std::time::Duration;

use crate::config::{ConfigError, number};

/// The limits both servers apply to every connection (see `serve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// From a connection's first byte (or its opening) to the end of a request's headers.
    pub header_timeout: Duration,
    /// From the end of the headers to the end of the request body.
    pub body_timeout: Duration,
    /// From the end of the headers to the response (the handler included).
    pub request_timeout: Duration,
    /// A kept-alive connection with no request started is closed after this.
    pub idle_timeout: Duration,
    /// Connections open at once; the next waits in the kernel's backlog for a free slot.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
        }
    }
}

impl ServerLimits {
    /// `HEADER_TIMEOUT_SECS`, `BODY_TIMEOUT_SECS`, `REQUEST_TIMEOUT_SECS`,
    /// `IDLE_TIMEOUT_SECS` and `MAX_CONNECTIONS`, each optional.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut limits = ServerLimits::default();
        let secs = |var: &'static str, max: u64, default: Duration| match lookup(var) {
            None => Ok(default),
            Some(value) => number(var, &value, 1, max).map(Duration::from_secs),
        };
        limits.header_timeout = secs("HEADER_TIMEOUT_SECS", 300, limits.header_timeout)?;
        limits.body_timeout = secs("BODY_TIMEOUT_SECS", 300, limits.body_timeout)?;
        limits.request_timeout = secs("REQUEST_TIMEOUT_SECS", 3600, limits.request_timeout)?;
        limits.idle_timeout = secs("IDLE_TIMEOUT_SECS", 3600, limits.idle_timeout)?;
        if let Some(value) = lookup("MAX_CONNECTIONS") {
            limits.max_connections = number("MAX_CONNECTIONS", &value, 1, 1_000_000)? as usize;
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lookup_in;

    fn from(vars: &[(&str, &str)]) -> Result<ServerLimits, ConfigError> {
        ServerLimits::from_lookup(&lookup_in(vars))
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(from(&[]), Ok(ServerLimits::default()));
        let limits = from(&[
            ("HEADER_TIMEOUT_SECS", "2"),
            ("BODY_TIMEOUT_SECS", "3"),
            ("REQUEST_TIMEOUT_SECS", "4"),
            ("IDLE_TIMEOUT_SECS", "5"),
            ("MAX_CONNECTIONS", "6"),
        ])
        .expect("valid");
        assert_eq!(limits.header_timeout, Duration::from_secs(2));
        assert_eq!(limits.body_timeout, Duration::from_secs(3));
        assert_eq!(limits.request_timeout, Duration::from_secs(4));
        assert_eq!(limits.idle_timeout, Duration::from_secs(5));
        assert_eq!(limits.max_connections, 6);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("HEADER_TIMEOUT_SECS", "0"),
            ("BODY_TIMEOUT_SECS", "ten"),
            ("REQUEST_TIMEOUT_SECS", "-1"),
            ("IDLE_TIMEOUT_SECS", "99999"),
            ("MAX_CONNECTIONS", "0"),
        ] {
            let err = from(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.expected.contains("whole number"), "{}", err.expected);
        }
    }
}
