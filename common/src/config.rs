//! Reading configuration: the helpers that turn a variable into a typed value or one line
//! naming the variable and what it expects. Each process reads its own variables into its
//! own typed `Config` with these, once, at start; what every process reads alike is in
//! `process_settings`.

use std::net::SocketAddr;

/// One bad variable: which one and what it should have been.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {var} {expected}")]
pub struct ConfigError {
    pub var: &'static str,
    pub expected: String,
}

/// A refusal of `var`'s value.
pub fn bad(var: &'static str, expected: &str) -> ConfigError {
    ConfigError {
        var,
        expected: expected.to_owned(),
    }
}

/// `ENVIRONMENT`: development unless it says production.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A socket address such as `0.0.0.0:8080`, or `default` when `var` is unset.
pub fn address(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: SocketAddr,
) -> Result<SocketAddr, ConfigError> {
    match lookup(var) {
        Some(text) => text.parse().map_err(|_| {
            bad(
                var,
                &format!("must be an address such as 0.0.0.0:{}", default.port()),
            )
        }),
        None => Ok(default),
    }
}

/// `true|1|yes` or `false|0|no`, or `default` when `var` is unset.
pub fn flag(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match lookup(var).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(bad(var, "must be true or false")),
    }
}

/// A whole number from `min` to `max`.
pub fn number(var: &'static str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| bad(var, &format!("must be a whole number from {min} to {max}")))
}

/// A lookup over fixed pairs, as tests (and tools) configure a process without touching
/// the environment. A later pair overrides an earlier one of the same name.
pub fn lookup_in<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .rev()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

/// Reads the process environment, treating an empty variable as unset.
pub fn environment_variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_numbers_and_addresses() {
        let lookup = |k: &str| match k {
            "ON" => Some("yes".to_owned()),
            "AT" => Some("0.0.0.0:80".to_owned()),
            "BAD" => Some("everywhere".to_owned()),
            _ => None,
        };
        assert_eq!(flag(&lookup, "ON", false), Ok(true));
        assert_eq!(flag(&lookup, "UNSET", true), Ok(true));
        assert_eq!(flag(&lookup, "BAD", true).expect_err("bad").var, "BAD");
        assert_eq!(number("N", "7", 1, 10), Ok(7));
        assert_eq!(number("N", "11", 1, 10).expect_err("above").var, "N");
        let default: SocketAddr = "127.0.0.1:9".parse().expect("address");
        assert_eq!(address(&lookup, "AT", default).map(|a| a.port()), Ok(80));
        assert_eq!(address(&lookup, "UNSET", default), Ok(default));
        assert_eq!(
            address(&lookup, "BAD", default).expect_err("bad").var,
            "BAD"
        );
    }
}
