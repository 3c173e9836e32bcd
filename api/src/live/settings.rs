//! The bounds on live subscriptions and their WebSocket connections, read once from the
//! environment (see the README's table).

use std::time::Duration;

use banking_common::config::{ConfigError, number};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSettings {
    /// Subscriptions open at once in this process (`SUBSCRIPTIONS_MAX`); beyond it a new
    /// one is refused with UNAVAILABLE (another replica may have room).
    pub max_subscriptions: usize,
    /// On one WebSocket connection (`SUBSCRIPTIONS_PER_CONNECTION`); beyond it RATE_LIMITED.
    pub per_connection: usize,
    /// For one customer across their connections to this process (`SUBSCRIPTIONS_PER_USER`),
    /// so one customer cannot take every slot; beyond it RATE_LIMITED.
    pub per_user: usize,
    /// How long a new connection may take to send `connection_init` (`WS_INIT_TIMEOUT_SECS`);
    /// then it is closed with 4408.
    pub init_timeout: Duration,
    /// How long a connection may stay open with no subscription (`WS_IDLE_TIMEOUT_SECS`).
    pub idle_timeout: Duration,
    /// The largest message a client may send (`WS_MAX_MESSAGE_BYTES`); a larger one ends
    /// the connection.
    pub max_message_bytes: usize,
}

impl Default for LiveSettings {
    fn default() -> LiveSettings {
        LiveSettings {
            max_subscriptions: 16_000,
            per_connection: 8,
            per_user: 32,
            init_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_message_bytes: 64 * 1024,
        }
    }
}

impl LiveSettings {
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<LiveSettings, ConfigError> {
        let mut settings = LiveSettings::default();
        let read = |var: &'static str, min: u64, max: u64| -> Result<Option<u64>, ConfigError> {
            lookup(var).map(|v| number(var, &v, min, max)).transpose()
        };
        if let Some(n) = read("SUBSCRIPTIONS_MAX", 1, 1_000_000)? {
            settings.max_subscriptions = n as usize;
        }
        if let Some(n) = read("SUBSCRIPTIONS_PER_CONNECTION", 1, 1000)? {
            settings.per_connection = n as usize;
        }
        if let Some(n) = read("SUBSCRIPTIONS_PER_USER", 1, 100_000)? {
            settings.per_user = n as usize;
        }
        if let Some(secs) = read("WS_INIT_TIMEOUT_SECS", 1, 300)? {
            settings.init_timeout = Duration::from_secs(secs);
        }
        if let Some(secs) = read("WS_IDLE_TIMEOUT_SECS", 1, 86_400)? {
            settings.idle_timeout = Duration::from_secs(secs);
        }
        if let Some(bytes) = read("WS_MAX_MESSAGE_BYTES", 1024, 1024 * 1024)? {
            settings.max_message_bytes = bytes as usize;
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use banking_common::config::lookup_in;

    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let none = LiveSettings::from_lookup(&lookup_in(&[])).expect("defaults");
        assert_eq!(none, LiveSettings::default());
        let set = LiveSettings::from_lookup(&lookup_in(&[
            ("SUBSCRIPTIONS_MAX", "5"),
            ("SUBSCRIPTIONS_PER_CONNECTION", "2"),
            ("WS_INIT_TIMEOUT_SECS", "3"),
        ]))
        .expect("set");
        assert_eq!(set.max_subscriptions, 5);
        assert_eq!(set.per_connection, 2);
        assert_eq!(set.init_timeout, Duration::from_secs(3));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (var, value) in [
            ("SUBSCRIPTIONS_MAX", "0"),
            ("SUBSCRIPTIONS_PER_USER", "many"),
            ("WS_MAX_MESSAGE_BYTES", "10"),
        ] {
            let err = LiveSettings::from_lookup(&lookup_in(&[(var, value)])).expect_err(var);
            assert!(err.to_string().contains(var), "{err}");
        }
    }
}
